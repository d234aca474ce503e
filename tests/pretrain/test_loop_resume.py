"""The training loop: a resumed run reproduces the uninterrupted one bit for bit; logs, checkpoint, evaluation."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from pretrain.checkpoint import load_checkpoint
from pretrain.config import TrainCfg
from pretrain.loop import train


class SeededBatches:
    """Endless random regression batches from a seeded generator whose state is the data-order state."""

    def __init__(self, seed: int, batch_size: int = 4, fail_at: int | None = None):
        self.gen = torch.Generator().manual_seed(seed)
        self.batch_size, self.fail_at, self.served = batch_size, fail_at, 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.fail_at is not None and self.served == self.fail_at:
            raise RuntimeError("simulated crash (node lost)")
        self.served += 1
        x = torch.randn(self.batch_size, 1, 6, 6, 6, generator=self.gen)  # [B, C, D, H, W]
        return {"volume": x, "target": x.mean(dim=(1, 2, 3, 4))[:, None] * 3}  # [B, 1]

    def state_dict(self):
        return {"gen": self.gen.get_state()}

    def load_state_dict(self, state):
        self.gen.set_state(state["gen"])


@pytest.fixture
def cpu_only(monkeypatch):
    """These checks are CPU checks (bit-exact float32); keep the loop off a GPU where one exists."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def make_model() -> nn.Module:
    torch.manual_seed(123)
    return nn.Sequential(nn.Conv3d(1, 4, 3), nn.GELU(), nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * 4**3, 1))


def loss_fn(model, batch):
    return nn.functional.mse_loss(model(batch["volume"]), batch["target"])


def noisy_eval(model, step):
    # consumes the global RNG on purpose: the loop must shield the training run from it
    return {"probe": float(model[0].weight.sum() + torch.rand(()))}


def cfg_for(out_dir) -> TrainCfg:
    return TrainCfg(lr=1e-2, min_lr=1e-3, warmup_steps=2, total_steps=6, weight_decay=0.1, grad_clip=0.05,
                    batch_size=4, accum_steps=2, precision="bf16", seed=5, log_every=1, eval_every=2, ckpt_every=3,
                    out_dir=str(out_dir))


def read_metrics(out_dir):
    lines = [json.loads(ln) for ln in (out_dir / "metrics.jsonl").read_text().splitlines()]
    train_lines = [(r["step"], r["loss"], r["lr"], r["grad_norm"]) for r in lines if r["split"] == "train"]
    return train_lines, [(r["step"], r["probe"]) for r in lines if r["split"] == "val"]


