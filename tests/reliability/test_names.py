"""Case 1 of issue 20: names that are not UTF-8, or hold tabs and newlines, travel as escaped text."""

from __future__ import annotations

import json

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
