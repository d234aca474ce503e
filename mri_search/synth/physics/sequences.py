"""MR signal equations and the timing ranges of each sequence family.

Timing ranges (TR, TE, TI, flip angle, echo-train length, b-values) and the closed-form signal equations come from
``data/sequences.csv`` (MS-SMART multi-vendor brain table, OAI knee protocol, PI-RADS v2.1, vendor defaults; see
that file's ``source`` column). Voxels are two-pool (water + fat): each tissue row gives its apparent T1/T2 and a
proton-density fat fraction; the fat pool uses the subcutaneous-fat row, and the water pool of fat-dominant
tissues uses the water-component values the marrow row recommends (T1 ~860-900 ms, T2 ~35-45 ms, SpinSight).
Fat suppression leaves a residual: spectral ~17 % (SpinSight's six-peak model: peaks near water are not
suppressed), Dixon water images ~5 % [E]; STIR nulls fat through its inversion time. Gadolinium shortens
relaxation as 1/T = 1/T0 + r*C (``data/contrast_gadolinium.csv``), with r2 ~ 1.3 r1 [R].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fat pool (subcutaneous_fat row, effective TSE T2) and water pool of fat-dominant tissues (marrow row note).
FAT_POOL = {1.5: (290.0, 165.0), 3.0: (380.0, 130.0)}
WATER_POOL_OF_FATTY = {1.5: (880.0, 40.0), 3.0: (1000.0, 40.0)}
SPECTRAL_FAT_RESIDUAL = 0.17
DIXON_FAT_RESIDUAL = 0.05
# r1 of each agent, 1/(mM s), plasma at 37 C (contrast_gadolinium.csv: Szomolanyi 2019, Rohrer 2005).
R1_PER_MM_S = {
    "gadobutrol": {1.5: 4.78, 3.0: 4.97},
    "gadoterate": {1.5: 3.32, 3.0: 3.0},
    "gadoteridol": {1.5: 3.8, 3.0: 3.28},
    "gadobenate": {1.5: 6.3, 3.0: 5.5},
}
R2_OVER_R1 = 1.3
# T2* shortening for gradient echoes: R2' grows with B0 (Yablonskiy & Haacke 1994, sequences.csv) [E magnitude].
R2PRIME_PER_S = {1.5: 20.0, 3.0: 40.0}


@dataclass(frozen=True)
class Family:
    """Timing ranges of one sequence family at 1.5 T / 3 T (ms, degrees)."""

    kind: str  # signal model: "se", "ir", "gre", "mprage", "dwi", "ssfp", "haste"
    tr: dict[float, tuple[float, float]]
    te: tuple[float, float]
    ti: dict[float, tuple[float, float]] | None = None
    flip: tuple[float, float] = (90.0, 90.0)
    etl: tuple[int, int] = (1, 1)
    three_d: bool = False
    scanning_sequence: str = "SE"  # DICOM ScanningSequence


FAMILIES: dict[str, Family] = {
    "T1_SE_2D": Family("se", {1.5: (400, 650), 3.0: (500, 750)}, (8, 20), etl=(1, 5)),
    "T1_FLAIR_2D": Family("ir", {1.5: (1800, 2500), 3.0: (2000, 2800)}, (8, 20),
                          ti={1.5: (700, 850), 3.0: (800, 1000)}, etl=(4, 8), scanning_sequence="IR"),
    "T2_TSE_2D": Family("se", {1.5: (2500, 6000), 3.0: (3000, 6000)}, (80, 110), etl=(10, 25)),
    "PD_TSE_2D": Family("se", {1.5: (2000, 4000), 3.0: (2500, 4000)}, (20, 40), etl=(5, 10)),
    "PD_TSE_FS": Family("se", {1.5: (2500, 4500), 3.0: (2500, 5000)}, (30, 50), etl=(5, 15)),
    "T2_TSE_FS": Family("se", {1.5: (2500, 4500), 3.0: (2500, 5000)}, (60, 90), etl=(10, 20)),
    "STIR": Family("ir", {1.5: (3000, 6000), 3.0: (3500, 7000)}, (30, 70), ti={1.5: (140, 170), 3.0: (180, 230)},
                   etl=(10, 20), scanning_sequence="IR"),
    "T2_FLAIR_2D": Family("ir", {1.5: (8000, 11000), 3.0: (9000, 11000)}, (90, 140),
                          ti={1.5: (2000, 2500), 3.0: (2200, 2800)}, etl=(15, 25), scanning_sequence="IR"),
    "T1_3D_IR_GRE": Family("mprage", {1.5: (2000, 2400), 3.0: (2000, 2400)}, (2.5, 4.0),
                           ti={1.5: (900, 1000), 3.0: (900, 1000)}, flip=(8, 12), three_d=True,
                           scanning_sequence="GR\\IR"),
    "T1_3D_GRE_FS": Family("gre", {1.5: (4, 6), 3.0: (3, 5)}, (1.2, 2.5), flip=(10, 15), three_d=True,
                           scanning_sequence="GR"),
    "T1_GRE_2D": Family("gre", {1.5: (100, 200), 3.0: (100, 200)}, (2.3, 4.6), flip=(60, 80), scanning_sequence="GR"),
    "DWI_SS_EPI": Family("dwi", {1.5: (3000, 8000), 3.0: (3000, 8000)}, (55, 100), scanning_sequence="EP"),
    "SSFSE": Family("haste", {1.5: (1000, 1500), 3.0: (1000, 1500)}, (80, 100), etl=(80, 200)),
    "BSSFP": Family("ssfp", {1.5: (2.8, 3.5), 3.0: (3.2, 4.0)}, (1.4, 2.0), flip=(50, 70), scanning_sequence="GR"),
    "LGE_IR_GRE": Family("ir_gre", {1.5: (600, 900), 3.0: (600, 900)}, (2, 4), ti={1.5: (250, 350), 3.0: (270, 370)},
                         flip=(20, 30), scanning_sequence="GR\\IR"),
}


def draw_timing(family: str, field_t: float, rng: np.random.Generator) -> dict:
    """Draw TR/TE/TI/flip/ETL for one series from the family's clinical ranges."""
    f = FAMILIES[family]
    u = lambda lo_hi: float(rng.uniform(*lo_hi))  # noqa: E731 - tiny local helper
    out = dict(tr_ms=round(u(f.tr[field_t]), 1), te_ms=round(u(f.te), 2), flip_deg=round(u(f.flip), 0),
               echo_train_length=int(rng.integers(f.etl[0], f.etl[1] + 1)), ti_ms=None)
    if f.ti is not None:
        out["ti_ms"] = round(u(f.ti[field_t]), 0)
    if family == "STIR":
        # null fat: TI = T1_fat * ln(2 / (1 + exp(-TR/T1_fat))) (sequences.csv STIR note); vendors quote shorter
        # TIs because fat is multi-peak, so the simulator uses the physical null for its own fat pool.
        t1f = FAT_POOL[field_t][0]
        out["ti_ms"] = round(t1f * np.log(2.0 / (1.0 + np.exp(-out["tr_ms"] / t1f))), 0)
    if family == "T2_FLAIR_2D":
        t1c = 4300.0 if field_t == 3.0 else 4200.0  # CSF null (sequences.csv FLAIR note)
        out["ti_ms"] = round(t1c * np.log(2.0 / (1.0 + np.exp(-out["tr_ms"] / t1c))), 0)
    return out


