"""Two CPU processes on gloo reproduce one process on the same global batch: losses and updated weights.

Each configuration runs the real loop (`pretrain.loop.train`) for two steps: DDP wrapping, features gathered
across ranks with gradients, same-study masking across ranks, loss averaged for the log.
"""

from __future__ import annotations

import math
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from pretrain.config import TrainCfg
from pretrain.distributed import cleanup
from pretrain.losses import ContrastiveLoss
from pretrain.loop import train

GLOBAL_BATCH, WORLD, STEPS = 6, 2, 2
# study 1 has two series, one on each rank (global rows 2 and 3): the mask must work on gathered ids
GROUPS = torch.tensor([0, 4, 1, 1, 2, 3])
CASES = [("clip", False), ("clip", True), ("siglip", False), ("siglip", True)]  # (kind, mask same-study pairs)


class TwoTower(nn.Module):
    def __init__(self, with_bias: bool):
        super().__init__()
        torch.manual_seed(0)
        self.visual = nn.Sequential(nn.Linear(10, 16), nn.GELU(), nn.Linear(16, 8))
        self.embed = nn.Embedding(20, 8)
        self.text = nn.Linear(8, 8)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(10.0)))
        # DDP (find_unused_parameters=False) needs every parameter in the loss: CLIP models carry no bias
        self.logit_bias = nn.Parameter(torch.tensor(-2.0)) if with_bias else None

    def forward(self, volume, tokens):
        img = nn.functional.normalize(self.visual(volume), dim=-1)
        txt = nn.functional.normalize(self.text(self.embed(tokens).mean(dim=1)), dim=-1)
        return {"image_features": img, "text_features": txt, "logit_scale": self.logit_scale.exp(),
                "logit_bias": self.logit_bias}


class ShardedBatches:
    """The same global batches for every world size; rank r gets rows [r*B/W, (r+1)*B/W)."""

    def __init__(self, rank: int, world: int):
        gen = torch.Generator().manual_seed(42)
        self.batches, per = [], GLOBAL_BATCH // world
        for _ in range(STEPS):
            volume, tokens = torch.randn(GLOBAL_BATCH, 10, generator=gen), torch.randint(0, 20, (GLOBAL_BATCH, 5),
                                                                                         generator=gen)
            rows = slice(rank * per, (rank + 1) * per)
            self.batches.append({"volume": volume[rows], "tokens": tokens[rows], "study_id": GROUPS[rows]})

    def __iter__(self):
        return iter(self.batches)


def run_cases(rank: int, world: int, out_dir: str) -> dict:
    results = {}
    for kind, masked in CASES:
        criterion = ContrastiveLoss(kind, rank=rank, world_size=world)

        def loss_fn(model, batch):
            out = model(batch["volume"], batch["tokens"])
            bias = out["logit_bias"] if kind == "siglip" else None
            return criterion(out["image_features"], out["text_features"], out["logit_scale"], bias,
                             group_ids=batch["study_id"] if masked else None)

        cfg = TrainCfg(lr=0.05, min_lr=0.01, warmup_steps=0, total_steps=STEPS, weight_decay=0.1, grad_clip=0.0,
                       batch_size=GLOBAL_BATCH // world, precision="fp32", log_every=1, ckpt_every=0,
                       out_dir=os.path.join(out_dir, f"{kind}-{masked}-{world}"))
        model = TwoTower(with_bias=kind == "siglip")
        history = train(model, loss_fn, ShardedBatches(rank, world), cfg)["history"]
        results[(kind, masked)] = ([r["loss"] for r in history], {k: v.clone() for k, v in model.state_dict().items()})
    return results


