"""The identifier salt: one random secret per installation, unless the user names one (``--salt``).

Identifiers are stored as ``hash_id(salt, value)`` (``ingest.phi``). With a salt everyone knows, anyone holding an
index can hash a candidate PatientID and find its ``patient_key`` in microseconds. So the default salt is created
once, at first use, as 32 random bytes in ``$MRI_SEARCH_HOME/salt`` (file mode 0600); ``--salt`` names another,
which every machine of a sharded index run must share. The collection records a fingerprint of its salt
(``store.layout.salt_check``), never the salt.

``LEGACY_SALT`` is the public default of earlier versions: an index built with it keeps working (queries and
re-runs pick it from the collection's fingerprint) with a warning, and new indexes never use it unless asked.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

LEGACY_SALT = "mri-search"
SALT_FILE = "salt"


def salt_path(home: Path | None = None) -> Path:
    """Where the installation's salt lives."""
    from ..home import default_home

    return (home if home is not None else default_home()) / SALT_FILE


def installation_salt(home: Path | None = None) -> str:
    """This installation's salt, created (0600, random) at first use.

    Raises:
        ValueError: the salt file exists but is empty or unreadable (one line saying what to do).
    """
    path = salt_path(home)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it a moment ago
            return installation_salt(home)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(32) + "\n")
        log.info("created this installation's identifier salt in %s (keep it private; share it with --salt "
                 "only across the machines of one index)", path)
        return installation_salt(home)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the identifier salt {path} ({exc}); fix its permissions, or pass --salt") \
            from None
    if not text:
        raise ValueError(f"the identifier salt file {path} is empty; delete it to create a new one (indexes made "
                         "with the old one then need --salt), or pass --salt")
    return text


def resolve_salt(salt: str | None) -> str:
    """``salt`` when given, else this installation's."""
    return salt if salt else installation_salt()


def salt_for(fingerprint: str | None, salt: str | None, check) -> str:
    """The salt to use with a collection whose salt fingerprint is ``fingerprint`` (None: no collection yet).

    ``salt`` given: it. Otherwise the installation's, unless the collection was made with ``LEGACY_SALT`` and not
    with the installation's: then the legacy salt, with a warning. ``check``: ``store.layout.salt_check``.
    """
    if salt:
        return salt
    own = installation_salt()
    if fingerprint is not None and fingerprint != check(own) and fingerprint == check(LEGACY_SALT):
        log.warning("this index was built with the old public default salt: anyone can reverse its hashed "
                    "identifiers; re-index it (the default is now this installation's random salt) or pass --salt")
        return LEGACY_SALT
    return own
