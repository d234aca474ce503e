"""The archive of a run: a folder/zip/tar, or a DICOMweb server whose re-runs fetch only what is new.

For a DICOMweb server the run keeps a small state file per (index location, collection, server): the last
sequence number of Orthanc's ``/changes`` log it has seen and the series it could not index. A re-run then reads
only the series that became stable since (plus those to retry) instead of listing the whole server. The state is
written only once the run has written its points, so a run killed midway simply reads the same changes again;
points already in the collection are skipped as for files (deterministic ids). Servers that are not Orthanc, and
runs given ``--since``, list the server with QIDO-RS every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from mri_search.atomic import atomic_write_text
from mri_search.ingest.archive import attach_report_table, scan_archive
from mri_search.ingest.config import ScanOptions
from mri_search.ingest.phi import hash_id
from mri_search.ingest.records import ScanResult
from mri_search.store import default_home

from .config import IndexCfg

log = logging.getLogger(__name__)


@dataclass
class Source:
    """A scanned archive and what to do once its points are written."""

    scan: ScanResult
    how: str  # "files", "dicomweb (full listing)", "dicomweb (Orthanc changes since N)"
    commit: Callable[[set[str]], None]  # called with the series keys now in the collection


def state_path(location: str, collection: str, url: str) -> Path:
    """The state file of one (index location, collection, DICOMweb server)."""
    h = hashlib.sha256(f"{location}\n{collection}\n{url}".encode()).hexdigest()[:16]
    return default_home() / "dicomweb" / f"{collection}-{h}.json"


def open_source(cfg: IndexCfg, options: ScanOptions, location: str, collection: str) -> Source:
    """Scan ``cfg``'s archive or DICOMweb server with ``options`` (salt resolved), see the module docstring.

    Raises:
        ValueError: the archive cannot be read, or the server cannot be reached or refuses the credentials.
    """
    if not cfg.dicomweb:
        return Source(scan_archive(cfg.archive, options), "files", lambda done: None)
    from mri_search.ingest.dicomweb import list_series, listed_series, make_client, scan_dicomweb

    url = cfg.dicomweb
    path = state_path(location, collection, url)
    dw, last, how = _plan(cfg, _read_state(path))
    client = make_client(url, cfg.dicomweb_timeout_s, cfg.dicomweb_retries)
    modality: dict[str, str] = {}
    if dw.series is None:  # a full listing: its pairs are what the next run retries when they fail
        listed = listed_series(list_series(client, dw))
        modality = {series: m for _, series, m in listed}
        dw = replace(dw, series=tuple((st, se) for st, se, _ in listed))
    scan = scan_dicomweb(dw, options, client=client, modalities=modality)
    if cfg.reports is not None:
        scan = attach_report_table(scan, cfg.reports, options)

    def commit(done: set[str]) -> None:
        if last is not None:
            _write_state(path, url, last, _to_retry(scan, dw.series or (), done, options.salt))

    return Source(scan, how, commit)


def _plan(cfg: IndexCfg, state: dict):
    """(what to list, the change-log position to record after the run or None, how the run reads the server)."""
    from mri_search.ingest import orthanc
    from mri_search.ingest.dicomweb import DicomwebCfg, make_session

    url, t, r = cfg.dicomweb, cfg.dicomweb_timeout_s, cfg.dicomweb_retries
    dw = DicomwebCfg(url=url, since=cfg.since, timeout_s=t, retries=r)
    session = make_session(t, r)
    if cfg.since or not orthanc.is_orthanc(session, url):
        return dw, None, "dicomweb (QIDO-RS listing)"
    if "last_change" in state:
        changes = orthanc.stable_since(session, url, int(state["last_change"]))
        retry = [tuple(p) for p in state.get("retry", [])]
        wanted = dict.fromkeys(retry + list(changes.series))
        return (replace(dw, series=tuple(wanted)), changes.last,
                f"dicomweb (Orthanc changes after #{state['last_change']}: {len(changes.series)} newly stable "
                f"series, {len(retry)} to retry)")
    last = orthanc.last_change(session, url)  # read before listing: what arrives meanwhile comes next time
    return (replace(dw, unstable=orthanc.unstable_series(session, url)), last,
            "dicomweb (Orthanc: full listing, change log followed from now on)")


def _to_retry(scan: ScanResult, wanted, done: set[str], salt: str) -> list[list[str]]:
    """The (study, series) UID pairs of ``wanted`` that were neither indexed (``done``: series keys now in the
    collection) nor set aside for good (not MR, gone): the next run reads them again."""
    indexed = {r.series_uid_hash for r in scan.series if r.key in done}
    set_aside = {s.series for s in scan.skipped if s.level == "skipped" and s.series}
    return [list(p) for p in wanted
            if hash_id(salt, p[1]) not in indexed and hash_id(salt, f"{p[1]}#0") not in set_aside]


def _read_state(path: Path) -> dict:
    """The state file's content; {} (a full listing) when it is missing or unreadable."""
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text())
        int(state.get("last_change", 0))
        return state if isinstance(state.get("retry", []), list) else {}
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        log.warning("DICOMweb state %s unreadable (%s): listing the whole server again", path, exc)
        return {}


def _write_state(path: Path, url: str, last: int, retry: list) -> None:
    """Atomically, mode 0600: the retry list holds raw UIDs (this machine only, like the locator)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"url": url, "last_change": last, "retry": retry}))  # mkstemp: 0600
