"""Configuration of a training run: one frozen dataclass, built with `TrainCfg(**d)` so an unknown key fails."""

from __future__ import annotations

from dataclasses import dataclass

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainCfg:
    """Optimisation, schedule, precision and bookkeeping of one run (stage 1 or stage 2 alike)."""

    lr: float = 3e-4  # peak learning rate, reached at the end of the warm-up
    min_lr: float = 3e-5  # learning rate at total_steps, the floor of the cosine
    warmup_steps: int = 500  # linear warm-up from 0 over this many optimizer updates
    total_steps: int = 20_000  # optimizer updates in the whole run (the schedule's length)
    weight_decay: float = 0.05  # AdamW decay, applied to >=2-D weights only (see pretrain.optim.param_groups)
    betas: tuple[float, float] = (0.9, 0.98)  # AdamW betas; 0.98 as in CLIP training, steadier at large batch
    eps: float = 1e-8  # AdamW epsilon
    lr_scales: tuple[tuple[str, float], ...] = ()  # (parameter-name prefix, learning-rate multiplier) pairs
    grad_clip: float = 1.0  # max global gradient norm; 0 turns clipping off
    batch_size: int = 32  # volumes per micro-batch on one process (used for throughput and by data loaders)
    accum_steps: int = 1  # micro-batches summed into one optimizer update
    precision: str = "bf16"  # "bf16": autocast to bfloat16 on GPU (CPU always runs fp32); "fp32": no autocast
    seed: int = 0  # base seed; process r seeds its RNGs with seed + r so dropout masks differ across ranks
    log_every: int = 10  # write a metrics line (and refresh the progress bar) every this many updates
    eval_every: int = 1000  # call eval_fn every this many updates (and after the last one); 0: never
    eval_at_start: bool = True  # also evaluate before the first update of a fresh run (the untrained baseline)
    ckpt_every: int = 1000  # write out_dir/checkpoint.pt every this many updates (and after the last one); 0: end only
    out_dir: str = "runs/pretrain"  # holds checkpoint.pt and metrics.jsonl

    @classmethod
    def for_run(cls, *, lr: float, total_steps: int, warmup_steps: int | None = None, log_every: int = 10,
                **rest) -> TrainCfg:
        """A run's config with the schedule's defaults filled in from its length and peak rate.

        The policy: warm-up over 5 % of the updates (at least 1) unless given, a cosine floor of ``lr / 10``, and
        neither the warm-up nor the logging interval longer than the run.

        Args:
            lr: peak learning rate.
            total_steps: optimizer updates in the run.
            warmup_steps: warm-up updates (None: ``total_steps // 20``, at least 1).
            log_every: metrics line interval (capped at ``total_steps``).
            **rest: any other field of ``TrainCfg``.
        """
        warm = max(1, total_steps // 20) if warmup_steps is None else warmup_steps
        return cls(lr=lr, min_lr=lr / 10, warmup_steps=min(warm, total_steps), total_steps=total_steps,
                   log_every=min(log_every, total_steps), **rest)

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {self.total_steps}")
        if not 0 <= self.warmup_steps <= self.total_steps:
            raise ValueError(f"warmup_steps must lie in [0, total_steps={self.total_steps}], got {self.warmup_steps}")
        if not 0 <= self.min_lr <= self.lr:
            raise ValueError(f"need 0 <= min_lr <= lr, got min_lr={self.min_lr}, lr={self.lr}")
        if self.accum_steps < 1 or self.batch_size < 1:
            raise ValueError(f"accum_steps and batch_size must be >= 1, got {self.accum_steps}, {self.batch_size}")
        if min(self.log_every, self.eval_every, self.ckpt_every) < 0 or self.log_every == 0:
            raise ValueError("log_every must be >= 1; eval_every and ckpt_every >= 0 (0: only at the end / never)")
        # JSON round trips turn tuples into lists; accept both so TrainCfg(**json.load(f)) works
        object.__setattr__(self, "betas", tuple(self.betas))
        object.__setattr__(self, "lr_scales", tuple((str(p), float(m)) for p, m in self.lr_scales))
        if any(m < 0 for _, m in self.lr_scales):
            raise ValueError(f"lr_scales multipliers must be >= 0, got {self.lr_scales}")
