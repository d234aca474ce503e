"""Labels read from a radiology report's text alone: body region and organs, tumour presence, sub-site and
histology, the side of the main finding, contrast.

Rules over the vocabulary's mentions (``pipeline``), each negated, uncertain or affirmed:

- **region**: every organ or sub-site named votes for its region, a mention in the exam title five times.
- **tumour**: ``present`` when the findings or impression affirm a tumour word or a histology, ``uncertain`` when
  they only raise one ("cannot exclude a mass"), ``absent`` otherwise.
- **tumour_site** (head and neck) and **histology**: affirmed mentions weighted by section (impression 3, findings
  and history 2) and by context (x1 in a sentence that names a tumour or histology, x0.25 elsewhere, x0.3 after a
  ``secondary`` word such as "extending to" or "node"); the heaviest wins. A specific histology (HPV status, NPC)
  beats plain SCC when both are named.
- **laterality**: the side of the main finding: for a head-and-neck tumour the side named nearest its site; else
  the side nearest the first affirmed finding of the impression (of the findings when there is no impression)
  that no ``secondary`` word ("incidental") precedes, then the exam title's side; "" when nothing abnormal is
  affirmed or the impression opens with a ``normal`` phrase ("No significant abnormality").
- **contrast**: the exam title and technique: ``True`` when they name contrast given, ``False`` when they say
  without or the technique lists the sequences without naming any contrast, ``None`` when neither is there.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from .pipeline import pipeline
from .vocabulary import Vocabulary, load_vocabulary

log = logging.getLogger(__name__)

SECTION_WEIGHT = {"impression": 3.0, "findings": 2.0, "history": 2.0}
TITLE_VOTES = 5.0
OFF_TOPIC, SECONDARY = 0.25, 0.3
SPECIFIC_OVER = {"scc_hpv_positive": "scc", "scc_hpv_negative": "scc", "nasopharyngeal_carcinoma": "scc"}
# longer sections are cut (real ones are far shorter; NegEx is quadratic within one sentence: 0.3 s for a 1 MB
# report of one repeated word at this cap, 25 s at 200,000); texts beyond ingestion's own cap likewise
MAX_CHARS = 20_000
REPORT_CHARS = 1_000_000


@dataclass(frozen=True)
class ReportLabels:
    """What a report says, as labels ("" / None: not stated)."""

    region: str = ""  # body region (the generator's names: brain, head_neck, spine, breast, chest, ...)
    organs: tuple[str, ...] = ()  # organs named, in order of first mention (negated ones too: they were examined)
    tumour: str = ""  # present, uncertain or absent ("" when the report could not be read)
    tumour_site: str = ""  # head-and-neck sub-site of the tumour
    histology: str = ""
    laterality: str = ""  # side of the main finding: left, right, bilateral or midline
    exam_side: str = ""  # side the exam title names
    contrast: bool | None = None  # contrast given (True), not given (False), not said (None)
    problems: tuple[str, ...] = field(default=(), compare=False)  # why a part could not be read

    def to_dict(self) -> dict:
        d = asdict(self)
        d["organs"] = list(self.organs)
        d.pop("problems")
        return d


@dataclass(frozen=True)
class _Mention:
    section: str
    sent: int  # sentence number within the section
    start: int  # token index within the section
    field: str
    value: str
    negated: bool
    uncertain: bool

    @property
    def affirmed(self) -> bool:
        return not self.negated and not self.uncertain


_DEFAULT: Vocabulary | None = None


def default_vocabulary() -> Vocabulary:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_vocabulary()
    return _DEFAULT


def parse_labels(report, vocab: Vocabulary | None = None) -> ReportLabels:
    """Labels of one report: a ``ParsedReport`` (its sections) or plain text (parsed into sections first).

    Never raises for the report's content: text that cannot be read gives empty labels with ``problems`` set.
    """
    from ..ingest.report_text import parse_report

    vocab = vocab or default_vocabulary()
    if isinstance(report, str):
        try:
            report = parse_report(report[:REPORT_CHARS], "report")
        except ValueError as exc:
            return ReportLabels(problems=(str(exc),))
    sections = {k: v[:MAX_CHARS] for k, v in report.sections.items() if isinstance(v, str) and v.strip()}
    if not sections:
        return ReportLabels(problems=("no text",))
    mentions = _mentions(sections, vocab)
    sents = _sentences(mentions)
    tumour = _tumour(mentions)
    site, site_mentions = _best(sents, "site") if tumour != "absent" else ("", [])
    histology, _ = _best(sents, "histology") if tumour != "absent" else ("", [])
    exam_side = _first_side(m for m in mentions if m.section == "exam")
    return ReportLabels(region=_region(mentions, vocab), organs=_organs(mentions), tumour=tumour,
                        tumour_site=site, histology=histology,
                        laterality=_laterality(mentions, sents, site_mentions, exam_side), exam_side=exam_side,
                        contrast=_contrast(mentions, sections))


def labels_of(report) -> dict:
    """``parse_labels(report).to_dict()`` for a ``ParsedReport``, parsed once and kept on it (``report.labels``).
    A report that gives no labels is logged once, with its source and why."""
    if report.labels is None:
        labels = parse_labels(report)
        if labels.problems:
            log.warning("%s: no labels parsed from the report (%s)", report.source, "; ".join(labels.problems))
        report.labels, report.label_problems = labels.to_dict(), labels.problems
    return report.labels


def _mentions(sections: dict[str, str], vocab: Vocabulary) -> list[_Mention]:
    nlp = pipeline(vocab)
    out = []
    for name, doc in zip(sections, nlp.pipe(sections.values())):
        sent_of = {}
        for i, sent in enumerate(doc.sents):
            for tok in sent:
                sent_of[tok.i] = i
        for e in doc.ents:
            out.append(_Mention(name, sent_of.get(e.start, 0), e.start, e.label_, e.ent_id_, bool(e._.negex),
                                bool(e._.uncertain)))
    return out


def _region(mentions: list[_Mention], vocab: Vocabulary) -> str:
    votes: Counter = Counter()
    for m in mentions:
        if m.field in ("organ", "site"):
            region = vocab.region_of(m.field, m.value)
            if region:
                votes[region] += TITLE_VOTES if m.section == "exam" else 1.0
    return votes.most_common(1)[0][0] if votes else ""


def _organs(mentions: list[_Mention]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.value for m in mentions if m.field == "organ"))


def _tumour(mentions: list[_Mention]) -> str:
    said = [m for m in mentions if m.section in ("findings", "impression") and m.field in ("tumour", "histology")]
    if any(m.affirmed for m in said):
        return "present"
    return "uncertain" if any(m.uncertain and not m.negated for m in said) else "absent"


def _sentences(mentions: list[_Mention]) -> dict[tuple[str, int], list[_Mention]]:
    by = defaultdict(list)
    for m in mentions:
        by[(m.section, m.sent)].append(m)
    return by


def _best(sents: dict[tuple[str, int], list[_Mention]], kind: str) -> tuple[str, list[_Mention]]:
    """The heaviest value of ``kind`` (site or histology) and its weighted mentions."""
    weight: Counter = Counter()
    used = defaultdict(list)
    for sent in sents.values():
        tumour_said = any(m.field in ("tumour", "histology") and not m.negated for m in sent)
        for m in sent:
            if m.field != kind or m.negated or m.section not in SECTION_WEIGHT:
                continue
            w = SECTION_WEIGHT[m.section] * (1.0 if tumour_said else OFF_TOPIC)
            if _after_secondary(sent, m):
                w *= SECONDARY
            weight[m.value] += w * (0.5 if m.uncertain else 1.0)
            used[m.value].append(m)
    if not weight:
        return "", []
    for specific, generic in SPECIFIC_OVER.items():
        if weight.get(specific) and weight.get(generic):
            weight[specific] += weight.pop(generic)
    best = max(weight, key=lambda v: (weight[v], -min(m.start for m in used[v])))
    return best, used[best]


def _after_secondary(sent: list[_Mention], m: _Mention) -> bool:
    """Whether ``m`` follows a ``secondary`` word of its sentence ("extending to", "node", "incidental")."""
    return any(s.field == "secondary" and s.start < m.start for s in sent)


def _nearest_side(sent: list[_Mention], anchor: _Mention) -> str:
    sides = [m for m in sent if m.field == "side" and not m.negated]
    if not sides:
        return ""
    return min(sides, key=lambda s: (abs(s.start - anchor.start), s.start > anchor.start)).value


def _first_side(mentions) -> str:
    return next((m.value for m in mentions if m.field == "side" and not m.negated), "")


def _laterality(mentions: list[_Mention], sents: dict[tuple[str, int], list[_Mention]],
                site_mentions: list[_Mention], exam_side: str) -> str:
    if site_mentions:
        votes: Counter = Counter()
        for m in site_mentions:
            side = _nearest_side(sents[(m.section, m.sent)], m)
            if side:
                votes[side] += SECTION_WEIGHT.get(m.section, 1.0)
        if votes:
            return votes.most_common(1)[0][0]
    # the impression when there is one (its first item is the main finding; one that opens "normal" has none),
    # else the findings
    section = "impression" if any(m.section == "impression" for m in mentions) else "findings"
    if any(m.field == "normal" and m.section == section and m.sent == 0 for m in mentions):
        return ""
    found = [m for m in mentions if m.section == section and m.field in ("tumour", "histology", "finding")
             and m.affirmed and not _after_secondary(sents[(m.section, m.sent)], m)]
    if not found:
        return ""
    first = min(found, key=lambda m: (m.sent, m.start))
    return _nearest_side(sents[(first.section, first.sent)], first) or exam_side


def _contrast(mentions: list[_Mention], sections: dict[str, str]) -> bool | None:
    said = [m for m in mentions if m.field == "contrast" and m.section in ("exam", "technique")]
    if any(m.value == "yes" and not m.negated for m in said):
        return True
    if any(m.value == "no" for m in said) or "technique" in sections:  # a technique that names no contrast: none
        return False
    return None
