"""Probe heads: fitted with scikit-learn, kept and applied as plain arrays.

A fitted head is standardisation (``(x - mean) / scale``), then dense layers with ReLU between them, then softmax
(several classes), sigmoid (two classes) or nothing (regression, whose target was standardised too). That covers
scikit-learn's ``LogisticRegression`` and ``Ridge`` (one layer) and ``MLPClassifier`` / ``MLPRegressor`` (ReLU
hidden layers), so a probe folder holds weights in safetensors and a JSON description, never a pickle: loading a
probe runs no code from the folder (joblib or skops files would, or would need a list of trusted types).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..artifact_folder import read_config
from ..atomic import atomic_path, atomic_write_text
from .config import ProbeCfg

PROBE_JSON = "probe.json"
PROBE_WEIGHTS = "probe.safetensors"
FORMAT_VERSION = 1
OUTPUTS = ("softmax", "sigmoid", "identity")
L2_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)  # linear heads' L2 strengths tried when none is given


@dataclass
class ProbeHead:
    """A fitted head as arrays; ``predict`` / ``predict_proba`` reproduce scikit-learn's."""

    kind: str  # classification | regression
    mean: np.ndarray  # [d] feature standardisation
    scale: np.ndarray  # [d]
    layers: list[tuple[np.ndarray, np.ndarray]]  # (weight [out, in], bias [out]); ReLU between layers
    output: str  # softmax | sigmoid | identity
    classes: list[str] = field(default_factory=list)  # classification: the class of each probability column
    target_mean: float = 0.0  # regression: the target's standardisation, undone on output
    target_scale: float = 1.0
    l2: float | None = None  # the L2 strength it was fitted with (chosen by cross-validation when not given)

    @property
    def input_dim(self) -> int:
        return int(self.mean.shape[0])

    def _logits(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"the probe takes [n, {self.input_dim}] features, got {list(x.shape)}")
        h = (np.asarray(x, np.float64) - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            h = h @ w.T + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return h

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``[n, C]`` class probabilities (columns in ``classes`` order)."""
        if self.kind != "classification":
            raise ValueError("predict_proba is for classification probes")
        z = self._logits(x)
        if self.output == "sigmoid":  # z: [n, 1], the second class's log-odds
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.stack([1.0 - p, p], axis=1)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``[n]`` predicted classes (str) or values (float)."""
        if self.kind == "classification":
            return np.asarray(self.classes)[self.predict_proba(x).argmax(axis=1)]
        return self._logits(x)[:, 0] * self.target_scale + self.target_mean


def fit_head(x: np.ndarray, y: np.ndarray, cfg: ProbeCfg, seed: int = 0,
             groups: Sequence[str] | None = None) -> ProbeHead:
    """Fit ``cfg.head`` for ``cfg.kind`` on ``x [n, d]`` and ``y [n]`` (classification: at least two classes).

    A linear head with ``cfg.l2`` None picks its L2 strength from ``L2_GRID`` by a 3-fold cross-validation over
    ``groups`` (patients) on the training series (accuracy, or MAE), when they hold at least 3 patients; otherwise,
    and for the MLP, the head's default (``ProbeCfg.l2``). The chosen value is ``ProbeHead.l2``.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(x, np.float64)  # fitted in float64, as ``ProbeHead`` applies it
    scaler = StandardScaler().fit(x)
    xs = scaler.transform(x)
    mean, scale = scaler.mean_.astype(np.float64), scaler.scale_.astype(np.float64)
    with warnings.catch_warnings():
        # tiny low-data subsets and few MLP epochs do not always converge; the scores say how well it went
        warnings.simplefilter("ignore", ConvergenceWarning)
        if cfg.kind == "classification":
            return _fit_classifier(xs, np.asarray(y).astype(str), cfg, seed, mean, scale, groups)
        return _fit_regressor(xs, np.asarray(y, np.float64), cfg, seed, mean, scale, groups)


def _choose_l2(estimator, param: str, xs, y, groups, scoring: str, inverse: bool = False) -> float:
    """The ``L2_GRID`` value with which ``estimator`` scores best in a 3-fold cross-validation by ``groups``
    (scikit-learn's ``GridSearchCV`` over ``param``, set to 1 / l2 when ``inverse``: logistic regression's C);
    1.0 when the groups are too few or every fold fails."""
    from sklearn.model_selection import GridSearchCV, GroupKFold

    if groups is None or len(set(groups)) < 3:
        return 1.0
    values = [1.0 / v if inverse else v for v in L2_GRID]
    with warnings.catch_warnings():  # a fold whose training side has one class fails: scored NaN, not chosen
        warnings.simplefilter("ignore")
        search = GridSearchCV(estimator, {param: values}, cv=GroupKFold(3), scoring=scoring, refit=False,
                              error_score=np.nan).fit(xs, y, groups=list(groups))
    scores = np.asarray(search.cv_results_["mean_test_score"], np.float64)
    return float(L2_GRID[int(np.nanargmax(scores))]) if np.isfinite(scores).any() else 1.0


def _fit_classifier(xs, y, cfg: ProbeCfg, seed: int, mean, scale, groups) -> ProbeHead:
    classes = sorted(set(y.tolist()))
    if len(classes) < 2:
        raise ValueError(f"a classifier needs at least two classes in its training series, got {classes}")
    l2 = cfg.l2
    if cfg.head == "linear":
        from sklearn.linear_model import LogisticRegression

        if l2 is None:
            l2 = _choose_l2(LogisticRegression(max_iter=cfg.max_iter, random_state=seed), "C", xs, y, groups,
                            "accuracy", inverse=True)
        clf = LogisticRegression(C=1.0 / l2, max_iter=cfg.max_iter, random_state=seed).fit(xs, y)
        layers = [(clf.coef_.astype(np.float64), clf.intercept_.astype(np.float64))]
    else:
        from sklearn.neural_network import MLPClassifier

        l2 = 1e-4 if l2 is None else l2
        clf = MLPClassifier(hidden_layer_sizes=(cfg.hidden,), alpha=l2, max_iter=cfg.max_iter,
                            random_state=seed).fit(xs, y)
        layers = [(w.T.astype(np.float64), b.astype(np.float64)) for w, b in zip(clf.coefs_, clf.intercepts_)]
    output = "sigmoid" if len(clf.classes_) == 2 else "softmax"
    return ProbeHead(kind="classification", mean=mean, scale=scale, layers=layers, output=output,
                     classes=[str(c) for c in clf.classes_], l2=float(l2))


def _fit_regressor(xs, y, cfg: ProbeCfg, seed: int, mean, scale, groups) -> ProbeHead:
    from sklearn.linear_model import Ridge

    t_mean = float(y.mean())
    t_scale = float(y.std()) or 1.0
    ys = (y - t_mean) / t_scale
    l2 = cfg.l2
    if cfg.head == "linear":
        if l2 is None:
            l2 = _choose_l2(Ridge(), "alpha", xs, ys, groups, "neg_mean_absolute_error")
        reg = Ridge(alpha=l2).fit(xs, ys)
        layers = [(np.asarray(reg.coef_, np.float64).reshape(1, -1), np.atleast_1d(np.float64(reg.intercept_)))]
    else:
        from sklearn.neural_network import MLPRegressor

        l2 = 1e-4 if l2 is None else l2
        reg = MLPRegressor(hidden_layer_sizes=(cfg.hidden,), alpha=l2, max_iter=cfg.max_iter,
                           random_state=seed).fit(xs, ys)
        layers = [(w.T.astype(np.float64), b.astype(np.float64)) for w, b in zip(reg.coefs_, reg.intercepts_)]
    return ProbeHead(kind="regression", mean=mean, scale=scale, layers=layers, output="identity",
                     target_mean=t_mean, target_scale=t_scale, l2=float(l2))


def save_head(head: ProbeHead, folder: str | os.PathLike, info: dict) -> Path:
    """Write ``probe.safetensors`` (the arrays) and ``probe.json`` (``info`` plus the head's description)."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {"scaler.mean": head.mean, "scaler.scale": head.scale}
    for i, (w, b) in enumerate(head.layers):
        tensors[f"layers.{i}.weight"] = np.ascontiguousarray(w)
        tensors[f"layers.{i}.bias"] = np.ascontiguousarray(b)
    with atomic_path(folder / PROBE_WEIGHTS) as tmp:  # a killed run leaves the old file or none, never half
        save_file(tensors, str(tmp))
    desc = {"format_version": FORMAT_VERSION, **info, "kind": head.kind, "output": head.output,
            "n_layers": len(head.layers), "input_dim": head.input_dim, "classes": head.classes,
            "target_mean": head.target_mean, "target_scale": head.target_scale, "l2": head.l2}
    atomic_write_text(folder / PROBE_JSON, json.dumps(desc, indent=2) + "\n")  # last: a config means complete arrays
    return folder


def load_head(folder: str | os.PathLike) -> tuple[ProbeHead, dict]:
    """The head of a probe folder and its ``probe.json``.

    Raises:
        ValueError: not a probe folder, another format version, or arrays that do not fit the description.
    """
    from safetensors.numpy import load_file

    folder = Path(folder)
    desc = read_config(folder, "probe", FORMAT_VERSION, PROBE_JSON, files=(PROBE_WEIGHTS,),
                       required=("kind", "output", "n_layers"), hint="pass the --out of `mri-search probe train`")
    if desc.get("output") not in OUTPUTS:
        raise ValueError(f"{folder}: unknown probe output {desc.get('output')!r}")
    t = load_file(str(folder / PROBE_WEIGHTS))
    try:
        layers = [(t[f"layers.{i}.weight"].astype(np.float64), t[f"layers.{i}.bias"].astype(np.float64))
                  for i in range(int(desc["n_layers"]))]
        head = ProbeHead(kind=desc["kind"], mean=t["scaler.mean"].astype(np.float64),
                         scale=t["scaler.scale"].astype(np.float64), layers=layers, output=desc["output"],
                         classes=[str(c) for c in desc.get("classes", [])],
                         target_mean=float(desc.get("target_mean", 0.0)),
                         target_scale=float(desc.get("target_scale", 1.0)), l2=desc.get("l2"))
    except KeyError as exc:
        raise ValueError(f"{folder}/{PROBE_WEIGHTS} lacks the array {exc}") from None
    width = head.input_dim
    for w, b in head.layers:
        if w.ndim != 2 or w.shape[1] != width or b.shape != (w.shape[0],):
            raise ValueError(f"{folder}: probe layer shapes do not chain")
        width = w.shape[0]
    want = 1 if head.output in ("sigmoid", "identity") else len(head.classes)
    if width != want:
        raise ValueError(f"{folder}: the probe's last layer has {width} outputs, expected {want}")
    return head, desc
