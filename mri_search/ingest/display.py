"""Paths and other outside text made safe to show, store and tabulate: one function used wherever a name becomes text.

A file name is bytes on POSIX. Python hands names that are not valid UTF-8 over as lone surrogates
(``os.fsdecode``'s surrogateescape), which cannot be encoded to UTF-8: JSON writers, Parquet and Qdrant refuse them.
Tabs and newlines in names forge rows of tab-separated files. ``display_text`` shows each such character as a
backslash escape (``\\xff``, ``\\t``, ``\\n``) and leaves everything else as it is, in one linear pass.
"""

from __future__ import annotations

import os
import re

# C0 controls, DEL, C1 controls and lone surrogates: what breaks encoders or table rows
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(m: re.Match) -> str:
    c = m.group(0)
    if c in _NAMED:
        return _NAMED[c]
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as surrogateescape carries it
        return f"\\x{code - 0xDC00:02x}"
    if code >= 0xD800:
        return f"\\u{code:04x}"
    return f"\\x{code:02x}"


def display_text(text: str) -> str:
    """``text`` with undecodable bytes and control characters as backslash escapes (UTF-8-safe, one line)."""
    return _UNSAFE.sub(_escape, str(text))


def display_path(path: str | bytes | os.PathLike) -> str:
    """How a path is shown and stored everywhere (payload, Parquet, error TSV, JSON): ``display_text`` of the path."""
    return display_text(os.fsdecode(path))
