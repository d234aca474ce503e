"""Configuration of a probe: what it learns, from which feature, and how it is scored."""

from __future__ import annotations

from dataclasses import dataclass

from .features import FEATURE_COLUMNS
from .labels import KINDS

HEADS = ("linear", "mlp")
LOW_DATA = (0.01, 0.1, 1.0)  # the paper's low-data experiments: 1 %, 10 % and all of the training labels


@dataclass(frozen=True)
class ProbeCfg:
    """One probe on frozen features (``ProbeCfg(**d)``: an unknown key fails)."""

    task: str = "task"  # a name for the records (body_region, age, ...)
    kind: str = "classification"  # classification (AUC, accuracy, balanced accuracy) or regression (MAE)
    head: str = "linear"  # linear: logistic / ridge regression; mlp: one hidden ReLU layer (scikit-learn)
    feature: str = "pooled"  # features-file column: pooled (class token), token_mean, image (projected embedding)
    fractions: tuple[float, ...] = (1.0,)  # shares of the training patients' series used (low-data: LOW_DATA)
    repeats: int = 3  # draws of each low-data subset (fractions < 1), averaged; a fraction of 1 is drawn once
    test_fraction: float = 0.2  # share of the patients held out for testing (when folds < 2)
    folds: int = 0  # >= 2: cross-validation over that many folds of patients instead of one held-out split
    seed: int = 0  # the split, the low-data draws and the MLP's initialisation
    l2: float | None = None  # L2 strength (logistic C = 1/l2, ridge alpha, MLP alpha); None: linear heads choose
    #                          it by a 3-fold cross-validation by patient on their training series, the MLP uses 1e-4
    hidden: int = 256  # MLP hidden width
    max_iter: int = 2000  # solver iterations (lbfgs / adam epochs)

    def __post_init__(self) -> None:
        """Raise ValueError with an actionable message for a bad setting."""
        if self.kind not in KINDS:
            raise ValueError(f"--kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.head not in HEADS:
            raise ValueError(f"--head must be one of {', '.join(HEADS)}, got {self.head!r}")
        if self.feature not in FEATURE_COLUMNS:
            raise ValueError(f"--feature must be one of {', '.join(FEATURE_COLUMNS)}, got {self.feature!r}")
        if not self.fractions or any(not 0.0 < f <= 1.0 for f in self.fractions):
            raise ValueError(f"--fractions must be shares in (0, 1], e.g. 0.01,0.1,1; got {list(self.fractions)}")
        if self.repeats < 1:
            raise ValueError("--repeats must be at least 1")
        if self.folds == 1 or self.folds < 0:
            raise ValueError("--folds must be 0 (one held-out split) or at least 2")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"--test-fraction must be in (0, 1), got {self.test_fraction}")
        if self.l2 is not None and self.l2 <= 0:
            raise ValueError(f"--l2 must be positive, got {self.l2}")
        if self.hidden < 1 or self.max_iter < 1:
            raise ValueError("--hidden and --max-iter must be at least 1")
