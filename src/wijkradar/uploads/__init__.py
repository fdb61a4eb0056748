"""A gemeente's own aggregates, uploaded in the browser: read like ingest, kept in the operational store.

:mod:`.reader` turns a CSV or Excel file (one row per wijk or buurt and period, one column per
measure) into measures and values, with the same readers and Dutch errors as ``wijkradar ingest``.
:mod:`.overlay` lays a gemeente's uploads over the warehouse, so themes, maps and goals use them
as they use any other measure, for that gemeente's users only.
"""

from wijkradar.uploads.overlay import UPLOAD_PREFIX, own_themes, with_uploads
from wijkradar.uploads.reader import MAX_BYTES, Upload, UploadedMeasure, read_upload

__all__ = [
    "MAX_BYTES",
    "UPLOAD_PREFIX",
    "Upload",
    "UploadedMeasure",
    "own_themes",
    "read_upload",
    "with_uploads",
]
