"""The spaCy pipeline that finds the vocabulary's terms in a report and marks each negated or uncertain one.

A blank English tokenizer and sentencizer (no model to download), an ``entity_ruler`` with one phrase pattern per
vocabulary term (matched on lower-case tokens, the longest match winning), and negspacy's NegEx twice: once with
its clinical negation termset plus the vocabulary's negation cues (``ent._.negex``), once with the vocabulary's
uncertainty cues alone (``ent._.uncertain``), so that "cannot exclude a mass" is uncertain, not negated (its
phrases are pseudo-negations of the first). Built once per vocabulary and process.
"""

from __future__ import annotations

import threading

from .vocabulary import ENTITY_FIELDS, Vocabulary

_LOCK = threading.Lock()
_BUILT: dict[tuple, object] = {}


def pipeline(vocab: Vocabulary):
    """The spaCy ``Language`` of ``vocab`` (cached)."""
    with _LOCK:
        nlp = _BUILT.get(vocab.key)
        if nlp is None:
            nlp = _BUILT[vocab.key] = _build(vocab)
        return nlp


def _build(vocab: Vocabulary):
    import spacy
    from negspacy.negation import Negex  # noqa: F401 - registers the "negex" factory
    from negspacy.termsets import termset

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
    ruler.add_patterns([{"label": t.field, "pattern": t.term, "id": t.value} for t in vocab.terms
                        if t.field in ENTITY_FIELDS])
    ents = [f for f in ENTITY_FIELDS if f != "secondary"]
    neg = termset("en_clinical").get_patterns()
    neg["preceding_negations"] += vocab.cues("negation_preceding")
    neg["following_negations"] += vocab.cues("negation_following")
    neg["pseudo_negations"] += vocab.cues("pseudo_negation")
    neg["preceding_negations"] = [c for c in neg["preceding_negations"] if c not in set(neg["pseudo_negations"])]
    nlp.add_pipe("negex", name="negation", config={"neg_termset": neg, "ent_types": ents})
    unc = {"pseudo_negations": [], "preceding_negations": vocab.cues("uncertainty_preceding"),
           "following_negations": vocab.cues("uncertainty_following"), "termination": neg["termination"]}
    nlp.add_pipe("negex", name="uncertainty", config={"neg_termset": unc, "ent_types": ents,
                                                      "extension_name": "uncertain"})
    return nlp
