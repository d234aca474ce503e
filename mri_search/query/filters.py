"""Query filters: what a user asks for (``--sequence T2 --plane axial --exclude-study UID``) as the store's neutral
filter form (``mri_search.store.layout.parse_filter``), which both backends turn into Qdrant payload filters.

Values are matched against the payload as the indexer stored it: sequence families and planes in their canonical
spelling (``T2``, ``axial``; given in any case), body part and manufacturer as the DICOM header states them (tried
as given, upper, lower and title case, since exports differ: ``KNEE``, ``Knee``), studies by their salted key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..ingest.phi import hash_id
from ..ingest.sequence import SEQUENCES
from ..store.layout import NOT

PLANES = ("axial", "sagittal", "coronal", "oblique")
_KEY = re.compile(r"^[0-9a-f]{32}$")  # a study key as the payload holds it (ingest.phi.hash_id)
# the usual DICOM Manufacturer strings of the three main vendors, so that "--manufacturer ge" finds them
VENDORS = {
    "ge": ("GE MEDICAL SYSTEMS", "GE HEALTHCARE", "GE Healthcare", "GE"),
    "siemens": ("SIEMENS", "Siemens", "Siemens Healthineers", "SIEMENS HEALTHINEERS"),
    "philips": ("Philips Medical Systems", "Philips", "Philips Healthcare", "PHILIPS"),
}


@dataclass(frozen=True)
class QueryFilters:
    """Restrictions of a query to series whose payload matches; empty fields restrict nothing."""

    sequences: tuple[str, ...] = ()  # any of these sequence families (T1, T2, FLAIR, ..., see ingest.SEQUENCES)
    planes: tuple[str, ...] = ()  # any of axial, sagittal, coronal, oblique
    body_parts: tuple[str, ...] = ()  # any of these BodyPartExamined values
    manufacturers: tuple[str, ...] = ()  # any of these scanner makers (ge, siemens, philips, or as stated)
    contrast: bool | None = None  # True: post-contrast series only; False: pre-contrast only
    fat_suppressed: bool | None = None  # True / False: with / without fat suppression
    field_strength: float | None = None  # tesla, matched within +-0.25 T (1.5, 3)
    exclude_studies: tuple[str, ...] = ()  # StudyInstanceUIDs (or study keys from --json output) to leave out
    # labels parsed from the study's report (mri_search.report_labels): any of these body regions / tumour sub-sites
    report_regions: tuple[str, ...] = ()
    tumour_sites: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("sequences", "planes", "body_parts", "manufacturers", "exclude_studies", "report_regions",
                     "tumour_sites"):
            object.__setattr__(self, name, tuple(_split(getattr(self, name))))
        if self.field_strength is not None and not 0 < self.field_strength < 20:
            raise ValueError(f"--field-strength is in tesla (e.g. 1.5 or 3), got {self.field_strength}")

    def is_empty(self) -> bool:
        """Whether nothing is restricted."""
        return self.to_filter("") is None

    def to_filter(self, salt: str) -> dict | None:
        """The neutral filter dict, or None when nothing is restricted.

        Args:
            salt: the identifier salt the collection was indexed with (study exclusions are salted hashes).

        Raises:
            ValueError: an unknown sequence family or plane (the known ones are listed).
        """
        f: dict = {}
        if self.sequences:
            f["sequence"] = _canonical(self.sequences, SEQUENCES, "--sequence")
        if self.planes:
            f["plane"] = _canonical(self.planes, PLANES, "--plane")
        if self.body_parts:
            f["body_part"] = _spellings(self.body_parts)
        if self.manufacturers:
            f["manufacturer"] = _spellings(self.manufacturers, VENDORS)
        if self.contrast is not None:
            f["post_contrast"] = bool(self.contrast)
        if self.fat_suppressed is not None:
            f["fat_suppressed"] = bool(self.fat_suppressed)
        if self.field_strength is not None:
            f["field_strength"] = {"gte": self.field_strength - 0.25, "lte": self.field_strength + 0.25}
        if self.report_regions:
            f["report_labels.region"] = _canonical(self.report_regions, _label_values("region"), "--report-region")
        if self.tumour_sites:
            f["report_labels.tumour_site"] = _canonical(self.tumour_sites, _label_values("site"), "--tumour-site")
        if self.exclude_studies:
            f[NOT] = {"study_key": study_keys(self.exclude_studies, salt)}
        return f or None


def study_keys(studies: Iterable[str], salt: str) -> list[str]:
    """The payload keys of studies given by StudyInstanceUID (hashed with ``salt``, as ``ingest.dicom`` does) or
    already as a key (32 lower-case hex digits, as ``--json`` output shows them)."""
    keys: list[str] = []
    for s in studies:
        keys.append(hash_id(salt, s))
        if _KEY.match(s):
            keys.append(s)
    return list(dict.fromkeys(k for k in keys if k))


def _label_values(kind: str) -> tuple[str, ...]:
    """The body regions (``region``) or tumour sub-sites (``site``) the report-label vocabulary can give."""
    from ..report_labels.parser import default_vocabulary

    vocab = default_vocabulary()
    if kind == "region":
        return tuple(dict.fromkeys(t.region for t in vocab.terms if t.region))
    return tuple(dict.fromkeys(t.value for t in vocab.of("site")))


def _split(values: Iterable[str] | str) -> list[str]:
    """``("T1,T2", "FLAIR")`` -> ``["T1", "T2", "FLAIR"]`` (repeatable options and comma lists alike)."""
    if isinstance(values, str):
        values = [values]
    out = [v.strip() for value in values for v in str(value).split(",")]
    return list(dict.fromkeys(v for v in out if v))


def _canonical(values: tuple[str, ...], known: tuple[str, ...], option: str) -> list[str]:
    by_lower = {k.lower(): k for k in known}
    bad = [v for v in values if v.lower() not in by_lower]
    if bad:
        raise ValueError(f"{option} {', '.join(bad)}: unknown; choose from {', '.join(known)}")
    return list(dict.fromkeys(by_lower[v.lower()] for v in values))


def _spellings(values: tuple[str, ...], aliases: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    out: list[str] = []
    for v in values:
        out += [v, v.upper(), v.lower(), v.title(), *(aliases or {}).get(v.lower(), ())]
    return list(dict.fromkeys(out))