def _pool_signal(kind: str, t1: np.ndarray, t2: np.ndarray, tr: float, te: float, ti: float | None,
                 flip_deg: float, field_t: float) -> np.ndarray:
    """Signal of one pool per unit proton density (magnitude)."""
    e1 = np.exp(-tr / t1)
    if kind in ("se", "haste"):
        tr_eff = tr if kind == "se" else 1e5  # single shot: effectively infinite TR
        return (1.0 - np.exp(-tr_eff / t1)) * np.exp(-te / t2)
    if kind in ("ir", "dwi_stir"):
        return np.abs(1.0 - 2.0 * np.exp(-ti / t1) + e1) * np.exp(-te / t2)
    a = np.deg2rad(flip_deg)
    r2s = 1.0 / t2 + R2PRIME_PER_S[field_t] / 1000.0
    if kind == "gre":
        return np.sin(a) * (1 - e1) / (1 - np.cos(a) * e1) * np.exp(-te * r2s)
    if kind in ("mprage", "ir_gre"):
        mz = 1.0 - 2.0 * np.exp(-ti / t1) + e1
        return np.abs(mz) * np.sin(a) * np.exp(-te * r2s)
    if kind == "ssfp":
        e2 = np.exp(-tr / t2)
        return np.sin(a) * (1 - e1) * np.sqrt(e2) / (1 - (e1 - e2) * np.cos(a) - e1 * e2)
    raise ValueError(f"unknown signal model {kind!r}")


