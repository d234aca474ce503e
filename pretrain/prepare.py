"""What both stages do before training: scan the archive, split by patient, fill the preprocessing cache.

Every series is preprocessed once, up front, in worker processes, into the on-disk ``PreprocessCache``; a series
that fails (a file that turned out truncated, an unreadable volume) is dropped with its reason in
``OUT/errors.tsv`` and the run goes on. Training then only reads cached tensors and augments them, so a broken
file can never stop a run half-way, and the number of items (part of the exact-resume state) is fixed before the
first step.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from mri_search.ingest.archive import scan_archive, write_error_report
from mri_search.ingest.config import ScanOptions
from mri_search.ingest.records import Skip
from mri_search.ingest.report_text import parse_report
from mri_search.preprocess import PreprocessCache, PreprocessConfig, default_cache_dir
from mri_search.tensor_archive import TensorStore, is_tensor_archive, list_series
from pretrain.data import Item, build_items, split_items

log = logging.getLogger(__name__)

ERRORS = "errors.tsv"


@dataclass(frozen=True)
class DataCfg:
    """Where the training data comes from and how it is split; the same for stage 1 and stage 2."""

    archive: str  # folder, .zip or .tar(.gz) of DICOM and/or NIfTI series with reports, or a tensor archive
    cache_dir: str = ""  # preprocessing cache root; "" = default_cache_dir()
    val_fraction: float = 0.15  # share of patients held out for validation (never trained on)
    split_seed: int = 0  # patient shuffling seed of the train/val split; keep it fixed across stages
    num_workers: int = 2  # worker processes for cache filling and augmentation
    salt: str = "mri-search"  # identifier-hashing salt (ScanOptions.salt); identifiers never reach the model
    max_val_series: int = 256  # validation series evaluated (the first of the val split); 0 = all

    def __post_init__(self) -> None:
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.num_workers < 0 or self.max_val_series < 0:
            raise ValueError("num_workers and max_val_series must be >= 0")

    def to_recipe(self) -> dict:
        """The config as recorded in a model artifact (the salt is a site secret: left out)."""
        d = asdict(self)
        d.pop("salt")
        return d


@dataclass
class Prepared:
    """The data of one run."""

    train: list[Item]  # training series (all preprocessed successfully)
    val: list[Item]  # validation series, disjoint patients
    cache: PreprocessCache | TensorStore  # their preprocessed tensors (a tensor archive holds them already)
    fingerprint: str  # identifies the training data (series keys and shapes, reports), recorded in the artifact
    n_failed: int  # series dropped because preprocessing failed (listed in errors.tsv)
    n_skipped_files: int  # files the scan skipped or could not read (listed in errors.tsv)

    def summary(self) -> dict[str, Any]:
        return {"train_series": len(self.train), "val_series": len(self.val),
                "train_patients": len({_patient(it) for it in self.train}),
                "val_patients": len({_patient(it) for it in self.val}),
                "failed_series": self.n_failed, "skipped_files": self.n_skipped_files}


def _patient(item: Item) -> str:
    return item["record"].patient_key or item["study_key"]


class _Fill(Dataset):
    """Preprocesses item i into the cache; returns an error string instead of raising."""

    def __init__(self, items: list[Item], cache: PreprocessCache) -> None:
        self.items, self.cache = items, cache

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[int, str | None]:
        try:
            self.cache(self.items[i]["record"])
            return i, None
        except (ValueError, OSError, RuntimeError) as exc:  # unreadable or degenerate series: reported, not fatal
            return i, f"{type(exc).__name__}: {exc}".splitlines()[0]


def fill_cache(items: list[Item], cache: PreprocessCache, num_workers: int) -> tuple[list[Item], list[Skip]]:
    """Preprocess every item into ``cache`` (cached ones are only checked); return the good items and the failures."""
    loader = DataLoader(_Fill(items, cache), batch_size=None, num_workers=num_workers,
                        **({"prefetch_factor": 4} if num_workers else {}))
    failed: dict[int, str] = {}
    for i, err in tqdm(loader, total=len(items), desc="preprocessing", unit="series", dynamic_ncols=True):
        if err is not None:
            failed[int(i)] = err
    skips = [Skip(path=items[i]["record"].files[0].display if items[i]["record"].files else items[i]["record"].key,
                  reason=f"preprocessing failed: {reason}", series=items[i]["record"].key, level="failed")
             for i, reason in sorted(failed.items())]
    for s in skips:
        log.warning("%s: %s", s.path, s.reason)
    return [it for i, it in enumerate(items) if i not in failed], skips


def data_fingerprint(items: list[Item]) -> str:
    """sha256 over the sorted (series key, shape, study key, has report) of the training items."""
    rows = sorted((it["record"].key, list(it["record"].shape), it["study_key"], it["report"] is not None)
                  for it in items)
    return "sha256:" + hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def prepare(data: DataCfg, pcfg: PreprocessConfig, out_dir: Path) -> Prepared:
    """Scan ``data.archive``, split by patient, preprocess everything; write ``out_dir/errors.tsv``.

    Raises:
        ValueError: the archive cannot be read, holds no usable series, or leaves a split empty.
    """
    if is_tensor_archive(data.archive):
        items, skipped, cache = _tensor_items(data.archive, pcfg)
        failed: list[Skip] = []
    else:
        scan = scan_archive(Path(data.archive), ScanOptions(salt=data.salt, workers=max(1, data.num_workers)))
        items, skipped = build_items(scan), scan.skipped
        if not items:
            raise ValueError(f"no readable MR series in {data.archive} ({len(skipped)} files skipped)")
        cache = PreprocessCache(data.cache_dir or str(default_cache_dir()), pcfg)
        items, failed = fill_cache(items, cache, data.num_workers)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_error_report(skipped + failed, out_dir / ERRORS)
    if not items:
        raise ValueError(f"every series of {data.archive} failed preprocessing; see {out_dir / ERRORS}")
    train, val = split_items(items, (1 - data.val_fraction, data.val_fraction), data.split_seed)
    if not train or not val:
        raise ValueError(f"{data.archive} has too few patients for a train/validation split "
                         f"({len(train)} train, {len(val)} val series)")
    if data.max_val_series:
        val = val[: data.max_val_series]
    prepared = Prepared(train=train, val=val, cache=cache, fingerprint=data_fingerprint(train),
                        n_failed=len(failed), n_skipped_files=len(skipped))
    log.info("data: %s", prepared.summary())
    return prepared


def _tensor_items(archive: str, pcfg: PreprocessConfig) -> tuple[list[Item], list[Skip], TensorStore]:
    """Items of a tensor archive (``mri-search synth --format tensors``): its tensors are already the
    preprocessing's output, so nothing is scanned or preprocessed again. A study file that cannot be read is a
    skipped line (``errors.tsv``), not a stop.

    Raises:
        PreprocessMismatch: the archive was made with another ``PreprocessConfig`` than ``pcfg``.
        ValueError: not a readable tensor archive, or no series in it.
    """
    store = TensorStore(archive, pcfg)
    series, problems = list_series(archive)
    items: list[Item] = []
    reports: dict[str, object] = {}
    for rec, text in series:
        if rec.study_key not in reports:
            try:
                reports[rec.study_key] = parse_report(text, f"{rec.path}#report")
            except ValueError:  # an empty report: the study trains stage 1 only
                reports[rec.study_key] = None
        items.append({"record": rec, "study_key": rec.study_key, "report": reports[rec.study_key]})
    skipped = [Skip(path=path, reason=f"unreadable tensor study file: {reason}", level="failed")
               for path, reason in problems]
    if not items:
        raise ValueError(f"no series in the tensor archive {archive} ({len(skipped)} study files unreadable)")
    return items, skipped, store


def stack(tensors: list[torch.Tensor]) -> torch.Tensor:
    """Plain ``[B, 1, X, Y, Z]`` batch from cached MetaTensors."""
    return torch.stack([t.as_tensor() if hasattr(t, "as_tensor") else t for t in tensors])
