"""The HTTP side of a DICOMweb source, against a small real HTTP server on loopback: credentials from the
environment (basic or bearer), retries with backoff on 5xx, and hostile answers that become lines."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mri_search.ingest.config import ScanOptions
from mri_search.ingest.dicomweb import DicomwebCfg, scan_dicomweb


class _Server:
    """Answers ``/dicom-web/series`` with ``fail`` 503s first, then ``body``; records each request's headers."""

    def __init__(self, body, fail: int = 0) -> None:
        self.body, self.fail, self.seen = body, fail, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.seen.append((self.path, dict(self.headers)))
                if outer.fail > 0:
                    outer.fail -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                data = json.dumps(outer.body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/dicom+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/dicom-web"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    made = []

    def make(body, fail=0):
        made.append(_Server(body, fail))
        return made[-1]

    yield make
    for s in made:
        s.close()


def _series_item(study: str, series: str, modality: str = "MR") -> dict:
    return {"0020000D": {"vr": "UI", "Value": [study]}, "0020000E": {"vr": "UI", "Value": [series]},
            "00080060": {"vr": "CS", "Value": [modality]}}


def test_credentials_come_from_the_environment(server, monkeypatch):
    srv = server([])
    monkeypatch.setenv("MRI_SEARCH_DICOMWEB_TOKEN", "tok-123")
    scan_dicomweb(DicomwebCfg(url=srv.url), ScanOptions(salt="s"))
    assert srv.seen[-1][1].get("Authorization") == "Bearer tok-123"
    monkeypatch.delenv("MRI_SEARCH_DICOMWEB_TOKEN")
    monkeypatch.setenv("MRI_SEARCH_DICOMWEB_USER", "reader")
    monkeypatch.setenv("MRI_SEARCH_DICOMWEB_PASSWORD", "pw")
    scan_dicomweb(DicomwebCfg(url=srv.url), ScanOptions(salt="s"))
    assert srv.seen[-1][1].get("Authorization") == "Basic cmVhZGVyOnB3"  # reader:pw


def test_5xx_is_retried_with_backoff_then_given_up(server):
    srv = server([], fail=2)
    result = scan_dicomweb(DicomwebCfg(url=srv.url, retries=3, backoff_s=0.01), ScanOptions(salt="s"))
    assert result.series == [] and len(srv.seen) == 3  # two 503s, then the answer
    srv = server([], fail=10)
    with pytest.raises(ValueError, match="HTTP 503|kept failing"):
        scan_dicomweb(DicomwebCfg(url=srv.url, retries=2, backoff_s=0.01), ScanOptions(salt="s"))
    assert len(srv.seen) == 3  # the first try and 2 retries


def test_hostile_listing_becomes_lines(server):
    items = [_series_item("../../etc", "1.2.3"), _series_item("1.2", "1.2.4", "CT"), {"0020000D": "not a dict"},
             "not an item", _series_item("1.2", "9" * 70)]
    srv = server(items)
    result = scan_dicomweb(DicomwebCfg(url=srv.url), ScanOptions(salt="s"))
    reasons = sorted(s.reason for s in result.skipped)
    assert result.series == [] and len(reasons) == 5
    assert reasons.count("the server listed a series without a valid Study/Series Instance UID") == 4
    assert "modality CT, not MR" in reasons
    assert all(p.startswith("/dicom-web/series") for p, _ in srv.seen)  # no request built from a hostile UID
