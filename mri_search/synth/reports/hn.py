"""Head-and-neck tumour text: sub-site names, histology names, nodes, radiological T/N stage, impression.

The impression of a head-and-neck report is a benchmark query, so it always names the sub-site (a synonym from
``SUBSITE_SYNONYMS``), the side, the histology (known from biopsy, or suggested with a hedge) and, where AJCC 8th
applies, the radiological T and N categories computed from the cut-offs in ``data/head_neck_tumours.csv``.
"""

from __future__ import annotations

from ..types import Lesion
from .signals import Ctx, Described, diffusion_phrase, enhancement_word, t2_ratio, t2_words
from .style import chance, join_words, mm_str, phrase, pick, sentence, size_text
from .tnm import BENIGN as _BENIGN
from .tnm import n_stage, t_stage

# Sub-site -> words that name it; every location phrase below contains one of them (lower case).
SUBSITE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "nasopharynx": ("nasopharynx", "nasopharyngeal", "fossa of rosenmueller"),
    "oropharynx_tonsil": ("tonsil", "tonsillar"),
    "base_of_tongue": ("base of tongue", "tongue base"),
    "oral_tongue": ("oral tongue", "lateral border of the tongue", "lateral tongue", "mobile tongue"),
    "floor_of_mouth": ("floor of mouth", "floor of the mouth"),
    "larynx_glottic": ("glottis", "glottic", "vocal cord", "vocal fold"),
    "larynx_supraglottic": ("supraglottis", "supraglottic", "epiglottis", "epiglottic", "aryepiglottic fold"),
    "hypopharynx": ("pyriform sinus", "piriform fossa", "hypopharynx", "hypopharyngeal"),
    "parotid": ("parotid",),
    "submandibular": ("submandibular",),
    "thyroid": ("thyroid",),
    "sinonasal": ("maxillary sinus", "maxillary antrum", "nasal cavity", "sinonasal"),
}

# Location phrases ({s} = side adjective with trailing space, or ''); findings and impression both use them.
_LOC: dict[str, tuple[str, ...]] = {
    "nasopharynx": ("{s}fossa of Rosenmueller", "{s}lateral wall of the nasopharynx", "{s}side of the nasopharynx",
                    "{s}lateral nasopharyngeal recess (fossa of Rosenmueller)"),
    "oropharynx_tonsil": ("{s}palatine tonsil", "{s}tonsillar fossa", "{s}tonsil"),
    "base_of_tongue": ("{s}base of tongue", "{s}tongue base", "{s}side of the tongue base"),
    "oral_tongue": ("{s}lateral border of the tongue", "{s}oral tongue", "{s}lateral border of the oral tongue"),
    "floor_of_mouth": ("{s}floor of mouth", "{s}anterior floor of the mouth", "{s}floor of the mouth"),
    "larynx_glottic": ("{s}true vocal cord", "{s}vocal fold", "{s}glottis"),
    "larynx_supraglottic": ("{s}aryepiglottic fold", "{s}supraglottis", "{s}side of the epiglottis"),
    "hypopharynx": ("{s}pyriform sinus", "{s}piriform fossa", "{s}hypopharynx (pyriform sinus)"),
    "parotid": ("{s}parotid gland", "superficial lobe of the {s}parotid gland", "{s}parotid"),
    "submandibular": ("{s}submandibular gland",),
    "thyroid": ("{s}thyroid lobe", "{s}lobe of the thyroid gland", "{s}thyroid lobe"),
    "sinonasal": ("{s}maxillary sinus", "{s}maxillary antrum", "{s}nasal cavity and maxillary sinus"),
}
_ADJ: dict[str, tuple[str, ...]] = {  # impression-style adjectives ("left tonsillar SCC")
    "nasopharynx": ("nasopharyngeal",), "oropharynx_tonsil": ("tonsillar", "tonsil"),
    "base_of_tongue": ("base of tongue", "tongue base"), "oral_tongue": ("oral tongue", "lateral tongue"),
    "floor_of_mouth": ("floor of mouth",), "larynx_glottic": ("glottic", "vocal cord"),
    "larynx_supraglottic": ("supraglottic",), "hypopharynx": ("pyriform sinus", "hypopharyngeal"),
    "parotid": ("parotid",), "submandibular": ("submandibular gland", "submandibular"),
    "thyroid": ("thyroid",), "sinonasal": ("maxillary sinus", "sinonasal"),
}

