"""The pretraining data pipeline: scanned archive -> items -> patient-level splits -> endless, resumable batches.

Items are plain dicts ``{"record": SeriesRecord, "study_key": str, "report": ParsedReport | None}``, one per
series. Two map-style datasets read them through a ``PreprocessCache`` (the deterministic part, cached on disk)
followed by ``train_augmentations`` (the random part, redone each draw):

  * stage 1 ``VisionPairs``: two independently augmented views of one series;
  * stage 2 ``AlignPairs``: one augmented view plus a text drawn from the study's report (``sample_text``);
    series without a report are left out and counted.

Randomness never comes from worker or global RNG state. ``endless_batches`` walks a stream of samples: epoch ``e``
visits the items in the permutation drawn from ``(seed, e)``, and the sample at stream position ``g`` gets its own
seed from ``(seed, epoch, position)``, which fixes its augmentations and text. So a batch depends only on
``(seed, epoch, position)``: the same whatever ``num_workers`` is, and a resumed run (``load_state_dict``) yields
exactly the batches an uninterrupted one would have. Batches are cut from the stream, so every batch is full and
one may straddle two epochs.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from mri_search.ingest.records import ParsedReport, ScanResult, SeriesRecord
from mri_search.preprocess import PreprocessCache, PreprocessConfig, train_augmentations
from mri_search.report_labels import labels_of
from pretrain.losses import label_groups, study_ids
from pretrain.text_sampling import DEFAULT_WEIGHTS, full_text, sample_text

log = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "val", "test")
STATE_VERSION = 1

Item = dict[str, Any]  # {"record": SeriesRecord, "study_key": str, "report": ParsedReport | None}


# ---------------------------------------------------------------- items and splits


def build_items(scan: ScanResult) -> list[Item]:
    """One item per scanned series, with its study's report when the archive had one."""
    return [{"record": rec, "study_key": rec.study_key, "report": scan.reports.get(rec.study_key)}
            for rec in scan.series]


def _group_key(item: Item) -> str:
    # a series with no PatientID can only be kept apart by its study (a patient's studies then may be split)
    rec: SeriesRecord = item["record"]
    return f"patient:{rec.patient_key}" if rec.patient_key else f"study:{item['study_key']}"


def split_items(items: list[Item], fractions: tuple[float, ...] = (0.85, 0.15), seed: int = 0) -> list[list[Item]]:
    """Split items by patient, so that no patient's series are in two splits.

    Patients (``record.patient_key``; the study key where it is unknown) are shuffled with ``seed`` and shared out
    in proportion to ``fractions`` by patient count (largest remainder). Each split with a positive fraction gets at
    least one patient while there are enough patients. Item order within a split follows ``items``.

    Args:
        items: from ``build_items``.
        fractions: one per split (e.g. train, val), each in (0, 1], summing to 1.
        seed: shuffling seed; the same items and seed give the same splits.

    Returns:
        One list of items per fraction.
    """
    if not fractions or min(fractions) <= 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"fractions must be positive and sum to 1, got {fractions}")
    groups = sorted({_group_key(it) for it in items})
    order = [groups[i] for i in np.random.default_rng(seed).permutation(len(groups))]
    n, k = len(groups), len(fractions)
    exact = [f * n for f in fractions]
    counts = [int(np.floor(x)) for x in exact]
    for i in sorted(range(k), key=lambda i: exact[i] - counts[i], reverse=True)[: n - sum(counts)]:
        counts[i] += 1
    if n >= k:  # every split gets a patient: take one from the largest split for each empty one
        for i in range(k):
            if counts[i] == 0:
                counts[int(np.argmax(counts))] -= 1
                counts[i] = 1
    assign, start = {}, 0
    for i, c in enumerate(counts):
        for g in order[start:start + c]:
            assign[g] = i
        start += c
    out: list[list[Item]] = [[] for _ in fractions]
    for it in items:
        out[assign[_group_key(it)]].append(it)
    return out


