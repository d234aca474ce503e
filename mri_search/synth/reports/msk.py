"""Findings and impression text of the knee and shoulder finding kinds."""

from __future__ import annotations

from ..types import Lesion
from .findings import _s, words
from .signals import Ctx, Described
from .style import mm_str, pick, size_text

_MENISCUS_ABBR = {"medial": "MM", "lateral": "LM"}


def describe_meniscal_tear(lesion: Lesion, ctx: Ctx) -> Described:
    parts = lesion.site.split("_")  # medial_meniscus_posterior_horn
    which, part = parts[0], " ".join(parts[2:]) or "body"
    typ = lesion.attributes.get("tear_type", pick(ctx.rng, ("oblique", "horizontal")))
    surface = pick(ctx.rng, ("inferior", "inferior", "superior"))
    length = max(lesion.size_mm)
    ln = f"[, {mm_str(length)} mm in length|, measuring {mm_str(length)} mm|]" if length > 0 else ""
    s = _s(["{T} tear of the {p} of the {w} meniscus extending to the {sf} articular surface" + ln + ".",
            "{W} meniscus: {t} tear of the {p} reaching the {sf} articular surface" + ln + ".",
            "There is a{n} {t} tear involving the {p} of the {w} meniscus" + ln + ".",
            "{t} tear, {p} {abbr}, extending to the {sf} surface" + ln + "."],
           ctx, T=typ, t=typ, p=part, w=which, W=which, sf=surface, abbr=_MENISCUS_ABBR.get(which, ""),
           n="n" if typ[0] in "aeiou" else "")
    extra = [_s("No displaced meniscal fragment.||No flipped fragment.||No parameniscal cyst.", ctx)]
    imp = _s(["{T} tear of the {p} of the {w} meniscus.", "{W} meniscal tear ({p}, {t}).", "Tear of the {p} of "
              "the {w} meniscus."], ctx, T=typ, t=typ, p=part, w=which, W=which)
    return Described(f"meniscal_tear:{lesion.site}", f"{which}_meniscus", [s] + extra, imp, 0,
                     {f"{which}_meniscus"})


def describe_acl_tear(lesion: Lesion, ctx: Ctx) -> Described:
    complete = bool(lesion.attributes.get("complete", True))
    if complete:
        s = _s(["Complete mid-substance tear of the anterior cruciate ligament.", "The ACL is [torn|completely "
                "torn] in its mid-substance with no intact fibers.", "ACL: complete tear with fiber "
                "discontinuity[ and a lax residual stump|]."], ctx)
        imp = _s("Complete ACL tear.||Complete tear of the anterior cruciate ligament.||Full-thickness ACL "
                 "rupture.", ctx)
    else:
        s = _s(["Partial tear of the ACL with thickening and increased signal but some intact fibers.", "High-grade "
                "partial tear of the anterior cruciate ligament.", "ACL: partial-thickness tear."], ctx)
        imp = _s("Partial ACL tear.||High-grade partial tear of the anterior cruciate ligament.", ctx)
    return Described(f"acl_tear:{lesion.site}", "acl", [s], imp, 1, {"acl"})


def describe_bone_contusion(lesion: Lesion, ctx: Ctx) -> Described:
    where = words(lesion.site)
    seq = ctx.fluid_word()
    on = f" on {seq}" if seq else ""
    s = _s(["Bone marrow edema (contusion) in the {w}, measuring {size}.", "{size} bone bruise in the {w}{on}.",
            "Contusion of the {w} with ill-defined marrow edema{on} ({size})."], ctx, w=where, on=on,
           size=size_text(lesion.size_mm, ctx.rng, dims=1))
    imp = _s("Bone contusion of the {w}.||{W} bone bruise.", ctx, w=where, W=where)
    return Described(f"bone_contusion:{lesion.site}", "marrow", [s], imp, 5, {"marrow"})


