"""Shared inputs of the indexer tests: a small generated DICOM archive with reports, and two tiny models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mri_search.model import build_model, get_preset, save_model
from mri_search.preprocess import PreprocessConfig
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig

PRE = PreprocessConfig(spacing_mm=(8.0, 8.0, 8.0), size=(32, 32, 32))


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    """3 studies (knee, brain), DICOM only (single-frame and enhanced), about 15 series, reports beside them."""
    out = tmp_path_factory.mktemp("index") / "archive"
    run_synth(SynthConfig(out=out, studies=3, seed=3, format="dicom", regions=("knee", "brain"), matrix_scale=0.2),
              progress=lambda *a, **k: None)
    return out


def _model(folder: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    return save_model(build_model(get_preset("vit-tiny-test")).eval(), folder, PRE)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """The tiny test preset (32^3 input, 32-d embeddings), randomly initialised and saved."""
    return _model(tmp_path_factory.mktemp("model") / "a", seed=0)


@pytest.fixture(scope="session")
def other_model_dir(tmp_path_factory) -> Path:
    """The same architecture with other weights: another embedding space."""
    return _model(tmp_path_factory.mktemp("model") / "b", seed=1)
