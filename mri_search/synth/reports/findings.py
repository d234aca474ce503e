"""Findings and impression text of the neuro, spine, breast and chest finding kinds (head and neck: hn.py).

Each ``describe_*`` takes a planted ``Lesion`` and the report context and returns a ``Described``: sentences for
its findings slot, an impression item, and the normal-statement tags it contradicts.
"""

from __future__ import annotations

from ..types import Lesion
from .signals import Ctx, Described, diffusion_phrase, enhancement_word, t2_ratio, t2_words
from .style import chance, join_words, mm_str, phrase, pick, sentence, size_text

HIGH = ("consistent with", "in keeping with", "compatible with", "most consistent with", "typical of")
LIKELY = ("suspicious for", "most likely", "likely", "favored to represent", "concerning for", "suggestive of")


def words(key: str) -> str:
    """'upper_outer_quadrant' -> 'upper outer quadrant'."""
    return key.replace("_", " ")


def side_of(lesion: Lesion) -> str:
    """'left ' / 'right ' or '' (for insertion before a noun)."""
    return f"{lesion.laterality} " if lesion.laterality in ("left", "right") else ""


def _s(templates, ctx: Ctx, **fields) -> str:
    return sentence(phrase(templates, ctx.rng, **fields))


# ---- brain ------------------------------------------------------------------------------------------------
_LOBE = {"cerebellum": "cerebellar hemisphere"}


