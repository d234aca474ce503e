"""Stage-1 self-supervised objectives for the 3D ViT, each an ``nn.Module`` whose ``forward`` returns the loss.

The objective wraps the image tower, so ``DistributedDataParallel`` wraps the objective and the loss goes through
its ``forward`` (what DDP needs). Three methods, compared on the same data and steps (closing note of issue 4,
``python -m benchmarks.pretrain_probe``):

* ``contrastive``: two augmented views of a series, an MLP projection head and a symmetric InfoNCE loss at a fixed
  temperature (SimCLR, Chen et al. 2020; MoCo v3, Chen et al. 2021, for ViTs), negatives gathered across ranks.
  Other series of the same study are masked out of the negatives (they share the patient's anatomy), as in stage 2.
* ``mae``: masked autoencoding (He et al. 2022) in 3D: 75 % of the patch tokens are dropped before the encoder, a
  light transformer decoder predicts the voxels of the dropped patches, normalised per patch, mean squared error on
  the dropped patches only. The encoder sees a quarter of the tokens, so a step costs far less.
* ``both``: the sum, the contrastive term on the pooled feature and the masked term on the tokens: the pairing of a
  global and a masked-modelling objective that iBOT and DINOv2 (the paper's choice) make.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from mri_search.model.vision import VisionEncoder
from pretrain.losses import ContrastiveLoss

METHODS = ("contrastive", "mae", "both")


class ProjectionHead(nn.Module):
    """SimCLR/MoCo-v3-style MLP head on the pooled feature (LayerNorm instead of BatchNorm: batches are small)."""

    def __init__(self, dim: int, hidden: int, out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Linear(hidden, out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(x), dim=-1)


class MaskedDecoder(nn.Module):
    """MAE's light decoder: kept tokens + learned mask tokens at every position -> voxels of each patch."""

    def __init__(self, enc_dim: int, num_patches: int, patch_voxels: int, dim: int = 192, depth: int = 2,
                 heads: int = 6) -> None:
        super().__init__()
        from monai.networks.blocks.transformerblock import (
            TransformerBlock,  # lazy: monai imports slowly
        )

        self.embed = nn.Linear(enc_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, num_patches, dim))
        nn.init.normal_(self.mask_token, std=0.02)
        nn.init.normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList(TransformerBlock(dim, 4 * dim, heads) for _ in range(depth))
        for blk in self.blocks:
            blk.norm_cross_attn.requires_grad_(False)  # built by MONAI, used only with cross-attention
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, patch_voxels)

    def forward(self, kept: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """``kept`` [B, K, enc_dim] tokens at patch indices ``keep`` [B, K] -> predictions [B, N, patch_voxels]."""
        b, k = keep.shape
        x = self.mask_token.expand(b, self.pos.shape[1], -1).clone()  # [B, N, D]
        x = x.scatter(1, keep.unsqueeze(-1).expand(-1, -1, x.shape[-1]), self.embed(kept))
        x = x + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x))


def patchify(volume: torch.Tensor, patch: int) -> torch.Tensor:
    """``[B, 1, S, S, S]`` -> ``[B, N, patch^3]`` in the token order of MONAI's patch embedding (x slowest)."""
    return rearrange(volume, "b c (x p1) (y p2) (z p3) -> b (x y z) (p1 p2 p3 c)", p1=patch, p2=patch, p3=patch)


