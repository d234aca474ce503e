"""Scores of decoders: Dice per structure (MONAI's ``DiceMetric``), and lesion localisation in world millimetres.

Lesions are connected components (26-connected) of a mask or of a thresholded heatmap. Each has a centre and an
axis-aligned box in RAS mm (the box of its voxels' corners, through the grid's affine), so ground truth on the
series' own grid and predictions on the model's grid are compared in one frame. A ground-truth lesion is
*detected* when a predicted centre lies within ``distance_mm`` of its centre (each prediction matches at most one
lesion, nearest first); its IoU is the best IoU of its box with any predicted box (``monai.data.box_utils``), 0
when nothing was predicted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def dice_per_class(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> np.ndarray:
    """Dice of each foreground class of one volume: ``[num_classes - 1]``, NaN where the class is absent from the
    ground truth (MONAI's ``ignore_empty``: such a case says nothing about that structure).

    Args:
        pred: integer class map ``[X, Y, Z]``.
        target: integer class map, same shape.
        num_classes: classes including background.
    """
    from monai.metrics import DiceMetric
    from monai.networks.utils import one_hot

    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    p = one_hot(pred.long()[None, None], num_classes)
    t = one_hot(target.long()[None, None], num_classes)
    metric = DiceMetric(include_background=False, reduction="none", ignore_empty=True)
    return metric(p, t)[0].cpu().numpy().astype(float)


@dataclass(frozen=True)
class Blob:
    """One lesion (ground truth or predicted) in world coordinates."""

    centre: tuple[float, float, float]  # RAS mm (probability-weighted for predictions)
    box: tuple[float, float, float, float, float, float]  # RAS mm: xmin, ymin, zmin, xmax, ymax, zmax
    volume_mm3: float
    score: float  # peak probability (predictions), 1 for ground truth
    voxel: tuple[int, int, int]  # array index of the peak (or of the centre) on its own grid

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"centre_ras_mm": [round(v, 2) for v in self.centre], "box_ras_mm": [round(v, 2) for v in self.box],
                "volume_mm3": round(self.volume_mm3, 1), "score": round(self.score, 4), "voxel": list(self.voxel)}


def blobs(values: np.ndarray, affine: np.ndarray, threshold: float = 0.5, min_mm3: float = 0.0) -> list[Blob]:
    """Connected components of ``values >= threshold`` (a 0/1 mask or a probability map ``[X, Y, Z]``).

    Args:
        values: the map on a grid.
        affine: 4x4 voxel index -> RAS mm of that grid.
        threshold: foreground level.
        min_mm3: smaller components are dropped (fragments of partial volume).
    """
    from scipy import ndimage

    values = np.asarray(values, dtype=np.float32)
    affine = np.asarray(affine, dtype=np.float64)
    lab, n = ndimage.label(values >= threshold, structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return []
    voxel_mm3 = float(abs(np.linalg.det(affine[:3, :3])))
    out = []
    for i, sl in enumerate(ndimage.find_objects(lab), start=1):
        comp = lab[sl] == i
        vol = float(comp.sum()) * voxel_mm3
        if vol < min_mm3:
            continue
        w = values[sl] * comp
        idx = np.argwhere(comp) + np.array([s.start for s in sl])
        weights = w[comp]
        centre_idx = (idx * weights[:, None]).sum(0) / max(float(weights.sum()), 1e-12)
        lo, hi = idx.min(0) - 0.5, idx.max(0) + 0.5
        corners = np.array([[a, b, c, 1.0] for a in (lo[0], hi[0]) for b in (lo[1], hi[1]) for c in (lo[2], hi[2])])
        world = corners @ affine.T
        peak = idx[int(np.argmax(weights))]
        out.append(Blob(centre=tuple(float(v) for v in (affine @ np.append(centre_idx, 1.0))[:3]),
                        box=tuple(float(v) for v in np.concatenate([world[:, :3].min(0), world[:, :3].max(0)])),
                        volume_mm3=vol, score=float(weights.max()), voxel=tuple(int(v) for v in peak)))
    return out


def match(gt: list[Blob], pred: list[Blob], distance_mm: float) -> dict:
    """Detections of one series: ``{"detected": [bool per gt], "iou": [float per gt], "false_positives": int}``."""
    from monai.data.box_utils import box_iou

    detected = [False] * len(gt)
    used: set[int] = set()
    if gt and pred:
        d = np.linalg.norm(np.array([g.centre for g in gt])[:, None] - np.array([p.centre for p in pred])[None],
                           axis=-1)  # [G, P] mm
        for gi, pi in sorted(np.ndindex(d.shape), key=lambda ij: d[ij]):
            if d[gi, pi] > distance_mm:
                break
            if not detected[gi] and pi not in used:
                detected[gi] = True
                used.add(pi)
        iou = box_iou(np.array([g.box for g in gt]), np.array([p.box for p in pred])).max(1).tolist()
    else:
        iou = [0.0] * len(gt)
    return {"detected": detected, "iou": [float(v) for v in iou], "false_positives": len(pred) - len(used)}


def summarise_localisation(per_series: list[dict], distance_mm: float) -> dict:
    """Aggregate ``match`` results plus each series' lesion score (``score``, ``has_lesion``) over a test set."""
    from sklearn.metrics import roc_auc_score

    detected = [d for s in per_series for d in s["detected"]]
    ious = [v for s in per_series for v in s["iou"]]
    labels = [s["has_lesion"] for s in per_series]
    scores = [s["score"] for s in per_series]
    auc = float(roc_auc_score(labels, scores)) if 0 < sum(labels) < len(labels) else None
    return {"series": len(per_series), "lesions": len(detected), "distance_mm": distance_mm,
            "detection_rate": float(np.mean(detected)) if detected else None,
            "mean_box_iou": float(np.mean(ious)) if ious else None,
            "false_positives_per_series": float(np.mean([s["false_positives"] for s in per_series]))
            if per_series else None,
            "series_auroc": auc}
