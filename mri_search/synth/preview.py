"""``mri-search synth --preview``: a gallery PNG of what the phantoms look like.

Rows are body regions, columns the sequences of that region's protocol (the slice through the primary finding when
there is one, else the middle slice); the last rows show head-and-neck tumours at different sub-sites. Nothing is
written but the PNG: the studies are drawn and acquired in memory with the same code as an archive.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from .archive import acquire_study, build_plan
from .config import SynthConfig

log = logging.getLogger(__name__)
MAX_COLUMNS = 7
TUMOUR_CASES = 7


def _slice_through(series, point) -> int:
    """Index of the slice of ``series`` nearest to an LPS point (middle slice when no point)."""
    n = series.geometry.shape[0]
    if point is None:
        return n // 2
    m = np.linalg.inv(series.geometry.index_to_lps())
    k = (m @ np.array([*point, 1.0]))[2]
    return int(np.clip(round(k), 0, n - 1))


def _acquire_all(cfg: SynthConfig, index: int):
    plan, phantom, timings, _ = build_plan(cfg, index)
    return plan, {s.series_number: vol for s, vol in acquire_study(plan, phantom, timings)}


def _tile(vol: np.ndarray, k: int) -> np.ndarray:
    img = vol[-1] if vol.ndim == 4 else vol  # DWI: the highest b-value
    sl = img[k]
    hi = np.percentile(sl, 99.5) or 1.0
    return np.clip(sl / hi, 0, 1)


def _region_row(args: tuple[SynthConfig, str, int]) -> tuple[str, list[tuple[str, np.ndarray]]]:
    """Gallery row of one region: prefer a study with a finding so the gallery shows pathology."""
    cfg, region, r_i = args
    rcfg = replace(cfg, regions=(region,))
    for attempt in range(6):
        plan, vols = _acquire_all(rcfg, 1000 + 10 * r_i + attempt)
        if plan.lesions:
            break
    point = plan.lesions[0].center_lps if plan.lesions else None
    tiles = [(f"{s.sequence} {s.plane[:3]}", _tile(vols[s.series_number], _slice_through(s, point)))
             for s in plan.series[:MAX_COLUMNS]]
    finding = f"{plan.lesions[0].kind}: {plan.lesions[0].site}" if plan.lesions else "normal"
    return f"{region} ({plan.field_strength:g} T, {plan.manufacturer.split()[0]})\n{finding}", tiles


def _tumour_row(args: tuple[SynthConfig, int]) -> tuple[str, list[tuple[str, np.ndarray]]]:
    """Gallery row of one head-and-neck tumour study, every series cut through the tumour centre."""
    cfg, index = args
    plan, vols = _acquire_all(cfg, index)
    les = plan.lesions[0]
    tiles = [(f"{s.sequence} {s.plane[:3]}", _tile(vols[s.series_number], _slice_through(s, les.center_lps)))
             for s in plan.series[:MAX_COLUMNS]]
    return f"H&N tumour: {les.site}\n{les.histology}, {les.laterality}", tiles


def _tumour_indices(cfg: SynthConfig) -> list[int]:
    """Study indices of head-and-neck tumours at distinct sub-sites (plans only, no acquisition)."""
    seen: set[str] = set()
    out = []
    for index in range(5000, 5060):
        if len(out) >= TUMOUR_CASES:
            break
        plan, _, _, _ = build_plan(cfg, index)
        les = plan.lesions[0] if plan.lesions else None
        if les is not None and les.site not in seen:
            seen.add(les.site)
            out.append(index)
    return out


def run_preview(cfg: SynthConfig, progress=print) -> Path:
    """Draw the gallery to ``cfg.out/gallery.png`` and return its path (rows acquired in ``cfg.workers`` processes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    jobs: list = [(_region_row, (cfg, region, i)) for i, region in enumerate(cfg.region_list)]
    if "head_neck" in cfg.region_list:
        hcfg = replace(cfg, regions=("head_neck",))
        jobs += [(_tumour_row, (hcfg, index)) for index in _tumour_indices(hcfg)]
    rows: list[tuple[str, list[tuple[str, np.ndarray]]]] = []
    with ProcessPoolExecutor(max(1, cfg.workers)) as ex:
        futures = [ex.submit(fn, args) for fn, args in jobs]
        for fut in futures:
            rows.append(fut.result())
            progress(f"  preview: {rows[-1][0].splitlines()[0]} done ({len(rows[-1][1])} series)")
    n_cols = max(len(t) for _, t in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(2.2 * n_cols, 2.3 * len(rows)), squeeze=False)
    for i, (title, tiles) in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(tiles):
                ax.imshow(tiles[j][1], cmap="gray", interpolation="nearest")
                ax.set_title(tiles[j][0], fontsize=7)
        axes[i, 0].text(-0.08, 0.5, title, transform=axes[i, 0].transAxes, ha="right", va="center", fontsize=7)
    fig.suptitle(f"mri-search synthetic phantoms (seed {cfg.seed}); rows: region, columns: series", fontsize=9)
    fig.tight_layout(rect=(0.12, 0, 1, 0.98))
    cfg.out.mkdir(parents=True, exist_ok=True)
    path = cfg.out / "gallery.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
