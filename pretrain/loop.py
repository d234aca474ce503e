"""The training loop: flat, model-agnostic, resumable bit-for-bit (after nanoGPT's train.py).

One optimizer update ("step") = `accum_steps` micro-batches: forward under bf16 autocast on GPU, backward of
loss / accum_steps (DDP's all-reduce only on the last micro-batch), gradient clipping, the learning rate set from
`lr_at(step)`, AdamW. Logging, checkpoints and evaluation happen between steps, never inside one.

Contrastive losses and accumulation: negatives come from one micro-batch (gathered across ranks), so raising
`accum_steps` does not enlarge the contrastive batch; grow batch_size or the number of ranks for that.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from mri_search.atomic import atomic_write_text
from pretrain import distributed
from pretrain.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint, unwrap
from pretrain.config import TrainCfg
from pretrain.optim import make_optimizer
from pretrain.schedule import lr_at

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor in a (nested) dict / list / tuple to `device`; anything else passes through."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _trim_metrics(path: Path, last_step: int) -> None:
    """Drop metric lines written after the checkpoint we resume from, so the log reads as one uninterrupted run."""
    if not path.exists():
        return
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and json.loads(ln)["step"] <= last_step]
    atomic_write_text(path, "".join(ln + "\n" for ln in lines))


def train(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
    train_batches: Iterable,
    cfg: TrainCfg,
    eval_fn: Callable[[nn.Module, int], dict[str, float]] | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Train `model` for `cfg.total_steps` optimizer updates (or the rest of them when resuming).

    Under torchrun the process group is joined from the environment and the model wrapped in
    DistributedDataParallel; each rank must then get its own shard of the data from `train_batches`.

    Args:
        model: the model, on any device; it is moved to cuda:LOCAL_RANK when a GPU is present, else stays on CPU.
        loss_fn: `loss_fn(model, batch) -> scalar loss` on one micro-batch (already on the device). Under DDP
            `model` is the wrapper and the loss must go through `model(...)` (its forward), not another method.
        train_batches: an endless iterable of micro-batches (cycle epochs inside it). For an exact resume it also
            has `state_dict()` / `load_state_dict(d)` describing the position of the next batch to be yielded
            (torchdata's StatefulDataLoader has them); without them a resumed run restarts its data order.
        cfg: the run's config.
        eval_fn: `eval_fn(model, step) -> {name: value}`, called on every rank with the bare model in eval mode
            under no_grad every `cfg.eval_every` steps and after the last; RNG states are restored afterwards,
            so evaluating never changes the training run.
        resume: continue from `cfg.out_dir/checkpoint.pt` when it exists (model, optimizer, step, RNG and data
            states); otherwise start afresh.

    Returns:
        {"step": updates completed, "history": train metric records of this call, "evals": eval records,
         "checkpoint": path of the last checkpoint}.
    """
    info = distributed.init_distributed()
    out_dir = Path(cfg.out_dir)
    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    model.to(info.device)
    run = _Run(cfg=cfg, info=info, model=model, optimizer=make_optimizer(model, cfg), train_batches=train_batches,
               ckpt_path=out_dir / CHECKPOINT, metrics_path=out_dir / METRICS,
               use_bf16=cfg.precision == "bf16" and info.device.type == "cuda")
    if cfg.precision == "bf16" and not run.use_bf16:
        log.info("precision bf16 asked for but no GPU: training in fp32")
    step = _start(run, resume)
    ddp = info.world_size > 1
    net = DistributedDataParallel(model, device_ids=[info.device.index] if info.device.type == "cuda" else None) \
        if ddp else model

    history, evals = [], []
    batches = iter(train_batches)
    vols_per_step = cfg.batch_size * cfg.accum_steps * info.world_size
    bar = tqdm(total=cfg.total_steps, initial=step, disable=not info.is_main, unit="step", dynamic_ncols=True)
    if eval_fn is not None and cfg.eval_at_start and step == 0:
        evals.append(run.evaluate(eval_fn, step))
    window_start, window_wait, window_steps = time.perf_counter(), 0.0, 0
    model.train()
    while step < cfg.total_steps:
        lr = lr_at(step + 1, cfg)  # this update is number step + 1
        for group in run.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        loss_sum, grad_norm, wait = _update(run, net, batches, loss_fn, step, ddp)
        window_wait += wait
        step += 1
        window_steps += 1
        bar.update(1)

        if step % cfg.log_every == 0 or step == cfg.total_steps:
            loss_val = distributed.all_reduce_mean(loss_sum / cfg.accum_steps).item()  # syncs the GPU: timing is true
            elapsed = time.perf_counter() - window_start
            record = {"step": step, "split": "train", "lr": lr, "loss": loss_val,
                      "grad_norm": float(grad_norm) if grad_norm is not None else None,
                      "vol_per_s": vols_per_step * window_steps / elapsed,
                      "data_wait_fraction": window_wait / elapsed}
            if not math.isfinite(loss_val):
                log.warning("step %d: loss is %s", step, loss_val)
            history.append(record)
            run.write(record)
            bar.set_postfix(loss=f"{loss_val:.4f}", lr=f"{lr:.2e}", vol_s=f"{record['vol_per_s']:.1f}")
            window_start, window_wait, window_steps = time.perf_counter(), 0.0, 0
        if (cfg.ckpt_every and step % cfg.ckpt_every == 0) or step == cfg.total_steps:
            run.checkpoint(step)
        if eval_fn is not None and ((cfg.eval_every and step % cfg.eval_every == 0) or step == cfg.total_steps):
            evals.append(run.evaluate(eval_fn, step))
    bar.close()
    distributed.barrier()
    return {"step": step, "history": history, "evals": evals, "checkpoint": str(run.ckpt_path)}


