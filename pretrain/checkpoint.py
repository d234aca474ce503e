"""A checkpoint is a plain dict: model, optimizer, scaler, step, config, plus the RNG and data-order states that
make a resumed run continue bit-for-bit."""

from __future__ import annotations

import dataclasses
import logging
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mri_search.atomic import atomic_path
from pretrain.config import TrainCfg

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model inside a DistributedDataParallel (or torch.compile) wrapper, so keys carry no prefix."""
    model = getattr(model, "_orig_mod", model)
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def capture_rng_state() -> dict[str, Any]:
    """Python, NumPy, torch CPU and (when present) CUDA generator states, in types `torch.load(weights_only=True)`
    accepts (NumPy's key array becomes a tensor)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of `capture_rng_state`."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))  # a loaded tuple may come back as a list
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    step: int,
    cfg: TrainCfg,
    rng_state: Any,
    data_state: Any = None,
) -> Path:
    """Write the run's state to `path` atomically (a temporary file renamed over it), so a crash mid-write leaves
    the previous checkpoint intact.

    Args:
        path: destination file.
        model: the model (a DDP wrapper is unwrapped).
        optimizer: its optimizer.
        scaler: the fp16 loss scaler, or None (bf16 and fp32 need none).
        step: optimizer updates completed.
        cfg: the run's config, stored as a plain dict.
        rng_state: `capture_rng_state()`, or a list of them (one per rank) in a distributed run.
        data_state: the batch source's `state_dict()` (or a list per rank), None when it has none.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ckpt = {
        "format_version": FORMAT_VERSION,
        "model": unwrap(model).state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "step": step,
        "config": dataclasses.asdict(cfg),
        "rng": rng_state,
        "data": data_state,
    }
    with atomic_path(path) as tmp:  # a run killed while saving keeps its previous checkpoint
        torch.save(ckpt, tmp)
    return path


def load_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scaler: torch.amp.GradScaler | None = None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Load a checkpoint into `model` (and `optimizer`, `scaler` when given) and return the whole dict.

    The file is read with `weights_only=True`: a checkpoint holds tensors and plain containers, never code.
    RNG and data-order states are returned, not applied: the caller restores them at the right moment.
    """
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    if ckpt.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format {ckpt.get('format_version')!r}, this code reads {FORMAT_VERSION}")
    unwrap(model).load_state_dict(ckpt["model"])
    if optimizer is not None:
        optimizer.load_state_dict(ckpt["optimizer"])
    if scaler is not None and ckpt["scaler"] is not None:
        scaler.load_state_dict(ckpt["scaler"])
    return ckpt
