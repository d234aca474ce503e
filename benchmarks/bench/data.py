"""The benchmark's data: a generated archive's scanned series and reports joined to its ground-truth manifest.

The engine under test only ever sees what ``scan_archive`` reads (pixels, headers, report text); the manifest
supplies the labels that decide relevance (body region, tumour sub-site and histology, study) and the split.
Series are joined to manifest rows by NIfTI path, or by the salted hash of the SeriesInstanceUID for DICOM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from mri_search.ingest.archive import scan_archive
from mri_search.ingest.config import ScanOptions
from mri_search.ingest.phi import hash_id
from mri_search.ingest.records import ParsedReport, SeriesRecord
from mri_search.synth.manifest import read_manifest

log = logging.getLogger(__name__)


@dataclass
class Series:
    """One gallery series: what the engine reads, and the ground truth about it."""

    record: SeriesRecord
    row: dict  # its manifest row

    @property
    def study(self) -> str:
        return self.row["study_uid"]


@dataclass
class Study:
    """One study: its report as the engine reads it, and the ground truth."""

    uid: str  # StudyInstanceUID (ground truth side only; never given to the engine)
    report: ParsedReport
    body_region: str
    tumor_site: str | None
    tumor_histology: str | None
    split: str


@dataclass
class BenchData:
    """Series and studies of one split of one archive, plus the other splits' series (to fit baselines on)."""

    archive: Path
    series: list[Series]  # the evaluated split's series
    studies: list[Study]  # the evaluated split's studies that have a report
    fit_series: list[Series] = field(default_factory=list)  # the other splits' series (baseline training data)
    n_unmatched: int = 0  # scanned series with no manifest row (should be 0 for a generated archive)


def _join_key(rec: SeriesRecord, salt: str) -> tuple[str, str]:
    if rec.source == "nifti":
        return "nifti", rec.files[0].member
    return "dicom", rec.series_uid_hash


def load_bench_data(archive: Path, split: str = "test", salt: str = "mri-search", workers: int = 1) -> BenchData:
    """Scan ``archive`` and join its series to the manifest; keep ``split`` for evaluation.

    Args:
        archive: a folder written by ``mri-search synth``.
        split: "test" (patients disjoint from the archive's train/val split) or "all".
        salt: identifier salt used for the scan (the join of DICOM series recomputes the hash).
        workers: header-reading processes.

    Raises:
        ValueError: not a generated archive, or nothing of the split could be matched.
    """
    archive = Path(archive)
    try:
        table = read_manifest(archive)
    except FileNotFoundError as exc:
        raise ValueError(str(exc)) from None
    rows = table.to_pylist()
    by_key = {}
    for r in rows:
        if r["nifti_path"]:
            by_key[("nifti", r["nifti_path"])] = r
        by_key[("dicom", hash_id(salt, r["series_uid"]))] = r
    scan = scan_archive(archive, ScanOptions(salt=salt, workers=max(1, workers)))
    evaluated, fit, unmatched, seen = [], [], 0, set()
    for rec in scan.series:
        row = by_key.get(_join_key(rec, salt))
        if row is None:
            unmatched += 1
            continue
        if row["series_uid"] in seen:  # a series exported as both DICOM and NIfTI: one gallery item
            continue
        seen.add(row["series_uid"])
        (evaluated if split == "all" or row["split"] == split else fit).append(Series(rec, row))
    if not evaluated:
        raise ValueError(f"{archive}: no series of split {split!r} matched the manifest")
    reports = {}
    for s in evaluated:
        rep = scan.reports.get(s.record.study_key)
        if rep is not None and s.study not in reports:
            r = s.row
            reports[s.study] = Study(uid=s.study, report=rep, body_region=r["body_region"],
                                     tumor_site=r["tumor_site"], tumor_histology=r["tumor_histology"],
                                     split=r["split"])
    if unmatched:
        log.warning("%d scanned series had no manifest row and are left out", unmatched)
    return BenchData(archive=archive, series=evaluated, studies=list(reports.values()), fit_series=fit,
                     n_unmatched=unmatched)
