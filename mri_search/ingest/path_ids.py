"""Identifiers in file paths: what of a path may be stored, and what must become a salted token first.

Exports name folders and files by patient ID, name, accession number or UID. ``redact_path`` replaces every such
value inside a path by a short salted token, ``<PREFIX>-<8 hex>`` (``PAT-3f9c1a2b``), and leaves the rest of the
path as it was, so ``DICOM/P0001/20230414/003_Ax_T2/1.2.840...7.dcm`` is stored as
``DICOM/PAT-3f9c1a2b/20230414/003_Ax_T2/UID-0c41d2e9.dcm``. The token is the first 8 hex digits of
``hash_id(salt, value)`` (the value in lower case): the same value gives the same token everywhere in one index,
and nothing without the salt links it back.

Matching rule (so that an ID like ``1`` cannot blank every path): a value of ``MIN_INNER`` (6) or more characters
is replaced wherever it occurs, ignoring the case of ASCII letters, even inside a longer name (``P000123_knee``); a
shorter value is replaced only where it stands as a whole token, between characters that are not letters or
digits (``1`` in ``sub-1`` or ``1/``, never in ``T1`` or ``001``). Longer values are matched first (a
StudyInstanceUID is often the prefix of its series' UIDs). Values under ``MIN_TOKEN`` (2) characters of a name (initials) are not matched.

Whatever the headers say, a path component shaped like a DICOM UID (``2.25.1102...``: 3 or more numeric components,
10 or more characters) is replaced too, as ``UID-<8 hex>``: it is how a file whose header cannot be read (a
truncated one in the error report) is often named.

Which values (``IdentifierValues``): DICOM PatientID, the parts of PatientName, AccessionNumber, Study/Series/SOP
Instance UID and PatientBirthDate of the series' own headers; NIfTI the same keys of its JSON sidecar (dcm2niix
writes them unless told not to) plus the BIDS subject label (``sub-<label>``), which is the patient's ID in all but
name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .phi import hash_id

MIN_INNER = 6  # values this long or longer are replaced inside longer path components too
MIN_TOKEN = 2  # name parts shorter than this (initials) are not matched at all
TOKEN_HEX = 8  # hex digits of a path token

# identifier keyword -> token prefix
PREFIX = {
    "PatientID": "PAT", "PatientName": "PAT", "AccessionNumber": "ACC", "StudyInstanceUID": "UID",
    "SeriesInstanceUID": "UID", "SOPInstanceUID": "UID", "PatientBirthDate": "DOB", "BIDSSubject": "PAT",
}
PATH_KEYWORDS = ("PatientID", "PatientName", "AccessionNumber", "StudyInstanceUID", "SeriesInstanceUID",
                 "SOPInstanceUID", "PatientBirthDate")

IdentifierValues = tuple[tuple[str, str], ...]  # ((keyword, raw value), ...): in memory only, never stored


def identifier_values(get) -> IdentifierValues:
    """The path-relevant identifiers of one header: ``get(keyword)`` returns a pydicom value, a JSON value or None.

    PatientName is split into its parts (``DOE^JOHN`` -> ``DOE``, ``JOHN``), as exports often name folders
    ``Doe_John``.
    """
    out: list[tuple[str, str]] = []
    for kw in PATH_KEYWORDS:
        v = get(kw)
        if v is None:
            continue
        if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
            texts = [str(x) for x in v]
        else:
            texts = [str(v)]
        for text in texts:
            parts = re.split(r"[\^=\s,]+", text) if kw == "PatientName" else [text]
            out += [(kw, p.strip()) for p in parts if len(p.strip()) >= (MIN_TOKEN if kw == "PatientName" else 1)]
    return tuple(out)


class PathRedactor:
    """Replaces identifier values inside path text by salted tokens (module docstring: the matching rule).

    The text is scanned once, left to right; at each position the longest value that matches there wins (values of
    ``MIN_INNER`` characters or more are looked up by their first ``MIN_INNER`` characters, shorter ones only at a
    token start), so the cost grows with the text, not with the number of values: one redactor can hold every
    identifier of a large archive.

    Args:
        salt: the index's identifier salt.
        values: ``(keyword, raw value)`` pairs (``identifier_values``); repeats are fine.
        keep: replace nothing (``--keep-phi``: raw paths are kept).
    """

    def __init__(self, salt: str, values: Iterable[tuple[str, str]] = (), keep: bool = False) -> None:
        self.salt = salt
        self.keep = keep
        self._token: dict[str, str] = {}
        self._long: dict[str, list[str]] = {}  # first MIN_INNER characters (lower case) -> values, longest first
        self._short_lengths: tuple[int, ...] = ()  # lengths of the shorter values, longest first
        self.add(values)

    def add(self, values: Iterable[tuple[str, str]]) -> None:
        """Also replace these ``(keyword, raw value)`` pairs."""
        for kw, raw in values:
            raw = str(raw).strip()
            low = _lower(raw)
            if not raw or low in self._token:
                continue
            # of the value in lower case, as it is matched: the same token however a path spells it
            self._token[low] = f"{PREFIX.get(kw, 'ID')}-{hash_id(self.salt, low)[:TOKEN_HEX]}"
            if len(low) >= MIN_INNER:
                group = self._long.setdefault(low[:MIN_INNER], [])
                group.append(low)
                group.sort(key=len, reverse=True)
            elif len(low) not in self._short_lengths:
                self._short_lengths = tuple(sorted(self._short_lengths + (len(low),), reverse=True))

    def __len__(self) -> int:
        return len(self._token)

    def __call__(self, text: str, extra: Iterable[tuple[str, str]] = ()) -> str:
        """``text`` with every identifier value (and every value of ``extra``, for this call only) replaced by its
        token."""
        if self.keep or not text:
            return text
        extra = tuple(extra)
        tables = [self] + ([PathRedactor(self.salt, extra)] if extra else [])
        low = _lower(text)
        out: list[str] = []
        i = done = 0
        while i < len(text):
            hit, table = max(((t._match(low, i), t) for t in tables), key=lambda m: m[0])
            if hit:
                out += [text[done:i], table._token[low[i:i + hit]]]
                i = done = i + hit
                continue
            uid = _UID.match(low, i) if low[i] in "012" and (i == 0 or low[i - 1] not in _UID_CHARS) else None
            if uid and uid.end() - i >= UID_MIN:  # UID-shaped, not one of these values (an unreadable file's name)
                out += [text[done:i], f"UID-{hash_id(self.salt, uid.group(0))[:TOKEN_HEX]}"]
                i = done = uid.end()
            else:
                i += 1
        return "".join(out) + text[done:] if out else text

    def _match(self, low: str, i: int) -> int:
        """Length of the longest value matching ``low`` at ``i`` (0: none)."""
        for v in self._long.get(low[i:i + MIN_INNER], ()):
            if low.startswith(v, i):
                return len(v)
        if self._short_lengths and (i == 0 or not _alnum(low[i - 1])):
            for k in self._short_lengths:
                j = i + k
                if j <= len(low) and low[i:j] in self._token and (j == len(low) or not _alnum(low[j])):
                    return k
        return 0


# a DICOM UID (PS3.5 9.1: numeric components without leading zeros, the first 0, 1 or 2), of 3 or more components
# (``2.25.<UUID>`` has 3) and ``UID_MIN`` or more characters, not followed by more digits: whatever file or folder
# it names, it identifies a patient's data
_UID = re.compile(r"[012](?:\.(?:0|[1-9][0-9]*)){2,}(?![0-9])")
UID_MIN = 10
_UID_CHARS = "0123456789."

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lower(text: str) -> str:
    """ASCII letters in lower case, everything else as it is: the same length as ``text``, so positions agree."""
    return text.translate(_ASCII_LOWER)


def _alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def redact_path(text: str, salt: str, values: Iterable[tuple[str, str]]) -> str:
    """``PathRedactor(salt, values)(text)``: one path, one series' identifiers."""
    return PathRedactor(salt, values)(text)
