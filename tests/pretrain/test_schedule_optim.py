"""Learning-rate schedule and AdamW parameter groups."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from pretrain.config import TrainCfg
from pretrain.optim import make_optimizer, param_groups
from pretrain.schedule import lr_at

CFG = TrainCfg(lr=1e-3, min_lr=1e-5, warmup_steps=10, total_steps=110)


def test_warmup_is_linear_from_zero_to_peak():
    assert lr_at(0, CFG) == 0.0
    assert lr_at(1, CFG) == pytest.approx(1e-4)
    assert lr_at(5, CFG) == pytest.approx(5e-4)
    assert lr_at(10, CFG) == pytest.approx(1e-3)  # peak at the end of the warm-up


def test_cosine_reaches_min_lr_at_total_steps():
    mid = CFG.min_lr + 0.5 * (CFG.lr - CFG.min_lr)  # halfway through the cosine: cos(pi/2) = 0
    assert lr_at(60, CFG) == pytest.approx(mid)
    quarter = CFG.min_lr + 0.5 * (1 + math.cos(math.pi / 4)) * (CFG.lr - CFG.min_lr)
    assert lr_at(35, CFG) == pytest.approx(quarter)
    assert lr_at(110, CFG) == pytest.approx(1e-5)
    assert lr_at(500, CFG) == pytest.approx(1e-5)  # stays at the floor beyond the schedule
    rates = [lr_at(s, CFG) for s in range(10, 111)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))  # monotone decay after the warm-up


def test_lr_is_pure():
    assert [lr_at(s, CFG) for s in range(120)] == [lr_at(s, CFG) for s in range(120)]
    no_warmup = TrainCfg(lr=1e-3, min_lr=0.0, warmup_steps=0, total_steps=4)
    assert lr_at(0, no_warmup) == 1e-3


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(TypeError):
        TrainCfg(**{"lr": 1e-3, "learning_rate": 1e-3})
    with pytest.raises(ValueError, match="precision"):
        TrainCfg(precision="fp16")
    with pytest.raises(ValueError, match="warmup_steps"):
        TrainCfg(warmup_steps=20, total_steps=10)
    assert TrainCfg(betas=[0.9, 0.95]).betas == (0.9, 0.95)  # a JSON list becomes a tuple


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(1, 4, 3)
        self.bn = nn.BatchNorm3d(4)
        self.embed = nn.Embedding(10, 4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.proj = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight  # tied: must appear once, in the embedding's (no-decay) group
        self.frozen = nn.Linear(4, 4)
        self.frozen.requires_grad_(False)
        self.logit_scale = nn.Parameter(torch.tensor(2.6))


def test_param_groups_split_and_cover_every_trainable_parameter():
    model = Toy()
    decay, no_decay = param_groups(model, weight_decay=0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert sorted(decay["names"]) == ["conv.weight", "proj.weight"]
    assert sorted(no_decay["names"]) == sorted(["conv.bias", "bn.weight", "bn.bias", "embed.weight", "cls_token",
                                                "proj.bias", "norm.weight", "norm.bias", "logit_scale"])
    ids = [id(p) for p in decay["params"] + no_decay["params"]]
    assert len(ids) == len(set(ids))  # nothing twice
    assert set(ids) == {id(p) for p in model.parameters() if p.requires_grad}  # nothing missing, frozen left out


def test_no_weight_decay_hook_and_optimizer():
    model = Toy()
    model.no_weight_decay = lambda: {"proj.weight"}
    decay, _ = param_groups(model, 0.1)
    assert decay["names"] == ["conv.weight"]
    opt = make_optimizer(Toy(), TrainCfg(lr=2e-4, weight_decay=0.3, betas=(0.9, 0.95)))
    assert isinstance(opt, torch.optim.AdamW)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.3, 0.0]
    assert opt.param_groups[0]["betas"] == (0.9, 0.95)


def test_lr_scales_split_groups_by_first_matching_prefix():
    model = Toy()
    groups = param_groups(model, 0.1, lr_scales=(("proj.", 0.1), ("p", 0.5), ("conv.", 0.0)))
    assert [(g["lr_scale"], g["weight_decay"]) for g in groups] == [
        (1.0, 0.1), (1.0, 0.0), (0.1, 0.1), (0.1, 0.0), (0.5, 0.1), (0.5, 0.0), (0.0, 0.1), (0.0, 0.0)]
    names = {(g["lr_scale"], g["weight_decay"]): sorted(g["names"]) for g in groups}
    assert names[(0.1, 0.1)] == ["proj.weight"] and names[(0.1, 0.0)] == ["proj.bias"]  # first prefix wins
    assert names[(0.5, 0.1)] == [] and names[(0.5, 0.0)] == []  # kept, empty: the layout follows the arguments
    assert names[(0.0, 0.1)] == ["conv.weight"] and names[(0.0, 0.0)] == ["conv.bias"]
    assert "logit_scale" in names[(1.0, 0.0)]
    every = [id(p) for g in groups for p in g["params"]]
    assert sorted(every) == sorted(id(p) for p in model.parameters() if p.requires_grad)
    assert TrainCfg(lr_scales=[["visual.vit.", 1]]).lr_scales == (("visual.vit.", 1.0),)  # from JSON lists
    with pytest.raises(ValueError, match="lr_scales"):
        TrainCfg(lr_scales=(("a", -1.0),))


def test_train_cfg_for_run_fills_the_schedule_policy():
    from pretrain.config import TrainCfg

    cfg = TrainCfg.for_run(lr=1e-4, total_steps=400, seed=3)
    assert (cfg.warmup_steps, cfg.min_lr, cfg.log_every, cfg.seed) == (20, 1e-5, 10, 3)
    short = TrainCfg.for_run(lr=2e-4, total_steps=3, log_every=10)
    assert (short.warmup_steps, short.log_every) == (1, 3)  # at least one warm-up update; no longer than the run
    assert TrainCfg.for_run(lr=1e-4, total_steps=10, warmup_steps=50).warmup_steps == 10
