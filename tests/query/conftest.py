"""Shared inputs of the query tests: a small generated archive (knee and brain, DICOM + NIfTI twins), a tiny model
whose image and report embeddings are aligned, and the DICOM half of the archive indexed with it.

Why the model is constructed, not trained: a text query can only find "the knee" if the model's image and report
spaces agree. Forty steps of the real stage-2 training (``pretrain.align_stage``, tiny preset) took over a minute
on two CPU cores and still ranked a third of the region queries wrongly, so the fixture aligns the tiny model in
closed form instead: the random image tower is kept and only its final projection (64 -> 32) is fitted by least
squares so that each series' image embedding lands on its own study's report embedding (plus a share of the
series' own random-projection embedding, so that sibling series stay apart and an image query can find its own
series). The report tower is the untouched tiny preset (MiniLM + a random projection).

What the tests on it prove: the query path (tokenising, the report tower, the named vector searched, ranking,
filters, grouping, payloads) puts the series of the asked-for region first when the model's two spaces are
aligned. They say nothing about how well a trained model aligns them; the benchmarks measure that.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F

from indexer.config import IndexCfg
from indexer.run import run_index
from mri_search.ingest.archive import scan_archive
from mri_search.ingest.phi import hash_id
from mri_search.ingest.salt import installation_salt
from mri_search.ingest.report_text import embedding_text
from mri_search.model import build_model, get_preset, save_model
from mri_search.preprocess import PreprocessConfig, preprocess
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig

PRE = PreprocessConfig(spacing_mm=(8.0, 8.0, 8.0), size=(32, 32, 32))
OWN_SHARE = 0.5  # weight of a series' own random embedding beside its study's report embedding in the fit


@dataclass(frozen=True)
class Indexed:
    """The indexed DICOM half of the archive."""

    db: Path  # embedded index folder
    collection: str
    model: Path  # the aligned model folder
    n_series: int
    region: dict[str, str]  # series_uid_hash (payload) -> body region (manifest ground truth)
    study_uid: dict[str, str]  # study_key (payload) -> raw StudyInstanceUID (manifest)


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    """3 studies (2 knee, 1 brain; 15 series), DICOM and NIfTI twins of every series, reports beside them."""
    out = tmp_path_factory.mktemp("query") / "archive"
    run_synth(SynthConfig(out=out, studies=3, seed=3, format="both", regions=("knee", "brain"), matrix_scale=0.2),
              progress=lambda *a, **k: None)
    return out


def aligned(archive: Path, folder: Path) -> Path:
    """The tiny preset with its image projection fitted to the archive's report embeddings (module docstring)."""
    torch.manual_seed(0)
    model = build_model(get_preset("vit-tiny-test")).eval()
    scan = scan_archive(archive / "dicom")
    w0 = model.visual.proj.weight.detach().clone()  # [32, 64]
    with torch.no_grad():
        x = torch.stack([preprocess(r, PRE).as_tensor() for r in scan.series])  # [n, 1, 32, 32, 32]
        feats = model.visual.forward_features(x)  # [n, 64]
        reports = model.encode_report(model.tokenize([embedding_text(scan.reports[r.study_key])
                                                      for r in scan.series]))  # [n, 32]
        target = F.normalize(reports + OWN_SHARE * F.normalize(feats @ w0.T, dim=-1), dim=-1)
        gram = feats.T @ feats + 1e-3 * torch.eye(feats.shape[1])
        model.visual.proj.weight.copy_(torch.linalg.solve(gram, feats.T @ target).T)
    return save_model(model, folder, PRE)


@pytest.fixture(scope="session")
def indexed(archive, tmp_path_factory) -> Indexed:
    tmp = tmp_path_factory.mktemp("qindex")
    model = aligned(archive, tmp / "model")
    s = run_index(IndexCfg(archive=archive / "dicom", model=model, db=tmp / "db", errors=tmp / "errors.tsv",
                           workers=0, batch_size=8, progress=False))
    assert s.failed == 0 and s.indexed == s.series_found > 10
    rows = pq.read_table(archive / "manifest.parquet").to_pylist()
    return Indexed(db=tmp / "db", collection=s.collection, model=model, n_series=s.indexed,
                   region={hash_id(installation_salt(), r["series_uid"]): r["body_region"] for r in rows},
                   study_uid={hash_id(installation_salt(), r["study_uid"]): r["study_uid"] for r in rows})
