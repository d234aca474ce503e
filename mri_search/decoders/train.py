"""Fit a decoder: a flat loop of AdamW steps on random batches of prepared pairs (frozen encoder, no augmentation).

Losses are MONAI's: ``DiceCELoss`` over the structure classes (segmentation), ``DiceFocalLoss`` on the sigmoid
lesion heatmap (localisation; Dice over the whole batch, so batches without a lesion do not divide by zero),
against the lesion mask max-pooled to the heatmap's resolution (a lesion smaller than a heatmap voxel still marks
its voxel).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import FitCfg

log = logging.getLogger(__name__)


def lr_at(step: int, cfg: FitCfg) -> float:
    """Learning rate of (0-based) ``step``: linear warm-up over 5 % of the steps, then cosine to lr / 20."""
    warm = max(1, cfg.steps // 20)
    if step < warm:
        return cfg.lr * (step + 1) / warm
    t = (step - warm) / max(1, cfg.steps - warm)
    return cfg.lr / 20 + (cfg.lr - cfg.lr / 20) * 0.5 * (1 + math.cos(math.pi * t))


def task_loss(task: str) -> nn.Module:
    """MONAI's loss for the task: ``DiceCELoss`` (softmax, one-hot target) or ``DiceFocalLoss`` (sigmoid)."""
    from monai.losses import DiceCELoss, DiceFocalLoss

    if task == "segment":
        return DiceCELoss(to_onehot_y=True, softmax=True)
    return DiceFocalLoss(sigmoid=True, batch=True)


def heatmap_target(target: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """``[B, 1, S, S, S]`` 0/1 mask -> float ``[B, 1, *shape]`` by max-pooling (no lesion vanishes)."""
    t = target.float()
    return t if tuple(t.shape[2:]) == tuple(shape) else F.adaptive_max_pool3d(t, shape)


def _param_groups(net: nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for p in net.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def fit(net: nn.Module, samples: list[dict], task: str, cfg: FitCfg,
        on_log: Callable[[dict], None] | None = None) -> list[dict]:
    """Train ``net``'s trainable parameters on ``samples`` for ``cfg.steps`` steps (in place).

    Args:
        net: the decoder network (a frozen encoder inside stays frozen).
        samples: prepared pairs (``data.prepare``): ``image`` ``[1, S, S, S]``, ``target`` ``[1, S, S, S]``.
        task: "segment" or "localize".
        cfg: steps, batch size, learning rate, seed.
        on_log: called with each metrics line (step, loss, lr, seconds).

    Returns:
        The metrics lines.
    """
    if not samples:
        raise ValueError("no training pairs: nothing to fit")
    rng = np.random.default_rng(cfg.seed)
    loss_fn = task_loss(task)
    opt = torch.optim.AdamW(_param_groups(net, cfg.weight_decay), lr=cfg.lr)
    net.train()
    lines, running, t0 = [], [], time.perf_counter()
    for step in range(cfg.steps):
        idx = rng.choice(len(samples), size=cfg.batch_size, replace=len(samples) < cfg.batch_size)
        x = torch.stack([samples[i]["image"] for i in idx]).float()  # [B, 1, S, S, S]
        y = torch.stack([samples[i]["target"] for i in idx])  # [B, 1, S, S, S] uint8
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        logits = net(x)
        target = y.long() if task == "segment" else heatmap_target(y, tuple(logits.shape[2:]))
        loss = loss_fn(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running.append(float(loss.detach()))
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            line = {"step": step + 1, "loss": float(np.mean(running)), "lr": lr_at(step, cfg),
                    "seconds": round(time.perf_counter() - t0, 2)}
            running = []
            lines.append(line)
            log.info("step %d/%d loss %.4f", step + 1, cfg.steps, line["loss"])
            if on_log is not None:
                on_log(line)
    net.eval()
    return lines
