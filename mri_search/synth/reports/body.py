"""Findings and impression text of the breast, chest, cardiac, abdominal and pelvic finding kinds."""

from __future__ import annotations

from ..types import Lesion
from .findings import HIGH, LIKELY, _s, side_of, words
from .signals import (Ctx, Described, diffusion_phrase, enhancement_word, lesion_tissue, t2_ratio, t2_signal,
                      t2_words)
from .style import chance, join_words, mm_str, pick, size_text


# ---- breast -----------------------------------------------------------------------------------------------
_QUADRANT = {"upper_outer_quadrant": ("upper outer quadrant", "UOQ"), "upper_inner_quadrant": (
    "upper inner quadrant", "UIQ"), "lower_outer_quadrant": ("lower outer quadrant", "LOQ"), "lower_inner_quadrant": (
    "lower inner quadrant", "LIQ"), "retroareolar": ("retroareolar region", "retroareolar region")}


def describe_breast_mass(lesion: Lesion, ctx: Ctx) -> Described:
    rng, a = ctx.rng, lesion.attributes
    malignant = lesion.histology != "fibroadenoma"
    side = lesion.laterality if lesion.laterality in ("left", "right") else "right"
    quad = pick(rng, _QUADRANT.get(lesion.site, (words(lesion.site),)))
    clock = a.get("clock")
    where = f"{side} breast, {clock} ({quad})" if clock else f"{side} breast, {quad}"
    birads = int(a.get("birads") or (5 if malignant else 3))
    shape = pick(rng, ("irregular mass with spiculated margins", "irregular spiculated mass",
                       "irregular mass with non-circumscribed margins")) if malignant else pick(
        rng, ("oval circumscribed mass", "oval mass with circumscribed margins", "well-circumscribed oval mass"))
    size = size_text(lesion.size_mm, rng, dims=int(pick(rng, (1, 2))))
    sents = [_s(["{W}: {size} {shape}.", "In the {w} there is a {size} {shape}.", "{size} {shape} in the {w}."],
                ctx, W=where, w=where, size=size, shape=shape)]
    if ctx.t2:
        t2 = t2_words(t2_ratio(lesion, ctx.reference, ctx.plan.field_strength), rng)
        sents.append(_s("It is {t} on T2[-weighted images|].||The mass is {t} to fibroglandular tissue on T2.", ctx,
                        t=t2))
    sig = []
    enh = enhancement_word(lesion, ctx)
    if enh:
        kin = pick(rng, (", with fast initial enhancement and washout kinetics", " with a type 3 (washout) curve",
                         "")) if malignant else pick(rng, (" with persistent kinetics", " and dark internal "
                                                           "septations", ""))
        sig.append(f"{enh} enhancement{kin}")
    dwi = diffusion_phrase(lesion, ctx, ref=ctx.reference, quote=False)
    if dwi:
        sig.append(dwi)
    if sig:
        sents.append(_s("[It shows|There is|The mass shows] {x}.", ctx, x=" and ".join(sig)))
    dx = pick(rng, ("highly suggestive of malignancy", "suspicious for invasive carcinoma")) if malignant else \
        pick(rng, ("in keeping with a fibroadenoma", "probably benign, likely fibroadenoma"))
    imp = _s(["{Side} breast {q} {size} mass, {dx}. BI-RADS {b}.", "BI-RADS {b}: {size} {side} breast mass at "
              "{q}, {dx}.", "{size} {shape} in the {side} breast ({q}), {dx} (BI-RADS {b})."], ctx, Side=side,
             side=side, q=clock or quad, size=size_text(lesion.size_mm, rng, dims=1), dx=dx, b=birads, shape=shape)
    rec = "Ultrasound-guided biopsy recommended." if birads >= 4 else "Short-interval follow-up in 6 months."
    return Described(f"breast_mass:{lesion.site}", f"{side}_breast", sents, imp, 0, {f"{side}_breast"},
                     recommendation=rec)


