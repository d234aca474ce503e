"""Decoder networks: heads from MONAI's blocks on the frozen 3D ViT, and MONAI's UNet as the from-scratch baseline.

- ``UnetrHead``: the decoder of UNETR (Hatamizadeh et al. 2022; ``monai.networks.nets.UNETR``), built from the
  same MONAI blocks (``UnetrBasicBlock``, ``UnetrPrUpBlock``, ``UnetrUpBlock``, ``UnetOutBlock``), fed by the
  image tower's final tokens and three intermediate blocks. MONAI's ``UNETR`` itself cannot take our encoder: it
  builds its own ViT and reads blocks 3, 6 and 9 of twelve; here the blocks are chosen by depth (``layers``).
- ``HeatmapHead``: tokens -> ``UnetrPrUpBlock`` (transposed convolutions) -> one-channel lesion logit map at
  ``heatmap_upsample`` x the token grid.
- ``FrozenEncoder``: the image tower without gradients, always in eval mode.
"""

from __future__ import annotations

import torch
from torch import nn

from ..model.vision import VisionEncoder
from .config import DecoderCfg


def _tokens_to_grid(t: torch.Tensor, grid: int) -> torch.Tensor:
    """``[B, N, H]`` tokens (raster order, x slowest) -> ``[B, H, g, g, g]`` (UNETR's ``proj_feat``)."""
    b, n, h = t.shape
    return t.reshape(b, grid, grid, grid, h).permute(0, 4, 1, 2, 3).contiguous()


