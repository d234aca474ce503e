"""Acquire one series from a phantom: physics, slice profile, resampling, artefacts and noise.

Order of operations (each step is one function): tissue parameter maps on the phantom grid (with smooth per-patient
heterogeneity) -> noise-free signal of the sequence -> resampling onto the series' own grid, averaging across the
slice thickness (partial volume of thick slices) -> receive-coil bias field -> phase-encode motion ghosts -> Rician
noise (magnitude of complex Gaussian noise, Gudbjartsson & Patz 1995) at the series' SNR.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..types import Geometry, SeriesPlan, StudyPlan
from .phantom import Phantom
from .sequences import signal, water_pool
from .tissues import label_of, property_arrays

HETEROGENEITY = {"pd": 0.04, "t1": 0.05, "t2": 0.06}  # fractional s.d. of smooth within-tissue variation [E]
TEXTURE_SCALE_MM = 12.0  # correlation length of that variation [E]
FINE_TEXTURE = (0.04, 3.0)  # s.d. and correlation length (mm) of fine proton-density texture [E]
# Patient-to-patient spread of each tissue's relaxation times and proton density: tissue_relaxation.csv quotes
# ranges of roughly +-10-20 % between studies for most tissues (e.g. white matter T1 500-880 ms at 1.5 T).
PATIENT_SPREAD = {"t1": 0.06, "t2": 0.06, "pd": 0.03}


def tissue_maps(phantom: Phantom, field_t: float) -> dict[str, np.ndarray]:
    """Per-voxel MR parameters of a phantom at one field strength (float32 maps on the phantom grid)."""
    props = property_arrays()
    lab = phantom.labels
    key = "15" if field_t == 1.5 else "30"
    rng = np.random.default_rng(phantom.texture_seed)
    spread = {k: np.clip(1.0 + sd * rng.normal(size=256), 0.7, 1.3).astype(np.float32)
              for k, sd in PATIENT_SPREAD.items()}
    t1 = (props[f"t1_{key}"] * spread["t1"])[lab]
    t2 = (props[f"t2_{key}"] * spread["t2"])[lab]
    ff = props["ff"][lab]
    t1, t2 = water_pool(t1, t2, ff, field_t)
    maps = {"t1": t1, "t2": t2, "pd": (props["pd"] * spread["pd"])[lab], "ff": ff, "adc": props["adc"][lab],
            "gd": props["gd"][lab]}
    maps["flow"] = np.isin(lab, [label_of("artery"), label_of("vein")]).astype(np.float32)
    for name, sd in HETEROGENEITY.items():
        maps[name] = maps[name] * (1.0 + sd * _smooth_noise(lab.shape, phantom.spacing, rng, TEXTURE_SCALE_MM))
    sd, scale = FINE_TEXTURE
    maps["pd"] = maps["pd"] * (1.0 + sd * _smooth_noise(lab.shape, phantom.spacing, rng, scale))
    return maps


def _smooth_noise(shape: tuple[int, ...], spacing: float, rng: np.random.Generator, scale_mm: float) -> np.ndarray:
    """Noise of about unit variance with correlation length ``scale_mm``, by upsampling a coarse grid."""
    coarse = np.maximum(2, np.ceil(np.asarray(shape) * spacing / scale_mm).astype(int) + 1)
    z = rng.normal(size=coarse).astype(np.float32)
    # trilinear, corner to corner (what ndimage.zoom(order=1) computes, to 1e-6), as three small matrix products:
    # 3-15x faster than zoom on a phantom grid
    out = z
    for axis, n in enumerate(shape):
        out = np.moveaxis(np.tensordot(_linear_weights(int(n), int(z.shape[axis])), np.moveaxis(out, axis, 0),
                                       axes=(1, 0)), 0, axis)
    return out


def _linear_weights(n: int, c: int) -> np.ndarray:
    """[n, c] weights of linear interpolation from ``c`` nodes to ``n`` points, first and last aligned."""
    pos = np.arange(n, dtype=np.float64) * ((c - 1) / (n - 1) if n > 1 else 0.0)
    i0 = np.clip(np.floor(pos).astype(int), 0, c - 2)
    t = (pos - i0).astype(np.float32)
    w = np.zeros((n, c), np.float32)
    w[np.arange(n), i0] = 1.0 - t
    w[np.arange(n), i0 + 1] += t
    return w


def grid_points(geom: Geometry, offset_mm: float = 0.0, world_to_grid: np.ndarray | None = None) -> np.ndarray:
    """[3, S, R, C] coordinates of voxel centres, shifted by ``offset_mm`` along the slice normal.

    LPS mm by default; with ``world_to_grid`` (a 4x4 LPS -> other-index matrix) in that other index space, which
    is how the phantom is sampled without materialising world coordinates.
    """
    s, r, c = geom.shape
    m = geom.index_to_lps()
    m[:3, 3] += offset_mm * geom.normal
    if world_to_grid is not None:
        m = world_to_grid @ m
    m = m.astype(np.float32)
    kk = np.arange(s, dtype=np.float32)[:, None, None]
    rr = np.arange(r, dtype=np.float32)[None, :, None]
    cc = np.arange(c, dtype=np.float32)[None, None, :]
    out = np.empty((3, s, r, c), np.float32)
    for d in range(3):
        out[d] = m[d, 0] * cc + m[d, 1] * rr + (m[d, 2] * kk + m[d, 3])
    return out


def _crop_box(phantom: Phantom, geom: Geometry, margin_vox: int = 3) -> tuple[slice, ...]:
    """Phantom index box covering the series' slab (corners of the grid, plus the slice thickness)."""
    s, r, c = geom.shape
    m = geom.index_to_lps()
    corners = np.array([[ci, ri, ki, 1.0] for ci in (-0.5, c - 0.5) for ri in (-0.5, r - 0.5)
                        for ki in (-0.5, s - 0.5)])
    lps = corners @ m.T
    lps = np.concatenate([lps[:, :3] + geom.normal * geom.slice_thickness / 2,
                          lps[:, :3] - geom.normal * geom.slice_thickness / 2])
    idx = (lps - phantom.origin) / phantom.spacing
    lo = np.clip(np.floor(idx.min(0)).astype(int) - margin_vox, 0, phantom.labels.shape)
    hi = np.clip(np.ceil(idx.max(0)).astype(int) + margin_vox + 1, 0, phantom.labels.shape)
    return tuple(slice(a, max(a + 1, b)) for a, b in zip(lo, hi))


