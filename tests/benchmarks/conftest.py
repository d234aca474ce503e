"""Shared inputs of the benchmark tests: a tiny generated archive and a tiny random model (session-wide: the
retrieval and the probing tests use the same ones)."""

from __future__ import annotations

import pytest
import torch

from mri_search.model import build_model, get_preset, save_model
from mri_search.preprocess import default_preprocess
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "archive"
    run_synth(SynthConfig(out=out, studies=7, seed=2,  # test split: a head-and-neck and a brain study
                          format="nifti", regions=("knee", "brain", "head_neck"),
                          matrix_scale=0.2), progress=lambda *a, **k: None)
    return out


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    return save_model(build_model(get_preset("vit-tiny-test")).eval(), tmp_path_factory.mktemp("m") / "m",
                      default_preprocess(32))
