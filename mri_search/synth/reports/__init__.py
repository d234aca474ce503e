"""Radiology reports of synthetic studies: ``write_report`` (``compose.py``) and the one-line ``indication``.

The head of a report (exam, history, technique, comparison) is ``history.py``; findings are described by kind in
``hn.py`` (head and neck), ``findings.py`` (brain, spine), ``body.py`` (breast, chest, heart, abdomen, pelvis) and
``msk.py`` (knee, shoulder) with the shared vocabulary of ``signals.py`` and ``style.py``. What is region-keyed
(exam titles, normal statements and impressions, reference tissue) comes from the region's spec
(``regions/specs/<region>.py``).
"""

from .compose import Report, indication, write_report

__all__ = ["Report", "indication", "write_report"]
