"""Lightweight probes on frozen encoder features (the paper's modular design: the encoder stays frozen, a small
head is trained per task).

    from mri_search.probe import ProbeCfg, run_train, run_eval
    run_train(ProbeCfg(task="body_region", fractions=(0.01, 0.1, 1.0)), "features.parquet", "labels.csv", "probe/")
    run_eval("probe/", "other_features.parquet", "other_labels.csv", predictions="pred.csv")

Modules: ``features`` (the features file of ``mri-search embed``), ``labels`` (label files: format and checks),
``split`` (splits by patient, low-data subsets), ``heads`` (fitted heads as arrays; save / load without pickle),
``metrics`` (AUC, accuracy, balanced accuracy, MAE), ``run`` (the protocol and the train / eval runs).
"""

from __future__ import annotations

from .config import HEADS, LOW_DATA, ProbeCfg
from .features import FEATURE_COLUMNS, Features, FeaturesInfo, FeaturesWriter, feature_row, read_features
from .heads import ProbeHead, fit_head, load_head, save_head
from .labels import KINDS, LabelledSet, join_labels, read_labels
from .metrics import MAIN, blind_baseline, classification_metrics, regression_metrics
from .run import Evaluation, evaluate, run_eval, run_train, score
from .split import low_data, patient_splits

__all__ = ["FEATURE_COLUMNS", "HEADS", "KINDS", "LOW_DATA", "MAIN", "Evaluation", "Features", "FeaturesInfo",
           "FeaturesWriter", "LabelledSet", "ProbeCfg", "ProbeHead", "blind_baseline", "classification_metrics",
           "evaluate", "feature_row", "fit_head", "join_labels", "load_head", "low_data", "patient_splits",
           "read_features", "read_labels", "regression_metrics", "run_eval", "run_train", "save_head", "score"]
