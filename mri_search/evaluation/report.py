"""The results.json layout and Markdown tables of benchmark figures.

results.json nests task -> direction -> method -> metric name -> value, metric names as ``metrics.metric_names``
gives them (``mAP``, ``P_all@N``, ``P@k``, ``R@k``, ``nDCG@10``). Confidence intervals, which do not fit that leaf,
go in a tree of the same layout whose leaves are ``[low, high]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def results_tree(entries: Mapping[tuple[str, str, str], Mapping[str, Any]]) -> dict[str, dict[str, dict[str, dict]]]:
    """Nest ``{(task, direction, method): {metric: value}}`` as task -> direction -> method -> metric -> value.

    Values are kept as given (a float, or a (low, high) pair turned into a list for JSON); NaN becomes None so the
    file stays strict JSON.
    """
    tree: dict[str, dict[str, dict[str, dict]]] = {}
    for (task, direction, method), metrics in entries.items():
        tree.setdefault(task, {}).setdefault(direction, {})[method] = {n: _jsonable(v) for n, v in metrics.items()}
    return tree


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    value = float(value)
    return None if math.isnan(value) else value


def markdown_table(summary: Mapping[str, Mapping[str, float]], metrics: Sequence[str], *,
                   ci: Mapping[str, Mapping[str, tuple[float, float]]] | None = None, digits: int = 3) -> str:
    """A Markdown table: one row per method, one column per metric, "value [low, high]" when ``ci`` is given.

    Args:
        summary: method -> metric -> value (e.g. ``Evaluation.summary()`` per method).
        metrics: the columns, in order.
        ci: method -> metric -> (low, high).
        digits: decimals shown.
    """
    def cell(method: str, metric: str) -> str:
        value = summary[method].get(metric, math.nan)
        if math.isnan(value):
            return "n/a"
        text = f"{value:.{digits}f}"
        if ci is not None and metric in ci.get(method, {}):
            low, high = ci[method][metric]
            text += f" [{low:.{digits}f}, {high:.{digits}f}]"
        return text

    lines = ["| method | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    lines += [f"| {method} | " + " | ".join(cell(method, m) for m in metrics) + " |" for method in summary]
    return "\n".join(lines) + "\n"
