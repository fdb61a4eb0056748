"""A loopback server that answers with the real recorded CBS API answers in ../shared/recordings.

Each recorded file is served at the path the live service answers it on (see the recordings'
README); only the host in paging links is rewritten to this server. Tables without a recording of
their data (85984NED: only its metadata was recorded) get extra endpoints from the test, built from
the real metadata; the envelope around them (``odata.metadata`` + ``value``) is the documented v3
shape, not a recording.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from odata_fixtures import running

LIVE_HOSTS = ("https://opendata.cbs.nl", "https://beta-odata4.cbs.nl", "https://odata4.cbs.nl")


def recordings_dir(data: Path) -> Path:
    """The recorded answers: $WIJKRADAR_RECORDINGS or the folder beside the staged data."""
    configured = os.environ.get("WIJKRADAR_RECORDINGS")
    return Path(configured) if configured else data.parent / "recordings"


class _Handler(BaseHTTPRequestHandler):
    server: RecordingServer

    def log_message(self, format: str, *args: Any) -> None:  # silence the test output
        return

    def do_GET(self) -> None:  # the name http.server dispatches on
        self.server.requests.append(unquote(self.path))
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        found = self.server.answer(unquote(url.path), query)
        if found is None:
            body = json.dumps({"odata.error": {"message": {"value": "Resource not found"}}}).encode()
            self.send_response(404)
        else:
            body = found
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RecordingServer(ThreadingHTTPServer):
    """Serve ``root`` (the recordings folder) at the CBS API's paths, plus ``extra`` endpoints."""

    def __init__(self, root: Path, extra: dict[str, Any] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.extra = extra or {}
        self.requests: list[str] = []
        self.base = f"http://127.0.0.1:{self.server_address[1]}"

    def file_for(self, path: str, query: dict[str, str]) -> Path | None:
        """Map a request path onto the recorded file that answers it."""
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["ODataFeed", "odata"] and len(parts) in (3, 4):
            table = self.root / "cbs-odata-v3" / parts[2]
            return table / ("service.json" if len(parts) == 3 else f"{parts[3]}.json")
        if parts == ["ODataCatalog", "Tables"]:
            return self.root / "cbs-odata-v3" / "ODataCatalog-Tables.json"
        if parts == ["CBS"]:
            return self.root / "cbs-odata-v4" / "service-CBS.json"
        if parts[:1] == ["CBS"] and len(parts) in (2, 3):
            table = self.root / "cbs-odata-v4" / parts[1]
            if len(parts) == 2:
                return table / "service.json"
            if parts[2] == "Observations" and query.get("$count") == "true":
                return table / "Observations-count-top1.json"
            return table / f"{parts[2]}.json"
        return None

    def answer(self, path: str, query: dict[str, str]) -> bytes | None:
        """Return the body for a request: an extra endpoint, a recorded file, or None (404)."""
        if path in self.extra:
            return json.dumps(self.extra[path], ensure_ascii=False).encode()
        file = self.file_for(path, query)
        if file is None or not file.is_file():
            return None
        text = file.read_text(encoding="utf-8")
        for host in LIVE_HOSTS:  # paging links point at the live service: send them here
            text = text.replace(host, self.base)
        return text.encode()

    def fetched(self, endpoint: str) -> list[str]:
        """The requests made to one endpoint (``TypedDataSet``, ``Observations`` ...)."""
        return [r for r in self.requests if f"/{endpoint}" in r]


@contextmanager
def serve_recordings(root: Path, extra: dict[str, Any] | None = None) -> Iterator[RecordingServer]:
    """Run a :class:`RecordingServer` for the duration of the block."""
    with running(RecordingServer(root, extra)) as server:
        yield server


def v3_envelope(table_id: str, entity: str, rows: list[dict[str, Any]], base: str) -> dict[str, Any]:
    """Wrap rows as the v3 service does (documented shape: ``odata.metadata`` and ``value``)."""
    return {
        "odata.metadata": f"{base}/ODataFeed/odata/{table_id}/$metadata#Cbs.OData.{entity}",
        "value": rows,
    }