# histology -> (full names, short names)
HISTOLOGY_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "scc": (("squamous cell carcinoma",), ("SCC", "squamous cell carcinoma (SCC)", "HNSCC")),
    "scc_hpv_positive": (("p16-positive squamous cell carcinoma", "HPV-associated squamous cell carcinoma"),
                         ("p16+ SCC", "HPV-positive SCC", "p16-positive OPSCC")),
    "scc_hpv_negative": (("p16-negative squamous cell carcinoma", "HPV-negative squamous cell carcinoma"),
                         ("p16-negative SCC", "HPV-negative SCC")),
    "nasopharyngeal_carcinoma": (("nasopharyngeal carcinoma", "non-keratinizing nasopharyngeal carcinoma"),
                                 ("NPC", "nasopharyngeal carcinoma (NPC)")),
    "lymphoma": (("lymphoma", "non-Hodgkin lymphoma"), ("lymphoma", "NHL")),
    "pleomorphic_adenoma": (("pleomorphic adenoma",), ("pleomorphic adenoma (PA)", "PA")),
    "warthin_tumour": (("Warthin tumor", "Warthin's tumor"), ("Warthin tumor",)),
    "mucoepidermoid_carcinoma": (("mucoepidermoid carcinoma",), ("MEC", "mucoepidermoid carcinoma (MEC)")),
    "adenoid_cystic_carcinoma": (("adenoid cystic carcinoma",), ("ACC", "adenoid cystic carcinoma (ACC)")),
    "papillary_thyroid_carcinoma": (("papillary thyroid carcinoma",), ("PTC", "papillary carcinoma")),
    "follicular_thyroid_carcinoma": (("follicular thyroid carcinoma",), ("follicular carcinoma",)),
    "sinonasal_adenocarcinoma": (("sinonasal adenocarcinoma", "intestinal-type adenocarcinoma"),
                                 ("adenocarcinoma",)),
}
_MARGIN = {
    "lymphoma": ("bulky homogeneous", "smoothly marginated homogeneous", "bulky"),
    "pleomorphic_adenoma": ("well-circumscribed lobulated", "lobulated well-defined", "smoothly marginated"),
    "warthin_tumour": ("well-defined heterogeneous", "circumscribed heterogeneous", "oval well-circumscribed"),
    "papillary_thyroid_carcinoma": ("solid", "ill-defined solid", "irregular solid"),
    "follicular_thyroid_carcinoma": ("solid", "well-defined solid", "lobulated solid"),
    "*": ("ill-defined", "infiltrative", "irregular", "poorly marginated", "ill-defined infiltrative"),
}
_DIFFERENTIAL = {
    "lymphoma": "squamous cell carcinoma", "pleomorphic_adenoma": "Warthin tumor",
    "warthin_tumour": "pleomorphic adenoma", "mucoepidermoid_carcinoma": "pleomorphic adenoma",
    "adenoid_cystic_carcinoma": "mucoepidermoid carcinoma", "scc": "lymphoma",
}
_EXTENSION = {
    "crosses_midline": ("crosses the midline", "extends across the midline"),
    "soft_palate": ("extends superiorly into the soft palate", "involves the soft palate"),
    "glossotonsillar_sulcus": ("extends to the glossotonsillar sulcus", "reaches the glossotonsillar sulcus"),
    "pre_epiglottic_space": ("infiltrates the pre-epiglottic fat", "extends into the pre-epiglottic space"),
    "paraglottic_space": ("extends into the paraglottic space", "effaces the paraglottic fat"),
    "skull_base": ("erodes the skull base", "extends to the skull base with erosion of the clivus"),
    "parapharyngeal_space": ("extends into the parapharyngeal space", "infiltrates the parapharyngeal fat"),
    "deep_lobe": ("extends into the deep lobe", "involves the deep lobe of the gland"),
    "mandible": ("erodes the adjacent mandibular cortex", "invades the mandible"),
    "orbit": ("extends through the orbital floor", "invades the orbit"),
}
_EXT_SHORT = {  # impression wording of the first extension
    "crosses_midline": ("crossing the midline",), "soft_palate": ("extending to the soft palate",),
    "glossotonsillar_sulcus": ("extending to the glossotonsillar sulcus", "with glossotonsillar sulcus extension"),
    "pre_epiglottic_space": ("with pre-epiglottic space invasion", "invading the pre-epiglottic fat"),
    "paraglottic_space": ("with paraglottic extension", "extending into the paraglottic space"),
    "skull_base": ("with skull base invasion", "eroding the skull base"),
    "parapharyngeal_space": ("with parapharyngeal extension", "extending into the parapharyngeal space"),
    "deep_lobe": ("involving the deep lobe", "with deep lobe extension"),
    "mandible": ("with mandibular invasion", "invading the mandible"), "orbit": ("with orbital invasion",),
}
# Pertinent negatives per sub-site: (extension key that would contradict it, templates).
_NEGATIVES = {
    "*": [("perineural", "No [evidence of |]perineural spread.||No perineural tumor spread is seen.")],
    "oropharynx_tonsil": [("parapharyngeal_space", "The {side}parapharyngeal fat is preserved."),
                          ("mandible", "No mandibular marrow signal change."),
                          ("crosses_midline", "The tumor does not cross the midline.")],
    "base_of_tongue": [("pre_epiglottic_space", "The vallecula and pre-epiglottic fat are preserved."),
                       ("crosses_midline", "No extension across the midline lingual septum.")],
    "oral_tongue": [("crosses_midline", "No extension across the midline."),
                    ("mandible", "The mandible is intact.")],
    "floor_of_mouth": [("mandible", "No [convincing |]mandibular cortical erosion.")],
    "larynx_glottic": [("paraglottic_space", "The paraglottic fat is preserved."),
                       ("thyroid_cartilage", "The thyroid cartilage [appears intact|signal is preserved].")],
    "larynx_supraglottic": [("pre_epiglottic_space", "The pre-epiglottic fat is preserved.")],
    "hypopharynx": [("cartilage", "No cartilage invasion.")],
    "nasopharynx": [("skull_base", "No skull base erosion."),
                    ("parapharyngeal_space", "The parapharyngeal fat is preserved.")],
    "parotid": [("deep_lobe", "The deep lobe is spared."),
                ("facial_nerve", "No [evidence of |]perineural spread along the facial nerve.")],
    "thyroid": [("strap_muscles", "No [evidence of |]extrathyroidal extension.")],
    "sinonasal": [("orbit", "The orbital floor is intact."), ("skull_base", "No skull base erosion.")],
}
_SLOT_TAGS = {  # normal-statement tags a primary at this sub-site contradicts
    "nasopharynx": {"nasopharynx"}, "oropharynx_tonsil": {"oropharynx"}, "base_of_tongue": {"oropharynx"},
    "oral_tongue": {"oral_cavity"}, "floor_of_mouth": {"oral_cavity"}, "larynx_glottic": {"larynx"},
    "larynx_supraglottic": {"larynx"}, "hypopharynx": {"hypopharynx", "larynx"}, "parotid": {"parotid"},
    "submandibular": {"submandibular"}, "thyroid": {"thyroid"}, "sinonasal": {"sinuses"},
}
_EXT_TAGS = {"skull_base": {"skull_base"}, "orbit": {"orbits"}, "mandible": {"bone"}, "paraglottic_space": {"larynx"},
             "pre_epiglottic_space": {"larynx"}, "parapharyngeal_space": {"parapharyngeal"}}