def test_resume_continues_bit_for_bit(tmp_path, cpu_only):
    straight_dir, resumed_dir = tmp_path / "straight", tmp_path / "resumed"
    straight_model = make_model()
    straight = train(straight_model, loss_fn, SeededBatches(0), cfg_for(straight_dir), eval_fn=noisy_eval)
    assert straight["step"] == 6 and [r["step"] for r in straight["history"]] == [1, 2, 3, 4, 5, 6]

    # crash while fetching the first micro-batch of step 5 (after the checkpoint at step 3 and the eval at 4)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(make_model(), loss_fn, SeededBatches(0, fail_at=8), cfg_for(resumed_dir), eval_fn=noisy_eval)
    assert load_checkpoint(resumed_dir / "checkpoint.pt", make_model())["step"] == 3

    resumed_model = nn.Sequential(*make_model())  # fresh weights, overwritten by the checkpoint
    torch.manual_seed(999)  # a different global RNG too: the checkpoint must restore it
    resumed = train(resumed_model, loss_fn, SeededBatches(1), cfg_for(resumed_dir), eval_fn=noisy_eval, resume=True)
    assert [r["step"] for r in resumed["history"]] == [4, 5, 6]
    assert [r["loss"] for r in resumed["history"]] == [r["loss"] for r in straight["history"][3:]]

    # the metrics log of the resumed run reads as one uninterrupted run (lines after step 3 were dropped)
    straight_train, straight_eval = read_metrics(straight_dir)
    resumed_train, resumed_eval = read_metrics(resumed_dir)
    assert resumed_train == straight_train  # exact equality of losses, learning rates and gradient norms
    assert resumed_eval == straight_eval and [s for s, _ in resumed_eval] == [0, 2, 4, 6]  # 0: before training
    for a, b in zip(straight_model.state_dict().values(), resumed_model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_evaluation_does_not_change_the_training_run(tmp_path, cpu_only):
    with_eval = train(make_model(), loss_fn, SeededBatches(0), cfg_for(tmp_path / "a"), eval_fn=noisy_eval)
    without = train(make_model(), loss_fn, SeededBatches(0), cfg_for(tmp_path / "b"))
    assert [r["loss"] for r in with_eval["history"]] == [r["loss"] for r in without["history"]]
    assert [e["step"] for e in with_eval["evals"]] == [0, 2, 4, 6] and without["evals"] == []


def test_schedule_clipping_and_checkpoint_contents(tmp_path, cpu_only):
    cfg = cfg_for(tmp_path)
    model = make_model()
    result = train(model, loss_fn, SeededBatches(0), cfg)
    lrs = [r["lr"] for r in result["history"]]
    assert lrs[0] == pytest.approx(5e-3) and lrs[1] == pytest.approx(1e-2) and lrs[-1] == pytest.approx(1e-3)
    first = result["history"][0]
    assert first["grad_norm"] > cfg.grad_clip  # so clipping was active (the norm is logged before clipping)
    assert first["vol_per_s"] > 0 and 0 <= first["data_wait_fraction"] < 1

    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert set(ckpt) >= {"model", "optimizer", "scaler", "step", "config", "rng", "data"}
    assert ckpt["step"] == 6 and TrainCfg(**ckpt["config"]) == cfg
    assert not (tmp_path / "checkpoint.pt.tmp").exists()
    for key, value in model.state_dict().items():
        assert torch.equal(ckpt["model"][key], value)
    assert ckpt["optimizer"]["param_groups"][0]["weight_decay"] == 0.1


def test_finite_iterable_fails_with_a_clear_message(tmp_path, cpu_only):
    batches = [next(SeededBatches(0)) for _ in range(3)]
    with pytest.raises(ValueError, match="ran out at step 1"):
        train(make_model(), loss_fn, batches, cfg_for(tmp_path))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_bf16_autocast_on_gpu(tmp_path):
    dtypes = []

    def recording_loss(model, batch):
        out = model(batch["volume"])
        dtypes.append((out.dtype, batch["volume"].device.type))
        return nn.functional.mse_loss(out.float(), batch["target"])

    result = train(make_model(), recording_loss, SeededBatches(0), cfg_for(tmp_path))
    assert set(dtypes) == {(torch.bfloat16, "cuda")}
    assert all(math.isfinite(r["loss"]) for r in result["history"])


def test_lr_scales_set_each_groups_rate(tmp_path, cpu_only):
    """A 0 multiplier leaves its parameters where they were; the others train at the scheduled rate times theirs."""
    model = make_model()
    before = [p.detach().clone() for p in model.parameters()]
    cfg = TrainCfg(lr=1e-2, min_lr=1e-2, warmup_steps=0, total_steps=2, batch_size=4, weight_decay=0.0,
                   lr_scales=(("0.", 0.0), ("4.", 0.5)), eval_every=0, out_dir=str(tmp_path))
    train(model, loss_fn, SeededBatches(0), cfg)
    conv_w, conv_b, lin_w, lin_b = model.parameters()
    assert torch.equal(conv_w, before[0]) and torch.equal(conv_b, before[1])
    assert not torch.equal(lin_w, before[2])
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert [g["lr"] for g in ckpt["optimizer"]["param_groups"]] == pytest.approx([1e-2, 1e-2, 0.0, 0.0, 5e-3, 5e-3])
