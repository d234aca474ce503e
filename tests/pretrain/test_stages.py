"""Both pretraining stages end to end on a tiny generated archive (tiny preset, CPU, a few steps each), and the
`mri-search pretrain` commands' help and user errors."""

from __future__ import annotations

import dataclasses
import gzip
import json
import math

import pytest
import torch
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.ingest.archive import scan_archive
from mri_search.model import build_model, get_preset, load_model, model_identity
from mri_search.preprocess import PreprocessCache, PreprocessConfig
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig
from pretrain.align_stage import VISION_TRUNK, AlignStageCfg, run_align
from pretrain.config import TrainCfg
from pretrain.optim import param_groups
from pretrain.data import build_items
from pretrain.prepare import DataCfg, fill_cache
from pretrain.vision_stage import VisionStageCfg, run_vision

runner = CliRunner()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "archive"
    run_synth(SynthConfig(out=out, studies=4, seed=5, format="nifti", regions=("knee", "brain"), matrix_scale=0.2),
              progress=lambda *a, **k: None)
    # a truncated series: it must be reported and the run go on
    victim = sorted(out.rglob("*.nii.gz"))[0]
    raw = gzip.decompress(victim.read_bytes())
    victim.write_bytes(gzip.compress(raw[: 352 + (len(raw) - 352) // 3]))
    return out, victim


def _cfg(out_dir, steps=3) -> TrainCfg:
    return TrainCfg(lr=1e-3, min_lr=1e-4, warmup_steps=1, total_steps=steps, batch_size=4, log_every=1,
                    eval_every=steps, ckpt_every=steps, out_dir=str(out_dir))


def test_vision_then_align(archive, tmp_path):
    path, victim = archive
    data = DataCfg(archive=str(path), cache_dir=str(tmp_path / "cache"), num_workers=0, val_fraction=0.4)

    s1 = run_vision(data, VisionStageCfg(preset="vit-tiny-test", method="both"), _cfg(tmp_path / "s1"))
    assert s1["steps"] == 3 and s1["skipped_files"] == 2  # the truncated series and the manifest (not a report table)
    assert math.isfinite(s1["first_loss"]) and math.isfinite(s1["last_loss"])
    assert 0 <= s1["data_wait_fraction"] <= 1 and s1["vol_per_s"] > 0
    assert s1["first_eval"]["step"] == 0 and s1["last_eval"]["step"] == 3 and "view_r@1" in s1["last_eval"]
    errors = (tmp_path / "s1" / "errors.tsv").read_text()
    assert f"failed\t{victim}" in errors and "truncated NIfTI" in errors
    lines = [json.loads(ln) for ln in (tmp_path / "s1" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines if r["split"] == "val"] == [0, 3]
    assert [r["step"] for r in lines if r["split"] == "train"] == [1, 2, 3]
    stage1 = load_model(tmp_path / "s1")
    assert stage1.meta["recipe"]["stage"] == "vision" and stage1.meta["recipe"]["vision"]["method"] == "both"
    assert stage1.meta["data_fingerprint"].startswith("sha256:") and "salt" not in stage1.meta["recipe"]["data"]
    assert stage1.preprocess.size == (32, 32, 32)

    s2 = run_align(data, AlignStageCfg(init=str(tmp_path / "s1"), loss="siglip", text_tune="frozen",
                                             vision_pool="mean"),
                   _cfg(tmp_path / "s2"))
    assert s2["steps"] == 3 and math.isfinite(s2["last_loss"]) and s2["train_series"] == s1["train_series"]
    assert {"val_loss", "r@5_t2i", "r@5_i2t"} <= set(s2["last_eval"])
    aligned = load_model(tmp_path / "s2")
    assert aligned.meta["recipe"]["init_identity"] == model_identity(tmp_path / "s1")
    assert aligned.cfg.text.tune == "frozen" and aligned.cfg.vision.pool == "mean"
    assert stage1.cfg.vision.pool == "cls" and not hasattr(aligned.model.visual.vit, "cls_token")
    # stage 2 started from stage 1's image tower and moved it
    w1 = stage1.model.visual.vit.patch_embedding.patch_embeddings.weight
    w2 = aligned.model.visual.vit.patch_embedding.patch_embeddings.weight
    assert not torch.equal(w1, w2) and torch.allclose(w1, w2, atol=0.05)
    # the SigLIP bias was trained
    assert aligned.model.logit_bias.item() != pytest.approx(-10.0, abs=1e-7)


def test_series_failing_preprocessing_are_dropped_and_reported(archive, tmp_path):
    path, _ = archive
    items = build_items(scan_archive(path))
    rec = items[2]["record"]  # its file vanished between the scan and preprocessing:
    doomed = dataclasses.replace(rec.files[0], member=rec.files[0].member.replace(".nii.gz", "_gone.nii.gz"))
    items[2] = {**items[2], "record": dataclasses.replace(rec, files=(doomed,))}
    cache = PreprocessCache(tmp_path / "cache", PreprocessConfig(spacing_mm=(9, 9, 9), size=(32, 32, 32)))
    good, failed = fill_cache(items, cache, num_workers=0)
    assert len(good) == len(items) - 1 and items[2] not in good
    assert [(s.path, s.level) for s in failed] == [(doomed.display, "failed")]
    assert failed[0].reason.startswith("preprocessing failed:") and failed[0].series == items[2]["record"].key


def test_align_without_init_is_the_stage2_only_baseline(archive, tmp_path):
    path, _ = archive
    data = DataCfg(archive=str(path), cache_dir=str(tmp_path / "cache"), num_workers=0, val_fraction=0.4)
    s = run_align(data, AlignStageCfg(preset="vit-tiny-test"), dataclasses.replace(_cfg(tmp_path / "o"), total_steps=2,
                                                                                   eval_every=2, ckpt_every=2))
    meta = load_model(tmp_path / "o").meta
    assert meta["recipe"]["init_identity"] is None and s["steps"] == 2
    assert meta["model"]["name"] == "vit-tiny-test"


def test_vision_lr_scale_reaches_exactly_the_image_trunk(archive, tmp_path):
    model = build_model(get_preset("vit-tiny-test"))
    groups = param_groups(model, 0.05, lr_scales=((VISION_TRUNK, 0.1),))
    trunk = {n for g in groups if g["lr_scale"] == 0.1 for n in g["names"]}
    wanted = {n for n, p in model.named_parameters() if p.requires_grad and n.startswith("visual.vit.")}
    assert trunk == wanted and len(wanted) > 10 and "visual.proj.weight" not in trunk
    path, _ = archive
    out = tmp_path / "o"
    res = runner.invoke(app, ["pretrain", "align", str(path), "--out", str(out), "--preset", "vit-tiny-test",
                              "--steps", "1", "--batch-size", "4", "--workers", "0", "--vision-lr-scale", "0.1",
                              "--cache-dir", str(tmp_path / "cache"), "--val-fraction", "0.4"])
    assert res.exit_code == 0, res.output
    assert load_model(out).meta["recipe"]["train"]["lr_scales"] == [["visual.vit.", 0.1]]
    res = runner.invoke(app, ["pretrain", "align", str(path), "--out", str(out), "--vision-lr-scale", "-1"])
    assert res.exit_code == 2 and "lr_scales" in res.output and "Traceback" not in res.output


def test_pretrain_commands_help_and_user_errors(tmp_path):
    with pytest.raises(ValueError, match="vision_pool"):
        AlignStageCfg(vision_pool="max")
    with pytest.raises(ValueError, match="loss must be one of"):
        AlignStageCfg(loss="supcon")
    with pytest.raises(ValueError, match="label_weight"):
        AlignStageCfg(loss="clip-label", label_weight=2.0)
    for sub in ("vision", "align"):
        res = runner.invoke(app, ["pretrain", sub, "--help"])
        assert res.exit_code == 0 and "--resume" in res.output
    res = runner.invoke(app, ["pretrain", "vision", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["pretrain", "align", str(tmp_path), "--out", str(tmp_path / "o"), "--init",
                              str(tmp_path)])
    assert res.exit_code == 2 and "not a model folder" in res.output
    res = runner.invoke(app, ["pretrain", "vision", str(tmp_path), "--out", str(tmp_path / "o"), "--method", "dino"])
    assert res.exit_code == 2 and "method" in res.output
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["pretrain", "vision", str(tmp_path / "empty"), "--out", str(tmp_path / "o"),
                              "--preset", "vit-tiny-test", "--workers", "0", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 2 and "no readable MR series" in res.output
