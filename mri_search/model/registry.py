"""Where the model of a collection lives: a small registry of model folders, written by index runs.

A collection records only its model's identity (``CollectionMeta.model_id``). To embed a query in the same space,
``mri-search query`` needs that model's folder: every index run registers its folder here, so a later query finds
it without ``--model``. The registry is one JSON file, ``<home>/models.json`` (``$MRI_SEARCH_HOME``, see
``mri_search.store.default_home``)::

    {"version": 1, "models": {"<identity>": {"path": "/abs/folder", "name": "vit-s-cpu",
                                             "stat": [weights size, weights mtime_ns, config mtime_ns]}}}

An entry is trusted while its files are unchanged (the recorded sizes and times); otherwise the folder's identity
is computed again and a folder that no longer holds that model is not returned.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from pathlib import Path

from ..atomic import atomic_write_text

log = logging.getLogger(__name__)

REGISTRY_NAME = "models.json"
VERSION = 1
LOCK_WAIT_S = 5.0  # longest wait for another process's registry update (it takes milliseconds)


def registry_path() -> Path:
    """``<home>/models.json``."""
    from ..store import default_home

    return default_home() / REGISTRY_NAME


def _stat(folder: Path) -> list[int]:
    w, c = (folder / "model.safetensors").stat(), (folder / "config.json").stat()
    return [w.st_size, w.st_mtime_ns, c.st_mtime_ns]


def _read(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("ignoring the unreadable model registry %s: %s", path, exc)
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    return {k: v for k, v in models.items() if isinstance(v, dict) and "path" in v} if isinstance(models, dict) \
        else {}


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock beside the registry, waited for at most ``LOCK_WAIT_S``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the model registry {path} stayed locked for {LOCK_WAIT_S:g} s") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def register_model(folder: str | os.PathLike, model_id: str | None = None, path: Path | None = None,
                   meta: dict | None = None) -> str:
    """Record that the model ``model_id`` (computed when not given) lives in ``folder``.

    Args:
        folder: a model folder (``save_model`` format).
        model_id: its ``model_identity``, when the caller has it already.
        path: the registry file (default ``registry_path()``).
        meta: the folder's ``read_meta``, when the caller has read it already.

    Returns:
        The model identity.

    Raises:
        ValueError: ``folder`` is not a model folder; OSError / TimeoutError: the registry cannot be written.
    """
    from .identity import model_identity, read_meta

    folder = Path(folder).expanduser().resolve()
    meta = read_meta(folder) if meta is None else meta
    model_id = model_id or model_identity(folder, meta)
    path = path or registry_path()
    entry = {"path": str(folder), "name": str(meta["model"].get("name", "")), "stat": _stat(folder)}
    with _locked(path):
        models = _read(path)
        if models.get(model_id) == entry:
            return model_id
        models[model_id] = entry
        atomic_write_text(path, json.dumps({"version": VERSION, "models": models}, indent=2, sort_keys=True) + "\n")
    log.debug("registered model %s at %s in %s", model_id, folder, path)
    return model_id


def find_model(model_id: str, path: Path | None = None) -> Path | None:
    """The registered folder of model ``model_id``, or None when none is registered or it no longer holds that
    model (moved, deleted, overwritten by another training run)."""
    from .identity import model_identity

    entry = _read(path or registry_path()).get(model_id)
    if entry is None:
        return None
    folder = Path(entry["path"])
    try:
        if entry.get("stat") == _stat(folder):
            return folder
        return folder if model_identity(folder) == model_id else None
    except (OSError, ValueError):
        return None
