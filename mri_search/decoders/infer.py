"""Run a decoder on one preprocessed volume, and bring its output back onto the series' own grid.

On the model grid: class probabilities (softmax, segmentation) or the lesion probability (sigmoid heatmap,
trilinearly upsampled from the heatmap's resolution to the model grid). Back on the series' grid: the
probabilities resampled by the two affines (MONAI's ``ResampleToMatch``, trilinear), then the arg-max class, so a
prediction has exactly the shape and affine of the series it was made from.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..ingest.records import SeriesRecord
from ..preprocess_transforms import ras_affine


@torch.no_grad()
def model_grid_probs(net: nn.Module, image: torch.Tensor, task: str) -> torch.Tensor:
    """``[1, S, S, S]`` image -> ``[C, S, S, S]`` class probabilities (segment) or ``[1, S, S, S]`` lesion
    probability (localize)."""
    net.eval()
    logits = net(image[None].float())  # [1, C, ...]
    if task == "segment":
        return torch.softmax(logits, dim=1)[0]
    size = tuple(image.shape[1:])
    if tuple(logits.shape[2:]) != size:
        logits = F.interpolate(logits, size=size, mode="trilinear", align_corners=False)
    return torch.sigmoid(logits)[0]


def series_grid(record: SeriesRecord):
    """An empty ``MetaTensor`` ``[1, C, R, S]`` on the series' own grid (its shape and RAS affine)."""
    from monai.data import MetaTensor

    return MetaTensor(torch.zeros((1, *reversed(record.shape)), dtype=torch.uint8),
                      affine=torch.as_tensor(ras_affine(record)))


def to_series_grid(probs: torch.Tensor, model_affine: torch.Tensor, record: SeriesRecord) -> torch.Tensor:
    """Probabilities on the model grid -> ``[C, X, Y, Z]`` on the series' grid (NIfTI order ``[C, R, S]``)."""
    from monai.data import MetaTensor
    from monai.transforms import ResampleToMatch

    src = MetaTensor(probs.float(), affine=model_affine)
    out = ResampleToMatch(mode="bilinear", padding_mode="zeros")(src, series_grid(record))
    out = out.as_tensor()
    if out.shape[0] > 1:  # outside the model's field of view every class is 0: call it background
        out[0][out.sum(0) == 0] = 1.0
    return out


def native_classes(probs: torch.Tensor, model_affine: torch.Tensor, record: SeriesRecord) -> np.ndarray:
    """Arg-max class per voxel of the series' grid, uint8 ``[C, R, S]``."""
    return to_series_grid(probs, model_affine, record).argmax(0).to(torch.uint8).numpy()
