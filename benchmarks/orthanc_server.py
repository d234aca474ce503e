"""A real Orthanc with its DICOMweb plugin on a free loopback port, for the DICOMweb tests and benchmark.

The server runs from a temporary folder (its own configuration, storage and index), with HTTP basic
authentication on (user ``USER``, password ``PASSWORD``), ``StableAge`` 1 s (a series counts as stable one second
after its last instance arrived), and no DICOM port. ``upload`` posts files through the REST API
(``POST /instances``), as a modality or an export tool would.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

BINARY = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
PLUGIN_DIRS = (Path("/usr/share/orthanc/plugins"), Path("/usr/lib/orthanc/plugins"))
USER, PASSWORD = "radiology", "not-a-real-secret"
NOT_DICOM = (".csv", ".tsv", ".parquet", ".txt", ".json")  # what a generated archive holds beside its DICOM files


def dicom_files(folder: Path) -> list[Path]:
    """Every DICOM file of a generated archive (reports and the manifest left out), in path order."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.name.lower().endswith(NOT_DICOM))


def dicomweb_plugin() -> Path | None:
    """The DICOMweb plugin's shared library where Debian's ``orthanc-dicomweb`` puts it, or None."""
    for d in PLUGIN_DIRS:
        for name in ("libOrthancDicomWeb.so",):
            if (d / name).is_file():
                return d / name
    return None


def missing() -> str | None:
    """Why the real server cannot run here (a reason for ``pytest.skip``), or None."""
    if not Path(BINARY).is_file():
        return "Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)"
    if dicomweb_plugin() is None:
        return "the Orthanc DICOMweb plugin is not installed (apt-get install orthanc-dicomweb)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OrthancServer:
    """One Orthanc process; ``url`` is its DICOMweb root, ``rest`` its REST root."""

    def __init__(self, folder: Path, stable_age_s: int = 1) -> None:
        self.folder = Path(folder)
        self.port = _free_port()
        self.rest = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.rest}/dicom-web"
        self.session = requests.Session()
        self.session.auth = (USER, PASSWORD)
        storage = self.folder / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        cfg = {"Name": "mri-search-test", "HttpPort": self.port, "DicomServerEnabled": False,
               "StorageDirectory": str(storage), "IndexDirectory": str(storage),
               "Plugins": [str(dicomweb_plugin())], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
               "StableAge": stable_age_s, "RemoteAccessAllowed": False, "AuthenticationEnabled": True,
               "RegisteredUsers": {USER: PASSWORD}, "HttpCompressionEnabled": False}
        (self.folder / "orthanc.json").write_text(json.dumps(cfg))
        self.log = open(self.folder / "orthanc.log", "wb")
        self.proc = subprocess.Popen([BINARY, str(self.folder / "orthanc.json")], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self, timeout_s: float = 30.0) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited ({self.proc.returncode}); see {self.folder / 'orthanc.log'}")
            try:
                if self.session.get(f"{self.rest}/system", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Orthanc did not answer within {timeout_s} s")

    def upload(self, files) -> int:
        """POST every file to ``/instances``; returns how many Orthanc accepted."""
        n = 0
        for f in files:
            r = self.session.post(f"{self.rest}/instances", data=Path(f).read_bytes(),
                                  headers={"Content-Type": "application/dicom"})
            r.raise_for_status()
            n += 1
        return n

    def series(self) -> list[dict]:
        """Orthanc's series resources, expanded."""
        return self.session.get(f"{self.rest}/series?expand").json()

    def wait_stable(self, timeout_s: float = 30.0) -> None:
        """Until every series is stable (no instance for ``StableAge`` seconds)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if all(s.get("IsStable") for s in self.series()):
                return
            time.sleep(0.2)
        raise RuntimeError("Orthanc series did not become stable")

    def delete_series(self, series_uid: str) -> None:
        """Delete one series (by SeriesInstanceUID) from the server."""
        for s in self.series():
            if s["MainDicomTags"].get("SeriesInstanceUID") == series_uid:
                self.session.delete(f"{self.rest}/series/{s['ID']}").raise_for_status()
                return
        raise KeyError(series_uid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
