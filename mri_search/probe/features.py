"""The features file of ``mri-search embed``: the index's Parquet layout plus frozen encoder features.

A features file is a points file (``mri_search.store.parquet``: ``id``, the de-identified payload columns such as
``series_key``, ``patient_key``, ``study_key``, ``sequence``, ``path``, and ``image_embedding`` /
``report_embedding``) with more ``fixed_size_list<float32>`` columns:

- ``pooled``: the image tower's pooled feature before projection (the class token), ``[hidden]``;
- ``token_mean``: the mean of its final patch tokens, ``[hidden]``;
- ``patch_tokens`` (only when asked for): the final patch tokens, flattened ``[n_tokens * hidden]`` in the tower's
  raster order (reshape to ``[n_tokens, hidden]``; ``FeaturesInfo`` has both sizes).

So ``store.parquet.read_points`` reads it as the index's rows, and any Parquet reader (pandas, polars, DuckDB)
reads the features. The schema metadata holds the collection metadata (model identity, embedding size) and, under
``mri_search_features``, the feature sizes and the model folder.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_path
from ..store.layout import IMAGE, CollectionMeta
from ..store.parquet import VECTOR_COLUMNS, read_meta, schema
from ..store.payload import PAYLOAD_FIELDS, PHI_FIELD

FEATURES_KEY = b"mri_search_features"
# what a probe can be trained on: --feature NAME -> column
FEATURE_COLUMNS = {"pooled": "pooled", "token_mean": "token_mean", "image": VECTOR_COLUMNS[IMAGE]}
PATCH_TOKENS = "patch_tokens"


@dataclass(frozen=True)
class FeaturesInfo:
    """What a features file holds beyond the points layout (its ``mri_search_features`` schema metadata)."""

    hidden: int  # width of pooled / token_mean (the image tower's hidden size)
    n_tokens: int  # patch tokens per series (grid^3)
    patch_tokens: bool  # whether the patch_tokens column is filled
    model: str  # the model folder the features came from, as given
    model_name: str  # its preset name


@dataclass
class Features:
    """One feature column of a features file, with the series' identifiers (rows in file order)."""

    path: Path
    feature: str  # the FEATURE_COLUMNS name read
    series_keys: list[str]
    patient_keys: list[str]  # patient_key, else the study key when a series has no patient id (one group each)
    x: np.ndarray  # [n, d] float32
    meta: CollectionMeta  # model identity and embedding size


def features_schema(meta: CollectionMeta, info: FeaturesInfo) -> pa.Schema:
    """The points schema of ``meta`` plus the feature columns of ``info``."""
    base = schema(meta)
    extra = [pa.field(FEATURE_COLUMNS["pooled"], pa.list_(pa.float32(), info.hidden)),
             pa.field(FEATURE_COLUMNS["token_mean"], pa.list_(pa.float32(), info.hidden)),
             pa.field(PATCH_TOKENS, pa.list_(pa.float32(), info.n_tokens * info.hidden))]
    md = dict(base.metadata or {})
    md[FEATURES_KEY] = json.dumps(asdict(info)).encode()
    return pa.schema(list(base) + extra, metadata=md)


def feature_row(point_id: str, payload: dict, vectors: dict[str, np.ndarray | None],
                feats: dict[str, np.ndarray]) -> dict:
    """One row: ``payload`` (``store.payload.build_payload``), the image/report vectors and the features.

    Args:
        point_id: the row id (``store.point_id(model_id, series_key)``, as the index writes it).
        payload: the series payload.
        vectors: ``{IMAGE: [embed_dim], REPORT: [embed_dim] or None}``.
        feats: ``{"pooled": [hidden], "token_mean": [hidden], "patch_tokens": [N, hidden] (optional)}``.
    """
    row = {"id": point_id, **{k: payload.get(k) for k in PAYLOAD_FIELDS}, PHI_FIELD: payload.get(PHI_FIELD)}
    for name, col in VECTOR_COLUMNS.items():
        v = vectors.get(name)
        row[col] = None if v is None else np.asarray(v, np.float32)
    for name in ("pooled", "token_mean"):
        row[FEATURE_COLUMNS[name]] = np.asarray(feats[name], np.float32)
    tokens = feats.get(PATCH_TOKENS)
    row[PATCH_TOKENS] = None if tokens is None else np.asarray(tokens, np.float32).reshape(-1)
    return row


