"""Vendor conventions of an MR export: header attributes, sequence naming and pixel storage.

Everything here is a pure function of the study plan, the series plan and the series UID (plus, for the pixel
scale, the volume itself), so that the DICOM and NIfTI writers agree with each other and the same seed gives
byte-identical files. Vendor-specific choices that vary between real scanners (Philips rescale slope, GE signed
pixels, the stored intensity level) are drawn from a hash of the series UID, never from the clock or a global RNG.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pydicom.config
from pydicom.dataset import Dataset
from pydicom.valuerep import format_number_as_ds

from ..physics.sequences import FAMILIES
from ..regions import region_spec
from ..types import SeriesPlan, StudyPlan

LARMOR_MHZ_PER_T = 42.577  # proton gyromagnetic ratio / 2 pi
_FAKE_REFERRERS = ("HOUSE^GREGORY^^DR", "QUINN^MICHAELA^^DR", "WATSON^JOHN^^DR", "GREY^MEREDITH^^DR",
                   "KILDARE^JAMES^^DR", "ROSS^DOUG^^DR", "CARTER^JOHN^^DR", "BAILEY^MIRANDA^^DR")


def vendor_key(manufacturer: str) -> str:
    """"siemens", "ge", "philips" or "other" from a DICOM Manufacturer string."""
    m = manufacturer.upper()
    for key, needle in (("siemens", "SIEMENS"), ("ge", "GE "), ("philips", "PHILIPS")):
        if needle in m or m.startswith(needle.strip()):
            return key
    return "other"


def unit_hash(*parts: object) -> float:
    """A deterministic number in [0, 1) from the given parts (stable across runs and platforms)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def derived_uid(*parts: object) -> str:
    """A deterministic UID under the 2.25 root: the integer of a name-based (v5) UUID of the given parts.

    (``pydicom.uid.generate_uid(prefix=None, entropy_srcs=...)`` ignores its entropy and returns a random UUID.)
    """
    return "2.25." + str(uuid.uuid5(uuid.NAMESPACE_OID, "|".join(str(p) for p in parts)).int)


def fmt_ds(value: float) -> str:
    """A DS string (<= 16 chars) keeping as many significant digits as fit; round-off noise becomes 0."""
    v = float(value)
    if abs(v) < 1e-9:
        v = 0.0
    return format_number_as_ds(v)


def series_datetime(plan: StudyPlan, series: SeriesPlan) -> tuple[str, str]:
    """(YYYYMMDD, HHMMSS) when the series was acquired: a few minutes per series after the study start.

    A derived series (ADC) shares the acquisition time of its source series.
    """
    start = datetime.strptime(plan.study_date + plan.study_time[:6], "%Y%m%d%H%M%S")
    n = series.derived_from if series.derived_from is not None else series.series_number
    t = start + timedelta(seconds=150 * (n % 80))
    return t.strftime("%Y%m%d"), t.strftime("%H%M%S")


# ---------------------------------------------------------------------------------------------- sequence naming
@dataclass(frozen=True)
class AcquisitionCodes:
    """The classic-header description of a pulse sequence, in one vendor's dialect."""

    scanning_sequence: list[str]  # (0018,0020) SE, IR, GR, EP
    sequence_variant: list[str]  # (0018,0021) SK, SP, MP, SS, OSP
    scan_options: list[str]  # (0018,0022); empty list = empty (type 2) attribute
    sequence_name: str  # (0018,0024) vendor's internal name, e.g. Siemens "*tse2d1_15"
    acquisition_type: str  # (0018,0023) "2D" or "3D"
    echo_kind: str  # "SE", "GR" or "EP": the echo formation
    inversion: bool


