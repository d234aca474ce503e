"""Write one acquired series as DICOM: classic single-frame MR or Enhanced MR, under four export layouts.

Classic MR Image Storage writes one file per slice (per slice and b-value for DWI); Enhanced MR Image Storage
writes one multi-frame file whose geometry lives in functional groups. The export style decides where the files
go, as a hospital's export tool would (see ``series_paths``). Everything is deterministic: UIDs derive from the
series UID, times from the study date, vendor choices from hashes, and random file names from the caller's rng.
"""

from __future__ import annotations

import copy
import logging
import re
from pathlib import Path

import numpy as np
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from ..regions import region_spec
from ..types import SeriesPlan, StudyPlan
from .dicom_headers import (
    PixelStorage, acquisition_codes, acquisition_contrast, base_dataset, classic_mr_attributes, derived_uid, fmt_ds,
    image_type, phase_encoding_direction, quantise, series_datetime, unit_hash,
)

log = logging.getLogger(__name__)

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"
LAYOUTS = ("single", "enhanced")
EXPORT_STYLES = ("dicomdir", "uid", "descriptive", "flat")
IMPLEMENTATION_UID = derived_uid("mri-search", "synth", "dicom writer")


def as_stack(volume: np.ndarray, series: SeriesPlan) -> np.ndarray:
    """Check a series volume against its plan and return it as ``[B, S, R, C]`` (B = 1 unless DWI).

    Raises:
        ValueError: the shape disagrees with the geometry (or the b-values), or values are negative / not finite.
    """
    shape = tuple(series.geometry.shape)
    vol = np.asarray(volume)
    if series.sequence == "DWI":
        if not series.b_values:
            raise ValueError(f"series {series.series_number}: a DWI series needs SeriesPlan.b_values")
        want = (len(series.b_values),) + shape
    else:
        want = shape
    if vol.shape != want:
        raise ValueError(f"series {series.series_number} ({series.sequence}): volume has shape {vol.shape} but the "
                         f"plan expects {want} ([B, S, R, C] for DWI, [S, R, C] otherwise; geometry.shape = {shape})")
    if not np.all(np.isfinite(vol)) or (vol.size and float(vol.min()) < 0):
        raise ValueError(f"series {series.series_number}: volume must be finite and >= 0 (magnitude images); "
                         f"clip negative values before writing")
    return vol.reshape((-1,) + shape)