def describe_brain_tumour(lesion: Lesion, ctx: Ctx) -> Described:
    rng, h, a = ctx.rng, lesion.histology or "glioblastoma", lesion.attributes
    loc = side_of(lesion) + _LOBE.get(lesion.site, words(lesion.site))
    size = size_text(lesion.size_mm, rng)
    enh = enhancement_word(lesion, ctx, necrotic=bool(a.get("necrotic")))
    t2 = t2_words(t2_ratio(lesion, ctx.reference, ctx.plan.field_strength), rng) if ctx.t2 else ""
    seq = "FLAIR" if ctx.flair else "T2" if ctx.t2 else ""
    count = int(a.get("count", 1) or 1)
    blocks = {"mass", "parenchyma", "mass_effect", "diffusion"}
    sents = []
    if h == "meningioma":
        sents.append(_s(["[A|There is a] well-circumscribed extra-axial dural-based [lesion|mass] along the {loc} "
                         "convexity measuring {size}.", "Extra-axial [mass|lesion] abutting the dura over the {loc}, "
                         "{size}.", "A {size} dural-based extra-axial mass is [seen|present] adjacent to the {loc}."],
                        ctx, loc=loc, size=size))
        blocks |= {"extra_axial"}
        if t2:
            sents.append(_s("It is {t2} to gray matter on T2.||On T2 it is {t2} relative to cortex.", ctx, t2=t2))
        if enh:
            sents.append(_s("There is {e} enhancement[ with a dural tail|, with an enhancing dural tail|].", ctx,
                            e=enh))
        dx, hedge = "meningioma", pick(rng, HIGH)
    elif h == "metastasis" and count > 1:
        lesions = "enhancing lesions" if enh and enh != "no" else "lesions"
        sents.append(_s(["Multiple ({n}) {l} at the gray-white matter junction, the largest in the {loc} measuring "
                         "{size}.", "There are {n} {l}, the largest in the {loc} ({size}).", "{n} intra-axial {l} "
                         "are [seen|identified]; the dominant one is in the {loc} and measures {size}."],
                        ctx, n=count, l=lesions, loc=loc, size=size))
        dx, hedge = "metastases", pick(rng, HIGH + LIKELY)
    else:
        kind = {"glioblastoma": "heterogeneous intra-axial mass", "low_grade_glioma": "expansile intra-axial lesion",
                "metastasis": "solitary intra-axial lesion"}.get(h, "intra-axial mass")
        sents.append(_s(["There is a {k} [centered in|within|involving] the {loc} measuring {size}.",
                         "{loc}: {k}, {size}.", "A {size} {k} is [seen|present] in the {loc}.",
                         "[Large |]{k} in the {loc}, measuring {size}."], ctx, k=kind, loc=loc, size=size))
        if t2 and seq:
            sents.append(_s("The lesion is {t2} on T2[-weighted images|]{f}.", ctx, t2=t2,
                            f=" and FLAIR" if ctx.flair else ""))
        if enh:
            sents.append(_s("[It shows|There is] {e} enhancement.||Post-contrast: {e} enhancement.", ctx,
                            e=enh if enh != "no" else "no"))
        dx, hedge = {"glioblastoma": (pick(rng, ("glioblastoma", "high-grade glioma", "glioblastoma (IDH-wildtype)")),
                                      pick(rng, HIGH + LIKELY)),
                     "low_grade_glioma": (pick(rng, ("diffuse low-grade glioma", "low-grade glioma")),
                                          pick(rng, ("features favor", "likely", "suggestive of"))),
                     "metastasis": ("solitary metastasis", pick(rng, LIKELY))}.get(h, ("neoplasm", "suspicious for"))
    if a.get("necrotic"):
        sents.append(_s("[There is central necrosis.|A central necrotic component is present.|The center is "
                        "necrotic.]", ctx))
    dwi = diffusion_phrase(lesion, ctx, ref=ctx.reference, quote=False)
    if dwi:
        sents.append(_s("The [solid component|lesion] shows {d}.", ctx, d=dwi))
    if a.get("edema") and seq:
        sents.append(_s("[Surrounding|There is surrounding] {s} hyperintensity in keeping with vasogenic edema.||"
                        "Moderate perilesional vasogenic edema.", ctx, s=seq))
        blocks |= {"white_matter", "parenchyma"}
    if h in ("glioblastoma", "low_grade_glioma"):
        blocks.add("white_matter")
    if enh and enh != "no":
        blocks.add("enhancement")
    shift = float(a.get("midline_shift_mm", 0) or 0)
    if shift >= 1 and lesion.laterality in ("left", "right"):
        away = "rightward" if lesion.laterality == "left" else "leftward"
        sents.append(_s("There is {m} mm {d} midline shift.||Mass effect with {m} mm {d} midline shift.", ctx,
                        m=mm_str(shift), d=away))
    if count > 1:
        dxn = "metastases"
    else:
        dxn = dx
    imp = _s(["{Loc} {k} ({size}), {hedge} {dx}.", "{Hedge} {dx} in the {loc}, measuring {size}.",
              "{size} {loc} [mass|lesion]: {hedge} {dx}.", "{Loc} [mass|lesion], {hedge} {dx}."],
             ctx, Loc=loc, loc=loc, k=pick(rng, ("mass", "lesion")), size=size_text(lesion.size_mm, rng, dims=1),
             hedge=hedge, Hedge=hedge, dx=dxn)
    if shift >= 1 and chance(rng, 0.6):
        imp += f" {mm_str(shift)} mm midline shift."
    rec = pick(rng, ("Neurosurgical referral recommended.", "For discussion at the neuro-oncology MDT.",
                     "Findings communicated to the referring team."))
    return Described(f"brain_tumour:{lesion.site}", "lesion", sents, imp, 0, blocks, recommendation=rec)


