"""What a finding looks like on the sequences of this study, derived from the tissue table.

Signal words are only ever written for sequences that were acquired: T2 words need a T2-weighted series, diffusion
words a DWI or ADC series, enhancement words a post-contrast series (report_structure.md section 10). The
lesion-to-reference ratios come from ``physics/tissues.py`` at the study's field strength, so the text says what the
simulated image shows (e.g. "restricted diffusion" only when the lesion ADC is below its surroundings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..catalog import HISTOLOGY_TISSUE
from ..physics.tissues import Tissue, tissue_table
from ..regions import region_spec
from ..types import Lesion, StudyPlan
from .style import chance, pick


@dataclass
class Ctx:
    """Everything a finding describer needs besides the lesion."""

    plan: StudyPlan
    rng: np.random.Generator
    seqs: frozenset[str]  # sequence labels acquired (T1, T2, T2FS, STIR, PD, PDFS, FLAIR, DWI, ADC, T1C)
    terse: bool  # terse reporting style: fewer words, fewer pertinent negatives
    hist_known: bool  # the history states a tissue diagnosis (biopsy-proven)

    @property
    def reference(self) -> str:
        """The tissue a lesion's signal is compared with in this region (``RegionSpec.reference_tissue``)."""
        return region_spec(self.plan.region).reference_tissue

    @property
    def t2(self) -> bool:
        return bool(self.seqs & {"T2", "T2FS"})

    @property
    def fluid(self) -> bool:
        """Any fluid-sensitive series (T2, T2 FS, STIR, PD FS)."""
        return bool(self.seqs & {"T2", "T2FS", "STIR", "PDFS"})

    @property
    def dwi(self) -> bool:
        return bool(self.seqs & {"DWI", "ADC"})

    @property
    def t1c(self) -> bool:
        return "T1C" in self.seqs

    @property
    def flair(self) -> bool:
        return "FLAIR" in self.seqs

    @property
    def t1(self) -> bool:
        return "T1" in self.seqs

    def fluid_word(self) -> str:
        """Name of a fluid-sensitive series that was acquired ('T2', 'STIR', 'PD FS', ...)."""
        names = [n for s, n in (("T2", "T2"), ("T2FS", "T2 FS"), ("STIR", "STIR"), ("PDFS", "PD FS"),
                                ("T2", "T2-weighted")) if s in self.seqs]
        return pick(self.rng, names) if names else ""


@dataclass
class Described:
    """A finding turned into text, waiting to be placed in the report."""

    key: str  # "kind:site"
    slot: str  # findings slot (organ) in the region's search-pattern order
    sentences: list[str]  # findings sentences, final wording
    impression: str | None = None  # impression item; None: findings only
    priority: int = 50  # impression order, lower first
    blocks: set[str] = field(default_factory=set)  # tags of normal statements this finding contradicts
    extra: dict[str, list[str]] = field(default_factory=dict)  # sentences for other slots (nodes, ...)
    recommendation: str | None = None
    extra_keys: list[str] = field(default_factory=list)  # further "kind:site" keys described (nodes)
    omitted_keys: list[str] = field(default_factory=list)  # parts left out (a small node, ...)


def lesion_tissue(lesion: Lesion) -> Tissue | None:
    """The lesion's tissue row: its own key, else the histology's, else None."""
    table = tissue_table()
    for key in (lesion.tissue, HISTOLOGY_TISSUE.get(lesion.histology or "", "")):
        if key and key in table:
            return table[key]
    return None


def _t2(t: Tissue, tesla: float) -> float:
    return t.t2[0] if tesla < 2 else t.t2[1]


def t2_ratio(lesion: Lesion, ref: str, tesla: float) -> float | None:
    """Lesion T2 / reference T2 at the study's field strength (None when the tissue is unknown)."""
    t = lesion_tissue(lesion)
    if t is None:
        return None
    return _t2(t, tesla) / _t2(tissue_table()[ref], tesla)


