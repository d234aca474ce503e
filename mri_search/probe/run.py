"""Train and evaluate probes: the protocol (splits by patient, low-data fractions, repeats) and the two runs.

``evaluate(data, cfg)`` scores a probe on one ``LabelledSet`` as the paper's low-data experiments do: for each
fraction of the training labels, ``repeats`` seeded draws by patient (one for a fraction of 1), each fitted on the
training side of every split and scored on its test side (cross-validation: each series is tested once, and the
folds' figures are averaged, weighted by their test series; the draws' figures are then averaged). ``run_train``
adds the files of a probe folder, ``run_eval`` applies a saved probe.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .config import ProbeCfg
from .features import read_features
from .heads import ProbeHead, fit_head, load_head, save_head
from .labels import LabelledSet, join_labels
from .metrics import MAIN, blind_baseline, classification_metrics, regression_metrics
from .split import low_data, patient_splits

log = logging.getLogger(__name__)

METRICS_JSON = "metrics.json"
SPLIT_CSV = "split.csv"


def score(head: ProbeHead, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The metrics of ``head`` on ``x`` against ``y`` (``metrics.CLASSIFICATION`` or ``metrics.REGRESSION``)."""
    if head.kind == "classification":
        return classification_metrics(y, head.predict_proba(x), head.classes)
    return regression_metrics(y, head.predict(x))


@dataclass
class Evaluation:
    """What ``evaluate`` measured."""

    fractions: dict[str, dict]  # "0.1" -> {"n_train", "n_train_patients", "repeats", "metrics", "std"}
    baseline: dict[str, float]  # blind guess from the whole training side (metrics.blind_baseline)
    n_test: int  # series scored (each once)
    n_test_patients: int
    splits: list[tuple[np.ndarray, np.ndarray]] = field(repr=False, default_factory=list)
    heads: dict[float, ProbeHead] = field(repr=False, default_factory=dict)  # first draw's head, first split


def _metrics_over_splits(kind: str, y: np.ndarray, pred: dict[int, np.ndarray], heads: list[ProbeHead],
                         splits) -> dict[str, float]:
    """Each split's figures, averaged with its number of test series as weight (a figure a split cannot have, such
    as an AUC over one class, is left out). Per split, not over the pooled predictions: heads of different folds
    know different classes, and their probabilities are not comparable across folds."""
    per, weights = [], []
    for k, (_, test) in enumerate(splits):
        if kind == "classification":
            per.append(classification_metrics(y[test], pred[k], heads[k].classes))
        else:
            per.append(regression_metrics(y[test], pred[k]))
        weights.append(len(test))
    w = np.asarray(weights, np.float64)
    out = {}
    for name in per[0]:
        v = np.array([m[name] for m in per])
        ok = np.isfinite(v)
        out[name] = float(np.sum(v[ok] * w[ok]) / w[ok].sum()) if ok.any() else float("nan")
    return out


def evaluate(data: LabelledSet, cfg: ProbeCfg,
             splits: list[tuple[np.ndarray, np.ndarray]] | None = None) -> Evaluation:
    """Score ``cfg``'s probe on ``data`` at every fraction (see the module docstring).

    Args:
        data: the labelled series.
        cfg: the probe and the protocol.
        splits: ``[(train indices, test indices)]`` fixed by the caller (e.g. a benchmark's own train and test
            patients) instead of ``patient_splits`` from ``cfg``.

    Raises:
        ValueError: too few patients for the split, or a training side with a single class.
    """
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    if splits is None:
        splits = patient_splits(data.y, data.groups, cfg.kind, cfg.test_fraction, cfg.folds, cfg.seed)
    # probe problems are small (hundreds of series x hundreds of features): threaded BLAS only spins, and on a
    # busy machine it multiplied the CPU time (tests/probe on 2 busy cores: 16.5 s of CPU unlimited, 6.4 s limited)
    with threadpool_limits(limits=1, user_api="blas"):
        return _evaluate(data, cfg, splits)


