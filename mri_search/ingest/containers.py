"""List the files of a folder, zip or tar without extracting anything, refusing hostile members on the way.

A member is refused (one ``Skip`` line each, the listing goes on) when its name is absolute or climbs out with
``..`` (zip-slip), when it is a link or device (tar), when it is larger than ``ScanOptions.max_file_bytes``, or
when it compresses suspiciously well (zip bomb). Listing stops, with one line, once the declared uncompressed total
passes ``ScanOptions.max_total_bytes``. Archives inside archives are not opened. Nothing is ever written to disk:
``FileRef.open`` reads members into memory, bounded by the sizes checked here.
"""

from __future__ import annotations

import errno
import logging
import os
import tarfile
import zipfile
from pathlib import Path

from .config import ScanOptions
from .records import FileRef, Skip

log = logging.getLogger(__name__)

# Small members compress extremely well when they are mostly zeros (a blank padding slice), so the ratio test only
# applies from this uncompressed size on; a bomb needs far more than this to hurt.
RATIO_MIN_BYTES = 1024**2
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "__macosx"}
ARCHIVE_EXTS = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".7z", ".rar")
TAR_EXTS = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
# BIDS derivative suffixes of segmentations and masks (``_dseg``, ``_probseg``, ``_mask``): label maps and model
# predictions stored beside images, never images themselves
DERIVED_NIFTI = tuple(f"{suffix}{ext}" for suffix in ("_dseg", "_probseg", "_mask") for ext in (".nii", ".nii.gz"))
IGNORE_EXTS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".pdf", ".xml", ".html", ".htm", ".css",
               ".js", ".exe", ".dll", ".ini", ".db", ".log", ".doc", ".docx", ".xls", ".xlsx", ".rtf", ".py", ".sh",
               ".bat", ".mgz", ".mgh", ".nrrd", ".nhdr", ".mha", ".mhd", ".npy", ".npz", ".mat", ".h5") + ARCHIVE_EXTS


