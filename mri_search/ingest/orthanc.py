"""Orthanc's own REST API beside its DICOMweb plugin: is it Orthanc, which series are stable, what changed since.

A series is *stable* in Orthanc once no instance has arrived for ``StableAge`` seconds; until then it may be half
uploaded. ``/changes`` is Orthanc's change log with a sequence number: a ``StableSeries`` entry is written when a
series becomes stable, so the series new since the last run are the ``StableSeries`` entries after its last number.
"""

from __future__ import annotations

from dataclasses import dataclass

from .dicomweb import http_problem

CHANGES_PAGE = 1000  # entries per /changes request


@dataclass(frozen=True)
class Changes:
    """What ``/changes`` held after a sequence number."""

    series: tuple[tuple[str, str], ...]  # (StudyInstanceUID, SeriesInstanceUID) that became stable, in order
    gone: int  # StableSeries entries whose series was deleted since
    last: int  # sequence number to continue from next time


def rest_root(dicomweb_url: str) -> str:
    """``http://h:8042/dicom-web`` -> ``http://h:8042`` (the plugin's default Root under Orthanc's REST root)."""
    url = dicomweb_url.rstrip("/")
    return url.rsplit("/", 1)[0] if url.count("/") > 2 else url


def is_orthanc(session, dicomweb_url: str) -> bool:
    """True when the REST root beside the DICOMweb root answers ``/system`` as Orthanc does."""
    try:
        r = session.get(f"{rest_root(dicomweb_url)}/system")
        return r.ok and "ApiVersion" in r.json()
    except Exception:  # noqa: BLE001 - not Orthanc (or not reachable there): the generic DICOMweb path is used
        return False


def _get(session, url: str) -> dict | list:
    import requests

    r = session.get(url)
    try:
        r.raise_for_status()
    except requests.HTTPError as exc:
        raise ValueError(http_problem(url, exc)) from None
    return r.json()


def last_change(session, dicomweb_url: str) -> int:
    """The newest sequence number of the change log."""
    return int(_get(session, f"{rest_root(dicomweb_url)}/changes?last")["Last"])


def unstable_series(session, dicomweb_url: str) -> frozenset[str]:
    """SeriesInstanceUIDs of the series Orthanc is still receiving."""
    root = rest_root(dicomweb_url)
    out, since = set(), 0
    while True:
        page = _get(session, f"{root}/series?expand&since={since}&limit={CHANGES_PAGE}")
        out |= {s["MainDicomTags"].get("SeriesInstanceUID", "") for s in page if not s.get("IsStable", True)}
        if len(page) < CHANGES_PAGE:
            return frozenset(out)
        since += CHANGES_PAGE


def stable_since(session, dicomweb_url: str, since: int) -> Changes:
    """The series that became stable after sequence number ``since`` (each once), resolved to their UIDs."""
    import requests

    root = rest_root(dicomweb_url)
    ids: list[str] = []
    last = since
    while True:
        page = _get(session, f"{root}/changes?since={last}&limit={CHANGES_PAGE}")
        ids += [c["ID"] for c in page["Changes"] if c["ChangeType"] == "StableSeries"]
        last = int(page["Last"])
        if page["Done"]:
            break
    out, gone, studies = [], 0, {}
    for oid in dict.fromkeys(ids):
        r = session.get(f"{root}/series/{oid}")
        if r.status_code == 404:
            gone += 1
            continue
        try:
            r.raise_for_status()
        except requests.HTTPError as exc:
            raise ValueError(http_problem(f"{root}/series/{oid}", exc)) from None
        s = r.json()
        parent = s["ParentStudy"]
        if parent not in studies:
            st = session.get(f"{root}/studies/{parent}")
            if st.status_code == 404:
                gone += 1
                continue
            studies[parent] = st.json()["MainDicomTags"]["StudyInstanceUID"]
        out.append((studies[parent], s["MainDicomTags"]["SeriesInstanceUID"]))
    return Changes(series=tuple(out), gone=gone, last=last)