def signal(maps: dict[str, np.ndarray], family: str, timing: dict, field_t: float, fat_suppression: str,
           gd_scale: float, agent: str | None, b_value: float = 0.0) -> np.ndarray:
    """Noise-free magnitude signal of every voxel for one sequence.

    Args:
        maps: per-voxel ``t1``, ``t2`` (ms, water pool or apparent), ``pd``, ``ff``, ``adc`` (1e-3 mm^2/s), ``gd``
            (mM at the routine post-contrast phase), ``flow`` (1 for flowing blood).
        family: key of ``FAMILIES``.
        timing: ``draw_timing`` output.
        field_t: 1.5 or 3.0.
        fat_suppression: "none", "spectral", "dixon" or "stir" (STIR's inversion does it by itself).
        gd_scale: 0 before contrast, else the fraction of the tissue concentration reached in this phase.
        agent: gadolinium agent name when ``gd_scale`` > 0.
        b_value: diffusion weighting (s/mm^2) for DWI.

    Returns:
        float32 array of the same shape as the maps.
    """
    fam = FAMILIES[family]
    t1w, t2w = maps["t1"], maps["t2"]
    ff = maps["ff"]
    if gd_scale > 0 and agent:
        r1 = R1_PER_MM_S[agent][field_t] / 1000.0  # per ms per mM
        c = maps["gd"] * gd_scale
        t1w = 1.0 / (1.0 / t1w + r1 * c)
        t2w = 1.0 / (1.0 / t2w + R2_OVER_R1 * r1 * c)
    kind = fam.kind
    if kind == "dwi":
        kind = "se"
        timing = dict(timing, tr_ms=max(timing["tr_ms"], 3000.0))
    args = (timing["tr_ms"], timing["te_ms"], timing.get("ti_ms"), timing["flip_deg"], field_t)
    water = _pool_signal(kind, t1w, t2w, *args)
    t1f, t2f = FAT_POOL[field_t]
    fat = _pool_signal(kind, np.float32(t1f), np.float32(t2f), *args)
    residual = {"none": 1.0, "spectral": SPECTRAL_FAT_RESIDUAL, "dixon": DIXON_FAT_RESIDUAL, "stir": 1.0}
    if fat_suppression not in residual:
        raise ValueError(f"unknown fat suppression {fat_suppression!r}")
    s = maps["pd"] * ((1.0 - ff) * water + ff * fat * residual[fat_suppression])
    if fam.kind in ("se", "ir", "dwi", "haste"):
        # spin echoes: blood that flows through the slice between excitation and refocusing gives no signal
        s = s * (1.0 - 0.92 * maps["flow"])
    if fam.kind == "dwi" and b_value > 0:
        s = s * np.exp(-b_value * maps["adc"] * 1e-3)
    return s.astype(np.float32)


def water_pool(t1: np.ndarray, t2: np.ndarray, ff: np.ndarray, field_t: float) -> tuple[np.ndarray, np.ndarray]:
    """Replace the apparent T1/T2 of fat-dominant voxels (ff >= 0.5) by their water-pool values."""
    wt1, wt2 = WATER_POOL_OF_FATTY[field_t]
    fatty = ff >= 0.5
    return np.where(fatty, np.float32(wt1), t1), np.where(fatty, np.float32(wt2), t2)
