"""Links from a hit to the hospital's own viewer (OHIF, Orthanc Explorer 2, Stone), from a URL template.

A template names the study and series with ``{study_uid}`` and ``{series_uid}``, for example
``http://pacs/ohif/viewer?StudyInstanceUIDs={study_uid}`` or
``http://pacs:8042/stone-webviewer/index.html?study={study_uid}&series={series_uid}``. The UIDs are the raw ones,
so a collection has them only when it was indexed with ``--keep-uids`` (they identify the study in the PACS, and
are hashed otherwise); a hit without them gets no link.
"""

from __future__ import annotations

import string
from urllib.parse import quote

FIELDS = ("study_uid", "series_uid")


def check_template(template: str) -> str:
    """``template`` when it is an http(s) URL whose only fields are ``FIELDS``.

    Raises:
        ValueError: one line naming what is wrong.
    """
    if not template.startswith(("http://", "https://")):
        raise ValueError(f"--viewer-url {template!r}: give an http(s) URL, e.g. "
                         "'http://HOST/ohif/viewer?StudyInstanceUIDs={study_uid}'")
    try:
        names = {name for _, name, spec, conv in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"--viewer-url {template!r}: {exc}") from None
    unknown = names - set(FIELDS)
    if unknown or not names:
        raise ValueError(f"--viewer-url {template!r}: use {{study_uid}} and/or {{series_uid}}"
                         + (f" (not {', '.join(sorted(unknown))})" if unknown else ""))
    return template


def viewer_link(template: str | None, payload: dict) -> str | None:
    """The hit's link, or None without a template or without the raw UIDs the template needs."""
    if not template:
        return None
    values = {f: str(payload.get(f) or "") for f in FIELDS}
    needed = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    if any(not values[f] for f in needed):
        return None
    return template.format(**{f: quote(v, safe="") for f, v in values.items()})