def side_adj(lesion: Lesion) -> str:
    """'left ', 'right ', 'midline ', 'bilateral ' or '' (for insertion before a noun)."""
    return f"{lesion.laterality} " if lesion.laterality in ("left", "right", "midline", "bilateral") else ""


def location(lesion: Lesion, rng) -> str:
    """A location phrase for the lesion's sub-site and side ('left palatine tonsil')."""
    return pick(rng, _LOC.get(lesion.site, ("{s}" + lesion.site.replace("_", " "),))).format(s=side_adj(lesion))


def histology_name(histology: str | None, rng, short_ok: bool = True) -> str:
    """A name for a histology (full or abbreviated)."""
    if not histology:
        return "tumor"
    full, short = HISTOLOGY_NAMES.get(histology, ((histology.replace("_", " "),), ()))
    return pick(rng, short) if short_ok and short and chance(rng, 0.4) else pick(rng, full)


def _stage_text(t: str | None, n: str | None, lesion: Lesion, rng) -> str:
    if t is None:
        return ""
    tn = pick(rng, (f"{t} {n}", f"{t}{n}", f"c{t}N{n[1:]}" if n else f"c{t}")) if n else t
    note = ""
    if lesion.histology == "scc_hpv_positive" and chance(rng, 0.5):
        note = pick(rng, (" (AJCC 8th, p16+)", " (p16-positive staging)"))
    elif chance(rng, 0.3):
        note = pick(rng, (" (AJCC 8th edition)", " (TNM 8)"))
    return pick(rng, ("radiological ", "radiological stage ", "", "staging ")) + tn + note


