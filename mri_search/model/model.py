"""``MRIClip``: a 3D MRI image tower and a report tower projecting into one L2-normalised embedding space.

The surface follows open_clip: ``encode_volume`` / ``encode_report`` for inference, ``forward`` returning a dict
that ``open_clip.loss.ClipLoss`` (``image_features``, ``text_features``, ``logit_scale``) and ``SigLipLoss``
(plus ``logit_bias``) consume. The loss, tokenising and device moves live outside ``forward``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelCfg
from .text import ReportEncoder
from .vision import VisionEncoder


MAX_LOGIT_SCALE = math.log(100.0)  # CLIP's clamp: the temperature never falls below 0.01


class MRIClip(nn.Module):
    """The two-tower model.

    Args:
        cfg: the model configuration (``get_preset(name)`` or ``ModelCfg.from_dict``).
        pretrained_text: load the text backbone's installed weights (False when a checkpoint follows).
    """

    def __init__(self, cfg: ModelCfg, pretrained_text: bool = True) -> None:
        super().__init__()
        self.cfg = cfg
        self.visual = VisionEncoder(cfg.vision, cfg.embed_dim)
        self.text = ReportEncoder(cfg.text, cfg.embed_dim, pretrained=pretrained_text)
        self.logit_scale = nn.Parameter(torch.tensor(float(cfg.init_logit_scale)))  # log(1 / temperature)
        # SigLIP only. Under CLIP it gets no gradient: freeze it there (``use_logit_bias(False)``), or
        # DistributedDataParallel finds an unused parameter and stops.
        self.logit_bias = nn.Parameter(torch.tensor(float(cfg.init_logit_bias)))

    def use_logit_bias(self, on: bool) -> None:
        """Train ``logit_bias`` (SigLIP) or freeze it (CLIP, whose loss ignores it)."""
        self.logit_bias.requires_grad_(on)

    @property
    def embed_dim(self) -> int:
        """Width of the shared embedding space."""
        return self.cfg.embed_dim

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Reports -> token dict for ``encode_report`` (on the CPU; move it to the model's device yourself)."""
        return self.text.tokenize(texts)

    def encode_volume(self, x: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """``[B, 1, S, S, S]`` preprocessed volumes -> ``[B, embed_dim]`` (unit length when ``normalize``)."""
        z = self.visual(x)
        return F.normalize(z, dim=-1) if normalize else z

    def encode_report(self, tokens: dict[str, torch.Tensor], normalize: bool = True) -> torch.Tensor:
        """Token dict from ``tokenize`` -> ``[B, embed_dim]`` (unit length when ``normalize``)."""
        z = self.text(tokens)
        return F.normalize(z, dim=-1) if normalize else z

    def forward(self, volume: torch.Tensor | None = None,
                tokens: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """Normalised features of whichever inputs are given, plus the loss parameters.

        Returns:
            ``{"image_features": [B, E]`` (if ``volume``), ``"text_features": [B, E]`` (if ``tokens``),
            ``"logit_scale": exp(log scale)`` (scalar, as ``ClipLoss`` expects; the log scale is clamped at
            ``ln 100`` as in CLIP, so the temperature cannot collapse), ``"logit_bias"`` (scalar)}.
        """
        out: dict[str, torch.Tensor] = {}
        if volume is not None:
            out["image_features"] = self.encode_volume(volume)
        if tokens is not None:
            out["text_features"] = self.encode_report(tokens)
        out["logit_scale"] = self.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
        out["logit_bias"] = self.logit_bias
        return out


class ReportModel(nn.Module):
    """The report tower of an ``MRIClip`` alone, under the same module names (state-dict keys ``text.*``), so the
    same weights give the same report embeddings. Text queries use it: building it needs no image tower, hence
    no MONAI import (seconds of a query's start-up).

    Args:
        cfg: the whole model's configuration (only ``text`` and ``embed_dim`` are used).
        pretrained_text: load the text backbone's installed weights (False when a checkpoint follows).
    """

    def __init__(self, cfg: ModelCfg, pretrained_text: bool = True) -> None:
        super().__init__()
        self.cfg = cfg
        self.text = ReportEncoder(cfg.text, cfg.embed_dim, pretrained=pretrained_text)

    @property
    def embed_dim(self) -> int:
        """Width of the shared embedding space."""
        return self.cfg.embed_dim

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """As ``MRIClip.tokenize``."""
        return self.text.tokenize(texts)

    def encode_report(self, tokens: dict[str, torch.Tensor], normalize: bool = True) -> torch.Tensor:
        """As ``MRIClip.encode_report``: token dict -> ``[B, embed_dim]`` (unit length when ``normalize``)."""
        z = self.text(tokens)
        return F.normalize(z, dim=-1) if normalize else z


def build_model(cfg: ModelCfg, pretrained_text: bool = True) -> MRIClip:
    """A freshly initialised ``MRIClip`` (the text backbone pretrained unless ``pretrained_text`` is False)."""
    return MRIClip(cfg, pretrained_text=pretrained_text)
