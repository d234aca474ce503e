"""``run_index``: archive -> series records -> embeddings -> Qdrant collection (+ Parquet), resumable.

The run, in order:

1. The model folder is identified (``model_identity``) and the archive scanned (headers only); this machine keeps
   the series of its ``--shard K/N``.
2. The collection is opened (created on first use) and its metadata compared with the model's: another model, salt
   or layout is refused here, before anything is written. Series whose deterministic point id is already in the
   collection are skipped.
3. The rest is embedded in batches (``mri_search.embed``: worker processes read and preprocess while the encoder
   runs) and each batch is upserted as soon as it is embedded, so a run killed at any moment (SIGKILL included)
   loses at most the batches in flight; the next run skips what was acknowledged and does the rest.
4. The embedded engine builds its HNSW index; the Parquet file, if asked for, is rewritten from the collection
   (every series of this archive slice that is in it, each once, sorted by id; atomically).
5. Failures (scan and embedding) go to a tab-separated error report; the summary counts them. An embedded index
   checks free disk space before the run and before each batch (``indexer.space``): a full disk stops the run with
   one line, never the engine's SIGBUS; and its engine runs in a child process (``mri_search.store.child``), so that
   a disk filled between two checks kills only that child, and the run stops with one line too (``EngineDied``).
6. The locator (``mri_search.store.locator``) records where each series of this shard really is, on this machine
   only: stored paths, error lines and log lines show identifier values in paths as salted tokens
   (``mri_search.ingest.path_ids``) unless ``keep_phi``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from mri_search import __version__
from mri_search.ingest.archive import write_error_report
from mri_search.ingest.config import ScanOptions
from mri_search.ingest.salt import salt_for
from mri_search.ingest.records import Skip
from mri_search.ingest.path_ids import PathRedactor
from mri_search.store import (
    CollectionMeta, Point, VectorStore, collection_name, default_db_dir, default_home, ensure_collection,
    open_store, point_id, salt_check,
)
from mri_search.store.child import ChildStore
from mri_search.store.integrity import damaged_points
from mri_search.store.locator import Locator, locator_path
from mri_search.store.points import batch_points

from .config import IndexCfg
from .sharding import in_shard
from .source import open_source
from .space import SpaceCheck

log = logging.getLogger(__name__)

ID_CHUNK = 512  # ids per existence check / retrieval


@dataclass
class IndexSummary:
    """What a run did."""

    collection: str
    location: str  # embedded folder or server URL
    model_id: str
    series_found: int  # readable series in the archive
    in_shard: int  # of which this run's --shard holds
    indexed: int  # points written by this run
    present: int  # skipped: already in the collection
    failed: int  # series that could not be embedded in this run
    files_skipped: int  # files or series set aside while scanning (localisers, broken files, ...)
    errors_path: str | None  # the error report, when anything was skipped or failed
    locator_path: str  # where this machine keeps the series' real paths (store.locator)
    parquet_path: str | None
    parquet_rows: int
    elapsed_s: float
    embed_s: float  # time spent embedding and writing the new series
    reports_unlabelled: int = 0  # reports written this run that gave no labels (report_labels; each one logged)

    def describe(self) -> str:
        """Human summary lines."""
        rate = f" ({self.indexed / self.embed_s:.2f} series/s)" if self.indexed and self.embed_s > 0 else ""
        lines = [f"collection {self.collection} in {self.location}",
                 f"indexed {self.indexed}{rate}, skipped as already present {self.present}, failed {self.failed}"
                 f" (of {self.in_shard} series in this shard, {self.series_found} in the archive); "
                 f"{self.files_skipped} files/series set aside while scanning"]
        if self.parquet_path:
            lines.append(f"parquet: {self.parquet_rows} rows in {self.parquet_path}")
        if self.reports_unlabelled:
            lines.append(f"{self.reports_unlabelled} reports gave no labels (report_labels left empty; see the log)")
        if self.errors_path:
            lines.append(f"error report: {self.errors_path}")
        lines.append(f"locator (real file paths, this machine only): {self.locator_path}")
        lines.append(f"done in {self.elapsed_s:.1f} s")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


def _model_meta(folder: Path, salt: str, config: dict) -> CollectionMeta:
    """The collection metadata of the model in ``folder``, whose ``config.json`` is ``config`` (``read_meta``)."""
    from mri_search.model import model_identity

    return CollectionMeta(model_id=model_identity(folder, config), model_name=str(config["model"].get("name", "")),
                          embed_dim=int(config["embed_dim"]), salt_check=salt_check(salt), created_with=__version__)


def _space_check(cfg: IndexCfg, given: VectorStore | None, name: str) -> SpaceCheck | None:
    """Free-space checks for an embedded index (a server keeps its own disk); None for a server."""
    from mri_search.store.edge import EdgeStore

    if given is not None:
        return SpaceCheck(Path(given.root) / name) if isinstance(given, EdgeStore) else None
    if cfg.qdrant_url:
        return None
    from mri_search.store import default_db_dir

    return SpaceCheck(Path(cfg.db if cfg.db is not None else default_db_dir()) / name)


def _choose_salt(cfg: IndexCfg, given: VectorStore | None, name: str) -> str:
    """``--salt``, else the installation's, else (for a collection built with it) the old public default."""
    if cfg.salt:
        return cfg.salt
    with _store(cfg, given) as st:
        try:
            found = st.read_meta(name)
        except ValueError:  # a damaged or foreign collection: ensure_collection says so below
            found = None
    return salt_for(found.salt_check if found is not None else None, None, salt_check)


