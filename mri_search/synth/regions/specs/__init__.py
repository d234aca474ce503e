"""The registry of body regions: region name -> ``RegionSpec``, in the generator's region order.

Adding a region: its phantom ``regions/<name>.py``, its spec ``specs/<name>.py`` (``SPEC = RegionSpec(...)``) and
its name in ``_NAMES`` below. Values follow ``data/protocols.csv``, ``data/sequences.csv``,
``data/head_neck_tumours.csv`` and ``data/other_lesions.csv``; ``regions/spec.py`` says what each field means.
"""

from __future__ import annotations

import importlib

from ..spec import RegionSpec

_NAMES = ("brain", "head_neck", "spine", "breast", "chest", "abdomen", "pelvis", "knee", "shoulder")

SPECS: dict[str, RegionSpec] = {name: importlib.import_module(f"{__name__}.{name}").SPEC for name in _NAMES}
