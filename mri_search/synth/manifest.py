"""The ground-truth manifest of a generated archive: one Parquet row per series, with a fixed schema.

The manifest is for tests and benchmarks. An indexer must never read it: everything it needs has to come from the
DICOM/NIfTI files and reports themselves, as it would in a hospital.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

_S, _F, _I, _B = pa.string(), pa.float64(), pa.int64(), pa.bool_()
MANIFEST_SCHEMA = pa.schema([
    ("patient_id", _S), ("study_uid", _S), ("series_uid", _S), ("accession", _S), ("study_index", _I),
    ("split", _S), ("body_region", _S), ("subregion", _S), ("sequence", _S), ("plane", _S),
    ("post_contrast", _B), ("fat_suppression", _S),
    ("tumor_site", _S), ("tumor_histology", _S), ("laterality", _S), ("exam_side", _S),
    ("finding", _S), ("findings", pa.list_(_S)),
    ("lesion_size_mm", pa.list_(_F)), ("lesion_center_lps", pa.list_(_F)),
    ("sex", _S), ("age", _I), ("field_strength", _F), ("manufacturer", _S), ("model", _S), ("contrast_agent", _S),
    ("series_number", _I), ("series_description", _S), ("study_description", _S), ("body_part_examined", _S),
    ("pixel_spacing", pa.list_(_F)), ("slice_thickness", _F), ("slice_step", _F), ("shape", pa.list_(_I)),
    ("b_values", pa.list_(_I)), ("tr_ms", _F), ("te_ms", _F), ("ti_ms", _F), ("snr", _F), ("motion", _F),
    ("dicom_paths", pa.list_(_S)), ("dicom_layout", _S), ("export_style", _S), ("nifti_path", _S),
    ("label_path", _S), ("lesion_mask_path", _S), ("seg_path", _S), ("lesion_voxels", _I),
    ("report_path", _S), ("report_omitted", pa.list_(_S)), ("seed", _I),
])
REQUIRED = ("patient_id", "study_uid", "series_uid", "split", "body_region", "sequence", "plane", "tumor_site",
            "tumor_histology", "laterality")


def write_manifest(rows: list[dict], path: Path) -> None:
    """Write rows with the fixed schema (an unknown or missing column is a bug and raises)."""
    table = pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)
    pq.write_table(table, path)


def read_manifest(archive: Path) -> pa.Table:
    """Read ``archive/manifest.parquet`` with a clear error when it is not a generated archive."""
    path = Path(archive) / "manifest.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {archive} an archive written by `mri-search synth`?")
    return pq.read_table(path)
