"""Stage 2, ``mri-search pretrain align``: report-guided contrastive alignment of the image and report towers.

Starts from a stage-1 model folder (``--init``) or, for the stage-2-only baseline, from a randomly initialised image
tower. Each training pair is an augmented view of a series and a text drawn from its study's report (full report,
impression or region sentences: ``pretrain.text_sampling``); the loss is open_clip's CLIP or SigLIP with the other
series of the same study masked out of the negatives (``pretrain.losses``). Validation: loss and report-to-series
recall@k on held-out patients, also before the first step (the untrained model's figure).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mri_search.model import (
    build_model,
    get_preset,
    load_model,
    model_identity,
    save_model,
)
from mri_search.model.config import ADAPTERS, POOLS_VISION, TUNES
from mri_search.preprocess import default_preprocess
from pretrain import distributed
from pretrain.config import TrainCfg
from pretrain.data import AlignPairs, ValBatches, endless_batches
from pretrain.loop import to_device, train
from pretrain.losses import KINDS, ContrastiveLoss
from pretrain.metrics import evaluate_retrieval
from pretrain.prepare import DataCfg, prepare
from pretrain.text_sampling import DEFAULT_WEIGHTS
from pretrain.vision_stage import summarise

log = logging.getLogger(__name__)

LOSSES = (*KINDS, *(f"{k}-label" for k in KINDS))  # --loss choices
VISION_TRUNK = "visual.vit."  # parameter-name prefix of the image trunk (TrainCfg.lr_scales: `--vision-lr-scale`)


@dataclass(frozen=True)
class AlignStageCfg:
    """The stage-2 starting point, loss and text settings."""

    init: str = ""  # stage-1 model folder; "" = random image tower from `preset` (the stage-2-only baseline)
    preset: str = "vit-s-cpu"  # model preset when init is ""
    loss: str = "clip"  # "clip" (softmax InfoNCE) or "siglip" (sigmoid), both from open_clip; "clip-label" and
    #   "siglip-label": the same with pairs of one report-label group as partial positives (pretrain.losses)
    label_weight: float = 0.5  # *-label losses: share of each row's target spread over its label group
    text_tune: str = ""  # override the model's text.tune: "frozen", "last" or "all"; "" keeps it
    text_adapter: str = ""  # override the report tower's adapter: "linear" or "mlp" (freshly initialised); "" keeps it
    vision_pool: str = ""  # override the image tower's pooling: "cls" or "mean"; "" keeps it. (MAE never trains
    #   the class token; mean pooling after an MAE stage 1 was measured and did not change the alignment)
    text_weights: tuple[float, float, float] = DEFAULT_WEIGHTS  # odds of (full report, impression, region sentences)

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if not 0.0 <= self.label_weight <= 1.0:
            raise ValueError(f"label_weight must be in [0, 1], got {self.label_weight}")
        if self.text_tune and self.text_tune not in TUNES:
            raise ValueError(f"text_tune must be one of {TUNES}, got {self.text_tune!r}")
        if self.text_adapter and self.text_adapter not in ADAPTERS:
            raise ValueError(f"text_adapter must be one of {ADAPTERS}, got {self.text_adapter!r}")
        if self.vision_pool and self.vision_pool not in POOLS_VISION:
            raise ValueError(f"vision_pool must be one of {POOLS_VISION}, got {self.vision_pool!r}")
        object.__setattr__(self, "text_weights", tuple(self.text_weights))
        if len(self.text_weights) != 3 or min(self.text_weights) < 0 or sum(self.text_weights) <= 0:
            raise ValueError(f"text_weights must be three non-negative numbers, not all 0, got {self.text_weights}")


def starting_model(stage: AlignStageCfg):
    """(model, preprocessing, init identity) of the run's start: the stage-1 folder, or a fresh preset."""
    if stage.init:
        loaded = load_model(stage.init)
        model, pcfg, ident = loaded.model, loaded.preprocess, model_identity(stage.init)
    else:
        model = build_model(get_preset(stage.preset))
        pcfg, ident = default_preprocess(model.cfg.vision.img_size), None
    cfg = model.cfg
    if stage.text_tune:
        cfg = dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, tune=stage.text_tune))
    if stage.text_adapter:
        cfg = dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, adapter=stage.text_adapter))
    if stage.vision_pool:
        cfg = dataclasses.replace(cfg, vision=dataclasses.replace(cfg.vision, pool=stage.vision_pool))
    if cfg != model.cfg:
        model = _rebuilt(model, cfg)
    model.use_logit_bias(stage.loss.startswith("siglip"))
    if model.cfg.text.tune == "frozen":
        model.text.cache_features(True)  # the frozen backbone runs once per distinct text (pretrain.throughput)
    model.train()
    return model, pcfg, ident


