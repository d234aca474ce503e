"""Queries: text or an MRI series in, ranked series or studies of a collection out (``mri-search query``).

    from mri_search.query import Searcher, QueryFilters
    with Searcher.open() as s:                              # the embedded index in the default folder
        for hit in s.search_text("coronal STIR of the knee", filters=QueryFilters(planes=("coronal",))):
            print(hit.rank, hit.score, hit.sequence, hit.plane, hit.impression, hit.path)

``searcher.py`` holds ``Searcher`` and ``QueryHit``; ``filters.py`` the user's restrictions as store filters;
``grouping.py`` one hit per study; ``resolve.py`` which collection and model; ``thumbs.py`` the PNGs;
``output.py`` the table and JSON; ``text_encoder.py`` text to vector (ONNX, else torch). Torch is imported only
for image queries and to build a model's ONNX text encoder, once.
"""

from __future__ import annotations

from .filters import QueryFilters
from .searcher import QueryHit, Searcher, read_series

__all__ = ["QueryFilters", "QueryHit", "Searcher", "read_series"]
