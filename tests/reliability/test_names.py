"""Case 1 of issue 20: names that are not UTF-8, or hold tabs and newlines, travel as escaped text."""

from __future__ import annotations

import json
import os

from mri_search.ingest.archive import inspect_lines, scan_archive, write_error_report
from mri_search.ingest.display import display_path, display_text
from mri_search.store.payload import build_payload

from .hostile import control_char_tree, non_utf8_tree


def test_display_escapes_only_what_breaks():
    assert display_path(b"/a/P\xff/IM1") == "/a/P\\xff/IM1"
    assert display_text("a\tb\nc\rd\x00") == "a\\tb\\nc\\rd\\x00"
    assert display_text("Zürich ö 肝") == "Zürich ö 肝"


def test_non_utf8_folder_is_scanned_and_encodable(tmp_path, series):
    root = non_utf8_tree(tmp_path / "A", series)
    result = scan_archive(root)
    assert len(result.series) == 2 and not result.skipped
    paths = sorted(build_payload(r, None)["path"] for r in result.series)
    assert paths[0].endswith("/P\\xff/IM0000") and paths[1].endswith("/good/IM0000")
    for rec in result.series:
        json.dumps(build_payload(rec, None)).encode("utf-8")  # a surrogate would raise here
    for line in inspect_lines(result, as_json=True):
        line.encode("utf-8")


def test_tab_and_newline_names_cannot_forge_tsv_rows(tmp_path, series):
    root = control_char_tree(tmp_path / "B", series)
    result = scan_archive(root)
    assert len(result.series) == 1 and len(result.skipped) == 1
    write_error_report(result.skipped, tmp_path / "errors.tsv")
    rows = (tmp_path / "errors.tsv").read_text(encoding="utf-8").split("\n")
    assert rows[-1] == "" and len(rows) == 3  # header, one row, final newline
    level, path, series_key, reason = rows[1].split("\t")
    assert level == "failed" and path.endswith("bad\\tname/x\\nfailed\\tforged\\t\\tforged row.dcm")
    assert "not a DICOM file" in reason


def test_non_utf8_folder_indexes_and_its_locator_finds_it(tmp_path, series, model_dir):
    """The index run itself (payload, Parquet, error report, locator) with a folder name that is not UTF-8: both
    series are indexed, and the locator places the one under the odd name byte for byte."""
    from indexer.config import IndexCfg
    from indexer.run import run_index
    from mri_search.ingest.archive import scan_archive
    from mri_search.store.locator import Locator

    root = non_utf8_tree(tmp_path / "arch", series)
    summary = run_index(IndexCfg(archive=root, model=model_dir, db=tmp_path / "db", parquet=tmp_path / "rows.parquet",
                                 workers=0, progress=False, errors=tmp_path / "e.tsv"))
    assert summary.indexed == 2 and summary.failed == 0 and summary.parquet_rows == 2
    odd = next(r for r in scan_archive(root).series if b"\xff" in os.fsencode(r.files[0].container + "/" +
                                                                               r.files[0].member))
    found = Locator(summary.locator_path).find(odd.key)
    assert os.fsencode(found.ref.path) == os.fsencode(odd.files[0].path) and os.path.exists(found.ref.path)
