"""The ``wijkradar`` command: thin wrappers that parse arguments, call one API function, print.

One module per group of commands; importing them registers their commands on :data:`app`.
"""

from wijkradar.cli import data, dutch, goals, linkage, risk, site  # noqa: F401  # registers the commands
from wijkradar.cli.common import app

dutch.install()

__all__ = ["app"]
