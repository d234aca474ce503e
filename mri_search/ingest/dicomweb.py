"""A DICOMweb endpoint (a PACS, Orthanc, dcm4chee, a cloud archive) as an archive: the same series records as files.

``scan_dicomweb`` lists series with QIDO-RS, sets aside the ones that are not MR (one line each) and reads the
instance metadata of every MR series with WADO-RS (one request per series, no pixels). Each instance becomes a
``FileRef`` of kind ``"dicomweb"`` and its metadata a pydicom dataset, and both go through the very grouping and
header code of files (``scan_dicom`` with ``header_from_dataset``): keys, geometry, sequence and payload come out
exactly as for the same files on disk. ``FileRef.open`` of such an instance retrieves its whole series once with
WADO-RS (kept in a small per-process cache of ``CACHE_BYTES``) and serves the instance's bytes, so ``load_dicom``
reads pixels unchanged. That retrieval uses the scan's timeout and retries, and streams the series instance by
instance: a server that sends much more than the instances' headers declare (``PIXEL_SLACK``) is stopped there,
and the series is one failure line.

Credentials come from the environment only: ``MRI_SEARCH_DICOMWEB_TOKEN`` (bearer) or ``MRI_SEARCH_DICOMWEB_USER``
and ``MRI_SEARCH_DICOMWEB_PASSWORD`` (basic). Requests time out and are retried with exponential backoff
(urllib3 ``Retry``) on connection errors and 429/5xx answers.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial

from .config import ScanOptions
from .dicom import scan_dicom
from .dicom_meta import header_from_dataset
from .phi import hash_id
from .records import FileRef, ScanResult, Skip

log = logging.getLogger(__name__)

SCHEME = "dicomweb+"  # dicomweb+http://host:8042/dicom-web names a DICOMweb root as an archive argument
ENV_USER, ENV_PASSWORD, ENV_TOKEN = "MRI_SEARCH_DICOMWEB_USER", "MRI_SEARCH_DICOMWEB_PASSWORD", "MRI_SEARCH_DICOMWEB_TOKEN"
CACHE_BYTES = 512 * 1024**2  # per process: series kept after retrieval (the one being read is always kept)
PIXEL_SLACK = 1.5  # a series' retrieval may bring this many times the pixel bytes its headers declare,
PIXEL_HEADROOM = 64 * 1024  # plus this per instance (header, encapsulation) and 1 MiB in all; more is refused
UNDECLARED_CAP = 2**31  # the cap of a series whose declared size this process does not know (2 GiB)
LIST_PAGE = 1000  # series per QIDO-RS request of a listing
MAX_SERIES = 10_000_000  # a listing stops there (a server that never ends its pages)
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")  # a DICOM UID (PS3.5 9.1), checked before it goes into a URL
_SERIES_FIELDS = ["Modality", "StudyInstanceUID", "SeriesInstanceUID", "SeriesDescription", "StudyDate"]


@dataclass(frozen=True)
class DicomwebCfg:
    """Where the DICOMweb root is and how to talk to it."""

    url: str  # DICOMweb root, e.g. http://host:8042/dicom-web (no credentials in it)
    since: str = ""  # YYYYMMDD: only studies with a StudyDate on or after it ("" : all)
    series: tuple[tuple[str, str], ...] | None = None  # only these (study UID, series UID); None: list them all
    unstable: frozenset[str] = frozenset()  # series UIDs the server still receives (Orthanc): set aside this run
    timeout_s: float = 30.0  # seconds per request (connect and read)
    retries: int = 3  # retries of a failed request (connection errors, 429 and 5xx answers)
    backoff_s: float = 0.5  # first retry after this, doubling each time


def parse_source(text: str) -> str | None:
    """The DICOMweb root URL when ``text`` names one (``dicomweb+http(s)://...``), else None (a path)."""
    text = str(text)
    if text.startswith(SCHEME):
        url = text[len(SCHEME):].rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{text}: a DICOMweb source looks like dicomweb+http://HOST:8042/dicom-web")
        if "@" in url.split("/")[2]:
            raise ValueError(f"{SCHEME}{url.split('@')[-1]}: credentials in the URL are refused; set "
                             f"{ENV_USER}/{ENV_PASSWORD} or {ENV_TOKEN}")
        return url
    return None


def normalise_date(text: str) -> str:
    """``2024-03-01`` or ``20240301`` -> ``20240301``.

    Raises:
        ValueError: not a date.
    """
    import datetime as dt

    t = text.strip().replace("-", "")
    try:
        dt.datetime.strptime(t, "%Y%m%d")
    except ValueError:
        raise ValueError(f"--since {text!r}: give a date as YYYY-MM-DD") from None
    return t


def make_session(timeout_s: float = 30.0, retries: int = 3, backoff_s: float = 0.5):
    """A ``requests.Session`` with the environment's credentials, a default timeout and retries with backoff."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    class _Session(requests.Session):
        def request(self, method, url, **kw):  # dicomweb-client passes its own timeout; REST calls get ours
            kw.setdefault("timeout", timeout_s)
            return super().request(method, url, **kw)

    s = _Session()
    retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff_s,
                  status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET", "HEAD"),
                  raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    token = os.environ.get(ENV_TOKEN)
    if token:
        s.headers["Authorization"] = f"Bearer {token}"
    elif os.environ.get(ENV_USER):
        s.auth = (os.environ[ENV_USER], os.environ.get(ENV_PASSWORD, ""))
    return s


def make_client(url: str, timeout_s: float = 30.0, retries: int = 3, backoff_s: float = 0.5):
    """A ``dicomweb_client.DICOMwebClient`` on ``make_session``."""
    from dicomweb_client.api import DICOMwebClient

    # its INFO lines name every Study/Series Instance UID it asks for: identifiers stay out of logs
    logging.getLogger("dicomweb_client").setLevel(logging.WARNING)
    client = DICOMwebClient(url, session=make_session(timeout_s, retries, backoff_s), timeout=timeout_s)
    # its own retrying also retries every exception up to 5 times with waits of 2-16 s (45 s on a refused
    # connection): the session's urllib3 Retry alone decides, with the user's --retries
    client.set_http_retry_params(retry=False)
    return client


def http_problem(url: str, exc: Exception) -> str:
    """One line a user can act on for a failed request."""
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        code = exc.response.status_code
        if code in (401, 403):
            return (f"{url}: HTTP {code} {exc.response.reason}: the server refused the credentials; set "
                    f"{ENV_USER} and {ENV_PASSWORD} (basic) or {ENV_TOKEN} (bearer)")
        return f"{url}: HTTP {code} {exc.response.reason}"
    if isinstance(exc, requests.exceptions.RetryError):
        return f"{url}: the server kept failing after retries ({_short(exc)})"
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return f"{url}: cannot reach the DICOMweb server ({type(exc).__name__}); check the URL and that it runs"
    return f"{url}: {type(exc).__name__}: {_short(exc)}"


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160]


def _status(exc: Exception) -> int | None:
    resp = getattr(exc, "response", None)
    return None if resp is None else resp.status_code


# ---------------------------------------------------------------------------------------------- scan
def list_series(client, cfg: DicomwebCfg) -> list[dict]:
    """QIDO-RS series of the server (StudyDate >= ``cfg.since`` when given), as DICOM JSON dicts.

    Raises:
        ValueError: the server cannot be reached, refuses the credentials or fails.
    """
    filters = {"StudyDate": f"{cfg.since}-"} if cfg.since else None
    out: list = []
    seen: set[str] = set()
    while len(out) < MAX_SERIES:
        try:
            page = client.search_for_series(search_filters=filters, fields=_SERIES_FIELDS, limit=LIST_PAGE,
                                            offset=len(out))
        except Exception as exc:  # noqa: BLE001 - requests raises many types; each becomes one line
            raise ValueError(http_problem(cfg.url, exc)) from None
        if not isinstance(page, list):
            raise ValueError(f"{cfg.url}: the series listing is not a JSON list (not a DICOMweb QIDO-RS answer)")
        # pages by offset, ending at a short page or at one with nothing new: a server that ignores the offset
        # (answers the same page again) ends the listing instead of looping forever
        new = [i for i in page if _item_key(i) not in seen]
        seen |= {_item_key(i) for i in new}
        out += new
        if len(page) < LIST_PAGE or not new:
            return out
    log.warning("%s: listing stopped at %d series (MAX_SERIES)", cfg.url, len(out))
    return out


def _item_key(item) -> str:
    return value(item, "0020000E") or json.dumps(item, sort_keys=True, default=str)[:10_000]


def _is_uid(text: str) -> bool:
    return len(text) <= 64 and _UID.fullmatch(text) is not None


def value(item: dict, tag: str) -> str:
    """The first value of ``tag`` (8 hex digits) in a DICOM JSON item, or "" (also for malformed JSON)."""
    v = item.get(tag) if isinstance(item, dict) else None
    v = v.get("Value") if isinstance(v, dict) else None
    return str(v[0]) if isinstance(v, list) and v and isinstance(v[0], (str, int, float)) else ""


def listed_series(items: list) -> list[tuple[str, str, str]]:
    """(StudyInstanceUID, SeriesInstanceUID, Modality upper-cased) of each QIDO-RS series item."""
    return [(value(i, "0020000D"), value(i, "0020000E"), value(i, "00080060").upper()) for i in items]


def _strip_bulk(obj):
    """DICOM JSON without bulk data references (pixel data and large binary tags are not in the metadata)."""
    if isinstance(obj, dict):
        return {k: _strip_bulk(v) for k, v in obj.items()
                if not (isinstance(v, dict) and "BulkDataURI" in v)}
    if isinstance(obj, list):
        return [_strip_bulk(v) for v in obj]
    return obj


def scan_dicomweb(cfg: DicomwebCfg, options: ScanOptions | None = None, client=None,
                  modalities: dict[str, str] | None = None) -> ScanResult:
    """The MR series a DICOMweb server holds, as ``SeriesRecord``s (reports: none; DICOMweb serves images).

    Args:
        cfg: the server and what to list.
        options: salt, include_phi and the limits, as for files.
        client: a ``DICOMwebClient`` (default: ``make_client`` from ``cfg``).
        modalities: SeriesInstanceUID -> Modality already known for ``cfg.series`` (from a listing).

    Raises:
        ValueError: the server cannot be listed (unreachable, 401, failing). A series that cannot be read after
            it was listed (deleted meanwhile, a failing request) is one ``Skip`` line and the scan goes on.
    """
    import pydicom

    options = options or ScanOptions()
    client = client or make_client(cfg.url, cfg.timeout_s, cfg.retries, cfg.backoff_s)
    salt = options.salt
    if cfg.series is None:
        wanted = listed_series(list_series(client, cfg))
    else:
        wanted = [(st, se, (modalities or {}).get(se, "").upper()) for st, se in cfg.series]
    skips: list[Skip] = []
    refs: list[FileRef] = []
    datasets: dict[str, pydicom.Dataset] = {}
    declared: dict[str, int] = {}  # series key -> pixel bytes (plus per-instance headroom) its headers declare
    for study, series, modality in sorted(wanted):
        where = f"{cfg.url} study {hash_id(salt, study)[:12]} series {hash_id(salt, series)[:12]}"
        key = hash_id(salt, f"{series}#0")
        if not (_is_uid(study) and _is_uid(series)):  # they become URL paths: nothing else passes
            skips.append(Skip(where, "the server listed a series without a valid Study/Series Instance UID",
                              series=key, level="failed"))
            continue
        if modality and modality != "MR":
            skips.append(Skip(where, f"modality {modality}, not MR", series=key, level="skipped"))
            continue
        if series in cfg.unstable:
            skips.append(Skip(where, "the server is still receiving this series (not stable yet): the next run "
                                     "takes it", series=key, level="skipped"))
            continue
        try:
            meta = client.retrieve_series_metadata(study, series)
        except Exception as exc:  # noqa: BLE001
            if _status(exc) == 404:  # gone: nothing to retry (a failing request is retried by the next run)
                skips.append(Skip(where, "not on the server any more (HTTP 404: deleted since it was listed)",
                                  series=key, level="skipped"))
            else:
                skips.append(Skip(where, http_problem(cfg.url, exc), series=key, level="failed"))
            continue
        skey = _series_key(cfg.url, study, series)
        for n, item in enumerate(meta):
            sop = value(item, "00080018")
            if not _is_uid(sop):
                skips.append(Skip(f"{where} instance {n + 1}", "instance without a valid SOP Instance UID",
                                  series=key, level="failed"))
                continue
            try:
                ds = pydicom.Dataset.from_json(_strip_bulk(item))
            except Exception as exc:  # noqa: BLE001 - a hostile metadata item must not stop the scan
                skips.append(Skip(f"{where} instance {n + 1}", f"unreadable instance metadata "
                                                              f"({type(exc).__name__})", series=key, level="failed"))
                continue
            ref = FileRef(cfg.url, f"studies/{study}/series/{series}/instances/{sop}", "dicomweb",
                          label=f"{where} instance {hash_id(salt, sop)[:12]}")
            datasets[ref.member] = ds
            refs.append(ref)
            declared[skey] = declared.get(skey, 0) + _declared_bytes(ds)
    # what the pixel retrieval of these series may bring, and how it talks to the server (forked readers inherit)
    _DECLARED.clear()  # one scan's series at a time: bounded by what the run reads
    _DECLARED.update({k: int(v * PIXEL_SLACK) + (1 << 20) for k, v in declared.items()})
    _SETTINGS[cfg.url] = (cfg.timeout_s, cfg.retries, cfg.backoff_s)
    read = partial(_read_meta, datasets, options)
    records, sk = scan_dicom(refs, options, read=read)
    records.sort(key=lambda r: (r.study_key, r.series_number if r.series_number is not None else 10**6, r.key))
    return ScanResult(series=records, skipped=skips + sk, reports={})


def _declared_bytes(ds) -> int:
    """Pixel bytes an instance's header declares (rows x columns x frames x samples x bytes per sample), plus
    ``PIXEL_HEADROOM``; 0 for the pixels of a header without the numbers (the header checks refuse it later)."""
    try:
        n = (int(ds.get("Rows", 0) or 0) * int(ds.get("Columns", 0) or 0) * int(ds.get("NumberOfFrames", 1) or 1)
             * int(ds.get("SamplesPerPixel", 1) or 1) * max(1, int(ds.get("BitsAllocated", 16) or 16) // 8))
    except (TypeError, ValueError):
        n = 0
    return max(0, n) + PIXEL_HEADROOM


def _series_key(url: str, study: str, series: str) -> str:
    return f"{url}|{study}|{series}"


def _read_meta(datasets: dict, options: ScanOptions, ref: FileRef):
    return header_from_dataset(datasets[ref.member], ref, options.max_matrix, options.max_slices,
                               options.include_phi, options.max_voxels)


# ---------------------------------------------------------------------------------------------- pixels
_CLIENTS: dict[tuple, object] = {}  # (URL, credentials, settings) -> client, per process
_CACHE: OrderedDict[str, dict[str, bytes]] = OrderedDict()  # "URL|study|series" -> SOP UID -> file bytes
_DECLARED: dict[str, int] = {}  # "URL|study|series" -> the most bytes its retrieval may bring (set by the scan)
_SETTINGS: dict[str, tuple[float, int, float]] = {}  # URL -> (timeout_s, retries, backoff_s) of its scan


def open_instance(ref: FileRef) -> io.BytesIO:
    """The bytes of one DICOMweb instance as a stream (its series is retrieved once, then served from memory).

    Raises:
        OSError: the series is gone (deleted since the scan) or cannot be retrieved; ``load_dicom`` reports it
            as the series' one failure line.
    """
    parts = ref.member.split("/")  # studies/S/series/E/instances/I
    study, series, sop = parts[1], parts[3], parts[5]
    skey = _series_key(ref.container, study, series)
    if skey not in _CACHE:
        _CACHE[skey] = _retrieve_series(ref.container, study, series)
        while len(_CACHE) > 1 and sum(len(b) for v in _CACHE.values() for b in v.values()) > CACHE_BYTES:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(skey)
    data = _CACHE[skey].get(sop)
    if data is None:
        raise OSError("instance not on the server any more (deleted since the scan)")
    return io.BytesIO(data)


class SeriesTooLarge(OSError):
    """A series' retrieval brought more bytes than its instances' headers declare."""


def _retrieve_series(url: str, study: str, series: str) -> dict[str, bytes]:
    """Every instance of a series as file bytes, streamed one instance at a time and stopped past its cap.

    Raises:
        OSError: gone, failing, or more bytes than the instances' headers declare (``PIXEL_SLACK``).
    """
    import pydicom

    settings = _SETTINGS.get(url, (DicomwebCfg.timeout_s, DicomwebCfg.retries, DicomwebCfg.backoff_s))
    who = (url, os.environ.get(ENV_TOKEN), os.environ.get(ENV_USER), os.environ.get(ENV_PASSWORD), settings)
    client = _CLIENTS.get(who)
    if client is None:
        client = _CLIENTS[who] = make_client(url, *settings)
    cap = _DECLARED.get(_series_key(url, study, series), UNDECLARED_CAP)
    out: dict[str, bytes] = {}
    total = 0
    try:
        # "*": the instances as stored, never transcoded (the pixels must be those of the files)
        for ds in client.iter_series(study, series, media_types=(("application/dicom", "*"),)):
            buf = io.BytesIO()
            pydicom.dcmwrite(buf, ds, enforce_file_format=False)
            out[str(ds.SOPInstanceUID)] = data = buf.getvalue()
            total += len(data)
            if total > cap:
                raise SeriesTooLarge(f"the server sent more than {cap / 1e6:.1f} MB for this series, more than its "
                                     "instances' headers declare; not read")
    except SeriesTooLarge:
        raise
    except Exception as exc:  # noqa: BLE001
        if _status(exc) == 404:
            raise OSError("series not on the server any more (HTTP 404: deleted since the scan)") from None
        raise OSError(http_problem(url, exc)) from None
    return out