def _register_model(folder: Path, model_id: str, config: dict) -> None:
    """Record where the model lives, so that ``mri-search query`` finds it from the collection's model identity
    (``mri_search.model.registry``). A registry that cannot be written costs only a warning."""
    from mri_search.model.registry import register_model

    try:
        register_model(folder, model_id, meta=config)
    except (OSError, TimeoutError) as exc:
        log.warning("model folder not recorded in the registry (%s); queries will need --model %s", exc, folder)


def _open(cfg: IndexCfg) -> VectorStore:
    """The store ``cfg`` names: a server, or the embedded index owned by a child process (``store.child``: an
    engine fault on a full disk kills the child, and this process says so in one line)."""
    if cfg.qdrant_url:
        return open_store(cfg.db, cfg.qdrant_url, cfg.api_key, lock_wait_s=cfg.lock_wait_s)
    return ChildStore(cfg.db if cfg.db is not None else default_db_dir(), lock_wait_s=cfg.lock_wait_s)


@contextlib.contextmanager
def _store(cfg: IndexCfg, given: VectorStore | None, opened: VectorStore | None = None) -> Iterator[VectorStore]:
    """The caller's store (left open), or ``opened`` (else one opened from ``cfg``), closed on exit (locks
    released)."""
    if given is not None:
        yield given
        return
    store = opened if opened is not None else _open(cfg)
    try:
        yield store
    finally:
        store.close()


