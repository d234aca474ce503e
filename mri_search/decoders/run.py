"""What ``mri-search segment|localize train|eval`` do, and the pieces the segmentation benchmark reuses.

Training reads an archive generated with label maps, keeps the manifest's ``train`` split (of the structure
set's regions), prepares every pair once (in memory, images as float16), fits the decoder for a fixed number of
steps and writes the decoder folder. Evaluation runs a decoder folder on another split (``test`` by default) and
scores it on each series' own grid: Dice per structure, or lesion detection and box IoU.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..preprocess import PreprocessConfig, default_cache_dir, default_preprocess
from .artifact import LoadedDecoder, encoder_record, load_decoder, save_decoder
from .config import DecoderCfg, FitCfg
from .data import Case, PairLoader, archive_cases, prepare
from .infer import model_grid_probs, native_classes
from .labels import read_label_table
from .metrics import blobs, dice_per_class, match, summarise_localisation
from .nets import build_net
from .structures import StructureSet, resolve_structures
from .train import fit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainRun:
    """One ``train`` command."""

    archive: Path  # generated archive with label maps (mri-search synth --label-maps)
    out: Path  # decoder folder to write
    decoder: DecoderCfg  # task, head, encoder kind
    fit: FitCfg = field(default_factory=FitCfg)  # steps, batch, lr, seed
    model: Path | None = None  # model folder: the encoder (trained/random architecture) and the preprocessing
    structures: str = "body"  # structure set name or comma-separated tissues (segment)
    regions: tuple[str, ...] = ()  # body regions trained on (empty: the structure set's own, else all)
    max_series: int = 0  # at most this many training series (0: all)
    cache_dir: Path | None = None  # preprocessing cache (default $MRI_SEARCH_CACHE or ~/.cache/mri-search)


@dataclass
class Encoder:
    """The encoder side of a decoder: the frozen tower (or None), its preprocessing and what the folder records."""

    visual: nn.Module | None
    preprocess: PreprocessConfig
    record: dict


def encoder_for(model: Path | None, kind: str, seed: int = 0) -> Encoder:
    """The image tower a decoder of encoder ``kind`` sits on, and the preprocessing its inputs go through.

    ``trained``: the model folder's tower; ``random``: the same architecture freshly initialised (seeded);
    ``none`` (UNet baseline): no tower, the model's preprocessing (or the default 96^3 at 3 mm without a model).
    """
    if kind == "none" and model is None:
        return Encoder(None, default_preprocess(96), {})
    if model is None:
        raise ValueError("--model is required: the decoder sits on that model's image encoder")
    from ..model import ModelCfg, load_image_tower
    from ..model.vision import VisionEncoder

    tower, pre, meta = load_image_tower(model)
    cfg = ModelCfg.from_dict(meta["model"])
    if kind == "trained":
        visual = tower
    elif kind == "random":
        torch.manual_seed(seed)
        visual = VisionEncoder(cfg.vision, cfg.embed_dim)
    else:
        visual = None
    return Encoder(visual, pre, encoder_record(model, cfg.to_dict(), kind))


def structures_for(task: str, spec: str, archive: Path) -> tuple[StructureSet | None, set[int]]:
    """The segmentation classes (None for localisation) and the label values the archive's table allows."""
    table = read_label_table(archive)
    known = set(table.values())
    return (resolve_structures(spec, table) if task == "segment" else None), known


def train_decoder(samples: list[dict], cfg: DecoderCfg, fit_cfg: FitCfg, encoder: nn.Module | None,
                  out_channels: int, on_log: Callable[[dict], None] | None = None) -> tuple[nn.Module, list[dict]]:
    """Build the decoder network (seeded) on ``encoder`` and fit it on ``samples``."""
    torch.manual_seed(fit_cfg.seed)
    net = build_net(cfg, out_channels, encoder)
    lines = fit(net, samples, cfg.task, fit_cfg, on_log)
    return net, lines