def describe_acute_infarct(lesion: Lesion, ctx: Ctx) -> Described:
    side = side_of(lesion)
    lac = lesion.site == "lacunar_basal_ganglia"
    where = f"the {side}basal ganglia" if lac else f"the {side}MCA territory (insular cortex and frontal operculum)"
    size = size_text(lesion.size_mm, ctx.rng, dims=1)
    if ctx.dwi:
        s = _s(["[Restricted diffusion|Diffusion restriction] [involving|in] {w} with corresponding low ADC, "
                "measuring {size}.", "{size} focus of restricted diffusion in {w}, with low ADC values.",
                "There is an area of high DWI signal and low ADC in {w} ({size})."], ctx, w=where, size=size)
    else:
        s = _s("T2 hyperintensity [involving|in] {w}, measuring {size}.", ctx, w=where, size=size)
    sents = [s]
    if ctx.flair and chance(ctx.rng, 0.6):
        sents.append(_s("[Only subtle|Mild] corresponding FLAIR signal change.", ctx))
    sents.append(_s("No hemorrhagic transformation.||No associated hemorrhage.", ctx))
    kind = "lacunar infarct" if lac else "MCA territory infarct"
    imp = _s(["Acute {side}{k}[.| in {w}.]", "{Hedge} acute {side}{k}.", "Acute ischemic infarct in {w}."], ctx,
             side=side, k=kind, w=where, Hedge=pick(ctx.rng, ("findings in keeping with", "consistent with")))
    return Described(f"acute_infarct:{lesion.site}", "lesion", sents, imp, 0,
                     {"diffusion", "parenchyma", "mass"}, recommendation=pick(ctx.rng, (
                         "Findings communicated to the stroke team at the time of reporting.",
                         "Result discussed with the referring clinician.")))


def describe_wmh(lesion: Lesion, ctx: Ctx) -> Described:
    faz = int(lesion.attributes.get("fazekas", 1) or 1)
    look = {1: "[Scattered punctate|A few punctate]", 2: "[Scattered punctate and early confluent|Multiple, "
            "beginning to confluence,]", 3: "[Large confluent|Extensive confluent]"}[min(max(faz, 1), 3)]
    seq = "T2/FLAIR" if ctx.flair and ctx.t2 else "FLAIR" if ctx.flair else "T2" if ctx.t2 else "signal"
    sents = [_s(look + " {s} hyperintensities in the periventricular and deep white matter (Fazekas [grade |]{f})"
                "[, in keeping with chronic small vessel ischemic change|].", ctx, s=seq, f=faz)]
    imp = _s("Chronic small vessel ischemic change (Fazekas {f}).||[Mild|Moderate|] white matter changes of small "
             "vessel disease, Fazekas {f}.||Fazekas {f} white matter hyperintensities.", ctx, f=faz)
    return Described(f"white_matter_hyperintensities:{lesion.site}", "white_matter", sents, imp, 30,
                     {"white_matter", "parenchyma"})


# ---- spine ------------------------------------------------------------------------------------------------
def describe_disc_herniation(lesion: Lesion, ctx: Ctx) -> Described:
    rng, a = ctx.rng, lesion.attributes
    zone = a.get("zone", "subarticular")
    typ = a.get("herniation_type", pick(rng, ("protrusion", "extrusion")))
    side = side_of(lesion)
    where = "central" if zone == "central" or not side else f"{side}{zone}"
    root = a.get("nerve_root")
    size = f"{mm_str(max(lesion.size_mm))} mm" if max(lesion.size_mm) > 0 else ""
    meas = f"[measuring {size}|of {size}|({size} AP)]" if size else ""
    if root and side:
        effect = pick(rng, ("compressing the {tr} {side}{root} nerve root", "contacting the {tr} {side}{root} "
                            "nerve root", "displacing the {tr} {side}{root} nerve root")).format(
            tr="exiting" if zone == "foraminal" else "traversing", side=side, root=root)
    else:
        effect = pick(rng, ("indenting the thecal sac", "effacing the ventral thecal sac", "without nerve root "
                            "compression"))
    s = _s(["[There is a|A] {w} disc {t} " + meas + ", {e}.", "{w} disc {t} " + meas + " {e}.",
            "{w} {t} of disc material " + meas + ", {e}."], ctx, w=where, t=typ, e=effect)
    extra = _s("Mild central canal narrowing.||[The|] central canal is [adequate|preserved].||Mild "
               "[subarticular|lateral recess] narrowing.", ctx)
    imp = _s(["{w} {lvl} disc {t} {e}.", "{lvl}: {w} disc {t}, {e}.", "{w} disc {t} at {lvl} {e}[, concordant "
              "with symptoms|]."], ctx, w=where, lvl=lesion.site, t=typ, e=effect)
    d = Described(f"disc_herniation:{lesion.site}", "levels", [s, extra], imp, 0, set())
    d.extra["level"] = [lesion.site]
    return d


