"""Sequence family of a series from its description, or from its acquisition tags when the text says nothing.

Labels: T1, T2, FLAIR, PD, STIR, DWI, ADC, T1C (T1 after gadolinium), SSFP, T2FS, PDFS (fat-suppressed T2 / PD)
or "other". The text parser knows the vendors' naming (Siemens ``t2_tse_tra``, ``t2_tirm_tra_dark-fluid``,
``ep2d_diff_tra_TRACEW``; GE ``Ax T2 FRFSE``, ``3D AX T1 BRAVO+C``; Philips ``T2W_TSE_TRA``, ``PDW_SPAIR_SAG``,
``sBTFE_CINE_SA``) and technologist free text ("SAG T1 POST", "T2 FS AX", "COR STIR"). Without usable text the
timing decides, with the ranges of ``mri_search/synth/data/sequences.csv``: an inversion time above 1500 ms is a
FLAIR, a short one (<= 400 ms) with a long TR a STIR; short TR and TE give T1; long TR gives T2 (TE >= 55 ms) or PD.

Pure Python (no pydicom): the NIfTI reader calls it with BIDS sidecar values too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEQUENCES = ("T1", "T2", "FLAIR", "PD", "STIR", "DWI", "ADC", "T1C", "SSFP", "T2FS", "PDFS", "other")

TE_T2_MS = 55.0  # long-TR spin echo: TE at or above -> T2, below -> PD (PD-FS 30-50 ms, T2-FS 60-90 ms)
TR_LONG_MS = 1000.0  # spin echo TR at or above: proton density / T2 weighting (T1 SE 400-750, SSFSE >= 1000)
TI_FLAIR_MS = 1500.0  # inversion time above: fluid nulled (2D FLAIR 2000-2800, 3D FLAIR 1600-1900)
TI_STIR_MS = 400.0  # inversion time at or below with a long TR: fat nulled (STIR 140-260)

_SEPARATORS = re.compile(r"[\s_\-/\\.,;:()\[\]{}|#=]+")
_POST = re.compile(r"\+\s*(c|gd|gad|gado|contrast)\b|\bc\+|\bpost(?!er)|\bgd\b|\bgad\b|\bgado|\bdyn|\bdce\b|\bportal"
                   r"|\barterial|\bvenous|\bdelay|\bequilibrium|\bmultiphase|\bpsir|\bmde\b|\blge\b|\benh")
_PRE = re.compile(r"\bpre\b|\bpre\s*(c|con|contrast|gad|gd)\b|\bprecontrast|\bnative\b|\bmask\b|\bno\s*(gd|gad|c)\b")
_FS_TOKENS = {"fs", "fatsat", "spair", "spir", "dixon", "mdixon", "flex", "ideal", "we", "chess", "fsat", "wfs"}
_OTHER_TOKENS = {"swi", "swan", "swip", "t2star", "hemo", "tof", "mra", "angio", "perfusion", "perf", "bold", "asl",
                 "pcasl", "pasl", "dsc", "molli", "t1map", "t2map", "shmolli", "mrs", "csi", "svs", "fmri", "resting"}
_T1_TOKENS = {"t1", "mprage", "bravo", "spgr", "fspgr", "vibe", "lava", "thrive", "vibrant", "disco", "flash", "fl2d",
              "fl3d", "tfe", "ffe", "tfl", "psir", "mde", "lge", "starvibe", "twist", "mp2rage", "quick3d", "gre3d"}
_T2_TOKENS = {"t2", "haste", "ssfse", "ssh", "frfse", "mrcp", "space", "cube", "vista"}
_T2_WEAK = {"blade", "propeller", "multivane", "tse", "fse"}  # T2 only when no other weighting is named
_SSFP_TOKENS = {"trufi", "truefisp", "fiesta", "btfe", "bssfp", "ssfp", "cine", "balanced"}
_DWI_TOKENS = {"dwi", "diff", "diffusion", "dw", "trace", "tracew", "ivim", "resolve", "dti", "ep2d", "dwibs", "zoomit"}


@dataclass(frozen=True)
class _Cues:
    """What one text (description or protocol name) says."""

    base: str | None  # T1, T2, PD, FLAIR, STIR, DWI, ADC, SSFP, other, or None when it names no weighting
    fat_suppressed: bool
    post: bool | None  # True: post-contrast cue, False: explicit "pre", None: nothing said


def _tokens(text: str) -> list[str]:
    """Lower-case tokens; Philips-style prefixes and suffixes unpacked ("sT1W" -> t1, "T2FS" -> t2 + fs)."""
    out: list[str] = []
    for tok in _SEPARATORS.split(text.lower()):
        tok = tok.strip("+*'\"")
        if not tok:
            continue
        m = re.fullmatch(r"s?(t1|t2|pd)w?(fs)?", tok)
        if m:
            out.append(m.group(1))
            if m.group(2):
                out.append("fs")
            continue
        if tok.startswith("s") and tok[1:] in _SSFP_TOKENS:
            tok = tok[1:]  # sBTFE
        out.append(tok.split("+")[0] if "+" in tok else tok)
    return out


def _text_cues(text: str, ti: float | None) -> _Cues:
    """Sequence weighting, fat suppression and contrast phase named by one description string."""
    low = _SEPARATORS.sub(" ", text.lower())
    toks = _tokens(text)
    tokset = set(toks)
    fs = bool(tokset & _FS_TOKENS) or "stir" in tokset or "fat sat" in low
    pre = bool(_PRE.search(low))
    post = False if pre else (True if _POST.search(low) else None)
    return _Cues(_text_base(toks, tokset, low, ti), fs, post)


def _text_base(toks: list[str], tokset: set[str], low: str, ti: float | None) -> str | None:
    has_t1 = "t1" in tokset
    if "adc" in tokset or "apparent" in tokset:
        return "ADC"
    if tokset & _OTHER_TOKENS or "t2*" in low:
        return "other"
    if tokset & _DWI_TOKENS or any(re.fullmatch(r"b\d{2,4}", t) for t in toks):
        return "DWI"
    if tokset & _SSFP_TOKENS:
        return "SSFP"
    if "flair" in tokset or "dark" in tokset or "darkfluid" in tokset:
        return "T1" if has_t1 else "FLAIR"
    if "stir" in tokset:
        return "STIR"
    if tokset & {"tirm", "ir", "tir", "irfse", "stir"}:
        if has_t1:
            return "T1"
        if ti is not None and ti > TI_FLAIR_MS:
            return "FLAIR"
        if ti is not None and TI_STIR_MS < ti <= TI_FLAIR_MS:
            return "T1"
        return "STIR"
    if "pd" in tokset or "proton" in tokset:
        return "PD"
    if has_t1 or tokset & _T1_TOKENS:
        return "T1"
    if tokset & _T2_TOKENS:
        return "T2"
    if ("dual" in tokset and "echo" in tokset) or tokset & {"opp", "opposed", "inphase", "outphase", "oop"} or \
            {"ip", "op"} <= tokset:
        return "T1"  # in/opposed-phase gradient echo
    if tokset & _T2_WEAK:
        return "T2"
    return None


def _tag_tokens(value: str) -> set[str]:
    return {t for t in re.split(r"[\\\s,/]+", value.upper()) if t}


def _tag_base(scanning_sequence: str, sequence_variant: str, image_type: str, tr: float | None, te: float | None,
              ti: float | None, flip: float | None, b_values: tuple, pulse_sequence_name: str,
              acquisition_contrast: str) -> str:
    """Sequence weighting from acquisition tags alone ("other" when they do not settle it)."""
    itype = _tag_tokens(image_type)
    scan = _tag_tokens(scanning_sequence)
    variant = _tag_tokens(sequence_variant)
    psn = pulse_sequence_name.lower()
    if "ADC" in itype:
        return "ADC"
    contrast = {"DIFFUSION": "DWI", "FLUID_ATTENUATED": "FLAIR", "STIR": "STIR", "T1": "T1", "T2": "T2",
                "PROTON_DENSITY": "PD"}.get(acquisition_contrast.strip().upper())
    if contrast:
        return contrast
    bs = [float(b) for b in b_values if b is not None]
    diffusion_hint = any(b > 0 for b in bs) or bool(itype & {"DIFFUSION", "TRACEW", "TRACE"}) or \
        any(k in psn for k in ("ep_b", "diff", "dwi"))
    if diffusion_hint:
        return "DWI"
    if "EP" in scan or "epi" in psn:
        return "DWI" if te is not None and te >= 50 else "other"  # spin-echo EPI is diffusion; GRE-EPI is BOLD
    gradient = "GR" in scan
    short_tr = tr is not None and tr < 10  # balanced SSFP needs a TR of a few ms (GE calls slower GREs "SS" too)
    if any(k in psn for k in ("tfi", "fiesta", "btfe", "trufi")) or \
            (gradient and short_tr and ("SS" in variant or (flip is not None and flip >= 35))):
        return "SSFP"
    if ti is not None and ti > 0:
        if ti > TI_FLAIR_MS:
            return "FLAIR"
        if ti <= TI_STIR_MS and not gradient and (tr is None or tr >= TR_LONG_MS):
            return "STIR"
        return "T1"  # T1-FLAIR, MPRAGE, LGE
    if tr is None or te is None:
        return "other"
    if gradient:
        if te >= 10 and tr >= 100 and (flip is None or flip <= 35):
            return "other"  # T2*-weighted gradient echo
        return "T1"
    if tr < TR_LONG_MS:
        return "T1" if te < 30 else "other"
    return "T2" if te >= TE_T2_MS else "PD"


def _tag_fat_suppressed(scan_options: str) -> bool:
    return any(t == "FS" or t.startswith("FS") or t in ("SFS", "WE", "FAT") for t in _tag_tokens(scan_options))


def infer_sequence(description: str = "", protocol: str = "", scanning_sequence: str = "", sequence_variant: str = "",
                   scan_options: str = "", image_type: str = "", tr: float | None = None, te: float | None = None,
                   ti: float | None = None, flip: float | None = None, contrast_agent: str = "",
                   b_values: tuple = (), pulse_sequence_name: str = "",
                   acquisition_contrast: str = "") -> tuple[str, str, bool, bool]:
    """Sequence label of a series.

    The description decides when it names a weighting, else the protocol name, else the tags. Fat suppression and
    the contrast phase combine every source: a "pre" in the text wins over a ContrastBolusAgent tag.

    Args:
        description: SeriesDescription (or a BIDS/NIfTI file name stem).
        protocol: ProtocolName.
        scanning_sequence: ScanningSequence, values joined by backslashes ("SE\\IR", "GR", "EP").
        sequence_variant: SequenceVariant ("SK\\SP\\MP", "SS"...).
        scan_options: ScanOptions ("FS", "PFP\\FS"...).
        image_type: ImageType, values joined by backslashes ("DERIVED\\PRIMARY\\DIFFUSION\\ADC").
        tr: RepetitionTime, ms.
        te: EchoTime, ms.
        ti: InversionTime, ms (None or 0 without inversion).
        flip: FlipAngle, degrees.
        contrast_agent: ContrastBolusAgent ("" when none was recorded).
        b_values: diffusion b-values of the series.
        pulse_sequence_name: SequenceName / PulseSequenceName ("*tse2d1_15", "fiesta", "DwiSE"...).
        acquisition_contrast: Enhanced MR AcquisitionContrast ("T1", "DIFFUSION", "FLUID_ATTENUATED"...).

    Returns:
        ``(sequence, evidence, post_contrast, fat_suppressed)`` with ``sequence`` in ``SEQUENCES`` and ``evidence``
        "description" (the description or protocol text decided) or "tags".
    """
    cues = [_text_cues(t, ti) for t in (description or "", protocol or "") if t and t.strip()]
    base, evidence = None, "tags"
    for c in cues:
        if c.base is not None:
            base, evidence = c.base, "description"
            break
    if "ADC" in _tag_tokens(image_type) and base != "ADC":
        base, evidence = "ADC", "tags"  # a derived ADC map, whatever the text says
    if base is None:
        base = _tag_base(scanning_sequence, sequence_variant, image_type, tr, te, ti, flip, tuple(b_values),
                         pulse_sequence_name, acquisition_contrast)
    fat = base == "STIR" or _tag_fat_suppressed(scan_options) or any(c.fat_suppressed for c in cues)
    said = [c.post for c in cues if c.post is not None]
    if False in said:
        post = False
    elif said:
        post = True
    else:
        post = bool(contrast_agent and contrast_agent.strip() and contrast_agent.strip().upper() not in ("NONE", "NO"))
    if base == "T1" and post:
        label = "T1C"
    elif base == "T2" and fat:
        label = "T2FS"
    elif base == "PD" and fat:
        label = "PDFS"
    else:
        label = base
    return label, evidence, post, fat
