"""How a text query becomes a vector: the model's report tower, through onnxruntime when it can, else torch.

Importing torch and transformers takes seconds, most of a text query's start-up. So the report tower of each model
is kept as an ONNX folder (``mri_search.model.report_onnx``) under ``<home>/text-onnx/<model identity>/``: with it
a query imports neither torch nor transformers. The folder is written, from the torch tower and checked against it,
by the first text query of a model that lacks one (that query pays the torch start-up plus the export, a few
seconds); a folder that fails its checks (damaged, replaced, another model's) is rebuilt the same way, with a
warning.

Backends: ``auto`` (ONNX on the CPU, building it when missing; torch on another device or when the export fails),
``onnx`` (ONNX or an error), ``torch`` (the torch tower only; no folder read or written).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

BACKENDS = ("auto", "onnx", "torch")
CACHE_DIR = "text-onnx"  # under mri_search's home folder


def default_cache_root() -> Path:
    """``<home>/text-onnx`` (``$MRI_SEARCH_HOME``, see ``mri_search.store.default_home``)."""
    from ..store import default_home

    return default_home() / CACHE_DIR


class QueryTextEncoder:
    """Query text -> unit-length embedding by the report tower of one model.

    Args:
        model_dir: the model folder (read only when the torch tower is needed).
        model_id: its identity (``model_identity``): keys the ONNX folder.
        backend: ``auto``, ``onnx`` or ``torch`` (module docstring).
        device: torch device of the torch tower; ONNX runs on the CPU, so ``auto`` uses it only for ``cpu``.
        cache_root: where the ONNX folders live (default ``default_cache_root()``).
        embed_dim: the collection's vector size, checked against the ONNX folder's.

    Raises:
        ValueError: an unknown backend, or ``onnx`` with a device other than the CPU.
    """

    def __init__(self, model_dir: str | os.PathLike, model_id: str, backend: str = "auto", device: str = "cpu",
                 cache_root: str | os.PathLike | None = None, embed_dim: int | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"--text-encoder must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if backend == "onnx" and device != "cpu":
            raise ValueError(f"--text-encoder onnx runs on the CPU; drop --device {device} or use --text-encoder "
                             "torch")
        self.model_dir = Path(model_dir)
        self.model_id = model_id
        self.backend = backend
        self.device = device
        self.embed_dim = embed_dim
        self.folder = Path(cache_root if cache_root is not None else default_cache_root()) / model_id
        self.used: str | None = None  # the backend that encodes: "onnx" or "torch", once loaded
        self.timings: dict[str, float] = {}  # ms: loading the encoder, building the ONNX folder
        self._onnx = None  # OnnxReportEncoder
        self._torch = None  # ReportModel

    def encode(self, text: str) -> np.ndarray:
        """The embedding ``[embed_dim]`` float32 of one text."""
        self._load()
        if self._onnx is not None:
            return self._onnx.encode([text])[0]
        return torch_encode(self._torch, [text])[0]

    def _load(self) -> None:
        if self.used is not None:
            return
        t0 = time.perf_counter()
        if self.backend != "torch" and self.device == "cpu":
            self._onnx = self._open_onnx()
        if self._onnx is None:
            self._torch = self._torch_model()
        self.used = "onnx" if self._onnx is not None else "torch"
        self.timings["load_text_model_ms"] = 1e3 * (time.perf_counter() - t0)

    def _open_onnx(self):
        """The ONNX encoder: the cached folder, else one built now (None when ``auto`` cannot build one)."""
        from ..model.report_onnx import EncoderCacheInvalid, OnnxReportEncoder

        try:
            return OnnxReportEncoder.load(self.folder, self.model_id, self.embed_dim)
        except FileNotFoundError:
            log.info("no ONNX report encoder for model %s yet: building it in %s (once per model)", self.model_id,
                     self.folder)
        except EncoderCacheInvalid as exc:
            log.warning("rebuilding the ONNX report encoder: %s", exc)
        t0 = time.perf_counter()
        try:
            from ..model.report_onnx_export import export_report_onnx

            export_report_onnx(self._torch_model(), self.folder, self.model_id)
            enc = OnnxReportEncoder.load(self.folder, self.model_id, self.embed_dim)
        except Exception as exc:  # the exporter raises many types; auto falls back, onnx must say why
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if self.backend == "onnx":
                raise ValueError(f"cannot build the ONNX report encoder of model {self.model_id}: {msg}") from None
            log.warning("text queries use the torch report tower (slower start): no ONNX encoder (%s)", msg)
            return None
        self.timings["build_onnx_ms"] = 1e3 * (time.perf_counter() - t0)
        self._torch = None  # the ONNX encoder answers from now on
        return enc

    def _torch_model(self):
        if self._torch is None:
            from ..model import load_report_model

            self._torch = load_report_model(self.model_dir, device=self.device)
        return self._torch


def torch_encode(model, texts: list[str]) -> np.ndarray:
    """Unit-length embeddings ``[B, embed_dim]`` float32 of ``texts`` by a torch model's report tower (an
    ``MRIClip`` or a ``ReportModel``), on one thread."""
    import torch

    with torch.inference_mode(), _one_thread(torch):
        z = model.encode_report({k: v.to(next(model.parameters()).device) for k, v in model.tokenize(texts).items()})
    return z.float().cpu().numpy()


@contextlib.contextmanager
def _one_thread(torch):
    """Run torch on one thread, restoring the setting after. One short query text is far too small a job to split:
    on a busy machine the threads wait on each other (measured on 2 cores at load 5: 490 ms on 2 threads, 10 ms
    on one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
