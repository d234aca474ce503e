"""Configuration of one ``mri-search index`` run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class IndexCfg:
    """What to index, with which model, and where to."""

    archive: Path | None  # folder, .zip or .tar(.gz) of DICOM and/or NIfTI (+ reports); None with ``dicomweb``
    model: Path  # model folder (mri_search.model.save_model)
    db: Path | None = None  # embedded index folder (None: mri_search.store.default_db_dir()); excludes qdrant_url
    qdrant_url: str | None = None  # Qdrant server or cluster URL; None: the embedded engine
    api_key: str | None = None  # Qdrant API key (server only)
    collection: str | None = None  # None: derived from the model identity (mri-<12 hex>), so models never mix
    parquet: Path | None = None  # also write this run's rows (payload + embeddings) to this Parquet file
    errors: Path | None = None  # error report (TSV); None: <home>/errors/<collection>[.shard-K-of-N].tsv
    workers: int = 2  # DataLoader processes reading and preprocessing series (0: in the main process)
    batch_size: int = 8  # series per encoder call and per upsert (a SIGKILL loses at most one batch's work)
    shard: tuple[int, int] = (0, 1)  # (K, N): index only the series whose key hashes to K mod N
    # identifier hash salt; must be the same for every run into one collection (share it across shards). None: this
    # installation's random salt, or the old public default for a collection built with it (ingest.salt)
    salt: str | None = None
    keep_phi: bool = False  # store raw patient identifiers and raw file paths in the payload (off by default)
    # the locator (series key -> real file path, on this machine only); None: store.locator.locator_path
    locator: Path | None = None
    keep_uids: bool = False  # store the raw Study/SeriesInstanceUID in the payload, for viewer links (off by default)
    dicomweb: str | None = None  # DICOMweb root URL to index instead of ``archive``
    reports: Path | None = None  # DICOMweb: a report table (CSV/TSV/Parquet) matched by accession or StudyInstanceUID
    since: str = ""  # DICOMweb: only studies with StudyDate on or after this YYYYMMDD ("" : all)
    dicomweb_timeout_s: float = 30.0  # DICOMweb: seconds per request
    dicomweb_retries: int = 3  # DICOMweb: retries (with exponential backoff) of a failed request
    device: str = "cpu"  # torch device of the encoder
    server_shards: int | None = None  # shard_number of a collection created on a server
    replicas: int | None = None  # replication_factor of a collection created on a server
    progress: bool = True  # progress bar on stderr (shown on terminals only)
    # seconds to wait, retrying, for an embedded index that another process (a query) has open, at each of the
    # run's two opens (before and after loading the model), before giving up as busy
    lock_wait_s: float = 60.0

    def __post_init__(self) -> None:
        """Raise ValueError with an actionable message for a bad setting."""
        if self.db is not None and self.qdrant_url:
            raise ValueError("give either --db (embedded index folder) or --qdrant-url (server), not both")
        if self.api_key and not self.qdrant_url:
            raise ValueError("--api-key applies to a Qdrant server; give --qdrant-url too")
        if (self.server_shards is not None or self.replicas is not None) and not self.qdrant_url:
            raise ValueError("--qdrant-shards and --replicas apply to a Qdrant server; give --qdrant-url too")
        for name in ("server_shards", "replicas"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"--{name.replace('_', '-').replace('server-', 'qdrant-')} must be at least 1")
        if (self.archive is None) == (self.dicomweb is None):
            raise ValueError("give either an archive (folder, .zip, .tar) or a DICOMweb source, not both")
        if self.since and not self.dicomweb:
            raise ValueError("--since applies to a DICOMweb source (dicomweb+http://...)")
        if self.reports is not None and not self.dicomweb:
            raise ValueError("--reports applies to a DICOMweb source; an archive's reports are found inside it")
        if self.workers < 0:
            raise ValueError("--workers must be 0 or more")
        if self.batch_size < 1:
            raise ValueError("--batch-size must be at least 1")
        if not self.lock_wait_s >= 0:
            raise ValueError(f"--lock-wait must be 0 or more seconds, got {self.lock_wait_s}")
        k, n = self.shard
        if n < 1 or not 0 <= k < n:
            raise ValueError(f"--shard K/N needs 0 <= K < N, got {k}/{n}")
        if self.parquet is not None and self.parquet.exists() and self.parquet.is_dir():
            raise ValueError(f"--parquet {self.parquet} is a folder; give a file name such as rows.parquet")


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with 0 <= K < N; None -> ``(0, 1)`` (everything).

    Raises:
        ValueError: not of the form K/N, or K out of range.
    """
    if text is None:
        return (0, 1)
    m = _SHARD.match(text)
    if not m:
        raise ValueError(f"--shard must look like K/N (e.g. 0/4 for the first of four machines), got {text!r}")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 0 <= k < n:
        raise ValueError(f"--shard K/N needs 0 <= K < N (K counts from 0), got {text!r}")
    return (k, n)
