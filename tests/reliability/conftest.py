"""The reliability corpus: hostile inputs generated per session (small files, seconds in total)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .hostile import dicom_slice


@pytest.fixture(scope="session")
def series(tmp_path_factory) -> list[Path]:
    """One good 6-slice MR series (32 x 32) written by pydicom."""
    folder = tmp_path_factory.mktemp("series")
    return [Path(dicom_slice(folder / f"IM{i:04d}", 32, 32, i, "1.2.3.7") and folder / f"IM{i:04d}")
            for i in range(6)]
