"""``mri-search pretrain vision|align``: the two pretraining stages (a Typer sub-app, added to ``cli.app``).

Thin like the rest of the CLI: each command builds ``DataCfg``, its stage config and ``TrainCfg`` and calls one
``run_*``. Multi-GPU: launch the same command under ``torchrun --nproc_per_node N -m mri_search.cli pretrain ...``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (Accum, Batch, CacheDir, CkptEvery, EvalEvery, LogEvery, Lr, Out, Precision, Resume, Salt, Seed,
                      SplitSeed, Steps, TrainArchiveArg, ValFraction, Warmup, Workers)
from .options import fail as _fail

app = typer.Typer(help="Two-stage pretraining: self-supervised vision, then report-guided alignment.",
                  no_args_is_help=True)


def _configs(archive, out, steps, batch_size, lr, warmup, accum, workers, seed, split_seed, val_fraction,
             eval_every, ckpt_every, log_every, precision, cache_dir, salt):
    from pretrain.config import TrainCfg
    from pretrain.prepare import DataCfg

    if not Path(archive).exists():
        _fail(f"{archive} does not exist")
    try:
        data = DataCfg(archive=str(archive), cache_dir=str(cache_dir or ""), val_fraction=val_fraction,
                       split_seed=split_seed, num_workers=workers, salt=salt)
        train = TrainCfg.for_run(lr=lr, total_steps=steps, warmup_steps=warmup, log_every=log_every,
                                 batch_size=batch_size, accum_steps=accum, precision=precision, seed=seed,
                                 eval_every=eval_every, ckpt_every=ckpt_every, out_dir=str(out))
    except ValueError as e:
        _fail(str(e))
    return data, train


def _report(summary: dict, out: Path) -> None:
    typer.echo(json.dumps(summary, indent=2, default=str))
    typer.secho(f"model folder: {out}", err=True)


@app.command()
def vision(
    archive: TrainArchiveArg,
    out: Out,
    preset: Annotated[str, typer.Option(help="Model preset (vit-s-cpu, vit-b-gpu, vit-tiny-test).")] = "vit-s-cpu",
    method: Annotated[str, typer.Option(help="Self-supervised objective: contrastive (two views, the default: the "
                                             "best start for alignment measured), mae or both.")] = "contrastive",
    steps: Steps = 2000, batch_size: Batch = 16, lr: Lr = 1e-4, warmup: Warmup = None, accum: Accum = 1,
    workers: Workers = 2, seed: Seed = 0, split_seed: SplitSeed = 0, val_fraction: ValFraction = 0.15,
    eval_every: EvalEvery = 200, ckpt_every: CkptEvery = 200, log_every: LogEvery = 10,
    precision: Precision = "bf16", cache_dir: CacheDir = None, resume: Resume = False, salt: Salt = "mri-search",
) -> None:
    """Stage 1: self-supervised pretraining of the 3D image encoder on the archive's series (reports unused)."""
    from pretrain.vision_stage import VisionStageCfg, run_vision

    data, train = _configs(archive, out, steps, batch_size, lr, warmup, accum, workers, seed, split_seed,
                           val_fraction, eval_every, ckpt_every, log_every, precision, cache_dir, salt)
    try:
        stage = VisionStageCfg(preset=preset, method=method)
        summary = run_vision(data, stage, train, resume=resume)
    except ValueError as e:
        _fail(str(e))
    _report(summary, out)


@app.command()
def align(
    archive: TrainArchiveArg,
    out: Out,
    init: Annotated[Optional[Path], typer.Option(help="Stage-1 model folder to start from (omit for the "
                                                      "stage-2-only baseline: a random image encoder).")] = None,
    preset: Annotated[str, typer.Option(help="Model preset when --init is not given.")] = "vit-s-cpu",
    loss: Annotated[str, typer.Option(help="Contrastive loss: clip or siglip (open_clip's), or clip-label / "
                                           "siglip-label: studies whose reports give the same labels (region, "
                                           "sub-site, laterality) are partial positives.")] = "clip",
    label_weight: Annotated[float, typer.Option(
        help="--loss *-label: share of each pair's target spread over the studies of its label group.")] = 0.5,
    text_tune: Annotated[Optional[str], typer.Option(
        help="Report encoder tuning: frozen, last (the last layers) or all (default: the model's).")] = None,
    vision_pool: Annotated[Optional[str], typer.Option(
        help="Image feature pooling: cls or mean over patch tokens (default: the model's).")] = None,
    text_adapter: Annotated[Optional[str], typer.Option(
        help="Report features -> shared space: linear, or mlp (a 2-layer trainable adapter on the backbone's "
             "features; default: the model's).")] = None,
    vision_lr_scale: Annotated[float, typer.Option(
        help="Learning-rate multiplier of the image trunk (the ViT, not its projection); below 1 tunes a stage-1 "
             "trunk gently (0.3 measured worse than 1 after a 600-step stage 1).")] = 1.0,
    steps: Steps = 2000, batch_size: Batch = 16, lr: Lr = 1e-4, warmup: Warmup = None, accum: Accum = 1,
    workers: Workers = 2, seed: Seed = 0, split_seed: SplitSeed = 0, val_fraction: ValFraction = 0.15,
    eval_every: EvalEvery = 200, ckpt_every: CkptEvery = 200, log_every: LogEvery = 10,
    precision: Precision = "bf16", cache_dir: CacheDir = None, resume: Resume = False, salt: Salt = "mri-search",
) -> None:
    """Stage 2: align image and report encoders contrastively on (series, report text) pairs."""
    from pretrain.align_stage import VISION_TRUNK, AlignStageCfg, run_align

    if init is not None and not (init / "config.json").is_file():
        _fail(f"--init {init} is not a model folder (no config.json): pass the --out of `pretrain vision`")
    data, train = _configs(archive, out, steps, batch_size, lr, warmup, accum, workers, seed, split_seed,
                           val_fraction, eval_every, ckpt_every, log_every, precision, cache_dir, salt)
    try:
        if vision_lr_scale != 1.0:
            train = dataclasses.replace(train, lr_scales=((VISION_TRUNK, vision_lr_scale),))
        stage = AlignStageCfg(init=str(init or ""), preset=preset, loss=loss, label_weight=label_weight,
                               text_tune=text_tune or "", text_adapter=text_adapter or "",
                               vision_pool=vision_pool or "")
        summary = run_align(data, stage, train, resume=resume)
    except ValueError as e:
        _fail(str(e))
    _report(summary, out)


@app.command()
def export(
    model: Annotated[Path, typer.Argument(help="Model folder to export (the --out of `pretrain align`).",
                                          metavar="MODEL")],
    out: Annotated[Path, typer.Option(help="Destination model folder (created).")],
    dtype: Annotated[str, typer.Option(help="Storage dtype of the weights: float16 (half the size), bfloat16 or "
                                            "float32. Loading always rebuilds a float32 model.")] = "float16",
) -> None:
    """Write a trained model as a compact folder for shipping (weights stored in half precision by default)."""
    from ..model import export_model, model_identity

    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "config.json").is_file())):
        _fail(f"--out {out} exists and is not a model folder; choose an empty or new folder")
    try:
        folder = export_model(model, out, storage_dtype=dtype)
    except ValueError as e:
        _fail(str(e))
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    typer.echo(json.dumps({"model": str(folder), "identity": model_identity(folder), "storage_dtype": dtype,
                           "size_bytes": size}, indent=2))
