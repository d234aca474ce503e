"""Series -> points: the one place an embedded series becomes what a collection stores (its id, its two named
vectors, its payload). ``mri-search index`` and the indexing benchmarks all write through it, so a benchmark times
the indexer's own step."""

from __future__ import annotations

from collections.abc import Mapping

from ..ingest.records import ParsedReport, SeriesRecord
from .base import Point
from .layout import IMAGE, REPORT, point_id
from .payload import build_payload


def series_point(rec: SeriesRecord, image, report_vector, report: ParsedReport | None, model_id: str,
                 keep_phi: bool = False) -> Point:
    """The point of one series: id from (model identity, series key), the ``image`` vector, the ``report`` vector
    when the study has a report (``report_vector`` not None), and the payload (``store.payload``)."""
    vectors = {IMAGE: _floats(image)}
    if report_vector is not None:
        vectors[REPORT] = _floats(report_vector)
    return Point(id=point_id(model_id, rec.key), vectors=vectors, payload=build_payload(rec, report, keep_phi))


def batch_points(batch, model_id: str, reports: Mapping[str, ParsedReport], keep_phi: bool = False) -> list[Point]:
    """The points of an embedded batch (``mri_search.embed.embed_series``: ``records``, ``image``, ``report``)."""
    return [series_point(rec, img, rep, reports.get(rec.study_key), model_id, keep_phi)
            for rec, img, rep in zip(batch.records, batch.image, batch.report)]


def _floats(v) -> list[float]:
    return v.tolist() if hasattr(v, "tolist") else [float(x) for x in v]
