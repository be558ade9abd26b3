"""Tests of preview.uploads: what a generation upload may contain, and every refusal."""

from __future__ import annotations

import gzip
import io
import stat
import struct
import tarfile
import warnings
import zipfile
import zlib

import pytest

from preview.errors import BadRequest, PreviewError, TooLarge
from preview.generations import (
    UploadLimits,
    files_from_archive,
    files_from_json,
    normalize_path,
)
from preview.settings import Settings

MiB = 1024 * 1024
LIMITS = UploadLimits(max_file_bytes=MiB, max_files=10, max_total_bytes=3 * MiB)
APP = {"app/main.py": b"print('hi')\n", "requirements.txt": b"fastapi\n"}


def make_zip(files: dict[str, bytes], *, dirs: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in dirs:
            archive.writestr(zipfile.ZipInfo(name), b"")
        for name, content in files.items():
            archive.writestr(name, content)
    return buf.getvalue()


def tar_member(name: str, content: bytes = b"", *, kind: bytes = tarfile.REGTYPE, **attrs):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(content) if kind == tarfile.REGTYPE else 0
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, content


def make_tar(members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as archive:
        for info, content in members:
            archive.addfile(info, io.BytesIO(content) if info.isreg() else None)
    return buf.getvalue()


def expect(exc_info: pytest.ExceptionInfo[PreviewError], cls: type, code: str, status: int):
    assert type(exc_info.value) is cls
    assert exc_info.value.code == code
    assert exc_info.value.status_code == status
    assert exc_info.value.message.endswith(".")
    return exc_info.value.details


def bad(code: str, call, *args, **kwargs) -> dict:
    with pytest.raises(BadRequest) as exc_info:
        call(*args, **kwargs)
    return expect(exc_info, BadRequest, code, 400)


def too_large(code: str, call, *args, **kwargs) -> dict:
    with pytest.raises(TooLarge) as exc_info:
        call(*args, **kwargs)
    return expect(exc_info, TooLarge, code, 413)


# --- accepted uploads --------------------------------------------------------------------


def test_limits_from_settings():
    settings = Settings(max_file_bytes=1, max_files=2, max_total_bytes=3)
    assert UploadLimits.from_settings(settings) == UploadLimits(1, 2, 3)


def test_json_is_encoded_utf8():
    files = {"app/main.py": "print('héllo')\n", "./README.md": "# hi\n"}
    assert files_from_json(files, LIMITS) == {
        "app/main.py": "print('héllo')\n".encode(),
        "README.md": b"# hi\n",
    }


def test_json_keeps_a_single_top_folder():
    assert files_from_json({"proj/a.py": "", "proj/b.py": ""}, LIMITS) == {
        "proj/a.py": b"",
        "proj/b.py": b"",
    }


def test_zip_skips_directories():
    data = make_zip(APP, dirs=("app/", "empty/"))
    assert files_from_archive(data, LIMITS, filename="gen.zip") == APP


def test_tar_gz():
    members = [tar_member("app", kind=tarfile.DIRTYPE)]
    members += [tar_member(name, content) for name, content in APP.items()]
    assert files_from_archive(make_tar(members), LIMITS) == APP


def test_plain_tar():
    members = [tar_member(name, content) for name, content in APP.items()]
    assert files_from_archive(make_tar(members, "w"), LIMITS) == APP


def test_tar_with_dot_slash_prefixes():
    members = [tar_member("./", kind=tarfile.DIRTYPE), tar_member("./app", kind=tarfile.DIRTYPE)]
    members += [tar_member("./" + name, content) for name, content in APP.items()]
    assert files_from_archive(make_tar(members), LIMITS) == APP


def test_tar_of_directory_like_tar_c_dot(tmp_path):
    (tmp_path / "app").mkdir()
    for name, content in APP.items():
        (tmp_path / name).write_bytes(content)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        archive.add(tmp_path, arcname=".")
    assert files_from_archive(buf.getvalue(), LIMITS, filename="gen.tgz") == APP


def test_single_top_folder_is_stripped():
    data = make_zip({"myproj/" + name: content for name, content in APP.items()}, dirs=("myproj/",))
    assert files_from_archive(data, LIMITS) == APP
    tar = make_tar([tar_member("./myproj/" + name, content) for name, content in APP.items()])
    assert files_from_archive(tar, LIMITS) == APP


def test_a_stripped_folder_cannot_bring_the_previews_own_folders_to_the_top():
    """myproj/.tmp/x, once myproj/ is stripped, is .tmp/x: refused as at the top."""
    data = make_zip({"myproj/main.py": b"", "myproj/.tmp/notes.txt": b"x"})
    assert bad("unsafe_path", files_from_archive, data, LIMITS) == {"path": ".tmp/notes.txt"}


@pytest.mark.parametrize(
    "files",
    [
        {"myproj/a.py": b"", "b.py": b""},  # a file at the top
        {"one/a.py": b"", "two/b.py": b""},  # two top folders
    ],
)
def test_top_folder_kept_unless_shared_by_all(files):
    assert files_from_archive(make_zip(files), LIMITS) == files


@pytest.mark.parametrize(
    ("path", "canonical"),
    [("a.py", "a.py"), ("./a/b/c.py", "a/b/c.py"), ("a/.env", "a/.env"), ("a/b:c", "a/b:c")],
)
def test_normalize_path_accepts(path, canonical):
    assert normalize_path(path) == canonical


# --- refused paths -----------------------------------------------------------------------

UNSAFE = [
    "/etc/passwd",
    "../escape.py",
    "a/../../b.py",
    "a/./b.py",
    "a\\b.py",
    "a\0b.py",
    "a\nb.py",
    "a\x7fb.py",
    "C:/x.py",
    "c:x.py",
    "a//b.py",
    "a/",
    "",
    ".",
    "./",
    "x" * 256,
    "a/" * 600 + "b",
    "a\udcffb.py",
    ".tmp",  # the preview's own temporary folder: a launch failed on it ("Is a directory")
    ".tmp/notes.txt",
    ".revisions/1.1/main.py",  # where revisions applied live go
]


@pytest.mark.parametrize("path", UNSAFE)
def test_normalize_path_refuses(path):
    shown = path.replace("\udcff", "\\udcff")  # lone surrogates are escaped for JSON
    assert bad("unsafe_path", normalize_path, path) == {"path": shown}


def test_normalize_path_refuses_non_str():
    assert bad("unsafe_path", normalize_path, b"a.py") == {"path": "b'a.py'"}


@pytest.mark.parametrize("path", ["/abs.py", "../up.py", "a\\b.py", "C:/x.py", "a//b"])
def test_unsafe_path_in_json_and_zip(path):
    assert bad("unsafe_path", files_from_json, {path: "x"}, LIMITS) == {"path": path}
    data = make_zip({path: b"x"})
    assert bad("unsafe_path", files_from_archive, data, LIMITS)["path"] == path


def test_nul_in_zip_name():
    """zipfile cuts ``filename`` at a NUL; the name as stored is what gets checked."""
    data = make_zip({"a_b.py": b"x"}).replace(b"a_b.py", b"a\0b.py")
    assert bad("unsafe_path", files_from_archive, data, LIMITS) == {"path": "a\0b.py"}


def test_unsafe_path_in_tar():
    data = make_tar([tar_member("../../etc/cron.d/x", b"x")])
    assert bad("unsafe_path", files_from_archive, data, LIMITS) == {"path": "../../etc/cron.d/x"}


# --- refused members ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "kind"),
    [
        (tar_member("link", kind=tarfile.SYMTYPE, linkname="/etc/passwd"), "symlink"),
        (tar_member("hard", kind=tarfile.LNKTYPE, linkname="app/main.py"), "hardlink"),
        (tar_member("tty", kind=tarfile.CHRTYPE, devmajor=4, devminor=1), "character_device"),
        (tar_member("sda", kind=tarfile.BLKTYPE, devmajor=8), "block_device"),
        (tar_member("pipe", kind=tarfile.FIFOTYPE), "fifo"),
    ],
)
def test_tar_special_members_refused(member, kind):
    data = make_tar([tar_member("ok.py", b"x"), member])
    details = bad("unsupported_member", files_from_archive, data, LIMITS)
    assert details == {"path": member[0].name, "type": kind}


def test_zip_symlink_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("ok.py", b"x")
        info = zipfile.ZipInfo("link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, b"/etc/passwd")
    details = bad("unsupported_member", files_from_archive, buf.getvalue(), LIMITS)
    assert details == {"path": "link", "type": "symlink"}


def test_zip_regular_mode_accepted():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        info = zipfile.ZipInfo("run.sh")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        archive.writestr(info, b"#!/bin/sh\n")
    assert files_from_archive(buf.getvalue(), LIMITS) == {"run.sh": b"#!/bin/sh\n"}


def test_zip_encrypted_refused():
    data = bytearray(make_zip({"secret.py": b"x"}))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # general purpose flag: encrypted
    details = bad("unsupported_member", files_from_archive, bytes(data), LIMITS)
    assert details == {"path": "secret.py", "type": "encrypted"}


# --- duplicates --------------------------------------------------------------------------


def test_duplicate_in_zip():
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("a.py", b"1")
            archive.writestr("a.py", b"2")
    assert bad("duplicate_path", files_from_archive, buf.getvalue(), LIMITS) == {"path": "a.py"}


def test_duplicate_after_normalisation():
    data = make_tar([tar_member("a.py", b"1"), tar_member("./a.py", b"2")])
    assert bad("duplicate_path", files_from_archive, data, LIMITS) == {"path": "a.py"}
    details = bad("duplicate_path", files_from_json, {"a.py": "1", "./a.py": "2"}, LIMITS)
    assert details == {"path": "a.py"}


def test_case_differences_are_not_duplicates():
    assert files_from_json({"A.py": "1", "a.py": "2"}, LIMITS) == {"A.py": b"1", "a.py": b"2"}


@pytest.mark.parametrize(
    "paths",
    [("a", "a/b"), ("a/b", "a"), ("x/a", "x/a/b/c.py"), ("x/a/b/c.py", "x/a")],
)
def test_a_file_and_a_folder_of_the_same_name(paths):
    folder, inside = sorted(paths, key=len)
    expected = {"path": folder, "inside": inside}
    files = {path: b"1" for path in paths}
    assert bad("file_and_folder", files_from_json, dict.fromkeys(paths, "1"), LIMITS) == expected
    assert bad("file_and_folder", files_from_archive, make_zip(files), LIMITS) == expected
    tar = make_tar([tar_member(path, b"1") for path in paths])
    assert bad("file_and_folder", files_from_archive, tar, LIMITS) == expected


def test_a_folder_sharing_a_prefix_is_not_a_file():
    files = {"a": "1", "ab/c": "2", "a.d/e": "3"}
    assert files_from_json(files, LIMITS) == {"a": b"1", "ab/c": b"2", "a.d/e": b"3"}


# --- limits ------------------------------------------------------------------------------


def test_oversize_file():
    big = "x" * (MiB + 1)
    details = too_large("file_too_large", files_from_json, {"big.txt": big}, LIMITS)
    assert details == {"path": "big.txt", "size": MiB + 1, "limit": MiB}


def test_oversize_file_in_archives():
    content = b"x" * (MiB + 1)
    for data in (make_zip({"big.txt": content}), make_tar([tar_member("big.txt", content)])):
        details = too_large("file_too_large", files_from_archive, data, LIMITS)
        assert details == {"path": "big.txt", "size": MiB + 1, "limit": MiB}


def test_multibyte_text_counted_in_bytes():
    text = "é" * (MiB // 2 + 1)  # fewer characters than the limit, more bytes
    details = too_large("file_too_large", files_from_json, {"e.txt": text}, LIMITS)
    assert details == {"path": "e.txt", "size": MiB + 1, "limit": MiB}


def test_too_many_files():
    files = {f"f{i}.py": "" for i in range(11)}
    assert too_large("too_many_files", files_from_json, files, LIMITS) == {"count": 11, "limit": 10}
    data = make_zip({name: b"" for name in files}, dirs=("d1/", "d2/"))
    assert too_large("too_many_files", files_from_archive, data, LIMITS) == {
        "count": 11,
        "limit": 10,
    }


def test_total_too_large():
    files = {f"f{i}.bin": b"x" * MiB for i in range(4)}
    details = too_large("generation_too_large", files_from_archive, make_zip(files), LIMITS)
    assert details == {"size": 4 * MiB, "limit": 3 * MiB}
    text = {name: "x" * MiB for name in files}
    details = too_large("generation_too_large", files_from_json, text, LIMITS)
    assert details == {"size": 4 * MiB, "limit": 3 * MiB}


def test_compressible_file_over_limit():
    data = make_zip({"zeros.bin": bytes(2 * MiB)})
    assert len(data) < 10_000
    details = too_large("file_too_large", files_from_archive, data, LIMITS)
    assert details == {"path": "zeros.bin", "size": 2 * MiB, "limit": MiB}


def test_zip_bomb_with_lying_declared_size():
    """Headers claim 100 bytes for 2 MiB of zeros: the read stops, the CRC then fails."""
    data = bytearray(make_zip({"bomb.bin": bytes(2 * MiB)}))
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, 22, 100)  # local header: uncompressed size
    struct.pack_into("<I", data, central + 24, 100)  # central directory: uncompressed size
    details = bad("corrupt_archive", files_from_archive, bytes(data), LIMITS)
    assert "'bomb.bin' declares 100 bytes but holds over" in details["reason"]


def test_tar_gz_bomb_stops_inflating():
    """The gzip stream is cut at the limits plus tar framing, not inflated to its end."""
    limits = UploadLimits(max_file_bytes=8 * MiB, max_files=1, max_total_bytes=1000)
    data = make_tar([tar_member("zeros.bin", bytes(4 * MiB))])
    details = too_large("generation_too_large", files_from_archive, data, limits)
    assert details["limit"] == 1000
    assert details["size"] < 2 * MiB


# --- malformed input ---------------------------------------------------------------------


def test_corrupt_zip():
    data = make_zip(APP)
    details = bad("corrupt_archive", files_from_archive, data[: len(data) // 2], LIMITS)
    assert "reason" in details


def test_corrupt_zip_member_data():
    data = bytearray(make_zip({"a.txt": b"hello world " * 100}))
    data[40:60] = b"\xff" * 20  # inside the deflate stream of the only member
    bad("corrupt_archive", files_from_archive, bytes(data), LIMITS)


def _zip_declaring(
    content: bytes, *, size: int, crc_of: bytes, method: int = zipfile.ZIP_DEFLATED, where=(0, 1)
) -> bytes:
    """A zip of ``a.py`` whose headers (0: local, 1: central) declare ``size`` bytes and
    the CRC of ``crc_of``: a lie that a CRC made for the lie does not give away."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        archive.writestr("a.py", content)
    data = bytearray(buf.getvalue())
    central = data.index(b"PK\x01\x02")
    for offset in [(14, central + 16)[i] for i in where]:  # its CRC; 8 bytes on, its size
        struct.pack_into("<I", data, offset, zlib.crc32(crc_of))
        struct.pack_into("<I", data, offset + 8, size)
    return bytes(data)


CONTENT = b"print('hello world')\n" * 50


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
@pytest.mark.parametrize(
    ("size", "crc_of"),
    [(100, CONTENT[:100]), (len(CONTENT) + 100, CONTENT), (len(CONTENT) - 1, CONTENT)],
    ids=["shorter", "longer", "one_byte_shorter"],
)
def test_a_zip_whose_sizes_lie_is_refused_not_stored_cut(method, size, crc_of):
    data = _zip_declaring(CONTENT, size=size, crc_of=crc_of, method=method)
    details = bad("corrupt_archive", files_from_archive, data, LIMITS)
    assert f"'a.py' declares {size} bytes" in details["reason"]


@pytest.mark.parametrize("where", [(0,), (1,)])
def test_a_zip_whose_local_header_and_central_directory_disagree_is_refused(where):
    data = _zip_declaring(CONTENT, size=100, crc_of=CONTENT[:100], where=where)
    details = bad("corrupt_archive", files_from_archive, data, LIMITS)
    assert "declare" in details["reason"]


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_zips_of_every_method_and_with_data_descriptors_are_read(method):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, content in APP.items():
            archive.writestr(name, content)
    assert files_from_archive(buf.getvalue(), LIMITS) == APP

    class Unseekable(io.RawIOBase):  # zipfile then writes sizes after the data
        def __init__(self) -> None:
            self.written = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, data) -> int:
            self.written += data
            return len(data)

    stream = Unseekable()
    with zipfile.ZipFile(stream, "w", method) as archive:
        for name, content in APP.items():
            with archive.open(name, "w") as member:
                member.write(content)
    assert bytes(stream.written).count(b"PK\x07\x08") == len(APP)  # data descriptors
    assert files_from_archive(bytes(stream.written), LIMITS) == APP


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_a_tar_member_declaring_fewer_bytes_than_it_holds_is_refused(mode):
    """tarfile takes the rest of such a member for a header, finds none and ends the
    archive there: the member was stored cut and the members after it dropped."""
    members = [tar_member("a.py", b"x" * 1000), tar_member("b.py", b"y" * 10)]
    data = bytearray(make_tar(members, mode="w"))
    info = tarfile.TarInfo("a.py")
    info.size = 300
    data[: tarfile.BLOCKSIZE] = info.tobuf()
    archive = bytes(data) if mode == "w" else gzip.compress(bytes(data))
    details = bad("corrupt_archive", files_from_archive, archive, LIMITS)
    assert "neither a member nor the archive's end" in details["reason"]


def test_a_tar_member_declaring_more_than_the_archive_holds_is_refused():
    data = bytearray(make_tar([tar_member("a.py", b"x" * 1000)], mode="w"))
    info = tarfile.TarInfo("a.py")
    info.size = len(data)
    data[: tarfile.BLOCKSIZE] = info.tobuf()
    bad("corrupt_archive", files_from_archive, bytes(data), LIMITS)


def test_corrupt_tar_gz():
    data = make_tar([tar_member(name, content) for name, content in APP.items()])
    bad("corrupt_archive", files_from_archive, data[: len(data) // 2], LIMITS)


def test_gzip_that_is_not_a_tar():
    bad("corrupt_archive", files_from_archive, gzip.compress(b"just text\n" * 100), LIMITS)


@pytest.mark.parametrize("data", [b"", b"not an archive at all\n" * 50, bytes(range(256)) * 8])
def test_random_bytes_unsupported(data):
    details = bad(
        "unsupported_archive", files_from_archive, data, LIMITS, content_type="text/plain"
    )
    assert details == {"filename": None, "contentType": "text/plain"}


def test_random_bytes_named_zip_are_corrupt():
    data = b"not an archive at all\n" * 50
    details = bad("corrupt_archive", files_from_archive, data, LIMITS, filename="gen.zip")
    assert details["filename"] == "gen.zip"


@pytest.mark.parametrize(
    "files", [None, [], "a.py", 42, {}, {"a.py": 1}, {"a.py": None}, {"a.py": b"x"}, {1: "x"}]
)
def test_invalid_json_files(files):
    bad("invalid_files", files_from_json, files, LIMITS)


def test_non_str_content_names_the_path():
    details = bad("invalid_files", files_from_json, {"ok.py": "", "a.py": 1}, LIMITS)
    assert details == {"path": "a.py"}


def test_json_lone_surrogate_content():
    assert bad("invalid_files", files_from_json, {"a.py": "\ud800"}, LIMITS) == {"path": "a.py"}


def test_empty_archives():
    assert bad("empty_generation", files_from_archive, make_zip({}, dirs=("a/",)), LIMITS) == {}
    tar = make_tar([tar_member("a", kind=tarfile.DIRTYPE)], "w")
    assert bad("empty_generation", files_from_archive, tar, LIMITS) == {}
    assert bad("empty_generation", files_from_archive, make_zip({}), LIMITS) == {}
