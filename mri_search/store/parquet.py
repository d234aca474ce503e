"""Points as a Parquet table: one row per series, payload columns, embeddings as fixed-size list columns.

Columns: ``id``, every field of ``payload.PAYLOAD_FIELDS`` (``report`` as a struct of its sections), ``phi`` (a
struct of the DICOM keywords of ``ingest.phi.PHI_KEYWORDS``; null unless identifiers were kept), and
``image_embedding`` / ``report_embedding`` as ``fixed_size_list<float32>[embed_dim]`` (the latter null for
studies without a report). The collection's ``CollectionMeta`` is in the schema metadata under ``mri_search``, so a
file says which model's space its vectors are in. ``read_points`` gives back exactly the points that were written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_path
from ..ingest.phi import PHI_KEYWORDS
from ..ingest.report_text import SECTION_ORDER
from .base import Point
from .layout import IMAGE, REPORT, CollectionMeta
from .payload import PAYLOAD_FIELDS, PHI_FIELD

META_KEY = b"mri_search"
VECTOR_COLUMNS = {IMAGE: "image_embedding", REPORT: "report_embedding"}
_ARROW = {
    "str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
    "ints": pa.list_(pa.int64()), "floats": pa.list_(pa.float64()),
    "sections": pa.struct([(s, pa.string()) for s in SECTION_ORDER]),
    "labels": pa.struct([("region", pa.string()), ("organs", pa.list_(pa.string())), ("tumour", pa.string()),
                         ("tumour_site", pa.string()), ("histology", pa.string()), ("laterality", pa.string()),
                         ("exam_side", pa.string()), ("contrast", pa.bool_())]),
}
_PHI = pa.struct([(k, pa.string()) for k in PHI_KEYWORDS])


def schema(meta: CollectionMeta) -> pa.Schema:
    """The table schema for points of a collection described by ``meta``."""
    vec = pa.list_(pa.float32(), meta.embed_dim)
    fields = [pa.field("id", pa.string(), nullable=False)]
    fields += [pa.field(name, _ARROW[kind]) for name, kind in PAYLOAD_FIELDS.items()]
    fields += [pa.field(PHI_FIELD, _PHI), pa.field(VECTOR_COLUMNS[IMAGE], vec, nullable=False),
               pa.field(VECTOR_COLUMNS[REPORT], vec)]
    return pa.schema(fields, metadata={META_KEY: json.dumps(meta.to_dict()).encode()})


def _row(p: Point) -> dict:
    row = {"id": p.id, **{k: p.payload.get(k) for k in PAYLOAD_FIELDS}, PHI_FIELD: p.payload.get(PHI_FIELD)}
    for name, col in VECTOR_COLUMNS.items():
        row[col] = p.vectors.get(name)
    return row


def write_points(points: Iterable[Point], path: str | os.PathLike, meta: CollectionMeta, chunk: int = 1024) -> int:
    """Write ``points`` to a Parquet file, atomically (a temporary file renamed over ``path``).

    Returns:
        The number of rows written.

    Raises:
        ValueError: a point lacks the image vector or has a vector of the wrong size.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sch = schema(meta)
    n = 0
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(str(tmp), sch) as writer:
            rows: list[dict] = []
            for p in points:
                for name, v in p.vectors.items():
                    if len(v) != meta.embed_dim:
                        raise ValueError(f"point {p.id}: vector {name!r} has {len(v)} values, expected "
                                         f"{meta.embed_dim}")
                if IMAGE not in p.vectors:
                    raise ValueError(f"point {p.id} has no {IMAGE!r} vector")
                rows.append(_row(p))
                if len(rows) >= chunk:
                    writer.write_table(pa.Table.from_pylist(rows, schema=sch))
                    n += len(rows)
                    rows = []
            if rows or n == 0:
                writer.write_table(pa.Table.from_pylist(rows, schema=sch))
                n += len(rows)
    return n


def read_meta(path: str | os.PathLike) -> CollectionMeta:
    """The ``CollectionMeta`` stored in a points file.

    Raises:
        ValueError: the file was not written by ``write_points``.
    """
    md = pq.read_schema(path).metadata or {}
    if META_KEY not in md:
        raise ValueError(f"{path} is not an mri-search points file (no {META_KEY.decode()} schema metadata)")
    return CollectionMeta.from_dict(json.loads(md[META_KEY]))


def read_points(path: str | os.PathLike, batch: int = 1024) -> Iterator[Point]:
    """The points of a file written by ``write_points``, in file order (payloads and vectors as written)."""
    read_meta(path)
    f = pq.ParquetFile(path)
    for rb in f.iter_batches(batch_size=batch):
        for row in rb.to_pylist():
            payload = {k: row.get(k) for k in PAYLOAD_FIELDS}  # a file from before a field existed: None
            if payload["report"] is not None:
                payload["report"] = {k: v for k, v in payload["report"].items() if v is not None}
            if row[PHI_FIELD] is not None:
                payload[PHI_FIELD] = {k: v for k, v in row[PHI_FIELD].items() if v is not None}
            vectors = {name: row[col] for name, col in VECTOR_COLUMNS.items() if row[col] is not None}
            yield Point(id=row["id"], vectors=vectors, payload=payload)
