"""FastAPI dependencies: the running server's state, the query parameters shared by the search routes, and the
API-key check.

The dependencies are ``async def`` though they never wait: FastAPI runs a plain ``def`` dependency in its thread
pool, a hop per dependency and request. Measured with ``benchmarks.serve_latency --seconds 20`` (10k points, 2
cores): making them async took what HTTP adds to a search at 8 clients from 13.0 to 9.0 ms p50; reading the query
string as one pydantic model (``SearchQuery``) took it at 1 client from 3.1 to 2.0 ms.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Optional

from fastapi import Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from ..query import QueryFilters
from .service import SearchParams, WebState

KEY_HEADER = "X-API-Key"
KEY_PARAM = "api_key"
KEY_COOKIE = "mri_search_key"


async def get_state(request: Request) -> WebState:
    """The server's ``WebState`` (set by the app factory)."""
    return request.app.state.web


State = Annotated[WebState, Depends(get_state)]


def key_of(request: Request) -> str | None:
    """The key a request carries: the header, the query parameter, or the cookie the page set."""
    return (request.headers.get(KEY_HEADER) or request.query_params.get(KEY_PARAM)
            or request.cookies.get(KEY_COOKIE))


def key_ok(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the given key with the server's."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def filters(
    sequence: Annotated[Optional[list[str]], Query(description="sequence families (repeat or comma list)")] = None,
    plane: Annotated[Optional[list[str]], Query(description="planes: axial, sagittal, coronal, oblique")] = None,
    body_part: Annotated[Optional[list[str]], Query(description="BodyPartExamined values")] = None,
    manufacturer: Annotated[Optional[list[str]], Query(description="scanner makers (ge, siemens, philips, ...)")
                            ] = None,
    contrast: Annotated[Optional[bool], Query(description="true: post-contrast only; false: pre-contrast only")
                        ] = None,
    report_region: Annotated[Optional[list[str]], Query(description="body regions as parsed from the report")
                             ] = None,
    tumour_site: Annotated[Optional[list[str]], Query(description="tumour sub-sites as parsed from the report")
                           ] = None,
) -> QueryFilters:
    """The payload filters of ``mri-search query``."""
    try:
        return _query_filters(sequence, plane, body_part, manufacturer, contrast, report_region, tumour_site)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def _query_filters(sequence, plane, body_part, manufacturer, contrast, report_region=None,
                   tumour_site=None) -> QueryFilters:
    """``QueryFilters`` from the query-string lists (None: no restriction)."""
    return QueryFilters(sequences=tuple(sequence or ()), planes=tuple(plane or ()), body_parts=tuple(body_part or ()),
                        manufacturers=tuple(manufacturer or ()), contrast=contrast,
                        report_regions=tuple(report_region or ()), tumour_sites=tuple(tumour_site or ()))


class SearchQuery(BaseModel):
    """The query string of the search routes, read and validated as one model (pydantic's core, not FastAPI's
    per-parameter loop)."""

    model_config = {"extra": "ignore"}

    q: Optional[str] = Field(None, description="what to find, in words")
    top_k: int = Field(24, description="hits per page")
    offset: int = Field(0, description="hits skipped (pagination)")
    group_by: str = Field("none", description="none, study or patient")
    target: str = Field("images", description="images (series) or reports (studies)")
    sequence: Optional[list[str]] = Field(None, description="sequence families (repeat or comma list)")
    plane: Optional[list[str]] = Field(None, description="planes: axial, sagittal, coronal, oblique")
    body_part: Optional[list[str]] = Field(None, description="BodyPartExamined values")
    manufacturer: Optional[list[str]] = Field(None, description="scanner makers (ge, siemens, philips, ...)")
    contrast: Optional[bool] = Field(None, description="true: post-contrast only; false: pre-contrast only")
    report_region: Optional[list[str]] = Field(None, description="body regions as parsed from the report")
    tumour_site: Optional[list[str]] = Field(None, description="tumour sub-sites as parsed from the report")


async def search_params(query: Annotated[SearchQuery, Query()]) -> SearchParams:
    """The query state of the page's URL."""
    try:
        flt = _query_filters(query.sequence, query.plane, query.body_part, query.manufacturer, query.contrast,
                             query.report_region, query.tumour_site)
        p = SearchParams(q=query.q, top_k=query.top_k, offset=query.offset, target=query.target,
                         group_by=query.group_by, filters=flt)
        flt.to_filter("")  # filters are checked against the known sequence families and planes here, not mid-search
        return p
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


Params = Annotated[SearchParams, Depends(search_params)]