class SSLObjective(nn.Module):
    """One stage-1 objective over an image tower.

    Args:
        visual: the image tower being pretrained (its weights are what stage 1 produces); its projection to the
            shared space is frozen (stage 2 trains it).
        method: "contrastive", "mae" or "both".
        temperature: InfoNCE temperature (SimCLR finds 0.1-0.5 best at small batch).
        proj_dim: contrastive head output width.
        mask_ratio: fraction of patch tokens hidden from the encoder (MAE uses 0.75).
        mae_weight: weight of the masked term in "both".
        rank, world_size: for gathering contrastive negatives across processes.
    """

    def __init__(self, visual: VisionEncoder, method: str = "contrastive", temperature: float = 0.2,
                 proj_dim: int = 128, mask_ratio: float = 0.75, mae_weight: float = 1.0, rank: int = 0,
                 world_size: int = 1) -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if not 0 < temperature <= 1:
            raise ValueError(f"temperature must be in (0, 1], got {temperature}")
        if not 0 < mask_ratio < 1:
            raise ValueError(f"mask_ratio must be in (0, 1), got {mask_ratio}")
        if method in ("mae", "both") and visual.cfg.stem != "patch":
            raise ValueError("masked pretraining (mae, both) needs vision.stem 'patch': a convolutional stem's "
                             "kernels reach into the masked neighbours of a kept patch, so the decoder could copy "
                             "what it is asked to rebuild; use --method contrastive")
        self.visual, self.method = visual, method
        visual.proj.requires_grad_(False)  # the projection to the shared space is stage 2's: unused here
        self.mask_ratio, self.mae_weight = mask_ratio, mae_weight
        h = visual.cfg.hidden_size
        if method in ("contrastive", "both"):
            self.head = ProjectionHead(h, 4 * h, proj_dim)
            self.contrast = ContrastiveLoss("clip", rank=rank, world_size=world_size)
            self.register_buffer("scale", torch.tensor(1.0 / temperature), persistent=False)
        if method in ("mae", "both"):
            p = visual.cfg.patch_size
            self.decoder = MaskedDecoder(h, visual.num_patches, p ** 3)

    def contrastive_loss(self, view1: torch.Tensor, view2: torch.Tensor,
                         study_id: torch.Tensor | None) -> torch.Tensor:
        """Symmetric InfoNCE between the two views' projected pooled features."""
        z = self.head(self.visual.forward_features(torch.cat([view1, view2])))  # [2B, P]
        z1, z2 = z.chunk(2)
        return self.contrast(z1, z2, self.scale, group_ids=study_id)

    def masked_loss(self, volume: torch.Tensor) -> torch.Tensor:
        """MAE loss on ``[B, 1, S, S, S]``: MSE on the per-patch normalised voxels of the hidden patches."""
        b, n = volume.shape[0], self.visual.num_patches
        n_keep = max(1, int(round(n * (1 - self.mask_ratio))))
        keep = torch.rand(b, n, device=volume.device).argsort(dim=1)[:, :n_keep]  # [B, K], random per sample
        pred = self.decoder(self.visual.forward_tokens(volume, keep), keep)  # [B, N, p^3]
        target = patchify(volume, self.visual.cfg.patch_size)
        target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
        hidden = torch.ones(b, n, device=volume.device)
        hidden.scatter_(1, keep, 0.0)  # 1 on the patches the encoder did not see
        per_patch = ((pred.float() - target.float()) ** 2).mean(-1)  # [B, N]
        return (per_patch * hidden).sum() / hidden.sum()

    def forward(self, view1: torch.Tensor, view2: torch.Tensor, study_id: torch.Tensor | None = None
                ) -> torch.Tensor:
        """The objective's loss on one batch of view pairs ``[B, 1, S, S, S]`` each."""
        loss = view1.new_zeros(())
        if self.method in ("contrastive", "both"):
            loss = loss + self.contrastive_loss(view1, view2, study_id)
        if self.method in ("mae", "both"):
            loss = loss + self.mae_weight * self.masked_loss(torch.cat([view1, view2]))
        return loss


def view_retrieval(feats1: torch.Tensor, feats2: torch.Tensor) -> float:
    """Recall@1 of finding a series' second view from its first among all series, by cosine of pooled features.

    A quick stage-1 check on the validation split: a feature that survives augmentation scores near 1, an
    untrained tower near chance when views differ.
    """
    sim = F.normalize(feats1.float(), dim=-1) @ F.normalize(feats2.float(), dim=-1).T
    return (sim.argmax(dim=1) == torch.arange(len(sim))).float().mean().item()