def _node_name(node: dict, rng) -> str:
    if node["level"] == "retropharyngeal":
        return f"{node['side']} {pick(rng, ('lateral retropharyngeal', 'retropharyngeal'))}"
    return f"{node['side']} level {node['level']}"


def _nodes(lesion: Lesion, ctx: Ctx) -> tuple[list[str], list[str], list[str]]:
    """(sentences, mentioned node keys, omitted node keys), right side first."""
    rng = ctx.rng
    nodes = sorted(lesion.attributes.get("nodes", []), key=lambda n: (n["side"] != "right", -n["short_axis_mm"]))
    out, said, left_out = [], [], []
    smallest = min((n["short_axis_mm"] for n in nodes), default=0)
    for node in nodes:
        key = f"node:{node['side']}_{node['level']}"
        if len(nodes) > 1 and node["short_axis_mm"] == smallest and smallest < 10 and chance(rng, 0.3):
            left_out.append(key)
            continue
        sa = node["short_axis_mm"]
        nec = ""
        if node.get("necrotic"):
            nec = pick(rng, ("necrotic ", "centrally necrotic ", "cystic " if lesion.histology ==
                             "scc_hpv_positive" else "necrotic "))
        size = f"{mm_str(sa)} mm" if sa < 10 or chance(rng, 0.6) else f"{sa / 10:.1f} cm"
        name = _node_name(node, rng)
        tail = pick(rng, ("", "", ", in keeping with nodal metastasis", ", suspicious for metastatic involvement"))
        out.append(phrase([
            "[Enlarged|Pathological|Abnormal] {nec}{name} [lymph |]node measuring {size} in short axis{tail}.",
            "{name}: {nec}node, {size} short axis{tail}.",
            "There is a {nec}{name} node measuring {size} (short axis){tail}.",
            "A {nec}{name} node measures {size} in short axis{tail}.",
            "{nec}{name} [lymph node|node] of {size} short-axis diameter{tail}.",
        ], rng, nec=nec, name=name, size=size, tail=tail))
        said.append(key)
    return [sentence(s) for s in out], said, left_out


