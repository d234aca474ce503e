"""Hits as the API returns them."""

from __future__ import annotations

from urllib.parse import quote

from ...query import QueryHit
from ...query.viewer import viewer_link
from ..schemas import HitOut
from ..service import WebState


def hit_out(state: WebState, hit: QueryHit) -> HitOut:
    """``QueryHit.to_dict()`` (the fields of ``query --json``) with the path shown relative to the archive root
    and the URLs of its thumbnail and record."""
    d = hit.to_dict()
    d["path"] = state.shown_path(hit.path)
    key = quote(hit.series_key, safe="")
    d["viewer_url"] = viewer_link(state.cfg.viewer_url, hit.payload)
    return HitOut(**d, thumbnail_url=f"/api/series/{key}/thumbnail.png", series_url=f"/api/series/{key}")
