"""Shared inputs of the decoder tests: one generated brain study with label maps (a glioblastoma, six series, DICOM
and NIfTI twins, DICOM SEG), the tiny model preset saved as a model folder, and a private preprocessing cache."""

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
def seg_archive(tmp_path_factory) -> Path:
    """Seed 4, one brain study: glioblastoma (about 55 mm), train split, 6 series, label maps written."""
    out = tmp_path_factory.mktemp("decoders") / "archive"
    run_synth(SynthConfig(out=out, studies=1, seed=4, format="both", regions=("brain",), matrix_scale=0.2,
                          label_maps=True), progress=lambda *a, **k: None)
    return out


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The tiny preset (32^3 input at 8 mm, patch 16: a 2^3 token grid), randomly initialised and saved."""
    torch.manual_seed(0)
    return save_model(build_model(get_preset("vit-tiny-test")).eval(), tmp_path_factory.mktemp("model") / "m", PRE)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """A preprocessing cache private to these tests."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _one_thread():
    """The decoder tests train on 32^3 volumes: one thread does it faster than two fighting a busy machine (two
    OpenMP threads on an oversubscribed CPU measured 5-20x slower here)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
