"""What several benchmark scripts share: the model folder they time, a generated archive, a latency summary, and how
they hand their results back."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def add_model_args(ap: argparse.ArgumentParser) -> None:
    """``--model DIR`` / ``--preset NAME``: a trained model, or a randomly initialised preset (same compute)."""
    ap.add_argument("--model", type=Path, default=None, help="model folder (default: a fresh --preset)")
    ap.add_argument("--preset", default="vit-s-cpu", help="preset built when no --model is given")


def model_folder(model: Path | None, preset: str, tmp: Path) -> Path:
    """``model``, or a randomly initialised ``preset`` saved under ``tmp`` (seed 0)."""
    if model is not None:
        return model
    import torch

    from mri_search.model import build_model, get_preset, save_model
    from mri_search.preprocess import PreprocessConfig

    cfg = get_preset(preset)
    s = cfg.vision.img_size
    torch.manual_seed(0)
    return save_model(build_model(cfg).eval(), tmp / "model", PreprocessConfig(size=(s, s, s)))


def emit(results: dict, table: str, json_path: Path | None = None, markdown_path: Path | None = None) -> None:
    """Print the results (JSON, then the table) and write them where asked."""
    text = json.dumps(results, indent=2)
    print(text)
    print(table)
    if json_path:
        json_path.write_text(text + "\n")
    if markdown_path:
        markdown_path.write_text(table)


def latency_summary(ms: list[float]) -> dict:
    """p50, p95 and mean of latencies in ms, and their count (NaN when there are none)."""
    a = np.asarray(ms, dtype=float) if len(ms) else np.asarray([np.nan])
    return {"p50_ms": round(float(np.percentile(a, 50)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3),
            "mean_ms": round(float(np.mean(a)), 3), "n": len(ms)}


def generated_archive(out: Path, studies: int) -> Path:
    """A small synthetic NIfTI archive at ``out`` (seed 7, half matrix), for benchmarks run without one."""
    from mri_search.synth.archive import run_synth
    from mri_search.synth.config import SynthConfig

    run_synth(SynthConfig(out=out, studies=studies, seed=7, format="nifti", matrix_scale=0.5),
              progress=lambda *a, **k: None)
    return out
