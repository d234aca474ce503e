"""Small helpers the report generator writes with: choice, phrase expansion, spelling, measurements, headings.

Templates throughout the report modules are written in US spelling and may hold choice groups ``[a|b|c]``
(one alternative is drawn; an empty alternative drops the group, ``[very |]``) and ``{field}`` slots filled
afterwards. ``to_style`` turns a finished text into UK spelling where the report style asks for it.
"""

from __future__ import annotations

import math
import re

import numpy as np

_GROUP = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")
_A_AN = re.compile(r"\b([Aa]) (?=[aeioAEIO]|8|11\b|11\.|18\b|18\.)")


def pick(rng: np.random.Generator, seq):
    """One element of a non-empty sequence."""
    return seq[int(rng.integers(len(seq)))]


def chance(rng: np.random.Generator, p: float) -> bool:
    """True with probability ``p``."""
    return bool(rng.random() < p)


def expand(template: str, rng: np.random.Generator, **fields) -> str:
    """Draw one alternative for every ``[a|b]`` group, then fill ``{field}`` slots.

    Groups never nest, so one left-to-right substitution draws them in a fixed order (deterministic per rng).
    """
    text = _GROUP.sub(lambda m: pick(rng, m.group(1).split("|")), template)
    if fields:
        text = text.format_map(fields)
    return tidy(text)


def phrase(options, rng: np.random.Generator, **fields) -> str:
    """Pick one template from ``options`` (a list, or one string with ``||`` between templates) and expand it."""
    if isinstance(options, str):
        options = options.split("||")
    return expand(pick(rng, options), rng, **fields)


def tidy(text: str) -> str:
    """Collapse doubled spaces and spaces before punctuation left by empty alternatives."""
    text = re.sub(r" {2,}", " ", text)
    text = re.sub(r" +([,.;:)])", r"\1", text)
    text = re.sub(r"\( +", "(", text)
    text = re.sub(r"\(([^()]*) \(([^()]*)\)\)", r"(\1, \2)", text)
    text = re.sub(r"\b(\w+) \1\b", r"\1", text)  # "nasopharyngeal nasopharyngeal carcinoma"
    text = _A_AN.sub(lambda m: m.group(1) + "n ", text)  # "a infiltrative", "a 8 mm" -> "an ..."  # "(2 x 1 cm (AP x TR))" -> "(2 x 1 cm, AP x TR)"
    return text.strip()


def cap(text: str) -> str:
    """Capitalise the first letter only (keeps abbreviations such as 'T2' or 'ADC' intact)."""
    if re.match(r"[a-z]\d", text):  # 'p16-positive', 'b800': written lower case even at a sentence start
        return text
    return text[:1].upper() + text[1:] if text else text


def sentence(text: str) -> str:
    """A capitalised sentence ending with a full stop."""
    text = tidy(text)
    if not text:
        return text
    text = cap(text)
    return text if text[-1] in ".?!" else text + "."


def join_words(items: list[str], style: str = "US") -> str:
    """'a', 'a and b', 'a, b and c' (US adds the serial comma)."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    comma = "," if style == "US" else ""
    return ", ".join(items[:-1]) + f"{comma} and {items[-1]}"


# ---- spelling ---------------------------------------------------------------------------------------------
US_TO_UK: dict[str, str] = {
    "tumor": "tumour", "tumors": "tumours", "tumoral": "tumoural", "edema": "oedema", "edematous": "oedematous",
    "hemorrhage": "haemorrhage", "hemorrhagic": "haemorrhagic", "hemangioma": "haemangioma",
    "hemangiomas": "haemangiomas", "hematoma": "haematoma", "hemosiderin": "haemosiderin",
    "center": "centre", "centered": "centred", "epicenter": "epicentre", "characterize": "characterise",
    "characterized": "characterised", "characterization": "characterisation", "favor": "favour",
    "favored": "favoured", "favoring": "favouring", "ischemic": "ischaemic", "ischemia": "ischaemia",
    "esophagus": "oesophagus", "esophageal": "oesophageal", "gray": "grey", "fiber": "fibre", "fibers": "fibres",
    "localized": "localised", "anesthesia": "anaesthesia", "leukemia": "leukaemia", "estrogen": "oestrogen",
    "fetal": "foetal", "orthopedic": "orthopaedic", "hematogenous": "haematogenous", "millimeter": "millimetre",
    "centimeter": "centimetre", "color": "colour", "behavior": "behaviour", "recognized": "recognised",
    "caliber": "calibre", "artifact": "artefact", "artifacts": "artefacts", "visualized": "visualised",
    "hemarthrosis": "haemarthrosis", "categorization": "categorisation", "non-keratinizing": "non-keratinising",

}
UK_TO_US: dict[str, str] = {v: k for k, v in US_TO_UK.items()}
_US_RE = re.compile(r"\b(" + "|".join(sorted(US_TO_UK, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def _swap(m: re.Match) -> str:
    word = m.group(0)
    uk = US_TO_UK[word.lower()]
    if word.isupper():
        return uk.upper()
    return cap(uk) if word[0].isupper() else uk


def to_style(text: str, style: str) -> str:
    """US templates -> UK spelling when ``style == 'UK'`` (case kept: 'Tumor' -> 'Tumour', 'EDEMA' -> 'OEDEMA')."""
    return _US_RE.sub(_swap, text) if style == "UK" else text


# ---- measurements -----------------------------------------------------------------------------------------
def round_half_up(x: float, ndigits: int = 0) -> float:
    """Round as a person does (2.25 -> 2.3), not banker's rounding."""
    f = 10.0 ** ndigits
    return math.floor(x * f + 0.5 + 1e-9) / f


