"""Batched embedding of series records and their reports with a loaded model.

Series are read and preprocessed (the model's own ``PreprocessConfig``) in ``torch.utils.data.DataLoader`` worker
processes, so decoding and resampling overlap the encoder's compute; a series that fails to load or preprocess
becomes a ``Skip`` and the batch goes on without it. Each study's report is embedded once, from its findings and
impression (``ingest.report_text.embedding_text``, the convention the report tower is trained with), several studies per text-encoder
call: when a batch meets a study not embedded yet, the reports of the next studies in line are encoded with it.

Frozen features for probes (``features=("pooled", "token_mean", "patch_tokens")``) come from the same forward pass
as the embedding: the image tower's pooled feature before projection, the mean of its final patch tokens, and the
patch tokens themselves.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
import torch

from .ingest.records import ParsedReport, SeriesRecord, Skip
from .ingest.report_text import embedding_text
from .preprocess import PreprocessCache, PreprocessConfig, deterministic_transforms, run_transforms
from .preprocess_transforms import Loader

log = logging.getLogger(__name__)


class SeriesDataset(torch.utils.data.Dataset):
    """``records[i]`` -> ``{"i": i, "image": [1, *size] float32 tensor or None, "error": reason or None}``.

    Never raises for a bad series: the reason travels back to the main process instead.
    """

    def __init__(self, records: Sequence[SeriesRecord], cfg: PreprocessConfig, loader: Loader | None = None,
                 cache_dir: str | os.PathLike | None = None) -> None:
        self.records = list(records)
        self.transforms = deterministic_transforms(cfg, loader)
        # an on-disk cache of the deterministic output, when several passes (models) read the same series
        self.cache = PreprocessCache(cache_dir, cfg, loader) if cache_dir else None

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> dict:
        try:
            if self.cache is not None:
                img = self.cache(self.records[i])
            else:
                img = run_transforms(self.transforms, {"series": self.records[i]})["image"]
            return {"i": i, "image": img.as_tensor() if hasattr(img, "as_tensor") else img, "error": None}
        except Exception as exc:  # any per-series failure is reported, never fatal to the run
            msg = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            return {"i": i, "image": None, "error": msg.splitlines()[0] if msg else type(exc).__name__}


@dataclass
class EmbeddedBatch:
    """One batch of ``embed_series``."""

    records: list[SeriesRecord]  # the series embedded, in input order
    image: np.ndarray  # [n, embed_dim] float32, unit length
    report: list[np.ndarray | None]  # per record: its study's report embedding [embed_dim], None without report
    failed: list[Skip]  # series of this batch that could not be embedded, with the reason
    # the frozen features asked for (FEATURES), per name: pooled / token_mean [n, hidden], patch_tokens [n, N, hidden]
    features: dict[str, np.ndarray] = field(default_factory=dict)


FEATURES = ("pooled", "token_mean", "patch_tokens")  # what ``embed_series(features=...)`` can add to a batch


class ReportEmbedder:
    """Study report embeddings, computed once per study and kept for the run (embed_dim floats per study).

    Reports are encoded ``text_batch`` at a time: on a CPU a batch of 8 reports costs little more than one.

    Args:
        model: an ``MRIClip`` in eval mode.
        reports: study_key -> parsed report.
        text_batch: reports per text-encoder call.
    """

    def __init__(self, model, reports: dict[str, ParsedReport], text_batch: int = 16) -> None:
        self.model = model
        self.reports = reports
        self.text_batch = text_batch
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, study_keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Embeddings of those of ``study_keys`` that have a report (computing the missing ones)."""
        todo = list(dict.fromkeys(k for k in study_keys if k in self.reports and k not in self.cache))
        device = next(self.model.parameters()).device
        for i in range(0, len(todo), self.text_batch):
            keys = todo[i:i + self.text_batch]
            tokens = self.model.tokenize([embedding_text(self.reports[k]) for k in keys])
            with torch.inference_mode():
                z = self.model.encode_report({k: v.to(device) for k, v in tokens.items()})  # [n, D]
            self.cache.update(zip(keys, z.float().cpu().numpy()))
        return {k: self.cache[k] for k in study_keys if k in self.cache}

    def missing(self, study_keys: Sequence[str]) -> bool:
        """Whether any of ``study_keys`` has a report not embedded yet."""
        return any(k in self.reports and k not in self.cache for k in study_keys)


def encode_volumes(model, x: torch.Tensor) -> np.ndarray:
    """``[B, 1, S, S, S]`` -> ``[B, embed_dim]`` float32 numpy, unit length, on the model's device."""
    device = next(model.parameters()).device
    with torch.inference_mode():
        return model.encode_volume(x.to(device, non_blocking=True)).float().cpu().numpy()