def _evaluate(data: LabelledSet, cfg: ProbeCfg, splits) -> Evaluation:
    test_all = np.concatenate([te for _, te in splits])
    train0 = splits[0][0]
    out: dict[str, dict] = {}
    heads: dict[float, ProbeHead] = {}
    for fraction in sorted(set(cfg.fractions)):
        draws = 1 if fraction >= 1.0 else cfg.repeats
        per_draw, n_train, n_pat, chosen = [], [], [], []
        for r in range(draws):
            fold_heads, preds = [], {}
            for k, (train, test) in enumerate(splits):
                rng = np.random.default_rng([cfg.seed, r, k])  # the same order for every fraction: nested subsets
                idx = low_data(train, data.y, data.groups, fraction, cfg.kind, rng)
                head = fit_head(data.x[idx], data.y[idx], cfg, seed=cfg.seed + r,
                                groups=[data.groups[i] for i in idx])
                fold_heads.append(head)
                preds[k] = head.predict_proba(data.x[test]) if cfg.kind == "classification" else \
                    head.predict(data.x[test])
                n_train.append(len(idx))
                chosen.append(head.l2)
                n_pat.append(len({data.groups[i] for i in idx}))
                if r == 0 and k == 0:
                    heads[fraction] = head
            per_draw.append(_metrics_over_splits(cfg.kind, data.y, preds, fold_heads, splits))
        values = {m: np.array([d[m] for d in per_draw]) for m in per_draw[0]}
        out[f"{fraction:g}"] = {
            "n_train": float(np.mean(n_train)), "n_train_patients": float(np.mean(n_pat)), "repeats": draws,
            "l2": sorted(set(chosen)),  # the L2 strengths the heads were fitted with (chosen per fit when not set)
            "metrics": {m: _nan_stat(np.nanmean, v) for m, v in values.items()},
            "std": {m: _nan_stat(np.nanstd, v) for m, v in values.items()},
        }
        log.info("%s %s at %g: %s", cfg.task, cfg.head, fraction, out[f"{fraction:g}"]["metrics"])
    base = blind_baseline(cfg.kind, data.y[train0], data.y[splits[0][1]]) if len(splits) == 1 else \
        _cv_baseline(cfg.kind, data.y, splits)
    return Evaluation(fractions=out, baseline=base, n_test=len(test_all),
                      n_test_patients=len({data.groups[i] for i in test_all}), splits=splits, heads=heads)


def _nan_stat(fn, v: np.ndarray) -> float:
    """``fn`` over the finite draws (NaN when none is: e.g. an AUC with a single test class)."""
    return float(fn(v)) if np.isfinite(v).any() else float("nan")


def _cv_baseline(kind: str, y: np.ndarray, splits) -> dict[str, float]:
    """The blind guess of each fold, scored over all folds' test series."""
    if kind == "classification":
        hits = [blind_baseline(kind, y[tr], y[te])["accuracy"] * len(te) for tr, te in splits]
        return {"accuracy": float(sum(hits) / sum(len(te) for _, te in splits)), "auc": 0.5}
    errs = [blind_baseline(kind, y[tr], y[te])["mae"] * len(te) for tr, te in splits]
    return {"mae": float(sum(errs) / sum(len(te) for _, te in splits))}


def _jsonable(obj):
    if isinstance(obj, float):
        return None if np.isnan(obj) else obj
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def run_train(cfg: ProbeCfg, features: str | os.PathLike, labels: str | os.PathLike,
              out: str | os.PathLike) -> dict:
    """Fit and score a probe; write the probe folder ``out``.

    Files: ``probe.json`` + ``probe.safetensors`` (the head of the largest fraction, first draw: in a held-out run
    fitted on the training patients, so ``run_eval`` on the same features and labels reproduces the test figures;
    with cross-validation refitted on every labelled series at that fraction), ``metrics.json`` (every fraction,
    the blind baseline, counts, the config) and, for a held-out run, ``split.csv`` (series_key, patient_key, role).

    Returns:
        The content of ``metrics.json``.

    Raises:
        ValueError: a bad setting, features or label file (``labels.join_labels``), or too few patients.
    """
    feats = read_features(features, cfg.feature)
    data = join_labels(feats, labels, cfg.kind)
    ev = evaluate(data, cfg)
    top = max(cfg.fractions)
    if cfg.folds >= 2:  # refit on everything (at the largest fraction) for the saved probe
        idx = low_data(np.arange(len(data.y)), data.y, data.groups, top, cfg.kind,
                       np.random.default_rng([cfg.seed, 0, 0]))
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            head = fit_head(data.x[idx], data.y[idx], cfg, seed=cfg.seed, groups=[data.groups[i] for i in idx])
        trained_on = len(idx)
    else:
        head = ev.heads[top]
        trained_on = ev.fractions[f"{top:g}"]["n_train"]
    from .. import __version__

    out = Path(out)
    info = {"task": cfg.task, "head": cfg.head, "feature": cfg.feature, "model_id": feats.meta.model_id,
            "model_name": feats.meta.model_name, "fraction": top, "trained_on_series": int(trained_on),
            "features_file": str(features), "labels_file": str(labels), "config": asdict(cfg),
            "created_with": __version__}
    save_head(head, out, info)
    protocol = (f"{cfg.folds}-fold cross-validation by patient" if cfg.folds >= 2 else
                f"one held-out split: {cfg.test_fraction:.0%} of the patients")
    metrics = {"task": cfg.task, "kind": cfg.kind, "head": cfg.head, "feature": cfg.feature, "protocol": protocol,
               "main_metric": MAIN[cfg.kind], "n_labelled": len(data.y), "n_patients": len(set(data.groups)),
               "n_unlabelled_in_features": data.n_unlabelled, "n_test": ev.n_test,
               "n_test_patients": ev.n_test_patients, "classes": sorted(set(data.y.tolist()))
               if cfg.kind == "classification" else None, "fractions": ev.fractions, "blind_baseline": ev.baseline,
               "model_id": feats.meta.model_id, "config": asdict(cfg)}
    metrics = _jsonable(metrics)
    (out / METRICS_JSON).write_text(json.dumps(metrics, indent=2) + "\n")
    if cfg.folds < 2:
        train, test = ev.splits[0]
        role = {int(i): "train" for i in train} | {int(i): "test" for i in test}
        with open(out / SPLIT_CSV, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["series_key", "patient_key", "role"])
            for i, key in enumerate(data.series_keys):
                w.writerow([key, data.groups[i], role.get(i, "")])
    return metrics


