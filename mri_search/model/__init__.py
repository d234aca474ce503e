"""The model: a 3D MRI image tower and a report tower in one embedding space, and its saved folder format.

Configs and presets import instantly; the torch-backed pieces load on first use so ``mri-search --help`` stays fast.

    from mri_search.model import get_preset, build_model, save_model, load_model
    model = build_model(get_preset("vit-s-cpu"))
"""

from __future__ import annotations

import importlib

from .config import ModelCfg, TextCfg, VisionCfg, get_preset, list_presets

_LAZY = {
    "MRIClip": "model", "build_model": "model",
    "VisionEncoder": "vision", "ReportEncoder": "text",
    "save_model": "artifact", "load_model": "artifact", "model_identity": "identity", "LoadedModel": "artifact",
    "ReportModel": "model", "load_report_model": "artifact", "export_model": "artifact",
    "load_image_tower": "artifact",
}

__all__ = ["ModelCfg", "TextCfg", "VisionCfg", "get_preset", "list_presets", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