def run_index(cfg: IndexCfg, store: VectorStore | None = None) -> IndexSummary:
    """Index ``cfg.archive`` with ``cfg.model`` into a Qdrant collection (and Parquet); see the module docstring.

    Args:
        cfg: the run's configuration.
        store: an open store to use instead of the one ``cfg`` names (tests pass qdrant-client's ``:memory:``).
            When None, the store is opened from ``cfg`` and closed while the model loads and the worker processes
            start, so they never inherit the embedded engine's locks; each open waits up to ``cfg.lock_wait_s`` for
            a query that holds the embedded index for a moment.

    Raises:
        ValueError: a bad setting, model folder or archive, an unreachable server, a busy embedded index, or a
            collection written by another model (``CollectionMismatch``) - all before anything is written.
    """
    from mri_search.model.identity import read_meta

    t0 = time.perf_counter()
    config = read_meta(cfg.model)  # the model folder's config.json, read once for the run (ValueError: why not)
    meta = _model_meta(cfg.model, "", config)
    _register_model(cfg.model, meta.model_id, config)
    name = cfg.collection or collection_name(meta.model_id)
    salt = _choose_salt(cfg, store, name)
    meta = dataclasses.replace(meta, salt_check=salt_check(salt))
    location = store.location if store is not None else (cfg.qdrant_url or str(cfg.db or default_db_dir()))
    options = ScanOptions(salt=salt, include_phi=cfg.keep_phi, keep_uids=cfg.keep_uids, workers=max(1, cfg.workers))
    source = open_source(cfg, options, location, name)
    scan = source.scan
    log.info("archive read: %s", source.how)
    records = [r for r in scan.series if in_shard(r.key, cfg.shard)]
    # identifier values anywhere in the archive's paths, for lines that are not tied to one series' headers
    shown = scan.redactor(salt, keep=cfg.keep_phi)
    scan_skips = [s.redacted(shown) for s in scan.skipped if in_shard(s.series or s.path, cfg.shard)]
    ids = {r.key: point_id(meta.model_id, r.key) for r in records}
    space = _space_check(cfg, store, name)
    if space is not None and not space.folder.exists():  # a new collection: its creation maps the engine's files
        space.check(len(records), 0, len(records))

    with _store(cfg, store) as st:
        col = ensure_collection(st, name, meta, shards=cfg.server_shards, replicas=cfg.replicas)
        location = st.location
        where = cfg.locator or locator_path(location, name)
        # every series of the shard: a moved archive re-indexed is found
        Locator(where).write(records, cfg.archive if cfg.archive is not None else cfg.dicomweb)
        present: set[str] = set()
        all_ids = list(ids.values())
        for i in range(0, len(all_ids), ID_CHUNK):
            present |= col.existing_ids(all_ids[i:i + ID_CHUNK])
        damaged = damaged_points(_stored(col, sorted(present)), meta.embed_dim)  # verified before they are skipped
        if damaged:
            log.warning("%d points in %s are damaged (e.g. %s): they are embedded again", len(damaged), location,
                        next(iter(damaged.values())))
            present -= set(damaged)
    todo = [r for r in records if ids[r.key] not in present]
    if space is not None and todo:
        space.check(len(todo), 0, len(todo))
    log.info("%d series in the archive, %d in shard %d/%d, %d already indexed, %d to embed", len(scan.series),
             len(records), *cfg.shard, len(records) - len(todo), len(todo))

    failures: list[Skip] = []
    indexed = 0
    batches = None
    if todo:
        from mri_search.embed import embed_series
        from mri_search.model import load_model

        loaded = load_model(cfg.model, device=cfg.device, meta=config)
        batches = embed_series(loaded, todo, scan.reports, batch_size=cfg.batch_size, workers=cfg.workers)
    # the embedded engine's child boots while the workers read the first batch (started after their fork, so that
    # they hold no end of its connection)
    writer = _open(cfg).start() if store is None and not cfg.qdrant_url else None
    t_embed = time.perf_counter()
    with _store(cfg, store, writer) as st:
        col = ensure_collection(st, name, meta)  # again: the store was closed while the workers started
        if batches is not None:
            indexed = _write_batches(batches, col, meta.model_id, scan.reports, cfg, len(todo), failures, shown,
                                     space)
        embed_s = time.perf_counter() - t_embed
        col.optimize()
        col.flush()
        parquet_rows = 0
        if cfg.parquet is not None:
            from mri_search.store.parquet import write_points

            done = sorted(set(all_ids) - {ids[s.series] for s in failures if s.series in ids})
            parquet_rows = write_points(_stored(col, done), cfg.parquet, col.meta)

    failed_keys = {s.series for s in failures}
    source.commit({r.key for r in records if r.key not in failed_keys})
    skipped = scan_skips + failures
    errors_path = cfg.errors or _default_errors(name, cfg.shard)
    if skipped or errors_path.exists():  # an earlier run's report is replaced, never left to mislead
        write_error_report(skipped, errors_path)
    return IndexSummary(collection=name, location=location, model_id=meta.model_id, series_found=len(scan.series),
                        in_shard=len(records), indexed=indexed, present=len(records) - len(todo),
                        failed=len(failures), files_skipped=len(scan_skips),
                        errors_path=str(errors_path) if skipped else None, locator_path=str(where),
                        parquet_path=str(cfg.parquet) if cfg.parquet else None, parquet_rows=parquet_rows,
                        elapsed_s=time.perf_counter() - t0, embed_s=embed_s,
                        reports_unlabelled=sum(1 for r in scan.reports.values() if r.label_problems))


def _write_batches(batches, col, model_id: str, reports: dict, cfg: IndexCfg, total: int,
                   failures: list[Skip], shown: PathRedactor, space: SpaceCheck | None = None) -> int:
    """Upsert every embedded batch as it comes; returns the number of points written."""
    from tqdm import tqdm

    n = 0
    with tqdm(total=total, unit="series", desc="indexing", disable=None if cfg.progress else True,
              dynamic_ncols=True) as bar:
        for b, batch in enumerate(batches):
            points = batch_points(batch, model_id, reports, cfg.keep_phi)
            if space is not None:
                space.check(len(points), n, total)  # DiskFull: stop before the engine's mapped write faults
            col.upsert(points)
            n += len(points)
            failed = [sk.redacted(shown) for sk in batch.failed]
            failures += failed
            for sk in failed:
                log.warning("%s: %s", sk.path, sk.reason)
            log.debug("batch %d: %d points upserted, %d failed", b, len(points), len(batch.failed))
            bar.update(len(batch.records) + len(batch.failed))
    return n


def _stored(col, ids: list[str]) -> Iterator[Point]:
    """The points of ``ids`` that are in the collection, with vectors, in the order of ``ids``."""
    for i in range(0, len(ids), ID_CHUNK):
        yield from col.retrieve(ids[i:i + ID_CHUNK], with_vectors=True)


def _default_errors(collection: str, shard: tuple[int, int]) -> Path:
    k, n = shard
    suffix = f".shard-{k}-of-{n}" if n > 1 else ""
    return default_home() / "errors" / f"{collection}{suffix}.tsv"
