"""Radiology reports: decode the bytes, split into canonical sections and into organ/region-level sentences.

Reports come as text files beside a study or as a table (CSV/TSV/Parquet) keyed by accession number or
StudyInstanceUID. Sections use the heading variants of US and UK practice (``synth/data/report_structure.md``,
section 1), in any case, with or without a colon, alone on a line or followed by their text. Sentences are the unit
the benchmarks query with: findings and impression are split on sentence ends (not inside "2.3 x 1.8 cm",
"0.9 x 10^-3 mm2/s", "e.g.", "approx.", "Dr."), on numbered or bulleted list items, and on ``Organ: text``
subheading lines, whose label is kept as a prefix of each of their sentences ("Liver: No focal lesion.").
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re

from .config import ScanOptions
from .records import FileRef, ParsedReport, Skip

log = logging.getLogger(__name__)

SECTION_ORDER = ("exam", "history", "technique", "comparison", "findings", "impression", "recommendation")
HEADINGS: dict[str, tuple[str, ...]] = {
    "exam": ("EXAMINATION", "EXAM", "PROCEDURE", "STUDY", "EXAM TYPE"),
    "history": ("CLINICAL HISTORY", "HISTORY", "CLINICAL INDICATION", "INDICATIONS", "INDICATION",
                "REASON FOR EXAMINATION", "REASON FOR EXAM", "REASON FOR STUDY", "CLINICAL DETAILS",
                "CLINICAL INFORMATION", "CLINICAL QUESTION", "CLINICAL NOTES"),
    "technique": ("TECHNIQUE", "PROTOCOL", "SEQUENCES", "METHODS", "METHOD"),
    "comparison": ("COMPARISON", "COMPARISONS", "PRIOR STUDIES", "PRIOR STUDY", "PRIOR IMAGING", "PREVIOUS IMAGING",
                   "PREVIOUS STUDIES"),
    "findings": ("FINDINGS", "FINDING", "REPORT", "DESCRIPTION", "OBSERVATIONS"),
    "impression": ("IMPRESSION", "IMPRESSIONS", "CONCLUSIONS", "CONCLUSION", "OPINION", "SUMMARY", "DIAGNOSIS",
                   "ASSESSMENT"),
    "recommendation": ("RECOMMENDATIONS", "RECOMMENDATION", "ADVICE", "SUGGESTIONS", "SUGGESTION", "FOLLOW-UP",
                       "FOLLOW UP"),
}
_CANON = {v: k for k, vs in HEADINGS.items() for v in vs}
_ALT = "|".join(sorted((re.escape(v).replace(r"\ ", r"\s+") for v in _CANON), key=len, reverse=True))
# "FINDINGS:", "Findings: text", "## Findings", "**IMPRESSION:**", "Findings" alone on its line.
# Every quantifier that could overlap with the next one is possessive (``*+``) or greedy to the end, so that a line of
# a million spaces or marks is matched in linear time (issue 20: the lazy form was quadratic).
_HEADING = re.compile(rf"^[\s#*_]*+(?P<h>{_ALT})[\s*_]*+(?:(?P<colon>:)[\s*_]*+(?P<rest>.*)|)$", re.IGNORECASE)
# Reports squashed onto one line: "... normal. IMPRESSION: ..." (capitals and colon only, to stay safe).
_INLINE = re.compile(rf"(?<=[.!?])[ \t]++(?=(?:{_ALT}):)")
_SUBHEAD = re.compile(r"^(?P<label>[A-Za-z][A-Za-z0-9 /&'’,-]{0,39}?)\s*:\s*(?P<rest>.*)$")
_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)]|[-*•·])\s+")
_INLINE_ITEM = re.compile(r"(?:(?<=^)|(?<=[.!?;:]\s))\d{1,2}[.)]\s++(?=\S)")
_END = re.compile(r"(?<![.!?])[.!?]++[\"')\]]*+\s+")  # only from the start of a run of marks: linear
MAX_REPORT_CHARS = 1_000_000  # a report longer than this is cut (with a warning): no real report comes near it
ABBREVIATIONS = {"e.g.", "i.e.", "eg.", "ie.", "approx.", "dr.", "mr.", "mrs.", "ms.", "prof.", "vs.", "cf.",
                 "fig.", "incl.", "resp.", "ca.", "st.", "ref.", "max.", "min.", "avg.", "est."}
TABLE_COLUMNS = {
    "accession": ("accession", "accessionnumber", "accessionno", "accno", "acc", "accnum"),
    "study_uid": ("studyuid", "studyinstanceuid", "studyinstance", "studyinstanceuids"),
    "report": ("report", "reporttext", "text", "reportbody", "narrative", "fullreport"),
}


def parse_report(text: str, source: str) -> ParsedReport:
    """Split a report into canonical sections and organ/region-level sentences.

    Args:
        text: the decoded report.
        source: where it came from (``FileRef.display`` or ``"reports.csv#3"``), kept on the result.

    Returns:
        ``ParsedReport`` whose ``sections`` maps canonical keys (exam, history, technique, comparison, findings,
        impression, recommendation) to their text; text before the first heading is the "exam" line; a report
        without any heading is all "findings". ``sentences`` are those of findings then impression.

    Raises:
        ValueError: when the text is empty.
    """
    if len(text) > MAX_REPORT_CHARS:
        log.warning("%s: report of %d characters cut to the first %d", source, len(text), MAX_REPORT_CHARS)
        text = text[:MAX_REPORT_CHARS]
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if not text.strip():
        raise ValueError("empty report")
    parts: dict[str, list[str]] = {}
    current: str | None = None
    preamble: list[str] = []
    for line in _INLINE.sub("\n", text).split("\n"):
        m = _HEADING.match(line)
        if m and (m.group("colon") or not m.group("rest")):
            current = _CANON[re.sub(r"\s+", " ", m.group("h").upper())]
            parts.setdefault(current, [])
            if m.group("rest"):
                parts[current].append(m.group("rest").strip())
        elif current is None:
            preamble.append(line)
        else:
            parts[current].append(line)
    pre = "\n".join(preamble).strip()
    if not parts:
        sections = {"findings": pre}
    else:
        if pre:
            parts.setdefault("exam", []).insert(0, pre)
        sections = {k: "\n".join(parts[k]).strip() for k in SECTION_ORDER if k in parts}
        sections = {k: v for k, v in sections.items() if v}
    sentences = split_sentences(sections.get("findings", "")) + split_sentences(sections.get("impression", ""))
    return ParsedReport(source=source, text=text, sections=sections, sentences=sentences)


def embedding_text(report: ParsedReport) -> str:
    """What the report tower embeds for a whole report (in training, indexing and evaluation alike): findings and
    impression under their headings, or the whole text when neither section is present."""
    parts = [f"{name.capitalize()}: {report.sections[name].strip()}" for name in ("findings", "impression")
             if report.sections.get(name, "").strip()]
    return "\n".join(parts) if parts else report.text.strip()


def split_sentences(body: str) -> list[str]:
    """Organ/region-level units of one section body (see module docstring)."""
    blocks: list[tuple[str, str]] = []  # (subheading label, text)
    label = ""  # a subheading alone on its line ("Liver:") labels the lines below it until a blank line
    prev = ""
    for raw in body.split("\n"):
        line = raw.strip()
        if not line:
            label, prev = "", ""
            continue
        item = _LIST_ITEM.match(line)
        if item:
            line = line[item.end():]
        sub = _SUBHEAD.match(line)
        if sub and len(sub.group("label").split()) <= 5 and not item:
            if not sub.group("rest").strip():
                label, prev = sub.group("label").strip(), ""
                continue
            blocks.append((sub.group("label").strip(), sub.group("rest").strip()))
        elif blocks and prev and not item and not prev.endswith((".", "!", "?", ";", ":")) and (
                line[0].islower() or line[0].isdigit() or len(prev) >= 50):  # a hard-wrapped line continues
            lab, txt = blocks[-1]
            blocks[-1] = (lab, txt + " " + line)
        else:
            blocks.append((label, line))
        prev = line
    out = []
    for lab, txt in blocks:
        for piece in _INLINE_ITEM.split(txt):
            for s in _sentences(piece):
                out.append(f"{lab}: {s}" if lab else s)
    return out


def _sentences(text: str) -> list[str]:
    """Split running text on sentence ends, not after abbreviations or before a lower-case continuation."""
    out, start = [], 0
    for m in _END.finditer(text):
        nxt = text[m.end():m.end() + 2]
        word = text[max(0, m.start() - 40):m.start() + 1].rsplit(None, 1)[-1].lstrip("([\"'").lower()  # bounded
        if word in ABBREVIATIONS or (word == "no." and nxt[:1].isdigit()):
            continue
        if nxt[:1].islower() and not re.match(r"[a-z]\d", nxt):  # "b800", "p16" may start a sentence
            continue
        out.append(text[start:m.end()].strip())
        start = m.end()
    out.append(text[start:].strip())
    return [s for s in out if re.search(r"[A-Za-z0-9]", s)]


def decode_report_bytes(data: bytes, source: str) -> str:
    """Text of a report file: UTF-8 (BOM optional), UTF-16/32 with BOM, BOM-less UTF-16, then cp1252/latin-1.

    Raises:
        ValueError: "unreadable report encoding: ..." for binary or undecodable bytes.
    """
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
                     (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return _check_text(data.decode(enc), source)
            except UnicodeDecodeError as e:
                raise ValueError(f"unreadable report encoding: {source} starts with a {enc} byte-order mark but "
                                 f"does not decode ({e.reason})") from None
    if len(data) >= 4 and data.count(0) > len(data) // 3:  # UTF-16 without BOM: every other byte is zero
        even_zero = data[0::2].count(0) > len(data) // 3
        try:
            return _check_text(data.decode("utf-16-be" if even_zero else "utf-16-le"), source)
        except (UnicodeDecodeError, ValueError):
            pass
    try:
        return _check_text(data.decode("utf-8"), source)
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # cp1252 leaves five bytes undefined; latin-1 maps every byte
        text = data.decode("latin-1")
    return _check_text(text, source)


def _check_text(text: str, source: str) -> str:
    """Refuse text that is mostly control characters (a binary file that happened to decode)."""
    if not text:
        return text
    control = sum(1 for c in text if (ord(c) < 32 and c not in "\t\n\r\f\v") or 0x7F <= ord(c) < 0xA0)
    if "\x00" in text or control > max(2, len(text) // 100):
        raise ValueError(f"unreadable report encoding: {source} looks binary ({control} control characters in "
                         f"{len(text)})")
    return text


def find_reports(refs: list[FileRef], options: ScanOptions) -> tuple[list[tuple[FileRef, str]], list[dict],
                                                                        list[Skip]]:
    """Decode text reports and read the rows of report tables.

    Args:
        refs: files classified "report_text" (.txt, .md) or "report_table" (.csv, .tsv, .parquet).
        options: scan options (sizes were checked by the lister).

    Returns:
        ``(ref, text)`` per readable text report; one dict per usable table row with keys "accession", "study_uid",
        "report" (strings, "" when absent) and "source" (``"<table>#<row>"``, rows counted from 1); and a ``Skip``
        per unreadable file ("failed"), table without the needed columns or rows that cannot be matched ("skipped").
    """
    texts: list[tuple[FileRef, str]] = []
    rows: list[dict] = []
    skips: list[Skip] = []
    for ref in refs:
        name = ref.name.lower()
        try:
            with ref.open() as f:
                data = f.read()
            if name.endswith((".csv", ".tsv", ".parquet")):
                rows += _table_rows(ref, data, skips)
            else:
                text = decode_report_bytes(data, ref.display)
                if not text.strip():
                    skips.append(Skip(ref.display, "empty report file", level="skipped"))
                    continue
                texts.append((ref, text))
        except ValueError as e:
            skips.append(Skip(ref.display, str(e), level="failed"))
        except (OSError, KeyError, EOFError) as e:
            skips.append(Skip(ref.display, f"report file could not be read: {e}", level="failed"))
    return texts, rows, skips


def _norm(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(column).lower())


def _table_rows(ref: FileRef, data: bytes, skips: list[Skip]) -> list[dict]:
    """Rows of one report table with normalised keys (none, with a "skipped" line, for another kind of table).

    Raises:
        ValueError: for an unreadable or malformed table.
    """
    header, records = _read_table(ref, data)
    found: dict[str, str] = {}
    for key, variants in TABLE_COLUMNS.items():
        for col in header:
            if _norm(col) in variants and key not in found:
                found[key] = col
    if "report" not in found or not ({"accession", "study_uid"} & found.keys()):  # participants.tsv, manifests...
        skips.append(Skip(ref.display, f"not a report table: a report table needs a report column "
                                       f"({', '.join(TABLE_COLUMNS['report'])}) and an accession or StudyInstanceUID "
                                       f"column; found {list(header)[:8]}", level="skipped"))
        return []
    out, unusable = [], 0
    for i, rec in enumerate(records, start=1):
        row = {k: _cell(rec.get(found[k])) if k in found else "" for k in TABLE_COLUMNS}
        if not row["report"].strip() or not (row["accession"] or row["study_uid"]):
            unusable += 1
            continue
        row["source"] = f"{ref.display}#{i}"
        out.append(row)
    if unusable:
        skips.append(Skip(ref.display, f"{unusable} row(s) without report text or without accession/StudyInstanceUID "
                                       "ignored", level="skipped"))
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # an accession number read as a float
        return str(int(value))
    return str(value).strip()


def _read_table(ref: FileRef, data: bytes) -> tuple[list[str], list[dict]]:
    if ref.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            # one thread, no dataset API: Arrow's parquet thread pool can abort the interpreter at exit
            # ("terminate called without an active exception", rc 134; apache/arrow#34314), measured here in 1 of
            # 30 `inspect` runs on a generated archive (its manifest.parquet is read as a candidate report table)
            table = pq.ParquetFile(io.BytesIO(data)).read(use_threads=False)
        except Exception as e:  # pyarrow raises several unrelated types for a damaged file
            raise ValueError(f"unreadable Parquet report table: {e}") from None
        return table.column_names, table.to_pylist()
    text = decode_report_bytes(data, ref.display)
    first = text.split("\n", 1)[0]
    delim = "\t" if ref.name.lower().endswith(".tsv") else max(",;\t|", key=first.count)
    csv.field_size_limit(16 * 1024**2)  # a long report is one field; the default limit is 128 KiB
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delim)
        records = list(reader)
    except csv.Error as e:
        raise ValueError(f"malformed report table: {e}") from None
    return list(reader.fieldnames or []), records
