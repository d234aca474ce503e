"""The image tower: the one adapter around MONAI's 3D ``ViT``.

MONAI's ``ViT.forward`` returns ``(tokens, hidden_states)`` and pools nothing; with ``classification=True`` it
adds a class token and a classification head. This adapter keeps MONAI's modules and their parameter names
(``patch_embedding``, ``blocks``, ``norm``, ``cls_token``) so MONAI ViT weights load into ``.vit``, drops the
head, and does the pooling and projection itself. Nothing else in the code base touches MONAI internals.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import VisionCfg


class ChannelNorm(nn.Module):
    """LayerNorm over the channels of each voxel of ``[B, C, X, Y, Z]`` (ConvNeXt's channels-first LayerNorm)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.movedim(1, -1)).movedim(-1, 1)


def conv_stem(cfg: VisionCfg) -> nn.Sequential:
    """``[B, 1, S, S, S]`` -> ``[B, hidden, S / patch, S / patch, S / patch]``: 3^3 convolutions of stride 2, each
    but the last followed by a per-voxel LayerNorm over channels and GELU (no statistic over space or batch, so
    a token sees only its receptive field); the first has ``stem_width`` channels, doubled at each halving and
    capped at ``hidden_size``; the last projects to ``hidden_size``."""
    layers: list[nn.Module] = []
    steps = cfg.patch_size.bit_length() - 1  # log2(patch_size)
    c_in = 1
    for i in range(steps):
        last = i == steps - 1
        c_out = cfg.hidden_size if last else min(cfg.hidden_size, cfg.stem_width * 2 ** i)
        layers.append(nn.Conv3d(c_in, c_out, kernel_size=3, stride=2, padding=1, bias=last))
        if not last:
            layers += [ChannelNorm(c_out), nn.GELU()]
        c_in = c_out
    return nn.Sequential(*layers)


class VisionEncoder(nn.Module):
    """``[B, 1, S, S, S]`` volumes in [0, 1] -> ``[B, embed_dim]`` (unnormalised; ``MRIClip`` normalises).

    Args:
        cfg: the tower's configuration.
        embed_dim: width of the shared embedding space.
    """

    def __init__(self, cfg: VisionCfg, embed_dim: int) -> None:
        super().__init__()
        from monai.networks.nets import ViT  # lazy: importing monai costs seconds

        self.cfg = cfg
        self.vit = ViT(
            in_channels=1, img_size=cfg.img_size, patch_size=cfg.patch_size, hidden_size=cfg.hidden_size,
            mlp_dim=cfg.mlp_dim, num_layers=cfg.num_layers, num_heads=cfg.num_heads, proj_type="conv",
            pos_embed_type=cfg.pos_embed, classification=cfg.pool == "cls", dropout_rate=cfg.dropout,
            spatial_dims=3,
        )
        if cfg.pool == "cls":
            # MONAI ties its class token to a classification head we do not want: keep the token, drop the head.
            del self.vit.classification_head
            # MONAI initialises the class token to zeros; a small random start (as in timm / open_clip) breaks the
            # symmetry with the zero-padded background tokens.
            nn.init.normal_(self.vit.cls_token, std=0.02)
        if cfg.stem == "conv":  # MONAI adds the position embedding to whatever patch_embeddings returns
            self.vit.patch_embedding.patch_embeddings = conv_stem(cfg)
        for blk in self.vit.blocks:  # MONAI builds this norm even without cross-attention: it never gets a
            blk.norm_cross_attn.requires_grad_(False)  # gradient, and DDP refuses parameters that get none
        self.proj = nn.Linear(cfg.hidden_size, embed_dim, bias=False)

    @property
    def num_patches(self) -> int:
        """Patch tokens per volume (``grid^3``)."""
        return self.cfg.grid ** 3

    def _check(self, x: torch.Tensor) -> None:
        s = self.cfg.img_size
        if x.ndim != 5 or tuple(x.shape[1:]) != (1, s, s, s):
            raise ValueError(f"expected volumes of shape [B, 1, {s}, {s}, {s}], got {list(x.shape)}; "
                             "the preprocessing size must match the model's img_size")

    def _sequence(self, x: torch.Tensor, keep: torch.Tensor | None,
                  hidden: list[torch.Tensor] | None = None) -> torch.Tensor:
        """MONAI's ``ViT.forward`` without the head: ``[B, (1 +) N, H]``, the class token first when pooled by it.

        ``hidden``, when given, receives each block's output (before the final norm), as MONAI's
        ``hidden_states_out``."""
        self._check(x)
        t = self.vit.patch_embedding(x)  # [B, N, H], position embedding added
        if keep is not None:  # MAE-style masking: only the kept patch tokens enter the blocks
            if keep.ndim != 2 or keep.shape[0] != t.shape[0]:
                raise ValueError(f"keep must be [B, K] patch indices, got {list(keep.shape)}")
            t = torch.gather(t, 1, keep.unsqueeze(-1).expand(-1, -1, t.shape[-1]))  # [B, K, H]
        if self.cfg.pool == "cls":
            t = torch.cat((self.vit.cls_token.expand(t.shape[0], -1, -1), t), dim=1)  # [B, 1 + N, H]
        for blk in self.vit.blocks:
            t = blk(t)
            if hidden is not None:
                hidden.append(t)
        return self.vit.norm(t)

    def forward_tokens(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """Final-layer patch tokens, layer-normed: ``[B, N, hidden]`` in ``grid^3`` raster order (x slowest).

        Args:
            x: ``[B, 1, S, S, S]`` volumes.
            keep: optional ``[B, K]`` patch indices (int64); only those tokens are encoded (masked pretraining).
        """
        t = self._sequence(x, keep)
        return t[:, 1:] if self.cfg.pool == "cls" else t

    def forward_features(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """Pooled volume feature before projection: ``[B, hidden]`` (the class token, or the patch-token mean)."""
        t = self._sequence(x, keep)
        return t[:, 0] if self.cfg.pool == "cls" else t.mean(dim=1)

    def forward_pooled_and_tokens(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both in one pass: the pooled feature ``[B, hidden]`` and the patch tokens ``[B, N, hidden]`` (probes)."""
        t = self._sequence(x, None)
        if self.cfg.pool == "cls":
            return t[:, 0], t[:, 1:]
        return t.mean(dim=1), t

    def forward_hidden_states(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Patch tokens for dense decoders (UNETR): the final layer-normed ``[B, N, hidden]`` and every block's
        output ``[B, N, hidden]`` (before the final norm, as MONAI's ``hidden_states_out``), class token dropped,
        ``grid^3`` raster order (x slowest)."""
        hidden: list[torch.Tensor] = []
        t = self._sequence(x, None, hidden)
        if self.cfg.pool == "cls":
            return t[:, 1:], [h[:, 1:] for h in hidden]
        return t, hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Projected volume embedding ``[B, embed_dim]``, not normalised."""
        return self.proj(self.forward_features(x))
