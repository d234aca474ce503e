"""The probing tasks on generated archives: a label for each series from the ground-truth manifest.

Shipped as examples of ``mri-search probe`` (``python -m benchmarks.probe_labels`` writes their label files) and
scored by ``mri-search bench --probes``. A task's label of a series is ``None`` when the series is not part of it.

| task | kind | label |
|---|---|---|
| ``body_region`` | classification | the study's body region (brain, head_neck, spine, ...) |
| ``sequence`` | classification | the series' sequence (T1, T2, FLAIR, DWI, ADC, ...) |
| ``tumour_present`` | classification | ``yes`` when the study has a tumour or mass with a sub-site, else ``no`` |
| ``tumour_site`` | classification | that sub-site (liver segment, lung lobe, head-and-neck sub-site, ...); tumour
  series only |
| ``age`` | regression | the patient's age in years |

Labels are the study's: a lesion outside a series' coverage still labels it (as a report would).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProbeTask:
    """One probing task."""

    name: str
    kind: str  # classification | regression
    label: Callable[[dict], object]  # manifest row -> label, None when the series is not part of the task
    about: str  # one line for reports


PROBE_TASKS: dict[str, ProbeTask] = {t.name: t for t in (
    ProbeTask("body_region", "classification", lambda r: r["body_region"], "body region of the study"),
    ProbeTask("sequence", "classification", lambda r: r["sequence"], "sequence of the series"),
    ProbeTask("tumour_present", "classification", lambda r: "yes" if r["tumor_site"] else "no",
              "a tumour or mass in the study"),
    ProbeTask("tumour_site", "classification", lambda r: r["tumor_site"] or None,
              "the tumour's sub-site, among tumour studies"),
    ProbeTask("age", "regression", lambda r: None if r["age"] is None else float(r["age"]), "patient age, years"),
)}
