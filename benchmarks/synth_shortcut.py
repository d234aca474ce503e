"""Shortcut audit of a generated archive: how far do geometry and intensity histograms alone get?

A gradient-boosting classifier sees only what a model could exploit without understanding anatomy: matrix size,
voxel spacing, slice thickness and step, field of view, slice coverage, acquisition plane (from the affine), field
strength and a 32-bin intensity histogram of the series (intensities scaled by the series' 99th percentile). It is
trained on the archive's train split and scored on its test split (patients disjoint), for body region and for
head-and-neck tumour sub-site. Accuracies near chance mean the labels are not readable from acquisition settings;
real protocols do differ by region (a knee FOV is smaller than an abdomen FOV), so body region is expected to be
partly predictable, as it would be on real archives.

Run: ``python -m benchmarks.synth_shortcut ARCHIVE [--out results.json]``
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import nibabel as nib
import numpy as np

from mri_search.synth.manifest import read_manifest

N_BINS = 32


def series_features(path: Path, field_t: float) -> np.ndarray:
    """Geometry + histogram features of one NIfTI series (4D DWI: its last volume)."""
    img = nib.load(str(path))
    data = np.asarray(img.dataobj, dtype=np.float32)
    if data.ndim == 4:
        data = data[..., -1]
    zooms = np.asarray(img.header.get_zooms()[:3], float)
    shape = np.asarray(data.shape[:3], float)
    aff = img.affine[:3, :3]
    normal = aff[:, 2] / np.linalg.norm(aff[:, 2])
    plane = np.abs(normal)  # |x|: sagittal, |y|: coronal, |z|: axial
    fov = shape * zooms
    hi = np.percentile(data, 99) or 1.0
    hist, _ = np.histogram(np.clip(data / hi, 0, 1.5), bins=N_BINS, range=(0, 1.5))
    hist = hist / max(1, hist.sum())
    return np.concatenate([shape, zooms, fov, plane, [field_t], hist]).astype(np.float32)


GEOMETRY = slice(0, 13)  # shape, spacing, FOV, plane, field strength
HISTOGRAM = slice(13, 13 + N_BINS)


def _fit_score(x_tr, y_tr, x_te, y_te, seed: int) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)
    clf.fit(x_tr, y_tr)
    pred = clf.predict(x_te)
    majority = Counter(y_tr).most_common(1)[0][0]
    return dict(accuracy=float(accuracy_score(y_te, pred)),
                balanced_accuracy=float(balanced_accuracy_score(y_te, pred)),
                majority_baseline=float(np.mean(np.asarray(y_te) == majority)),
                chance_uniform=1.0 / len(set(y_tr) | set(y_te)),
                n_train=len(y_tr), n_test=len(y_te), classes=len(set(y_tr) | set(y_te)))


def run_shortcut_audit(archive: Path, seed: int = 0) -> dict:
    """Train on the train+val split, score on the test split; body region and tumour sub-site."""
    archive = Path(archive)
    rows = [r for r in read_manifest(archive).to_pylist() if r["nifti_path"] and r["sequence"] != "ADC"]
    if not rows:
        raise ValueError(f"{archive} has no NIfTI series: generate it with --format nifti or both")
    feats = np.stack([series_features(archive / r["nifti_path"], r["field_strength"]) for r in rows])
    train = np.array([r["split"] != "test" for r in rows])
    out = {"archive": str(archive), "features": "shape, spacing, FOV, plane, field strength, 32-bin histogram"}
    y = np.array([r["body_region"] for r in rows])
    hn = np.array([r["tumor_site"] is not None and r["body_region"] == "head_neck" for r in rows])
    ys = np.array([r["tumor_site"] or "" for r in rows])
    for name, cols in (("", slice(None)), ("_geometry_only", GEOMETRY), ("_histogram_only", HISTOGRAM)):
        f = feats[:, cols]
        if len(set(y)) > 1:
            out[f"body_region{name}"] = _fit_score(f[train], y[train], f[~train], y[~train], seed)
        if hn[train].sum() > 10 and hn[~train].sum() > 5:
            m_tr, m_te = hn & train, hn & ~train
            out[f"tumor_site{name}"] = _fit_score(f[m_tr], ys[m_tr], f[m_te], ys[m_te], seed)
    return out


def main() -> None:  # pragma: no cover - thin script entry
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    res = run_shortcut_audit(args.archive)
    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":  # pragma: no cover
    main()