def describe_breast_cyst(lesion: Lesion, ctx: Ctx) -> Described:
    side = lesion.laterality if lesion.laterality in ("left", "right") else "right"
    non = ", non-enhancing" if ctx.t1c else ""
    t2 = " T2 hyperintense" if ctx.t2 else ""
    s = _s(["{size} simple cyst in the {side} breast[, {t2}{non}|].", "A {size}{t2}{non} simple cyst is present "
            "in the {side} breast.", "{Side} breast: {size} simple cyst{non}."], ctx, size=size_text(
        lesion.size_mm, ctx.rng, dims=1), side=side, Side=side, t2=t2.strip(), non=non)
    return Described(f"breast_cyst:{lesion.site}", f"{side}_breast", [s],
                     _s("Benign {side} breast cyst (BI-RADS 2).||Simple {side} breast cyst, benign.", ctx,
                        side=side), 40, {f"{side}_breast"})


# ---- chest and heart ----------------------------------------------------------------------------------------
def describe_lung_mass(lesion: Lesion, ctx: Ctx) -> Described:
    rng = ctx.rng
    lobe = words(lesion.site)
    size = size_text(lesion.size_mm, rng)
    sents = [_s(["[There is a|A] {size} [soft-tissue |]mass in the {lobe}.", "{size} {lobe} mass.",
                 "A mass measuring {size} is [seen|present] in the {lobe}."], ctx, size=size, lobe=lobe)]
    sig = []
    if ctx.t2:
        sig.append(t2_signal(t2_words(t2_ratio(lesion, ctx.reference, ctx.plan.field_strength), rng)))
    dwi = diffusion_phrase(lesion, ctx, ctx.reference, quote=False)
    if dwi:
        sig.append(dwi)
    enh = enhancement_word(lesion, ctx)
    if enh:
        sig.append(f"{enh} enhancement")
    if sig:
        sents.append(_s("It [shows|demonstrates] {x}.", ctx, x=join_words(sig, ctx.plan.style)))
    dx = "metastasis" if lesion.histology == "metastasis" else pick(rng, ("primary lung carcinoma",
                                                                         "bronchogenic carcinoma"))
    imp = _s(["{Lobe} mass ({size}), {h} {dx}.", "{H} {dx}: {size} {lobe} mass.", "{size} {lobe} mass, {h} {dx}."],
             ctx, Lobe=lobe, lobe=lobe, size=size_text(lesion.size_mm, rng, dims=1), h=pick(rng, LIKELY),
             H=pick(rng, LIKELY), dx=dx)
    return Described(f"lung_mass:{lesion.site}", "lesion", sents, imp, 0, {"lungs"},
                     recommendation="Recommend CT chest and tissue sampling.")


_TERRITORY = {"lad_territory": ("LAD", "anterior and anteroseptal"), "rca_territory": ("RCA", "inferior and "
              "inferoseptal"), "lcx_territory": ("LCx", "inferolateral and anterolateral")}


def describe_myocardial_scar(lesion: Lesion, ctx: Ctx) -> Described:
    art, segs = _TERRITORY.get(lesion.site, ("coronary", "basal"))
    if ctx.t1c:
        s = _s(["[Subendocardial|Transmural|Near-transmural] late gadolinium enhancement of the {g} segments "
                "({a} territory).", "LGE in the {a} territory involving the {g} walls, [subendocardial|transmural] "
                "in distribution.", "There is [subendocardial|transmural] LGE in a coronary distribution ({a}: "
                "{g} segments)."], ctx, a=art, g=segs)
        imp = _s("Prior {a} territory myocardial infarction[ with subendocardial scar|].||{a} territory infarct "
                 "scar on LGE[, consistent with ischemic cardiomyopathy|].", ctx, a=art)
        blocks = {"lge", "lv_wall"}
    else:
        s = _s("Regional wall thinning of the {g} segments ({a} territory).||Thinned {g} wall in the {a} territory.",
               ctx, a=art, g=segs)
        imp = _s("Regional wall thinning in the {a} territory, suggestive of prior infarction (no contrast "
                 "given).||Probable prior {a} territory infarct.", ctx, a=art)
        blocks = {"lv_wall"}
    slot = ("lge" if ctx.t1c else "lv") if ctx.plan.subregion == "cardiac" else "mediastinum"
    return Described(f"myocardial_scar:{lesion.site}", slot, [s], imp, 0, blocks)


