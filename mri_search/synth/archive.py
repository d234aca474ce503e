"""Generate a whole archive: studies in parallel, files on disk, ground-truth manifest and reports.

Layout written under ``OUT``::

    dicom/<PatientID>/<StudyDate>_<Accession>/...        one study, named by one of four export styles
    dicom/<PatientID>/<StudyDate>_<Accession>/report.txt the report beside its study
    nifti/sub-<PatientID>/ses-<StudyDate>/{anat,dwi}/... BIDS-style .nii.gz + .json sidecars (+ report.txt)
    reports.csv                                          optional: reports keyed by accession and StudyInstanceUID
    manifest.parquet                                     ground truth, one row per series: NOT for the indexer
    label_table.csv                                      tissue labels of label maps (with --label-maps)
    derivatives/labels/sub-<PatientID>/ses-<StudyDate>/{anat,dwi}/<series stem>_dseg.nii.gz  (with --label-maps)
        tissue label map in the series' own geometry, ``_desc-lesion_mask.nii.gz`` its lesion mask and, for DICOM
        series, ``_dseg.dcm`` a DICOM SEG (see writers/labels.py)
"""

from __future__ import annotations

import csv
import hashlib
import logging
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..tensor_archive import MARKER, encode, study_path, write_study
from . import mix, planner, tensor_output
from .catalog import KINDS
from .config import SynthConfig
from .manifest import write_manifest
from .physics.acquisition import acquire, adc_map, tissue_maps
from .physics.tissues import label_table
from .regions import region_module, region_spec
from .reports import indication, write_report
from .types import StudyPlan
from .writers import write_dicom_series, write_nifti_series
from .writers.labels import write_label_files

log = logging.getLogger(__name__)
EXPORT_STYLES = (("dicomdir", 0.3), ("uid", 0.25), ("descriptive", 0.3), ("flat", 0.15))
FOLLOW_UP_RATE = 0.1  # share of studies that are a follow-up of the previous study's patient [E]
BASE_DATE = date(2019, 1, 7)
TENSOR_MANIFEST_EVERY = 50  # a tensor archive's manifest is rewritten every this many studies (an interrupted run)


@dataclass
class StudyResult:
    """What one generated study contributes to the archive-level outputs."""

    rows: list[dict]
    report_row: dict
    seconds: float
    peak_rss_mb: float = 0.0  # the peak resident memory of the process that made it, so far (0 when unknown)


@dataclass
class SynthSummary:
    """Counts of a finished run, for the CLI."""

    out: Path
    studies: int
    series: int
    patients: int
    seconds: float
    by_region: dict[str, int] = field(default_factory=dict)
    by_split: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: float = 0.0  # the largest peak resident memory of a process that made a study of this run

    def describe(self) -> str:
        """Human summary."""
        regions = ", ".join(f"{k} {v}" for k, v in sorted(self.by_region.items()))
        splits = ", ".join(f"{k} {v}" for k, v in sorted(self.by_split.items()))
        return (f"wrote {self.studies} studies / {self.series} series / {self.patients} patients to {self.out} "
                f"in {self.seconds:.1f} s\n  studies per region: {regions}\n  patients per split: {splits}\n"
                f"  ground truth: {self.out / 'manifest.parquet'} (for tests and benchmarks only)")


