"""The one collection layout shared by every backend: named vectors, payload indexes, metadata, ids, filters.

A collection holds one point per series. Two named vectors live in one cosine space: ``image`` (the series'
volume embedding, always present) and ``report`` (the embedding of its study's report, present when the study has
one), so image-to-image, text-to-image, image-to-report and report-to-report search all run on one collection.
``CollectionMeta`` records which model wrote the vectors; a run whose model differs is refused before it writes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from ..configs import build_config
from ..ingest.phi import hash_id
from .fields import FIELDS

LAYOUT_VERSION = 1  # bumped when the point layout (vector names, payload fields) changes incompatibly
IMAGE = "image"  # named vector: the series' volume embedding
REPORT = "report"  # named vector: the study report's embedding (absent when the study has no report)
VECTORS = (IMAGE, REPORT)
DISTANCE = "cosine"  # both vectors are L2-normalised by the model

# Payload fields that queries filter by, with their index type (keyword, integer, float, bool): those the field
# table marks (fields.FIELDS), nested ones as ``report_labels.region``
PAYLOAD_INDEXES: dict[str, str] = dict(ix for f in FIELDS for ix in f.indexes())

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# Namespace of point ids: uuid5(namespace, "<model identity>/<series key>").
ID_NAMESPACE = uuid.UUID("6d1f6c3e-2f0b-5b7e-9a53-6d7269736561")
RANGE_KEYS = ("gt", "gte", "lt", "lte")


@dataclass(frozen=True)
class CollectionMeta:
    """What a collection's vectors mean: written at creation, compared before every write."""

    model_id: str  # mri_search.model.model_identity of the model that wrote the vectors
    model_name: str  # the model config's name (for people; model_id decides)
    embed_dim: int  # size of both named vectors
    salt_check: str  # salt_check(salt): series keys from another salt would never match
    layout_version: int = LAYOUT_VERSION  # point layout version
    created_with: str = ""  # mri-search version that created the collection (informative, not compared)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "CollectionMeta":
        """Inverse of ``to_dict``; an unknown or missing key raises ValueError."""
        return build_config(cls, d, "collection metadata")

    def check_writable_by(self, other: "CollectionMeta", name: str) -> None:
        """Raise ``CollectionMismatch`` unless vectors of ``other`` (this run) may be written here.

        Args:
            other: the metadata of the run about to write.
            name: the collection's name, for the message.
        """
        if self.layout_version != other.layout_version:
            raise CollectionMismatch(
                f"collection {name!r} has point layout {self.layout_version}, this mri-search writes "
                f"{other.layout_version}; index into a new collection")
        if self.embed_dim != other.embed_dim or self.model_id != other.model_id:
            raise CollectionMismatch(
                f"collection {name!r} holds embeddings of model {self.model_name} ({self.model_id}, "
                f"{self.embed_dim}-d); this model is {other.model_name} ({other.model_id}, {other.embed_dim}-d). "
                "Embeddings of different models must not share a collection: omit --collection to use the "
                "model's own, or name another one")
        if self.salt_check != other.salt_check:
            raise CollectionMismatch(
                f"collection {name!r} was indexed with a different --salt; series keys would not match and every "
                "series would be stored twice. Use the salt of the first run")


class CollectionMismatch(ValueError):
    """A collection exists but was written by another model, salt or layout."""


class StoreBusy(ValueError):
    """The embedded store is open in another process (one opener per path)."""


def salt_check(salt: str) -> str:
    """A fingerprint of the identifier salt that does not reveal it (the salt is a site secret)."""
    return hash_id(salt, "mri-search:salt-check")


def collection_name(model_id: str) -> str:
    """Default collection of a model: ``mri-<first 12 hex of its identity>``, so models never share one."""
    return f"mri-{model_id[:12]}"


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid collection name (letters, digits, ``_ . -``; no path separators)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"invalid collection name {name!r}: use 1-128 letters, digits, '_', '.' or '-', "
                         "starting with a letter or digit")
    return name


def point_id(model_id: str, series_key: str) -> str:
    """Deterministic point id of a series embedded by a model: a UUID5 string (what both engines accept)."""
    if not model_id or not series_key:
        raise ValueError("point_id needs a model identity and a series key")
    return str(uuid.uuid5(ID_NAMESPACE, f"{model_id}/{series_key}"))


Condition = tuple[str, str, Any]  # (field, "value" | "any" | "range", operand)
NOT = "not"  # reserved key of the neutral filter form: conditions none of which may hold


def parse_filter(f: dict | None) -> tuple[list[Condition], list[Condition]]:
    """Validate the neutral filter form and return ``(must, must_not)``: every ``must`` condition holds and no
    ``must_not`` one does (Qdrant's ``must`` / ``must_not``).

    The form is ``{field: value}`` with value a string, int or bool (exact match), a list of strings or ints
    (any of them), or a dict of ``gt``/``gte``/``lt``/``lte`` numbers (a range). Floats only match by range.
    The key ``"not"`` holds a dict of the same form whose conditions exclude: ``{"not": {"study_key": [a, b]}}``
    drops the points of studies ``a`` and ``b`` (a point lacking the field is not excluded).

    Raises:
        ValueError: for any other shape, naming the field.
    """
    if f is None:
        return [], []
    if not isinstance(f, dict):
        raise ValueError(f"filter must be a dict of field -> value, got {type(f).__name__}")
    negated = f.get(NOT)
    if negated is not None and (not isinstance(negated, dict) or NOT in negated):
        raise ValueError(f"filter {NOT!r}: expected a dict of field -> value (not nested), got {negated!r}")
    return _conditions({k: v for k, v in f.items() if k != NOT}), _conditions(negated or {})


def _conditions(f: dict) -> list[Condition]:
    out: list[Condition] = []
    for key, v in f.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"filter field names must be non-empty strings, got {key!r}")
        if isinstance(v, (bool, str)) or (isinstance(v, int)):
            out.append((key, "value", v))
        elif isinstance(v, (list, tuple, set, frozenset)):
            vals = list(v)
            if not vals or not (all(isinstance(x, str) for x in vals)
                                or all(isinstance(x, int) and not isinstance(x, bool) for x in vals)):
                raise ValueError(f"filter {key!r}: a list must hold strings or integers (not mixed, not empty)")
            out.append((key, "any", vals))
        elif isinstance(v, dict):
            if not v or set(v) - set(RANGE_KEYS) or not all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) for x in v.values()):
                raise ValueError(f"filter {key!r}: a range is a dict of {'/'.join(RANGE_KEYS)} numbers, got {v!r}")
            out.append((key, "range", {k: float(x) for k, x in v.items()}))
        elif isinstance(v, float):
            raise ValueError(f"filter {key!r}: floats match by range, e.g. {{'{key}': {{'gte': {v}, 'lte': {v}}}}}")
        else:
            raise ValueError(f"filter {key!r}: unsupported value {v!r}")
    return out