def _worker(rank: int, port: int, out_dir: str, run=None, prefix: str = "rank") -> None:
    """One gloo process: ``run(rank, WORLD, out_dir)`` (default ``run_cases``), results saved as ``<prefix><rank>.pt``."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        torch.save((run or run_cases)(rank, WORLD, out_dir), os.path.join(out_dir, f"{prefix}{rank}.pt"))
    finally:
        cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_one_process(tmp_path, monkeypatch):
    # a CPU check: keep the loop (and the forked children, which inherit the patch) off any GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    # fork: the children inherit the imported torch and open_clip (a spawned child re-imports them, ~10 s on 2 cores)
    mp.start_processes(_worker, args=(free_port(), str(tmp_path)), nprocs=WORLD, join=True, start_method="fork")
    single = run_cases(0, 1, str(tmp_path))
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]
    for case in CASES:
        losses, weights = single[case]
        for per_rank in ranks:
            ddp_losses, ddp_weights = per_rank[case]
            assert abs(ddp_losses[0] - losses[0]) < 1e-6, case  # first step: the global-batch loss
            assert abs(ddp_losses[1] - losses[1]) < 1e-6, case  # second step: so the first update matched too
            for name, value in weights.items():
                torch.testing.assert_close(ddp_weights[name], value, rtol=0, atol=1e-6, msg=f"{case} {name}")
    # the cases differ from each other: masking changes the loss when a study spans two rows
    assert single[("clip", True)][0][0] != single[("clip", False)][0][0]
    assert single[("siglip", True)][0][0] != single[("siglip", False)][0][0]


# ---------------------------------------------------------------- the real model and objectives under DDP

TEXTS = ["Left parotid mass.", "Normal knee MRI.", "Brain: small vessel disease.", "Brain: no infarct."]
REAL_GROUPS = torch.tensor([0, 1, 2, 2])  # the two brain rows are one study, split across the ranks
REAL_LABELS = torch.tensor([5, 9, 5, 5])  # label groups: the parotid study and the brain study share one here
REAL_CASES = ("align-clip", "align-clip-label", "align-siglip-label", "ssl-contrastive", "ssl-both")


def run_real(rank: int, world: int, out_dir: str) -> dict:
    """Two steps of each real case on the tiny preset; (losses, image-tower weights) per case."""
    from mri_search.model import build_model, get_preset
    from pretrain.ssl import SSLObjective

    gen = torch.Generator().manual_seed(7)
    views = [torch.rand(4, 1, 32, 32, 32, generator=gen) for _ in range(2)]
    per = 4 // world
    rows = slice(rank * per, (rank + 1) * per)
    results = {}
    for case in REAL_CASES:
        torch.manual_seed(0)
        model = build_model(get_preset("vit-tiny-test"))
        for m in model.modules():  # MiniLM's dropout draws per rank: off, so one process can be compared exactly
            if isinstance(m, nn.Dropout):
                m.p = 0.0
        if case.startswith("align"):
            kind, label_aware = case.split("-")[1], case.endswith("-label")
            model.use_logit_bias(kind == "siglip")  # CLIP: without this DDP stops on a parameter with no gradient
            module, crit = model, ContrastiveLoss(kind, rank=rank, world_size=world)
            tokens = {k: v[rows] for k, v in model.tokenize(TEXTS).items()}
            batch = {"volume": views[0][rows], "tokens": tokens, "study_id": REAL_GROUPS[rows],
                     "label_id": REAL_LABELS[rows]}

            def loss_fn(net, b, crit=crit, label_aware=label_aware):
                o = net(b["volume"], b["tokens"])
                if label_aware:
                    return crit(o["image_features"], o["text_features"], o["logit_scale"], o["logit_bias"],
                                label_ids=b["label_id"], label_weight=0.6)
                return crit(o["image_features"], o["text_features"], o["logit_scale"], group_ids=b["study_id"])
        else:
            module = SSLObjective(model.visual, case.split("-")[1], rank=rank, world_size=world)
            batch = {"view1": views[0][rows], "view2": views[1][rows], "study_id": REAL_GROUPS[rows]}

            def loss_fn(net, b):
                return net(b["view1"], b["view2"], b["study_id"])
        cfg = TrainCfg(lr=1e-3, min_lr=1e-4, warmup_steps=0, total_steps=2, grad_clip=0.0, batch_size=per,
                       precision="fp32", log_every=1, ckpt_every=0, out_dir=os.path.join(out_dir, f"{case}-{world}"))
        history = train(module, loss_fn, [batch, batch], cfg)["history"]
        results[case] = ([r["loss"] for r in history],
                         {k: v.clone() for k, v in model.visual.state_dict().items()})
    return results


def test_real_model_and_objectives_under_ddp(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    mp.start_processes(_worker, args=(free_port(), str(tmp_path), run_real, "real"), nprocs=WORLD, join=True,
                       start_method="fork")
    single = run_real(0, 1, str(tmp_path))
    ranks = [torch.load(tmp_path / f"real{r}.pt", weights_only=False) for r in range(WORLD)]
    # deterministic given the global batch: must match exactly (the label-aware losses score each rank's rows
    # against the gathered batch; their logged loss is the ranks' mean, which is the global one)
    for case in ("align-clip", "align-clip-label", "align-siglip-label", "ssl-contrastive"):
        losses, weights = single[case]
        for per_rank in ranks:
            assert abs(per_rank[case][0][0] - losses[0]) < 1e-5, case  # the global-batch loss
            assert abs(per_rank[case][0][1] - losses[1]) < 1e-4, case  # after one matching update
            # AdamW divides by sqrt(v): a gradient near 0, summed in another order, moves a weight by up to lr;
            # the bound is a tenth of that (a wrong gather or a missed gradient moves whole tensors by ~lr)
            worst = max((per_rank[case][1][n] - v).abs().max().item() for n, v in weights.items())
            assert worst < 1e-4, (case, worst)
    # MAE masks are drawn per rank (seed + rank), so "both" differs from one process; it must run and be finite
    assert all(math.isfinite(x) for per_rank in ranks for x in per_rank["ssl-both"][0])