def _rebuilt(model, cfg):
    """``model`` rebuilt under ``cfg`` with its weights copied over: text tuning and pooling are fixed at
    construction (``requires_grad``, the class token, what the artifact stores). Only the class token may be
    missing (cls -> mean drops it; mean -> cls adds a freshly initialised one), and the report adapter when it
    changes kind (the new one starts freshly initialised)."""
    new = build_model(cfg, pretrained_text=False)
    new_adapter = cfg.text.adapter != model.cfg.text.adapter
    state = {k: v for k, v in model.state_dict().items() if not (new_adapter and k.startswith("text.proj."))}
    missing, unexpected = new.load_state_dict(state, strict=False)
    stray = [k for k in (*missing, *unexpected)
             if k != "visual.vit.cls_token" and not (new_adapter and k.startswith("text.proj."))]
    if stray:
        raise ValueError(f"cannot carry weights over to the changed model: {stray[:5]}")
    return new


def run_align(data: DataCfg, stage: AlignStageCfg, cfg: TrainCfg, resume: bool = False) -> dict[str, Any]:
    """Run stage 2 and save the aligned model folder to ``cfg.out_dir``.

    Returns:
        A summary as ``run_vision``'s, the evaluations holding ``val_loss`` and ``r@k_t2i`` / ``r@k_i2t``.
    """
    t0 = time.perf_counter()
    info = distributed.init_distributed()
    out = Path(cfg.out_dir)
    model, pcfg, init_id = starting_model(stage)
    prepared = prepare(data, pcfg, out)
    dataset = AlignPairs(prepared.train, prepared.cache, text_weights=stage.text_weights)
    batches = endless_batches(dataset, cfg.batch_size, seed=cfg.seed, num_workers=data.num_workers,
                              rank=info.rank, world_size=info.world_size, pin_memory=info.device.type == "cuda")
    kind, label_aware = stage.loss.removesuffix("-label"), stage.loss.endswith("-label")
    contrastive = ContrastiveLoss(kind, rank=info.rank, world_size=info.world_size)
    val = ValBatches(prepared.val, prepared.cache, cfg.batch_size, model.tokenize)
    # every rank evaluates the whole validation split alone, with the study-masked loss of the same kind for every
    # run (so val_loss compares across label-aware and plain runs)
    val_loss = ContrastiveLoss(kind)

    def loss_fn(net, batch):
        tokens = to_device(model.tokenize(batch["texts"]), batch["volume"].device)
        o = net(batch["volume"], tokens)
        if label_aware:
            return contrastive(o["image_features"], o["text_features"], o["logit_scale"], o["logit_bias"],
                               label_ids=batch["label_id"], label_weight=stage.label_weight)
        return contrastive(o["image_features"], o["text_features"], o["logit_scale"], o["logit_bias"],
                           group_ids=batch["study_id"])

    def eval_fn(m, step):
        return evaluate_retrieval(m, val, val_loss, ks=(1, 5, 10), device=info.device)

    result = train(model, loss_fn, batches, cfg, eval_fn=eval_fn if len(val) else None, resume=resume)
    batches.close()
    summary = summarise(result, {**prepared.summary(), "align_series": len(dataset),
                                 "without_report": dataset.n_without_report}, time.perf_counter() - t0)
    if info.is_main:
        recipe = {"stage": "align", "align": asdict(stage), "init_identity": init_id, "train": asdict(cfg),
                  "data": data.to_recipe()}
        save_model(model, out, pcfg, recipe=recipe, data_fingerprint=prepared.fingerprint,
                   metrics={"stage2": summary["last_eval"]})
    return summary
