"""The HTTP side of a DICOMweb source, against a small real HTTP server on loopback: credentials from the
environment (basic or bearer), retries with backoff on 5xx, and hostile answers that become lines."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mri_search.ingest.config import ScanOptions
from mri_search.ingest.dicomweb import DicomwebCfg, scan_dicomweb


class _Loopback:
    """A threaded HTTP server on a free loopback port; ``url`` is its DICOMweb root."""

    def _serve(self, handler) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/dicom-web"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Server(_Loopback):
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

        self._serve(Handler)


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


# ---------------------------------------------------------------- pixel retrieval

STUDY, SERIES = "1.2.826.0.1.3680043.8.498.1", "1.2.826.0.1.3680043.8.498.2"


def _instance_bytes(sop: str, rows: int) -> bytes:
    import io

    import numpy as np
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage

    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, sop
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = STUDY, SERIES, "MR"
    ds.Rows = ds.Columns = rows
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.SamplesPerPixel, ds.PixelRepresentation = 16, 16, 15, 1, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = np.zeros((rows, rows), np.uint16).tobytes()
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


class _PacsServer(_Loopback):
    """A DICOMweb server of one MR series whose metadata declares one 8x8 instance; its WADO-RS retrieval answers
    ``instances`` instances of ``rows``^2 pixels (multipart/related), after ``delay_s``."""

    def __init__(self, instances: int, rows: int, delay_s: float = 0.0) -> None:
        import time

        self.retrievals = 0
        outer = self
        meta = [{"00080018": {"vr": "UI", "Value": [f"{SERIES}.1"]}, "0020000D": {"vr": "UI", "Value": [STUDY]},
                 "0020000E": {"vr": "UI", "Value": [SERIES]}, "00080060": {"vr": "CS", "Value": ["MR"]},
                 "00280010": {"vr": "US", "Value": [8]}, "00280011": {"vr": "US", "Value": [8]},
                 "00280100": {"vr": "US", "Value": [16]}}]
        parts = [_instance_bytes(f"{SERIES}.{i + 1}", rows) for i in range(instances)]

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path.startswith("/dicom-web/series"):
                    body, kind = json.dumps([_series_item(STUDY, SERIES)]).encode(), "application/dicom+json"
                elif self.path.endswith("/metadata"):
                    body, kind = json.dumps(meta).encode(), "application/dicom+json"
                else:
                    outer.retrievals += 1
                    time.sleep(delay_s)
                    b = "mri-search-test-boundary"
                    body = b"".join(f"--{b}\r\nContent-Type: application/dicom\r\n\r\n".encode() + p + b"\r\n"
                                    for p in parts) + f"--{b}--\r\n".encode()
                    kind = f'multipart/related; type="application/dicom"; boundary={b}'
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):
                pass

        self._serve(Handler)


def _first_instance(url: str):
    from mri_search.ingest.records import FileRef

    return FileRef(url, f"studies/{STUDY}/series/{SERIES}/instances/{SERIES}.1", "dicomweb")


def test_pixels_past_what_the_headers_declare_are_refused():
    from mri_search.ingest import dicomweb

    srv = _PacsServer(instances=3, rows=1024)  # 2 MB each, against 8x8 pixels declared
    try:
        scan_dicomweb(DicomwebCfg(url=srv.url), ScanOptions(salt="s"))
        with pytest.raises(OSError, match="more than its instances' headers declare"):
            dicomweb.open_instance(_first_instance(srv.url))
    finally:
        srv.close()
    honest = _PacsServer(instances=1, rows=8)
    try:
        scan_dicomweb(DicomwebCfg(url=honest.url), ScanOptions(salt="s"))
        assert dicomweb.open_instance(_first_instance(honest.url)).read()[128:132] == b"DICM"
    finally:
        honest.close()


def test_pixel_retrieval_keeps_the_scans_timeout_and_retries():
    """The server answers after 3 s: with the scan's 0.5 s timeout and 1 retry the read fails after two tries
    (with the old defaults, 30 s and 3 retries, it would have waited and succeeded)."""
    from mri_search.ingest import dicomweb

    srv = _PacsServer(instances=1, rows=8, delay_s=3.0)
    try:
        scan_dicomweb(DicomwebCfg(url=srv.url, timeout_s=0.5, retries=1, backoff_s=0.01), ScanOptions(salt="s"))
        with pytest.raises(OSError, match="timed out|kept failing|cannot reach"):
            dicomweb.open_instance(_first_instance(srv.url))
        assert srv.retrievals == 2  # the first try and the one retry
    finally:
        srv.close()