def encode_volumes_with_features(model, x: torch.Tensor,
                                 features: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The embedding of ``encode_volumes`` and the frozen features ``features`` (names of ``FEATURES``), in one pass.

    Returns:
        ``([B, embed_dim] unit-length embeddings, {name: [B, hidden] or [B, N, hidden] float32})``.
    """
    device = next(model.parameters()).device
    with torch.inference_mode():
        pooled, tokens = model.visual.forward_pooled_and_tokens(x.to(device, non_blocking=True))  # [B, H], [B, N, H]
        z = torch.nn.functional.normalize(model.visual.proj(pooled), dim=-1)  # == model.encode_volume(x)
        have = {"pooled": pooled, "token_mean": tokens.mean(dim=1), "patch_tokens": tokens}
        return z.float().cpu().numpy(), {k: have[k].float().cpu().numpy() for k in features}


def embed_series(loaded, records: Sequence[SeriesRecord], reports: dict[str, ParsedReport] | None = None,
                 batch_size: int = 8, workers: int = 2, loader: Loader | None = None,
                 features: Sequence[str] = (), cache_dir: str | os.PathLike | None = None) -> Iterator[EmbeddedBatch]:
    """Embed ``records`` in batches: image vectors of each series and report vectors of its study.

    The worker processes start (fork) when this function is called, before the first batch is asked for:
    open files such as a store's lock are not inherited if they are opened after the call.

    Args:
        loaded: a ``mri_search.model.LoadedModel`` (its ``preprocess`` is applied).
        records: the series to embed.
        reports: study_key -> parsed report (series of studies without one get no report vector).
        batch_size: series per encoder call.
        workers: DataLoader worker processes reading and preprocessing (0: in this process).
        loader: the pixel reader (default ``ingest.load_series``).
        features: frozen features to add to each batch (names of ``FEATURES``), from the same forward pass.
        cache_dir: an on-disk preprocessing cache (``preprocess.PreprocessCache``) to read and fill; None: none.

    Yields:
        One ``EmbeddedBatch`` per ``batch_size`` records, in order.
    """
    if batch_size < 1 or workers < 0:
        raise ValueError(f"batch_size must be >= 1 and workers >= 0, got {batch_size}, {workers}")
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; choose from {list(FEATURES)}")
    records = list(records)
    # one series per worker request, batched here: a worker making whole batches kept the encoder waiting for
    # the first one and the last (the pipeline filled and drained a batch at a time), and each worker keeps two
    # batches of series ready so that the encoder's report work does not stall it (index_throughput on 2 cores:
    # ratio to the stage bound 0.67 before, 0.78 with one batch ready, median 0.745 of five runs with two)
    dl = torch.utils.data.DataLoader(SeriesDataset(records, loaded.preprocess, loader, cache_dir),
                                     batch_size=None, shuffle=False, num_workers=workers,
                                     prefetch_factor=2 * batch_size if workers else None)
    it = _grouped(iter(dl), batch_size)  # iter() forks the workers now
    return _batches(it, records, ReportEmbedder(loaded.model, reports or {}), loaded.model, batch_size,
                    tuple(features), encoder_threads(workers))


def _grouped(items: Iterator[dict], n: int) -> Iterator[list[dict]]:
    """Consecutive lists of ``n`` items (the last one shorter)."""
    while batch := list(islice(items, n)):
        yield batch


def encoder_threads(workers: int, cores: int | None = None) -> int:
    """Torch threads for the encoder while ``workers`` reader processes run: the cores they leave, at least one.

    Measured on 2 cores, 2 workers, 155 series (``benchmarks.index_throughput``): the embedding phase of an index
    run took 33.0 s with the encoder on 2 threads (4 busy threads on 2 cores) and 24.0 s on 1.
    """
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores - workers) if workers else cores


def _batches(it, records: list[SeriesRecord], reports: ReportEmbedder, model, batch_size: int,
             features: tuple[str, ...] = (), threads: int | None = None) -> Iterator[EmbeddedBatch]:
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(min(threads, before))  # never more than the caller allows; restored after
    try:
        yield from _embedded(it, records, reports, model, batch_size, features)
    finally:
        torch.set_num_threads(before)


def _embedded(it, records: list[SeriesRecord], reports: ReportEmbedder, model, batch_size: int,
              features: tuple[str, ...]) -> Iterator[EmbeddedBatch]:
    lookahead = max(4 * batch_size, 64)  # series whose studies' reports are encoded together
    for items in it:
        start = min(d["i"] for d in items)  # batches come in order: this one and the next ones from here on
        if reports.missing([records[d["i"]].study_key for d in items]):
            reports([r.study_key for r in records[start:start + lookahead]])
        ok = [d for d in items if d["error"] is None]
        failed = [_skip(records[d["i"]], d["error"]) for d in items if d["error"] is not None]
        recs = [records[d["i"]] for d in ok]
        feats: dict[str, np.ndarray] = {}
        if ok and features:
            image, feats = encode_volumes_with_features(model, torch.stack([d["image"] for d in ok]), features)
        elif ok:
            image = encode_volumes(model, torch.stack([d["image"] for d in ok]))  # [n, D]
        else:
            image = np.zeros((0, model.embed_dim), np.float32)
            hidden, n_tok = model.cfg.vision.hidden_size, model.visual.num_patches
            feats = {k: np.zeros((0, n_tok, hidden) if k == "patch_tokens" else (0, hidden), np.float32)
                     for k in features}
        finite = np.isfinite(image).all(axis=1)
        for v in feats.values():
            finite &= np.isfinite(v.reshape(len(v), -1)).all(axis=1)
        if not finite.all():
            failed += [_skip(r, "the encoder returned a non-finite embedding") for r, f in zip(recs, finite) if not f]
            recs = [r for r, f in zip(recs, finite) if f]
            image = image[finite]
            feats = {k: v[finite] for k, v in feats.items()}
        rep = reports([r.study_key for r in recs])
        yield EmbeddedBatch(records=recs, image=image, report=[rep.get(r.study_key) for r in recs], failed=failed,
                            features=feats)


def _skip(rec: SeriesRecord, reason: str) -> Skip:
    path = rec.files[0].display if rec.files else rec.key
    return Skip(path=path, reason=f"not embedded: {reason}", series=rec.key, level="failed", path_ids=rec.path_ids)
