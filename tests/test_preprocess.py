"""Preprocessing: geometry (orientation, anisotropic resampling, obliquity), intensity scaling, config, augmentations,
cache, and (once the readers exist) DICOM vs NIfTI agreement on a generated archive."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from mri_search.ingest.records import FileRef, SeriesRecord
from mri_search.preprocess import (
    AugmentConfig, PreprocessCache, PreprocessConfig, deterministic_transforms, preprocess, train_augmentations,
)

CUBE_LPS = np.array([10.0, -20.0, 15.0])  # centre of the bright cube, LPS mm
CUBE_SIDE = 20.0
HALF_FOV = 47.5  # voxel centres span [-47.5, 47.5] mm on every axis: every acquisition shares the output grid
SMALL = PreprocessConfig(spacing_mm=(2.5, 2.5, 2.5), size=(48, 48, 48))


def make_record(key: str, affine_lps: np.ndarray, shape: tuple[int, int, int], **kw) -> SeriesRecord:
    """A hand-made record: only the fields preprocessing reads carry meaning."""
    base = dict(key=key, source="dicom", layout="single", files=(FileRef("/nowhere", f"{key}.dcm"),),
                study_key="st", series_uid_hash=key, patient_key="p", accession_hash="", modality="MR",
                sequence="T2", sequence_evidence="description", post_contrast=False, fat_suppressed=False,
                plane="axial", shape=tuple(shape), spacing=(1.0, 1.0, 1.0),
                affine_lps=tuple(tuple(float(v) for v in row) for row in affine_lps))
    base.update(kw)
    return SeriesRecord(**base)


def acquisition(row_dir, col_dir, pixel_mm: float, slice_mm: float, rotate_deg: float = 0.0):
    """Affine and shape of a slab covering the test field of view; row/col directions in LPS, normal = row x col.

    ``rotate_deg`` turns the whole acquisition about the LPS z axis (an oblique series).
    """
    rot = np.eye(3)
    if rotate_deg:
        t = np.deg2rad(rotate_deg)
        rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    r, c = rot @ np.asarray(row_dir, float), rot @ np.asarray(col_dir, float)
    n = np.cross(r, c)
    n_pix, n_sl = int(round(2 * HALF_FOV / pixel_mm)) + 1, int(round(2 * HALF_FOV / slice_mm)) + 1
    aff = np.eye(4)
    aff[:3, 0], aff[:3, 1], aff[:3, 2] = r * pixel_mm, c * pixel_mm, n * slice_mm
    aff[:3, 3] = -HALF_FOV * (r + c + n)  # voxel (0, 0, 0) at the corner of the box of centres
    return aff, (n_sl, n_pix, n_pix)


def render_cube(aff: np.ndarray, shape: tuple[int, int, int], sub: int = 5) -> np.ndarray:
    """[S, R, C] volume: background 100, cube 1000, slice-profile partial volume by ``sub`` samples per slice."""
    s, r, c = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    out = np.zeros(shape, np.float64)
    for off in (np.arange(sub) + 0.5) / sub - 0.5:
        ijk = np.stack([c, r, s + off, np.ones_like(s)], -1)  # (column, row, slice, 1)
        lps = ijk @ aff.T
        inside = np.all(np.abs(lps[..., :3] - CUBE_LPS) <= CUBE_SIDE / 2, axis=-1)
        out += inside
    return (100.0 + 900.0 * out / sub).astype(np.float32)


def centre_of_mass(img) -> tuple[np.ndarray, np.ndarray]:
    """(voxel index, RAS mm) of the centre of the bright part (> 0.5) of an output MetaTensor [1, X, Y, Z]."""
    a = np.clip(img[0].numpy().astype(np.float64) - 0.5, 0.0, None)
    grids = np.meshgrid(*[np.arange(n) for n in a.shape], indexing="ij")
    vox = np.array([(g * a).sum() / a.sum() for g in grids])
    ras = (img.affine.numpy() @ np.append(vox, 1.0))[:3]
    return vox, ras


ACQUISITIONS = {
    "axial": ((1, 0, 0), (0, 1, 0)),  # rows run to patient left, columns to posterior; slices to superior
    "sagittal": ((0, 1, 0), (0, 0, -1)),  # slices run to patient right
    "coronal": ((1, 0, 0), (0, 0, -1)),  # slices run to posterior
}


def test_cube_lands_on_the_same_ras_voxel_in_axial_sagittal_and_coronal_thick_slices():
    expected_ras = CUBE_LPS * np.array([-1.0, -1.0, 1.0])
    voxels = {}
    for plane, (row, col) in ACQUISITIONS.items():
        aff, shape = acquisition(row, col, pixel_mm=0.5, slice_mm=5.0)  # 0.5 x 0.5 x 5 mm
        vol = render_cube(aff, shape)
        img = preprocess(make_record(plane, aff, shape, plane=plane), SMALL, loader=lambda r, v=vol: v)
        assert tuple(img.shape) == (1, 48, 48, 48) and img.dtype == torch.float32
        np.testing.assert_allclose(np.linalg.norm(img.affine.numpy()[:3, :3], axis=0), 2.5, atol=1e-6)
        assert np.all(np.diag(img.affine.numpy())[:3] > 0)  # RAS: every axis increases along +R, +A, +S
        vox, ras = centre_of_mass(img)
        np.testing.assert_allclose(ras, expected_ras, atol=0.6, err_msg=plane)
        voxels[plane] = vox
    for plane in ("sagittal", "coronal"):
        np.testing.assert_allclose(voxels[plane], voxels["axial"], atol=0.25, err_msg=plane)
    assert len({tuple(np.round(v).astype(int)) for v in voxels.values()}) == 1


@pytest.mark.parametrize("world_aligned", [False, True])
def test_oblique_acquisition_keeps_the_cube_at_its_world_position(world_aligned):
    aff, shape = acquisition((1, 0, 0), (0, 1, 0), pixel_mm=1.0, slice_mm=5.0, rotate_deg=25.0)
    vol = render_cube(aff, shape)
    cfg = dataclasses.replace(SMALL, world_aligned=world_aligned, size=(64, 64, 64))
    img = preprocess(make_record("obl", aff, shape, plane="oblique"), cfg, loader=lambda r: vol)
    rot = img.affine.numpy()[:3, :3] / 2.5
    off_diagonal = np.abs(rot - np.diag(np.diag(rot))).max()
    # own frame: the 25 degree rotation is kept (sin 25 = 0.42); world-aligned: the grid is parallel to RAS
    assert off_diagonal > 0.4 if not world_aligned else off_diagonal < 1e-6
    _, ras = centre_of_mass(img)
    np.testing.assert_allclose(ras, CUBE_LPS * np.array([-1.0, -1.0, 1.0]), atol=0.8)


def test_rounding_noise_in_an_oblique_affine_does_not_move_the_output_grid():
    # a DICOM affine (6-decimal direction cosines) and its NIfTI twin's float32 one differ by ~1e-6; MONAI's
    # Spacingd used to centre one grid and corner-anchor the other, a sub-voxel to one-voxel shift
    aff, shape = acquisition((1, 0, 0), (0, 1, 0), pixel_mm=2.0, slice_mm=5.0, rotate_deg=25.0)
    vol = render_cube(aff, shape, sub=1)
    noisy = aff.copy()
    noisy[:3, :3] += 1e-6 * np.array([[1.0, -2.0, 0.5], [0.3, 1.0, -1.0], [-0.7, 0.2, 1.0]])
    a = preprocess(make_record("exact", aff, shape), SMALL, loader=lambda r: vol)
    b = preprocess(make_record("noisy", noisy, shape), SMALL, loader=lambda r: vol)
    np.testing.assert_allclose(a.affine.numpy(), b.affine.numpy(), atol=1e-3)  # mm; a shifted grid: > 0.1
    assert float((a - b).abs().max()) < 1e-4


def test_percentile_scaling_maps_the_series_percentiles_to_0_and_1():
    rng = np.random.default_rng(0)
    vol = rng.gamma(2.0, 150.0, size=(48, 48, 48)).astype(np.float32)  # [S, R, C], already at the target grid
    aff = np.diag([2.5, 2.5, 2.5, 1.0])
    img = preprocess(make_record("pct", aff, vol.shape), SMALL, loader=lambda r: vol)[0].numpy()
    assert img.min() == 0.0 and img.max() == 1.0
    assert abs(np.percentile(img, 99.5) - 1.0) < 1e-3 and abs(np.percentile(img, 0.5)) < 1e-3
    assert 0.004 < np.mean(img >= 1.0) < 0.006  # the top 0.5 % clipped to 1
    lo, hi = np.percentile(vol, [0.5, 99.5])
    ref = np.clip((np.transpose(vol, (2, 1, 0)) - lo) / (hi - lo), 0, 1)  # [C, R, S] = LPS axes
    np.testing.assert_allclose(img, ref[::-1, ::-1, :], atol=1e-4)  # LPS -> RAS flips x and y


@pytest.mark.parametrize("kind", ["zero", "nan", "almost_empty"])
def test_volume_without_usable_signal_raises_naming_the_series(kind):
    vol = np.zeros((8, 16, 16), np.float32)
    if kind == "nan":
        vol[:] = 5.0
        vol[3, 4, 5] = np.nan
    if kind == "almost_empty":
        vol[0, 0, 0] = 7.0  # one voxel in 2048: the 0.5th and 99.5th percentiles are both 0
    rec = make_record(f"series-{kind}", np.diag([1.0, 1.0, 3.0, 1.0]), vol.shape)
    with pytest.raises(ValueError, match=f"series-{kind}"):
        preprocess(rec, SMALL, loader=lambda r: vol)


def test_loader_output_must_match_the_record():
    rec = make_record("mismatch", np.eye(4), (8, 16, 16))
    with pytest.raises(ValueError, match="mismatch.*record says"):
        preprocess(rec, SMALL, loader=lambda r: np.ones((8, 16, 17), np.float32))


def test_dwi_feeds_the_highest_b_volume_by_default():
    shape = (4, 8, 8)
    vols = np.stack([np.full(shape, 1.0), np.full(shape, 2.0), np.full(shape, 3.0)]).astype(np.float32)
    vols[:, :, :4, :] = 0.0  # half the volume dark, so the percentiles differ
    vols[1, 0, 0, 0] = 50.0  # marks the b=1000 volume; b-values stored out of order
    seen = {}

    def loader(r):
        return vols

    from mri_search.preprocess_transforms import select_dwi_volume

    rec = make_record("dwi", np.eye(4), shape, sequence="DWI", b_values=(0, 1000, 500))
    seen["highest"] = select_dwi_volume(vols, rec, "highest_b")
    seen["lowest"] = select_dwi_volume(vols, rec, "lowest_b")
    assert seen["highest"][0, 0, 0] == 50.0 and seen["lowest"].max() == 1.0
    assert select_dwi_volume(vols, dataclasses.replace(rec, b_values=()), "highest_b").max() == 3.0  # last one
    out = preprocess(rec, dataclasses.replace(SMALL, upper_percentile=100.0), loader=loader)
    assert float(out.max()) == 1.0 and 0 < float(out[out > 0].min()) < 0.1  # 2 / 50 of the marked volume


def test_config_round_trip_unknown_keys_and_hash():
    cfg = PreprocessConfig(spacing_mm=(1.5, 1.5, 4.0), augment=AugmentConfig(noise_prob=0.5))
    d = cfg.to_dict()
    assert d["spacing_mm"] == [1.5, 1.5, 4.0] and d["augment"]["noise_prob"] == 0.5
    assert PreprocessConfig.from_dict(d) == cfg
    with pytest.raises(ValueError, match="spacing"):
        PreprocessConfig.from_dict({**d, "spacing": [1, 1, 1]})
    with pytest.raises(ValueError, match="blur_prob"):
        PreprocessConfig.from_dict({**d, "augment": {**d["augment"], "blur_prob": 0.1}})
    with pytest.raises(ValueError, match="dwi_volume"):
        PreprocessConfig(dwi_volume="median")
    with pytest.raises(ValueError, match="orientation"):
        PreprocessConfig(orientation="RRS")
    assert PreprocessConfig().hash() == PreprocessConfig.from_dict(PreprocessConfig().to_dict()).hash()
    assert len(PreprocessConfig().hash()) == 16
    assert cfg.hash() != dataclasses.replace(cfg, spacing_mm=(2.0, 2.0, 4.0)).hash()
    assert cfg.hash() != dataclasses.replace(cfg, version=2).hash()
    assert cfg.hash() == dataclasses.replace(cfg, augment=AugmentConfig(gamma_prob=1.0, flip_lr_prob=0.5)).hash()


def _cube_image():
    aff, shape = acquisition((1, 0, 0), (0, 1, 0), pixel_mm=2.5, slice_mm=5.0)
    vol = render_cube(aff, shape, sub=1)
    return make_record("aug", aff, shape), vol


def test_augmentations_are_seeded_and_never_applied_by_preprocess():
    rec, vol = _cube_image()
    plain = preprocess(rec, SMALL, loader=lambda r: vol)
    again = deterministic_transforms(SMALL, loader=lambda r: vol)({"series": rec})["image"]
    assert torch.equal(plain, again)  # preprocess is deterministic and has no random step
    always = dataclasses.replace(SMALL, augment=AugmentConfig(**{f.name: 1.0 for f in dataclasses.fields(
        AugmentConfig) if f.name.endswith("_prob") and f.name != "flip_lr_prob"}))
    for cfg in (SMALL, always):
        a = [train_augmentations(cfg, seed=7)({"image": plain.clone()})["image"] for _ in range(2)]
        assert torch.equal(a[0], a[1])
    a7 = train_augmentations(always, seed=7)({"image": plain.clone()})["image"]
    a8 = train_augmentations(always, seed=8)({"image": plain.clone()})["image"]
    assert tuple(a7.shape) == (1, 48, 48, 48) and a7.dtype == torch.float32
    assert float((a7 - a8).abs().max()) > 0.1 and float((a7 - plain).abs().max()) > 0.1
    assert float(a7.min()) >= 0.0 and float(a7.max()) <= 1.0
    # a seeded Compose is a stream: its second call differs from its first
    aug = train_augmentations(always, seed=7)
    assert not torch.equal(aug({"image": plain.clone()})["image"], aug({"image": plain.clone()})["image"])


def test_cache_serves_identical_tensors_from_its_own_folder(tmp_path):
    rec, vol = _cube_image()
    calls = []

    def loader(r):
        calls.append(r.key)
        return vol

    cache = PreprocessCache(tmp_path / "cache", SMALL, loader=loader)
    first, second = cache(rec), cache(rec)
    assert calls == ["aug"] and (cache.hits, cache.misses) == (1, 1)
    assert torch.equal(first.as_tensor(), second.as_tensor())
    assert torch.allclose(first.affine.double(), second.affine.double())
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [cache.path(rec)] and cache.path(rec).parent.name == SMALL.hash()
    other = PreprocessCache(tmp_path / "cache", dataclasses.replace(SMALL, spacing_mm=(3.0, 3.0, 3.0)), loader)
    other(rec)
    assert len(calls) == 2  # another config: another folder, recomputed


# ---- integration with the readers: a DICOM series and its NIfTI twin agree voxel for voxel -----------------------

HAVE_READERS = all(importlib.util.find_spec(m) is not None for m in (
    "mri_search.ingest.archive", "mri_search.ingest.dicom", "mri_search.ingest.nifti"))


@pytest.fixture(scope="module")
def synth_archive(tmp_path_factory) -> Path:
    from mri_search.synth.archive import run_synth
    from mri_search.synth.config import SynthConfig

    out = tmp_path_factory.mktemp("pre") / "arch"
    run_synth(SynthConfig(out=out, studies=3, seed=3, format="both", matrix_scale=0.15, enhanced_fraction=0.5,
                          regions=("knee", "brain")), progress=lambda *a: None)
    return out


@pytest.mark.skipif(not HAVE_READERS, reason="the DICOM/NIfTI readers are not in this checkout yet")
def test_dicom_and_nifti_twins_agree_voxel_for_voxel_after_preprocessing(synth_archive):
    from mri_search.ingest.archive import scan_archive
    from mri_search.ingest.config import ScanOptions

    result = scan_archive(synth_archive, ScanOptions())
    by_uid: dict[str, dict[str, SeriesRecord]] = {}
    for rec in result.series:
        if rec.series_uid_hash:
            by_uid.setdefault(rec.series_uid_hash, {})[rec.source] = rec
    pairs = [(d["dicom"], d["nifti"]) for d in by_uid.values() if {"dicom", "nifti"} <= set(d)]
    assert len(pairs) >= 10 and any(d.layout == "enhanced" for d, _ in pairs)
    cfg = PreprocessConfig(spacing_mm=(5.0, 5.0, 5.0), size=(48, 48, 48))
    for dcm, nii in pairs:
        a, b = preprocess(dcm, cfg), preprocess(nii, cfg)
        assert float(a.max()) == 1.0, dcm.key
        diff = float((a - b).abs().max())
        assert diff < 1e-4, f"{dcm.sequence} {dcm.plane} {dcm.layout}: max |DICOM - NIfTI| = {diff}"
        np.testing.assert_allclose(a.affine.numpy(), b.affine.numpy(), atol=1e-3)


def test_a_failing_step_is_named_with_its_cause():
    """MONAI says only "applying transform <...>": run_transforms names the step and the real cause."""
    from monai.transforms import Compose, MapTransform

    from mri_search.preprocess import run_transforms

    class Explodes(MapTransform):
        def __call__(self, data):
            raise MemoryError("cannot allocate 4096^3 voxels")

    with pytest.raises(ValueError, match=r"^preprocessing failed in Explodes: MemoryError: cannot allocate"):
        run_transforms(Compose([Explodes(keys=["image"])]), {"image": 1})
