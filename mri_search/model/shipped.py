"""The model shipped inside the package, used when a command is given no ``--model``.

It lives in ``mri_search/model/default/`` (a model folder: ``config.json`` + ``model.safetensors``). Until a trained
model is shipped there, ``default_model_dir()`` returns None and commands ask for ``--model DIR``.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent / "default"


def default_model_dir() -> Path | None:
    """The shipped model folder, or None when no model is shipped (no ``default/config.json``)."""
    return DEFAULT_DIR if (DEFAULT_DIR / "config.json").is_file() else None