def mm_str(mm: float) -> str:
    """Whole millimetres ('8')."""
    return str(int(round_half_up(mm)))


def cm_str(mm: float) -> str:
    """Centimetres with one decimal ('2.3')."""
    return f"{round_half_up(mm / 10.0, 1):.1f}"


def size_text(size_mm, rng: np.random.Generator, dims: int | None = None, unit: str | None = None) -> str:
    """A radiologist's measurement of an (AP, TR, CC) size.

    Args:
        size_mm: (AP, TR, CC) diameters in mm.
        rng: random generator.
        dims: 1 (longest diameter), 2 (the two axial diameters, longest first) or 3 (AP x TR x CC, labelled);
            drawn when None.
        unit: "mm" or "cm"; drawn when None (always mm below 10 mm).

    Returns:
        e.g. "2.3 x 1.8 cm", "23 x 18 mm", "2.3 x 1.8 x 2.6 cm (AP x TR x CC)", "8 mm".
    """
    ap, tr, cc = (float(v) for v in size_mm)
    largest = max(ap, tr, cc)
    if dims is None:
        dims = int(pick(rng, (1, 1, 2, 2, 3)))
    if unit is None:
        unit = "mm" if largest < 10 or chance(rng, 0.35) else "cm"
    if largest < 10:
        unit = "mm"
    f = mm_str if unit == "mm" else cm_str
    if dims == 1 or min(ap, tr) <= 0:
        return f"{f(largest)} {unit}"
    if dims == 2:
        a, b = sorted((ap, tr), reverse=True)
        return f"{f(a)} x {f(b)} {unit}"
    label = pick(rng, (" (AP x TR x CC)", " (AP x TR x CC)", " (AP x transverse x CC)", ""))
    return f"{f(ap)} x {f(tr)} x {f(cc)} {unit}{label}"


# ---- headings ---------------------------------------------------------------------------------------------
HEADINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "US": {
        "exam": ("EXAM", "EXAMINATION", "PROCEDURE", "STUDY"),
        "history": ("HISTORY", "CLINICAL HISTORY", "INDICATION", "CLINICAL INDICATION", "REASON FOR EXAM"),
        "technique": ("TECHNIQUE", "TECHNIQUE", "PROTOCOL", "SEQUENCES"),
        "comparison": ("COMPARISON", "COMPARISON", "PRIOR STUDIES"),
        "findings": ("FINDINGS", "FINDINGS", "FINDINGS", "DESCRIPTION"),
        "impression": ("IMPRESSION", "IMPRESSION", "IMPRESSION", "ASSESSMENT", "SUMMARY"),
        "recommendation": ("RECOMMENDATION", "RECOMMENDATIONS", "FOLLOW-UP"),
    },
    "UK": {
        "exam": ("EXAMINATION", "Examination", "Exam"),
        "history": ("CLINICAL DETAILS", "Clinical details", "Clinical information", "CLINICAL QUESTION",
                    "Indication"),
        "technique": ("TECHNIQUE", "Technique", "Sequences", "Method"),
        "comparison": ("COMPARISON", "Comparison", "Previous imaging", "PREVIOUS IMAGING"),
        "findings": ("FINDINGS", "Findings", "REPORT", "Report"),
        "impression": ("CONCLUSION", "Conclusion", "OPINION", "Opinion", "IMPRESSION"),
        "recommendation": ("RECOMMENDATION", "Recommendation", "Advice", "ADVICE"),
    },
}


def headings(style: str, rng: np.random.Generator) -> dict[str, str]:
    """One heading per canonical section, drawn consistently (all caps or all title case within a report)."""
    table = HEADINGS[style]
    upper = chance(rng, 0.75 if style == "US" else 0.5)
    out = {}
    for key, options in table.items():
        h = pick(rng, options)
        out[key] = h.upper() if upper else h[:1].upper() + h[1:].lower()
    return out


def date_text(yyyymmdd: str, style: str) -> str:
    """'03/12/2024' (US month first) or '12/03/2024' (UK day first)."""
    y, m, d = yyyymmdd[:4], yyyymmdd[4:6], yyyymmdd[6:8]
    return f"{m}/{d}/{y}" if style == "US" else f"{d}/{m}/{y}"


def field_text(tesla: float, rng: np.random.Generator) -> str:
    """'3T', '3 T', '3.0 T', '1.5T', '1.5 Tesla'."""
    base = "1.5" if tesla < 2 else pick(rng, ("3", "3", "3.0"))
    return base + pick(rng, ("T", "T", " T", " Tesla"))
