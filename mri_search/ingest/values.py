"""Parsing header values (DICOM elements, BIDS sidecar fields) that may be missing, malformed or non-finite."""

from __future__ import annotations

import math


def finite_float(value) -> float | None:
    """``float(value)`` when it is a finite number, else None."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