def run_eval(probe: str | os.PathLike, features: str | os.PathLike, labels: str | os.PathLike | None = None,
             predictions: str | os.PathLike | None = None, only: str | None = None) -> dict:
    """Apply a saved probe to a features file: metrics against ``labels`` (if given), predictions CSV (if asked).

    Args:
        probe: a probe folder (``run_train``'s ``out``).
        features: a features file written by the same model (its identity is checked).
        labels: a label file of the probe's kind; None: predictions only.
        predictions: write ``series_key, patient_key, prediction[, label][, probability]`` rows here.
        only: ``test`` / ``train``: score only the series the probe folder's ``split.csv`` gives that role (the
            held-out figures of ``run_train``, reproduced).

    Raises:
        ValueError: not a probe folder, features of another model or feature width, bad labels.
    """
    head, desc = load_head(probe)
    feats = read_features(features, desc["feature"])
    if feats.meta.model_id != desc["model_id"]:
        raise ValueError(f"{features} was written by model {feats.meta.model_id} ({feats.meta.model_name}); the "
                         f"probe in {probe} was trained on features of model {desc['model_id']} "
                         f"({desc.get('model_name', '')}): embed the archive with that model")
    if feats.x.shape[1] != head.input_dim:
        raise ValueError(f"{features}: {desc['feature']} has {feats.x.shape[1]} values, the probe takes "
                         f"{head.input_dim}")
    keys, groups, x, y = feats.series_keys, feats.patient_keys, feats.x, None
    if labels is not None:
        data = join_labels(feats, labels, head.kind)
        keys, groups, x, y = data.series_keys, data.groups, data.x, data.y
    if only is not None:
        split = Path(probe) / SPLIT_CSV
        if not split.is_file():
            raise ValueError(f"{probe} has no {SPLIT_CSV} (a cross-validated probe): --only needs a held-out run")
        with open(split, newline="") as f:
            chosen = {r["series_key"] for r in csv.DictReader(f) if r["role"] == only}
        keep = [i for i, k in enumerate(keys) if k in chosen]
        if not keep:
            raise ValueError(f"no series of {features} has the role {only!r} in {split}")
        keys, groups, x = [keys[i] for i in keep], [groups[i] for i in keep], x[keep]
        y = None if y is None else y[keep]
    result: dict = {"probe": str(probe), "task": desc.get("task"), "kind": head.kind, "feature": desc["feature"],
                    "n_series": len(keys), "main_metric": MAIN[head.kind]}
    if y is not None:
        result["metrics"] = score(head, x, y)
        if head.kind == "classification":
            unseen = sorted(set(y.tolist()) - set(head.classes))
            if unseen:
                result["classes_unknown_to_probe"] = unseen
    if predictions is not None:
        _write_predictions(Path(predictions), head, keys, groups, x, y)
    return _jsonable(result)


def _write_predictions(path: Path, head: ProbeHead, keys, groups, x, y) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pred = head.predict(x)
    prob = head.predict_proba(x).max(axis=1) if head.kind == "classification" else None
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["series_key", "patient_key", "prediction"] + (["label"] if y is not None else [])
                   + (["probability"] if prob is not None else []))
        for i, key in enumerate(keys):
            row = [key, groups[i], pred[i] if head.kind == "classification" else f"{pred[i]:.6g}"]
            if y is not None:
                row.append(y[i] if head.kind == "classification" else f"{y[i]:.6g}")
            if prob is not None:
                row.append(f"{prob[i]:.6g}")
            w.writerow(row)