def _kind(series: SeriesPlan) -> str:
    """Signal model of the family ("se", "ir", "gre", ...) with a name-based guess for unknown families."""
    if series.sequence in ("DWI", "ADC"):
        return "dwi"
    fam = FAMILIES.get(series.family)
    if fam is not None:
        return fam.kind
    name = series.family.upper()
    if "EPI" in name or "DWI" in name:
        return "dwi"
    if "SSFP" in name:
        return "ssfp"
    if any(k in name for k in ("GRE", "TOF", "SWI", "FLASH", "VIBE", "MPRAGE", "FFE", "TFE")):
        return "mprage" if series.ti_ms else "gre"
    return "ir" if series.ti_ms else "se"


def acquisition_codes(plan: StudyPlan, series: SeriesPlan, b_value: int | None = None) -> AcquisitionCodes:
    """ScanningSequence / SequenceVariant / ScanOptions / SequenceName consistent with the sequence and vendor.

    Args:
        plan: the study (for the vendor).
        series: the series (family, timing, fat suppression).
        b_value: for DWI images, the b-value of the image (Siemens names each b-value's images differently).
    """
    vendor = vendor_key(plan.manufacturer)
    kind = _kind(series)
    inversion = bool(series.ti_ms) and series.ti_ms > 0
    fam = FAMILIES.get(series.family)
    three_d = "3D" in series.family.upper() or (fam is not None and fam.three_d)
    etl = int(series.echo_train_length)
    echo = {"dwi": "EP", "gre": "GR", "mprage": "GR", "ir_gre": "GR", "ssfp": "GR"}.get(kind, "SE")
    scanning = [echo] + (["IR"] if inversion else [])
    if echo == "EP":
        variant = ["SK", "SP"]
    elif kind == "ssfp":
        variant = ["SK", "SS"]
    else:
        variant = (["SK"] if etl > 1 or inversion else []) + ["SP"] + (["MP"] if inversion else []) + ["OSP"]
    options = ["PFP"] if echo == "EP" else []
    if series.fat_suppression == "spectral":
        options.append("FS")
    if vendor == "ge":
        options += ["EPI_GEMS"] if echo == "EP" else (["FAST_GEMS"] if etl > 1 else []) + ["FILTERED_GEMS"]
    dim = "3D" if three_d else "2D"
    name = _sequence_name(vendor, kind, echo, inversion, dim, etl, series, b_value)
    return AcquisitionCodes(scanning, variant, options, name, dim, echo, inversion)


def _sequence_name(vendor: str, kind: str, echo: str, inversion: bool, dim: str, etl: int, series: SeriesPlan,
                   b_value: int | None) -> str:
    """SequenceName (0018,0024) in the vendor's style."""
    d = dim.lower()
    if vendor == "siemens":
        if echo == "EP":
            if series.sequence == "ADC":
                bs = series.b_values or (0, 1000)
                return f"ep_b{min(bs)}_{max(bs)}"
            return "*ep_b0" if not b_value else f"*ep_b{b_value}t"
        if kind == "haste":
            return f"*h2d1_{etl}"
        if kind == "ssfp":
            return f"*tfi{d}1"
        if echo == "GR":
            return f"*tfl{d}1_{max(etl, 1)}ns" if inversion else f"*fl{d}1"
        if dim == "3D":
            return f"*spcir{d}1_{etl}" if inversion else f"*spc{d}1_{etl}"
        if etl > 1:
            return f"*tir{d}1_{etl}" if inversion else f"*tse{d}1_{etl}"
        return f"*se{d}1"
    if vendor == "ge":
        if echo == "EP":
            return "epi2"
        if kind == "haste":
            return "ssfse"
        if kind == "ssfp":
            return "fiesta"
        if echo == "GR":
            return "efgre3d" if dim == "3D" else "fgre"
        return ("fse-ir" if inversion else "fse-xl") if etl > 1 else "se"
    if vendor == "philips":
        if echo == "EP":
            return "DwiSE"
        if kind == "ssfp":
            return "BTFE"
        if echo == "GR":
            return "T1TFE" if inversion else "T1FFE"
        return ("IR_TSE" if inversion else "TSE") if etl > 1 else "SE"
    return ""


