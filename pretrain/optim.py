"""AdamW with weight decay on weight matrices and kernels only, and optional per-prefix learning-rate multipliers."""

from __future__ import annotations

import torch
from torch import nn

from pretrain.config import TrainCfg


def param_groups(model: nn.Module, weight_decay: float,
                 lr_scales: tuple[tuple[str, float], ...] = ()) -> list[dict]:
    """Split the trainable parameters of `model` into decayed and non-decayed AdamW groups.

    Decayed: parameters with >= 2 dimensions whose name ends in "weight" (Linear and Conv kernels, attention
    `in_proj_weight`) and that do not belong to an `nn.Embedding`. Not decayed: everything else, i.e. biases, norm
    scales and shifts (1-D), `logit_scale` / `logit_bias` (0-D), token and positional embeddings (`nn.Embedding`
    tables and bare `nn.Parameter`s such as `cls_token` or `position_embeddings`, which shrinking toward zero only
    harms). A model may also name parameters to exclude with a `no_weight_decay()` method returning a set of
    parameter names (the timm convention). Frozen parameters are left out; tied parameters appear once.

    Args:
        model: the module to optimise (unwrapped, not the DDP wrapper, so the names carry no "module." prefix).
        weight_decay: decay of the first group.
        lr_scales: `(name prefix, multiplier)` pairs: a parameter whose name starts with a prefix (the first that
            matches) trains at that multiple of the scheduled learning rate (timm's "lr_scale" convention), e.g.
            `(("visual.vit.", 0.1),)` for a slowly tuned pretrained image trunk. Empty: one scale, 1.0.

    Returns:
        For each scale in order (1.0 first): `{"params": decayed, "weight_decay": weight_decay, "lr_scale": s}` and
        `{"params": others, "weight_decay": 0.0, "lr_scale": s}`; each group also carries the parameter names
        under "names" for logging and tests (AdamW ignores extra keys). Without `lr_scales` that is exactly two
        groups. Empty groups are kept so that the layout depends only on the arguments (checkpoints stay loadable).
    """
    explicit = set(model.no_weight_decay()) if hasattr(model, "no_weight_decay") else set()
    scales = [1.0] + [s for _, s in lr_scales]
    groups = [({"params": [], "names": []}, {"params": [], "names": []}) for _ in scales]
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for leaf, p in module.named_parameters(recurse=False):
            name = f"{module_name}.{leaf}" if module_name else leaf
            if not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            is_matrix = p.ndim >= 2 and leaf.endswith("weight") and not isinstance(module, nn.Embedding)
            k = next((i + 1 for i, (prefix, _) in enumerate(lr_scales) if name.startswith(prefix)), 0)
            group = groups[k][0] if is_matrix and name not in explicit else groups[k][1]
            group["params"].append(p)
            group["names"].append(name)
    return [g for (decay, no_decay), s in zip(groups, scales)
            for g in ({**decay, "weight_decay": weight_decay, "lr_scale": s},
                      {**no_decay, "weight_decay": 0.0, "lr_scale": s})]


def make_optimizer(model: nn.Module, cfg: TrainCfg) -> torch.optim.AdamW:
    """AdamW over `param_groups(model, cfg.weight_decay, cfg.lr_scales)`; the loop sets each group's learning rate
    (the schedule's times the group's "lr_scale") before every update."""
    groups = param_groups(model, cfg.weight_decay, cfg.lr_scales)
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
