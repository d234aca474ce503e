"""Write a model's report tower as an ONNX folder (``report_onnx``), checked against torch before it is kept.

The graph is traced from the torch tower itself (``torch.onnx.export``, TorchScript exporter), so pooling,
projection and normalisation are the ones the model trains with, not a second implementation. Before the folder is
moved into place, the ONNX encoder and the torch tower embed ``PROBES`` (short queries, accents, a text longer
than ``max_tokens``; one batch, so padding too, and each text alone): the token ids must be equal and the
embeddings within ``ATOL``, else nothing is written. (This module imports torch: only the writer needs it.)
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import shutil
import uuid
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .report_onnx import (
    CACHE_FORMAT, INFO_NAME, ONNX_NAME, TOKENIZER_NAME, OnnxReportEncoder, runtime_versions, sha256_bytes,
)

log = logging.getLogger(__name__)

ATOL = 1e-4  # largest accepted difference of an ONNX and a torch embedding component (unit vectors)
OPSET = 17  # LayerNormalization is a single op from 17 on
PROBES = (
    "knee",
    "axial T2 of the neck with a mass in the left tonsil",
    "Sagittal T1 FS post-gadolinium: 3.2 x 2.1 cm enhancing lesion, L4/5 disc herniation (right > left).",
    "Œdème péri-lésionnel, naïve résumé; T2* GRE, b=1000 s/mm², ADC 0.8×10⁻³",
    "no acute intracranial abnormality " * 60,  # longer than any max_tokens: truncation
    "",
)


def export_report_onnx(model, folder: str | os.PathLike, model_id: str, atol: float = ATOL) -> float:
    """Write ``model``'s report tower to ``folder`` (replacing what is there) and return the largest measured
    difference to the torch tower.

    Args:
        model: an ``MRIClip`` or ``ReportModel`` on the CPU (its training mode is kept).
        folder: the encoder folder (``report_onnx`` layout); its parent is created.
        model_id: the model's identity (``model_identity``), recorded and checked at load.
        atol: the largest accepted difference of an embedding component.

    Raises:
        ValueError: the ONNX encoder's tokens or embeddings differ from the torch tower's (nothing is written).
        Exceptions of ``torch.onnx.export`` (e.g. the exporter's ``onnx`` package missing).
    """
    from .text import backbone_folder

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tokenizer_json = (backbone_folder(model.cfg.text.backbone) / TOKENIZER_NAME).read_bytes()
    hf_tok = model.text.tokenizer
    max_tokens = int(model.cfg.text.max_tokens)
    was_training = model.training
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()  # (mkdir, not mkdtemp: the folder gets the umask's usual permissions)
    try:
        tower = _Tower(model).eval()  # eval: no dropout in the traced graph (the exporter keeps the mode it finds)
        sample = model.tokenize(list(PROBES[:2]))
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
            torch.onnx.export(tower, (sample["input_ids"], sample["attention_mask"]), str(tmp / ONNX_NAME),
                              dynamo=False, opset_version=OPSET, input_names=["input_ids", "attention_mask"],
                              output_names=["embedding"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}})
        onnx_bytes = (tmp / ONNX_NAME).read_bytes()
        enc = OnnxReportEncoder(onnx_bytes, tokenizer_json.decode("utf-8"), max_tokens, hf_tok.pad_token_id,
                                hf_tok.pad_token)
        diff = _agreement(model, enc, atol)
        (tmp / TOKENIZER_NAME).write_bytes(tokenizer_json)
        info = {"format": CACHE_FORMAT, "model_id": model_id, "embed_dim": int(model.cfg.embed_dim),
                "max_tokens": max_tokens, "pad_id": int(hf_tok.pad_token_id), "pad_token": str(hf_tok.pad_token),
                "files": {ONNX_NAME: sha256_bytes(onnx_bytes),
                          TOKENIZER_NAME: sha256_bytes(tokenizer_json)},
                "max_abs_diff_to_torch": diff, "opset": OPSET, "versions": _versions(),
                "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        (tmp / INFO_NAME).write_text(json.dumps(info, indent=2) + "\n")
        _swap_in(tmp, folder)
    finally:
        model.train(was_training)
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("wrote the ONNX report encoder of model %s to %s (max difference to torch %.2g)", model_id, folder, diff)
    return diff


class _Tower(nn.Module):
    """tokens -> unit-length report embedding: the graph that is exported."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model.encode_report({"input_ids": input_ids, "attention_mask": attention_mask})


def _agreement(model, enc: OnnxReportEncoder, atol: float) -> float:
    """Largest |ONNX - torch| over the probes (batched and one by one); ValueError on any token difference or a
    difference above ``atol``."""
    texts = list(PROBES)
    ref_tok = model.tokenize(texts)
    got_tok = enc.tokenize(texts)
    for key in ("input_ids", "attention_mask"):
        if not np.array_equal(ref_tok[key].numpy(), got_tok[key]):
            raise ValueError(f"the ONNX encoder's tokenizer gives other {key} than the model's; not written")
    with torch.no_grad():
        ref = model.encode_report(ref_tok).float().numpy()  # [P, D]
    diffs = [np.abs(enc.encode(texts) - ref).max()]  # one padded batch
    diffs += [np.abs(enc.encode([t])[0] - ref[i]).max() for i, t in enumerate(texts)]  # as a query: alone
    diff = float(max(diffs))
    if not diff <= atol:
        raise ValueError(f"the ONNX report encoder differs from the torch tower by {diff:.3g} (> {atol:g}); "
                         "not written")
    return diff


def _swap_in(tmp: Path, folder: Path) -> None:
    """Replace ``folder`` by ``tmp`` (a rename of whole folders: a reader sees the old set of files or the new,
    never a mix; a concurrent writer's folder may win instead, which is as good)."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        try:
            folder.rename(old)
        except FileNotFoundError:  # another writer moved it first
            old = None
    try:
        tmp.rename(folder)
    except OSError:  # another writer's folder landed in between: keep it
        log.debug("another process wrote %s first", folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _versions() -> dict:
    out = runtime_versions()
    for dist in ("torch", "transformers"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out