def describe_pericardial_effusion(lesion: Lesion, ctx: Ctx) -> Described:
    depth = max(lesion.size_mm)
    sev = lesion.attributes.get("severity") or ("small" if depth < 10 else "moderate" if depth < 20 else "large")
    s = _s("{Sev} pericardial effusion measuring up to {d} mm.||{Sev} pericardial effusion ({d} mm).||There is a "
           "{sev} pericardial effusion[, maximal depth {d} mm|].", ctx, Sev=sev, sev=sev, d=mm_str(depth))
    slot = "pericardium" if ctx.plan.subregion == "cardiac" else "mediastinum"
    return Described(f"pericardial_effusion:{lesion.site}", slot, [s], _s("{Sev} pericardial effusion.", ctx,
                                                                          Sev=sev), 30, {"pericardium"})


# ---- abdomen ----------------------------------------------------------------------------------------------
def _segment(lesion: Lesion) -> str:
    seg = lesion.attributes.get("segment") or (lesion.site.split("_", 1)[1] if lesion.site.startswith("segment_")
                                               else None)
    return f"segment {seg}" if seg else "the liver"


def describe_liver_lesion(lesion: Lesion, ctx: Ctx) -> Described:
    rng, h = ctx.rng, lesion.histology
    seg = _segment(lesion)
    size = size_text(lesion.size_mm, rng, dims=int(pick(rng, (1, 2))))
    count = int(lesion.attributes.get("count", 1) or 1)
    sig = []
    t2 = t2_words(t2_ratio(lesion, ctx.reference, ctx.plan.field_strength), rng) if ctx.t2 else ""
    if t2:
        sig.append(t2_signal(t2))
    dwi = diffusion_phrase(lesion, ctx, ctx.reference, quote=False)
    rec = None
    if h == "hepatocellular_carcinoma":
        lr = int(lesion.attributes.get("lirads") or (5 if max(lesion.size_mm) >= 20 else 4))
        if ctx.t1c:
            sig.append(pick(rng, ("non-rim arterial phase hyperenhancement and non-peripheral washout",
                                  "arterial phase hyperenhancement (APHE) with washout")))
            if lr == 5 and chance(rng, 0.6):
                sig.append("an enhancing capsule")
        noun = "observation"
        dx = f"LI-RADS {lr}" + (pick(rng, (", definite HCC", " (definite hepatocellular carcinoma)")) if lr == 5
                                else pick(rng, (", probably HCC", " (probable HCC)")))
        if not ctx.t1c:
            dx = "indeterminate, suspicious for HCC"
            rec = "Recommend a dynamic multiphase liver MRI for LI-RADS categorization."
    elif h == "haemangioma":
        if ctx.t1c:
            sig.append(pick(rng, ("peripheral nodular discontinuous enhancement with progressive centripetal "
                                  "fill-in", "peripheral nodular enhancement with centripetal fill-in")))
        noun, dx = "lesion", pick(rng, ("in keeping with a hemangioma", "diagnostic of a hemangioma",
                                        "typical of a hemangioma"))
    else:
        if ctx.t1c:
            sig.append(pick(rng, ("rim enhancement", "peripheral rim enhancement")))
        noun = "lesion"
        dx = pick(rng, HIGH + LIKELY) + (" metastases" if count > 1 else " a metastasis")
        rec = "For discussion at the hepatobiliary MDT."
    if dwi:
        sig.append(dwi)
    if count > 1:
        first = _s(["Multiple ({n}) liver lesions, the largest in {seg} measuring {size}.", "{n} hepatic lesions "
                    "are present; the largest, in {seg}, measures {size}."], ctx, n=count, seg=seg, size=size)
    else:
        first = _s(["In {seg} there is a {size} {noun}.", "{Seg}: {size} {noun}.", "A {size} {noun} is [seen|"
                    "present] in {seg}."], ctx, seg=seg, Seg=seg, size=size, noun=noun)
    sents = [first]
    if sig:
        sents.append(_s("It [shows|demonstrates|has] {x}.||The {noun} shows {x}.", ctx,
                        x=join_words(sig, ctx.plan.style), noun=noun))
    if h == "hepatocellular_carcinoma":
        sents.append(_s("No tumor in vein.||The portal veins are patent without tumor thrombus.", ctx))
    imp = _s(["{size} {noun} in {seg}, {dx}.", "{Seg} {noun} ({size}): {dx}.", "{dx_cap} in {seg}, {size}."], ctx,
             size=size_text(lesion.size_mm, rng, dims=1), noun=noun, seg=seg, Seg=seg, dx=dx,
             dx_cap=dx.split(",")[0].split(" (")[0] + " " + noun if h == "hepatocellular_carcinoma" and ctx.t1c
             else f"{noun.capitalize()}, {dx}")
    return Described(f"liver_lesion:{lesion.site}", "liver", sents, imp, 0, {"liver_lesion"}, recommendation=rec)


