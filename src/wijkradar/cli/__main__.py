"""``python -m wijkradar.cli``: the same command as ``wijkradar``."""

from wijkradar.cli import app

app(prog_name="wijkradar")