def describe_hn_tumour(lesion: Lesion, ctx: Ctx) -> Described:
    """Findings and impression text of a head-and-neck primary tumour and its nodes."""
    rng, h, site = ctx.rng, lesion.histology, lesion.site
    loc = location(lesion, rng)
    ref = "thyroid" if site == "thyroid" else ctx.reference
    t2 = t2_words(t2_ratio(lesion, ref, ctx.plan.field_strength), rng, hn=site != "thyroid") if ctx.t2 else ""
    if t2 and site == "thyroid":
        t2 += " to the normal gland"
    margin = pick(rng, _MARGIN.get(h or "", _MARGIN["*"]))
    size = size_text(lesion.size_mm, rng, dims=int(pick(rng, (2, 3, 3))))
    noun = pick(rng, ("mass", "mass", "lesion", "tumor", "soft-tissue mass"))
    t2pre = f"T2 {t2} " if t2 and " " not in t2 and chance(rng, 0.5) else ""
    known = ctx.hist_known and h is not None
    hist = histology_name(h, rng)
    first = phrase([
        "[There is a|A] {margin} {t2pre}{noun} [centered on|arising from|involving] the {loc}, measuring {size}.",
        "{margin} {t2pre}{noun} of the {loc} measuring {size}.",
        "A {size} {margin} {noun} is [seen|identified|present] [in|within|arising from] the {loc}.",
        "The {loc} [is expanded|is replaced] by a {margin} {t2pre}{noun} measuring {size}.",
        "Primary [tumor|lesion]: {margin} {noun} [centered on|in] the {loc}, measuring {size}.",
    ] + (["The [known|biopsy-proven] {hist} [appears as|corresponds to|is seen as] a {margin} {noun} in the {loc}, "
          "measuring {size}."] if known else []), rng, margin=margin, t2pre=t2pre, noun=noun, loc=loc, size=size,
        hist=hist)
    sents = [sentence(first)]
    sig = []
    if t2 and not (t2pre and t2pre.strip() in first):
        sig.append(pick(rng, (f"{t2} T2 signal", f"{t2} signal on T2-weighted images", f"{t2} T2W signal")))
    dwi = diffusion_phrase(lesion, ctx, ref=ctx.reference)
    if dwi:
        sig.append(dwi)
    enh = enhancement_word(lesion, ctx, necrotic=bool(lesion.attributes.get("necrotic")))
    if enh:
        sig.append(f"{enh} enhancement" if enh != "no" else "no enhancement")
    if sig:
        sents.append(sentence(phrase("[It|The lesion|The mass] [shows|demonstrates|has|returns] {x}.||"
                                     "[Signal:|On MRI it shows] {x}.", rng, x=join_words(sig, ctx.plan.style))))
    if h == "pleomorphic_adenoma" and ctx.t2 and chance(rng, 0.6):
        sents.append(sentence(pick(rng, ("a thin T2-hypointense capsule is seen",
                                         "there is a thin low-signal capsule on T2"))))
    if lesion.attributes.get("necrotic"):
        sents.append(sentence(pick(rng, ("central necrosis is present", "there is a necrotic center",
                                         "it contains a central necrotic component"))))
    ext = list(lesion.attributes.get("extension", []))
    if ext:
        parts = [pick(rng, _EXTENSION.get(e, (f"extends to the {e.replace('_', ' ')}",))) for e in ext]
        sents.append(sentence(pick(rng, ("it ", "the tumor ", "the mass ")) + join_words(parts, ctx.plan.style)))
    doi = lesion.attributes.get("depth_of_invasion_mm")
    if doi is not None:
        sents.append(sentence(phrase("[Estimated|Radiological] depth of invasion [is|measures] {d} mm.||"
                                     "DOI approximately {d} mm.", rng, d=mm_str(doi))))
    if not ctx.terse:
        own = _NEGATIVES.get(site, [])
        generic = [] if any(k in ("perineural", "facial_nerve") for k, _ in own) else _NEGATIVES["*"]
        options = [o for o in generic + own if o[0] not in ext]
        for _, tpl in (options if chance(rng, 0.6) else options[:1]):
            if chance(rng, 0.6):
                sents.append(sentence(phrase(tpl, rng, side=side_adj(lesion) if lesion.laterality in
                                             ("left", "right") else "")))
    node_sents, node_keys, left_out = _nodes(lesion, ctx)
    blocks = set(_SLOT_TAGS.get(site, set()))
    for e in ext:
        blocks |= _EXT_TAGS.get(e, set())
    if lesion.attributes.get("nodes"):
        blocks.add("nodes")
    imp = _impression(lesion, ctx, known, node_keys)
    rec = pick(rng, ("For discussion at the head and neck MDT.", "For discussion at the head and neck tumor board.",
                     "Tissue sampling advised.", "Recommend ultrasound-guided FNA of the dominant node.")
                     if node_keys else ("For discussion at the head and neck MDT.",
                                        "Recommend tissue sampling.", "ENT correlation is recommended."))
    if known:
        rec = pick(rng, ("For discussion at the head and neck MDT.", "For discussion at the head and neck tumor "
                         "board.", "Findings to be discussed at the multidisciplinary meeting."))
    elif h in _BENIGN:
        rec = pick(rng, ("Ultrasound-guided core biopsy would confirm.", "Suggest ENT review.",
                         "Clinical correlation is recommended."))
    return Described(key=f"hn_tumour:{site}", slot="primary", sentences=sents, impression=imp, priority=0,
                     blocks=blocks, extra={"nodes": node_sents} if node_sents else {}, recommendation=rec,
                     extra_keys=node_keys, omitted_keys=left_out)


