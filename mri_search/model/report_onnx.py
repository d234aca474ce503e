"""The report tower as an ONNX graph, run by onnxruntime: text in, embedding out, without torch.

A text query needs only the tokenizer and the report tower, but importing torch and transformers takes seconds of
a query's start-up. ``report_onnx_export.export_report_onnx`` writes the tower of one model (the backbone as that
model tuned it, masked mean pooling, projection, L2 normalisation) once to a folder; ``OnnxReportEncoder`` runs it
with ``tokenizers`` and ``onnxruntime`` alone (this module imports neither torch nor transformers). The folder::

    report.onnx      input_ids, attention_mask [B, L] int64 -> embedding [B, D] float32, unit length
    tokenizer.json   the backbone's tokenizer (a copy: the folder answers alone)
    encoder.json     format, model identity, embed_dim, max_tokens, padding token, sha256 of both files, and the
                     largest difference to the torch tower measured when the folder was written

Loading checks the identity and both hashes (on the very bytes it then uses), so a damaged or swapped file is
refused (``EncoderCacheInvalid``), never run; so is a folder checked under other versions of the two libraries
that run it (``RUNTIME_LIBS``), since the check vouches only for the pair it ran with.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

CACHE_FORMAT = 1  # bump when the graph's inputs, outputs or export wrapper change
ONNX_NAME = "report.onnx"
TOKENIZER_NAME = "tokenizer.json"
INFO_NAME = "encoder.json"
RUNTIME_LIBS = ("onnxruntime", "tokenizers")  # what runs the folder: recorded at writing, compared at loading


class EncoderCacheInvalid(ValueError):
    """An ONNX report-encoder folder exists but cannot be trusted (damaged, of another model or format)."""


def runtime_versions() -> dict[str, str | None]:
    """Installed versions of ``RUNTIME_LIBS``."""
    from importlib import metadata

    out = {}
    for dist in RUNTIME_LIBS:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class OnnxReportEncoder:
    """Texts -> unit-length report embeddings ``[B, embed_dim]``, as the model's torch report tower gives them.

    Build it with ``OnnxReportEncoder.load(folder, model_id)``; the constructor takes the files' contents.

    Args:
        onnx_bytes: the serialised graph.
        tokenizer_json: the tokenizer's JSON.
        max_tokens: truncation length (the model's ``text.max_tokens``, special tokens included).
        pad_id: id of the padding token; pad_token: its text.
        threads: onnxruntime intra-op threads (one: a query text is far too small a job to split).
    """

    def __init__(self, onnx_bytes: bytes, tokenizer_json: str, max_tokens: int, pad_id: int, pad_token: str,
                 threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.max_tokens = int(max_tokens)
        tok = Tokenizer.from_str(tokenizer_json)
        # as the torch path's tokenizer call: truncation=True, max_length=max_tokens, padding to the longest text
        tok.no_truncation()
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_tokens)
        tok.enable_padding(pad_id=int(pad_id), pad_token=str(pad_token))
        self.tokenizer = tok
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # errors only: the optimiser's notes are not the user's business
        self.session = ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])
        self.embed_dim = int(self.session.get_outputs()[0].shape[-1])

    @classmethod
    def load(cls, folder: str | Path, model_id: str, embed_dim: int | None = None) -> "OnnxReportEncoder":
        """The encoder written to ``folder`` for model ``model_id``.

        Raises:
            FileNotFoundError: no encoder there. ``EncoderCacheInvalid``: one that is damaged, of another model or
                cache format, or whose files do not match their recorded sha256.
        """
        folder = Path(folder)
        info_path = folder / INFO_NAME
        if not info_path.is_file():
            raise FileNotFoundError(f"no ONNX report encoder in {folder}")
        try:
            info = json.loads(info_path.read_text())
            files = info["files"]
            fmt, mid = info["format"], info["model_id"]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise EncoderCacheInvalid(f"{info_path} is unreadable ({exc})") from None
        if fmt != CACHE_FORMAT or mid != model_id:
            raise EncoderCacheInvalid(f"{folder} holds an encoder of format {fmt} for model {mid}, not format "
                                      f"{CACHE_FORMAT} for model {model_id}")
        now = runtime_versions()
        then = {k: (info.get("versions") or {}).get(k) for k in RUNTIME_LIBS}
        if then != now:
            raise EncoderCacheInvalid(f"{folder} was checked with {then}, not the installed {now}")
        if embed_dim is not None and info.get("embed_dim") != embed_dim:
            raise EncoderCacheInvalid(f"{folder} embeds into {info.get('embed_dim')} dimensions, not {embed_dim}")
        data = {}
        for name in (ONNX_NAME, TOKENIZER_NAME):
            try:
                data[name] = (folder / name).read_bytes()
            except OSError as exc:
                raise EncoderCacheInvalid(f"{folder / name} is unreadable ({exc})") from None
            if sha256_bytes(data[name]) != files.get(name):
                raise EncoderCacheInvalid(f"{folder / name} does not match its recorded sha256 (damaged or "
                                          "replaced)")
        try:
            enc = cls(data[ONNX_NAME], data[TOKENIZER_NAME].decode("utf-8"), info["max_tokens"], info["pad_id"],
                      info["pad_token"])
        except Exception as exc:  # onnxruntime and tokenizers raise their own error types
            raise EncoderCacheInvalid(f"{folder} cannot be loaded ({str(exc).splitlines()[0] if str(exc) else exc!r})"
                                      ) from None
        if enc.embed_dim != info.get("embed_dim"):
            raise EncoderCacheInvalid(f"{folder / ONNX_NAME} outputs {enc.embed_dim} dimensions, its record says "
                                      f"{info.get('embed_dim')}")
        return enc

    def tokenize(self, texts: list[str]) -> dict[str, np.ndarray]:
        """``{"input_ids", "attention_mask"}``, each ``[B, L]`` int64: the ids the torch tower's tokenizer gives."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise ValueError("tokenize expects a list of strings")
        if not texts:
            raise ValueError("tokenize needs at least one text")
        enc = self.tokenizer.encode_batch(list(texts))
        return {"input_ids": np.asarray([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.asarray([e.attention_mask for e in enc], dtype=np.int64)}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings ``[B, embed_dim]`` float32 of ``texts``."""
        tokens = self.tokenize(texts)
        return self.session.run(None, tokens)[0]
