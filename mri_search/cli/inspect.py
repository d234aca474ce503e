"""``mri-search inspect``: what an index run would take from an archive, and what it would skip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import ReportsOpt, SaltOpt, SinceOpt, SourceArg
from .options import fail as _fail


def inspect(
    archive: SourceArg,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")] = False,
    errors: Annotated[Optional[Path], typer.Option(
        help="Also write the skipped/failed files as a tab-separated error report to this path.")] = None,
    salt: SaltOpt = None,
    include_phi: Annotated[bool, typer.Option(
        help="Keep raw patient identifiers in the output (off by default: only salted hashes leave).")] = False,
    since: SinceOpt = None,
    reports: ReportsOpt = None,
    workers: Annotated[int, typer.Option(
        help="Processes reading DICOM headers (a folder or zip of many files; 1: this process).")] = 2,
) -> None:
    """List what an index run would take: one line per series, then every skipped or failed file with its reason."""
    from ..ingest.archive import attach_report_table, inspect_lines, scan_archive, write_error_report
    from ..ingest.config import ScanOptions
    from ..ingest.dicomweb import DicomwebCfg, normalise_date, parse_source, scan_dicomweb

    if workers < 1:
        _fail("--workers must be 1 or more")
    try:
        options = ScanOptions(salt=salt, include_phi=include_phi, workers=workers)
        url = parse_source(archive)
        if url:
            result = scan_dicomweb(DicomwebCfg(url=url, since=normalise_date(since) if since else ""), options)
            if reports is not None:
                result = attach_report_table(result, reports, options)
        elif since or reports:
            raise ValueError("--since and --reports apply to a DICOMweb source (dicomweb+http://...)")
        else:
            result = scan_archive(Path(archive), options)
    except ValueError as e:
        _fail(str(e))
    for line in inspect_lines(result, json_out):
        typer.echo(line)
    if errors is not None:
        write_error_report(result.skipped, errors)
    n_failed = sum(1 for s in result.skipped if s.level == "failed")
    summary = (f"{len(result.series)} series, {len(result.reports)} reports, "
               f"{len(result.skipped) - n_failed} skipped, {n_failed} failed")
    typer.secho(summary, err=True)