def t2_words(ratio: float | None, rng: np.random.Generator, hn: bool = False) -> str:
    """Signal adjective for a T2 ratio ('intermediate', 'markedly hyperintense', ...); '' when unknown."""
    if ratio is None:
        return ""
    if ratio < 0.75:
        return pick(rng, ("hypointense", "low", "low"))
    if ratio < 1.35:
        return pick(rng, ("isointense", "intermediate")) if hn else "isointense"
    if hn and ratio < 3.5:
        return pick(rng, ("intermediate", "intermediate", "intermediate-to-high", "mildly hyperintense"))
    if ratio < 2.0:
        return pick(rng, ("mildly hyperintense", "slightly hyperintense"))
    if ratio < 4.0:
        return pick(rng, ("hyperintense", "high"))
    return pick(rng, ("markedly hyperintense", "very high", "fluid-bright"))


_AS_SIGNAL = {"hypointense": "low", "isointense": "intermediate", "hyperintense": "high",
              "markedly hyperintense": "markedly high", "mildly hyperintense": "mildly increased",
              "slightly hyperintense": "slightly increased"}


def t2_signal(word: str) -> str:
    """'hyperintense' -> 'high T2 signal' (a noun phrase to list after 'shows')."""
    return f"{_AS_SIGNAL.get(word, word)} T2 signal"


def restricted(lesion: Lesion, ref: str) -> bool | None:
    """True when the lesion ADC is clearly below its reference tissue (None when unknown)."""
    t = lesion_tissue(lesion)
    if t is None:
        return None
    return t.adc < 0.9 * tissue_table()[ref].adc and t.adc < 1.4


def adc_value(lesion: Lesion, rng: np.random.Generator) -> str:
    """A quoted ADC, in one of the written forms ('0.9 x 10^-3 mm2/s', '900 x 10^-6 mm2/s')."""
    t = lesion_tissue(lesion)
    v = t.adc if t else 1.0
    v = v * float(rng.uniform(0.93, 1.07))
    if chance(rng, 0.7):
        return f"{v:.1f} x 10^-3 mm2/s" if chance(rng, 0.5) else f"{v:.2f} x 10^-3 mm2/s"
    return f"{int(round(v * 100)) * 10} x 10^-6 mm2/s"


def diffusion_phrase(lesion: Lesion, ctx: Ctx, ref: str, quote: bool = True) -> str:
    """'with restricted diffusion (ADC ...)' / 'without restricted diffusion' / '' (no DWI, unknown tissue)."""
    if not ctx.dwi:
        return ""
    r = restricted(lesion, ref)
    if r is None:
        return ""
    rng = ctx.rng
    if r:
        base = pick(rng, ("restricted diffusion", "restricted diffusion", "diffusion restriction",
                          "high b-value signal with low ADC", "low ADC values"))
        if quote and chance(rng, 0.35):
            base += f" (ADC {pick(rng, ('~', 'approx. ', 'mean '))}{adc_value(lesion, rng)})"
        return base
    return pick(rng, ("no restricted diffusion", "no diffusion restriction", "high ADC values",
                      "facilitated diffusion"))


def enhancement_word(lesion: Lesion, ctx: Ctx, necrotic: bool = False) -> str:
    """'avid homogeneous', 'moderate heterogeneous', 'rim', 'no' ... ('' without a post-contrast series)."""
    if not ctx.t1c:
        return ""
    t = lesion_tissue(lesion)
    gd = t.gd_mM if t else 0.3
    rng = ctx.rng
    if gd <= 0.01:
        return "no"
    if necrotic:
        return pick(rng, ("peripheral", "rim", "heterogeneous", "thick irregular rim"))
    grade = "mild" if gd < 0.3 else "moderate" if gd < 0.6 else pick(rng, ("avid", "intense", "marked"))
    pattern = pick(rng, ("", "homogeneous ", "heterogeneous ")) if gd >= 0.3 else ""
    return f"{grade} {pattern}".strip()