def _coin(seed: int, index: int, salt: str) -> float:
    h = hashlib.sha256(f"{seed}:{index}:{salt}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def _is_follow_up(seed: int, index: int) -> bool:
    return index > 0 and _coin(seed, index, "follow") < FOLLOW_UP_RATE


def study_identity(cfg: SynthConfig, index: int) -> tuple[str, int, str]:
    """(region, patient number, study date YYYYMMDD) of study ``index``, without generating anything."""
    regions = cfg.region_list
    order = np.random.default_rng([cfg.seed, 424242]).permutation(len(regions))
    if _is_follow_up(cfg.seed, index):
        region, number, prev = study_identity(cfg, index - 1)
        d = date(int(prev[:4]), int(prev[4:6]), int(prev[6:])) + timedelta(days=90 + int(300 * _coin(cfg.seed, index,
                                                                                                   "gap")))
        return region, number, d.strftime("%Y%m%d")
    shares = cfg.region_shares()
    if shares is None:
        region = regions[order[index % len(regions)]]
    else:
        region = mix.region_sequence(cfg.seed, regions, shares, cfg.studies, _follow_ups(cfg.seed, cfg.studies))[index]
    d = BASE_DATE + timedelta(days=int(_coin(cfg.seed, index, "date") * 2000))
    return region, index, d.strftime("%Y%m%d")


@lru_cache(maxsize=8)
def _follow_ups(seed: int, n: int) -> tuple[bool, ...]:
    return tuple(_is_follow_up(seed, i) for i in range(n))


@lru_cache(maxsize=8)
def _hn_ordinals(cfg: SynthConfig) -> dict[int, int]:
    """Patient number -> its rank among the archive's head-and-neck patients (for ``--hn-tumour-fraction``)."""
    out: dict[int, int] = {}
    for i, follow in enumerate(_follow_ups(cfg.seed, cfg.studies)):
        if not follow and study_identity(cfg, i)[0] == "head_neck":
            out[i] = len(out)
    return out


def _findings(cfg: SynthConfig, module, region: str, number: int, patient, subregion: str, rng):
    if region == "head_neck" and cfg.hn_tumour_fraction is not None:
        force = mix.hn_force(cfg.seed, _hn_ordinals(cfg)[number], cfg.hn_tumour_fraction)
        return module.sample_findings(patient, subregion, rng, force=force)
    return module.sample_findings(patient, subregion, rng)


def build_plan(cfg: SynthConfig, index: int):
    """Draw study ``index``: its plan, its phantom and each series' timing."""
    region, number, study_date = study_identity(cfg, index)
    patient = planner.draw_patient(cfg.seed, number, region, study_date)
    anat_rng = np.random.default_rng([cfg.seed, 77, number])  # same patient -> same anatomy and findings
    rng = np.random.default_rng([cfg.seed, index])
    module, spec = region_module(region), region_spec(region)
    subregion = planner.draw_subregion(spec, patient, anat_rng)
    side = planner.draw_side(spec, anat_rng)
    lesions, incidentals = _findings(cfg, module, region, number, patient, subregion, anat_rng)
    phantom = module.build(patient, subregion, lesions, incidentals, anat_rng, side=side)
    vendor, model, field_t = planner.draw_scanner(rng)
    contrast = planner.contrast_given(subregion, rng)
    agent = planner.draw_agent(rng) if contrast else None
    study_uid = planner.uid(cfg.seed, "study", index)
    accession = f"A{cfg.seed % 100:02d}{index:07d}"
    series = planner.plan_series(subregion, vendor, field_t, contrast, phantom.landmarks["fov_center"],
                                 (cfg.seed, index), rng, cfg.matrix_scale)
    plan = StudyPlan(patient=patient, study_uid=study_uid, accession=accession, study_date=study_date,
                     study_time=f"{int(rng.integers(7, 20)):02d}{int(rng.integers(0, 60)):02d}00",
                     region=region, subregion=subregion, manufacturer=vendor, model_name=model, field_strength=field_t,
                     institution=("GENERAL HOSPITAL", "UNIVERSITY MEDICAL CENTER", "ST MARY IMAGING",
                                  "REGIONAL CANCER CENTRE")[int(rng.integers(4))],
                     study_description=planner.study_description(subregion, contrast, side, rng),
                     body_part_examined=planner.body_part(subregion, rng), laterality=side, contrast_agent=agent,
                     indication="", lesions=lesions, incidentals=incidentals, series=[s for s, _ in series],
                     seed=cfg.seed, style="UK" if rng.random() < 0.4 else "US")
    plan.indication = indication(plan, rng)
    return plan, phantom, dict((s.series_number, t) for s, t in series), rng


def _bids_stem(cfg_out: Path, plan: StudyPlan, s) -> Path:
    """BIDS-style path stem of a series (without extension)."""
    sub = f"sub-{plan.patient.patient_id}"
    ses = f"ses-{plan.study_date}"
    plane = {"axial": "ax", "sagittal": "sag", "coronal": "cor"}[s.plane]
    if s.sequence in ("DWI", "ADC"):
        rec = "_rec-adc" if s.sequence == "ADC" else ""
        return cfg_out / "nifti" / sub / ses / "dwi" / f"{sub}_{ses}_acq-{plane}{rec}_run-{s.series_number:02d}_dwi"
    suffix = {"T1": "T1w", "T1C": "T1w", "T2": "T2w", "T2FS": "T2w", "STIR": "T2w", "FLAIR": "FLAIR", "PD": "PDw",
              "PDFS": "PDw", "SSFP": "T2w"}[s.sequence]
    variant = {"T2FS": "fs", "PDFS": "fs", "STIR": "stir", "SSFP": "ssfp"}.get(s.sequence, "")
    ce = "_ce-gadolinium" if s.post_contrast else ""
    return (cfg_out / "nifti" / sub / ses / "anat" /
            f"{sub}_{ses}_acq-{plane}{variant}{ce}_run-{s.series_number:02d}_{suffix}")


def _primary(plan: StudyPlan):
    return plan.lesions[0] if plan.lesions else None


def acquire_study(plan: StudyPlan, phantom, timings: dict):
    """Yield (series, volume) in protocol order; ADC maps are fitted from the DWI series they derive from."""
    maps = tissue_maps(phantom, plan.field_strength)
    by_number = {s.series_number: s for s in plan.series}
    dwi: dict[int, np.ndarray] = {}
    for s in plan.series:
        if s.sequence == "ADC":
            vol = adc_map(dwi[s.derived_from], by_number[s.derived_from].b_values)
        else:
            vol = acquire(phantom, maps, plan, s, timings[s.series_number])
            if s.b_values:
                dwi[s.series_number] = vol
        yield s, vol


def study_truth(plan: StudyPlan) -> dict:
    """The study-level ground truth of the manifest (the same for each of the study's rows), and whether any
    series is post-contrast."""
    primary = _primary(plan)
    tumour = next((les for les in plan.lesions if KINDS[les.kind].tumour), None)
    return dict(body_region=plan.region, tumor_site=tumour.site if tumour else None,
                tumor_histology=tumour.histology if tumour else None,
                laterality=primary.laterality if primary else None, exam_side=plan.laterality,
                finding=primary.kind if primary else "normal", contrast=any(s.post_contrast for s in plan.series))


def generate_study(cfg: SynthConfig, index: int) -> StudyResult:
    """Generate, acquire and write one study; return its manifest rows."""
    t0 = time.perf_counter()
    plan, phantom, timings, rng = build_plan(cfg, index)
    report = write_report(plan, rng)
    style = planner.pick(rng, EXPORT_STYLES)
    study_dir = cfg.out / "dicom" / plan.patient.patient_id / f"{plan.study_date}_{plan.accession}"
    nifti_dir = cfg.out / "nifti" / f"sub-{plan.patient.patient_id}" / f"ses-{plan.study_date}"
    want_dicom, want_nifti = cfg.format in ("dicom", "both"), cfg.format in ("nifti", "both")
    tensorize = tensor_output.tensorizer(cfg) if cfg.format == "tensors" else None
    tensors = []
    rows = []
    primary = _primary(plan)
    truth_of_study = study_truth(plan)
    for s, vol in acquire_study(plan, phantom, timings):
        series_uid = planner.uid(cfg.seed, "series", index, s.series_number)
        dicom_paths, layout, nifti_path, dicom_files = [], None, None, None
        truth = {"label": None, "lesion_mask": None, "seg": None, "lesion_voxels": None}
        if want_dicom:
            layout = "enhanced" if rng.random() < cfg.enhanced_fraction else "single"
            dicom_files = write_dicom_series(vol, plan, s, series_uid, study_dir, layout, style, rng)
            dicom_paths = [str(p.relative_to(cfg.out)) for p in dicom_files]
        if want_nifti:
            stem = _bids_stem(cfg.out, plan, s)
            files = write_nifti_series(vol, plan, s, series_uid, stem)
            nifti_path = str(files[0].relative_to(cfg.out))
        if tensorize is not None:
            image, affine = tensorize(vol, plan, s, series_uid)
            tensors.append((series_uid, encode(image), affine))
        if cfg.label_maps and s.sequence != "ADC":
            stem = _bids_stem(cfg.out, plan, s)
            stem = cfg.out / "derivatives" / "labels" / stem.relative_to(cfg.out / "nifti")
            truth = write_label_files(phantom, plan, s, series_uid, stem, dicom_files)
            truth = {k: str(v.relative_to(cfg.out)) if isinstance(v, Path) else v for k, v in truth.items()}
        g = s.geometry
        rows.append(dict(
            patient_id=plan.patient.patient_id, study_uid=plan.study_uid, series_uid=series_uid,
            accession=plan.accession, study_index=index, split=plan.patient.split, body_region=plan.region,
            subregion=plan.subregion, sequence=s.sequence, plane=s.plane, post_contrast=s.post_contrast,
            fat_suppression=s.fat_suppression,
            tumor_site=truth_of_study["tumor_site"], tumor_histology=truth_of_study["tumor_histology"],
            laterality=truth_of_study["laterality"], exam_side=truth_of_study["exam_side"],
            finding=truth_of_study["finding"],
            findings=[f"{les.kind}:{les.site}" for les in plan.lesions + plan.incidentals],
            lesion_size_mm=list(primary.size_mm) if primary else None,
            lesion_center_lps=list(primary.center_lps) if primary and primary.center_lps else None,
            sex=plan.patient.sex, age=plan.patient.age, field_strength=plan.field_strength,
            manufacturer=plan.manufacturer, model=plan.model_name, contrast_agent=plan.contrast_agent,
            series_number=s.series_number, series_description=s.description,
            study_description=plan.study_description, body_part_examined=plan.body_part_examined,
            pixel_spacing=list(g.pixel_spacing), slice_thickness=g.slice_thickness, slice_step=g.slice_step,
            shape=list(g.shape), b_values=list(s.b_values), tr_ms=s.tr_ms, te_ms=s.te_ms, ti_ms=s.ti_ms,
            snr=s.snr, motion=s.motion, dicom_paths=dicom_paths, dicom_layout=layout, export_style=style,
            nifti_path=nifti_path, label_path=truth["label"], lesion_mask_path=truth["lesion_mask"],
            seg_path=truth["seg"], lesion_voxels=truth["lesion_voxels"],
            report_path=None, report_omitted=report.omitted, seed=cfg.seed))
    report_paths = []
    for d, on in ((study_dir, want_dicom), (nifti_dir, want_nifti)):
        if on:
            d.mkdir(parents=True, exist_ok=True)
            (d / "report.txt").write_text(report.text)
            report_paths.append(str((d / "report.txt").relative_to(cfg.out)))
    for r in rows:
        r["report_path"] = report_paths[0] if report_paths else None
    report_row = dict(accession=plan.accession, study_uid=plan.study_uid, report=report.text)
    if tensorize is not None:
        write_study(study_path(cfg.out, plan.accession), tensors, report.text, rows)
    return StudyResult(rows, report_row, time.perf_counter() - t0)


def _prepare_out(cfg: SynthConfig) -> None:
    out = cfg.out
    if out.exists() and any(out.iterdir()):
        if not cfg.overwrite:
            raise FileExistsError(f"{out} is not empty; pass --overwrite to replace a previous archive")
        if not any((out / name).exists() for name in ("manifest.parquet", "gallery.png", MARKER)):
            raise FileExistsError(f"{out} is not empty and does not look like an mri-search archive; "
                                  "refusing to delete it even with --overwrite")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _worker(args: tuple[SynthConfig, int]) -> StudyResult:
    cfg, index = args
    res = generate_study(cfg, index)
    res.peak_rss_mb = _peak_rss_mb()
    return res


def _peak_rss_mb() -> float:
    """This process's peak resident memory (Linux ``VmHWM``; 0 where /proc is not there)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(x.split()[1]) for x in f if x.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError):
        return 0.0


def run_synth(cfg: SynthConfig, progress=print) -> SynthSummary:
    """Generate the archive described by ``cfg``; returns counts.

    A tensor archive (``format="tensors"``) is resumable: each study file is written atomically, the manifest is
    rewritten every ``TENSOR_MANIFEST_EVERY`` studies, and a rerun of the same command keeps the finished studies.
    """
    cfg.validate()
    results: dict[int, StudyResult] = {}
    if tensor_output.resumable(cfg):
        results = {i: StudyResult(rows, dict(accession=rows[0]["accession"], study_uid=rows[0]["study_uid"],
                                             report=report), 0.0)
                   for i, (rows, report) in tensor_output.finished_studies(cfg).items()}
        progress(f"  resuming {cfg.out}: {len(results)} of {cfg.studies} studies already there")
    else:
        _prepare_out(cfg)
        if cfg.format == "tensors":
            tensor_output.start(cfg)
    t0 = time.perf_counter()
    jobs = [(cfg, i) for i in range(cfg.studies) if i not in results]
    if cfg.format == "tensors" and jobs:
        tensor_output.tensorizer(cfg)  # MONAI and torch imported once here: the forked workers share them
    checkpoint = TENSOR_MANIFEST_EVERY if cfg.format == "tensors" else 0
    with ProcessPoolExecutor(cfg.workers) if cfg.workers > 1 else _InProcess() as ex:
        for n, (job, res) in enumerate(zip(jobs, ex.map(_worker, jobs))):
            results[job[1]] = res
            _progress(progress, n, len(jobs), res, t0)
            if checkpoint and (n + 1) % checkpoint == 0:
                _write_rows(cfg, results)
    rows = _write_rows(cfg, results)
    done = [results[i] for i in sorted(results)]
    if cfg.report_csv and cfg.format != "tensors":
        with open(cfg.out / "reports.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["accession", "study_uid", "report"])
            w.writeheader()
            w.writerows(res.report_row for res in done)
    if cfg.label_maps:
        with open(cfg.out / "label_table.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["label", "name", "kind", "source"])
            w.writeheader()
            w.writerows(label_table())
    by_region: dict[str, int] = {}
    for res in done:
        reg = res.rows[0]["body_region"]
        by_region[reg] = by_region.get(reg, 0) + 1
    patients = {r["patient_id"]: r["split"] for r in rows}
    by_split: dict[str, int] = {}
    for sp in patients.values():
        by_split[sp] = by_split.get(sp, 0) + 1
    peak = max((res.peak_rss_mb for res in done), default=0.0)
    return SynthSummary(cfg.out, len(done), len(rows), len(patients), time.perf_counter() - t0, by_region, by_split,
                        peak)


class _InProcess:
    """``ProcessPoolExecutor``'s ``map`` in this process (one worker)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    @staticmethod
    def map(fn, jobs):
        return map(fn, jobs)


def _write_rows(cfg: SynthConfig, results: dict[int, StudyResult]) -> list[dict]:
    """Write the manifest of the studies finished so far (in study order); return its rows."""
    rows = [r for i in sorted(results) for r in results[i].rows]
    write_manifest(rows, cfg.out / "manifest.parquet")
    return rows


def _progress(progress, i: int, n: int, res: StudyResult, t0: float) -> None:
    r = res.rows[0]
    elapsed = time.perf_counter() - t0
    eta = elapsed / (i + 1) * (n - i - 1)
    progress(f"  study {i + 1}/{n}: {r['body_region']:<9} ({r['subregion']}) {len(res.rows)} series, "
             f"finding {r['finding']}, {res.seconds:.1f} s  [elapsed {elapsed:.0f} s, eta {eta:.0f} s]")
