"""The locator: where each indexed series' files really are, kept on the indexing machine only.

Stored paths have identifiers replaced (``ingest.path_ids``), so they cannot open a file. The locator is a SQLite
table beside the index, file mode 0600, one row per series key: the archive root the index run was given and the
first file's container, member and kind (``FileRef``). Thumbnails, lesion maps and the page open files through it;
``--archive-root`` rebases the rows when an archive has moved.

Where it lives (``locator_path``): for the embedded index ``<db>.locator/<collection>.sqlite`` next to the index
folder (not inside it, so the index folder can be copied or shared without it); for a Qdrant server
``$MRI_SEARCH_HOME/locators/<server>/<collection>.sqlite`` on the machine that ran the index (the server never
sees it). ``--locator FILE`` names another place.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..ingest.records import FileRef, SeriesRecord

# paths are stored as the OS's bytes (os.fsencode): a file name that is not UTF-8 cannot be SQLite text
_SCHEMA = ("CREATE TABLE IF NOT EXISTS series (series_key TEXT PRIMARY KEY, archive BLOB NOT NULL, "
           "container BLOB NOT NULL, member BLOB NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL)")


def locator_path(location: str, collection: str, home: Path | None = None) -> Path:
    """The default locator file of ``collection`` in the store at ``location`` (module docstring).

    Args:
        location: ``VectorStore.location``: the embedded index folder, or the server URL (``:memory:`` in tests).
        collection: the collection name.
        home: mri-search's data folder (default ``store.default_home()``).
    """
    if "://" not in location and location != ":memory:":
        db = Path(location)
        return db.with_name(db.name + ".locator") / f"{collection}.sqlite"
    if home is None:
        from . import default_home

        home = default_home()
    server = re.sub(r"[^0-9A-Za-z.-]+", "_", location.split("://", 1)[-1]).strip("_") or "server"
    return home / "locators" / server / f"{collection}.sqlite"


@dataclass(frozen=True)
class Located:
    """Where one series' first file is."""

    archive: str  # the archive root the index run was given
    ref: FileRef  # the first file (container rebased when --archive-root is given)
    source: str  # dicom | nifti


class Locator:
    """The locator table of one collection.

    Args:
        path: the SQLite file.
        archive_root: where the archive is now, when it has moved since indexing (``--archive-root``): every row's
            archive root is replaced by it.
    """

    def __init__(self, path: str | os.PathLike, archive_root: str | os.PathLike | None = None) -> None:
        self.path = Path(path)
        self.archive_root = None if archive_root is None else str(Path(archive_root).expanduser().absolute())

    # --- writing (index runs) --------------------------------------------------------------------------------

    def write(self, records: Iterable[SeriesRecord], archive: str | os.PathLike) -> int:
        """Record (or replace) the first file of every series in ``records``, indexed from ``archive``.

        The file is created with mode 0600 (owner only), and set to it again if it was wider.

        Returns:
            The number of rows written.

        Raises:
            ValueError: the locator file cannot be written (one line with SQLite's reason).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        root = _where(archive)
        rows = [(r.key, root, _where(f.container, f.kind), os.fsencode(f.member), f.kind, r.source)
                for r in records for f in r.files[:1]]
        try:
            with sqlite3.connect(self.path) as con:
                con.execute(_SCHEMA)
                con.executemany("INSERT OR REPLACE INTO series VALUES (?, ?, ?, ?, ?, ?)", rows)
            con.close()
        except sqlite3.Error as exc:  # a full disk, a damaged or locked file: one line
            raise ValueError(f"cannot write the locator {self.path} ({exc})") from None
        return len(rows)

    # --- reading (queries) -----------------------------------------------------------------------------------

    def find(self, series_key: str) -> Located:
        """Where ``series_key``'s first file is now.

        Raises:
            ValueError: one line naming the series: no locator file, no row for it, or its file is gone.
        """
        if not self.path.is_file():
            raise ValueError(f"series {series_key[:12]}: no locator at {self.path} (it stays on the machine that "
                             "indexed; pass --locator FILE there)")
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                row = con.execute("SELECT archive, container, member, kind, source FROM series WHERE series_key = ?",
                                  (series_key,)).fetchone()
            finally:
                con.close()
        except sqlite3.Error as exc:
            raise ValueError(f"series {series_key[:12]}: locator {self.path} unreadable ({exc})") from None
        if row is None:
            raise ValueError(f"series {series_key[:12]}: not in the locator {self.path} (indexed elsewhere, or the "
                             "locator is out of date: re-run the index on this machine)")
        archive, container, member, kind, source = row
        archive, container, member = os.fsdecode(archive), os.fsdecode(container), os.fsdecode(member)
        if kind == "dicomweb":  # on the server: nothing to rebase, and asking it is the reader's job
            return Located(archive=archive, ref=FileRef(container=container, member=member, kind=kind),
                           source=source)
        if self.archive_root is not None:
            container = _rebase(container, archive, self.archive_root)
            archive = self.archive_root
        ref = FileRef(container=container, member=member, kind=kind)
        where = Path(container) if kind != "dir" else Path(container) / member
        if not where.exists():
            why = (f"not under --archive-root {self.archive_root} either" if self.archive_root else
                   "moved or deleted since indexing; if the archive moved, pass --archive-root NEW_ROOT")
            raise ValueError(f"series {series_key[:12]}: its file no longer exists where the locator says ({why})")
        return Located(archive=archive, ref=ref, source=source)


def open_locator(location: str, collection: str, path: str | os.PathLike | None = None,
                 archive_root: str | os.PathLike | None = None) -> Locator:
    """The locator of ``collection`` in the store at ``location``: ``path`` when given (``--locator``), else the
    default place (``locator_path``); ``archive_root`` rebases it (``--archive-root``)."""
    return Locator(path if path is not None else locator_path(location, collection), archive_root)


def _where(place: str | os.PathLike, kind: str = "dir") -> bytes:
    """How a row stores an archive or container: an absolute path, or a DICOMweb root URL as given."""
    if kind == "dicomweb" or str(place).startswith(("http://", "https://")):
        return str(place).encode()
    return os.fsencode(Path(place).expanduser().absolute())


def _rebase(container: str, old_root: str, new_root: str) -> str:
    """``container`` moved from under ``old_root`` to under ``new_root`` (unchanged when it was not under it)."""
    old, c = Path(old_root), Path(container)
    if c == old:
        return new_root
    try:
        return str(Path(new_root) / c.relative_to(old))
    except ValueError:
        return container
