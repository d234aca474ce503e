"""Human (or JSON) summary of a generated archive, read from its manifest."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .manifest import read_manifest


def summarize(archive: Path, as_json: bool = False) -> str:
    """Counts of studies, series, patients, regions, sequences, splits, findings and files of an archive."""
    rows = read_manifest(archive).to_pylist()
    studies = {r["study_uid"]: r for r in rows}
    patients = {r["patient_id"]: r["split"] for r in rows}
    n_dicom = sum(len(r["dicom_paths"] or []) for r in rows)
    n_nifti = sum(1 for r in rows if r["nifti_path"])
    size = sum(p.stat().st_size for p in Path(archive).rglob("*") if p.is_file())
    data = {
        "studies": len(studies), "series": len(rows), "patients": len(patients),
        "dicom_files": n_dicom, "nifti_series": n_nifti, "bytes_on_disk": size,
        "regions": dict(Counter(r["body_region"] for r in studies.values()).most_common()),
        "subregions": dict(Counter(r["subregion"] for r in studies.values()).most_common()),
        "sequences": dict(Counter(r["sequence"] for r in rows).most_common()),
        "planes": dict(Counter(r["plane"] for r in rows).most_common()),
        "manufacturers": dict(Counter(r["manufacturer"] for r in studies.values()).most_common()),
        "field_strengths": dict(Counter(str(r["field_strength"]) for r in studies.values()).most_common()),
        "patients_per_split": dict(Counter(patients.values()).most_common()),
        "findings": dict(Counter(r["finding"] for r in studies.values()).most_common()),
        "tumour_sites": dict(Counter(r["tumor_site"] for r in studies.values() if r["tumor_site"]).most_common()),
        "body_part_examined": dict(Counter(str(r["body_part_examined"]) for r in studies.values()).most_common()),
    }
    if as_json:
        return json.dumps(data, indent=2)
    lines = [f"archive {archive}: {data['studies']} studies, {data['series']} series, {data['patients']} patients, "
             f"{n_dicom} DICOM files, {n_nifti} NIfTI series, {size / 1e6:.0f} MB"]
    for key in ("regions", "subregions", "sequences", "planes", "manufacturers", "field_strengths",
                "patients_per_split", "findings", "tumour_sites", "body_part_examined"):
        lines.append(f"  {key.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in data[key].items()))
    return "\n".join(lines)
