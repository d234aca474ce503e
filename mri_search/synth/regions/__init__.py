"""Body-region phantoms. ``REGIONS`` maps each canonical region to its module (see ``base.py``)."""

from __future__ import annotations

import importlib

REGIONS: tuple[str, ...] = ("brain", "head_neck", "spine", "breast", "chest", "abdomen", "pelvis", "knee",
                            "shoulder")


def region_module(region: str):
    """The module that builds ``region``; a clear error for an unknown name."""
    if region not in REGIONS:
        raise ValueError(f"unknown body region {region!r}; choose from {', '.join(REGIONS)}")
    return importlib.import_module(f"{__name__}.{region}")
