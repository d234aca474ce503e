"""The one reader of an artifact folder's JSON config: model, decoder and probe folders alike.

An artifact folder holds a JSON config (with an integer ``format_version``) and the files it describes. Every
folder is checked the same way and refused with one ``ArtifactError`` line a user can act on: the folder is
missing, a file is missing, the config is not JSON, has no format version, is of a newer format than this
mri-search reads, or lacks a key every reader needs. Torch-free: a text query reads a model folder's config
without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


class ArtifactError(ValueError):
    """A folder that is not the artifact it should be: missing, incomplete, corrupt or of a newer format."""


def read_config(folder: str | os.PathLike, kind: str, version: int, config: str = "config.json",
                files: tuple[str, ...] = (), required: tuple[str, ...] = (), hint: str = "") -> dict:
    """The parsed config of the ``kind`` folder ``folder``, checked.

    Args:
        folder: the artifact folder.
        kind: what it should be, for messages: ``model``, ``decoder``, ``probe``.
        version: the newest format version this code reads.
        config: the config file's name inside the folder.
        files: the other files the folder must hold (its weights).
        required: keys every reader of the config needs.
        hint: what to pass instead, appended to the messages of a missing folder or file
            (``"pass the --out of `mri-search probe train`"``).

    Raises:
        ArtifactError: with the reason (the folder or a file missing, corrupt JSON, no or a newer format version,
            missing keys).
    """
    folder = Path(folder)
    tail = f"; {hint}" if hint else ""
    if not folder.is_dir():
        raise ArtifactError(f"{folder} is not a {kind} folder: it does not exist{tail}")
    for name in (config, *files):
        if not (folder / name).is_file():
            raise ArtifactError(f"{folder} is not a {kind} folder: {name} is missing{tail}")
    path = folder / config
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path} is corrupt: {exc}") from None
    found = meta.get("format_version") if isinstance(meta, dict) else None
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise ArtifactError(f"{path} has no format_version (a positive integer): not an mri-search {kind} folder")
    if found > version:
        raise ArtifactError(f"{folder} has {kind} format {found}, newer than this mri-search reads ({version}); "
                            "upgrade mri-search")
    missing = [k for k in required if k not in meta]
    if missing:
        raise ArtifactError(f"{path} is corrupt: missing {missing}")
    return meta
