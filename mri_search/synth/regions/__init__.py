"""Body regions: what each declares (``RegionSpec``, registered in ``specs/``) and the phantom that paints it.

``REGIONS`` is the generator's region order; ``region_spec`` / ``subregion_spec`` look a spec up by name and
``region_module`` imports the phantom module of a region (see ``base.py`` for its contract).
"""

from __future__ import annotations

import importlib

from .spec import RegionSpec, Subregion
from .specs import SPECS

REGIONS: tuple[str, ...] = tuple(SPECS)
SUBREGIONS: dict[str, Subregion] = {sub.name: sub for spec in SPECS.values() for sub in spec.subregions}


def region_spec(region: str) -> RegionSpec:
    """The spec of ``region``; a clear error for an unknown name."""
    if region not in SPECS:
        raise ValueError(f"unknown body region {region!r}; choose from {', '.join(REGIONS)}")
    return SPECS[region]


def subregion_spec(subregion: str) -> Subregion:
    """The protocol variant ``subregion`` (e.g. "lumbar_spine", "cardiac")."""
    if subregion not in SUBREGIONS:
        raise ValueError(f"unknown subregion {subregion!r}; choose from {', '.join(SUBREGIONS)}")
    return SUBREGIONS[subregion]


def region_module(region: str):
    """The phantom module that builds ``region``; a clear error for an unknown name."""
    return importlib.import_module(f"{__name__}.{region_spec(region).name}")