def image_type(plan: StudyPlan, series: SeriesPlan, b_value: int | None = None) -> list[str]:
    """ImageType (0008,0008) of a classic (single-frame) image in the vendor's style."""
    if series.sequence == "ADC":
        return ["DERIVED", "PRIMARY", "DIFFUSION", "ADC"]
    vendor = vendor_key(plan.manufacturer)
    codes = acquisition_codes(plan, series, b_value)
    if vendor == "siemens":
        if series.sequence == "DWI":
            if b_value:
                return ["DERIVED", "PRIMARY", "DIFFUSION", "TRACEW", "ND", "NORM"]
            return ["ORIGINAL", "PRIMARY", "DIFFUSION", "NONE", "ND", "NORM"]
        return ["ORIGINAL", "PRIMARY", "M", "ND", "NORM"]
    if vendor == "ge":
        return ["ORIGINAL", "PRIMARY", "OTHER"]
    if vendor == "philips":
        flavour = "IR" if codes.inversion else ("FFE" if codes.echo_kind == "GR" else "SE")
        return ["ORIGINAL", "PRIMARY", f"M_{flavour}", "M", flavour]
    return ["ORIGINAL", "PRIMARY"]


def acquisition_contrast(series: SeriesPlan) -> str:
    """Enhanced MR AcquisitionContrast (0008,9209) defined term for the series."""
    table = {"T1": "T1", "T1C": "T1", "T2": "T2", "T2FS": "T2", "PD": "PROTON_DENSITY", "PDFS": "PROTON_DENSITY",
             "FLAIR": "FLUID_ATTENUATED", "STIR": "STIR", "DWI": "DIFFUSION", "ADC": "DIFFUSION"}
    return table.get(series.sequence, "UNKNOWN")


# ---------------------------------------------------------------------------------------------- equipment
def station_name(plan: StudyPlan) -> str:
    """A scanner's StationName: the same for every study of one (institution, model)."""
    h = unit_hash(plan.institution, plan.model_name, "station")
    vendor = vendor_key(plan.manufacturer)
    if vendor == "siemens":
        return f"AWP{int(h * 1e5):05d}"
    if vendor == "ge":
        return f"GEMR{int(h * 1e4):04d}"
    if vendor == "philips":
        digits = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        n = int(h * 2**40)
        return "PHILIPS-" + "".join(digits[(n >> (5 * i)) % len(digits)] for i in range(7))
    return f"MR{int(h * 1e3):03d}"


def software_versions(plan: StudyPlan) -> list[str]:
    """SoftwareVersions (0018,1020) as the vendor writes it (multi-valued for GE and Philips)."""
    choices = {"siemens": (["syngo MR E11"], ["syngo MR XA20"], ["syngo MR XA30"]),
               "ge": (["27", "LX", "MR Software release:DV26.0_R03_1831.b"], ["29", "LX", "MR29.1_EA_2150.a"]),
               "philips": (["5.6.1", "5.6.1.0"], ["5.7.1", "5.7.1.2"], ["11.1", "11.1.4"])}
    options = choices.get(vendor_key(plan.manufacturer), (["1.0"],))
    return options[int(unit_hash(plan.institution, plan.model_name, "sw") * len(options))]


def patient_position(plan: StudyPlan) -> str:
    """PatientPosition: feet first where the region says so (knee), head first otherwise."""
    return "FFS" if region_spec(plan.region).feet_first else "HFS"


