"""From a ``SeriesRecord`` to the model's input tensor: one MONAI dictionary-transform pipeline.

Deterministic steps (cacheable, identified by ``PreprocessConfig.hash()``), in order:

1. ``LoadSeriesd``: the reader's ``[S, R, C]`` volume as a MetaTensor ``[1, C, R, S]`` with its RAS affine (DWI:
   one volume, ``dwi_volume``); NaN, empty or constant volumes raise ValueError naming the series. Axes off
   orthogonal by rounding only (6-decimal DICOM cosines, float32 NIfTI) are squared (``square_axes``), so a DICOM
   series and its NIfTI twin land on the same output grid.
2. ``Orientationd("RAS")``: permutes and flips array axes to the nearest RAS codes; no interpolation.
3. ``AntiAliasd``: Gaussian low-pass of the axes about to be downsampled (``antialias``).
4. ``Spacingd(spacing_mm)``: resamples to the target voxel size. Obliquity: with ``world_aligned=False`` (MONAI's
   ``diagonal=False``) the output grid keeps the rotation of the acquisition's own axes and only its voxel size
   changes, so an oblique series stays oblique (by at most 45 degrees, after step 2) and nothing is rotated
   through interpolation; with ``world_aligned=True`` it is resampled onto a grid parallel to the RAS axes (the
   rotated field of view's corners are zero).
5. ``ScaleIntensityRangePercentilesd``: per-series percentiles -> [0, 1], clipped (MRI has no absolute units).
6. ``ResizeWithPadOrCropd(size)``: centred crop or zero pad to the model's input size.
7. ``EnsureTyped(float32)``.

Random augmentations (``train_augmentations``) come after, in training only; ``preprocess`` never applies them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from monai.transforms import (
    Compose, EnsureTyped, Identityd, OneOf, Orientationd, RandAdjustContrastd, RandAffined, RandBiasFieldd,
    RandFlipd, RandGaussianNoised, RandSimulateLowResolutiond, RandSpatialCropd, Resized, ResizeWithPadOrCropd,
    ScaleIntensityRanged, ScaleIntensityRangePercentilesd, Spacingd,
)

from .atomic import atomic_path
from .configs import build_config
from .ingest.records import SeriesRecord
from .preprocess_transforms import DWI_CHOICES, AntiAliasd, Loader, LoadSeriesd

log = logging.getLogger(__name__)

INTERPOLATIONS = ("nearest", "bilinear")
CONFIG_VERSION = 1


@dataclass(frozen=True)
class AugmentConfig:
    """Training-only random augmentations, each applied with its own probability (0 turns it off)."""

    crop_prob: float = 0.5  # random resized crop: a sub-box resized back to the input size (scale jitter)
    crop_min_fraction: float = 0.7  # smallest crop edge, as a fraction of the input size per axis
    affine_prob: float = 0.3  # small rotation / scaling / translation
    rotate_deg: float = 10.0  # max rotation about each axis
    scale_fraction: float = 0.1  # max relative zoom in or out
    translate_vox: float = 4.0  # max shift, voxels
    flip_lr_prob: float = 0.0  # left-right flip: off, it swaps laterality that reports state ("left parotid")
    lowres_prob: float = 0.2  # simulated thick slices / coarse matrix (RandSimulateLowResolutiond)
    lowres_zoom: tuple[float, float] = (0.5, 1.0)  # downsampling factor range
    bias_prob: float = 0.3  # smooth multiplicative receive-coil bias field (RandBiasFieldd)
    bias_coeff: tuple[float, float] = (0.0, 0.3)  # polynomial coefficient range of log(bias)
    gamma_prob: float = 0.3  # contrast jitter: x ** gamma
    gamma: tuple[float, float] = (0.7, 1.5)
    noise_prob: float = 0.2  # additive Gaussian noise (clipped at 0 afterwards, Rician-like in background)
    noise_std: float = 0.02  # on the [0, 1] scale

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name.endswith("_prob") and not 0.0 <= getattr(self, f.name) <= 1.0:
                raise ValueError(f"augment.{f.name} must be in [0, 1], got {getattr(self, f.name)}")
        if not 0.0 < self.crop_min_fraction <= 1.0:
            raise ValueError(f"augment.crop_min_fraction must be in (0, 1], got {self.crop_min_fraction}")


@dataclass(frozen=True)
class PreprocessConfig:
    """How a series becomes the model's input. Saved with the model: it is part of the artifact.

    Defaults: 3 mm isotropic x 96^3 = a 288 mm cube. It holds the whole field of view of nearly every routine
    protocol (brain, neck, spine, knee, shoulder, pelvis: 140-280 mm) and the central 288 mm of a 350-450 mm
    abdominal one; 3 mm is within a factor two of the 5-6 mm thick slices of 2D protocols; 96 = 6 ViT patches of
    16; and one input is 0.9 M voxels (3.5 MB), which a CPU pipeline resamples in well under a second.
    """

    spacing_mm: tuple[float, float, float] = (3.0, 3.0, 3.0)  # target voxel size along RAS x, y, z
    size: tuple[int, int, int] = (96, 96, 96)  # model input size after centred crop/pad, voxels (x, y, z)
    orientation: str = "RAS"  # axis codes of the output array
    lower_percentile: float = 0.5  # maps to 0 (per series; MRI intensities have no absolute scale)
    upper_percentile: float = 99.5  # maps to 1
    clip: bool = True  # clip the scaled intensities to [0, 1]
    dwi_volume: str = "highest_b"  # DWI volume fed to the model: highest_b, lowest_b, first, last
    interpolation: str = "bilinear"  # resampling: bilinear (trilinear in 3D) or nearest
    antialias: bool = True  # Gaussian low-pass before downsampling an axis (sigma = (factor - 1) / 2 voxels)
    world_aligned: bool = False  # False: keep an oblique acquisition's own axes; True: resample onto RAS axes
    version: int = CONFIG_VERSION  # bumped when the pipeline's behaviour changes for the same settings
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # training only; not part of hash()

    def __post_init__(self) -> None:
        if len(self.spacing_mm) != 3 or min(self.spacing_mm) <= 0:
            raise ValueError(f"spacing_mm must be three positive numbers, got {self.spacing_mm}")
        if len(self.size) != 3 or min(self.size) < 1 or any(int(s) != s for s in self.size):
            raise ValueError(f"size must be three positive integers, got {self.size}")
        codes = self.orientation.upper()
        if len(codes) != 3 or sorted(sum(c in pair for c in codes) for pair in ("LR", "AP", "SI")) != [1, 1, 1]:
            raise ValueError(f"orientation must be three axis codes, one each of L/R, A/P and S/I, "
                             f"got {self.orientation!r}")
        if not 0.0 <= self.lower_percentile < self.upper_percentile <= 100.0:
            raise ValueError("need 0 <= lower_percentile < upper_percentile <= 100, got "
                             f"{self.lower_percentile}, {self.upper_percentile}")
        if self.dwi_volume not in DWI_CHOICES:
            raise ValueError(f"dwi_volume must be one of {DWI_CHOICES}, got {self.dwi_volume!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {self.interpolation!r}")

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples as lists), ``augment`` nested."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, d: dict) -> "PreprocessConfig":
        """Inverse of ``to_dict``; an unknown key (here or under ``augment``) raises ValueError naming it."""
        d = dict(d)
        if "augment" in d:
            d["augment"] = build_config(AugmentConfig, d["augment"], "preprocessing config 'augment'")
        return build_config(cls, d, "preprocessing config")

    def hash(self) -> str:
        """16 hex digits identifying the deterministic pipeline (every field but ``augment``): the cache key."""
        d = self.to_dict()
        d.pop("augment")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def default_preprocess(img_size: int) -> PreprocessConfig:
    """The default preprocessing for a model input edge: a 288 mm cube (3 mm voxels at 96)."""
    mm = 288.0 / img_size
    return PreprocessConfig(spacing_mm=(mm, mm, mm), size=(img_size, img_size, img_size))


def deterministic_transforms(cfg: PreprocessConfig, loader: Loader | None = None) -> Compose:
    """``{"series": SeriesRecord}`` -> adds ``"image"``: MetaTensor ``[1, *cfg.size]`` float32 in [0, 1], RAS.

    Args:
        cfg: the preprocessing configuration.
        loader: ``SeriesRecord -> [S, R, C]`` (or DWI ``[B, S, R, C]``) array; default
            ``mri_search.ingest.archive.load_series``.

    MONAI's ``Compose`` wraps a step's ValueError in a RuntimeError; ``run_transforms`` unwraps it.
    """
    steps = [
        LoadSeriesd("series", "image", loader=loader, dwi_volume=cfg.dwi_volume,
                    percentiles=(cfg.lower_percentile, cfg.upper_percentile)),
        Orientationd("image", axcodes=cfg.orientation.upper(), labels=None),  # labels from meta "space"
    ]
    if cfg.antialias:
        steps.append(AntiAliasd("image", cfg.spacing_mm))
    steps += [
        Spacingd("image", pixdim=cfg.spacing_mm, mode=cfg.interpolation, diagonal=cfg.world_aligned,
                 padding_mode="zeros" if cfg.world_aligned else "border"),
        ScaleIntensityRangePercentilesd("image", lower=cfg.lower_percentile, upper=cfg.upper_percentile,
                                        b_min=0.0, b_max=1.0, clip=cfg.clip),
        ResizeWithPadOrCropd("image", spatial_size=cfg.size, mode="constant", value=0),
        EnsureTyped("image", dtype=torch.float32, track_meta=True),
    ]
    return Compose(steps)


def train_augmentations(cfg: PreprocessConfig, seed: int) -> Compose:
    """Random augmentations of ``"image"`` (``[1, *cfg.size]`` in [0, 1]), seeded: the same seed replays the
    same sequence. Spatial ones first, then intensity ones, then a clip back to [0, 1].

    In a multi-worker ``monai.data.DataLoader`` each worker reseeds its copy from torch's per-worker seed.
    """
    a = cfg.augment
    size = tuple(int(s) for s in cfg.size)
    crop = Compose([
        RandSpatialCropd("image", roi_size=[max(1, int(round(s * a.crop_min_fraction))) for s in size],
                         max_roi_size=size, random_size=True),
        Resized("image", spatial_size=size, mode="trilinear"),
    ])
    rad = float(np.deg2rad(a.rotate_deg))
    steps = [
        OneOf([crop, Identityd("image")], weights=[a.crop_prob, 1.0 - a.crop_prob]),
        RandAffined("image", prob=a.affine_prob, rotate_range=(rad, rad, rad), scale_range=[a.scale_fraction] * 3,
                    translate_range=[a.translate_vox] * 3, mode="bilinear", padding_mode="zeros",
                    spatial_size=size),
        RandFlipd("image", prob=a.flip_lr_prob, spatial_axis=0),  # axis 0 is R-L after Orientationd("RAS")
        RandSimulateLowResolutiond("image", prob=a.lowres_prob, zoom_range=a.lowres_zoom),
        RandBiasFieldd("image", prob=a.bias_prob, coeff_range=a.bias_coeff),
        RandAdjustContrastd("image", prob=a.gamma_prob, gamma=a.gamma),
        RandGaussianNoised("image", prob=a.noise_prob, std=a.noise_std),
        ScaleIntensityRanged("image", a_min=0.0, a_max=1.0, b_min=0.0, b_max=1.0, clip=True),
        EnsureTyped("image", dtype=torch.float32),
    ]
    comp = Compose(steps)
    comp.set_random_state(seed=seed)
    return comp


def preprocess(record: SeriesRecord, cfg: PreprocessConfig | None = None, loader: Loader | None = None) -> torch.Tensor:
    """One series -> MetaTensor ``[1, *cfg.size]`` float32 in [0, 1], RAS (its ``.affine`` maps voxels to mm).

    Raises:
        ValueError: the volume is NaN, empty or constant, or does not match its record (the key is named).
    """
    cfg = cfg or PreprocessConfig()
    return run_transforms(deterministic_transforms(cfg, loader), {"series": record})["image"]


def run_transforms(transforms: Compose, data: dict) -> dict:
    """Apply ``transforms``, re-raising a step's ValueError as itself (MONAI wraps it in RuntimeError, whose own
    message is only "applying transform <...>"); any other failure of a step becomes a ValueError that names the
    step and its cause."""
    try:
        return transforms(data)
    except RuntimeError as exc:
        cause = exc.__cause__
        while isinstance(cause, RuntimeError) and cause.__cause__ is not None:
            cause = cause.__cause__
        if isinstance(cause, ValueError):
            raise cause from None
        if cause is None:
            raise
        step = re.search(r"applying transform <(\S+)", str(exc))  # <monai.transforms....Spacingd object at ...>
        why = " ".join(str(cause).split())[:200] or "no message"
        raise ValueError(f"preprocessing failed in {step.group(1).rsplit('.', 1)[-1] if step else 'a transform'}: "
                         f"{type(cause).__name__}: {why}") from None


def default_cache_dir() -> Path:
    """``$MRI_SEARCH_CACHE`` or ``~/.cache/mri-search/preprocess``: the cache pretraining, decoders and benchmarks
    share (entries are keyed by the pipeline's hash, so models with other preprocessing never collide)."""
    return Path(os.environ.get("MRI_SEARCH_CACHE") or Path.home() / ".cache" / "mri-search" / "preprocess")


class PreprocessCache:
    """On-disk cache of deterministic outputs, keyed by the series and ``cfg.hash()``.

    Files are ``ROOT/<cfg hash>/<series fingerprint>.safetensors`` (the tensor and its affine); nothing is written
    outside ``root``. The fingerprint covers the record's key, shape, affine and b-values, so a changed series
    under the same key is not served stale.
    """

    def __init__(self, root: str | os.PathLike, cfg: PreprocessConfig, loader: Loader | None = None) -> None:
        self.root = Path(root).resolve()
        self.cfg = cfg
        self.folder = self.root / cfg.hash()
        self.transforms = deterministic_transforms(cfg, loader)
        self.hits = 0
        self.misses = 0

    def path(self, record: SeriesRecord) -> Path:
        """Where ``record``'s tensor is (or would be) cached."""
        ident = json.dumps([record.key, record.source, list(record.shape), np.asarray(record.affine_lps).tolist(),
                            list(record.b_values)])
        return self.folder / (hashlib.sha256(ident.encode()).hexdigest()[:32] + ".safetensors")

    def __call__(self, record: SeriesRecord) -> torch.Tensor:
        """The preprocessed tensor of ``record``, from the cache or computed and stored."""
        from monai.data import MetaTensor
        from safetensors.torch import load_file, save_file

        path = self.path(record)
        if path.is_file():
            try:
                t = load_file(str(path))
                self.hits += 1
                return MetaTensor(t["image"], affine=t["affine"], meta={"series_key": record.key})
            except Exception as exc:  # a torn or foreign file: recompute and overwrite
                log.warning("cache file %s unreadable (%s); recomputing", path, exc)
        self.misses += 1
        img = run_transforms(self.transforms, {"series": record})["image"]
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:  # concurrent workers never see a half-written file
            save_file({"image": img.as_tensor().contiguous(), "affine": img.affine.to(torch.float64).contiguous()},
                      str(tmp), metadata={"series_key": record.key, "config_hash": self.cfg.hash()})
        return img