def run_train(run: TrainRun, on_log: Callable[[dict], None] | None = None) -> dict:
    """Train one decoder and write its folder; returns a summary (pairs, final loss, seconds, folder)."""
    structures, known = structures_for(run.decoder.task, run.structures, run.archive)
    regions = run.regions or (structures.regions if structures else ())
    cases = archive_cases(run.archive, splits=("train",), regions=regions, max_series=run.max_series)
    encoder = encoder_for(run.model, run.decoder.encoder, run.fit.seed)
    loader = PairLoader(encoder.preprocess, run.cache_dir or default_cache_dir(), run.decoder.task, structures,
                        known)
    samples = prepare(cases, loader)
    out_channels = structures.num_classes if structures else 1
    net, lines = train_decoder(samples, run.decoder, run.fit, encoder.visual, out_channels, on_log)
    metrics = {"train_series": len(samples), "regions": list(regions), "log": lines}
    save_decoder(run.out, net, run.decoder, run.fit, encoder.preprocess, structures, encoder.record, metrics)
    (Path(run.out) / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return {"decoder": str(run.out), "task": run.decoder.task, "arch": run.decoder.arch,
            "encoder": run.decoder.encoder, "train_series": len(samples), "steps": run.fit.steps,
            "final_loss": lines[-1]["loss"], "seconds": lines[-1]["seconds"],
            "structures": list(structures.names) if structures else None}


def evaluate_segmentation(net: nn.Module, samples: list[dict], loader: PairLoader,
                          structures: StructureSet) -> dict:
    """Dice per structure on each series' own grid (and on the model grid), mean over the series that hold it."""
    native, model_grid = [], []
    for s in samples:
        probs = model_grid_probs(net, s["image"], "segment")
        model_grid.append(dice_per_class(probs.argmax(0), s["target"][0].long(), structures.num_classes))
        case: Case = s["case"]
        truth = loader.native_target(case)[0].as_tensor()
        pred = torch.from_numpy(native_classes(probs, s["affine"], case.record))
        native.append(dice_per_class(pred, truth, structures.num_classes))
    return {"series": len(samples), **_dice_table(np.array(native), structures.names, ""),
            **_dice_table(np.array(model_grid), structures.names, "_model_grid")}


def _dice_table(d: np.ndarray, names: tuple[str, ...], suffix: str) -> dict:
    with np.errstate(invalid="ignore"):
        counts = (~np.isnan(d)).sum(0) if d.size else np.zeros(len(names), int)
        means = [float(np.nanmean(d[:, i])) if counts[i] else None for i in range(len(names))]
    present = [m for m in means if m is not None]
    return {f"dice{suffix}": dict(zip(names, means)), f"mean_dice{suffix}": float(np.mean(present)) if present
            else None, f"series_with{suffix}": dict(zip(names, (int(c) for c in counts)))}


def evaluate_localisation(net: nn.Module, samples: list[dict], loader: PairLoader, distance_mm: float = 15.0,
                          threshold: float = 0.5, min_lesion_mm3: float = 50.0) -> dict:
    """Lesion detection rate within ``distance_mm``, mean box IoU, false positives per series and the series-level
    AUROC of the peak lesion probability; ground truth = components of each series' own lesion mask."""
    per_series = []
    for s in samples:
        case: Case = s["case"]
        mask = loader.native_target(case)
        gt = blobs(mask[0].as_tensor().numpy(), mask.affine.numpy(), 0.5, min_lesion_mm3)
        prob = model_grid_probs(net, s["image"], "localize")[0].numpy()
        pred = blobs(prob, s["affine"].numpy(), threshold)
        m = match(gt, pred, distance_mm)
        per_series.append({**m, "has_lesion": bool(gt), "score": float(prob.max())})
    return summarise_localisation(per_series, distance_mm)


def run_eval(archive: Path, decoder: Path, split: str = "test", regions: tuple[str, ...] = (), max_series: int = 0,
             distance_mm: float = 15.0, threshold: float = 0.5, min_lesion_mm3: float = 50.0,
             cache_dir: Path | None = None, model: Path | None = None) -> dict:
    """Score a decoder folder on one split of a generated archive."""
    loaded: LoadedDecoder = load_decoder(decoder, model)
    known = set(read_label_table(archive).values())
    regions = regions or tuple(loaded.meta.get("metrics", {}).get("regions") or ())
    cases = archive_cases(archive, splits=(split,), regions=regions, max_series=max_series)
    loader = PairLoader(loaded.preprocess, cache_dir or default_cache_dir(), loaded.task, loaded.structures, known)
    samples = prepare(cases, loader)
    if loaded.task == "segment":
        scores = evaluate_segmentation(loaded.net, samples, loader, loaded.structures)
    else:
        scores = evaluate_localisation(loaded.net, samples, loader, distance_mm, threshold, min_lesion_mm3)
    return {"decoder": str(decoder), "task": loaded.task, "split": split, "regions": list(regions), **scores}
