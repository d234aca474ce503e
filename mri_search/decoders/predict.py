"""``predict``: run a decoder folder on series (a file, a folder or an archive) and write its outputs in each
series' own geometry.

Per series, named after its NIfTI file or its DICOM series number and description:

- segmentation: ``<name>_pred_dseg.nii.gz`` (uint8 class per voxel, the series' shape and affine) and, once,
  ``classes.csv`` (class -> structure name and tissue labels);
- localisation: ``<name>_lesion_probseg.nii.gz`` (float32 lesion probability on the series' grid),
  ``<name>_lesions.json`` (each predicted lesion: centre and box in RAS mm, its slice in the series, peak
  probability) and ``<name>_overlay.png`` (the slice through the strongest lesion, heatmap overlaid);
- ``predictions.json``: one line per series (what was written, or why it failed).
"""

from __future__ import annotations

import csv
import json
import logging
import re
from pathlib import Path

import numpy as np

from ..ingest.archive import scan_archive
from ..ingest.records import SeriesRecord
from ..preprocess import preprocess
from ..preprocess_transforms import LoadSeriesd, ras_affine
from .artifact import LoadedDecoder, load_decoder
from .infer import model_grid_probs, native_classes, to_series_grid
from .metrics import blobs

log = logging.getLogger(__name__)


def output_name(record: SeriesRecord) -> str:
    """A file-name stem for a series: its NIfTI name, or ``series-<number>-<description>`` for DICOM."""
    if record.source == "nifti":
        name = record.files[0].name
        return re.sub(r"\.nii(\.gz)?$", "", name)
    desc = re.sub(r"[^A-Za-z0-9]+", "_", record.series_description).strip("_")[:40]
    return f"series-{record.series_number if record.series_number is not None else 0}-{desc or record.key[:8]}"


def _save_nifti(array: np.ndarray, affine: np.ndarray, path: Path) -> None:
    import nibabel as nib

    img = nib.Nifti1Image(array, affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))


def _overlay(record: SeriesRecord, prob: np.ndarray, slice_index: int, path: Path, title: str) -> None:
    """PNG of one slice of the series (rows x columns) with the lesion probability overlaid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image = LoadSeriesd()({"series": record})["image"][0].numpy()  # [C, R, S]
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.imshow(image[:, :, slice_index].T, cmap="gray", interpolation="nearest")
    masked = np.ma.masked_less(prob[:, :, slice_index].T, 0.1)
    ax.imshow(masked, cmap="inferno", alpha=0.5, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def predict_series(loaded: LoadedDecoder, record: SeriesRecord, out: Path, threshold: float = 0.5,
                   name: str | None = None) -> dict:
    """Predict one series and write its files into ``out`` (named ``name``, default ``output_name(record)``);
    returns what was written."""
    image = preprocess(record, loaded.preprocess)  # MetaTensor [1, S, S, S], RAS affine of the model grid
    probs = model_grid_probs(loaded.net, image.as_tensor(), loaded.task)
    affine = ras_affine(record)
    name = name or output_name(record)
    if loaded.task == "segment":
        classes = native_classes(probs, image.affine, record)
        path = out / f"{name}_pred_dseg.nii.gz"
        _save_nifti(classes, affine, path)
        voxel_ml = float(abs(np.linalg.det(affine[:3, :3]))) / 1000.0
        counts = np.bincount(classes.ravel(), minlength=loaded.structures.num_classes)
        volumes = {n: round(float(counts[i + 1]) * voxel_ml, 2) for i, n in enumerate(loaded.structures.names)}
        return {"series": record.key, "segmentation": str(path), "volume_ml": volumes}
    prob = to_series_grid(probs, image.affine, record)[0].numpy().astype(np.float32)  # [C, R, S]
    path = out / f"{name}_lesion_probseg.nii.gz"
    _save_nifti(prob, affine, path)
    lesions = sorted(blobs(probs[0].numpy(), image.affine.numpy(), threshold), key=lambda b: -b.score)
    inv = np.linalg.inv(affine)
    found = []
    for b in lesions:
        c, r, s = (inv @ np.append(b.centre, 1.0))[:3]
        found.append({**b.to_dict(), "series_voxel": [int(round(c)), int(round(r)), int(round(s))],
                      "slice_index": int(np.clip(round(s), 0, record.shape[0] - 1))})
    (out / f"{name}_lesions.json").write_text(json.dumps({"series": record.key, "threshold": threshold,
                                                          "peak_probability": float(prob.max()),
                                                          "lesions": found}, indent=2) + "\n")
    peak_slice = found[0]["slice_index"] if found else int(np.argmax(prob.max(axis=(0, 1))))
    overlay = out / f"{name}_overlay.png"
    _overlay(record, prob, peak_slice, overlay,
             f"{name}\nslice {peak_slice}: {len(found)} lesion(s) >= {threshold:g}, peak {prob.max():.2f}")
    return {"series": record.key, "heatmap": str(path), "lesions": len(found), "overlay": str(overlay),
            "peak_probability": float(prob.max()), "strongest": found[0] if found else None}


def run_predict(inputs: Path, decoder: Path, out: Path, model: Path | None = None, threshold: float = 0.5) -> list[dict]:
    """Predict every series under ``inputs`` (file, folder, zip or tar) with the decoder folder ``decoder``.

    Raises:
        ValueError: not a decoder folder, or no readable series under ``inputs``.
    """
    loaded = load_decoder(decoder, model)
    scan = scan_archive(Path(inputs))
    if not scan.series:
        raise ValueError(f"{inputs}: no readable MR series found")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if loaded.task == "segment":
        with open(out / "classes.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["class", "structure", "tissue_labels"])
            w.writerow([0, "background", ""])
            for i, (n, labels) in enumerate(zip(loaded.structures.names, loaded.structures.labels), start=1):
                w.writerow([i, n, " ".join(map(str, labels))])
    lines, used = [], set()
    for record in scan.series:
        name = output_name(record)
        name = name if name not in used else f"{name}-{record.key[:8]}"  # same number/description in two studies
        used.add(name)
        try:
            lines.append(predict_series(loaded, record, out, threshold, name))
        except ValueError as exc:  # an unreadable series: say which and go on
            lines.append({"series": record.key, "error": str(exc)})
    (out / "predictions.json").write_text(json.dumps(lines, indent=2) + "\n")
    return lines