def _impression(lesion: Lesion, ctx: Ctx, known: bool, node_keys: list[str]) -> str:
    rng, h = ctx.rng, lesion.histology
    side = side_adj(lesion)
    loc = location(lesion, rng)
    adj = side + pick(rng, _ADJ.get(lesion.site, (lesion.site.replace("_", " "),)))
    size = size_text(lesion.size_mm, rng, dims=1)
    hist = histology_name(h, rng)
    stage = _stage_text(t_stage(lesion), n_stage(lesion), lesion, rng) if chance(rng, 0.85) else ""
    ext = lesion.attributes.get("extension", [])
    ext_txt = ""
    if ext:
        ext_txt = ", " + pick(rng, _EXT_SHORT.get(ext[0], (f"extending to the {ext[0].replace('_', ' ')}",)))
    if known:
        templates = [
            "{Known} {hist} of the {loc}, {size}{ext}.",
            "{adj} {hist}, {size}{ext}.",
            "{size} {Known2} {adj} {hist}{ext}.",
            "{Known} {adj} {hist} measuring {size}{ext}.",
        ]
    elif h in _BENIGN:
        templates = [
            "{size} {margin} lesion of the {loc}, {hedge} {hist}.",
            "{adj} mass ({size}), {hedge} {hist}[; {diff} is less likely|].",
            "{Hedge} {hist} of the {loc}, measuring {size}.",
            "Well-defined {adj} lesion, {size}: features {favor} {hist}.",
        ]
    else:
        templates = [
            "{adj} mass measuring {size}{ext}, {hedge} {hist}.",
            "{size} {loc} mass{ext}, {hedge} {hist}.",
            "{Hedge} {hist} of the {loc} ({size}){ext}.",
            "{adj} tumor, {size}{ext}: {hedge} {hist}[, {diff} less likely|].",
            "Mass centered on the {loc}, {hedge} primary {hist}{ext} ({size}).",
        ]
    hedges = ("in keeping with", "consistent with", "most consistent with", "suspicious for", "most likely",
              "highly suspicious for", "compatible with")
    hedge = pick(rng, hedges)
    text = phrase(templates, rng, Known=pick(rng, ("Known", "Biopsy-proven", "Histologically confirmed")),
                  Known2=pick(rng, ("known", "biopsy-proven")), hist=hist, loc=loc, adj=adj, size=size, ext=ext_txt,
                  margin=pick(rng, ("circumscribed", "well-defined", "lobulated")), hedge=hedge, Hedge=hedge,
                  favor=pick(rng, ("favor", "suggest", "are typical of")),
                  diff=_DIFFERENTIAL.get(h or "", "lymphoma"))
    text = sentence(text)
    if stage:
        text = text[:-1] + pick(rng, (f" - {stage}.", f"; {stage}.", f". {sentence(stage)}"))
    if node_keys:
        sides = sorted({k.split(":")[1].split("_")[0] for k in node_keys})
        levels = sorted({k.split("_", 1)[1] for k in node_keys})
        where = "bilateral" if len(sides) > 1 else sides[0]
        lv = join_words([("level " + v) if v != "retropharyngeal" else v for v in levels], ctx.plan.style)
        text += " " + sentence(phrase([
            "{where} {lv} nodal [metastases|disease]",
            "[associated|with] {where} nodal metastases ({lv})",
            "{where} cervical nodal metastatic disease at {lv}",
        ], rng, where=where, lv=lv))
    elif h not in _BENIGN and h != "lymphoma" and chance(rng, 0.4):
        text += " " + pick(rng, ("No cervical lymphadenopathy.", "No nodal disease.",
                                 "No suspicious cervical nodes."))
    return text
