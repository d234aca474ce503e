"""mri-search's data folder on this machine (``$MRI_SEARCH_HOME``): the embedded index's default place, the model
registry, error reports, locators and the installation's identifier salt live under it."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "MRI_SEARCH_HOME"


def default_home() -> Path:
    """``$MRI_SEARCH_HOME``, else ``$XDG_DATA_HOME/mri-search``, else ``~/.local/share/mri-search``."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "mri-search"