def write_dicom_series(volume: np.ndarray, plan: StudyPlan, series: SeriesPlan, series_uid: str, study_dir: Path,
                       layout: str, export_style: str, rng: np.random.Generator) -> list[Path]:
    """Write one series as DICOM files and return their paths (b-value major, then slice order).

    Args:
        volume: float32 >= 0, ``[S, R, C]`` matching ``series.geometry.shape``; DWI ``[B, S, R, C]`` with
            ``B == len(series.b_values)``; ADC maps in 1e-3 mm^2/s.
        plan: the study the series belongs to.
        series: the series plan (timing, geometry, description).
        series_uid: SeriesInstanceUID; every SOPInstanceUID derives from it.
        study_dir: folder of this study's export.
        layout: "single" (MR Image Storage, one file per image) or "enhanced" (one multi-frame file).
        export_style: "dicomdir", "uid", "descriptive" or "flat" (see ``series_paths``).
        rng: draws the random file names of the "flat" style.

    Returns:
        The files written.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown DICOM layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    if export_style not in EXPORT_STYLES:
        raise ValueError(f"unknown export style {export_style!r}; choose from {', '.join(EXPORT_STYLES)}")
    stack = as_stack(volume, series)  # [B, S, R, C]
    stored, storage = quantise(stack, plan, series, series_uid)
    b_values = list(series.b_values) if series.sequence == "DWI" else [None]
    base = base_dataset(plan, series, series_uid)
    if layout == "single":
        datasets = _single_frame(base, stored, b_values, plan, series, series_uid, storage)
    else:
        datasets = [_enhanced(base, stored, b_values, plan, series, series_uid, storage)]
    sop_uids = [d.SOPInstanceUID for d in datasets]
    paths = series_paths(export_style, Path(study_dir), series, series_uid, sop_uids, plan, rng)
    for ds, path in zip(datasets, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        dcmwrite(path, ds, enforce_file_format=True)
    log.debug("series %d (%s): %d DICOM files, layout %s, style %s", series.series_number, series.description,
              len(paths), layout, export_style)
    return paths


def series_paths(export_style: str, study_dir: Path, series: SeriesPlan, series_uid: str, sop_uids: list[str],
                 plan: StudyPlan, rng: np.random.Generator) -> list[Path]:
    """Where each file of a series goes; image numbers ``k`` count from 1 in file order.

    - "dicomdir": ``DICOM/PA000001/ST000001/SE<series number:06d>/IM<k:06d>`` (CD export, no extension)
    - "uid": ``<SeriesInstanceUID>/<SOPInstanceUID>.dcm``
    - "descriptive": ``<series number:03d>_<sanitised SeriesDescription>/IMG<k:04d>.dcm``
    - "flat": every file in ``study_dir``, as ``MR.<SOPInstanceUID>`` or ``<8 random hex>.dcm`` (one naming per
      study, chosen from a hash of the study UID; hex names drawn from ``rng``, redrawn if already taken).
    """
    n = len(sop_uids)
    if export_style == "dicomdir":
        folder = study_dir / "DICOM" / "PA000001" / "ST000001" / f"SE{series.series_number:06d}"
        return [folder / f"IM{k:06d}" for k in range(1, n + 1)]
    if export_style == "uid":
        return [study_dir / series_uid / f"{uid}.dcm" for uid in sop_uids]
    if export_style == "descriptive":
        folder = study_dir / f"{series.series_number:03d}_{sanitise(series.description)}"
        return [folder / f"IMG{k:04d}.dcm" for k in range(1, n + 1)]
    if export_style == "flat":
        if unit_hash(plan.study_uid, "flat-naming") < 0.5:
            return [study_dir / f"MR.{uid}" for uid in sop_uids]
        names: list[str] = []
        while len(names) < n:
            name = f"{int(rng.integers(0, 2**32)):08x}.dcm"
            if name not in names and not (study_dir / name).exists():
                names.append(name)
        return [study_dir / name for name in names]
    raise ValueError(f"unknown export style {export_style!r}; choose from {', '.join(EXPORT_STYLES)}")


def sanitise(text: str) -> str:
    """A folder-name-safe version of a SeriesDescription ("Ax T1 FS +C" -> "Ax_T1_FS_+C")."""
    clean = re.sub(r"[^A-Za-z0-9+.-]+", "_", text).strip("._")
    return clean[:64] or "series"


# ---------------------------------------------------------------------------------------------- shared pieces
def _file_meta(ds: Dataset) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = "MRISEARCH_SYN1"
    return meta


def _pixel_module(ds: Dataset, frames: np.ndarray, storage: PixelStorage) -> None:
    """Image Pixel module for ``frames`` ([R, C] or [F, R, C] stored integers)."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = int(frames.shape[-2]), int(frames.shape[-1])
    ds.BitsAllocated = 16
    ds.BitsStored = storage.bits_stored
    ds.HighBit = storage.bits_stored - 1
    ds.PixelRepresentation = 1 if storage.signed else 0
    ds.PixelData = np.ascontiguousarray(frames, dtype=storage.dtype).tobytes()


def _iop(series: SeriesPlan) -> list[str]:
    g = series.geometry
    return [fmt_ds(v) for v in (*g.row_dir, *g.col_dir)]


# ---------------------------------------------------------------------------------------------- classic MR
def _single_frame(base: Dataset, stored: np.ndarray, b_values: list, plan: StudyPlan, series: SeriesPlan,
                  series_uid: str, storage: PixelStorage) -> list[Dataset]:
    """One classic MR dataset per (b-value, slice) of ``stored`` ([B, S, R, C])."""
    g = series.geometry
    classic_mr_attributes(base, plan, series)
    base.SOPClassUID = MR_IMAGE_STORAGE
    base.ImageOrientationPatient = _iop(series)
    base.PixelSpacing = [fmt_ds(v) for v in g.pixel_spacing]
    base.SliceThickness = fmt_ds(g.slice_thickness)
    base.SpacingBetweenSlices = fmt_ds(g.slice_step)
    base.WindowCenter = fmt_ds(storage.window_center)
    base.WindowWidth = fmt_ds(storage.window_width)
    if storage.rescale_tags:
        base.RescaleIntercept = fmt_ds(storage.intercept)
        base.RescaleSlope = fmt_ds(storage.slope)
        if storage.rescale_type:
            base.RescaleType = storage.rescale_type
    positions, normal = g.slice_positions(), g.normal
    out = []
    for bi, b in enumerate(b_values):
        for k in range(g.shape[0]):
            n = bi * g.shape[0] + k
            ds = copy.deepcopy(base)
            ds.SOPInstanceUID = derived_uid(series_uid, "image", n)
            ds.ImageType = image_type(plan, series, b)
            if b is not None:
                ds.SequenceName = acquisition_codes(plan, series, b).sequence_name
                ds.DiffusionBValue = float(b)
                ds.DiffusionDirectionality = "ISOTROPIC" if b else "NONE"
            ds.InstanceNumber = n + 1
            ds.ImagePositionPatient = [fmt_ds(v) for v in positions[k]]
            ds.SliceLocation = fmt_ds(float(np.dot(positions[k], normal)))
            _pixel_module(ds, stored[bi, k], storage)
            ds.file_meta = _file_meta(ds)
            out.append(ds)
    return out


