"""The decoder folder: ``config.json`` + ``decoder.safetensors``, one ``save_decoder`` / ``load_decoder`` pair.

``config.json`` holds the task, the decoder and training configs, the structure classes (with their label values),
the preprocessing, the encoder it sits on and the metrics of its training. The frozen trained encoder is not
copied: the folder names its model folder and model identity, and loading refuses a model folder whose identity
differs (``--model`` points to a moved one). A random encoder (the baseline) is stored with the decoder, since
nothing else could rebuild it exactly; the UNet baseline has no encoder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from ..atomic import atomic_path, atomic_write_text
from ..configs import build_config
from ..preprocess import PreprocessConfig
from .config import CONFIG_NAME, FORMAT_VERSION, WEIGHTS_NAME, DecoderCfg, FitCfg, read_meta
from .nets import build_net, trainable_state
from .structures import StructureSet



@dataclass
class LoadedDecoder:
    """A decoder ready to predict."""

    net: nn.Module  # eval mode
    cfg: DecoderCfg
    preprocess: PreprocessConfig  # the preprocessing of its encoder (the UNet baseline: the one it trained on)
    structures: StructureSet | None  # segmentation classes (None for localisation)
    meta: dict = field(default_factory=dict)  # the whole config.json

    @property
    def task(self) -> str:
        """``segment`` or ``localize``."""
        return self.cfg.task


def save_decoder(folder: Path, net: nn.Module, cfg: DecoderCfg, fit: FitCfg, preprocess: PreprocessConfig,
                 structures: StructureSet | None, encoder: dict, metrics: dict | None = None) -> Path:
    """Write a decoder folder.

    Args:
        folder: destination (created).
        net: the trained network.
        cfg: its decoder config.
        fit: how it was trained.
        preprocess: the preprocessing its inputs went through.
        structures: segmentation classes, or None.
        encoder: ``{"model_cfg": ModelCfg dict, "folder": str, "identity": str}`` for a trained encoder,
            ``{"model_cfg": ...}`` for a random one, ``{}`` for none.
        metrics: training metrics lines and anything else JSON-ready.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in trainable_state(net, cfg.encoder == "random").items()}
    meta = {"format_version": FORMAT_VERSION, "task": cfg.task, "decoder": cfg.to_dict(), "fit": fit.to_dict(),
            "preprocess": preprocess.to_dict(), "structures": structures.to_dict() if structures else None,
            "encoder": encoder, "metrics": metrics or {}}
    with atomic_path(folder / WEIGHTS_NAME) as tmp:  # a killed run leaves the old file or none, never half of one
        save_file(state, str(tmp), metadata={"format": "pt"})
    atomic_write_text(folder / CONFIG_NAME, json.dumps(meta, indent=2) + "\n")  # last: a config means complete weights
    return folder


def load_decoder(folder: str | os.PathLike, model: str | os.PathLike | None = None) -> LoadedDecoder:
    """Rebuild a saved decoder (and its frozen encoder) from its folder.

    Args:
        folder: the decoder folder.
        model: the encoder's model folder, when it moved since training (default: the recorded one).

    Raises:
        ValueError: not a decoder folder, corrupt weights, or an encoder folder that is missing or differs.
    """
    from safetensors.torch import load_file

    from ..model import ModelCfg
    from ..model.vision import VisionEncoder

    folder = Path(folder)
    meta = read_meta(folder)
    cfg = build_config(DecoderCfg, meta["decoder"], "decoder config")
    pre = PreprocessConfig.from_dict(meta["preprocess"])
    structures = StructureSet.from_dict(meta["structures"]) if meta.get("structures") else None
    out_channels = structures.num_classes if cfg.task == "segment" else 1
    enc_meta = meta.get("encoder") or {}
    encoder = None
    if cfg.encoder == "trained":
        from ..model import load_image_tower, model_identity

        src = Path(model or enc_meta.get("folder", ""))
        if not (src / "config.json").is_file():
            raise ValueError(f"the decoder's encoder model folder {src} is not there; pass --model")
        if model_identity(src) != enc_meta.get("identity"):
            raise ValueError(f"model folder {src} is not the encoder this decoder was trained on (identity "
                             f"{model_identity(src)} != {enc_meta.get('identity')})")
        encoder = load_image_tower(src)[0]
    elif cfg.encoder == "random":
        mc = ModelCfg.from_dict(enc_meta["model_cfg"])
        encoder = VisionEncoder(mc.vision, mc.embed_dim)
    net = build_net(cfg, out_channels, encoder)
    try:
        state = load_file(str(folder / WEIGHTS_NAME))
    except Exception as exc:  # noqa: BLE001 - safetensors has its own error types
        raise ValueError(f"{folder / WEIGHTS_NAME} is missing or corrupt: {exc}") from None
    expected = set(trainable_state(net, cfg.encoder == "random"))
    if set(state) != expected:
        raise ValueError(f"{folder / WEIGHTS_NAME} does not match its config: missing "
                         f"{sorted(expected - set(state))[:3]}, unexpected {sorted(set(state) - expected)[:3]}")
    net.load_state_dict(state, strict=False)  # the frozen trained encoder's weights came with load_model
    return LoadedDecoder(net=net.eval(), cfg=cfg, preprocess=pre, structures=structures, meta=meta)


def encoder_record(model_folder: Path | None, model_cfg_dict: dict | None, kind: str) -> dict:
    """The ``encoder`` entry of ``config.json`` for a decoder on a ``kind`` encoder."""
    if kind == "none":
        return {}
    if kind == "random":
        return {"model_cfg": model_cfg_dict}
    from ..model import model_identity

    return {"model_cfg": model_cfg_dict, "folder": str(Path(model_folder).resolve()),
            "identity": model_identity(model_folder)}
