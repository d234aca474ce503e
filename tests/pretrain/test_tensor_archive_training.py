"""Both pretraining stages read a tensor archive (`synth --format tensors`) as it is: no scan, no preprocessing
pass, the reports' labels per sample; a damaged study file is a line in errors.tsv; another input size is refused
by name."""

from __future__ import annotations

import math

import pytest
import torch
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.model import load_model
from mri_search.preprocess import default_preprocess
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig
from mri_search.tensor_archive import study_files
from pretrain.align_stage import AlignStageCfg, run_align
from pretrain.config import TrainCfg
from pretrain.data import AlignPairs
from pretrain.prepare import DataCfg, prepare
from pretrain.vision_stage import VisionStageCfg, run_vision

runner = CliRunner()


@pytest.fixture(scope="module")
def tensors(tmp_path_factory):
    out = tmp_path_factory.mktemp("tensors") / "archive"
    run_synth(SynthConfig(out=out, studies=5, seed=5, format="tensors", regions=("knee", "brain"), matrix_scale=0.2,
                          preprocess=default_preprocess(32)), progress=lambda *a, **k: None)
    damaged = study_files(out)[-1]
    damaged.write_bytes(damaged.read_bytes()[:100])  # cut short: its study is lost, the others train
    return out, damaged


def _cfg(out_dir, steps=2) -> TrainCfg:
    return TrainCfg.for_run(lr=1e-3, total_steps=steps, warmup_steps=1, log_every=1, batch_size=4, eval_every=steps,
                            ckpt_every=steps, out_dir=str(out_dir))


def test_prepare_reads_tensors_reports_and_labels(tensors, tmp_path):
    path, damaged = tensors
    prepared = prepare(DataCfg(archive=str(path), num_workers=0, val_fraction=0.4), default_preprocess(32), tmp_path)
    assert prepared.n_skipped_files == 1 and prepared.n_failed == 0
    assert str(damaged) in (tmp_path / "errors.tsv").read_text()
    items = prepared.train + prepared.val
    assert len({it["study_key"] for it in items}) == 4
    assert {it["record"].patient_key for it in prepared.train}.isdisjoint(
        {it["record"].patient_key for it in prepared.val})
    pairs = AlignPairs(prepared.train, prepared.cache)
    sample = pairs[0]
    assert tuple(sample["volume"].shape) == (1, 32, 32, 32)
    assert sample["labels"]["region"] in ("knee", "brain") and sample["text"]


def test_both_stages_train_on_a_tensor_archive(tensors, tmp_path):
    """Stage 2 with the label-aware SigLIP loss (the batches carry the label groups parsed from the reports) and
    a new MLP adapter on the frozen report backbone (through its feature cache)."""
    path, _ = tensors
    data = DataCfg(archive=str(path), num_workers=0, val_fraction=0.4)
    s1 = run_vision(data, VisionStageCfg(preset="vit-tiny-test", method="both"), _cfg(tmp_path / "s1"))
    assert s1["steps"] == 2 and math.isfinite(s1["last_loss"]) and s1["skipped_files"] == 1
    s2 = run_align(data, AlignStageCfg(init=str(tmp_path / "s1"), loss="siglip-label", text_tune="frozen",
                                       text_adapter="mlp"), _cfg(tmp_path / "s2"))
    assert s2["steps"] == 2 and math.isfinite(s2["last_loss"]) and s2["train_series"] == s1["train_series"]
    aligned = load_model(tmp_path / "s2")  # the new adapter was trained and saved; the stage-1 trunk came along
    assert aligned.cfg.text.adapter == "mlp" and aligned.meta["recipe"]["align"]["loss"] == "siglip-label"
    w1 = load_model(tmp_path / "s1").model.visual.vit.patch_embedding.patch_embeddings.weight
    w2 = aligned.model.visual.vit.patch_embedding.patch_embeddings.weight
    assert torch.allclose(w1, w2, atol=0.05) and not torch.equal(w1, w2)


def test_a_model_of_another_input_size_is_refused_by_name(tensors, tmp_path):
    path, _ = tensors
    res = runner.invoke(app, ["pretrain", "vision", str(path), "--out", str(tmp_path / "o"), "--preset", "vit-s-cpu",
                              "--workers", "0"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "size [32, 32, 32] (archive) vs [96, 96, 96] (model)" in " ".join(res.output.split())