class PretrainData:
    """The items of one split of a scanned archive.

    Args:
        items: item dicts (``build_items``), usually one split of them.
    """

    def __init__(self, items: list[Item]) -> None:
        self.items = list(items)

    @classmethod
    def from_scan(cls, scan: ScanResult, split: str | None = None, fractions: tuple[float, ...] = (0.85, 0.15),
                  seed: int = 0) -> PretrainData:
        """Items of ``scan``, all of them (``split=None``) or one patient-level split: "train", "val" or "test"
        naming the first, second and third of ``fractions``."""
        items = build_items(scan)
        if split is None:
            return cls(items)
        names = SPLIT_NAMES[: len(fractions)]
        if split not in names:
            raise ValueError(f"split must be one of {names} for {len(fractions)} fractions, got {split!r}")
        return cls(split_items(items, fractions, seed)[names.index(split)])

    def __len__(self) -> int:
        return len(self.items)

    @property
    def n_with_report(self) -> int:
        """Series whose study has a report (usable in stage 2)."""
        return sum(it["report"] is not None for it in self.items)

    @property
    def n_patients(self) -> int:
        return len({_group_key(it) for it in self.items})


# ---------------------------------------------------------------- datasets


def sample_seeds(sample_seed: int, n: int) -> list[int]:
    """``n`` independent 32-bit seeds derived from one sample's seed."""
    return [int(s) for s in np.random.SeedSequence(sample_seed).generate_state(n)]


def _plain(t: torch.Tensor) -> torch.Tensor:
    # MetaTensor -> Tensor: collating metadata is slow and the model only needs the array
    return t.as_tensor() if hasattr(t, "as_tensor") else t


def _split_key(key: int | tuple[int, int]) -> tuple[int, int]:
    """A dataset key is ``(index, sample_seed)`` (from ``endless_batches``) or a bare index (seed 0)."""
    if isinstance(key, tuple):
        return int(key[0]), int(key[1])
    return int(key), 0


class _Augmenting(Dataset):
    """Shared part: items, the cached deterministic pipeline and one reusable, reseedable augmentation chain."""

    def __init__(self, items: list[Item], cache: PreprocessCache | Callable[[SeriesRecord], torch.Tensor],
                 cfg: PreprocessConfig | None = None) -> None:
        cfg = cfg or getattr(cache, "cfg", None)
        if cfg is None:
            raise ValueError("pass cfg (the PreprocessConfig whose augment settings to use) with a plain callable")
        self.items = list(items)
        self.cache = cache
        self.cfg = cfg
        self.augment = train_augmentations(cfg, seed=0)  # reseeded for every view: set_random_state(view seed)

    def __len__(self) -> int:
        return len(self.items)

    def view(self, image: torch.Tensor, seed: int) -> torch.Tensor:
        """One augmented view ``[1, X, Y, Z]`` of a preprocessed image; the same seed gives the same view."""
        self.augment.set_random_state(seed=seed)
        return _plain(self.augment({"image": image.clone()})["image"])


class VisionPairs(_Augmenting):
    """Stage 1: two augmented views of one series.

    A sample is ``{"view1": [1, X, Y, Z], "view2": [1, X, Y, Z], "study_key": str, "series_key": str}``.

    Args:
        items: item dicts (reports are not needed).
        cache: the deterministic pipeline, normally a ``PreprocessCache``.
        cfg: augmentation settings; default ``cache.cfg``.
    """

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        index, seed = _split_key(key)
        item = self.items[index]
        image = self.cache(item["record"])
        s1, s2 = sample_seeds(seed, 2)
        return {"view1": self.view(image, s1), "view2": self.view(image, s2), "study_key": item["study_key"],
                "series_key": item["record"].key}

    @staticmethod
    def collate(samples: list[dict]) -> dict[str, Any]:
        """``{"view1": [B,1,X,Y,Z], "view2": [B,1,X,Y,Z], "study_id": int64[B], "series_key": list[str]}``."""
        return {"view1": torch.stack([s["view1"] for s in samples]),
                "view2": torch.stack([s["view2"] for s in samples]),
                "study_id": study_ids([s["study_key"] for s in samples]),
                "series_key": [s["series_key"] for s in samples]}


