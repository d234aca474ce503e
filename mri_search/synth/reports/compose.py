"""Radiology reports for synthetic studies: one realistic, varied report per ``StudyPlan``.

``indication`` draws the one-line clinical question (the planner stores it in ``plan.indication``);
``write_report`` turns the plan into a report with exam line, history, technique, comparison, findings in the
region's search-pattern order, impression and sometimes a recommendation. Wording varies (templates, synonyms,
abbreviations, terse/verbose, US/UK spelling and headings, measurement formats), but the content follows the plan:
sides, sizes, sequences and contrast match it, and no normal statement contradicts a planted finding. See
``../data/report_structure.md`` for the conventions followed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..regions import region_spec, subregion_spec
from ..types import Lesion, StudyPlan
from . import body
from . import findings as neuro
from . import msk
from .history import (KNOWN_HISTOLOGY, comparison, exam_line, history_line, indication, primary_lesion,
                      technique)
from .hn import describe_hn_tumour
from .signals import Ctx, Described
from .style import cap, chance, headings, phrase, pick, sentence, size_text, to_style

__all__ = ["DESCRIBERS", "Report", "indication", "write_report"]


@dataclass
class Report:
    """A radiology report as a reporting system would export it."""

    text: str  # the full report
    sections: dict[str, str]  # canonical key -> section body: exam, history, technique, comparison, findings,
    #                           impression (+ recommendation when present)
    style: str  # "US" or "UK"
    mentioned: list[str] = field(default_factory=list)  # "kind:site" of every finding described ("node:side_level")
    omitted: list[str] = field(default_factory=list)  # "kind:site" present in the image but left out of the text


def _retention_cyst(lesion: Lesion, ctx: Ctx) -> Described:
    side = f"{lesion.laterality} " if lesion.laterality in ("left", "right") else ""
    s = sentence(phrase("[Incidental|Small] mucous retention cyst in the {side}maxillary sinus ({size}).||"
                        "{size} retention cyst in the floor of the {side}maxillary sinus.||There is a {size} "
                        "mucous retention cyst of the {side}maxillary antrum.", ctx.rng, side=side,
                        size=size_text(lesion.size_mm, ctx.rng, dims=1)))
    return Described(f"{lesion.kind}:{lesion.site}", "other" if ctx.plan.region == "head_neck" else "sinuses", [s],
                     sentence(f"Incidental {side}maxillary sinus retention cyst"), 70, {"sinuses"})


def _generic(lesion: Lesion, ctx: Ctx) -> Described:
    side = f"{lesion.laterality} " if lesion.laterality in ("left", "right") else ""
    what = lesion.kind.replace("_", " ")
    size = f" measuring {size_text(lesion.size_mm, ctx.rng, dims=1)}" if max(lesion.size_mm) > 0 else ""
    s = sentence(f"{cap(what)} at the {side}{lesion.site.replace('_', ' ')}{size}")
    return Described(f"{lesion.kind}:{lesion.site}", "", [s], sentence(f"{cap(what)}, {side}"
                                                                       f"{lesion.site.replace('_', ' ')}"), 50, set())


DESCRIBERS = {
    "hn_tumour": describe_hn_tumour, "sinus_retention_cyst": _retention_cyst,
    "brain_tumour": neuro.describe_brain_tumour, "acute_infarct": neuro.describe_acute_infarct,
    "white_matter_hyperintensities": neuro.describe_wmh, "disc_herniation": neuro.describe_disc_herniation,
    "disc_degeneration": neuro.describe_disc_degeneration,
    "vertebral_haemangioma": neuro.describe_vertebral_haemangioma,
    "breast_mass": body.describe_breast_mass, "breast_cyst": body.describe_breast_cyst,
    "lung_mass": body.describe_lung_mass, "myocardial_scar": body.describe_myocardial_scar,
    "pericardial_effusion": body.describe_pericardial_effusion, "liver_lesion": body.describe_liver_lesion,
    "liver_cyst": body.describe_liver_cyst, "renal_cyst": body.describe_renal_cyst,
    "prostate_lesion": body.describe_prostate_lesion, "uterine_fibroid": body.describe_uterine_fibroid,
    "ovarian_cyst": body.describe_ovarian_cyst, "meniscal_tear": msk.describe_meniscal_tear,
    "acl_tear": msk.describe_acl_tear, "bone_contusion": msk.describe_bone_contusion,
    "joint_effusion": msk.describe_joint_effusion, "baker_cyst": msk.describe_baker_cyst,
    "rotator_cuff_tear": msk.describe_rotator_cuff_tear, "subacromial_bursitis": msk.describe_subacromial_bursitis,
}


def _needs_ok(needs: str, ctx: Ctx) -> bool:
    return {"": True, "t1c": ctx.t1c, "dwi": ctx.dwi, "flair": ctx.flair, "t2": ctx.t2, "t1": ctx.t1,
            "wm": ctx.flair or ctx.t2}[needs]


def _normal_statements(alts, blocked: set[str], ctx: Ctx, limit: int) -> list[str]:
    """Up to ``limit`` non-overlapping normal statements whose tags no finding contradicts."""
    rng = ctx.rng
    allowed = [(set(t.split()), tpl) for t, needs, tpl in alts if _needs_ok(needs, ctx) and not
               (set(t.split()) & blocked)]
    out, covered = [], set()
    order = list(rng.permutation(len(allowed))) if allowed else []
    for i in order:
        tags, tpl = allowed[int(i)]
        if tags & covered or len(out) >= limit:
            continue
        out.append(sentence(phrase(tpl, rng)))
        covered |= tags
    return out


def _findings(plan: StudyPlan, described: list[Described], ctx: Ctx) -> str:
    rng = ctx.rng
    slots = subregion_spec(plan.subregion).normal_slots
    names = [s[0] for s in slots]
    blocked = set().union(*(d.blocks for d in described)) if described else set()
    by_slot: dict[str, list[str]] = {}
    by_level: dict[str, list[str]] = {}
    for d in sorted(described, key=lambda d: d.priority):
        if "level" in d.extra and "levels" in names:
            by_level.setdefault(d.extra["level"][0], []).extend(d.sentences)
        else:
            by_slot.setdefault(d.slot if d.slot in names else names[0], []).extend(d.sentences)
        for slot, sents in d.extra.items():
            if slot != "level":
                by_slot.setdefault(slot if slot in names else names[0], []).extend(sents)
    structured = chance(rng, 0.35)
    limit = 1 if ctx.terse else int(pick(rng, (2, 3)))
    lines: list[str] = []
    for slot, label, alts in slots:
        if slot == "levels":
            lines.extend(neuro.spine_levels(plan.subregion, by_level, ctx))
            continue
        sents = list(by_slot.get(slot, []))
        if not (ctx.terse and len(lines) >= 3 and chance(rng, 0.4)):  # terse reports skip some organs
            sents += _normal_statements(alts, blocked, ctx, limit)
        if not sents:
            continue
        text = " ".join(sents)
        labelled = structured and label and not text.lower().startswith(label.lower())
        lines.append(f"{label}: {text}" if labelled else text)
    if ctx.terse and chance(rng, 0.6):
        lines.append(pick(rng, ("Otherwise unremarkable.", "No other significant abnormality.",
                                "No other abnormality.")))
    if structured or region_spec(plan.region).line_per_slot or chance(rng, 0.4):
        return "\n".join(lines)
    return " ".join(lines)


def _impression(plan: StudyPlan, described: list[Described], lead: Described | None, primary_keys: set[str],
                ctx: Ctx) -> list[str]:
    """Impression items: the leading finding always first, then others by priority (minor ones sometimes)."""
    rng = ctx.rng
    items = [lead.impression] if lead is not None and lead.impression else []
    for d in sorted(described, key=lambda d: d.priority):
        if d is lead or d.impression is None:
            continue
        if chance(rng, 0.8 if d.key in primary_keys else 0.45):
            items.append(d.impression)
    if lead is None:
        normal = phrase(subregion_spec(plan.subregion).impression_normal, rng)
        items.insert(0, normal if not items else pick(rng, ("No significant abnormality.",
                                                            "No other significant abnormality.")))
    return items


def write_report(plan: StudyPlan, rng: np.random.Generator) -> Report:
    """Write the report of one study.

    Args:
        plan: the study plan; ``plan.indication`` is used when set (else drawn here with ``indication``).
        rng: random generator; the report is a deterministic function of (plan, rng state).

    Returns:
        The ``Report``: full text, canonical sections, style, and which findings the text mentions or omits.
    """
    if plan.style not in ("US", "UK"):
        raise ValueError(f"plan.style must be 'US' or 'UK', got {plan.style!r}")
    ind = plan.indication or indication(plan, rng)
    seqs = frozenset(s.sequence for s in plan.series)
    ctx = Ctx(plan=plan, rng=rng, seqs=seqs, terse=chance(rng, 0.2), hist_known=bool(KNOWN_HISTOLOGY.search(ind)))
    described, mentioned, omitted = [], [], []
    primary_keys, lead = set(), None
    first = primary_lesion(plan)
    for lesion in plan.lesions:
        d = DESCRIBERS.get(lesion.kind, _generic)(lesion, ctx)
        described.append(d)
        primary_keys.add(d.key)
        lead = d if lesion is first else lead
    for lesion in plan.incidentals:
        if chance(rng, 0.2):
            omitted.append(f"{lesion.kind}:{lesion.site}")
            continue
        described.append(DESCRIBERS.get(lesion.kind, _generic)(lesion, ctx))
    for d in described:
        mentioned.append(d.key)
        mentioned.extend(d.extra_keys)
        omitted.extend(d.omitted_keys)
    items = _impression(plan, described, lead, primary_keys, ctx)
    numbered = len(items) > 1 and chance(rng, 0.7) or chance(rng, 0.2)
    impression = "\n".join(f"{i + 1}. {t}" for i, t in enumerate(items)) if numbered else \
        ("\n" if chance(rng, 0.5) else " ").join(items)
    sections = {
        "exam": exam_line(plan, rng, "T1C" in seqs),
        "history": history_line(plan, rng, ind),
        "technique": technique(plan, rng),
        "comparison": comparison(plan, rng),
        "findings": _findings(plan, described, ctx),
        "impression": impression,
    }
    recs = [d.recommendation for d in described if d.recommendation and d.key in primary_keys]
    if recs and chance(rng, 0.45):
        sections["recommendation"] = recs[0]
    elif recs and chance(rng, 0.4):
        sections["impression"] += ("\n" if "\n" in impression else " ") + recs[0]
    sections = {k: to_style(v, plan.style) for k, v in sections.items()}
    return Report(_layout(sections, plan, rng), sections, plan.style, mentioned, omitted)


def _layout(sections: dict[str, str], plan: StudyPlan, rng: np.random.Generator) -> str:
    """Headings and line breaks as a reporting system exports them."""
    head = headings(plan.style, rng)
    out = []
    bare_exam = chance(rng, 0.3)
    for key, body_text in sections.items():
        if key == "exam" and bare_exam:
            out.append(body_text)
            continue
        sep = "\n" if "\n" in body_text or (key == "findings" and chance(rng, 0.5)) else " "
        out.append(f"{head[key]}:{sep}{body_text}")
    return ("\n\n" if chance(rng, 0.5) else "\n").join(out) + "\n"