@dataclass
class _Run:
    """What ``train`` and its steps share: the config, this process, the model and optimizer, the run's files."""

    cfg: TrainCfg
    info: Any  # distributed.DistInfo: rank, world size, device
    model: nn.Module
    optimizer: torch.optim.Optimizer
    train_batches: Iterable
    ckpt_path: Path
    metrics_path: Path
    use_bf16: bool

    def autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.use_bf16 else contextlib.nullcontext()

    def checkpoint(self, step: int) -> None:
        """Every rank's RNG and data state gathered; the main rank writes them with the model and optimizer."""
        rng, data = distributed.gather_objects(capture_rng_state()), distributed.gather_objects(
            self.train_batches.state_dict() if hasattr(self.train_batches, "state_dict") else None)
        if self.info.is_main:
            save_checkpoint(self.ckpt_path, self.model, self.optimizer, None, step, self.cfg, rng, data)

    def evaluate(self, eval_fn, step: int) -> dict[str, Any]:
        """``eval_fn`` on the bare model in eval mode, RNG states restored afterwards; the record is written."""
        rng = capture_rng_state()
        self.model.eval()
        with torch.no_grad(), self.autocast():
            result = {"step": step, "split": "val", **eval_fn(unwrap(self.model), step)}
        self.model.train()
        restore_rng_state(rng)
        if self.info.is_main:
            log.info("step %d eval: %s", step, result)
        self.write(result)
        return result

    def write(self, record: dict) -> None:
        if self.info.is_main:
            with self.metrics_path.open("a") as f:
                f.write(json.dumps(record) + "\n")


def _start(run: _Run, resume: bool) -> int:
    """The step to start from: the checkpoint's when resuming from one (metrics after it dropped), else 0 with
    fresh seeds and metrics."""
    info = run.info
    if resume and run.ckpt_path.exists():
        step = _restore(run.ckpt_path, run.model, run.optimizer, run.train_batches, run.cfg, info)
        if info.is_main:
            _trim_metrics(run.metrics_path, step)
        return step
    if resume:
        log.warning("--resume: no checkpoint at %s, starting from step 0", run.ckpt_path)
    seed_everything(run.cfg.seed + info.rank)
    if info.is_main and run.metrics_path.exists():
        run.metrics_path.unlink()
    return 0


def _update(run: _Run, net: nn.Module, batches, loss_fn, step: int, ddp: bool):
    """One optimizer update over ``cfg.accum_steps`` micro-batches (DDP syncs gradients on the last only).

    Returns:
        (the summed micro-batch losses, the gradient norm before clipping or None, seconds spent waiting for data).
    """
    cfg = run.cfg
    loss_sum = torch.zeros((), device=run.info.device)
    wait = 0.0
    for micro in range(cfg.accum_steps):
        t = time.perf_counter()
        try:
            batch = next(batches)
        except StopIteration:
            raise ValueError(f"train_batches ran out at step {step}: make it endless (cycle epochs inside it)"
                             ) from None
        wait += time.perf_counter() - t
        batch = to_device(batch, run.info.device)
        last = micro == cfg.accum_steps - 1
        with (contextlib.nullcontext() if last or not ddp else net.no_sync()):
            with run.autocast():
                loss = loss_fn(net, batch)
            (loss / cfg.accum_steps).backward()
        loss_sum += loss.detach().float()
    grad_norm = nn.utils.clip_grad_norm_(run.model.parameters(), cfg.grad_clip) if cfg.grad_clip > 0 else None
    run.optimizer.step()
    run.optimizer.zero_grad(set_to_none=True)
    return loss_sum, grad_norm, wait


def _restore(ckpt_path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, train_batches: Iterable,
             cfg: TrainCfg, info: distributed.DistInfo) -> int:
    """Load the checkpoint into model and optimizer, restore this rank's RNG and data-order states; return the step."""
    # to the CPU: RNG and generator states must stay there; load_state_dict copies weights to their device
    ckpt = load_checkpoint(ckpt_path, model, optimizer, map_location="cpu")
    step = ckpt["step"]
    changed = {k: (v, getattr(cfg, k)) for k, v in ckpt["config"].items()
               if hasattr(cfg, k) and _differs(v, getattr(cfg, k))}
    if changed:
        log.warning("resuming with a changed config {name: (checkpoint, now)}: %s", changed)
    rngs, datas = ckpt["rng"], ckpt["data"]
    if len(rngs) == info.world_size:
        restore_rng_state(rngs[info.rank])
    else:
        log.warning("checkpoint from %d ranks, now %d: RNG streams reseeded, the resume is not bit-exact",
                    len(rngs), info.world_size)
        seed_everything(cfg.seed + info.rank + step)
    if hasattr(train_batches, "load_state_dict") and len(datas) == info.world_size and datas[info.rank] is not None:
        train_batches.load_state_dict(datas[info.rank])
    else:
        log.warning("the data order cannot be restored (no state_dict, or the rank count changed): it restarts")
    log.info("resumed from %s at step %d", ckpt_path, step)
    return step


def _differs(a: Any, b: Any) -> bool:
    """Config values compared across a JSON-ish round trip (tuples stored as lists)."""
    return (list(a) if isinstance(a, (list, tuple)) else a) != (list(b) if isinstance(b, (list, tuple)) else b)