class AlignPairs(_Augmenting):
    """Stage 2: one augmented view of a series and a text sampled from its study's report.

    A sample is ``{"volume": [1, X, Y, Z], "text": str, "study_key": str, "series_key": str, "labels": dict}``
    (``labels``: the study's labels parsed from its report text, ``mri_search.report_labels``). Series whose study
    has no report are left out; ``n_without_report`` counts them.

    Args:
        items: item dicts.
        cache: the deterministic pipeline, normally a ``PreprocessCache``.
        cfg: augmentation settings; default ``cache.cfg``.
        text_weights: relative odds of (full report, impression, region sentences), see ``sample_text``.
    """

    def __init__(self, items: list[Item], cache: PreprocessCache | Callable[[SeriesRecord], torch.Tensor],
                 cfg: PreprocessConfig | None = None,
                 text_weights: tuple[float, float, float] = DEFAULT_WEIGHTS) -> None:
        with_report = [it for it in items if it["report"] is not None]
        super().__init__(with_report, cache, cfg)
        self.n_without_report = len(items) - len(with_report)
        # each study's report parsed once, here (worker processes inherit them): for label-aware losses
        self.labels = [labels_of(it["report"]) for it in self.items]
        self.text_weights = tuple(text_weights)
        if self.n_without_report:
            log.info("stage 2: %d of %d series have no report and are left out", self.n_without_report, len(items))

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        index, seed = _split_key(key)
        item = self.items[index]
        s_view, s_text = sample_seeds(seed, 2)
        report: ParsedReport = item["report"]
        return {"volume": self.view(self.cache(item["record"]), s_view),
                "text": sample_text(report, random.Random(s_text), self.text_weights),
                "study_key": item["study_key"], "series_key": item["record"].key, "labels": self.labels[index]}

    @staticmethod
    def collate(samples: list[dict]) -> dict[str, Any]:
        """``{"volume": [B,1,X,Y,Z], "texts": list[str], "study_id": int64[B], "label_id": int64[B],
        "series_key": list[str], "labels": list[dict]}`` (``labels``: each study's ``report_labels``, parsed from its
        report alone; ``label_id``: their ``label_groups``); the training step tokenises ``texts``
        (``model.tokenize``)."""
        keys = [s["study_key"] for s in samples]
        return {"volume": torch.stack([s["volume"] for s in samples]),
                "texts": [s["text"] for s in samples],
                "study_id": study_ids(keys),
                "label_id": label_groups([s["labels"] for s in samples], keys),
                "series_key": [s["series_key"] for s in samples],
                "labels": [s["labels"] for s in samples]}


# ---------------------------------------------------------------- endless, resumable batches


def _sample_key(seed: int, epoch: int, position: int, perm: np.ndarray) -> tuple[int, int]:
    return int(perm[position]), int(np.random.SeedSequence([seed, epoch, position]).generate_state(1)[0])


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """The visiting order of the ``n`` items in ``epoch``."""
    return np.random.default_rng([seed, epoch]).permutation(n)


class _BatchKeys:
    """Infinite batch sampler over the sample stream, from global stream position ``start``, for one rank."""

    def __init__(self, n: int, batch_size: int, seed: int, start: int, rank: int, world_size: int) -> None:
        self.n, self.batch_size, self.seed, self.start = n, batch_size, seed, start
        self.rank, self.world_size = rank, world_size

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        g = self.start
        epoch, perm = -1, None
        while True:
            keys = []
            for j in range(self.batch_size):
                e, pos = divmod(g + self.rank * self.batch_size + j, self.n)
                if e != epoch:
                    epoch, perm = e, epoch_permutation(self.n, self.seed, e)
                keys.append(_sample_key(self.seed, e, pos, perm))
            yield keys
            g += self.batch_size * self.world_size


