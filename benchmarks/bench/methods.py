"""Scorers: each turns a task into one ``[T, S]`` score matrix (texts x series); t2i ranks its rows, i2t its columns.

* ``EmbeddingScorer``: a two-tower model (the model under test, stage-2-only, the same architecture with random
  weights): cosine of report-tower and image-tower embeddings, exactly what the index serves.
* ``random_scores``: a seeded random ranking.
* ``metadata_scores``: what a PACS search does today: TF-IDF cosine between the text and the series' DICOM
  descriptions (series, study, protocol) and BodyPartExamined, tokenised on non-letters ("t2_tse_tra", "Knee^Routine").
* ``shortcut_scores``: geometry and intensity-histogram features only (``benchmarks.synth_shortcut``): a gradient-
  boosting classifier fitted on the archive's other splits predicts the task label of each series; a text scores
  a series by the predicted probability of the text's own label. The text's label is handed over for free (an
  oracle reading of the query), so this is an upper bound for any method that sees only acquisition settings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from mri_search.embed import embed_series

from .tasks import Task

log = logging.getLogger(__name__)


class EmbeddingScorer:
    """Embeds every series once per model; texts per task.

    Args:
        loaded: a ``LoadedModel`` (model + its preprocessing).
        workers: DataLoader workers for reading and preprocessing series.
        batch_size: series per encoder call.
        cache_dir: an on-disk preprocessing cache shared by the scorers of one run ("" or None: none).
    """

    def __init__(self, loaded, workers: int = 2, batch_size: int = 8, cache_dir: str | None = None) -> None:
        self.loaded, self.workers, self.batch_size, self.cache_dir = loaded, workers, batch_size, cache_dir or None
        self.image: dict[str, np.ndarray] = {}  # series key -> embedding
        self.pooled: dict[str, np.ndarray] = {}  # series key -> the image tower's pooled feature (probes)
        self.failed: list = []
        self.seconds = 0.0

    def embed_series(self, series) -> None:
        """Image embeddings of ``series`` not embedded yet (failures recorded, never raised)."""
        import time

        todo = [s.record for s in series if s.record.key not in self.image]
        if not todo:
            return
        t0 = time.perf_counter()
        for batch in embed_series(self.loaded, todo, None, batch_size=self.batch_size, workers=self.workers,
                                  features=("pooled",), cache_dir=self.cache_dir):
            self.image.update(zip((r.key for r in batch.records), batch.image))
            self.pooled.update(zip((r.key for r in batch.records), batch.features["pooled"]))
            self.failed += batch.failed
        self.seconds += time.perf_counter() - t0

    @torch.inference_mode()
    def embed_texts(self, texts: Sequence[str], batch: int = 32) -> np.ndarray:
        model = self.loaded.model
        out = []
        for i in range(0, len(texts), batch):
            tokens = model.tokenize(list(texts[i:i + batch]))
            out.append(model.encode_report(tokens).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, model.embed_dim), np.float32)

    def scores(self, task: Task) -> np.ndarray:
        self.embed_series(task.series)
        txt = self.embed_texts(task.texts)  # [T, D]
        dim = txt.shape[1]
        img = np.stack([self.image.get(k, np.full(dim, np.nan, np.float32)) for k in task.series_ids])  # [S, D]
        scores = txt @ img.T
        return np.nan_to_num(scores, nan=-2.0)  # a series that failed to embed ranks last


def random_scores(task: Task, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((len(task.texts), len(task.series))).astype(np.float32)


_TOKEN = re.compile(r"[^a-z0-9]+")


def _metadata_text(series) -> str:
    r = series.record
    return " ".join(x for x in (r.series_description, r.study_description, r.protocol_name, r.body_part) if x)


def metadata_scores(task: Task) -> np.ndarray:
    """TF-IDF cosine between texts and the series' header descriptions."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [_metadata_text(s) for s in task.series]
    vec = TfidfVectorizer(tokenizer=lambda t: [w for w in _TOKEN.split(t.lower()) if w], token_pattern=None,
                          lowercase=False)
    vec.fit(docs + list(task.texts))
    return (vec.transform(task.texts) @ vec.transform(docs).T).toarray().astype(np.float32)


class ShortcutScorer:
    """Geometry + histogram features per series (NIfTI), cached across tasks."""

    def __init__(self, archive_of: dict[str, Path], seed: int = 0) -> None:
        self.archive_of, self.seed = archive_of, seed  # series key -> its archive folder
        self.features: dict[str, np.ndarray] = {}

    def feature(self, s) -> np.ndarray | None:
        """Geometry + histogram features of one series (cached), None without a NIfTI file."""
        from benchmarks.synth_shortcut import series_features

        key = s.record.key
        if key not in self.features:
            path = s.row.get("nifti_path")
            if not path:
                return None
            self.features[key] = series_features(self.archive_of[key] / path, float(s.row["field_strength"] or 1.5))
        return self.features[key]

    def scores(self, task: Task, fit_series: list, fit_label) -> np.ndarray | None:
        """``None`` when the archive has no NIfTI files (features are read from them)."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        x_fit = [self.feature(s) for s in fit_series]
        x_eval = [self.feature(s) for s in task.series]
        if any(x is None for x in x_fit + x_eval) or not x_fit:
            log.warning("shortcut baseline needs NIfTI files and training series: left out for %s", task.name)
            return None
        y_fit = np.array([str(fit_label(s)) for s in fit_series])
        clf = HistGradientBoostingClassifier(max_iter=200, random_state=self.seed).fit(np.stack(x_fit), y_fit)
        proba = clf.predict_proba(np.stack(x_eval))  # [S, C]
        col = {c: i for i, c in enumerate(clf.classes_)}
        out = np.zeros((len(task.texts), len(task.series)), np.float32)
        for t, lab in enumerate(task.text_labels):
            j = col.get(str(lab))
            if j is not None:
                out[t] = proba[:, j]
        return out
