"""FastAPI dependencies: the running server's state, the query parameters shared by the search routes, and the
API-key check.

The dependencies are ``async def`` though they never wait: FastAPI runs a plain ``def`` dependency in its thread
pool, a hop per dependency and request, and these three hops cost more than the rest of the HTTP layer together
(``benchmarks.serve_latency``; docs/serve_results.md).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Optional

from fastapi import Depends, HTTPException, Query, Request

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
) -> QueryFilters:
    """The payload filters of ``mri-search query``."""
    try:
        return QueryFilters(sequences=tuple(sequence or ()), planes=tuple(plane or ()),
                            body_parts=tuple(body_part or ()), manufacturers=tuple(manufacturer or ()),
                            contrast=contrast)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


async def search_params(
    flt: Annotated[QueryFilters, Depends(filters)],
    q: Annotated[Optional[str], Query(description="what to find, in words")] = None,
    top_k: Annotated[int, Query(description="hits per page")] = 24,
    offset: Annotated[int, Query(description="hits skipped (pagination)")] = 0,
    group_by: Annotated[str, Query(description="none, study or patient")] = "none",
    target: Annotated[str, Query(description="images (series) or reports (studies)")] = "images",
) -> SearchParams:
    """The query state of the page's URL."""
    try:
        SearchParams(q=q, top_k=top_k, offset=offset, target=target, group_by=group_by, filters=flt)
        # filters are checked against the known sequence families and planes here, not in the middle of a search
        flt.to_filter("")
        return SearchParams(q=q, top_k=top_k, offset=offset, target=target, group_by=group_by, filters=flt)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


Params = Annotated[SearchParams, Depends(search_params)]