# ---------------------------------------------------------------------------------------------- enhanced MR
def _item(**attrs) -> Dataset:
    ds = Dataset()
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def _seq(**attrs) -> Sequence:
    return Sequence([_item(**attrs)])


def _enhanced(base: Dataset, stored: np.ndarray, b_values: list, plan: StudyPlan, series: SeriesPlan,
              series_uid: str, storage: PixelStorage) -> Dataset:
    """One Enhanced MR multi-frame dataset; frames ordered b-value major, then slice."""
    g = series.geometry
    codes = acquisition_codes(plan, series)
    date, time = series_datetime(plan, series)
    dwi = series.sequence == "DWI"
    ds = base
    ds.SOPClassUID = ENHANCED_MR_IMAGE_STORAGE
    ds.SOPInstanceUID = derived_uid(series_uid, "enhanced")
    ds.InstanceNumber = 1
    frame_type = (["DERIVED", "PRIMARY", "DIFFUSION", "ADC"] if series.sequence == "ADC"
                  else ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"])
    ds.ImageType = frame_type
    ds.AcquisitionDateTime = date + time
    ds.AcquisitionDuration = round(series.tr_ms * g.shape[1] / max(series.echo_train_length, 1) / 1000.0, 1)  # s
    ds.ContentQualification = "PRODUCT"
    ds.BurnedInAnnotation = "NO"
    ds.ResonantNucleus = "1H"
    ds.KSpaceFiltering = "NONE"
    ds.ApplicableSafetyStandardAgency = "IEC"
    ds.PresentationLUTShape = "IDENTITY"
    frame_type_attrs = dict(FrameType=frame_type, PixelPresentation="MONOCHROME", VolumetricProperties="VOLUME",
                            VolumeBasedCalculationTechnique="NONE", ComplexImageComponent="MAGNITUDE",
                            AcquisitionContrast=acquisition_contrast(series))
    for key in ("PixelPresentation", "VolumetricProperties", "VolumeBasedCalculationTechnique",
                "ComplexImageComponent", "AcquisitionContrast"):
        setattr(ds, key, frame_type_attrs[key])
    # MR Pulse Sequence module (replaces the classic ScanningSequence / SequenceVariant / SequenceName)
    ds.PulseSequenceName = codes.sequence_name.lstrip("*") or series.family
    ds.MRAcquisitionType = codes.acquisition_type
    ds.EchoPulseSequence = {"GR": "GRADIENT"}.get(codes.echo_kind, "SPIN")
    ds.MultipleSpinEcho = "NO"
    ds.MultiPlanarExcitation = "NO"
    ds.PhaseContrast = "NO"
    ds.TimeOfFlightContrast = "NO"
    ds.SteadyStatePulseSequence = "FREE_PRECESSION" if "SS" in codes.sequence_variant else "NONE"
    ds.EchoPlanarPulseSequence = "YES" if codes.echo_kind == "EP" else "NO"
    ds.SaturationRecovery = "NO"
    ds.SpectrallySelectedSuppression = "FAT" if series.fat_suppression == "spectral" else "NONE"
    ds.OversamplingPhase = "NONE"
    ds.GeometryOfKSpaceTraversal = "RECTILINEAR"
    ds.RectilinearPhaseEncodeReordering = "LINEAR"
    ds.SegmentedKSpaceTraversal = "SINGLE" if codes.echo_kind == "EP" else "PARTIAL"
    ds.CoverageOfKSpace = "FULL"
    ds.NumberOfKSpaceTrajectories = 1
    # Multi-frame dimensions: stack, position in stack (and b-value for DWI)
    org_uid = derived_uid(series_uid, "dimension-organization")
    ds.DimensionOrganizationSequence = _seq(DimensionOrganizationUID=org_uid)
    pointers = [(0x00209056, 0x00209111, "Stack ID"), (0x00209057, 0x00209111, "In-Stack Position Number")]
    if dwi:
        pointers.append((0x00189087, 0x00189117, "Diffusion b-value"))
    ds.DimensionIndexSequence = Sequence([
        _item(DimensionOrganizationUID=org_uid, DimensionIndexPointer=p, FunctionalGroupPointer=fg,
              DimensionDescriptionLabel=label) for p, fg, label in pointers])
    if not dwi:
        ds.DimensionOrganizationType = "3D"
    ds.SharedFunctionalGroupsSequence = Sequence([_shared_groups(plan, series, storage, frame_type_attrs, codes)])
    positions = g.slice_positions()
    frames = []
    for bi, b in enumerate(b_values):
        for k in range(g.shape[0]):
            index = [1, k + 1] + ([bi + 1] if dwi else [])
            fg = _item(
                FrameContentSequence=_seq(StackID="1", InStackPositionNumber=k + 1, DimensionIndexValues=index,
                                          FrameAcquisitionDateTime=date + time, FrameReferenceDateTime=date + time,
                                          FrameAcquisitionDuration=0.0),
                PlanePositionSequence=_seq(ImagePositionPatient=[fmt_ds(v) for v in positions[k]]),
                PixelValueTransformationSequence=_seq(RescaleIntercept=fmt_ds(storage.intercept),
                                                      RescaleSlope=fmt_ds(storage.slope),
                                                      RescaleType=storage.rescale_type or "US"))
            if dwi:
                fg.MRDiffusionSequence = _seq(DiffusionBValue=float(b),
                                              DiffusionDirectionality="ISOTROPIC" if b else "NONE")
            frames.append(fg)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.NumberOfFrames = len(frames)
    _pixel_module(ds, stored.reshape((-1,) + stored.shape[-2:]), storage)
    ds.file_meta = _file_meta(ds)
    return ds


def _shared_groups(plan: StudyPlan, series: SeriesPlan, storage: PixelStorage, frame_type_attrs: dict,
                   codes) -> Dataset:
    """The functional groups every frame shares: measures, orientation, frame type, timing, coils, window."""
    g = series.geometry
    shared = _item(
        PixelMeasuresSequence=_seq(PixelSpacing=[fmt_ds(v) for v in g.pixel_spacing],
                                   SliceThickness=fmt_ds(g.slice_thickness),
                                   SpacingBetweenSlices=fmt_ds(g.slice_step)),
        PlaneOrientationSequence=_seq(ImageOrientationPatient=_iop(series)),
        MRImageFrameTypeSequence=_seq(**frame_type_attrs),
        MRTimingAndRelatedParametersSequence=_seq(RepetitionTime=float(series.tr_ms), FlipAngle=float(series.flip_deg),
                                                  EchoTrainLength=int(series.echo_train_length),
                                                  RFEchoTrainLength=int(series.echo_train_length),
                                                  GradientEchoTrainLength=1 if codes.echo_kind != "EP" else 0),
        MREchoSequence=_seq(EffectiveEchoTime=float(series.te_ms)),
        MRModifierSequence=_seq(InversionRecovery="YES" if codes.inversion else "NO", FlowCompensation="NONE",
                                T2Preparation="NO", SpatialPresaturation="NONE",
                                PartialFourier="YES" if codes.echo_kind == "EP" else "NO"),
        MRAveragesSequence=_seq(NumberOfAverages=1.0),
        MRFOVGeometrySequence=_seq(InPlanePhaseEncodingDirection=phase_encoding_direction(plan, series),
                                   MRAcquisitionFrequencyEncodingSteps=int(g.shape[2]),
                                   MRAcquisitionPhaseEncodingStepsInPlane=int(g.shape[1]),
                                   PercentSampling=100.0, PercentPhaseFieldOfView=100.0),
        MRReceiveCoilSequence=_seq(ReceiveCoilName=_coil_name(plan), ReceiveCoilType="MULTICOIL",
                                   QuadratureReceiveCoil="NO"),
        MRTransmitCoilSequence=_seq(TransmitCoilName="Body", TransmitCoilType="BODY"),
        FrameVOILUTSequence=_seq(WindowCenter=fmt_ds(storage.window_center), WindowWidth=fmt_ds(storage.window_width)),
    )
    if codes.inversion:
        shared.MRModifierSequence[0].InversionTimes = [float(series.ti_ms)]
    return shared


def _coil_name(plan: StudyPlan) -> str:
    return region_spec(plan.region).coil
