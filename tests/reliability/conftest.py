"""The reliability corpus: hostile inputs generated per session (small files, seconds in total)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mri_search.model import build_model, get_preset, save_model
from mri_search.preprocess import PreprocessConfig
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig

from .hostile import deflate_bomb, dicom_slice, huge_nifti_header


@pytest.fixture(scope="session")
def series(tmp_path_factory) -> list[Path]:
    """One good 6-slice MR series (32 x 32) written by pydicom."""
    folder = tmp_path_factory.mktemp("series")
    return [Path(dicom_slice(folder / f"IM{i:04d}", 32, 32, i, "1.2.3.7") and folder / f"IM{i:04d}")
            for i in range(6)]


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    """2 knee studies, DICOM, 8 series."""
    out = tmp_path_factory.mktemp("damage") / "archive"
    run_synth(SynthConfig(out=out, studies=2, seed=3, format="dicom", regions=("knee",), matrix_scale=0.2),
              progress=lambda *a, **k: None)
    return out


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """The tiny test preset, randomly initialised (32-d unit embeddings)."""
    import torch

    torch.manual_seed(0)
    return save_model(build_model(get_preset("vit-tiny-test")).eval(), tmp_path_factory.mktemp("model") / "m",
                      PreprocessConfig(spacing_mm=(8.0, 8.0, 8.0), size=(32, 32, 32)))


@pytest.fixture(scope="session")
def bomb(tmp_path_factory) -> Path:
    """A deflate bomb (inflating to 600 MB) alone in a folder; built once, it takes seconds."""
    return deflate_bomb(tmp_path_factory.mktemp("bomb") / "x.dcm", inflated_bytes=600 * 1024**2)


@pytest.fixture(scope="session")
def huge_nifti(tmp_path_factory) -> Path:
    """A ``.nii.gz`` of 2048 x 2048 x 256 voxels (2 GiB once loaded) alone in a folder; built once."""
    return huge_nifti_header(tmp_path_factory.mktemp("huge") / "huge.nii.gz")