class EndlessBatches:
    """An endless iterator of collated batches with ``state_dict()`` / ``load_state_dict()`` for an exact resume.

    The state counts batches handed to the caller (not those prefetched by workers), so a checkpoint taken between
    two ``next()`` calls resumes at the next batch. Build it with ``endless_batches``.
    """

    def __init__(self, dataset: Dataset, batch_size: int, seed: int = 0, num_workers: int = 0,
                 collate: Callable[[list], Any] | None = None, rank: int = 0, world_size: int = 1,
                 pin_memory: bool = False, prefetch_factor: int = 2) -> None:
        n = len(dataset)
        if n == 0:
            raise ValueError("the dataset is empty: nothing to train on (stage 2 needs series with reports)")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"need 0 <= rank < world_size, got rank {rank}, world_size {world_size}")
        collate = collate or getattr(dataset, "collate", None)
        if collate is None:
            raise ValueError("pass collate, or a dataset with a collate method")
        if batch_size * world_size > n:
            log.warning("a global batch (%d) is larger than the dataset (%d): batches repeat series",
                        batch_size * world_size, n)
        self.dataset, self.batch_size, self.seed, self.num_workers = dataset, batch_size, seed, num_workers
        self.collate, self.rank, self.world_size = collate, rank, world_size
        self.pin_memory, self.prefetch_factor = pin_memory, prefetch_factor
        self.n = n
        self._consumed = 0  # global stream position of the next batch (all ranks' samples counted)
        self._it: Iterator | None = None

    def __iter__(self) -> EndlessBatches:
        return self

    def __next__(self) -> Any:
        if self._it is None:
            sampler = _BatchKeys(self.n, self.batch_size, self.seed, self._consumed, self.rank, self.world_size)
            extra = {"prefetch_factor": self.prefetch_factor} if self.num_workers > 0 else {}
            self._it = iter(DataLoader(self.dataset, batch_sampler=sampler, num_workers=self.num_workers,
                                       collate_fn=self.collate, pin_memory=self.pin_memory, **extra))
        batch = next(self._it)
        self._consumed += self.batch_size * self.world_size
        return batch

    def state_dict(self) -> dict[str, int]:
        """``{"version", "seed", "epoch", "position", "n", "batch_size", "world_size"}`` of the next batch."""
        epoch, position = divmod(self._consumed, self.n)
        return {"version": STATE_VERSION, "seed": self.seed, "epoch": epoch, "position": position, "n": self.n,
                "batch_size": self.batch_size, "world_size": self.world_size}

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state``; running workers are dropped and restarted at the next ``next()``.

        Raises:
            ValueError: the dataset size changed (the stream would no longer be the same).
        """
        if state.get("n") != self.n:
            raise ValueError(f"the saved data state is for {state.get('n')} samples, this dataset has {self.n}: "
                             "the data changed since the checkpoint, so its order cannot be resumed")
        if (state.get("batch_size"), state.get("world_size")) != (self.batch_size, self.world_size):
            log.warning("batch size or world size changed since the checkpoint; the sample stream continues where "
                        "it stopped, but batches are cut differently")
        self.seed = int(state["seed"])
        self._consumed = int(state["epoch"]) * self.n + int(state["position"])
        self.close()

    def close(self) -> None:
        """Stop the worker processes (they restart on the next ``next()``)."""
        it, self._it = self._it, None
        if it is not None and hasattr(it, "_shutdown_workers"):
            it._shutdown_workers()


def endless_batches(dataset: Dataset, batch_size: int, seed: int = 0, num_workers: int = 0,
                    collate: Callable[[list], Any] | None = None, rank: int = 0, world_size: int = 1,
                    pin_memory: bool = False) -> EndlessBatches:
    """Endless, exactly resumable batches of ``dataset`` for ``pretrain.loop.train``.

    Args:
        dataset: ``VisionPairs`` or ``AlignPairs`` (any map-style dataset taking ``(index, sample_seed)`` keys).
        batch_size: samples per batch on this rank.
        seed: data-order and augmentation seed.
        num_workers: DataLoader worker processes (0: load in this process); batches do not depend on it.
        collate: list of samples -> batch; default ``dataset.collate``.
        rank, world_size: under DDP each rank takes its own ``batch_size`` slice of every global batch.
        pin_memory: pin batches for faster host-to-GPU copies.
    """
    return EndlessBatches(dataset, batch_size, seed, num_workers, collate, rank, world_size, pin_memory)


# ---------------------------------------------------------------- validation


class ValBatches:
    """Finite, deterministic validation batches for ``pretrain.metrics.evaluate_retrieval``: every series with a
    report once, unaugmented, with its full report text (findings + impression), tokenised.

    Batches are ``{"volume": [B,1,X,Y,Z], "tokens": tokenize(texts), "study_id": int64[B]}``; iterable many times.

    Args:
        items: item dicts of the validation split (series without a report are left out).
        cache: the deterministic pipeline.
        batch_size: series per batch.
        tokenize: ``list[str] -> Tensor``, e.g. ``MRIClip.tokenize``.
    """

    def __init__(self, items: list[Item], cache: Callable[[SeriesRecord], torch.Tensor], batch_size: int,
                 tokenize: Callable[[list[str]], torch.Tensor]) -> None:
        self.items = [it for it in items if it["report"] is not None]
        self.cache, self.batch_size, self.tokenize = cache, batch_size, tokenize

    def __len__(self) -> int:
        return (len(self.items) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, len(self.items), self.batch_size):
            chunk = self.items[start:start + self.batch_size]
            yield {"volume": torch.stack([_plain(self.cache(it["record"])) for it in chunk]),
                   "tokens": self.tokenize([full_text(it["report"]) for it in chunk]),
                   "study_id": study_ids([it["study_key"] for it in chunk])}
