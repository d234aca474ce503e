"""Thumbnails of query hits, so that a person sees what came back: one PNG per hit with the mid-slices of the
three planes, and a contact sheet of the whole result.

Each hit's series is read again from where the locator says its files are (``mri_search.store.locator``; the
payload's path, de-identified by default, is only a label) and preprocessed with the model's own
preprocessing, so a thumbnail shows exactly what the model saw (RAS volume, model spacing and size). Slices are
drawn in radiological convention (patient's right on the viewer's left, anterior / superior up). A series that
cannot be read any more (moved, deleted, unreadable) gets a tile saying why, so the sheet keeps the ranking.
Drawing uses matplotlib's object API on the Agg canvas (no pyplot state, no display needed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .searcher import QueryHit

log = logging.getLogger(__name__)

TILE_W, TILE_H, DPI = 480, 200, 100  # pixels of one hit's PNG: three 160-px panels and a caption
SHEET_COLUMNS = 3  # hits per row of the contact sheet
SHEET_NAME = "contact_sheet.png"


@dataclass
class Thumbnails:
    """What ``write_thumbnails`` wrote."""

    paths: list[Path]  # one PNG per hit, in rank order
    sheet: Path | None  # the contact sheet (None without hits)
    unreadable: dict[int, str] = field(default_factory=dict)  # rank -> why its series could not be drawn


def mid_slices(volume: np.ndarray) -> dict[str, np.ndarray]:
    """The three central slices of a RAS volume ``[X, Y, Z]``, oriented for display (rows top to bottom)."""
    x, y, z = (s // 2 for s in volume.shape)
    return {
        "axial": volume[:, :, z].T[::-1, ::-1],  # rows: anterior at the top; columns: patient's right on the left
        "coronal": volume[:, y, :].T[::-1, ::-1],  # rows: superior at the top; columns: right on the left
        "sagittal": volume[x, :, :].T[::-1, ::-1],  # rows: superior at the top; columns: anterior on the left
    }


def caption(hit: QueryHit) -> str:
    """One line naming the hit (a series looked up by key, rank 0, has no rank or score to show)."""
    what = " ".join(v for v in (hit.sequence, hit.plane, hit.body_part) if v)
    ranked = f"#{hit.rank}  {hit.score:.3f}  " if hit.rank > 0 else ""
    return f"{ranked}{what}  {hit.series_description}"[:80]


def render_tile(hit: QueryHit, volume: np.ndarray | None, out, problem: str = ""):
    """Write one hit's PNG (``TILE_W`` x ``TILE_H`` pixels): its three mid-slices, or the reason there are none.
    ``out``: a path, or a binary file object (``io.BytesIO``); returned."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(TILE_W / DPI, TILE_H / DPI), dpi=DPI, facecolor="black")
    FigureCanvasAgg(fig)
    fig.text(0.01, 0.96, caption(hit), color="white", fontsize=8, va="top", ha="left", family="monospace")
    if volume is None:
        fig.text(0.5, 0.45, f"not readable: {problem}"[:90], color="orange", fontsize=7, ha="center", va="center",
                 wrap=True)
    else:
        lo, hi = np.percentile(volume, [1.0, 99.5])
        for i, (plane, img) in enumerate(mid_slices(volume).items()):
            ax = fig.add_axes((i / 3 + 0.005, 0.02, 1 / 3 - 0.01, 0.82))
            ax.imshow(img, cmap="gray", vmin=float(lo), vmax=float(max(hi, lo + 1e-6)), interpolation="nearest",
                      aspect="equal")
            ax.set_axis_off()
            ax.text(0.02, 0.02, plane, color="yellow", fontsize=7, transform=ax.transAxes)
    if isinstance(out, Path):
        out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor="black", format="png")
    return out


