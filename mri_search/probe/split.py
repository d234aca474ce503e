"""Splits by patient and low-data subsets: no patient's series are ever on both sides of a split.

``patient_splits`` gives one held-out split (the first of ``round(1 / test_fraction)`` folds) or ``folds``
cross-validation folds, stratified by class for classification (scikit-learn's ``StratifiedGroupKFold``; regression:
``GroupKFold``), shuffled with the seed. ``low_data`` takes a seeded share of a training side by whole patients, the
shares nested (the 1 % subset lies inside the 10 % one of the same draw).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np


def patient_splits(y: np.ndarray, groups: Sequence[str], kind: str, test_fraction: float = 0.2, folds: int = 0,
                   seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(train indices, test indices), ...]``: one pair for a held-out split, ``folds`` pairs for cross-validation.

    Raises:
        ValueError: fewer patients than folds.
    """
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    n_splits = folds if folds >= 2 else max(2, round(1.0 / test_fraction))
    n_groups = len(set(groups))
    if n_groups < n_splits:
        what = f"{folds} folds" if folds >= 2 else f"a {test_fraction:.0%} test split"
        raise ValueError(f"{n_groups} patients are too few for {what} by patient; label more patients, or lower "
                         "--folds / raise --test-fraction")
    if kind == "classification":
        cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    else:
        cv = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # "the least populated class has only N members": expected, not fatal
        warnings.simplefilter("ignore", UserWarning)
        pairs = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(np.zeros(len(y)), np.asarray(y), groups)]
    return pairs if folds >= 2 else pairs[:1]


def low_data(train: np.ndarray, y: np.ndarray, groups: Sequence[str], fraction: float, kind: str,
             rng: np.random.Generator) -> np.ndarray:
    """A seeded ``fraction`` of the series of ``train``, taken by whole patients.

    Patients are drawn in a random order until their series reach ``ceil(fraction * len(train))`` (at least one
    patient); a classification subset grows by further patients until it holds two classes. Draw the order once per
    repeat (pass generators seeded alike) and the subsets of growing fractions are nested.

    Returns:
        The chosen indices (a subset of ``train``, in its order).
    """
    train = np.asarray(train)
    if fraction >= 1.0:
        return train
    by_patient: dict[str, list[int]] = {}
    for i in train:
        by_patient.setdefault(groups[i], []).append(int(i))
    order = sorted(by_patient)
    rng.shuffle(order)
    want = max(1, math.ceil(fraction * len(train)))
    chosen: list[int] = []
    classes: set = set()
    for p in order:
        if len(chosen) >= want and (kind != "classification" or len(classes) >= 2):
            break
        chosen += by_patient[p]
        classes |= {str(y[i]) for i in by_patient[p]}
    keep = set(chosen)
    return np.array([i for i in train if int(i) in keep], dtype=train.dtype)
