"""The learning rate as a pure function of the optimizer-update count (nanoGPT's get_lr)."""

from __future__ import annotations

import math

from pretrain.config import TrainCfg


def lr_at(step: int, cfg: TrainCfg) -> float:
    """Learning rate of optimizer update number `step`: linear warm-up from 0, then cosine down to `min_lr`.

    Updates are numbered from 1, so `lr_at(0, cfg) == 0` is the start of the warm-up, update `warmup_steps` runs at
    the peak `cfg.lr` and the last update (`total_steps`) at `cfg.min_lr`; beyond that the rate stays at `min_lr`.
    Being a function of the step alone is what makes a resumed run use the same rates as an uninterrupted one.

    Args:
        step: number of the optimizer update (the loop passes completed updates + 1).
        cfg: the run's config (lr, min_lr, warmup_steps, total_steps).

    Returns:
        The learning rate for that update.
    """
    if step < cfg.warmup_steps:
        return cfg.lr * step / cfg.warmup_steps
    if step >= cfg.total_steps:
        return cfg.min_lr
    progress = (step - cfg.warmup_steps) / (cfg.total_steps - cfg.warmup_steps)  # in [0, 1)
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)
