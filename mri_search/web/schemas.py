"""Pydantic response models of the JSON API. A hit carries the fields of ``mri-search query --json``
(``QueryHit.to_dict``), its ``path`` shown relative to the archive root, plus the URLs the page uses."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HitOut(BaseModel):
    """One result (a series; for report search, the best series of a study)."""

    rank: int = Field(description="1 = best (across pages: offset + position)")
    score: float = Field(description="cosine similarity of the query and the searched vector")
    id: str = Field(description="point id in the collection")
    series_key: str
    study_key: str
    sequence: str
    plane: str
    body_part: str
    manufacturer: str
    series_description: str
    impression: str = Field(description="the study report's impression, shortened")
    path: str = Field(description="the series' first file, relative to the archive root")
    thumbnail_url: str
    series_url: str = Field(description="the series' API record")
    viewer_url: str | None = Field(None, description="the series in a DICOMweb viewer, where the index has one")


class SearchOut(BaseModel):
    """A ranked page of hits, with the query as understood."""

    query: str | None
    image: str | None = Field(None, description="what an image query searched with (an upload's name)")
    similar_to: str | None = Field(None, description="the series key of a 'more like this' query")
    target: str
    collection: str
    model_id: str
    model_name: str
    text_encoder: str | None
    filters: dict | None = Field(description="the store filter the query ran with")
    group_by: str
    top_k: int
    offset: int
    timings_ms: dict[str, float]
    notes: list[str] = Field(default_factory=list, description="what was left out of an upload, and why")
    hits: list[HitOut]


class FacetValue(BaseModel):
    value: str
    count: int


class FacetsOut(BaseModel):
    """Counts of series per value of each facet, under the other facets' filters."""

    total: int
    facets: dict[str, list[FacetValue]]


class SeriesOut(BaseModel):
    """One indexed series: its payload, report sections and what the viewer needs."""

    hit: HitOut
    payload: dict = Field(description="everything stored with the point (paths relative to the archive root)")
    report: dict[str, str] = Field(description="the study report's sections (empty without a report)")
    slices: dict[str, int] | None = Field(description="slices per plane of the viewer volume (None: unreadable)")
    problem: str = Field("", description="why the series cannot be shown, if it cannot")
    window_presets: dict[str, tuple[float, float]]


class HealthOut(BaseModel):
    status: str
    model_name: str
    model_id: str
    collection: str
    points: int
    store: str = Field(description="embedded or server")
    text_encoder: str | None
