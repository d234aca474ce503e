"""A model folder's config and identity, read without torch.

``model_identity`` names collections (``mri-<identity>``) and keys caches, so it must never change for a given
folder. It hashes the stored weights straight from the safetensors file (an 8-byte little-endian header length, a
JSON header of ``{name: {dtype, shape, data_offsets}}``, then the raw little-endian bytes): the same bytes, and the
same ``torch.<dtype>`` and shape strings, that hashing the tensors loaded by torch gives, without importing torch
(seconds of a text query's start-up).
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
from pathlib import Path

from ..artifact_folder import read_config

FORMAT_VERSION = 1  # newest model-folder format this code reads
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

# safetensors dtype code -> (torch's name of it, bytes per element)
_DTYPES = {
    "F64": ("torch.float64", 8), "F32": ("torch.float32", 4), "F16": ("torch.float16", 2),
    "BF16": ("torch.bfloat16", 2), "F8_E4M3": ("torch.float8_e4m3fn", 1), "F8_E5M2": ("torch.float8_e5m2", 1),
    "I64": ("torch.int64", 8), "I32": ("torch.int32", 4), "I16": ("torch.int16", 2), "I8": ("torch.int8", 1),
    "U64": ("torch.uint64", 8), "U32": ("torch.uint32", 4), "U16": ("torch.uint16", 2), "U8": ("torch.uint8", 1),
    "BOOL": ("torch.bool", 1),
}
_MAX_HEADER = 100 << 20  # the safetensors library's own limit on the JSON header


def read_meta(folder: Path) -> dict:
    """A model folder's ``config.json``, checked for the fields every reader needs (``artifact_folder``).

    Raises:
        ArtifactError (a ValueError): the folder is missing, lacks a file, or its config is corrupt or of a newer
            format.
    """
    return read_config(folder, "model", FORMAT_VERSION, CONFIG_NAME, files=(WEIGHTS_NAME,),
                       required=("model", "preprocess", "preprocess_hash", "text_backbone"))


def _tensors(buf) -> list[tuple[str, str, list[int], int, int]]:
    """``(name, torch dtype name, shape, start, end)`` of each tensor of a safetensors file, sorted by name;
    ``start``/``end`` are absolute byte offsets. Raises ValueError for anything malformed."""
    if len(buf) < 8:
        raise ValueError("file shorter than its header length")
    n = int.from_bytes(buf[:8], "little")
    if n > min(_MAX_HEADER, len(buf) - 8):
        raise ValueError(f"header length {n} exceeds the file")
    header = json.loads(bytes(buf[8:8 + n]))
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    base, out = 8 + n, []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (a, b) = info["dtype"], [int(s) for s in info["shape"]], info["data_offsets"]
        if dtype not in _DTYPES:
            raise ValueError(f"tensor {name!r}: unsupported dtype {dtype}")
        torch_name, size = _DTYPES[dtype]
        numel = 1
        for s in shape:
            numel *= s
        if not 0 <= a <= b <= len(buf) - base or b - a != numel * size:
            raise ValueError(f"tensor {name!r}: data offsets {[a, b]} do not fit its shape {shape} or the file")
        out.append((name, torch_name, shape, base + a, base + b))
    return sorted(out)


def model_identity(folder: str | os.PathLike, meta: dict | None = None) -> str:
    """16 hex digits identifying what decides a model's embeddings: model config, preprocessing, text backbone
    and every stored weight. Metrics, recipe, versions and the save time do not enter it.

    Args:
        folder: the model folder.
        meta: its ``read_meta(folder)``, when the caller has read it already (a run reads config.json once).

    Raises:
        ValueError: not a model folder (``read_meta``), or a corrupt weights file.
    """
    folder = Path(folder)
    meta = read_meta(folder) if meta is None else meta
    tb = meta["text_backbone"]
    h = hashlib.sha256()
    h.update(json.dumps({"format_version": meta["format_version"], "model": meta["model"],
                         "preprocess_hash": meta["preprocess_hash"],
                         "backbone": [tb.get("name"), tb.get("support_sha256"),
                                      tb.get("weights_sha256") if tb.get("referenced") else None]},
                        sort_keys=True).encode())
    path = folder / WEIGHTS_NAME
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            view = memoryview(mm)
            try:
                for name, dtype, shape, a, b in _tensors(view):
                    h.update(f"{name}|{dtype}|{shape}|".encode())
                    h.update(view[a:b])
            finally:
                view.release()
    except (OSError, ValueError, KeyError, TypeError) as exc:  # an empty file cannot be mapped: OSError/ValueError
        raise ValueError(f"{path} is corrupt: {exc}") from None
    return h.hexdigest()[:16]
