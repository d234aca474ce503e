"""Patient-identifying values: salted hashes for what leaves the ingestion layer, raw values only on request.

Every identifier that a record carries (study, series, patient, accession) is ``hash_id(salt, raw)``: stable for
one salt (so the same study gets the same key in every scan), unlinkable across sites that keep their salts private.
``phi_fields`` collects the raw identifiers of a dataset for callers that asked for them
(``ScanOptions.include_phi``); nothing else in this package copies them anywhere.
"""

from __future__ import annotations

import hashlib

# Raw identifiers kept by ``phi_fields`` (DICOM keywords): names, IDs, dates, addresses, institutions.
PHI_KEYWORDS = (
    "PatientName", "PatientID", "OtherPatientIDs", "PatientBirthDate", "PatientAddress", "PatientTelephoneNumbers",
    "AccessionNumber", "StudyID", "StudyInstanceUID", "SeriesInstanceUID", "StudyDate", "StudyTime",
    "InstitutionName", "InstitutionAddress", "ReferringPhysicianName", "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy", "OperatorsName", "StationName", "DeviceSerialNumber",
)


def hash_id(salt: str, raw: str | None) -> str:
    """Salted hash of an identifier: 32 hex characters, ``""`` for a missing or empty value.

    Args:
        salt: the site's private salt (``ScanOptions.salt``).
        raw: the identifier (UID, patient ID, accession number, path...).

    Returns:
        ``sha256(salt + "\\x00" + raw)`` as hex, truncated to 32 characters (128 bits).
    """
    if raw is None:
        return ""
    raw = str(raw).strip()
    if not raw:
        return ""
    return hashlib.sha256(f"{salt}\x00{raw}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def phi_fields(ds) -> dict:
    """Raw identifying values of a pydicom dataset, as strings (only the ones present and non-empty).

    Meant for ``SeriesRecord.phi`` when the user asked for identifiers (``include_phi``); never called otherwise.
    """
    out: dict[str, str] = {}
    for keyword in PHI_KEYWORDS:
        value = ds.get(keyword)
        if value is None:
            continue
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            text = "\\".join(str(v) for v in value)
        else:
            text = str(value)
        if text.strip():
            out[keyword] = text.strip()
    return out
