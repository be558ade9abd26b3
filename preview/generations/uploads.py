"""Validate an uploaded generation into ``{relative_path: bytes}``, in memory only.

A generation (a generated web app's source files) arrives as JSON ``{"files": {path:
text}}`` or as a zip / tar / tar.gz archive from a client we do not trust, and is later
written under a preview's directory. So everything is checked here, before the disk:
paths must be canonical and relative (they cannot leave the target directory); only
regular files are accepted (a link or device node could point outside it or block a
reader); count and sizes are checked on the *declared* sizes before any content is read,
and every read is bounded, so a header that lies (a zip bomb) cannot make us allocate more
than the limits. Malformed input is a :class:`BadRequest`, never a raw stdlib exception.
"""

from __future__ import annotations

import gzip
import io
import lzma
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from preview.errors import BadRequest, TooLarge
from preview.settings import Settings
from preview.uploadpaths import UnsafePath, canonical_path

from .zipmembers import read_zip_member

# tarfile (0.3 MiB) is imported by an upload (in a worker thread), not held by an idle service.
if TYPE_CHECKING:
    import tarfile

__all__ = ["UploadLimits", "files_from_archive", "files_from_json", "normalize_path"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
# A tar stream is file contents plus framing (a 512-byte header per member, more with long
# names or pax records, and padding). Decompressing a .tar.gz stops at the total limit plus
# this much framing, so a gzip bomb costs neither unbounded memory nor unbounded CPU.
_TAR_FRAMING_PER_FILE = 4096
_TAR_FRAMING = 1024 * 1024
# Everything the stdlib readers raise on malformed input (and tarfile.TarError: its
# module is imported by the upload); mapped to "corrupt_archive".
_CORRUPT = (
    zipfile.BadZipFile,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
)
_MODE_KINDS = {
    stat.S_IFLNK: "symlink",
    stat.S_IFDIR: "directory",
    stat.S_IFCHR: "character_device",
    stat.S_IFBLK: "block_device",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}
_TAR_KINDS = {  # tarfile's SYMTYPE, LNKTYPE, CHRTYPE, BLKTYPE and FIFOTYPE
    b"2": "symlink",
    b"1": "hardlink",
    b"3": "character_device",
    b"4": "block_device",
    b"6": "fifo",
}
_ZIP_TYPES = {"application/zip", "application/x-zip", "application/x-zip-compressed"}
_TAR_TYPES = {"application/x-tar", "application/gzip", "application/x-gzip", "application/x-gtar"}

# (name as stored, declared size, read at most n bytes of the content)
_Entry = tuple[str, int, Callable[[int], bytes]]


@dataclass(frozen=True)
class UploadLimits:
    """The size limits of one generation (``PREVIEW_MAX_FILE_BYTES`` and friends)."""

    max_file_bytes: int
    max_files: int
    max_total_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(settings.max_file_bytes, settings.max_files, settings.max_total_bytes)


def normalize_path(path: str) -> str:
    """The canonical relative form of ``path`` (``a/b/c.py``), or BadRequest
    ``unsafe_path`` (:func:`preview.uploadpaths.canonical_path` says why)."""
    try:
        return canonical_path(path)
    except UnsafePath as refused:
        shown = _printable(path) if isinstance(path, str) else repr(path)
        raise BadRequest(
            f"The path {shown!r} is not allowed: {refused.reason}.",
            code="unsafe_path",
            details={"path": shown},
        ) from None


def files_from_json(files: object, limits: UploadLimits) -> dict[str, bytes]:
    """Validate the ``files`` member of a JSON upload: a non-empty object of path -> text."""
    if not isinstance(files, dict) or not files:
        raise BadRequest(
            '"files" must be a non-empty object mapping file paths to their text.',
            code="invalid_files",
        )
    entries: list[_Entry] = []
    for name, text in files.items():
        if not isinstance(name, str):
            raise BadRequest(f"The file path {name!r} is not a string.", code="invalid_files")
        if not isinstance(text, str):
            raise BadRequest(
                f"The content of {name!r} is not a string of text.",
                code="invalid_files",
                details={"path": _printable(name)},
            )
        entries.append((name, len(text), partial(_encode_prefix, name, text)))
    return _validated(entries, limits, strip_top_folder=False)


def files_from_archive(
    data: bytes,
    limits: UploadLimits,
    *,
    filename: str | None = None,
    content_type: str | None = None,
) -> dict[str, bytes]:
    """Validate a zip, tar or tar.gz upload.

    The format is recognised by its leading bytes; ``filename`` and ``content_type`` only
    decide whether unrecognised bytes are a damaged archive of a claimed kind
    (``corrupt_archive``) or not an archive we read at all (``unsupported_archive``).
    """
    import tarfile

    try:
        if data.startswith(_ZIP_MAGIC):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return _validated(_zip_entries(archive, data), limits, strip_top_folder=True)
        opened = _open_tar(data, limits)
        if opened is not None:
            archive, raw = opened
            with archive:
                return _validated(_tar_entries(archive, raw), limits, strip_top_folder=True)
    except (*_CORRUPT, tarfile.TarError) as exc:
        reason = _printable(str(exc)).rstrip(".")
        raise BadRequest(
            f"The archive is corrupt or truncated and could not be read: {reason}.",
            code="corrupt_archive",
            details={"filename": filename, "reason": reason},
        ) from exc
    details = {"filename": filename, "contentType": content_type}
    if _claims_archive(filename, content_type):
        raise BadRequest(
            f"The upload{f' {filename!r}' if filename else ''} is labelled as a zip or tar "
            "archive but is not a readable one.",
            code="corrupt_archive",
            details=details,
        )
    raise BadRequest(
        "The upload is not a zip, tar or tar.gz archive.",
        code="unsupported_archive",
        details=details,
    )


def _printable(text: str) -> str:
    """``text`` with lone surrogates (undecodable tar names) escaped, so it encodes as JSON."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _encode_prefix(name: str, text: str, limit: int) -> bytes:
    try:
        return text.encode("utf-8")[:limit]
    except UnicodeEncodeError:
        raise BadRequest(
            f"The content of {name!r} is not valid Unicode text.",
            code="invalid_files",
            details={"path": name},
        ) from None


def _gunzip(data: bytes, limits: UploadLimits) -> bytes:
    """Decompress at most what a generation within the limits can need, never more."""
    cap = limits.max_total_bytes + limits.max_files * _TAR_FRAMING_PER_FILE + _TAR_FRAMING
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        raw = stream.read(cap + 1)
    if len(raw) > cap:
        raise TooLarge(
            f"The archive unpacks to more than {cap} bytes; a generation may hold at most "
            f"{limits.max_total_bytes} bytes of files.",
            code="generation_too_large",
            details={"size": len(raw), "limit": limits.max_total_bytes},
        )
    return raw


def _open_tar(data: bytes, limits: UploadLimits) -> tuple[tarfile.TarFile, bytes] | None:
    """A tar.gz or plain tar and its (inflated) bytes, else None. (Not ``is_tarfile``:
    it would also inflate bz2/xz.)

    Gzip is recognised by its magic, so a bad tar inside it is corrupt, not unsupported.
    """
    import tarfile

    if data.startswith(_GZIP_MAGIC):
        raw = _gunzip(data, limits)
        return tarfile.open(fileobj=io.BytesIO(raw), mode="r:"), raw
    try:
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:"), data
    except (tarfile.TarError, EOFError, OSError, ValueError):
        return None


def _claims_archive(filename: str | None, content_type: str | None) -> bool:
    name = (filename or "").lower()
    mime = (content_type or "").split(";")[0].strip().lower()
    return name.endswith((".zip", ".tar", ".tar.gz", ".tgz")) or mime in _ZIP_TYPES | _TAR_TYPES


def _unsupported(name: str, kind: str) -> BadRequest:
    return BadRequest(
        f"The archive member {name!r} is not a regular file ({kind.replace('_', ' ')}); "
        "only regular files and folders are accepted.",
        code="unsupported_member",
        details={"path": _printable(name), "type": kind},
    )


def _zip_entries(archive: zipfile.ZipFile, data: bytes) -> list[_Entry]:
    entries: list[_Entry] = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = info.orig_filename  # ``filename`` is silently cut at a NUL; this is not
        fmt = stat.S_IFMT(info.external_attr >> 16)
        if fmt and fmt != stat.S_IFREG:
            raise _unsupported(name, _MODE_KINDS.get(fmt, "unknown"))
        if info.flag_bits & 0x1:
            raise _unsupported(name, "encrypted")
        if info.compress_type not in _ZIP_METHODS:
            raise _unsupported(name, "unsupported_compression")
        entries.append((name, info.file_size, partial(read_zip_member, archive, data, info)))
    return entries


def _tar_entries(archive: tarfile.TarFile, raw: bytes) -> list[_Entry]:
    import tarfile

    entries: list[_Entry] = []
    for member in archive:  # headers only; contents are read later, bounded
        if member.isdir():
            continue
        if not member.isreg():
            raise _unsupported(member.name, _TAR_KINDS.get(member.type, "unknown"))
        entries.append((member.name, member.size, partial(_read_tar, archive, member)))
    # tarfile ends the archive quietly at the first block that is no header: where a
    # member declared fewer bytes than it holds, the rest of it (and every member after
    # it) would be dropped, the member stored cut. The archive must end at an
    # end-of-archive (zero) block, or at its last byte.
    if any(raw[archive.offset : archive.offset + tarfile.BLOCKSIZE]):
        raise tarfile.ReadError(
            f"bytes at offset {archive.offset} are neither a member nor the archive's end"
            " (a member's declared size may be wrong)"
        )
    return entries


def _read_tar(archive: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    import tarfile

    stream = archive.extractfile(member)
    if stream is None:  # only for non-regular members, which were refused above
        raise tarfile.ReadError(f"cannot read {member.name!r}")
    with stream:
        return stream.read(limit)


def _validated(
    entries: list[_Entry], limits: UploadLimits, *, strip_top_folder: bool
) -> dict[str, bytes]:
    """Check count, paths and declared sizes of all files, then read each one bounded."""
    if not entries:
        raise BadRequest("The generation contains no files.", code="empty_generation")
    if len(entries) > limits.max_files:
        raise TooLarge(
            f"The generation has {len(entries)} files; at most {limits.max_files} are allowed.",
            code="too_many_files",
            details={"count": len(entries), "limit": limits.max_files},
        )
    declared: dict[str, tuple[int, Callable[[int], bytes]]] = {}
    for name, size, read in entries:
        path = normalize_path(name)
        if path in declared:
            raise BadRequest(
                f"The path {path!r} occurs more than once.",
                code="duplicate_path",
                details={"path": path},
            )
        declared[path] = (max(size, 0), read)
    _check_no_file_is_a_folder(declared)
    for path, (size, _) in declared.items():
        _check_file_size(path, size, limits)
    _check_total(sum(size for size, _ in declared.values()), limits)
    files: dict[str, bytes] = {}
    total = 0
    for path, (_, read) in declared.items():
        content = read(limits.max_file_bytes + 1)
        _check_file_size(path, len(content), limits)
        total += len(content)
        _check_total(total, limits)
        files[path] = content
    if not strip_top_folder:
        return files
    stripped = _strip_top_folder(files)
    for path in stripped if stripped is not files else ():  # its names, now at the top:
        normalize_path(path)  # the preview's own folders (.tmp) refused there too
    return stripped


def _check_no_file_is_a_folder(paths: Mapping[str, object]) -> None:
    """``a`` and ``a/b`` cannot both be written: one name, a file and a folder."""
    for path in paths:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in paths:
                raise BadRequest(
                    f"{folder!r} is both a file and the folder of {path!r}.",
                    code="file_and_folder",
                    details={"path": folder, "inside": path},
                )


def _check_file_size(path: str, size: int, limits: UploadLimits) -> None:
    if size > limits.max_file_bytes:
        raise TooLarge(
            f"The file {path!r} is larger than {limits.max_file_bytes} bytes, the limit for "
            "one file.",
            code="file_too_large",
            details={"path": path, "size": size, "limit": limits.max_file_bytes},
        )


def _check_total(size: int, limits: UploadLimits) -> None:
    if size > limits.max_total_bytes:
        raise TooLarge(
            f"The generation's files add up to more than {limits.max_total_bytes} bytes, "
            "the limit for one generation.",
            code="generation_too_large",
            details={"size": size, "limit": limits.max_total_bytes},
        )


def _strip_top_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    """Drop a folder every file sits in: zipping a project folder adds one."""
    heads = {path.split("/", 1)[0] for path in files}
    if len(heads) != 1 or any("/" not in path for path in files):
        return files
    return {path.split("/", 1)[1]: content for path, content in files.items()}
