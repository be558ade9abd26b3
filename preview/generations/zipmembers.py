"""A zip member's content, refused unless it is exactly what the archive declares.

``zipfile`` trusts the central directory: it stops reading a member at its declared
``file_size`` and, when the data ends first, returns what there was. A CRC made for the
cut content then passes, so a member whose sizes lie was stored silently truncated (or
shorter than declared). Here the sizes are checked against the data itself: the local
header must agree with the central directory, a stored member's size with its
compressed size, and a deflated member's stream must end exactly at its compressed size
having given exactly its declared size (with its CRC). Any disagreement raises
``zipfile.BadZipFile``, which the caller reports as a corrupt archive.
"""

from __future__ import annotations

import copy
import struct
import zipfile
import zlib

__all__ = ["read_zip_member"]

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_LOCAL_MAGIC = b"PK\x03\x04"
_DATA_DESCRIPTOR = 0x08  # flag: sizes and CRC follow the data, not in the local header
_ZIP64_SIZE = 0xFFFFFFFF  # a local size field whose value is in the zip64 extra field


def read_zip_member(
    archive: zipfile.ZipFile, data: bytes, info: zipfile.ZipInfo, limit: int
) -> bytes:
    """The content of ``info``, read from ``data`` (the archive's bytes) and never more
    than ``limit`` bytes of it, or ``BadZipFile`` if its sizes or CRC lie."""
    raw = _member_data(data, info)
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise _lies(info, f"is stored in {info.compress_size} bytes")
        content = raw[:limit]
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        content = _inflated(raw, info, limit)
    else:
        # bzip2, LZMA: zipfile's reader, told to read past the declared size, so that
        # data longer than declared shows as more bytes, shorter as fewer.
        unbounded = copy.copy(info)
        unbounded.file_size = max(limit, info.file_size + 1)
        with archive.open(unbounded) as member:
            content = member.read(limit)
    # The declared size was checked against the limits first, so it is under ``limit``:
    # content of ``limit`` bytes is longer than declared too.
    if len(content) != info.file_size:
        held = f"holds {len(content)}" if len(content) < limit else f"holds over {limit - 1}"
        raise _lies(info, held)
    if zlib.crc32(content) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.orig_filename!r}")
    return content


def _member_data(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The member's compressed bytes, once its local header agrees with the central
    directory (``zipfile`` reads only the local header's name)."""
    start = info.header_offset
    header = data[start : start + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size:
        raise zipfile.BadZipFile(f"{info.orig_filename!r}: truncated local header")
    fields = _LOCAL_HEADER.unpack(header)
    magic, flags, method = fields[0], fields[3], fields[4]
    crc, packed, size, name_len, extra_len = fields[7:]
    if magic != _LOCAL_MAGIC:
        raise zipfile.BadZipFile(f"{info.orig_filename!r}: bad local header")
    if method != info.compress_type:
        raise zipfile.BadZipFile(f"{info.orig_filename!r}: two compression methods declared")
    declared_here = not flags & _DATA_DESCRIPTOR and _ZIP64_SIZE not in (packed, size)
    if declared_here and (crc, packed, size) != (info.CRC, info.compress_size, info.file_size):
        raise zipfile.BadZipFile(
            f"{info.orig_filename!r}: its local header and the central directory"
            " declare different sizes or CRCs"
        )
    begin = start + _LOCAL_HEADER.size + name_len + extra_len
    raw = data[begin : begin + info.compress_size]
    if len(raw) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.orig_filename!r}: its data is truncated")
    return raw


def _inflated(raw: bytes, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The deflate stream ``raw`` inflated to at most ``limit`` bytes; it must end where
    its compressed size says (no byte left over, none missing)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    content = inflater.decompress(raw, limit)
    if inflater.unconsumed_tail:  # more than the limit: longer than declared
        return content
    if not inflater.eof:
        raise _lies(info, "holds a deflate stream cut short by its compressed size")
    if inflater.unused_data:
        raise _lies(info, "holds a deflate stream shorter than its compressed size")
    return content


def _lies(info: zipfile.ZipInfo, actual: str) -> zipfile.BadZipFile:
    return zipfile.BadZipFile(
        f"{info.orig_filename!r} declares {info.file_size} bytes but {actual}"
    )