# ---------------------------------------------------------------------------------------------- common header
def base_dataset(plan: StudyPlan, series: SeriesPlan, series_uid: str) -> Dataset:
    """Patient, study, series, equipment and frame-of-reference attributes shared by every image of a series."""
    p = plan.patient
    date, time = series_datetime(plan, series)
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.InstanceCreationDate = date
    ds.InstanceCreationTime = time
    ds.StudyDate, ds.StudyTime = plan.study_date, plan.study_time
    ds.SeriesDate, ds.SeriesTime = date, time
    ds.AcquisitionDate, ds.AcquisitionTime = date, time
    ds.ContentDate, ds.ContentTime = date, time
    ds.AccessionNumber = plan.accession
    ds.Modality = "MR"
    ds.Manufacturer = plan.manufacturer
    ds.InstitutionName = plan.institution
    ds.ReferringPhysicianName = _FAKE_REFERRERS[int(unit_hash(plan.study_uid, "ref") * len(_FAKE_REFERRERS))]
    ds.StationName = station_name(plan)
    ds.StudyDescription = plan.study_description
    ds.SeriesDescription = series.description
    ds.ManufacturerModelName = plan.model_name
    ds.PatientName = p.name
    ds.PatientID = p.patient_id
    ds.PatientBirthDate = p.birth_date
    ds.PatientSex = p.sex
    ds.PatientAge = f"{int(p.age):03d}Y"
    ds.PatientSize = fmt_ds(round(p.height_m, 2))
    ds.PatientWeight = fmt_ds(round(p.weight_kg, 1))
    if plan.body_part_examined is not None:
        # real archives hold non-standard values ("HEAD-AND-NECK", "Head"): written on purpose, so no CS warning
        with pydicom.config.disable_value_validation():
            ds.BodyPartExamined = plan.body_part_examined
    if series.post_contrast and plan.contrast_agent:
        ds.ContrastBolusAgent = plan.contrast_agent
    ds.DeviceSerialNumber = str(int(unit_hash(plan.institution, plan.model_name, "sn") * 1e5) + 10000)
    ds.SoftwareVersions = software_versions(plan)
    ds.ProtocolName = series.protocol_name or series.description
    ds.PatientPosition = patient_position(plan)
    ds.StudyInstanceUID = plan.study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = str(int(unit_hash(plan.study_uid, "id") * 9000) + 1000)
    ds.SeriesNumber = series.series_number
    ds.AcquisitionNumber = 1
    ds.FrameOfReferenceUID = derived_uid(plan.study_uid, "frame-of-reference")
    ds.PositionReferenceIndicator = ""
    if plan.laterality in ("left", "right"):
        ds.Laterality = plan.laterality[0].upper()
    ds.MagneticFieldStrength = fmt_ds(plan.field_strength)
    ds.ImagingFrequency = fmt_ds(round(LARMOR_MHZ_PER_T * plan.field_strength, 6))
    ds.ImagedNucleus = "1H"
    return ds


def classic_mr_attributes(ds: Dataset, plan: StudyPlan, series: SeriesPlan) -> None:
    """Add the classic MR Image module's acquisition attributes (timing, sequence codes) to ``ds``."""
    codes = acquisition_codes(plan, series)
    ds.ScanningSequence = codes.scanning_sequence
    ds.SequenceVariant = codes.sequence_variant
    ds.ScanOptions = codes.scan_options
    ds.MRAcquisitionType = codes.acquisition_type
    ds.SequenceName = codes.sequence_name
    ds.RepetitionTime = fmt_ds(series.tr_ms)
    ds.EchoTime = fmt_ds(series.te_ms)
    if codes.inversion:
        ds.InversionTime = fmt_ds(series.ti_ms)
    ds.NumberOfAverages = "1"
    ds.EchoNumbers = "1"
    ds.EchoTrainLength = str(int(series.echo_train_length))
    ds.FlipAngle = fmt_ds(series.flip_deg)
    ds.InPlanePhaseEncodingDirection = phase_encoding_direction(plan, series)


def phase_encoding_direction(plan: StudyPlan, series: SeriesPlan) -> str:
    """InPlanePhaseEncodingDirection: "COL" (AP in axial, the usual choice) except sagittal spine ("ROW", AP)."""
    return "ROW" if series.plane == "sagittal" and plan.region == "spine" else "COL"


