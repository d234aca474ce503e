"""Probe scores: AUC, accuracy and balanced accuracy for classes, MAE for numbers, and what a blind guess scores."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

CLASSIFICATION = ("auc", "accuracy", "balanced_accuracy")
REGRESSION = ("mae", "r2")
MAIN = {"classification": "auc", "regression": "mae"}  # the figure a table shows first


def classification_metrics(y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str]) -> dict[str, float]:
    """``auc``: macro one-vs-rest ROC AUC over the test classes that have both positives and negatives (a two-class
    probe on a two-class test set: the second class's AUC); a test class the probe never saw scores chance.
    ``accuracy`` and ``balanced_accuracy`` (mean recall per test class) of the most probable class.

    Args:
        y_true: ``[n]`` test labels.
        proba: ``[n, C]`` probabilities, columns in ``classes`` order.
        classes: the probe's classes.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

    y = np.asarray(y_true).astype(str)
    cols = {c: i for i, c in enumerate(classes)}
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    present = sorted(set(y.tolist()))
    binary = len(classes) == 2 and set(present) <= set(classes)  # one AUC: the two one-vs-rest AUCs are equal
    aucs = []
    for c in classes[1:] if binary else present:
        pos = y == c
        if pos.all() or not pos.any():
            continue
        score = proba[:, cols[c]] if c in cols else np.zeros(len(y))
        aucs.append(roc_auc_score(pos, score))
    with warnings.catch_warnings():  # "y_pred contains classes not in y_true": expected with small test sets
        warnings.simplefilter("ignore", UserWarning)
        bal = balanced_accuracy_score(y, pred)
    return {"auc": float(np.mean(aucs)) if aucs else math.nan, "accuracy": float(accuracy_score(y, pred)),
            "balanced_accuracy": float(bal)}


def regression_metrics(y_true: Sequence[float], pred: np.ndarray) -> dict[str, float]:
    """``mae`` (mean absolute error, in the label's unit) and ``r2`` (coefficient of determination)."""
    from sklearn.metrics import mean_absolute_error, r2_score

    y = np.asarray(y_true, np.float64)
    return {"mae": float(mean_absolute_error(y, pred)), "r2": float(r2_score(y, pred)) if len(y) > 1 else math.nan}


def blind_baseline(kind: str, y_train: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
    """What ignoring the features scores: the training set's most frequent class (its ``accuracy``, and AUC 0.5),
    or its median (its ``mae``)."""
    if kind == "classification":
        values, counts = np.unique(np.asarray(y_train).astype(str), return_counts=True)
        majority = values[counts.argmax()]
        return {"accuracy": float(np.mean(np.asarray(y_test).astype(str) == majority)), "auc": 0.5}
    return {"mae": float(np.mean(np.abs(np.asarray(y_test, np.float64) - np.median(y_train))))}
