"""Label files of probes: read, check, and join to a features file.

Format: a CSV file (UTF-8, comma-separated) with a header line holding at least

- ``series_key``: the series, as the ``series_key`` column of the features file writes it (the salted hash that
  ``mri-search embed`` / ``index`` / ``inspect --json`` print; the file's ``path`` column says which scan it is);
- ``label``: a class name (classification: any text, e.g. ``brain`` or ``1``) or a number (regression).

Other columns are ignored. Each series once (a repeat with the same label is tolerated). The patient of each series
is taken from the features file (``patient_key``), never from the label file, so a split by patient cannot be
fooled by a label file. Every mistake is a ``ValueError`` naming the file and the line.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .features import Features

KINDS = ("classification", "regression")
KEY_COLUMN = "series_key"
LABEL_COLUMN = "label"


@dataclass
class LabelledSet:
    """The labelled series of a features file, in file order."""

    series_keys: list[str]
    groups: list[str]  # patient of each series (the split unit)
    x: np.ndarray  # [n, d] features
    y: np.ndarray  # [n] str (classification) or float64 (regression)
    n_unlabelled: int  # series of the features file that the label file does not name


def read_labels(path: str | os.PathLike, kind: str) -> tuple[dict[str, str | float], dict[str, int]]:
    """``series_key -> label`` and ``series_key -> line number`` of a label file.

    Raises:
        ValueError: missing file or columns, an empty label, a non-numeric regression value, a series labelled twice
            with different labels.
    """
    if kind not in KINDS:
        raise ValueError(f"task kind must be one of {', '.join(KINDS)}, got {kind!r}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"label file {path} not found")
    labels: dict[str, str | float] = {}
    lines: dict[str, int] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            if KEY_COLUMN not in header or LABEL_COLUMN not in header:
                raise ValueError(f"{path}: the header must name the columns {KEY_COLUMN} and {LABEL_COLUMN} "
                                 f"(found: {', '.join(header) or 'nothing'})")
            reader.fieldnames = header
            for row in reader:
                line = reader.line_num
                key = (row.get(KEY_COLUMN) or "").strip()
                raw = (row.get(LABEL_COLUMN) or "").strip()
                if not key:
                    raise ValueError(f"{path} line {line}: empty {KEY_COLUMN}")
                if not raw:
                    raise ValueError(f"{path} line {line}: empty label for series {key}")
                value = _value(raw, kind, path, line)
                if key in labels and labels[key] != value:
                    raise ValueError(f"{path} line {line}: series {key} is labelled again, {raw!r} here and "
                                     f"{labels[key]!r} on line {lines[key]}")
                labels.setdefault(key, value)
                lines.setdefault(key, line)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
    if not labels:
        raise ValueError(f"{path}: no labels (only a header, or an empty file)")
    return labels, lines


def _value(raw: str, kind: str, path: Path, line: int) -> str | float:
    if kind == "classification":
        return raw
    try:
        v = float(raw)
    except ValueError:
        raise ValueError(f"{path} line {line}: label {raw!r} is not a number (a regression task needs numbers)") \
            from None
    if not math.isfinite(v):
        raise ValueError(f"{path} line {line}: label {raw!r} is not a finite number")
    return v


def join_labels(features: Features, labels_path: str | os.PathLike, kind: str) -> LabelledSet:
    """The series of ``features`` that ``labels_path`` labels, with their labels and patients.

    Raises:
        ValueError: as ``read_labels``; series keys that the features file does not hold (with their lines: the
            label file belongs to another archive, or the features were written with another ``--salt``); a
            classification with a single class; fewer than two patients.
    """
    labels, lines = read_labels(labels_path, kind)
    index = {k: i for i, k in enumerate(features.series_keys)}
    unknown = [k for k in labels if k not in index]
    if unknown:
        shown = ", ".join(f"line {lines[k]} ({k})" for k in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise ValueError(f"{labels_path}: {len(unknown)} of {len(labels)} series keys are not in {features.path}: "
                         f"{shown}{more}. Were the features embedded from the same archive with the same --salt?")
    rows = sorted(index[k] for k in labels)
    keys = [features.series_keys[i] for i in rows]
    y = np.array([labels[k] for k in keys], dtype=object if kind == "classification" else np.float64)
    if kind == "classification":
        y = y.astype(str)
        classes = sorted(set(y.tolist()))
        if len(classes) < 2:
            raise ValueError(f"{labels_path}: only one class ({classes[0]!r}) among {len(keys)} labelled series; "
                             "a classifier needs at least two")
    groups = [features.patient_keys[i] for i in rows]
    if len(set(groups)) < 2:
        raise ValueError(f"{labels_path}: the labelled series come from {len(set(groups))} patient; a split by "
                         "patient needs at least two")
    return LabelledSet(series_keys=keys, groups=groups, x=features.x[rows], y=y,
                       n_unlabelled=len(features.series_keys) - len(keys))
