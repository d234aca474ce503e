"""Model-ready tensor archives: per series, exactly what ingestion + ``mri_search.preprocess`` give, stored once.

Written by ``mri-search synth OUT --format tensors``; read by ``pretrain vision|align`` without preprocessing again.
Layout under ``OUT``::

    tensors.json                        format marker: the PreprocessConfig (and its hash) the tensors were made with,
                                        and the generator settings (so a rerun of the same command resumes)
    tensors/<accession>.safetensors     one file per study, written atomically (a file that exists is complete):
                                        ``<series uid>`` uint8 [1, X, Y, Z] (intensity = value / 255, the [0, 1] output
                                        of the preprocessing), ``<series uid>.affine`` float64 [4, 4] (RAS voxel -> mm);
                                        metadata ``study``: JSON of ``report`` (the study's report text) and
                                        ``rows`` (its manifest rows)
    manifest.parquet                    ground truth, one row per series (the same schema as a file archive)

uint8 keeps a 96^3 series at 0.88 MB (float16 would be 1.77 MB); the rounding error is at most 1/510 of the [0, 1]
range, far below the noise of any series.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .atomic import atomic_path

if TYPE_CHECKING:  # torch and preprocessing (MONAI) load only on the paths that use them: `synth --format dicom`
    import torch  # never needs them

    from .preprocess import PreprocessConfig

FORMAT = "mri-search-tensors"
VERSION = 1
MARKER = "tensors.json"
FOLDER = "tensors"
LEVELS = 255  # uint8 code = round(value * LEVELS)


class PreprocessMismatch(ValueError):
    """A tensor archive made with another preprocessing than the model's (its tensors would be the wrong input)."""


@dataclass(frozen=True)
class TensorRecord:
    """One series of a tensor archive: enough for splitting, fingerprinting and loading its tensor."""

    key: str  # the series' SeriesInstanceUID (the tensor's name in its study file)
    study_key: str  # StudyInstanceUID
    patient_key: str  # PatientID of the generated patient
    shape: tuple[int, int, int]  # the stored tensor's spatial size (X, Y, Z)
    path: str  # the study's .safetensors file
    sequence: str = ""  # the series' sequence (manifest)

    @property
    def files(self) -> tuple:
        """No source files (the tensor file stands for them in error lines)."""
        return ()


