"""Suite-wide: mri-search's data folder ($MRI_SEARCH_HOME) points into a temporary folder, so that index runs in
tests (their model registry, error reports and default embedded index) never write to the user's own."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_home(tmp_path_factory):
    before = os.environ.get("MRI_SEARCH_HOME")
    os.environ["MRI_SEARCH_HOME"] = str(tmp_path_factory.mktemp("mri-search-home"))
    yield
    if before is None:
        os.environ.pop("MRI_SEARCH_HOME", None)
    else:
        os.environ["MRI_SEARCH_HOME"] = before
