"""Deflated DICOM (Deflated Explicit VR Little Endian, 1.2.840.10008.1.2.1.99) read through a bounded inflater.

pydicom inflates such a file's whole data set in one ``zlib.decompress`` call, without a bound: a 1.2 MB file can
inflate to 1.2 GB (2.5 GB RSS measured), a memory bomb. ``inflated`` does the inflating first, with the same
ratio limit as zip and tar members (``ScanOptions.max_compression_ratio``, 200, past ``RATIO_MIN_BYTES``): a file
that would inflate beyond it is refused with that reason, and a legitimate one is handed to pydicom as the
Explicit VR Little Endian file it inflates to (the file meta information rewritten by pydicom, the data set as
inflated), so headers and pixels read as from any native file.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import BinaryIO

from .config import ScanOptions

DEFLATED = "1.2.840.10008.1.2.1.99"
RATIO_MIN_BYTES = 1024**2  # a file inflating to less than this is never a bomb, whatever its ratio
MAX_RATIO = ScanOptions.max_compression_ratio


class DeflateBomb(ValueError):
    """A deflated file that cannot be inflated safely: beyond the limit, invalid deflate data, or a broken file
    meta group."""


def inflated(fp: BinaryIO, max_ratio: float = MAX_RATIO) -> BinaryIO:
    """``fp`` itself (at its start) when it is not a deflated DICOM file; else an in-memory copy of the file it
    inflates to, in Explicit VR Little Endian.

    Raises:
        DeflateBomb: the data set would inflate to more than ``max_ratio`` times its compressed size (and more
            than ``RATIO_MIN_BYTES``), or its deflate stream is corrupt.
    """
    start = fp.tell()
    head = fp.read(132)
    group = fp.read(12)  # (0002,0000) UL: the length of the file meta information
    if len(head) < 132 or head[128:132] != b"DICM" or len(group) < 12 or group[:6] != b"\x02\x00\x00\x00UL":
        fp.seek(start)
        return fp
    meta_bytes = fp.read(struct.unpack("<I", group[8:12])[0])
    if DEFLATED.encode() not in meta_bytes:
        fp.seek(start)
        return fp
    from pydicom.dataset import FileMetaDataset
    from pydicom.filereader import read_dataset
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import ExplicitVRLittleEndian

    try:  # the file meta group is always Explicit VR Little Endian (PS3.10 7.1)
        meta = FileMetaDataset(read_dataset(io.BytesIO(group + meta_bytes), is_implicit_VR=False,
                                            is_little_endian=True))
    except Exception as exc:  # noqa: BLE001 - a broken meta group: one reason, whatever pydicom raised
        raise DeflateBomb(f"unreadable file meta information ({type(exc).__name__})") from None
    if str(meta.get("TransferSyntaxUID", "")) != DEFLATED:
        fp.seek(start)
        return fp
    compressed = fp.read()
    limit = max(RATIO_MIN_BYTES, int(len(compressed) * max_ratio))
    d = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate (RFC 1951), as PS3.5 A.5 specifies
    try:
        body = d.decompress(compressed, limit)
    except zlib.error as exc:
        raise DeflateBomb(f"deflated data set is corrupt ({exc})") from None
    if d.unconsumed_tail:
        raise DeflateBomb(f"deflated data set inflates beyond {limit} bytes, {max_ratio:g} times its "
                          f"{len(compressed)} compressed bytes (possible deflate bomb); not read")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = io.BytesIO()
    out.write(head)
    write_file_meta_info(out, meta, enforce_standard=True)
    out.write(body)
    out.seek(0)
    return out