def render_clean(phantom: Phantom, maps: dict[str, np.ndarray], plan: StudyPlan, series: SeriesPlan,
                 timing: dict) -> np.ndarray:
    """Noise-free series on its own grid: [S, R, C], or [B, S, R, C] for DWI (one volume per b-value)."""
    geom = series.geometry
    box = _crop_box(phantom, geom)
    sub = {k: v[box] for k, v in maps.items()}
    lo = np.array([b.start for b in box], float)
    gd_scale = 1.0 if series.post_contrast else 0.0
    b_values = series.b_values or (0,)
    vols = []
    pixel = min(geom.pixel_spacing)
    sigma = max(0.0, 0.5 * pixel / phantom.spacing - 0.3)  # in-plane anti-aliasing before point sampling
    n_sub = int(np.clip(round(geom.slice_thickness / phantom.spacing), 1, 4))
    offsets = (np.arange(n_sub) + 0.5) / n_sub * geom.slice_thickness - geom.slice_thickness / 2
    to_crop = np.eye(4) / phantom.spacing
    to_crop[3, 3] = 1.0
    to_crop[:3, 3] = -(phantom.origin / phantom.spacing + lo)
    coords = [grid_points(geom, off, to_crop) for off in offsets]
    for b in b_values:
        s = signal(sub, series.family, timing, plan.field_strength, series.fat_suppression, gd_scale,
                   plan.contrast_agent, b_value=float(b))
        if sigma > 0:
            s = ndimage.gaussian_filter(s, sigma)
        acc = np.zeros(geom.shape, np.float32)
        for cc in coords:
            acc += ndimage.map_coordinates(s, cc, order=1, mode="constant", cval=0.0, prefilter=False)
        vols.append(acc / n_sub)
    return np.stack(vols) if series.b_values else vols[0]


