"""The report's head: exam line, clinical history (indication), technique paragraph and comparison."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from ..regions import subregion_spec
from ..types import Lesion, SeriesPlan, StudyPlan
from .hn import histology_name, location
from .style import cap, chance, date_text, field_text, join_words, phrase, pick, sentence

# A history that states a tissue diagnosis matches this; write_report reads it back from plan.indication.
KNOWN_HISTOLOGY = re.compile(r"biops|proven|histolog|confirmed", re.IGNORECASE)

_KIND_REASON = {
    "brain_tumour": "Seizure.||Headache and confusion.||Progressive headache; ?mass.||Cognitive decline.",
    "acute_infarct": "Acute onset weakness; ?stroke.||Sudden dysphasia.||Acute neurological deficit, onset 3 "
                     "hours ago.",
    "disc_herniation": "{Side} leg pain[, {root} distribution|].||{Side} sciatica.||{Side} radicular pain.",
    "breast_mass": "Palpable lump, {side} breast.||{Side} breast mass on mammography; assess extent.||Suspicious "
                   "{side} breast lesion on ultrasound.",
    "lung_mass": "{Side} lung mass on chest radiograph.||Chest wall pain; ?invasion by lung mass.",
    "myocardial_scar": "Chest pain; prior MI?||Reduced LV function, ischemic vs non-ischemic.",
    "liver_lesion": "Cirrhosis, new lesion on ultrasound.||Liver lesion on ultrasound, characterize.||History of "
                    "colorectal carcinoma, rising CEA.",
    "prostate_lesion": "PSA {psa} ng/mL, no prior biopsy.||Raised PSA ({psa}); family history.",
    "uterine_fibroid": "Menorrhagia.||Bulky uterus on ultrasound.||Pelvic pressure symptoms.",
    "meniscal_tear": "Twisting injury; locking.||Joint line pain.||Knee pain after twisting injury.",
    "acl_tear": "Pivoting sports injury, instability.||Heard a pop; hemarthrosis.",
    "rotator_cuff_tear": "Shoulder pain and weakness on abduction.||?Rotator cuff tear.||Painful arc, weakness.",
}
_HN_REASON = {
    "parotid": "Palpable {side} parotid lump.||{Side} parotid swelling.", "submandibular": "{Side} submandibular "
    "swelling.||Palpable {side} submandibular mass.", "thyroid": "{Side} thyroid nodule on ultrasound; assess "
    "extent.", "larynx_glottic": "Hoarseness; {side} vocal cord lesion on laryngoscopy.", "larynx_supraglottic":
    "Dysphagia and hoarseness; supraglottic lesion on endoscopy.", "hypopharynx": "Dysphagia; ?{side} pyriform "
    "sinus lesion on endoscopy.", "nasopharynx": "Nasal obstruction and {side} serous otitis media.", "sinonasal":
    "{Side} nasal obstruction and epistaxis.", "oropharynx_tonsil": "{Side} neck lump. ?Oropharyngeal primary.||"
    "Sore throat and {side} tonsillar asymmetry.", "base_of_tongue": "Dysphagia and neck lump.||Globus; ?tongue "
    "base mass.", "oral_tongue": "Non-healing ulcer, {side} tongue.", "floor_of_mouth": "Floor of mouth ulcer.",
}


def primary_lesion(plan: StudyPlan) -> Lesion | None:
    """The finding a report leads with: the first tumour kind, else the first planted lesion."""
    from ..catalog import KINDS

    for lesion in plan.lesions:
        if lesion.kind in KINDS and KINDS[lesion.kind].tumour:
            return lesion
    return plan.lesions[0] if plan.lesions else None


def indication(plan: StudyPlan, rng: np.random.Generator) -> str:
    """One-line clinical question. Head-and-neck primaries state a biopsy-proven histology about 55% of the time."""
    lesion = primary_lesion(plan)
    psa = f"{rng.uniform(4.2, 14.0):.1f}"
    if lesion is None:
        return phrase(subregion_spec(plan.subregion).normal_reasons, rng, psa=psa)
    side = lesion.laterality if lesion.laterality in ("left", "right") else ""
    fields = dict(side=side, Side=cap(side), psa=psa, root=lesion.attributes.get("nerve_root", "L5"))
    if lesion.kind == "hn_tumour":
        loc = location(lesion, rng)
        if lesion.histology and chance(rng, 0.55):
            return phrase(["Biopsy-proven {hist}, {loc}. Staging.", "{Hist} of the {loc} on biopsy; staging MRI.",
                           "Histologically confirmed {hist}, {loc}. Pre-treatment staging.",
                           "Biopsy-proven {hist} {loc}. Staging."], rng, hist=histology_name(lesion.histology, rng),
                          Hist=cap(histology_name(lesion.histology, rng)), loc=loc)
        reason = _HN_REASON.get(lesion.site, "Neck mass.")
        return phrase(reason if side else "Neck mass.||Dysphagia.", rng, **fields)
    reason = _KIND_REASON.get(lesion.kind)
    if reason and ("{side}" in reason.lower() and not side):
        reason = None
    return phrase(reason or subregion_spec(plan.subregion).normal_reasons, rng, **fields)


def exam_line(plan: StudyPlan, rng: np.random.Generator, has_t1c: bool) -> str:
    """'MRI NECK WITH AND WITHOUT CONTRAST', 'MR KNEE RIGHT', 'MRI of the brain without contrast'."""
    name = pick(rng, subregion_spec(plan.subregion).exam_titles)
    name = name.replace("{SIDE}", (plan.laterality or "").upper()).replace("  ", " ")
    if has_t1c:
        suffix = pick(rng, (" WITH AND WITHOUT CONTRAST", " W/WO CONTRAST", " W/WO", " PRE AND POST GADOLINIUM"))
    else:
        suffix = pick(rng, (" WITHOUT CONTRAST", " WO", "", " (NON-CONTRAST)"))
    text = (name + suffix).strip()
    if plan.style == "UK" or chance(rng, 0.25):
        text = text.capitalize().replace("Mri", "MRI").replace("Mr ", "MR ").replace("mri", "MRI")
        for word in ("w/wo", "c-spine", "l-spine", "mp-MRI", "wo"):
            text = re.sub(rf"\b{re.escape(word)}\b", word.upper(), text)
    return text


def history_line(plan: StudyPlan, rng: np.random.Generator, ind: str) -> str:
    """Age/sex and the indication: '58M. Neck lump.' / '64-year-old woman with headache.'."""
    age, sex = plan.patient.age, plan.patient.sex
    ind = sentence(ind)
    roll = rng.random()
    if roll < 0.35:
        return f"{age}{sex}. {ind}"
    if roll < 0.7:
        noun = ("man" if sex == "M" else "woman") if age >= 18 else ("boy" if sex == "M" else "girl")
        body = ind[0].lower() + ind[1:] if not ind[:2].isupper() else ind
        return f"{age}-year-old {noun}. {ind}" if chance(rng, 0.4) else f"{age}-year-old {noun} with {body}"
    return ind


_SEQ_NAMES = {
    "T1": ("T1", "T1W", "T1-weighted", "T1 TSE"), "T2": ("T2", "T2W", "T2-weighted", "T2 TSE"),
    "T2FS": ("T2 FS", "fat-suppressed T2", "T2 fat-sat"), "PD": ("PD", "proton density", "PDW"),
    "PDFS": ("PD FS", "fat-suppressed PD", "PD fat-sat"), "STIR": ("STIR",), "FLAIR": ("FLAIR", "T2 FLAIR"),
    "DWI": ("DWI", "diffusion-weighted imaging"), "ADC": ("ADC map",),
}


def _series_name(s: SeriesPlan, rng) -> str:
    if s.sequence == "T1C":
        base = "T1 FS" if s.fat_suppression not in ("none", "") else "T1"
        return ("3D " if "3D" in s.family else "") + base
    if s.sequence in ("T2", "T1") and s.fat_suppression == "dixon":
        return f"{s.sequence} Dixon"
    name = pick(rng, _SEQ_NAMES.get(s.sequence, (s.sequence,)))
    if s.sequence == "T1" and "3D" in s.family:
        name = "3D " + name
    if s.sequence == "DWI" and s.b_values:
        b = "/".join(f"b{v}" for v in s.b_values)
        name += pick(rng, (f" ({b})", f" (b-values {', '.join(str(v) for v in s.b_values)})", ""))
    return name


def _group(series: list[SeriesPlan], rng) -> list[str]:
    """'axial and coronal STIR', 'sagittal T1' ... in acquisition order, planes merged per sequence name."""
    names: dict[str, list[str]] = {}
    for s in series:
        n = _series_name(s, rng)
        planes = names.setdefault(n, [])
        if s.plane not in planes:
            planes.append(s.plane)
    return [f"{join_words(p)} {n}" for n, p in names.items()]


def technique(plan: StudyPlan, rng: np.random.Generator) -> str:
    """Field strength, the acquired series with their planes, the contrast agent and dose; nothing else."""
    pre = [s for s in plan.series if not s.post_contrast and s.sequence != "T1C"]
    post = [s for s in plan.series if s.post_contrast or s.sequence == "T1C"]
    adc = any(s.sequence == "ADC" for s in pre)
    pre_nonadc = [s for s in pre if s.sequence != "ADC"]
    parts = _group(pre_nonadc, rng)
    if adc:
        if any(s.sequence == "DWI" for s in pre):
            idx = next(i for i, p in enumerate(parts) if "DWI" in p or "diffusion" in p)
            parts[idx] += pick(rng, (" with ADC map", " and ADC", " with calculated ADC"))
        else:
            parts.append("axial ADC map")
    field = field_text(plan.field_strength, rng)
    body = join_words(parts, plan.style)
    text = phrase(["{F}. {B}.", "Multiplanar multisequence MRI at {F}: {b}.", "{B} at {F}.",
                   "{F} scanner. Sequences: {b}."], rng, F=field, B=cap(body), b=body)
    if post:
        agent = plan.contrast_agent
        if agent:
            key = agent.lower().split()[0]
            std = {"gadoxetate": 0.025}.get(key, 0.1)
            conc = {"gadobutrol": 1.0, "gadoxetate": 0.25}.get(key, 0.5)
            ml = round(plan.patient.weight_kg * std / conc * 2) / 2
            dose = pick(rng, (f"{std:g} mmol/kg {agent}", f"{std:g} mmol/kg {agent}", f"{ml:g} mL {agent}"))
            dose += pick(rng, ("", " IV", " intravenously"))
        else:
            dose = "intravenous gadolinium"
        text += " " + sentence(phrase("[Post-contrast|Following contrast,] {p} after {d}||{P} after {d}", rng,
                                      p=join_words(_group(post, rng), plan.style),
                                      P=cap(join_words(_group(post, rng), plan.style)), d=dose))
    if any(s.motion > 0.3 for s in plan.series) and chance(rng, 0.7):
        text += " " + pick(rng, ("Mild motion degradation.", "Some motion artifact limits assessment."))
    return text


def comparison(plan: StudyPlan, rng: np.random.Generator) -> str:
    """'None.' or a prior study with a date before this one."""
    if chance(rng, 0.6):
        return pick(rng, ("None.", "None.", "No prior imaging.", "None available."))
    modality = pick(rng, subregion_spec(plan.subregion).prior_modalities)
    try:
        d = dt.date(int(plan.study_date[:4]), int(plan.study_date[4:6]), int(plan.study_date[6:8]))
        prior = (d - dt.timedelta(days=int(rng.integers(3, 400)))).strftime("%Y%m%d")
        return f"{modality} dated {date_text(prior, plan.style)}."
    except ValueError:
        return f"{modality}."
