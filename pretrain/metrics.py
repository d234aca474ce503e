"""Retrieval checks on the validation split: recall@k in both directions, any series of the right study a hit."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn


def _first_of_each_group(group_ids: torch.Tensor) -> torch.Tensor:
    """Indices of the first row of every distinct group, in order of first appearance."""
    _, inverse = torch.unique(group_ids, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), len(group_ids), dtype=torch.long)
    first = first.scatter_reduce(0, inverse, torch.arange(len(group_ids)), reduce="amin")
    return first.sort().values


def recall_at_k(
    img_emb: torch.Tensor, txt_emb: torch.Tensor, k: int, group_ids: torch.Tensor | None = None
) -> dict[str, float]:
    """Recall@k of report->volume and volume->report retrieval by cosine similarity.

    Row i of `txt_emb` is the report of volume i. With `group_ids` (study ids), the rows of one study carry one
    report, so the report side is deduplicated to the first row of each study: a report query counts once per
    study, and it is a hit when any series of its study is among the top k volumes; a volume query is a hit when
    its study's report is among the top k distinct reports. Without `group_ids` every row is its own study.

    Args:
        img_emb: [N, D] volume embeddings.
        txt_emb: [N, D] report embeddings, paired by row.
        k: cut-off (clamped to the gallery size).
        group_ids: [N] study ids, or None.

    Returns:
        {"text_to_image": fraction of report queries hit, "image_to_text": fraction of volume queries hit}.
    """
    if img_emb.shape[0] != txt_emb.shape[0]:
        raise ValueError(f"need paired rows, got {img_emb.shape[0]} volumes and {txt_emb.shape[0]} reports")
    n = img_emb.shape[0]
    if n == 0:
        raise ValueError("recall@k of an empty split")
    groups = torch.arange(n) if group_ids is None else group_ids.cpu()
    img = nn.functional.normalize(img_emb.float().cpu(), dim=-1)
    txt = nn.functional.normalize(txt_emb.float().cpu(), dim=-1)
    reports = _first_of_each_group(groups)  # one row per study
    sim = txt[reports] @ img.T  # [S, N]

    top_img = sim.topk(min(k, n), dim=1).indices  # [S, k]
    t2i = (groups[top_img] == groups[reports][:, None]).any(dim=1).float().mean().item()
    top_txt = sim.T.topk(min(k, len(reports)), dim=1).indices  # [N, k] indices into `reports`
    i2t = (groups[reports][top_txt] == groups[:, None]).any(dim=1).float().mean().item()
    return {"text_to_image": t2i, "image_to_text": i2t}


@torch.no_grad()
def evaluate_retrieval(
    model: nn.Module,
    val_batches: Iterable[dict],
    loss_fn: Callable[..., torch.Tensor],
    ks: tuple[int, ...] = (1, 5, 10),
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """Validation loss and recall@k of a two-tower model over a validation split.

    Each batch is a dict with "volume", "tokens" and optionally "study_id" ([B] int64); `model(volume, tokens)`
    returns the dict of `MRIClip.forward`. `loss_fn` should be a single-process `ContrastiveLoss` (world_size=1):
    in a distributed run every rank evaluates the whole (small) validation split on its own.

    Returns:
        {"val_loss": mean batch loss, "r@k_t2i": ..., "r@k_i2t": ...} for each k.
    """
    img, txt, groups, losses = [], [], [], []
    for batch in val_batches:
        tokens = batch["tokens"]
        tokens = {k: v.to(device) for k, v in tokens.items()} if isinstance(tokens, dict) else tokens.to(device)
        out = model(batch["volume"].to(device), tokens)
        gid = batch.get("study_id")
        gid = gid.to(device) if gid is not None else None
        losses.append(float(loss_fn(out["image_features"], out["text_features"], out["logit_scale"],
                                    out.get("logit_bias"), group_ids=gid)))
        img.append(out["image_features"].float().cpu())
        txt.append(out["text_features"].float().cpu())
        if gid is not None:
            groups.append(gid.cpu())
    if not losses:
        raise ValueError("the validation split yielded no batch")
    group_ids = torch.cat(groups) if len(groups) == len(losses) else None
    result = {"val_loss": sum(losses) / len(losses)}
    for k in ks:
        r = recall_at_k(torch.cat(img), torch.cat(txt), k, group_ids)
        result[f"r@{k}_t2i"], result[f"r@{k}_i2t"] = r["text_to_image"], r["image_to_text"]
    return result
