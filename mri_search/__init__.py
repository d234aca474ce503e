"""mri-search: find MRI scans by what they show.

The core library: archive I/O, the synthetic archive generator, preprocessing, encoders, the model artifact,
the vector store, queries and metrics. ``pretrain``, ``indexer`` and ``benchmarks`` build on it; the Typer CLI
(``mri_search.cli``) composes them and nothing imports it. ``ARCHITECTURE.md`` maps the packages.

The public API, imported on first use (so that ``import mri_search`` and ``mri-search --help`` stay instant)::

    from mri_search import Searcher, load_model, scan_archive
    with Searcher.open() as s:
        hits = s.search_text("sagittal T2 of the lumbar spine")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> the module that defines it
_LAZY = {
    "load_model": "mri_search.model.artifact",  # a model folder -> the model and its exact preprocessing
    "save_model": "mri_search.model.artifact",  # the inverse
    "Searcher": "mri_search.query.searcher",  # queries against one collection
    "QueryFilters": "mri_search.query.filters",  # payload restrictions of a query
    "scan_archive": "mri_search.ingest.archive",  # an archive -> its series, reports and skipped files
}

__all__ = ["QueryFilters", "Searcher", "__version__", "load_model", "save_model", "scan_archive"]  # = _LAZY + version

if TYPE_CHECKING:
    from .ingest.archive import scan_archive
    from .model.artifact import load_model, save_model
    from .query.filters import QueryFilters
    from .query.searcher import Searcher


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'mri_search' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