def bias_field(geom: Geometry, strength: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth multiplicative receive-field inhomogeneity over the series grid (mean ~1)."""
    if strength <= 0:
        return np.ones(geom.shape, np.float32)
    s, r, c = geom.shape
    lin = lambda n: np.linspace(-1, 1, n, dtype=np.float32)  # noqa: E731
    z, y, x = lin(s)[:, None, None], lin(r)[None, :, None], lin(c)[None, None, :]
    a = rng.normal(size=6).astype(np.float32)
    cx, cy, cz = rng.uniform(-0.8, 0.8, size=3).astype(np.float32)
    bump = np.exp(-(x - cx) ** 2 / 0.8) * np.exp(-(y - cy) ** 2 / 0.8) * np.exp(-(z - cz) ** 2 / 0.8)
    f = a[0] * x + a[1] * y + 0.3 * a[2] * z + a[3] * x * y + a[4] * bump
    f = f / (np.abs(f).max() + 1e-6)
    return np.exp(strength * f).astype(np.float32)


def motion_ghosts(vol: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """Phase-encode ghosting: a random subset of k-space lines of each slice sees the anatomy shifted.

    Models mild bulk motion (breathing, swallowing) during a 2D acquisition; the phase-encode axis is the row axis.
    """
    if strength <= 0:
        return vol
    n_rows = vol.shape[-2]
    lines = rng.random(n_rows) < min(0.5, strength)
    shift_px = rng.uniform(1.0, 3.0) * np.sign(rng.normal())
    ky = np.fft.fftfreq(n_rows)[:, None]
    phase = np.where(lines[:, None], np.exp(-2j * np.pi * ky * shift_px), 1.0)
    k = np.fft.fft(vol, axis=-2)
    return np.abs(np.fft.ifft(k * phase, axis=-2)).astype(np.float32)


def rician(vol: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of the signal plus complex Gaussian noise of standard deviation ``sigma``."""
    n1 = rng.normal(0.0, sigma, size=vol.shape).astype(np.float32)
    n2 = rng.normal(0.0, sigma, size=vol.shape).astype(np.float32)
    return np.sqrt((vol + n1) ** 2 + n2**2).astype(np.float32)


def reference_level(vol: np.ndarray) -> float:
    """Signal of typical bright tissue: the 95th percentile of voxels above 5 % of the maximum."""
    v = vol[vol > 0.05 * float(vol.max())] if vol.max() > 0 else vol.ravel()
    return float(np.percentile(v, 95)) if v.size else 1.0


def acquire(phantom: Phantom, maps: dict[str, np.ndarray], plan: StudyPlan, series: SeriesPlan,
            timing: dict) -> np.ndarray:
    """The series as the scanner reconstructs it: [S, R, C] (or [B, S, R, C] for DWI), float32 >= 0."""
    rng = np.random.default_rng(series.seed)
    clean = render_clean(phantom, maps, plan, series, timing)
    clean = clean * bias_field(series.geometry, series.bias_strength, rng)
    clean = motion_ghosts(clean, series.motion, rng)
    ref = reference_level(clean[0] if series.b_values else clean)
    sigma = ref / max(series.snr, 1.0)
    return rician(clean, sigma, rng)


def adc_map(dwi: np.ndarray, b_values: tuple[int, ...]) -> np.ndarray:
    """ADC (1e-3 mm^2/s) by log-linear least squares over the b-values; 0 where the low-b signal is noise."""
    b = np.asarray(b_values, float)
    s = np.maximum(dwi, 1e-3)
    logs = np.log(s)
    bc = b - b.mean()
    slope = np.tensordot(bc, logs - logs.mean(0), axes=(0, 0)) / float((bc**2).sum())
    adc = np.clip(-slope * 1e3, 0.0, 4.0)
    low = dwi[0]
    adc[low < 0.1 * reference_level(low)] = 0.0
    return adc.astype(np.float32)