def describe_liver_cyst(lesion: Lesion, ctx: Ctx) -> Described:
    seg = _segment(lesion)
    where = "the liver" if seg == "the liver" else seg
    s = _s(["{size} simple cyst in {w}[, T2 hyperintense and non-enhancing|].", "A {size} simple hepatic cyst is "
            "present in {w}.", "Simple cyst in {w} measuring {size}."], ctx, size=size_text(
        lesion.size_mm, ctx.rng, dims=1), w=where)
    if not (ctx.t2 and ctx.t1c) and "non-enhancing" in s:
        s = s.split(",")[0] + "."
    return Described(f"liver_cyst:{lesion.site}", "liver", [s], _s("Simple hepatic cyst.||Incidental benign "
                                                                   "hepatic cyst.", ctx), 60, {"liver_lesion"})


def describe_renal_cyst(lesion: Lesion, ctx: Ctx) -> Described:
    side = side_of(lesion)
    pole = {"interpolar": "interpolar region"}.get(lesion.site, words(lesion.site))
    s = _s(["Simple cyst in the {p} of the {side}kidney measuring {size} (Bosniak I).", "{size} simple {side}renal "
            "cyst ({p}), Bosniak I.", "There is a {size} simple cyst arising from the {p} of the {side}kidney."],
           ctx, p=pole, side=side, size=size_text(lesion.size_mm, ctx.rng, dims=1))
    return Described(f"renal_cyst:{lesion.site}", "kidneys", [s], _s("Simple {side}renal cyst (Bosniak I); no "
                                                                     "follow-up required.||Bosniak I {side}renal "
                                                                     "cyst.", ctx, side=side), 60, {"kidneys"})


# ---- pelvis -----------------------------------------------------------------------------------------------
def describe_prostate_lesion(lesion: Lesion, ctx: Ctx) -> Described:
    rng = ctx.rng
    side = side_of(lesion)
    level = {"peripheral_zone_base": "base", "peripheral_zone_mid": "mid-gland", "peripheral_zone_apex": "apex"}.get(
        lesion.site, "mid-gland")
    size_mm = max(lesion.size_mm)
    pirads = int(lesion.attributes.get("pirads") or (5 if size_mm >= 15 else 4))
    where = f"{side}{pick(rng, ('posterolateral ', 'posteromedial ', ''))}peripheral zone, {level}"
    parts = []
    t = lesion_tissue(lesion)
    if ctx.t2:
        dark = t2_ratio(lesion, "prostate_pz", ctx.plan.field_strength) or 0.7
        parts.append("homogeneous T2 hypointense focus" if dark < 0.8 else "focus of moderate T2 hypointensity")
    else:
        parts.append("focal lesion")
    if ctx.dwi and t is not None and t.adc < 1.4:
        parts.append(pick(rng, ("markedly low ADC and high b-value signal", "focal marked restricted diffusion",
                                "low ADC (PZ) with high signal on high b-value DWI")))
    if ctx.t1c:
        parts.append(pick(rng, ("focal early enhancement (DCE positive)", "focal early enhancement")))
    size = size_text(lesion.size_mm, rng, dims=1)
    sents = [_s(["Lesion 1: {w}. {size} {x}. PI-RADS {p}.", "{W}: {size} {x}, PI-RADS {p}.", "In the {w} there "
                 "is a {size} {x} (PI-RADS {p})."], ctx, w=where, W=where, size=size,
                x=join_words(parts, ctx.plan.style), p=pirads)]
    sents.append(_s("No extraprostatic extension.||Capsular contact without bulge or irregularity; no EPE.||No "
                    "definite extraprostatic extension.", ctx))
    imp = _s(["PI-RADS {p} lesion in the {w} ({size}).", "{size} PI-RADS {p} lesion, {w}.", "{W} lesion: PI-RADS "
              "{p}, {h} clinically significant cancer."], ctx, p=pirads, w=where, W=where, size=size,
             h=pick(rng, ("likely", "highly suspicious for", "suspicious for")) if pirads >= 4 else "equivocal for")
    return Described(f"prostate_lesion:{lesion.site}", "lesion", sents, imp, 0, {"pz", "epe"},
                     recommendation=pick(rng, ("Targeted biopsy recommended.", "MRI-targeted biopsy is "
                                               "recommended.", "Recommend MRI-targeted biopsy.")))


