"""``run_embed``: an archive's series -> one features file (Parquet), for probes and any other tool.

The index run's pipeline without the store: the archive is scanned (headers only), every series read, preprocessed
and encoded in batches (``mri_search.embed.embed_series``: worker processes read while the encoder runs), and each
batch written to the Parquet file as it comes (``mri_search.probe.features``: the index's row layout plus the
pooled feature, the patch-token mean and, if asked for, the patch tokens). The file appears atomically when the run
ends; series that cannot be read go to an error report beside it and never stop the run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from mri_search.ingest.archive import scan_archive, write_error_report
from mri_search.ingest.salt import resolve_salt
from mri_search.ingest.config import ScanOptions
from mri_search.ingest.records import Skip
from mri_search.store import IMAGE, REPORT, point_id
from mri_search.store.payload import build_payload

from .run import _model_meta

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbedCfg:
    """What to embed, with which model, and where to."""

    archive: Path  # folder, .zip or .tar(.gz) of DICOM and/or NIfTI (+ reports)
    model: Path  # model folder (mri_search.model.save_model)
    out: Path  # the features file (.parquet)
    patch_tokens: bool = False  # also store the final patch tokens (n_tokens x hidden floats per series)
    errors: Path | None = None  # error report (TSV); None: <out without suffix>.errors.tsv
    workers: int = 2  # DataLoader processes reading and preprocessing series (0: in the main process)
    batch_size: int = 8  # series per encoder call
    salt: str | None = None  # identifier hash salt (series keys; label files refer to them); None: the installation's
    keep_phi: bool = False  # store raw patient identifiers in the file (off by default)
    device: str = "cpu"  # torch device of the encoder
    cache_dir: Path | None = None  # on-disk preprocessing cache to read and fill (None: none)
    progress: bool = True  # progress bar on stderr (shown on terminals only)

    def __post_init__(self) -> None:
        """Raise ValueError with an actionable message for a bad setting."""
        if self.workers < 0:
            raise ValueError("--workers must be 0 or more")
        if self.batch_size < 1:
            raise ValueError("--batch-size must be at least 1")
        if self.out.exists() and self.out.is_dir():
            raise ValueError(f"--out {self.out} is a folder; give a file name such as features.parquet")
        if not Path(self.archive).exists():
            raise ValueError(f"{self.archive} does not exist")


@dataclass
class EmbedSummary:
    """What a run did."""

    out: str
    model_id: str
    series_found: int  # readable series in the archive
    embedded: int  # rows written
    failed: int  # series that could not be embedded
    files_skipped: int  # files or series set aside while scanning
    errors_path: str | None
    elapsed_s: float

    def describe(self) -> str:
        lines = [f"{self.embedded} of {self.series_found} series embedded into {self.out} (model {self.model_id}); "
                 f"{self.failed} failed, {self.files_skipped} files/series set aside while scanning"]
        if self.errors_path:
            lines.append(f"error report: {self.errors_path}")
        lines.append(f"done in {self.elapsed_s:.1f} s")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return asdict(self)


def run_embed(cfg: EmbedCfg) -> EmbedSummary:
    """Embed every series of ``cfg.archive`` into the features file ``cfg.out`` (see the module docstring).

    Raises:
        ValueError: a bad setting, model folder or archive (before anything is written).
    """
    from tqdm import tqdm

    from mri_search.embed import embed_series
    from mri_search.model import load_model
    from mri_search.probe.features import FeaturesInfo, FeaturesWriter, feature_row

    from mri_search.model.identity import read_meta

    t0 = time.perf_counter()
    salt = resolve_salt(cfg.salt)
    config = read_meta(cfg.model)  # the model folder's config.json, read once for the run
    meta = _model_meta(cfg.model, salt, config)
    scan = scan_archive(cfg.archive, ScanOptions(salt=salt, include_phi=cfg.keep_phi, workers=max(1, cfg.workers)))
    loaded = load_model(cfg.model, device=cfg.device, meta=config)
    vision = loaded.model.cfg.vision
    info = FeaturesInfo(hidden=vision.hidden_size, n_tokens=loaded.model.visual.num_patches,
                        patch_tokens=cfg.patch_tokens, model=str(cfg.model), model_name=meta.model_name)
    wanted = ("pooled", "token_mean") + (("patch_tokens",) if cfg.patch_tokens else ())
    failures: list[Skip] = []
    shown = scan.redactor(salt, keep=cfg.keep_phi)  # identifier values in error lines' paths -> tokens
    batches = embed_series(loaded, scan.series, scan.reports, batch_size=cfg.batch_size, workers=cfg.workers,
                           features=wanted, cache_dir=cfg.cache_dir)
    with FeaturesWriter(cfg.out, meta, info) as writer, \
            tqdm(total=len(scan.series), unit="series", desc="embedding", dynamic_ncols=True,
                 disable=None if cfg.progress else True) as bar:
        for batch in batches:
            rows = []
            for i, (rec, image, report) in enumerate(zip(batch.records, batch.image, batch.report)):
                payload = build_payload(rec, scan.reports.get(rec.study_key), cfg.keep_phi)
                rows.append(feature_row(point_id(meta.model_id, rec.key), payload, {IMAGE: image, REPORT: report},
                                        {k: v[i] for k, v in batch.features.items()}))
            writer.write(rows)
            failed = [sk.redacted(shown) for sk in batch.failed]
            failures += failed
            for sk in failed:
                log.warning("%s: %s", sk.path, sk.reason)
            bar.update(len(batch.records) + len(batch.failed))
        rows_written = writer.rows
    skipped = [sk.redacted(shown) for sk in scan.skipped] + failures
    errors_path = cfg.errors or cfg.out.with_name(cfg.out.stem + ".errors.tsv")
    if skipped or errors_path.exists():  # an earlier run's report is replaced, never left to mislead
        write_error_report(skipped, errors_path)
    return EmbedSummary(out=str(cfg.out), model_id=meta.model_id, series_found=len(scan.series),
                        embedded=rows_written, failed=len(failures), files_skipped=len(scan.skipped),
                        errors_path=str(errors_path) if skipped else None, elapsed_s=time.perf_counter() - t0)