def list_files(path: Path, options: ScanOptions) -> tuple[list[FileRef], list[Skip]]:
    """Every regular file under a folder, or every regular member of a zip/tar, as ``FileRef`` (nothing extracted).

    Args:
        path: a folder (walked recursively; symbolic links are not followed out of it), a ``.zip``, a
            ``.tar`` / ``.tar.gz`` / ``.tgz`` (any compression ``tarfile`` reads), or one file on its own (a NIfTI,
            listed with its JSON sidecar when there is one; a DICOM file).
        options: limits (``max_file_bytes``, ``max_total_bytes``, ``max_compression_ratio``).

    Returns:
        The files in a stable (sorted) order, and one ``Skip`` per refused file or member. Hidden system files
        (``.DS_Store``, ``__MACOSX/``, dot-files, ``Thumbs.db``) are dropped silently.

    Raises:
        ValueError: when ``path`` does not exist, is not a folder or a supported archive, or the archive itself
            cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist; give a folder, a file, a .zip or a .tar/.tar.gz archive")
    if path.is_dir():
        return _list_dir(path, options)
    name = path.name.lower()
    if name.endswith(".zip"):
        return _list_zip(path, options)
    if name.endswith(TAR_EXTS):
        return _list_tar(path, options)
    if not path.is_file():  # a pipe or a device: never opened (reading a pipe would wait forever)
        raise ValueError(f"{path} is not a folder, a file, a .zip or a .tar/.tar.gz archive")
    if zipfile.is_zipfile(path):
        return _list_zip(path, options)
    return _list_single(path, options)


def classify(ref: FileRef) -> str:
    """What a file probably is, from its name alone.

    Returns:
        "nifti" (.nii, .nii.gz), "sidecar" (.json: only those named like a NIfTI are used as its sidecar),
        "bvalbvec" (.bval, .bvec), "report_text" (.txt, .md), "report_table" (.csv, .tsv, .parquet),
        "dicomdir" (DICOMDIR), "ignore" (pictures, documents, web pages, other image formats, archives, junk,
        NIfTI segmentations and masks named with a BIDS derivative suffix)
        or "dicom_candidate" (anything else: DICOM files often have no extension).
    """
    name = ref.name.lower()
    if name.endswith(DERIVED_NIFTI):
        return "ignore"
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    if name.endswith(".json"):
        return "sidecar"
    if name.endswith((".bval", ".bvec")):
        return "bvalbvec"
    if name.endswith((".txt", ".md")):
        return "report_text"
    if name.endswith((".csv", ".tsv", ".parquet")):
        return "report_table"
    if name == "dicomdir":
        return "dicomdir"
    if _is_junk(name) or name.endswith(IGNORE_EXTS):
        return "ignore"
    return "dicom_candidate"


def _is_junk(name: str) -> bool:
    """Hidden or OS bookkeeping files and folders (one path component, lower case)."""
    return (name.startswith(".") and name not in (".", "..")) or name in JUNK_NAMES


def _junk_path(member: str) -> bool:
    return any(_is_junk(p.lower()) for p in member.replace("\\", "/").split("/") if p)


def _unsafe_name(member: str) -> str | None:
    """Why a member name may not be used (absolute, drive letter, '..'), or None when it is safe."""
    norm = member.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "absolute member path refused"
    if ".." in norm.split("/"):
        return "member path with '..' refused (would write outside the archive folder)"
    return None


def _too_big(size: int, options: ScanOptions) -> str | None:
    if size > options.max_file_bytes:
        return f"file of {size} bytes exceeds the {options.max_file_bytes}-byte limit (ScanOptions.max_file_bytes)"
    return None


def _nested(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_EXTS)


def _list_dir(root: Path, options: ScanOptions) -> tuple[list[FileRef], list[Skip]]:
    refs: list[FileRef] = []
    skips: list[Skip] = []
    real_root = root.resolve()
    def unreadable(err: OSError) -> None:  # os.walk drops a folder it cannot list silently unless told
        skips.append(Skip(str(err.filename or root), f"folder cannot be read ({err.strerror or err}); its files "
                                                     "were not listed", level="failed"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if not _is_junk(d.lower()))
        here = Path(dirpath)
        for d in dirnames:
            if (here / d).is_symlink():  # os.walk does not descend; say so rather than lose files silently
                skips.append(Skip(str(here / d), "symbolic link to a folder not followed", level="skipped"))
        for fname in sorted(filenames):
            if _is_junk(fname.lower()):
                continue
            full = here / fname
            if full.is_symlink():
                try:
                    target = full.resolve(strict=True)
                except RuntimeError:  # Python < 3.13 reports a loop this way
                    skips.append(Skip(str(full), "symbolic link loop not followed", level="failed"))
                    continue
                except OSError as e:
                    if e.errno == errno.ELOOP:
                        skips.append(Skip(str(full), "symbolic link loop not followed", level="failed"))
                    else:
                        skips.append(Skip(str(full), "symbolic link to something that is not a file",
                                          level="skipped"))
                    continue
                if not target.is_relative_to(real_root):
                    skips.append(Skip(str(full), "symbolic link pointing outside the folder not followed",
                                      level="skipped"))
                    continue
                if not target.is_file():
                    skips.append(Skip(str(full), "symbolic link to something that is not a file", level="skipped"))
                    continue
            elif not full.is_file():
                skips.append(Skip(str(full), "not a regular file (device, socket or pipe)", level="skipped"))
                continue
            try:
                size = full.stat().st_size
            except OSError as e:
                skips.append(Skip(str(full), f"file cannot be read ({e.strerror or e})", level="failed"))
                continue
            rel = full.relative_to(root).as_posix()
            if reason := _too_big(size, options):
                skips.append(Skip(str(full), reason, level="failed"))
            elif _nested(fname):
                skips.append(Skip(str(full), "nested archive not opened; scan it separately", level="skipped"))
            else:
                refs.append(FileRef(str(root), rel, "dir", size))
    refs.sort(key=lambda r: r.member)
    return refs, skips


def _list_single(path: Path, options: ScanOptions) -> tuple[list[FileRef], list[Skip]]:
    """A file given on its own, in its folder, with a NIfTI's JSON sidecar (``.bval`` files are found beside the
    image by the NIfTI reader)."""
    names = [path.name]
    for ext in (".nii.gz", ".nii"):
        if path.name.lower().endswith(ext):
            sidecar = path.name[: -len(ext)] + ".json"
            if (path.parent / sidecar).is_file():
                names.append(sidecar)
            break
    refs: list[FileRef] = []
    skips: list[Skip] = []
    for name in names:
        size = (path.parent / name).stat().st_size
        if reason := _too_big(size, options):
            skips.append(Skip(str(path.parent / name), reason, level="failed"))
        else:
            refs.append(FileRef(str(path.parent), name, "dir", size))
    return refs, skips


def _list_zip(path: Path, options: ScanOptions) -> tuple[list[FileRef], list[Skip]]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ValueError(f"{path} is not a readable zip: {e}") from None
    refs: list[FileRef] = []
    skips: list[Skip] = []
    total = 0
    for info in infos:
        member = info.filename
        shown = f"{path}::{member}"
        if info.is_dir() or _junk_path(member):
            continue
        if reason := _unsafe_name(member):
            skips.append(Skip(shown, reason, level="failed"))
            continue
        if info.flag_bits & 0x1:
            skips.append(Skip(shown, "encrypted zip member cannot be read", level="failed"))
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            skips.append(Skip(shown, f"unsupported zip compression method {info.compress_type}", level="failed"))
            continue
        if reason := _too_big(info.file_size, options):
            skips.append(Skip(shown, reason, level="failed"))
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_MIN_BYTES and ratio > options.max_compression_ratio:
            skips.append(Skip(shown, f"compression ratio {ratio:.0f} exceeds {options.max_compression_ratio:g} "
                                     "(possible zip bomb); member not read", level="failed"))
            continue
        total += info.file_size
        if not _admit(FileRef(str(path), member, "zip", info.file_size), total, options, refs, skips):
            break
    refs.sort(key=lambda r: r.member)
    return refs, skips


def _list_tar(path: Path, options: ScanOptions) -> tuple[list[FileRef], list[Skip]]:
    try:
        tf = tarfile.open(path)
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ValueError(f"{path} is not a readable tar: {e}") from None
    refs: list[FileRef] = []
    skips: list[Skip] = []
    total = 0
    compressed = max(path.stat().st_size, 1)
    with tf:
        while True:
            try:
                info = tf.next()
            except (tarfile.TarError, OSError, EOFError) as e:  # truncated or corrupt after the first header
                skips.append(Skip(str(path), f"tar is damaged after {len(refs)} members ({e}); the rest was not "
                                             "listed", level="failed"))
                break
            if info is None:
                break
            member = info.name
            shown = f"{path}::{member}"
            if info.isdir() or _junk_path(member):
                continue
            if reason := _unsafe_name(member):
                skips.append(Skip(shown, reason, level="failed"))
                continue
            if info.issym() or info.islnk():
                skips.append(Skip(shown, f"link member refused (points to {info.linkname!r})", level="failed"))
                continue
            if not info.isreg():
                skips.append(Skip(shown, "device, fifo or other special member refused", level="failed"))
                continue
            if reason := _too_big(info.size, options):
                skips.append(Skip(shown, reason, level="failed"))
                continue
            total += info.size
            # A tar stream has no per-member compressed size: bound the ratio of the whole stream read so far.
            if total >= RATIO_MIN_BYTES and total / compressed > options.max_compression_ratio:
                skips.append(Skip(str(path), f"compression ratio above {options.max_compression_ratio:g} "
                                             "(possible tar bomb); the remaining members were not listed",
                                  level="failed"))
                break
            if not _admit(FileRef(str(path), member, "tar", info.size), total, options, refs, skips):
                break
    refs.sort(key=lambda r: r.member)
    return refs, skips


def _admit(ref: FileRef, total: int, options: ScanOptions, refs: list[FileRef], skips: list[Skip]) -> bool:
    """Add an archive member that passed its own checks; False once the running total says stop listing."""
    if total > options.max_total_bytes:
        skips.append(Skip(ref.container, f"archive holds more than {options.max_total_bytes} uncompressed bytes "
                                         "(ScanOptions.max_total_bytes); the remaining members were not listed",
                          level="failed"))
        return False
    if _nested(ref.member):
        skips.append(Skip(ref.display, "nested archive not opened", level="skipped"))
    else:
        refs.append(ref)
    return True
