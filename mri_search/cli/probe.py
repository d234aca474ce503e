"""``mri-search probe train|eval``: small probes on frozen features (a Typer sub-app, added to ``cli.app``). Thin
like the rest of the CLI: each command builds one config and calls one ``run_*`` (``mri_search.probe.run_train`` /
``run_eval``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import fail as _fail

app = typer.Typer(help="Lightweight probes (linear or small MLP) on frozen encoder features: train, evaluate.",
                  no_args_is_help=True)


def _fractions(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        _fail(f"--fractions must be a comma list of shares such as 0.01,0.1,1; got {text!r}")


def _table(metrics: dict) -> str:
    names = list(next(iter(metrics["fractions"].values()))["metrics"])
    lines = [f"{metrics['task']} ({metrics['kind']}, {metrics['head']} on {metrics['feature']}; "
             f"{metrics['protocol']}; {metrics['n_labelled']} series of {metrics['n_patients']} patients)",
             "fraction  n_train  " + "  ".join(f"{n:>17}" for n in names) + "  l2"]
    for frac, row in metrics["fractions"].items():
        cells = []
        for n in names:
            v, s = row["metrics"][n], row["std"][n]
            cells.append(f"{'n/a':>17}" if v is None else f"{v:>9.3f} +- {s or 0:.3f}")
        l2 = ",".join(f"{v:g}" for v in row.get("l2") or [])
        lines.append(f"{frac:>8}  {row['n_train']:>7.0f}  " + "  ".join(cells) + f"  {l2}")
    base = ", ".join(f"{k} {v:.3f}" for k, v in metrics["blind_baseline"].items())
    lines.append(f"blind guess (majority class / median): {base}")
    return "\n".join(lines)


@app.command()
def train(
    features: Annotated[Path, typer.Option(help="Features file of `mri-search embed` (or `index --parquet` with "
                                                "--feature image).")],
    labels: Annotated[Path, typer.Option(help="CSV with the columns series_key and label (README: label files).")],
    task: Annotated[str, typer.Option(help="Name of the task, recorded with the probe (e.g. body_region).")],
    out: Annotated[Path, typer.Option(help="Probe folder: probe.json, probe.safetensors, metrics.json, "
                                           "split.csv.")],
    kind: Annotated[str, typer.Option(help="classification (AUC, accuracy, balanced accuracy) or regression "
                                           "(MAE).")] = "classification",
    head: Annotated[str, typer.Option(help="linear (logistic / ridge regression) or mlp (one hidden layer).")
                    ] = "linear",
    feature: Annotated[str, typer.Option(help="pooled (the class token), token_mean or image (the projected "
                                              "embedding).")] = "pooled",
    fractions: Annotated[str, typer.Option(
        help="Shares of the training labels, by patient, e.g. 0.01,0.1,1 for the low-data experiments.")] = "1",
    repeats: Annotated[int, typer.Option(help="Seeded draws of each share below 1, averaged.")] = 3,
    test_fraction: Annotated[float, typer.Option(help="Share of patients held out for testing.")] = 0.2,
    folds: Annotated[int, typer.Option(
        help="Cross-validate over this many folds of patients instead (every series scored once; small sets).")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the split, the draws and the MLP.")] = 0,
    l2: Annotated[Optional[float], typer.Option(
        help="L2 strength (logistic C = 1/l2, ridge and MLP alpha). Default: linear heads choose it from "
             "0.1-1000 by a 3-fold cross-validation by patient on their training series; the MLP uses 1e-4.")
    ] = None,
    hidden: Annotated[int, typer.Option(help="MLP hidden width.")] = 256,
    json_out: Annotated[bool, typer.Option("--json", help="Print metrics.json instead of a table.")] = False,
) -> None:
    """Train a probe on frozen features with a split by patient, and score it on the held-out patients."""
    from ..probe import ProbeCfg, run_train

    try:
        cfg = ProbeCfg(task=task, kind=kind, head=head, feature=feature, fractions=_fractions(fractions),
                       repeats=repeats, test_fraction=test_fraction, folds=folds, seed=seed, l2=l2, hidden=hidden)
        metrics = run_train(cfg, features, labels, out)
    except ValueError as e:
        _fail(str(e))
    typer.echo(json.dumps(metrics, indent=2) if json_out else _table(metrics))
    typer.secho(f"probe folder: {out}", err=True)


@app.command("eval")
def evaluate(
    probe: Annotated[Path, typer.Option(help="Probe folder (`probe train --out`).")],
    features: Annotated[Path, typer.Option(help="Features file written by the probe's model.")],
    labels: Annotated[Optional[Path], typer.Option(
        help="Label file to score against (without it: predictions only).")] = None,
    predictions: Annotated[Optional[Path], typer.Option(
        help="Write one CSV row per series: series_key, patient_key, prediction (label, probability).")] = None,
    only: Annotated[Optional[str], typer.Option(
        help="train or test: only the series the probe's split.csv gives that role (reproduces train's figures).")
    ] = None,
    out: Annotated[Optional[Path], typer.Option(help="Also write the metrics as JSON here.")] = None,
) -> None:
    """Apply a trained probe to a features file: its metrics against a label file, and/or its predictions."""
    from ..probe import run_eval

    if labels is None and predictions is None:
        _fail("give --labels (to score the probe) and/or --predictions (to write its predictions)")
    if only not in (None, "train", "test"):
        _fail(f"--only must be train or test, got {only!r}")
    try:
        result = run_eval(probe, features, labels, predictions, only)
    except ValueError as e:
        _fail(str(e))
    text = json.dumps(result, indent=2)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    typer.echo(text)
