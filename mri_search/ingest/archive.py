"""Scan an archive (folder, zip or tar) into series records, reports and an error report; load a series' pixels.

``scan_archive`` only reads headers: it is what ``mri-search inspect`` shows and what an index run will take.
``load_series`` reads pixels on demand; a series that turns out to be broken at that point raises ``ValueError``
with a one-line reason, which callers record as a ``Skip`` and move on.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path, PurePosixPath

import numpy as np

from .config import ScanOptions
from .containers import classify, list_files
from .dicom import load_dicom, scan_dicom
from .display import display_text
from .nifti import load_nifti, scan_nifti
from .phi import hash_id
from .records import FileRef, ParsedReport, ScanResult, SeriesRecord, Skip
from .report_text import find_reports, parse_report

log = logging.getLogger(__name__)


def scan_archive(path: Path, options: ScanOptions | None = None) -> ScanResult:
    """Find every readable series and report under ``path``; list every skipped file with its reason.

    Raises:
        ValueError: when ``path`` itself cannot be read (missing, not a folder/zip/tar, corrupt container).
    """
    options = options or ScanOptions()
    refs, skipped = list_files(Path(path), options)
    groups: dict[str, list[FileRef]] = defaultdict(list)
    for ref in refs:
        groups[classify(ref)].append(ref)
    sidecars = {_stem(r.member): r for r in groups["sidecar"]}
    series: list[SeriesRecord] = []
    if groups["nifti"]:
        recs, sk = scan_nifti(groups["nifti"], sidecars, options)
        series += recs
        skipped += sk
    if groups["dicom_candidate"]:
        recs, sk = scan_dicom(groups["dicom_candidate"], options)
        series += recs
        skipped += sk
    texts, rows, sk = find_reports(groups["report_text"] + groups["report_table"], options)
    skipped += sk
    reports = _attach_reports(series, texts, rows, options, skipped)
    series.sort(key=lambda r: (r.study_key, r.series_number if r.series_number is not None else 10**6, r.key))
    return ScanResult(series=series, skipped=skipped, reports=reports)


def attach_report_table(result: ScanResult, table: Path, options: ScanOptions | None = None) -> ScanResult:
    """``result`` with the reports of a report table (CSV, TSV or Parquet, e.g. a RIS export) attached to its
    studies by accession number or StudyInstanceUID, as a table inside an archive is: for sources that hold no
    reports themselves (a DICOMweb server). Rows that match no study and unreadable cells are lines in ``skipped``.

    Raises:
        ValueError: the table is missing, not a CSV/TSV/Parquet file, or lacks the report and key columns.
    """
    options = options or ScanOptions()
    table = Path(table)
    if not table.is_file():
        raise ValueError(f"--reports {table}: no such file")
    if not table.name.lower().endswith((".csv", ".tsv", ".parquet")):
        raise ValueError(f"--reports {table}: give a .csv, .tsv or .parquet report table")
    if table.stat().st_size > options.max_file_bytes:
        raise ValueError(f"--reports {table}: larger than ScanOptions.max_file_bytes ({options.max_file_bytes})")
    ref = FileRef(str(table.parent), table.name, "dir", size=table.stat().st_size)
    _, rows, sk = find_reports([ref], options)
    if sk and not rows:
        raise ValueError(f"--reports {table}: {sk[0].reason}")
    skipped = list(result.skipped) + sk
    reports = dict(result.reports)
    reports.update(_attach_reports(result.series, [], rows, options, skipped))
    return ScanResult(series=result.series, skipped=skipped, reports=reports)


def load_series(record: SeriesRecord) -> np.ndarray:
    """Pixels of one series as float32 [S, R, C] ([B, S, R, C] for multi-b DWI), rescale applied.

    Raises:
        ValueError: with a one-line reason when the series cannot be read after all.
    """
    if record.source == "dicom":
        return load_dicom(record)
    if record.source == "nifti":
        return load_nifti(record)
    raise ValueError(f"unknown series source {record.source!r}")


def _stem(member: str) -> str:
    """Path without its image/sidecar extension: sub-1/anat/x.nii.gz and sub-1/anat/x.json -> sub-1/anat/x."""
    for ext in (".nii.gz", ".nii", ".json"):
        if member.endswith(ext):
            return member[: -len(ext)]
    return member


def _folder(ref: FileRef) -> tuple[str, PurePosixPath]:
    return ref.container, PurePosixPath(ref.member).parent


def _attach_reports(series: list[SeriesRecord], texts: list[tuple[FileRef, str]], rows: list[dict],
                    options: ScanOptions, skipped: list[Skip]) -> dict[str, ParsedReport]:
    """Map study_key -> report: text files by folder (the report's folder holds the study's series), tables by
    accession number or StudyInstanceUID (matched through the same salted hash as the records)."""
    reports: dict[str, ParsedReport] = {}
    study_folders: dict[str, set[tuple[str, PurePosixPath]]] = defaultdict(set)
    for rec in series:
        for f in rec.files[:1]:
            study_folders[rec.study_key].add(_folder(f))
    for ref, text in texts:
        root, folder = _folder(ref)
        depth: dict[str, int] = {}
        for key, folders in study_folders.items():
            ds = [len(f.parts) - len(folder.parts) for r, f in folders
                  if r == root and (f == folder or folder in f.parents)]
            if ds:
                depth[key] = min(ds)
        if not depth:
            skipped.append(Skip(ref.display, "text file is not beside any readable series", level="skipped"))
            continue
        best = min(depth.values())
        owners = [k for k, d in depth.items() if d == best]
        if len(owners) > 1:
            skipped.append(Skip(ref.display, f"report is beside {len(owners)} studies; cannot tell which one it "
                                             "belongs to", level="skipped"))
            continue
        try:
            reports[owners[0]] = parse_report(text, ref.display)
        except ValueError as e:
            skipped.append(Skip(ref.display, f"report not parsed: {e}", level="failed"))
    by_accession = {rec.accession_hash: rec.study_key for rec in series if rec.accession_hash}
    by_study = {rec.study_key for rec in series}
    for row in rows:
        key = None
        if row.get("study_uid"):
            h = hash_id(options.salt, str(row["study_uid"]))
            key = h if h in by_study else None
        if key is None and row.get("accession"):
            key = by_accession.get(hash_id(options.salt, str(row["accession"])))
        if key is not None and key not in reports and row.get("report"):
            source = row.get("source", "report table")
            try:
                reports[key] = parse_report(str(row["report"]), source)
            except ValueError as e:  # one unusable cell ("\x00", blanks) is one line; the other rows still count
                skipped.append(Skip(source, f"report not parsed: {e}", level="failed"))
    return reports


def series_line(rec: SeriesRecord, has_report: bool) -> str:
    """One human line describing a series record."""
    s, r, c = rec.shape
    sp = "x".join(f"{v:.2g}" for v in rec.spacing[::-1])
    b = f" b={','.join(map(str, rec.b_values))}" if rec.b_values else ""
    field = f"{rec.field_strength:g}T" if rec.field_strength else "?T"
    desc = rec.series_description or "(no description)"
    return (f"{rec.key[:12]}  {rec.source:<5} {rec.layout:<8} {rec.sequence:<5}{'+C' if rec.post_contrast else '  '} "
            f"{rec.plane:<8} {c}x{r}x{s} @ {sp} mm{b}  {rec.manufacturer[:10]:<10} {field:<5} "
            f"part={rec.body_part or '-'}  report={'yes' if has_report else 'no'}  {desc}")


def inspect_lines(result: ScanResult, as_json: bool) -> list[str]:
    """Lines of ``mri-search inspect``: one per series, then one per skipped file (JSON lines with --json)."""
    out = []
    for rec in result.series:
        has = rec.study_key in result.reports
        if as_json:
            from ..report_labels import labels_of  # spaCy only when labels are asked for

            d = rec.to_dict()
            d["type"] = "series"
            d["has_report"] = has
            d["report_labels"] = labels_of(result.reports[rec.study_key]) if has else None
            out.append(json.dumps(d, default=str))
        else:
            out.append(series_line(rec, has))
    for sk in result.skipped:
        if as_json:
            out.append(json.dumps({"type": sk.level, "path": sk.path, "series": sk.series, "reason": sk.reason}))
        else:
            out.append(f"{sk.level.upper():<7} {sk.path}{' [series ' + sk.series[:12] + ']' if sk.series else ''}: "
                       f"{sk.reason}")
    return out


def write_error_report(skipped: list[Skip], path: Path) -> None:
    """Tab-separated error report: level, path, series, reason (one line each; tabs, newlines and bytes that are not
    UTF-8 inside a field are written as backslash escapes, so no name can forge a row)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("level\tpath\tseries\treason\n")
        for sk in skipped:
            f.write("\t".join(display_text(v) for v in (sk.level, sk.path, sk.series or "", sk.reason)) + "\n")
