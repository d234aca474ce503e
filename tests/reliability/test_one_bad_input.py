"""Case 8 of issue 20: a NUL report cell, a symbolic link loop, an unreadable folder: one error line each."""

from __future__ import annotations

import os

from mri_search.ingest.archive import scan_archive
from mri_search.ingest.config import ScanOptions

from .hostile import copy_series, nul_report_parquet, rmtree, symlink_loop, unreadable_folder


def test_nul_report_cell_is_one_line(tmp_path, series):
    copy_series(series, tmp_path / "study1", "a", accession="ACC1")
    copy_series(series, tmp_path / "study2", "b", accession="ACC2")
    nul_report_parquet(tmp_path, "ACC1", "ACC2")
    result = scan_archive(tmp_path)
    assert len(result.series) == 2 and len(result.reports) == 1
    [bad] = [s for s in result.skipped if s.level == "failed"]
    assert bad.path.endswith("reports.parquet#1") and "empty report" in bad.reason


def test_symlink_loop_is_one_line(tmp_path, series):
    copy_series(series, tmp_path / "study", "c")
    symlink_loop(tmp_path / "links")
    result = scan_archive(tmp_path)
    assert len(result.series) == 1
    loops = [s for s in result.skipped if "loop" in s.reason]
    assert len(loops) == 3 and all(s.level == "failed" for s in loops)


def test_unreadable_folder_is_one_line(tmp_path, series):
    copy_series(series, tmp_path / "study", "d")
    locked = unreadable_folder(tmp_path / "locked")
    options = ScanOptions()  # the installation's salt is read now: the unprivileged scan below cannot read it
    root = os.geteuid() == 0
    if root:  # root reads anything: scan with the permissions of nobody (effective uid only, restored after)
        for p in [tmp_path, *list(tmp_path.parents)[:3]]:
            os.chmod(p, os.stat(p).st_mode | 0o005)
        for f in (tmp_path / "study").iterdir():
            os.chmod(f, 0o644)
        os.chmod(tmp_path / "study", 0o755)
        os.setegid(65534)
        os.seteuid(65534)
    try:
        result = scan_archive(tmp_path, options)
    finally:
        if root:
            os.seteuid(0)
            os.setegid(0)
        rmtree(locked)
    assert len(result.series) == 1
    [line] = result.skipped
    assert line.level == "failed" and line.path.endswith("locked") and "folder cannot be read" in line.reason