class FeaturesWriter:
    """Streams rows into a features file, made visible atomically on ``close`` (a temporary file renamed over it).

    Use as a context manager; an exception inside leaves no partial file behind.
    """

    def __init__(self, path: str | os.PathLike, meta: CollectionMeta, info: FeaturesInfo) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.schema = features_schema(meta, info)
        self._stack = contextlib.ExitStack()  # holds the temporary file until __exit__ places or removes it
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        self._writer = pq.ParquetWriter(str(self._tmp), self.schema)
        self.rows = 0

    def write(self, rows: Iterable[dict]) -> None:
        """Append rows built with ``feature_row``."""
        rows = list(rows)
        if rows:
            self._writer.write_table(pa.Table.from_pylist(rows, schema=self.schema))
            self.rows += len(rows)

    def __enter__(self) -> FeaturesWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None and self.rows == 0:
                self._writer.write_table(self.schema.empty_table())
            self._writer.close()
        except BaseException as err:
            self._stack.__exit__(type(err), err, err.__traceback__)  # removes the temporary file
            raise
        self._stack.__exit__(exc_type, exc, tb)  # renames it over the target only without an exception


def read_info(path: str | os.PathLike) -> FeaturesInfo | None:
    """The feature sizes of a features file; None for a plain points file (``mri-search index --parquet``)."""
    md = pq.read_schema(path).metadata or {}
    return FeaturesInfo(**json.loads(md[FEATURES_KEY])) if FEATURES_KEY in md else None


def read_features(path: str | os.PathLike, feature: str = "pooled") -> Features:
    """Read one feature column and the series' keys from a features file (or, for ``image``, an index Parquet).

    Raises:
        ValueError: the file is missing or not an mri-search file, the feature is unknown or not in the file, or a
            row has no (or a non-finite) value.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"features file {path} not found (write one with `mri-search embed ARCHIVE --out {path}`)")
    if feature not in FEATURE_COLUMNS:
        raise ValueError(f"unknown feature {feature!r}; choose from {', '.join(FEATURE_COLUMNS)}")
    try:
        meta = read_meta(path)
    except (ValueError, OSError, pa.ArrowInvalid) as exc:
        raise ValueError(f"{path} is not an mri-search features file: {str(exc).splitlines()[0]}") from None
    col = FEATURE_COLUMNS[feature]
    names = pq.read_schema(path).names
    if col not in names:
        have = [k for k, c in FEATURE_COLUMNS.items() if c in names]
        raise ValueError(f"{path} has no {feature!r} feature (it holds: {', '.join(have)}); a Parquet file of "
                         "`mri-search index` has only the image embedding: use --feature image, or write the "
                         "features with `mri-search embed`")
    table = pq.read_table(path, columns=["series_key", "patient_key", "study_key", col])
    keys = table.column("series_key").to_pylist()
    patients = [p or s for p, s in zip(table.column("patient_key").to_pylist(),
                                       table.column("study_key").to_pylist())]
    vec = table.column(col).combine_chunks()
    if vec.null_count:
        bad = [k for k, v in zip(keys, vec.is_null().to_pylist()) if v]
        raise ValueError(f"{path}: {len(bad)} series have no {feature!r} value (first: {bad[0]})")
    n = len(keys)
    x = (vec.values.to_numpy(zero_copy_only=False).reshape(n, -1).astype(np.float32) if n
         else np.zeros((0, 0), np.float32))
    if not np.isfinite(x).all():
        raise ValueError(f"{path}: non-finite values in the {feature!r} column")
    if len(set(keys)) != n:
        raise ValueError(f"{path}: a series key appears more than once")
    return Features(path=path, feature=feature, series_keys=keys, patient_keys=patients, x=x, meta=meta)
