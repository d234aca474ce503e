"""Shared inputs of the DICOMweb tests: generated DICOM archives, a tiny model, and a real Orthanc per test.

Without Orthanc and its DICOMweb plugin (Debian: ``apt-get install orthanc orthanc-dicomweb``; ``.ci/run`` installs
them when it may) these tests skip with that reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmarks.orthanc_server import (
    PASSWORD,
    USER,
    OrthancServer,
    missing,
)
from mri_search.model import build_model, get_preset, save_model
from mri_search.preprocess import PreprocessConfig
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig

PRE = PreprocessConfig(spacing_mm=(8.0, 8.0, 8.0), size=(32, 32, 32))


def _synth(out: Path, studies: int, seed: int, regions: tuple[str, ...]) -> Path:
    run_synth(SynthConfig(out=out, studies=studies, seed=seed, format="dicom", regions=regions, matrix_scale=0.2),
              progress=lambda *a, **k: None)
    return out


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    """3 studies (knee, brain), DICOM only (single-frame and enhanced), 15 series, a report table beside them."""
    return _synth(tmp_path_factory.mktemp("dw") / "archive", 3, 3, ("knee", "brain"))


@pytest.fixture(scope="session")
def later_archive(tmp_path_factory) -> Path:
    """1 more study (another seed, other patients): what arrives at the PACS after the first run."""
    return _synth(tmp_path_factory.mktemp("dw") / "later", 1, 41, ("knee",))


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """The tiny test preset (32^3 input, 32-d embeddings), randomly initialised and saved."""
    torch.manual_seed(0)
    return save_model(build_model(get_preset("vit-tiny-test")).eval(), tmp_path_factory.mktemp("model") / "m", PRE)


@pytest.fixture()
def credentials(monkeypatch):
    """The test server's basic-auth credentials, in the environment as a user would set them."""
    monkeypatch.setenv("MRI_SEARCH_DICOMWEB_USER", USER)
    monkeypatch.setenv("MRI_SEARCH_DICOMWEB_PASSWORD", PASSWORD)
    monkeypatch.delenv("MRI_SEARCH_DICOMWEB_TOKEN", raising=False)


def _server(tmp_path: Path, stable_age_s: int):
    why = missing()
    if why:
        pytest.skip(why)
    srv = OrthancServer(tmp_path / "orthanc", stable_age_s=stable_age_s)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture()
def orthanc(tmp_path):
    """An empty Orthanc (DICOMweb at ``.url``) in a temporary folder, stopped after the test."""
    yield from _server(tmp_path, stable_age_s=1)


@pytest.fixture()
def slow_orthanc(tmp_path):
    """The same, but a series counts as stable only 4 s after its last instance (half-uploaded studies)."""
    yield from _server(tmp_path, stable_age_s=4)
