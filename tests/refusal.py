"""The check every bad-input test makes: a clear message naming the file, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from wijkradar.errors import InputError
from wijkradar.ingest import ingest_path
from wijkradar.warehouse import Warehouse


def assert_refused(wh: Warehouse, path: Path, *needles: str) -> str:
    """Ingest ``path``, expect an InputError that names the file, the fix and every needle."""
    before = wh.table_counts()
    with pytest.raises(InputError) as info:
        ingest_path(wh, path)
    message = str(info.value)
    assert str(path) in message and "Oplossing" in message
    for needle in needles:
        assert needle in message, message
    assert wh.table_counts() == before
    return message
