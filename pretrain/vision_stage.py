"""Stage 1, ``mri-search pretrain vision``: self-supervised pretraining of the image tower on unlabelled series.

Reads no report. Writes a model folder (``save_model``) whose image tower is the pretrained one (the report tower is
the untouched pretrained MiniLM, the projections untrained), which stage 2 takes as ``--init``; the training state
(``checkpoint.pt``, ``metrics.jsonl``) and ``errors.tsv`` sit beside it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from mri_search.model import build_model, get_preset, save_model
from mri_search.preprocess import default_preprocess
from pretrain import distributed
from pretrain.config import TrainCfg
from pretrain.data import VisionPairs, endless_batches
from pretrain.loop import train
from pretrain.prepare import DataCfg, prepare
from pretrain.ssl import METHODS, SSLObjective, view_retrieval

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VisionStageCfg:
    """The stage-1 model and objective."""

    preset: str = "vit-s-cpu"  # model preset (mri_search/model/presets); its img_size sets the preprocessing
    method: str = "contrastive"  # "contrastive", "mae" or "both" (pretrain.ssl). contrastive: the stage 1 after
    #   which stage 2 aligns best, measured end to end (docs/pretrain_results.md: after 120 steps of each and 100
    #   of alignment with the report tower's last layers tuned, ahead of MAE and of no stage 1 on held-out
    #   retrieval, paired bootstrap; with the report tower frozen it takes ~600 steps to help, which the shipped
    #   model uses); MAE gives the better linear-probe features but no gain in alignment
    temperature: float = 0.2  # contrastive InfoNCE temperature
    proj_dim: int = 128  # contrastive head output width
    mask_ratio: float = 0.75  # mae: fraction of patch tokens hidden from the encoder
    mae_weight: float = 1.0  # both: weight of the masked term

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")


def _val_views(ds: VisionPairs, batch_size: int) -> list[dict]:
    """Fixed validation view pairs (sample seed = index), collated into batches."""
    samples = [ds[(i, i)] for i in range(len(ds))]
    return [VisionPairs.collate(samples[s:s + batch_size]) for s in range(0, len(samples), batch_size)]


def make_eval(val_batches: list[dict], device: torch.device):
    """``eval_fn`` of stage 1: validation objective loss and view retrieval recall@1 on pooled features."""

    def eval_fn(objective: SSLObjective, step: int) -> dict[str, float]:
        torch.manual_seed(0)  # the same masks at every evaluation (the loop restores the RNG afterwards)
        losses, f1, f2 = [], [], []
        for b in val_batches:
            v1, v2, gid = b["view1"].to(device), b["view2"].to(device), b["study_id"].to(device)
            losses.append(float(objective(v1, v2, gid)))
            f1.append(objective.visual.forward_features(v1).cpu())
            f2.append(objective.visual.forward_features(v2).cpu())
        return {"val_loss": sum(losses) / len(losses), "view_r@1": view_retrieval(torch.cat(f1), torch.cat(f2))}

    return eval_fn


def run_vision(data: DataCfg, stage: VisionStageCfg, cfg: TrainCfg, resume: bool = False) -> dict[str, Any]:
    """Run stage 1 and save the model folder to ``cfg.out_dir``.

    Returns:
        A summary: data counts, first and last training loss, evaluations, wall time, throughput, data-wait share.
    """
    t0 = time.perf_counter()
    info = distributed.init_distributed()
    out = Path(cfg.out_dir)
    model = build_model(get_preset(stage.preset))
    pcfg = default_preprocess(model.cfg.vision.img_size)
    prepared = prepare(data, pcfg, out)
    objective = SSLObjective(model.visual, stage.method, stage.temperature, stage.proj_dim, stage.mask_ratio,
                             stage.mae_weight, rank=info.rank, world_size=info.world_size)
    batches = endless_batches(VisionPairs(prepared.train, prepared.cache), cfg.batch_size, seed=cfg.seed,
                              num_workers=data.num_workers, rank=info.rank, world_size=info.world_size,
                              pin_memory=info.device.type == "cuda")
    val = _val_views(VisionPairs(prepared.val, prepared.cache), cfg.batch_size)

    def loss_fn(net, batch):
        return net(batch["view1"], batch["view2"], batch["study_id"])

    result = train(objective, loss_fn, batches, cfg, eval_fn=make_eval(val, info.device), resume=resume)
    batches.close()
    summary = summarise(result, prepared.summary(), time.perf_counter() - t0)
    if info.is_main:
        recipe = {"stage": "vision", "vision": asdict(stage), "train": asdict(cfg), "data": data.to_recipe()}
        save_model(model, out, pcfg, recipe=recipe, data_fingerprint=prepared.fingerprint,
                   metrics={"stage1": summary["last_eval"]})
    return summary


def summarise(result: dict, data_summary: dict, wall_s: float) -> dict[str, Any]:
    """The figures a closing note needs, from ``train``'s result."""
    hist = result["history"]
    return {
        **data_summary,
        "steps": result["step"],
        "first_loss": hist[0]["loss"] if hist else None,
        "last_loss": hist[-1]["loss"] if hist else None,
        "vol_per_s": sum(h["vol_per_s"] for h in hist) / len(hist) if hist else None,
        "data_wait_fraction": sum(h["data_wait_fraction"] for h in hist) / len(hist) if hist else None,
        "first_eval": result["evals"][0] if result["evals"] else None,
        "last_eval": result["evals"][-1] if result["evals"] else None,
        "wall_s": wall_s,
    }
