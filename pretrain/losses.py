"""Stage 2 contrastive losses: open_clip's CLIP and SigLIP losses, plus same-study handling.

Series of one study share one report, so a batch holding two series of a study holds the report twice. Plain CLIP
would then treat (series 1, report copy 2) as a negative although it is a true match: the report row pushes series
2 away from the report, the series rows can never exceed probability 1/2 on their own copy, and series of one study
are pushed apart from each other. `ContrastiveLoss(..., group_ids=study_ids)` fixes that by MASKING: every pair of
the same group other than the pair itself is removed from the logits (set to -inf for the softmax of CLIP, weight 0
for the sigmoid of SigLIP); it is neither a negative nor an extra positive.

Why masking and not a multi-positive (soft) target that spreads each row's target over all members of its group:
  * with no repeated group the masked loss is exactly open_clip's loss (tested), and its minimum is still 0, so loss
    values stay comparable with plain CLIP runs; a uniform soft target has a floor of log(k) per row;
  * a soft target asks the report to be equally close to every series of its study (T1, T2, DWI, post-contrast...),
    a constraint the data does not support: a report on "restricted diffusion" may rightly sit nearer the DWI;
    masking leaves that free and only stops the wrong push;
  * for SigLIP, +1 labels on same-study pairs would weight a study with k series in the batch k times (k^2 positive
    pairs of one report); masking keeps one positive per series for both losses, one rule for both.
Group ids are any int64 per sample, equal within a study (`study_ids()` hashes study keys). Passing a hash of the
report text instead also masks identical boilerplate reports of different studies ("normal MRI of the brain").

Label-aware alignment (issue 19): with ``label_ids`` (``label_groups``: equal for studies whose reports give the
same parsed labels, e.g. region + head-and-neck sub-site + laterality), pairs of one label group become partial
positives instead of negatives, since category-level retrieval (the bench's mAP) punishes pushing apart two tonsil
tumours. The target of each row is a mixture: ``1 - label_weight`` on its own pair and ``label_weight`` spread
evenly over every column of its label group, itself included (SupCon, Khosla et al. 2020; soft targets as in
MedCLIP, Wang et al. 2022). CLIP takes the soft cross-entropy of that target in both directions; SigLIP takes it
as per-pair sigmoid targets (1 on the own pair, ``label_weight`` on the others of its group, 0 elsewhere). Same-
study pairs are of one label group by construction (one report), so nothing is masked then (``label_weight=0``
makes every other pair a negative, as open_clip's plain loss does). The loss's minimum is no longer 0 when a group
holds several studies.

Both losses take the exponentiated scale (`logit_scale.exp()`, what open_clip models return) and gather features
across ranks with gradients, so every rank's loss covers the global batch (see pretrain.distributed).
"""

from __future__ import annotations

import hashlib

import torch
import torch.distributed as dist
import torch.distributed.nn
import torch.nn.functional as F
from open_clip.loss import ClipLoss, SigLipLoss, gather_features
from torch import nn

KINDS = ("clip", "siglip")


def study_ids(keys: list[str]) -> torch.Tensor:
    """Stable int64 group ids from study keys (or report texts): 8 bytes of BLAKE2b each, the same on every rank."""
    return torch.tensor([int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "little", signed=True)
                         for k in keys], dtype=torch.long)


LABEL_FIELDS = ("region", "tumour_site", "laterality")  # what makes two reports' labels the same (report_labels)


def label_groups(labels: list[dict | None], study_keys: list[str],
                 fields: tuple[str, ...] = LABEL_FIELDS) -> torch.Tensor:
    """Label-group ids for ``ContrastiveLoss(label_ids=...)``: equal for samples whose report labels agree on every
    one of ``fields`` (an unstated field agrees with an unstated one). A report that gave no region (unreadable,
    or labels missing) is a group of its own study."""
    keys = [("labels:" + "|".join(str(lab.get(f) or "") for f in fields)) if lab and lab.get("region")
            else f"study:{key}" for lab, key in zip(labels, study_keys)]
    return study_ids(keys)