def is_tensor_archive(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder holding a tensor-archive marker."""
    return (Path(path) / MARKER).is_file()


def write_marker(out: Path, pcfg: PreprocessConfig, generator: dict) -> None:
    """Write ``out/tensors.json`` (format, preprocessing config and hash, generator settings)."""
    doc = {"format": FORMAT, "version": VERSION, "preprocess": pcfg.to_dict(), "preprocess_hash": pcfg.hash(),
           "levels": LEVELS, "generator": generator}
    (Path(out) / MARKER).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def read_marker(archive: str | os.PathLike) -> dict:
    """The parsed ``tensors.json`` of a tensor archive.

    Raises:
        ValueError: missing, unreadable, or of another format/version.
    """
    path = Path(archive) / MARKER
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable tensor-archive marker ({exc})") from None
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ValueError(f"{path}: format {doc.get('format')!r} version {doc.get('version')!r}; "
                         f"this version reads {FORMAT!r} version {VERSION}")
    return doc


def archive_preprocess(archive: str | os.PathLike) -> PreprocessConfig:
    """The PreprocessConfig a tensor archive was made with."""
    from .preprocess import PreprocessConfig

    return PreprocessConfig.from_dict(read_marker(archive)["preprocess"])


def check_preprocess(archive: str | os.PathLike, pcfg: PreprocessConfig) -> None:
    """Refuse a tensor archive whose preprocessing differs from ``pcfg`` (naming the fields that differ).

    Raises:
        PreprocessMismatch: the deterministic pipelines differ (``PreprocessConfig.hash()``).
    """
    theirs = archive_preprocess(archive)
    if theirs.hash() == pcfg.hash():
        return
    a, b = theirs.to_dict(), pcfg.to_dict()
    diff = ", ".join(f"{k} {a[k]} (archive) vs {b[k]} (model)" for k in sorted(a) if k != "augment" and a[k] != b[k])
    raise PreprocessMismatch(f"{archive}: tensor archive made with another PreprocessConfig than the model's: {diff}; "
                             "regenerate it for the model's input size (`mri-search synth --format tensors "
                             "--tensor-size N`) or train on a file archive")


def encode(image: torch.Tensor | np.ndarray) -> torch.Tensor:
    """[0, 1] float image -> uint8 codes (round to nearest)."""
    import torch

    arr = image.as_tensor() if hasattr(image, "as_tensor") else torch.as_tensor(image)
    return torch.round(arr.float().clamp(0.0, 1.0) * LEVELS).to(torch.uint8)


def decode(codes: torch.Tensor) -> torch.Tensor:
    """uint8 codes -> float32 in [0, 1]."""
    import torch

    return codes.to(torch.float32) / LEVELS


def study_path(out: Path, accession: str) -> Path:
    """Where the tensors of the study with ``accession`` are stored."""
    return Path(out) / FOLDER / f"{accession}.safetensors"


def write_study(path: Path, series: list[tuple[str, torch.Tensor, torch.Tensor]], report: str,
                rows: list[dict]) -> None:
    """Write one study file atomically.

    Args:
        path: from ``study_path``.
        series: ``(series uid, uint8 image [1, X, Y, Z], float64 affine [4, 4])`` per series.
        report: the study's report text.
        rows: its manifest rows (JSON-serialisable).
    """
    import torch
    from safetensors.torch import save_file

    tensors = {}
    for uid, codes, affine in series:
        tensors[uid] = codes.contiguous()
        tensors[uid + ".affine"] = affine.to(torch.float64).contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:  # its ".tmp" name is not a study file (``study_files``) until it is renamed
        # one metadata key: safetensors writes its metadata map in no fixed order, and the same study must give
        # the same bytes
        save_file(tensors, str(tmp), metadata={"study": json.dumps({"report": report, "rows": rows}, sort_keys=True)})
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; the archive is ordinary data


def read_study_meta(path: Path) -> tuple[str, list[dict]]:
    """(report text, manifest rows) of one study file, without reading its tensors."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    study = json.loads(meta.get("study", "{}"))
    return study.get("report", ""), study.get("rows", [])


def study_files(archive: str | os.PathLike) -> list[Path]:
    """The finished study files of an archive, sorted by name."""
    return sorted((Path(archive) / FOLDER).glob("*.safetensors"))


def list_series(archive: str | os.PathLike) -> tuple[list[tuple[TensorRecord, str]], list[tuple[str, str]]]:
    """Every series of a tensor archive with its study's report text, in study-file order, and the study files
    that could not be read as ``(path, reason)`` (a damaged file loses its own study only)."""
    size = tuple(int(s) for s in archive_preprocess(archive).size)
    out, problems = [], []
    for path in study_files(archive):
        try:
            report, rows = read_study_meta(path)
            records = [TensorRecord(key=r["series_uid"], study_key=r["study_uid"], patient_key=r["patient_id"],
                                    shape=size, path=str(path), sequence=r.get("sequence") or "") for r in rows]
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own errors for a damaged header
            problems.append((str(path), f"{type(exc).__name__}: {exc}".splitlines()[0][:200]))
            continue
        out.extend((rec, report) for rec in records)
    return out, problems


class TensorStore:
    """``record -> MetaTensor [1, X, Y, Z]`` float32 in [0, 1] with its affine, read from the archive: the stand-in
    for ``PreprocessCache`` when the data is already preprocessed.

    Args:
        archive: the tensor archive.
        cfg: the model's preprocessing; must match the archive's (``check_preprocess``).
    """

    def __init__(self, archive: str | os.PathLike, cfg: PreprocessConfig) -> None:
        check_preprocess(archive, cfg)
        self.archive = Path(archive)
        self.cfg = cfg

    def __call__(self, record: TensorRecord) -> torch.Tensor:
        from monai.data import MetaTensor
        from safetensors import safe_open

        with safe_open(record.path, framework="pt") as f:
            codes = f.get_tensor(record.key)
            affine = f.get_tensor(record.key + ".affine")
        return MetaTensor(decode(codes), affine=affine, meta={"series_key": record.key})
