"""Training-throughput benchmark: series per second of each pretraining step, per model preset, on this machine.

Times the real steps (forward, loss, backward, AdamW) of stage 1 (contrastive, mae) and stage 2 (CLIP, with report
texts of typical length) on random volumes, so data loading is excluded. Stage 2 twice: ``align``, every text new
to the frozen report backbone's feature cache (a first epoch), and ``align-warm``, every text already in it (the
later epochs of a run, whose texts come from a fixed set): the step's own ceiling, to set against
the ``vol_per_s`` and ``data_wait_fraction`` a real run logs. On a GPU it runs under bf16 autocast and reports model
FLOPs utilisation: FLOPs counted by ``torch.utils.flop_counter`` for one step, per second, over the device's peak.
It lives in ``pretrain/`` because it measures this package's steps (benchmarks/ may not import pretrain/).

    python -m pretrain.throughput --presets vit-s-cpu,vit-b-gpu --batch-size 4 --steps 5 --out throughput.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from mri_search.model import build_model, get_preset
from pretrain.config import TrainCfg
from pretrain.losses import ContrastiveLoss
from pretrain.optim import make_optimizer
from pretrain.ssl import SSLObjective

# a typical generated report's findings + impression (about 170 word pieces)
REPORT = ("FINDINGS: There is a 23 mm heterogeneous T2 hyperintense mass centred in the left parotid gland, deep lobe, "
          "with restricted diffusion and avid enhancement. Ipsilateral level II lymph node measures 14 mm in short "
          "axis with loss of the fatty hilum. The contralateral parotid and submandibular glands are normal. "
          "The oropharynx, larynx and hypopharynx are unremarkable. No skull base invasion. Visualised brain "
          "parenchyma is normal. IMPRESSION: 1. Left parotid deep lobe mass with features suspicious for "
          "malignancy. 2. Suspicious left level II lymph node. Recommend tissue sampling.")

PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12}  # dense, vendor data sheets


def _peak(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16_FLOPS.items() if k in name), None)


def _steps(kind: str, preset: str, batch: int, device: torch.device):
    """(module to optimise, one-step closure returning the loss)."""
    model = build_model(get_preset(preset)).to(device)
    s = model.cfg.vision.img_size
    vol = torch.rand(batch, 1, s, s, s, device=device)
    if kind in ("contrastive", "mae"):
        obj = SSLObjective(model.visual, kind).to(device)
        vol2 = torch.rand_like(vol)
        ids = torch.arange(batch, device=device)
        return obj, lambda: obj(vol, vol2, ids)
    model.use_logit_bias(False)
    if model.cfg.text.tune == "frozen":
        model.text.cache_features(True)  # as pretrain align runs it
    loss = ContrastiveLoss("clip")
    fresh = kind == "align"  # every step's texts never seen before (a first epoch); align-warm: seen (later ones)
    count = iter(range(10**9))

    def step():
        n = next(count) if fresh else 0
        texts = [f"{REPORT} Series {n * batch + i}." for i in range(batch)]
        tokens = {k: v.to(device) for k, v in model.tokenize(texts).items()}
        o = model(vol, tokens)
        return loss(o["image_features"], o["text_features"], o["logit_scale"])
    return model, step


def measure(kind: str, preset: str, batch: int, steps: int, warmup: int = 2) -> dict:
    """Series per second (and MFU on GPU) of one step kind."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    module, step = _steps(kind, preset, batch, device)
    opt = make_optimizer(module, TrainCfg(total_steps=1, warmup_steps=0))
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()

    def one():
        with amp:
            loss = step()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        one()
    flops = None
    if device.type == "cuda":
        counter = FlopCounterMode(display=False)
        with counter:
            one()
        flops = counter.get_total_flops()
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        one()
    if device.type == "cuda":
        torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / steps
    peak = _peak(device)
    return {"kind": kind, "preset": preset, "batch_size": batch, "s_per_step": dt, "series_per_s": batch / dt,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
            "threads": torch.get_num_threads(), "precision": "bf16" if device.type == "cuda" else "fp32",
            "mfu": flops / dt / peak if flops and peak else None}


def main() -> None:  # pragma: no cover - thin script entry
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presets", default="vit-s-cpu,vit-b-gpu")
    ap.add_argument("--kinds", default="contrastive,mae,align,align-warm")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args()
    rows = []
    for preset in args.presets.split(","):
        for kind in args.kinds.split(","):
            try:
                rows.append(measure(kind, preset, args.batch_size, args.steps))
            except ValueError as exc:  # a step this preset does not support (MAE with a conv stem)
                rows.append({"kind": kind, "preset": preset, "unsupported": str(exc).split(":")[0]})
            print(json.dumps(rows[-1]), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":  # pragma: no cover
    main()
