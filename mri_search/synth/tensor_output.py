"""The writer side of ``synth --format tensors``: this process's tensorizer, and resuming an archive.

The format itself (layout, marker, study files, reading) is ``mri_search.tensor_archive``; what one series becomes
is ``synth.tensor_series``. A tensor archive is resumable: each study file is written atomically, so the files
present are the finished studies, and a rerun with the same generator settings keeps them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..tensor_archive import MARKER, is_tensor_archive, read_marker, read_study_meta, study_files, write_marker
from .config import SynthConfig

_TENSORIZERS: dict = {}


def tensorizer(cfg: SynthConfig):
    """This process's ``SeriesTensorizer`` for the run's preprocessing (MONAI is imported only on this path)."""
    from .tensor_series import SeriesTensorizer

    pcfg = cfg.preprocess_config()
    if pcfg not in _TENSORIZERS:
        import torch

        # each worker resamples on its share of the cores (2 workers with 2 threads each on 2 cores ran slower)
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // cfg.workers))
        _TENSORIZERS[pcfg] = SeriesTensorizer(pcfg)
    return _TENSORIZERS[pcfg]


def generator_settings(cfg: SynthConfig) -> dict:
    """What fixes the content of each study of a tensor archive (a rerun with the same settings resumes). The
    study count is not part of it: study i is the same in an archive of any length (the mixes are prefix-stable,
    ``synth.mix``), so a rerun with a larger ``--studies`` grows the archive."""
    return json.loads(json.dumps({
        "seed": cfg.seed, "regions": list(cfg.region_list), "region_weights": [list(x) for x in cfg.region_weights],
        "hn_tumour_fraction": cfg.hn_tumour_fraction, "matrix_scale": cfg.matrix_scale}))


def start(cfg: SynthConfig) -> None:
    """Mark a new, empty ``cfg.out`` as a tensor archive of these settings."""
    write_marker(cfg.out, cfg.preprocess_config(), generator_settings(cfg))


def resumable(cfg: SynthConfig) -> bool:
    """True when ``cfg.out`` holds a tensor archive of the same settings: its finished studies are kept.

    Raises:
        FileExistsError: ``cfg.out`` holds a tensor archive made with other settings, or more studies than asked.
    """
    if cfg.format != "tensors" or cfg.overwrite or not is_tensor_archive(cfg.out):
        return False
    doc = read_marker(cfg.out)
    if doc.get("generator") != generator_settings(cfg) or doc.get("preprocess_hash") != cfg.preprocess_config().hash():
        raise FileExistsError(f"{cfg.out} holds a tensor archive made with other settings ({MARKER}); pass "
                              "--overwrite to replace it, or rerun the command that made it to continue it")
    beyond = [p for p in study_files(cfg.out) if _study_index(p) >= cfg.studies]
    if beyond:
        raise FileExistsError(f"{cfg.out} already holds studies beyond the first {cfg.studies} ({len(beyond)} "
                              "files); rerun with at least as many --studies, or --overwrite")
    return True


def _study_index(path: Path) -> int:
    """The study index of a tensor study file (its accession ``A<seed % 100:02d><index:07d>``)."""
    return int(path.stem[-7:])


def finished_studies(cfg: SynthConfig) -> dict[int, tuple[list[dict], str]]:
    """The finished studies of a tensor archive, by study index: their manifest rows and report text."""
    out: dict[int, tuple[list[dict], str]] = {}
    for path in study_files(cfg.out):
        report, rows = read_study_meta(path)
        if rows:
            out[int(rows[0]["study_index"])] = (rows, report)
    return out
