"""PNG plots of benchmark results: metric bars per task and method, and precision-recall curves.

Figures are drawn with matplotlib's object API on an Agg canvas, never through pyplot, so plotting neither needs a
display nor changes the process-wide backend of whoever imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

Values = Mapping[str, Mapping[str, Mapping[str, float]]]  # task -> method -> metric -> value
Intervals = Mapping[str, Mapping[str, Mapping[str, tuple[float, float]]]]  # same layout, (low, high)


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_bars(values: Values, path: str | Path, metrics: Sequence[str] = ("mAP",), *, ci: Intervals | None = None,
              title: str | None = None) -> Path:
    """Grouped bar chart, one panel per metric: tasks along x, one bar per method, CI error bars if given.

    Args:
        values: task -> method -> metric -> value (a direction can be folded into the task name).
        path: PNG file to write.
        metrics: metric names, one panel each (e.g. ``["P_all@1", "P_all@3", "P_all@5", "P_all@10"]``).
        ci: same layout as ``values`` with (low, high) per metric; missing entries draw no error bar.
        title: figure title.

    Returns:
        ``path``.
    """
    tasks = list(values)
    methods = list(dict.fromkeys(m for t in tasks for m in values[t]))  # first-seen order across tasks
    if not tasks or not methods or not metrics:
        raise ValueError("nothing to plot: values needs at least one task and method, and metrics one name")
    fig = _figure(max(4.0, 2.0 + 0.5 * len(tasks) * len(methods)), 3.0 * len(metrics))
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    width = 0.8 / len(methods)
    x = np.arange(len(tasks))
    for ax, metric in zip(axes, metrics):
        for j, method in enumerate(methods):
            heights = np.array([values[t].get(method, {}).get(metric, np.nan) for t in tasks], dtype=float)
            err = np.zeros((2, len(tasks)))
            for i, t in enumerate(tasks):
                low, high = (ci or {}).get(t, {}).get(method, {}).get(metric, (np.nan, np.nan))
                if np.isfinite(heights[i]) and np.isfinite(low) and np.isfinite(high):
                    err[:, i] = (max(heights[i] - low, 0.0), max(high - heights[i], 0.0))
            ax.bar(x + (j - (len(methods) - 1) / 2) * width, np.nan_to_num(heights), width, yerr=err, capsize=3,
                   label=method)
        ax.set_xticks(x, tasks)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(metric)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize="small", ncols=min(len(methods), 4))
    if title:
        fig.suptitle(title)
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path


def plot_pr_curves(curves: Mapping[str, np.ndarray], path: str | Path, *, title: str | None = None) -> Path:
    """Interpolated precision-recall curve per method.

    Args:
        curves: method -> interpolated precision at evenly spaced recall levels 0..1: [P] already averaged, or
            [queries, P] (``Evaluation.pr_curve``), averaged here.
        path: PNG file to write.
        title: figure title.

    Returns:
        ``path``.
    """
    if not curves:
        raise ValueError("nothing to plot: curves is empty")
    fig = _figure(5.0, 4.0)
    ax = fig.subplots()
    for method, curve in curves.items():
        curve = np.asarray(curve, dtype=float)
        curve = curve.mean(axis=0) if curve.ndim == 2 else curve  # [P]
        ax.plot(np.linspace(0.0, 1.0, len(curve)), curve, marker=".", label=method)
    ax.set_xlabel("recall")
    ax.set_ylabel("interpolated precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path