def default_layers(num_layers: int) -> tuple[int, int, int]:
    """The three blocks UNETR's skips read: at 1/4, 1/2 and 3/4 depth (3, 6, 9 of 12, as MONAI's UNETR)."""
    return tuple(max(0, min(num_layers - 1, num_layers * k // 4)) for k in (1, 2, 3))  # type: ignore[return-value]


class FrozenEncoder(nn.Module):
    """The image tower, frozen: no gradients, eval mode whatever ``train()`` asks."""

    def __init__(self, encoder: VisionEncoder) -> None:
        super().__init__()
        self.encoder = encoder.requires_grad_(False).eval()

    def train(self, mode: bool = True) -> "FrozenEncoder":  # noqa: D102 - stays in eval mode
        super().train(False)
        return self

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``[B, 1, S, S, S]`` -> final tokens ``[B, N, H]`` and every block's tokens."""
        return self.encoder.forward_hidden_states(x)


class UnetrHead(nn.Module):
    """UNETR's decoder over a frozen ViT (patch 16: four 2x upsamplings back to the input size).

    Args:
        hidden_size: token width of the ViT.
        grid: tokens per axis.
        out_channels: classes (background included).
        feature_size: UNETR's base width.
    """

    def __init__(self, hidden_size: int, grid: int, out_channels: int, feature_size: int = 16) -> None:
        super().__init__()
        from monai.networks.blocks import UnetOutBlock, UnetrBasicBlock, UnetrPrUpBlock, UnetrUpBlock

        fs, norm = feature_size, "instance"
        self.grid = grid
        self.encoder1 = UnetrBasicBlock(3, 1, fs, kernel_size=3, stride=1, norm_name=norm, res_block=True)
        self.encoder2 = UnetrPrUpBlock(3, hidden_size, fs * 2, num_layer=2, kernel_size=3, stride=1,
                                       upsample_kernel_size=2, norm_name=norm, res_block=True)
        self.encoder3 = UnetrPrUpBlock(3, hidden_size, fs * 4, num_layer=1, kernel_size=3, stride=1,
                                       upsample_kernel_size=2, norm_name=norm, res_block=True)
        self.encoder4 = UnetrPrUpBlock(3, hidden_size, fs * 8, num_layer=0, kernel_size=3, stride=1,
                                       upsample_kernel_size=2, norm_name=norm, res_block=True)
        self.decoder5 = UnetrUpBlock(3, hidden_size, fs * 8, kernel_size=3, upsample_kernel_size=2, norm_name=norm,
                                     res_block=True)
        self.decoder4 = UnetrUpBlock(3, fs * 8, fs * 4, kernel_size=3, upsample_kernel_size=2, norm_name=norm,
                                     res_block=True)
        self.decoder3 = UnetrUpBlock(3, fs * 4, fs * 2, kernel_size=3, upsample_kernel_size=2, norm_name=norm,
                                     res_block=True)
        self.decoder2 = UnetrUpBlock(3, fs * 2, fs, kernel_size=3, upsample_kernel_size=2, norm_name=norm,
                                     res_block=True)
        self.out = UnetOutBlock(3, fs, out_channels)

    def forward(self, x: torch.Tensor, final: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        """Image ``[B, 1, S, S, S]``, final tokens and the three skip tokens -> logits ``[B, C, S, S, S]``."""
        g = self.grid
        enc1 = self.encoder1(x)
        enc2 = self.encoder2(_tokens_to_grid(skips[0], g))
        enc3 = self.encoder3(_tokens_to_grid(skips[1], g))
        enc4 = self.encoder4(_tokens_to_grid(skips[2], g))
        dec3 = self.decoder5(_tokens_to_grid(final, g), enc4)
        dec2 = self.decoder4(dec3, enc3)
        dec1 = self.decoder3(dec2, enc2)
        return self.out(self.decoder2(dec1, enc1))


class HeatmapHead(nn.Module):
    """Final tokens -> a one-channel lesion logit map at ``upsample`` x the token grid."""

    def __init__(self, hidden_size: int, grid: int, feature_size: int = 16, upsample: int = 8) -> None:
        super().__init__()
        from monai.networks.blocks import UnetOutBlock, UnetrBasicBlock, UnetrPrUpBlock

        self.grid = grid
        width = 2 * feature_size
        if upsample == 1:
            self.up = UnetrBasicBlock(3, hidden_size, width, kernel_size=3, stride=1, norm_name="instance",
                                      res_block=True)
        else:
            self.up = UnetrPrUpBlock(3, hidden_size, width, num_layer=upsample.bit_length() - 2, kernel_size=3,
                                     stride=1, upsample_kernel_size=2, norm_name="instance", res_block=True)
        self.out = UnetOutBlock(3, width, 1)

    def forward(self, final: torch.Tensor) -> torch.Tensor:
        """``[B, N, H]`` -> ``[B, 1, g * upsample, ...]`` logits."""
        return self.out(self.up(_tokens_to_grid(final, self.grid)))


class EncoderDecoder(nn.Module):
    """A frozen image tower and a trainable head: ``[B, 1, S, S, S]`` -> logits."""

    def __init__(self, encoder: VisionEncoder, cfg: DecoderCfg, out_channels: int) -> None:
        super().__init__()
        v = encoder.cfg
        if cfg.arch == "unetr" and v.patch_size != 16:
            raise ValueError(f"the UNETR head needs patch size 16 (four 2x upsamplings), the encoder has "
                             f"{v.patch_size}")
        self.frozen = FrozenEncoder(encoder)
        self.arch = cfg.arch
        self.layers = tuple(cfg.layers) or default_layers(v.num_layers)
        if max(self.layers) >= v.num_layers:
            raise ValueError(f"layers {self.layers} name blocks beyond the encoder's {v.num_layers}")
        if cfg.arch == "unetr":
            self.head: nn.Module = UnetrHead(v.hidden_size, v.grid, out_channels, cfg.feature_size)
        else:
            self.head = HeatmapHead(v.hidden_size, v.grid, cfg.feature_size, cfg.heatmap_upsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: ``[B, C, S, S, S]`` (UNETR) or ``[B, 1, g*u, g*u, g*u]`` (heatmap)."""
        final, hidden = self.frozen(x)
        if self.arch == "unetr":
            return self.head(x, final, [hidden[i] for i in self.layers])
        return self.head(final)


def build_net(cfg: DecoderCfg, out_channels: int, encoder: VisionEncoder | None) -> nn.Module:
    """The decoder network of ``cfg``: a head on a frozen ``encoder``, or MONAI's UNet (``encoder`` None)."""
    if cfg.arch == "unet":
        from monai.networks.nets import UNet

        return UNet(spatial_dims=3, in_channels=1, out_channels=out_channels, channels=tuple(cfg.unet_channels),
                    strides=(2,) * (len(cfg.unet_channels) - 1), num_res_units=2, norm="instance")
    if encoder is None:
        raise ValueError(f"arch {cfg.arch!r} needs an image encoder")
    return EncoderDecoder(encoder, cfg, out_channels)


def trainable_state(net: nn.Module, keep_encoder: bool) -> dict[str, torch.Tensor]:
    """The weights a decoder folder stores: everything but the frozen trained encoder (kept when random)."""
    return {k: v for k, v in net.state_dict().items() if keep_encoder or not k.startswith("frozen.")}