_FIGO = {"submucosal": "FIGO 1", "intramural": "FIGO 4", "subserosal": "FIGO 6"}


def describe_uterine_fibroid(lesion: Lesion, ctx: Ctx) -> Described:
    count = int(lesion.attributes.get("count", 1) or 1)
    site = lesion.site
    t2 = "T2 hypointense " if ctx.t2 else ""
    size = size_text(lesion.size_mm, ctx.rng)
    if count > 1:
        s = _s("[Bulky uterus containing multiple|Multiple] well-circumscribed {t2}fibroids, the largest {s} "
               "measuring {size} ({f}).||{n} uterine fibroids; the dominant {s} fibroid measures {size} ({f}).",
               ctx, t2=t2, s=site, size=size, f=_FIGO.get(site, ""), n=count)
    else:
        s = _s(["[A|There is a] well-circumscribed {t2}{s} fibroid measuring {size} ({f}).", "{s} leiomyoma, "
                "{size}, {t2}and well circumscribed ({f}).", "Solitary {s} fibroid of {size} ({f})."], ctx, t2=t2,
               s=site, size=size, f=_FIGO.get(site, ""))
    blocks = {"myometrium", "uterus"} | ({"endometrium"} if site == "submucosal" else set())
    imp = _s("Uterine fibroid[s|], the largest {s} measuring {size}.||{s} fibroid ({size}, {f}).||"
             "Fibroid uterus; dominant {s} leiomyoma {size}.", ctx, s=site, size=size_text(lesion.size_mm, ctx.rng,
                                                                                          dims=1),
             f=_FIGO.get(site, ""))
    if count == 1:
        imp = imp.replace("Uterine fibroids,", "Uterine fibroid,")
    return Described(f"uterine_fibroid:{site}", "uterus", [s], imp, 0, blocks)


def describe_ovarian_cyst(lesion: Lesion, ctx: Ctx) -> Described:
    side = lesion.laterality if lesion.laterality in ("left", "right") else "right"
    sig = [w for w, ok in (("T2 hyperintense", ctx.t2), ("T1 hypointense", ctx.t1)) if ok]
    if ctx.t1c:
        sig.append("without an enhancing solid component")
    s = _s(["{size} [simple-appearing|unilocular] cyst in the {side} ovary{x}.", "{Side} ovary: {size} simple "
            "cyst{x}.", "The {side} ovary contains a {size} unilocular cyst{x}."], ctx, side=side, Side=side,
           size=size_text(lesion.size_mm, ctx.rng, dims=int(pick(ctx.rng, (1, 2)))),
           x=(", " + join_words(sig, ctx.plan.style)) if sig else "")
    imp = _s("{size} simple {side} ovarian cyst (O-RADS MRI 2).||Benign-appearing {side} ovarian cyst.", ctx,
             size=size_text(lesion.size_mm, ctx.rng, dims=1), side=side)
    return Described(f"ovarian_cyst:{lesion.site}", "ovaries", [s], imp, 10, {f"{side}_ovary"})
