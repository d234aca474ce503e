"""PNGs of indexed series for the page: the three-plane thumbnail of ``query --thumbnails`` and single slices of
the viewer, both drawn from the series as the model saw it (read from where the locator says, preprocessed with the
model's own preprocessing: RAS, the model's voxel size, intensities scaled to [0, 1] by per-series percentiles).

Reading and preprocessing a series costs far more than drawing it, so volumes and thumbnails are kept in small
least-recently-used caches; one lock serialises the reads (they are CPU-bound and matplotlib's state is not
shared across threads safely).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

import numpy as np

from ..query.searcher import QueryHit

PLANES = ("axial", "coronal", "sagittal")
# Window/level presets on the [0, 1] scale of the preprocessed volume (MRI has no absolute units such as CT's HU,
# so the presets widen or narrow the per-series percentile range rather than name tissues).
WINDOW_PRESETS: dict[str, tuple[float, float]] = {  # name -> (window, level)
    "default": (1.0, 0.5),
    "bright": (0.6, 0.3),
    "contrast": (0.5, 0.5),
    "soft": (1.4, 0.6),
}


class LRU:
    """A small least-recently-used mapping."""

    def __init__(self, size: int) -> None:
        self.size = max(1, int(size))
        self._d: OrderedDict = OrderedDict()

    def get(self, key):
        if key in self._d:
            self._d.move_to_end(key)
            return self._d[key]
        return None

    def put(self, key, value) -> None:
        self._d[key] = value
        self._d.move_to_end(key)
        while len(self._d) > self.size:
            self._d.popitem(last=False)


class SeriesImages:
    """Volumes, thumbnails and slices of indexed series.

    Args:
        preprocess_cfg: the model's ``PreprocessConfig``.
        salt: the index's identifier salt (to find a series among the others of its folder).
        cache_items: volumes and thumbnails kept.
        locator: the index's ``Locator`` (where the series' files are; ``thumbs.find_series``).
    """

    def __init__(self, preprocess_cfg, salt: str, cache_items: int = 64, locator=None) -> None:
        self.cfg = preprocess_cfg
        self.salt = salt
        self.locator = locator
        self._volumes = LRU(max(2, cache_items // 4))
        self._thumbs = LRU(cache_items)
        self._scans: dict[str, list] = {}  # folder scanned -> its SeriesRecords (thumbs.find_series)
        self._lock = threading.Lock()

    def volume(self, hit: QueryHit) -> np.ndarray:
        """The hit's preprocessed volume ``[X, Y, Z]`` float32 in [0, 1].

        Raises:
            ValueError: the series cannot be read any more (moved, deleted, unreadable), with the reason.
        """
        key = (hit.series_key, hit.path)
        with self._lock:
            vol = self._volumes.get(key)
            if vol is None:
                from ..query.thumbs import series_volume

                try:
                    vol = series_volume(hit, self.cfg, self.salt, self._scans, self.locator)
                except ValueError:
                    raise
                except Exception as exc:  # any reason a stored series cannot be drawn: one line
                    raise ValueError((str(exc).splitlines() or [type(exc).__name__])[0]) from None
                self._volumes.put(key, vol)
            return vol

    def thumbnail(self, hit: QueryHit) -> bytes:
        """The three-plane PNG of ``query --thumbnails`` (a tile saying why when the series cannot be read)."""
        from ..query.thumbs import render_tile

        key = (hit.series_key, hit.path)
        png = self._thumbs.get(key)
        if png is not None:
            return png
        try:
            vol, problem = self.volume(hit), ""
        except ValueError as exc:
            vol, problem = None, str(exc)
        buf = io.BytesIO()
        with self._lock:
            render_tile(hit, vol, buf, problem)
        png = buf.getvalue()
        self._thumbs.put(key, png)
        return png

    def slice_png(self, hit: QueryHit, plane: str, index: int | None, window: float, level: float) -> bytes:
        """One slice of the hit's volume as a grey PNG, oriented as the thumbnails (radiological convention).

        Raises:
            ValueError: unknown plane, index out of range, window not positive, unreadable series.
        """
        from PIL import Image

        img = slice_of(self.volume(hit), plane, index)
        if not window > 0:
            raise ValueError(f"window must be positive, got {window}")
        lo = level - window / 2
        u8 = (np.clip((img - lo) / window, 0.0, 1.0) * 255).astype(np.uint8)  # [rows, cols]
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(u8), mode="L").save(buf, format="PNG")
        return buf.getvalue()


def slice_of(volume: np.ndarray, plane: str, index: int | None) -> np.ndarray:
    """Slice ``index`` (None: the middle one) of a RAS volume ``[X, Y, Z]`` in ``plane``, rows top to bottom.

    Raises:
        ValueError: unknown plane or index out of range.
    """
    axis = {"sagittal": 0, "coronal": 1, "axial": 2}.get(plane)
    if axis is None:
        raise ValueError(f"plane must be one of {', '.join(PLANES)}, got {plane!r}")
    n = volume.shape[axis]
    i = n // 2 if index is None else int(index)
    if not 0 <= i < n:
        raise ValueError(f"slice index {i} out of range for the {plane} plane (0 to {n - 1})")
    img = np.take(volume, i, axis=axis)  # the two remaining axes, in RAS order
    return img.T[::-1, ::-1]  # as thumbs.mid_slices: superior/anterior up, patient's right on the left


def slice_counts(volume: np.ndarray) -> dict[str, int]:
    """Slices per plane."""
    return {"sagittal": int(volume.shape[0]), "coronal": int(volume.shape[1]), "axial": int(volume.shape[2])}
