"""Building frozen config dataclasses from JSON-like dicts (torch-free, shared by every config of the project)."""

from __future__ import annotations

from dataclasses import fields


def build_config(cls, d: dict, where: str):
    """``cls(**d)`` with JSON lists turned into tuples; an unknown or missing key is a ValueError naming it.

    Args:
        cls: a dataclass type.
        d: its fields as read from JSON.
        where: what is being read, for the error message (e.g. "model config 'vision'").
    """
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(d).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known keys: {sorted(known)}")
    try:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"{where}: {exc}") from None