# ---------------------------------------------------------------------------------------------- pixel storage
@dataclass(frozen=True)
class PixelStorage:
    """How a series' float volume became stored integers: display value = stored * slope + intercept."""

    bits_stored: int  # 12 or 16 (BitsAllocated is always 16)
    signed: bool  # PixelRepresentation 1 (GE sometimes) or 0
    slope: float  # RescaleSlope, exactly the value its DS string parses to
    intercept: float  # RescaleIntercept
    rescale_tags: bool  # False: no Rescale* attributes at all (Siemens classic images)
    rescale_type: str | None  # RescaleType, "US" for Philips; None = not written
    gain: float  # display value per input unit: stored * slope + intercept ~= gain * volume
    window_center: float
    window_width: float

    @property
    def max_stored(self) -> int:
        """Largest stored integer the representation allows."""
        return (1 << (self.bits_stored - (1 if self.signed else 0))) - 1

    @property
    def dtype(self) -> np.dtype:
        """Little-endian 16-bit integer type of the PixelData."""
        return np.dtype("<i2" if self.signed else "<u2")


# stored value of the 99.9th percentile, drawn per series in [lo, hi]
_LEVELS = {"siemens": (1000.0, 2400.0), "ge": (1500.0, 6000.0), "philips": (1200.0, 2400.0),
           "other": (2000.0, 2000.0)}


def quantise(volume: np.ndarray, plan: StudyPlan, series: SeriesPlan,
             series_uid: str, window: bool = True) -> tuple[np.ndarray, PixelStorage]:
    """Scale a float volume to vendor-typical stored integers.

    The 99.9th percentile of the volume maps to a vendor-typical stored level (drawn per series from a hash of the
    series UID); Philips adds a non-trivial RescaleSlope (1.3-3.9, RescaleType "US"), GE stores signed 16-bit
    pixels for about half its series, Siemens writes 12-bit pixels without any Rescale attributes. ADC maps
    (input in 1e-3 mm^2/s) are stored exactly as integers in 1e-6 mm^2/s with slope 1.

    Args:
        volume: float array, any shape, values >= 0.
        plan: the study (for the vendor).
        series: the series (ADC maps are stored differently).
        series_uid: SeriesInstanceUID; seeds the per-series vendor choices.
        window: also compute the display window (two percentiles of the whole volume); the tensor path, which
            writes no header, skips it.

    Returns:
        (stored integers in ``storage.dtype``, the storage description).
    """
    vendor = vendor_key(plan.manufacturer)
    signed = vendor == "ge" and unit_hash(series_uid, "signed") < 0.5
    bits = 12 if vendor in ("siemens", "philips") else 16
    slope, rescale_type = 1.0, None
    if vendor == "philips":
        rescale_type = "US"
        if series.sequence != "ADC":
            slope = float(fmt_ds(1.3 + 2.6 * unit_hash(series_uid, "slope")))
    if series.sequence == "ADC":
        gain = 1000.0  # 1e-3 mm^2/s -> 1e-6 mm^2/s
    else:
        lo, hi = _LEVELS[vendor]
        level = lo + (hi - lo) * unit_hash(series_uid, "level")
        p999 = float(np.percentile(volume, 99.9)) if volume.size else 0.0
        gain = level * slope / p999 if p999 > 0 else 1.0
    storage = PixelStorage(bits, signed, slope, 0.0, vendor != "siemens", rescale_type, gain, 0.0, 0.0)
    stored = np.clip(np.rint(volume.astype(np.float64) * (gain / slope)), 0, storage.max_stored)
    if not window:
        return stored.astype(storage.dtype), storage
    display = stored * slope
    lo_w, hi_w = np.percentile(display, [0.5, 99.5]) if display.size else (0.0, 1.0)
    storage = PixelStorage(bits, signed, slope, 0.0, storage.rescale_tags, rescale_type, gain,
                           window_center=float(round((hi_w + lo_w) / 2.0)),
                           window_width=float(max(round(hi_w - lo_w), 1)))
    return stored.astype(storage.dtype), storage
