"""Where in a retrieved series the lesion is: a lesion-localisation decoder (``mri-search localize train``) run on
each hit of a query.

Each hit's series is read again from the path in its payload (as for thumbnails) and passed through the decoder
folder's frozen encoder and heatmap head (``decoders.predict.predict_series``): per hit, a lesion probability map
in the series' own geometry (NIfTI), the predicted lesions with centre and box in RAS mm and the slice of the series
through each (JSON), and an overlay PNG of that slice. A series that cannot be read any more is reported for its
hit and the others go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .searcher import QueryHit
from .thumbs import find_series

log = logging.getLogger(__name__)


@dataclass
class LesionFindings:
    """What ``locate_lesions`` found, by hit rank."""

    decoder: str  # the decoder folder
    threshold: float  # heatmap level of a predicted lesion
    by_rank: dict[int, dict] = field(default_factory=dict)  # rank -> predict_series' summary (strongest lesion...)
    unreadable: dict[int, str] = field(default_factory=dict)  # rank -> why its series could not be read

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"decoder": self.decoder, "threshold": self.threshold,
                "hits": {str(r): v for r, v in self.by_rank.items()},
                "unreadable": {str(r): v for r, v in self.unreadable.items()}}

    def lines(self) -> list[str]:
        """One line per hit for the table output."""
        out = []
        for rank in sorted({*self.by_rank, *self.unreadable}):
            if rank in self.unreadable:
                out.append(f"#{rank}: not readable: {self.unreadable[rank]}")
                continue
            r = self.by_rank[rank]
            top = r.get("strongest")
            if top is None:
                out.append(f"#{rank}: no lesion >= {self.threshold:g} (peak {r['peak_probability']:.2f})  "
                           f"{r['overlay']}")
            else:
                x, y, z = top["centre_ras_mm"]
                out.append(f"#{rank}: {r['lesions']} lesion(s); strongest at RAS ({x:.0f}, {y:.0f}, {z:.0f}) mm, "
                           f"slice {top['slice_index']} of the series, p {top['score']:.2f}  {r['overlay']}")
        return out


def check_decoder(decoder: str | Path) -> None:
    """Fail early (``ValueError``) unless ``decoder`` is a saved lesion-localisation decoder folder."""
    from ..decoders.config import read_meta

    meta = read_meta(decoder, hint="pass the --out of `mri-search localize train` to --lesions")
    task = meta["decoder"].get("task") if isinstance(meta["decoder"], dict) else None
    if task != "localize":
        raise ValueError(f"--lesions {decoder} is a {task or 'unknown'} decoder; pass a `localize train` folder")


def locate_lesions(hits: list[QueryHit], decoder: str | Path, out_dir: str | Path, salt: str | None = None,
                   threshold: float = 0.5, locator=None) -> LesionFindings:
    """Run the localisation decoder on every hit's series; files go to ``out_dir`` as ``NN_<series key>_*``.
    ``locator``: the index's ``Locator``, where the series' files are (``thumbs.find_series``).

    Raises:
        ValueError: ``decoder`` is not a localisation decoder folder (or its encoder cannot be loaded).
    """
    from ..decoders.artifact import load_decoder
    from ..decoders.predict import predict_series

    check_decoder(decoder)
    loaded = load_decoder(decoder)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    found = LesionFindings(decoder=str(decoder), threshold=threshold)
    scans: dict[str, list] = {}
    for hit in hits:
        name = f"{hit.rank:02d}_{(hit.series_key or hit.id)[:12]}"
        try:
            record = find_series(hit, salt, scans, locator)
            found.by_rank[hit.rank] = predict_series(loaded, record, out, threshold, name)
        except Exception as exc:  # a moved or unreadable series is reported for its hit, never fatal
            found.unreadable[hit.rank] = (str(exc).splitlines() or [type(exc).__name__])[0]
            log.warning("lesions of hit %d: %s", hit.rank, found.unreadable[hit.rank])
    return found
