"""Dense decoders on the frozen encoder vs a random encoder vs MONAI's UNet from scratch, same steps, one run.

Decipher-MR attaches lightweight decoders to its frozen encoder (cardiac segmentation reached Dice 0.82 within
one epoch, close to nnU-Net). This script asks the same question of our model on a generated archive with label
maps (``mri-search synth --label-maps``), with two tasks and three methods each:

| method | segment | localize |
|---|---|---|
| ``frozen_trained`` | UNETR head on the model's frozen image encoder | heatmap head on it |
| ``frozen_random`` | the same head on a frozen, randomly initialised encoder of the same architecture | same |
| ``unet_scratch`` | MONAI ``UNet`` trained from scratch (the task-specific model) | same, one sigmoid channel |

Every method trains ``--steps`` AdamW steps of ``--batch-size`` volumes on the archive's ``train`` split (of the
structure set's regions) with the model's preprocessing, and is scored on the ``--eval-split`` split on each
series' own grid: Dice per structure (MONAI ``DiceMetric``; a structure absent from a series is not scored there)
and, for lesions, detection rate within ``--distance-mm``, mean box IoU, false positives per series and the
series-level AUROC of the peak probability. Training time, seconds per step and trainable parameters are recorded
beside the scores. Outputs: ``OUT/results.json``, ``OUT/report.md`` and, with ``--save-decoders``, each decoder
folder under ``OUT/decoders/``.

    python -m benchmarks.segmentation ARCHIVE --model runs/s2 --out seg_bench --steps 500 --structures brain
    python -m benchmarks.segmentation ARCHIVE --model runs/s2 --out seg_bench --tasks localize --steps 300

Epochs = steps x batch size / training series (the report states it): the paper's "one epoch" is that ratio = 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from mri_search.decoders.artifact import save_decoder
from mri_search.decoders.config import DecoderCfg, FitCfg
from mri_search.decoders.data import PairLoader, archive_cases, prepare
from mri_search.decoders.run import (
    encoder_for, evaluate_localisation, evaluate_segmentation, structures_for, train_decoder,
)
from mri_search.preprocess import default_cache_dir

log = logging.getLogger(__name__)

METHODS = ("frozen_trained", "frozen_random", "unet_scratch")
HEADS = {"segment": "unetr", "localize": "heatmap"}


@dataclass(frozen=True)
class BenchCfg:
    """One benchmark run."""

    archive: Path  # generated archive with label maps
    model: Path  # the trained model folder (encoder and preprocessing)
    out: Path  # results folder
    tasks: tuple[str, ...] = ("segment", "localize")
    methods: tuple[str, ...] = METHODS
    structures: str = "body"  # segmentation structure set
    regions: tuple[str, ...] = ()  # () = the structure set's regions (segment), all (localize)
    steps: int = 500
    batch_size: int = 2
    lr: float = 1e-3
    feature_size: int = 16
    seed: int = 0
    eval_split: str = "test"
    max_train: int = 0  # at most this many training series (0: all)
    max_eval: int = 0  # at most this many evaluated series (0: all)
    distance_mm: float = 15.0
    save_decoders: bool = False
    cache_dir: Path | None = None


def _decoder_cfg(task: str, method: str, feature_size: int) -> DecoderCfg:
    if method == "unet_scratch":
        return DecoderCfg(task=task, arch="unet", encoder="none")
    return DecoderCfg(task=task, arch=HEADS[task], encoder="trained" if method == "frozen_trained" else "random",
                      feature_size=feature_size)


def run_task(cfg: BenchCfg, task: str) -> dict:
    """Train and score every method on one task; returns ``{method: {...}}`` plus the data counts."""
    structures, known = structures_for(task, cfg.structures, cfg.archive)
    regions = cfg.regions or (structures.regions if structures else ())
    fit = FitCfg(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, seed=cfg.seed,
                 log_every=max(1, min(50, cfg.steps)))
    base = encoder_for(cfg.model, "trained", cfg.seed)
    loader = PairLoader(base.preprocess, cfg.cache_dir or default_cache_dir(), task, structures, known)
    t0 = time.perf_counter()
    train = prepare(archive_cases(cfg.archive, ("train",), regions, cfg.max_train), loader)
    test = prepare(archive_cases(cfg.archive, (cfg.eval_split,), regions, cfg.max_eval), loader)
    out: dict = {"regions": list(regions), "train_series": len(train), "eval_series": len(test),
                 "epochs": round(cfg.steps * cfg.batch_size / max(1, len(train)), 2),
                 "prepare_seconds": round(time.perf_counter() - t0, 1),
                 "structures": list(structures.names) if structures else None, "methods": {}}
    out_channels = structures.num_classes if structures else 1
    for method in cfg.methods:
        dcfg = _decoder_cfg(task, method, cfg.feature_size)
        enc = base if dcfg.encoder == "trained" else encoder_for(cfg.model, dcfg.encoder, cfg.seed + 1)
        t0 = time.perf_counter()
        net, lines = train_decoder(train, dcfg, fit, enc.visual, out_channels)
        seconds = time.perf_counter() - t0
        if task == "segment":
            scores = evaluate_segmentation(net, test, loader, structures)
        else:
            scores = evaluate_localisation(net, test, loader, cfg.distance_mm)
        trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
        out["methods"][method] = {"train_seconds": round(seconds, 1), "seconds_per_step": round(seconds / cfg.steps, 3),
                                  "trainable_params": trainable, "final_loss": lines[-1]["loss"], **scores}
        log.info("%s %s: %s", task, method, {k: v for k, v in scores.items() if not isinstance(v, dict)})
        if cfg.save_decoders:
            save_decoder(cfg.out / "decoders" / f"{task}-{method}", net, dcfg, fit, base.preprocess, structures,
                         enc.record, {"log": lines, "regions": list(regions)})
    return out


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def report(results: dict) -> str:
    """The Markdown report of ``results``."""
    cfg = results["config"]
    lines = [f"# Decoders on the frozen encoder: `{cfg['model']}`", "",
             f"Archive `{cfg['archive']}`, trained on split `train`, scored on `{cfg['eval_split']}`; "
             f"{cfg['steps']} steps x batch {cfg['batch_size']}, lr {cfg['lr']}, seed {cfg['seed']}, "
             f"torch threads {results['threads']}, load average {results['load_average']}.", ""]
    for task, res in results["tasks"].items():
        methods = res["methods"]
        lines += [f"## {task}", "",
                  f"{res['train_series']} training series ({res['epochs']} epochs), {res['eval_series']} scored, "
                  f"regions {', '.join(res['regions']) or 'all'}.", ""]
        if task == "segment":
            names = res["structures"]
            lines += ["| method | mean Dice | " + " | ".join(names) + " | s/step | trainable params |",
                      "|---|---|" + "---|" * len(names) + "---|---|"]
            for m, r in methods.items():
                lines.append(f"| {m} | {_fmt(r['mean_dice'])} | " + " | ".join(_fmt(r["dice"][n]) for n in names)
                             + f" | {r['seconds_per_step']} | {r['trainable_params']:,} |")
            first = next(iter(methods.values()))
            lines += ["", "Series holding each structure: " +
                      ", ".join(f"{n} {first['series_with'][n]}" for n in names) + ". Dice on each series' own "
                      "grid; the model-grid Dice is in results.json.", ""]
        else:
            lines += ["| method | detection rate | mean box IoU | FP / series | series AUROC | s/step | "
                      "trainable params |", "|---|---|---|---|---|---|---|"]
            for m, r in methods.items():
                lines.append(f"| {m} | {_fmt(r['detection_rate'])} | {_fmt(r['mean_box_iou'])} | "
                             f"{_fmt(r['false_positives_per_series'])} | {_fmt(r['series_auroc'])} | "
                             f"{r['seconds_per_step']} | {r['trainable_params']:,} |")
            first = next(iter(methods.values()), {})
            lines += ["", f"{first.get('lesions', 0)} ground-truth lesions (components of the lesion masks) in "
                      f"{first.get('series', 0)} series; detected = a predicted centre within "
                      f"{cfg['distance_mm']} mm.", ""]
    return "\n".join(lines) + "\n"


def run(cfg: BenchCfg) -> dict:
    """Every task, written to ``cfg.out``; returns the results."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    results = {"config": {k: str(v) if isinstance(v, Path) else v for k, v in cfg.__dict__.items()},
               "threads": torch.get_num_threads(),
               "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
               "tasks": {task: run_task(cfg, task) for task in cfg.tasks}}
    (cfg.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (cfg.out / "report.md").write_text(report(results))
    return results


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry: ``python -m benchmarks.segmentation ARCHIVE --model DIR --out DIR``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", type=Path, help="generated archive with label maps (synth --label-maps)")
    ap.add_argument("--model", type=Path, required=True, help="trained model folder (its frozen image encoder)")
    ap.add_argument("--out", type=Path, required=True, help="results folder")
    ap.add_argument("--tasks", default="segment,localize", help="comma-separated: segment, localize")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of " + ", ".join(METHODS))
    ap.add_argument("--structures", default="body", help="segmentation structure set or tissue list")
    ap.add_argument("--regions", default="", help="comma-separated body regions (default: the set's)")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--feature-size", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-split", default="test")
    ap.add_argument("--max-train", type=int, default=0)
    ap.add_argument("--max-eval", type=int, default=0)
    ap.add_argument("--distance-mm", type=float, default=15.0)
    ap.add_argument("--save-decoders", action="store_true")
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    split = lambda s: tuple(x.strip() for x in s.split(",") if x.strip())  # noqa: E731
    cfg = BenchCfg(archive=args.archive, model=args.model, out=args.out, tasks=split(args.tasks),
                   methods=split(args.methods), structures=args.structures, regions=split(args.regions),
                   steps=args.steps, batch_size=args.batch_size, lr=args.lr, feature_size=args.feature_size,
                   seed=args.seed, eval_split=args.eval_split, max_train=args.max_train, max_eval=args.max_eval,
                   distance_mm=args.distance_mm, save_decoders=args.save_decoders, cache_dir=args.cache_dir)
    results = run(cfg)
    print(report(results))
    return results


if __name__ == "__main__":  # pragma: no cover
    main()