def describe_joint_effusion(lesion: Lesion, ctx: Ctx) -> Described:
    sev = lesion.attributes.get("severity") or ("small" if max(lesion.size_mm) < 10 else "moderate")
    s = _s("{Sev} joint effusion.||{Sev} knee joint effusion[ distending the suprapatellar recess|].||There is a "
           "{sev} effusion.", ctx, Sev=sev, sev=sev)
    return Described(f"joint_effusion:{lesion.site}", "effusion", [s], _s("{Sev} joint effusion.", ctx, Sev=sev),
                     20, {"effusion"})


def describe_baker_cyst(lesion: Lesion, ctx: Ctx) -> Described:
    size = size_text(lesion.size_mm, ctx.rng, dims=1)
    s = _s("{size} [uncomplicated |]popliteal (Baker's) cyst.||Baker's cyst measuring {size}.||There is a {size} "
           "Baker's cyst [without evidence of rupture|].", ctx, size=size)
    return Described(f"baker_cyst:{lesion.site}", "baker", [s], _s("Baker's cyst.||Uncomplicated popliteal cyst.",
                                                                   ctx), 40, {"baker"})


_TENDON = {"supraspinatus": ("supraspinatus", "SSP"), "infraspinatus": ("infraspinatus", "ISP"),
           "subscapularis": ("subscapularis", "SSC")}


def describe_rotator_cuff_tear(lesion: Lesion, ctx: Ctx) -> Described:
    name, abbr = _TENDON.get(lesion.site, (words(lesion.site), words(lesion.site)))
    full = lesion.attributes.get("thickness", "full") == "full"
    size = f"{mm_str(max(lesion.size_mm))} mm"
    if full:
        s = _s(["Full-thickness tear of the [anterior |distal |]{n} tendon at the [footprint|greater tuberosity "
                "insertion] measuring {size} [(AP)|in AP width|].", "{N}: full-thickness tear, {size} in width[ "
                "with fluid filling the defect|].", "There is a {size} full-thickness {abbr} tendon tear[ at the "
                "footprint|].", "Full-thickness, full-width defect of the {n} tendon measuring {size}[, with mild "
                "retraction|].", "The {n} tendon is torn through its full thickness over {size} [near its "
                "insertion|at the critical zone]."], ctx, n=name, N=name, abbr=abbr, size=size)
        imp = _s("Full-thickness {n} tendon tear ({size}).||{size} full-thickness {n} tear.||Full-thickness "
                 "[rotator cuff|{abbr}] tear involving the {n}, {size} wide.||{N} full-thickness tear measuring "
                 "{size} [at the footprint|in AP width].||Rotator cuff: full-thickness tear of the {n} "
                 "tendon[ ({size})|].", ctx, n=name, N=name, abbr=abbr, size=size)
    else:
        s = _s(["Partial-thickness [articular|bursal]-sided tear of the {n} tendon, {size}.", "{N}: partial-"
                "thickness [articular|bursal] surface tear measuring {size}.", "{size} partial-thickness {abbr} "
                "tear[ with surrounding tendinosis|].", "There is a [low-grade|high-grade] partial-thickness tear "
                "of the [articular|bursal] surface of the {n} tendon ({size})."], ctx, n=name, N=name, abbr=abbr,
               size=size)
        imp = _s("Partial-thickness {n} tendon tear.||{size} partial-thickness tear of the {n}.||Partial-thickness "
                 "[articular|bursal]-sided {abbr} tear.||{N} tendinopathy with a partial-thickness tear ({size}).",
                 ctx, n=name, N=name, abbr=abbr, size=size)
    return Described(f"rotator_cuff_tear:{lesion.site}", "cuff", [s], imp, 0, {lesion.site})


def describe_subacromial_bursitis(lesion: Lesion, ctx: Ctx) -> Described:
    d = mm_str(max(lesion.size_mm))
    s = _s("Fluid distending the subacromial-subdeltoid bursa (up to {d} mm), in keeping with bursitis.||"
           "Subacromial-subdeltoid bursitis with {d} mm of bursal fluid.||Small amount of subacromial-subdeltoid "
           "bursal fluid ({d} mm).", ctx, d=d)
    return Described(f"subacromial_bursitis:{lesion.site}", "bursa", [s], _s("Subacromial-subdeltoid bursitis.",
                                                                             ctx), 30, {"bursa"})
