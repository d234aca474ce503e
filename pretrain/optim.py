"""AdamW with weight decay on weight matrices and kernels only."""

from __future__ import annotations

import torch
from torch import nn

from pretrain.config import TrainCfg


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Split the trainable parameters of `model` into a decayed and a non-decayed AdamW group.

    Decayed: parameters with >= 2 dimensions whose name ends in "weight" (Linear and Conv kernels, attention
    `in_proj_weight`) and that do not belong to an `nn.Embedding`. Not decayed: everything else, i.e. biases, norm
    scales and shifts (1-D), `logit_scale` / `logit_bias` (0-D), token and positional embeddings (`nn.Embedding`
    tables and bare `nn.Parameter`s such as `cls_token` or `position_embeddings`, which shrinking toward zero only
    harms). A model may also name parameters to exclude with a `no_weight_decay()` method returning a set of
    parameter names (the timm convention). Frozen parameters are left out; tied parameters appear once.

    Args:
        model: the module to optimise (unwrapped, not the DDP wrapper, so the names carry no "module." prefix).
        weight_decay: decay of the first group.

    Returns:
        `[{"params": decayed, "weight_decay": weight_decay}, {"params": others, "weight_decay": 0.0}]`, each group
        also carrying the parameter names under "names" for logging and tests (AdamW ignores extra keys).
    """
    explicit = set(model.no_weight_decay()) if hasattr(model, "no_weight_decay") else set()
    decay, no_decay = {"params": [], "names": []}, {"params": [], "names": []}
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for leaf, p in module.named_parameters(recurse=False):
            name = f"{module_name}.{leaf}" if module_name else leaf
            if not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            is_matrix = p.ndim >= 2 and leaf.endswith("weight") and not isinstance(module, nn.Embedding)
            group = decay if is_matrix and name not in explicit else no_decay
            group["params"].append(p)
            group["names"].append(name)
    return [{**decay, "weight_decay": weight_decay}, {**no_decay, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, cfg: TrainCfg) -> torch.optim.AdamW:
    """AdamW over `param_groups(model, cfg.weight_decay)`; the loop sets the learning rate before every update."""
    return torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