def describe_disc_degeneration(lesion: Lesion, ctx: Ctx) -> Described:
    modic = lesion.attributes.get("modic")
    m = f"[ with|, with associated] type {modic} Modic endplate change" if modic else ""
    s = _s(["Disc desiccation and loss of disc height" + m + ".", "Degenerative disc with reduced T2 signal and "
            "height" + m + ".", "Loss of disc height and signal" + m + ". Broad-based disc bulge."], ctx)
    if not ctx.t2 and "T2" in s:
        s = _s("Loss of disc height" + m + ".", ctx)
    imp = _s("Degenerative disc disease at {lvl}[ with type {m} Modic change|].||{lvl} disc degeneration.", ctx,
             lvl=lesion.site, m=modic or 1) if modic else _s("{lvl} disc degeneration.||Degenerative disc "
                                                             "disease at {lvl}.", ctx, lvl=lesion.site)
    d = Described(f"disc_degeneration:{lesion.site}", "levels", [s], imp, 20, {"marrow"} if modic else set())
    d.extra["level"] = [lesion.site]
    return d


def describe_vertebral_haemangioma(lesion: Lesion, ctx: Ctx) -> Described:
    lvl = lesion.attributes.get("level")
    where = f"the {lvl} vertebral body" if lvl else ("a cervical vertebral body" if ctx.plan.subregion ==
                                                       "cervical_spine" else "a lumbar vertebral body")
    sig = join_words([w for w, ok in (("T1", ctx.t1), ("T2", ctx.t2)) if ok], ctx.plan.style)
    sig = f"{sig} hyperintense " if sig else ""
    s = _s(["[Incidental|There is an incidental] {size} {sig}lesion in {w}, in keeping with a typical hemangioma.",
            "{size} typical vertebral hemangioma in {w}.", "A {sig}lesion in {w} ({size}) has the appearance of a "
            "[typical|benign] hemangioma."], ctx, size=size_text(lesion.size_mm, ctx.rng, dims=1), sig=sig, w=where)
    return Described(f"vertebral_haemangioma:{lesion.site}", "marrow", [s],
                     _s("Incidental vertebral hemangioma.||Typical vertebral body hemangioma (incidental).", ctx), 60,
                     {"marrow"})


LUMBAR_LEVELS = ("T12-L1", "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
CERVICAL_LEVELS = ("C2-C3", "C3-C4", "C4-C5", "C5-C6", "C6-C7", "C7-T1")


def spine_levels(subregion: str, by_level: dict[str, list[str]], ctx: Ctx) -> list[str]:
    """Level-by-level review lines; abnormal levels carry their finding sentences, normal runs may be grouped."""
    levels = list(CERVICAL_LEVELS if subregion == "cervical_spine" else LUMBAR_LEVELS)
    levels += [lv for lv in by_level if lv not in levels]
    normal = "[No significant disc abnormality, canal or foraminal stenosis.|Normal.|Unremarkable.|No disc " \
             "herniation. Canal and foramina patent.|No disc bulge or herniation; no canal or foraminal stenosis.]"
    group = chance(ctx.rng, 0.5) or ctx.terse
    out, run = [], []

    def flush():
        if not run:
            return
        head = run[0] if len(run) == 1 else f"{run[0]} to {run[-1]}"
        out.append(f"{head}: {phrase(normal, ctx.rng)}")
        run.clear()

    for lv in levels:
        if lv in by_level:
            flush()
            out.append(f"{lv}: " + " ".join(by_level[lv]))
        elif group:
            run.append(lv)
        else:
            out.append(f"{lv}: {phrase(normal, ctx.rng)}")
    flush()
    return out
