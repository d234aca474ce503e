"""``verify_collection``: every point of a collection checked, and the damaged ones dropped on request.

A point is damaged when it cannot be an mri-search point (``integrity.point_problem``: a missing or wrong-sized
vector, a non-finite or non-unit one, a payload without its keys). The engine itself may fail to read its files (a
truncated vector file): the whole collection is then unreadable, which is reported as such. With a Parquet export
the two are compared: rows missing from the collection, and points the export does not hold.

Repairing is dropping the damaged points (``repair=True``); an index run over the archive then embeds them again
(it verifies points before it skips them as present), which ``mri-search verify --repair --archive`` does next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .integrity import StoreDamaged, point_problem

SHOWN = 10  # damaged points listed by name in the report


@dataclass
class VerifyReport:
    """What ``verify_collection`` found."""

    collection: str
    location: str
    points: int = 0  # points read
    damaged: dict[str, str] = field(default_factory=dict)  # point id -> why
    unreadable: str | None = None  # the engine could not read the collection (then nothing else was checked)
    parquet_rows: int | None = None
    missing_from_store: int = 0  # Parquet rows whose point is not in the collection
    missing_from_parquet: int = 0  # points the Parquet export does not hold
    dropped: int = 0  # damaged points deleted (repair)

    @property
    def ok(self) -> bool:
        return self.unreadable is None and not self.damaged and not self.missing_from_store

    def lines(self) -> list[str]:
        out = [f"collection {self.collection} in {self.location}: {self.points} points read"]
        if self.unreadable:
            out.append(f"UNREADABLE: {self.unreadable}")
            return out
        if self.damaged:
            out.append(f"DAMAGED: {len(self.damaged)} points" + (f", {self.dropped} dropped" if self.dropped else ""))
            out += [f"  {pid}: {why}" for pid, why in list(self.damaged.items())[:SHOWN]]
            if len(self.damaged) > SHOWN:
                out.append(f"  ... and {len(self.damaged) - SHOWN} more")
        if self.parquet_rows is not None:
            out.append(f"parquet: {self.parquet_rows} rows; {self.missing_from_store} not in the collection, "
                       f"{self.missing_from_parquet} points not in the parquet")
        out.append("ok" if self.ok else "problems found")
        return out

    def to_dict(self) -> dict:
        return {**{k: getattr(self, k) for k in ("collection", "location", "points", "unreadable", "parquet_rows",
                                                 "missing_from_store", "missing_from_parquet", "dropped")},
                "damaged": self.damaged, "ok": self.ok}


def verify_collection(store, name: str, parquet: str | Path | None = None, repair: bool = False) -> VerifyReport:
    """Check every point of collection ``name`` in ``store`` (and its Parquet export); drop damaged ones if
    ``repair``.

    Raises:
        ValueError: no such collection (or one that is not mri-search's), an unreadable Parquet file.
    """
    col = store.open_collection(name)
    report = VerifyReport(collection=name, location=store.location)
    dim = col.meta.embed_dim
    ids: set[str] = set()
    try:
        for p in col.scroll(with_vectors=True):
            ids.add(p.id)
            why = point_problem(p, dim)
            if why is not None:
                report.damaged[p.id] = why
    except StoreDamaged as exc:
        report.unreadable = str(exc)
        return report
    report.points = len(ids)
    if parquet is not None:
        from .parquet import read_points

        rows = {p.id for p in read_points(parquet)}
        report.parquet_rows = len(rows)
        report.missing_from_store = len(rows - ids)
        report.missing_from_parquet = len(ids - rows)
    if repair and report.damaged:
        col.delete(sorted(report.damaged))
        col.flush()
        report.dropped = len(report.damaged)
    return report