def _gather_ids(ids: torch.Tensor, world_size: int) -> torch.Tensor:
    """All ranks' group ids in rank order (no gradient needed)."""
    out = [torch.empty_like(ids) for _ in range(world_size)]
    dist.all_gather(out, ids.contiguous())
    return torch.cat(out)


class ContrastiveLoss(nn.Module):
    """Image-report contrastive loss, CLIP (softmax) or SigLIP (sigmoid), optionally masking same-study pairs.

    Args:
        kind: "clip" or "siglip".
        rank: this process's rank.
        world_size: number of processes; > 1 gathers features from all ranks.
        local_loss: CLIP only: each rank scores its own rows against all columns (less memory at large world
            size; same gradient). Default False, so the loss value on every rank is the global-batch loss.
    """

    def __init__(self, kind: str = "clip", rank: int = 0, world_size: int = 1, local_loss: bool = False):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind, self.rank, self.world_size, self.local_loss = kind, rank, world_size, local_loss
        if kind == "clip":
            self.plain = ClipLoss(local_loss=local_loss, gather_with_grad=True, rank=rank, world_size=world_size)
        else:
            self.plain = SigLipLoss(rank=rank, world_size=world_size)

    def forward(
        self,
        image_features: torch.Tensor,
        text_features: torch.Tensor,
        logit_scale: torch.Tensor,
        logit_bias: torch.Tensor | None = None,
        group_ids: torch.Tensor | None = None,
        label_ids: torch.Tensor | None = None,
        label_weight: float = 0.5,
    ) -> torch.Tensor:
        """Loss of one (local) batch.

        Args:
            image_features: [B, D] L2-normalised volume embeddings of this rank.
            text_features: [B, D] L2-normalised report embeddings, row i the report of volume i.
            logit_scale: scalar, already exponentiated.
            logit_bias: scalar; required for SigLIP, optional for CLIP.
            group_ids: [B] int64 study ids; pairs of one study other than (i, i) are masked. None: open_clip's loss.
            label_ids: [B] int64 label groups (``label_groups``); given, the label-aware soft targets replace the
                masking (``group_ids`` is then not needed).
            label_weight: share of each row's target spread over its label group, in [0, 1].

        Returns:
            Scalar loss.
        """
        if self.kind == "siglip" and logit_bias is None:
            raise ValueError("SigLIP needs a logit_bias: build the model with one (init -10, as in the paper)")
        if label_ids is not None:
            if label_ids.shape != image_features.shape[:1]:
                raise ValueError(f"label_ids must have shape [{image_features.shape[0]}], got {tuple(label_ids.shape)}")
            if not 0.0 <= label_weight <= 1.0:
                raise ValueError(f"label_weight must be in [0, 1], got {label_weight}")
            return self._label_aware(image_features, text_features, logit_scale, logit_bias,
                                     label_ids.to(image_features.device), float(label_weight))
        if group_ids is None:
            return self.plain(image_features, text_features, logit_scale, logit_bias)
        if group_ids.shape != image_features.shape[:1]:
            raise ValueError(f"group_ids must have shape [{image_features.shape[0]}], got {tuple(group_ids.shape)}")
        group_ids = group_ids.to(image_features.device)
        if self.kind == "clip":
            return self._clip_masked(image_features, text_features, logit_scale, logit_bias, group_ids)
        return self._siglip_masked(image_features, text_features, logit_scale, logit_bias, group_ids)

    def _clip_masked(self, img, txt, scale, bias, groups):
        b = img.shape[0]
        if self.world_size > 1:
            all_img, all_txt = gather_features(img, txt, local_loss=self.local_loss, gather_with_grad=True,
                                               rank=self.rank, world_size=self.world_size)
            all_groups = _gather_ids(groups, self.world_size)
        else:
            all_img, all_txt, all_groups = img, txt, groups
        if self.local_loss and self.world_size > 1:
            logits_img = scale * img @ all_txt.T  # [B, N]
            logits_txt = scale * txt @ all_img.T  # [B, N]
            labels = torch.arange(b, device=img.device) + b * self.rank
            row_groups = groups
        else:
            logits_img = scale * all_img @ all_txt.T  # [N, N]
            logits_txt = logits_img.T
            labels = torch.arange(all_img.shape[0], device=img.device)
            row_groups = all_groups
        if bias is not None:
            logits_img, logits_txt = logits_img + bias, logits_txt + bias
        same = row_groups[:, None] == all_groups[None, :]  # [rows, N]; the same mask serves both directions
        same[torch.arange(len(labels), device=img.device), labels] = False  # keep each row's own positive
        logits_img = logits_img.masked_fill(same, float("-inf"))
        logits_txt = logits_txt.masked_fill(same, float("-inf"))
        return (F.cross_entropy(logits_img, labels) + F.cross_entropy(logits_txt, labels)) / 2

    def _siglip_masked(self, img, txt, scale, bias, groups):
        # open_clip's normalisation: sum over this rank's rows and all columns, divided by the local batch size
        b = img.shape[0]
        if self.world_size > 1:
            texts = torch.distributed.nn.all_gather(txt)  # tuple of [B, D], gradients flow back to their owners
            all_groups = _gather_ids(groups, self.world_size)
        else:
            texts, all_groups = (txt,), groups
        eye = torch.eye(b, dtype=torch.bool, device=img.device)
        loss = img.new_zeros(())
        for r, t in enumerate(texts):
            logits = scale * img @ t.T + bias  # [B, B]
            own = eye if r == self.rank else torch.zeros_like(eye)
            labels = own.to(logits.dtype) * 2 - 1  # +1 on own pairs, -1 elsewhere
            keep = ~(groups[:, None] == all_groups[r * b:(r + 1) * b][None, :]) | own
            loss = loss - (F.logsigmoid(labels * logits) * keep).sum() / b
        return loss

    def _label_aware(self, img, txt, scale, bias, labels, weight):
        b = img.shape[0]
        if self.world_size > 1:
            all_img, all_txt = gather_features(img, txt, local_loss=False, gather_with_grad=True, rank=self.rank,
                                               world_size=self.world_size)
            all_labels = _gather_ids(labels, self.world_size)
        else:
            all_img, all_txt, all_labels = img, txt, labels
        rows = torch.arange(b, device=img.device) + b * self.rank  # this rank's rows in the global batch
        mates = (all_labels[rows][:, None] == all_labels[None, :]).to(img.dtype)  # [B, N], own column included
        own = torch.zeros_like(mates)
        own[torch.arange(b, device=img.device), rows] = 1.0
        if self.kind == "clip":
            target = (1.0 - weight) * own + weight * mates / mates.sum(1, keepdim=True)
            logits_img = scale * img @ all_txt.T  # [B, N]: this rank's images against every report
            logits_txt = scale * txt @ all_img.T  # [B, N]: this rank's reports against every image
            if bias is not None:
                logits_img, logits_txt = logits_img + bias, logits_txt + bias
            # label groups are equivalence classes, so the target is symmetric: one target serves both directions
            return (_soft_ce(logits_img, target) + _soft_ce(logits_txt, target)) / 2
        target = torch.maximum(own, weight * mates)  # 1 on the own pair, label_weight on the group's others
        logits = scale * img @ all_txt.T + bias  # [B, N]
        # open_clip's normalisation: the sum over this rank's rows and all columns, divided by the local batch size
        return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / b


def _soft_ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over rows of the cross-entropy of ``softmax(logits)`` against the rows of ``target`` (each sums to 1)."""
    return -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