def contact_sheet(tiles: list[Path], out: Path, columns: int = SHEET_COLUMNS) -> Path:
    """The tiles on one PNG, ``columns`` per row, in rank order."""
    from PIL import Image

    cols = max(1, min(columns, len(tiles)))
    rows = -(-len(tiles) // cols)
    sheet = Image.new("RGB", (cols * TILE_W, rows * TILE_H), "black")
    for i, path in enumerate(tiles):
        with Image.open(path) as im:
            sheet.paste(im.convert("RGB"), ((i % cols) * TILE_W, (i // cols) * TILE_H))
    sheet.save(out)
    return out


def write_thumbnails(hits: list[QueryHit], out_dir: str | Path, preprocess_cfg, salt: str | None = None,
                     locator=None) -> Thumbnails:
    """One PNG per hit (``NN_<series key>.png``) and ``contact_sheet.png`` in ``out_dir``.

    Args:
        hits: the query's hits.
        out_dir: the folder (created).
        preprocess_cfg: the model's ``PreprocessConfig``.
        salt: the identifier salt of the index (to find a hit's series among the others of its folder).
        locator: the index's ``Locator`` (where the files are); None: the stored paths must be real ones.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scans: dict[str, list] = {}
    paths, unreadable = [], {}
    for hit in hits:
        out = out_dir / f"{hit.rank:02d}_{(hit.series_key or hit.id)[:12]}.png"
        try:
            volume = series_volume(hit, preprocess_cfg, salt, scans, locator)
            problem = ""
        except Exception as exc:  # any reason a stored series cannot be drawn is shown, never fatal
            volume, problem = None, (str(exc).splitlines() or [type(exc).__name__])[0]
            unreadable[hit.rank] = problem
            log.warning("thumbnail of hit %d: %s", hit.rank, problem)
        paths.append(render_tile(hit, volume, out, problem))
    sheet = contact_sheet(paths, out_dir / SHEET_NAME) if paths else None
    return Thumbnails(paths=paths, sheet=sheet, unreadable=unreadable)


def series_volume(hit: QueryHit, cfg, salt: str, scans: dict[str, list], locator=None) -> np.ndarray:
    """The hit's series, preprocessed: ``[X, Y, Z]`` float32."""
    from ..preprocess import preprocess

    record = find_series(hit, salt, scans, locator)
    return np.asarray(preprocess(record, cfg).as_tensor()[0], dtype=np.float32)


def find_series(hit: QueryHit, salt: str, scans: dict[str, list], locator=None):
    """The ``SeriesRecord`` of a hit, by scanning where its first file lies (each place scanned once: ``scans``
    caches the scans by place across calls).

    Where: the ``locator``'s row for the hit's series key; without a locator, or without a row while the stored path
    is a real one (an index written with ``--keep-phi`` or before paths were de-identified), the stored path.

    Raises:
        ValueError: one line: the locator cannot place the series, the file is gone, or the series is not there.
    """
    from ..ingest.archive import scan_archive
    from ..ingest.config import ScanOptions

    where, shown = _place(hit, locator)
    if where not in scans:
        scans[where] = (_scan_dicomweb(where, salt) if where.startswith(_DICOMWEB) else
                        scan_archive(Path(where), ScanOptions(salt=salt)).series)
    recs = scans[where]
    for match in (lambda r: r.key == hit.series_key, lambda r: bool(r.files) and r.files[0].display == shown):
        found = [r for r in recs if match(r)]
        if found:
            return found[0]
    if len(recs) == 1:  # a NIfTI scanned on its own gets a key from its bare name
        return recs[0]
    raise ValueError(f"series {hit.series_key[:12]} not found where the locator says (moved, changed, or indexed "
                     "with another --salt)")


_DICOMWEB = "dicomweb+"  # how ``_place`` names one series on a DICOMweb server: dicomweb+URL|study|series


def _scan_dicomweb(where: str, salt: str) -> list:
    """The records of the one series ``where`` names on a DICOMweb server (read again over WADO-RS)."""
    from ..ingest.config import ScanOptions
    from ..ingest.dicomweb import DicomwebCfg, scan_dicomweb

    url, study, series = where[len(_DICOMWEB):].split("|")
    try:
        return scan_dicomweb(DicomwebCfg(url=url, series=((study, series),)), ScanOptions(salt=salt)).series
    except ValueError as exc:
        raise ValueError(f"the hit's series cannot be read from its DICOMweb server: {exc}") from None


def _place(hit: QueryHit, locator) -> tuple[str, str]:
    """(the place to scan for the hit's series, how its first file displays there)."""
    if locator is not None:
        try:
            ref = locator.find(hit.series_key).ref
        except ValueError:
            if not _real(hit.path):
                raise
        else:
            if ref.kind == "dicomweb":  # an instance on a DICOMweb server: its series is the place to read
                study, series = ref.member.split("/")[1:4:2]
                return f"{_DICOMWEB}{ref.container}|{study}|{series}", ref.display
            if ref.kind != "dir":  # a member of a zip or tar: the whole archive is the place to scan
                return ref.container, ref.display
            return (ref.path if hit.payload.get("source") == "nifti" else str(Path(ref.path).parent)), ref.display
    path = hit.path
    if not path:
        raise ValueError(f"series {hit.series_key[:12]}: no file path stored and no locator")
    if "::" in path:
        where = path.split("::", 1)[0]
        if not Path(where).exists():
            raise ValueError(f"series {hit.series_key[:12]}: {where} no longer exists")
        return where, path
    if not Path(path).exists():
        raise ValueError(f"series {hit.series_key[:12]}: its stored path no longer exists and there is no locator")
    return str(Path(path) if hit.payload.get("source") == "nifti" else Path(path).parent), path


def _real(path: str) -> bool:
    """Whether a stored path names a file that exists (a raw path, not a de-identified one)."""
    return bool(path) and Path(path.split("::", 1)[0]).exists()
