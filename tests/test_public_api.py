"""The top-level API: ``from mri_search import load_model, Searcher, scan_archive`` works, and importing
``mri_search`` alone loads none of it (so ``mri-search --help`` stays fast)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_names_resolve_to_their_modules():
    import mri_search
    from mri_search.ingest.archive import scan_archive
    from mri_search.model.artifact import load_model
    from mri_search.query.searcher import Searcher

    assert (mri_search.load_model, mri_search.Searcher, mri_search.scan_archive) == (load_model, Searcher,
                                                                                     scan_archive)
    assert {"load_model", "Searcher", "scan_archive"} <= set(dir(mri_search)) & set(mri_search.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mri_search.nope  # noqa: B018


def test_import_is_lazy():
    code = ("import sys, mri_search; heavy = [m for m in ('torch', 'qdrant_client', 'pydicom', "
            "'mri_search.query.searcher') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
