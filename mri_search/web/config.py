"""``ServeCfg``: what ``mri-search serve`` serves and how."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class ServeCfg:
    """Options of the search page and JSON API."""

    db: Path | None = None  # embedded index folder (None and no qdrant_url: the default folder)
    qdrant_url: str | None = None  # a Qdrant server instead of the embedded index
    qdrant_api_key: str | None = None  # the Qdrant server's key (not the page's)
    collection: str | None = None  # None: chosen as mri_search.query.resolve says
    model: Path | None = None  # None: the collection's own model
    salt: str | None = None  # the index run's identifier salt; None: the installation's (Searcher.salt decides)
    host: str = "127.0.0.1"  # interface to bind; anything but loopback needs api_key
    port: int = 8000
    api_key: str | None = None  # the page's and API's key: header X-API-Key, ?api_key= or the cookie it sets
    # the archive has moved here since indexing: the locator's paths are rebased onto it (store.locator)
    archive_root: Path | None = None
    locator: Path | None = None  # the index's locator (real file paths); None: the one beside the index
    max_upload_mb: float = 64.0  # largest query upload (NIfTI or zipped DICOM series), read into memory
    lock_wait_s: float = 5.0  # how long a request waits for an embedded index that an index run holds
    device: str = "cpu"  # torch device of the image encoder
    text_encoder: str = "auto"  # auto | onnx | torch (mri_search.query.text_encoder)
    cache_items: int = 64  # thumbnails and viewer volumes kept in memory (least recently used dropped)
    # requests worked on at once (the rest wait their turn): at 8 clients on 2 cores, 4 threads gave the lowest p50
    # (HTTP overhead 6.9 ms p50, against 7.9 with 2, 10.7 with 8; benchmarks.serve_latency --seconds 20)
    threads: int = 4
    viewer_url: str | None = None  # link hits to the hospital's viewer (query.viewer; needs --keep-uids)

    def __post_init__(self) -> None:
        """Raise ValueError (one line a user can act on) for options that cannot work."""
        if self.db is not None and self.qdrant_url:
            raise ValueError("give either --db (embedded index folder) or --qdrant-url (server), not both")
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be between 1 and 65535, got {self.port}")
        if not is_loopback(self.host) and not self.api_key:
            raise ValueError(f"--host {self.host} is reachable from other machines: refusing to start without "
                             "--api-key KEY (or bind to 127.0.0.1)")
        if self.api_key is not None and len(self.api_key) < 8:
            raise ValueError("--api-key must be at least 8 characters")
        if self.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {self.threads}")
        if self.viewer_url is not None:
            from ..query.viewer import check_template

            check_template(self.viewer_url)
        if not self.max_upload_mb > 0:
            raise ValueError(f"--max-upload-mb must be positive, got {self.max_upload_mb}")
        if not self.lock_wait_s >= 0:
            raise ValueError(f"--lock-wait must be 0 or more seconds, got {self.lock_wait_s}")
        if self.archive_root is not None and not Path(self.archive_root).is_dir():
            raise ValueError(f"--archive-root {self.archive_root}: not a folder")

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.max_upload_mb * 1024**2)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server to this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False
