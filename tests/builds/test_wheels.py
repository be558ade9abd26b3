"""A pinned release with no wheel for any Python here whose build fails moves to its
nearest release with a wheel (``preview.builds.remedies.wheels``): read from a local
index's files (``project_files``), through :meth:`Remedies.next_fix` and
:meth:`Remedies.apply`, with the failure TrialByFire37's FastAPI-Messenger had."""

from __future__ import annotations

from pathlib import Path

import trio
from packaging.tags import parse_tag
from packaging.version import Version

from preview.apps.depspec import PythonDeps
from preview.builds.remedies import Fix, Remedies
from preview.builds.remedies.wheels import failed_builds
from preview.builds.wheelindex import File, project_files

PYTHONS = ["3.11.7", "3.10.13", "3.9.18"]
# uv's lines for ``av~=11.0.0``: its one release in range has a source archive alone,
# whose build needs FFmpeg's headers.
AV_BUILD = [
    "Failed to build `av==11.0.0`: Call to `setuptools.build_meta:__legacy__.build_wheel` "
    "failed (exit status: 1)",
    "  × Failed to build `av==11.0.0`",
    "  ├─▶ The build backend returned an error",
    "      pkg-config could not find libraries ['avformat', 'avcodec', 'avdevice',",
]
FILES = (
    "av-10.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "av-10.0.0.tar.gz",
    "av-11.0.0.tar.gz",
    "av-12.0.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "av-12.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "av-12.0.0.tar.gz",
    "av-13.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
)


async def _tried_with_index(
    tmp_path: Path, names: tuple[str, ...], lines: tuple[str, ...]
) -> Remedies:
    project = tmp_path / "simple" / "av"
    project.mkdir(parents=True)
    for name in names:
        (project / name).write_bytes(b"")
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(lines, "requirements.txt", None, None)
    remedies.tried.python_version = "3.11.7"
    with trio.fail_after(30):
        found = await project_files({"av"}, f"file://{tmp_path / 'simple'}", "")
    remedies.tried.index_files["av"] = found["av"]
    return remedies


async def test_a_pin_no_python_here_has_a_wheel_of_moves_to_its_nearest_with_one(
    tmp_path: Path,
) -> None:
    assert failed_builds(AV_BUILD) == [("av", "11.0.0")]
    # The line the installer's summary of a failed compile keeps (installers), the launch's
    # failure's alone: its quote cut where the installer's reading stopped.
    assert failed_builds(["Failed to build `pyaudio==0.2.14"]) == [("pyaudio", "0.2.14")]
    listed = ("fastapi~=0.108.0", "av~=11.0.0")
    remedies = await _tried_with_index(tmp_path, FILES, listed)
    fix = remedies.next_fix(AV_BUILD[0], AV_BUILD[1:], {"main.py": b"import av\n"}, PYTHONS)
    assert fix is not None and fix.python_below is None, fix
    assert "relaunching with av==12.0.0, its nearest release with a wheel" in fix.said
    applied = remedies.apply(PythonDeps(listed, "requirements.txt", None, None))
    assert applied.requirements == ("fastapi~=0.108.0", "av==12.0.0")


async def test_a_pin_an_older_python_has_a_wheel_of_is_kept_on_that_python(
    tmp_path: Path,
) -> None:
    # The pinned release's own wheel, for 3.10: the app's release on an older Python.
    files = (*FILES, "av-11.0.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    remedies = await _tried_with_index(tmp_path, files, ("av~=11.0.0",))
    fix = remedies.next_fix(AV_BUILD[0], AV_BUILD[1:], {"main.py": b"import av\n"}, PYTHONS)
    assert fix is not None and fix.python_below == "3.11", fix


def test_an_eras_release_with_no_wheel_moves_past_the_era_for_it_alone() -> None:
    """Etrunon's flaskSQLAlchemy, dated to 2016 by the remedies, got the shapely of then
    (1.5.16, a source archive whose build needs GEOS's library); no release of that era
    has a wheel for Python 3.11. Its nearest with one, of any day, is taken, and only it
    is resolved past the era: the rest stays as of then."""
    wheel = frozenset(parse_tag("cp311-cp311-manylinux_2_17_x86_64"))
    files = [
        File("shapely", Version("1.5.16"), None, uploaded="2016-05-26T00:00:00Z"),
        File("shapely", Version("1.8.5"), wheel, uploaded="2022-10-14T00:00:00Z"),
        File("shapely", Version("2.0.6"), wheel, uploaded="2024-08-19T00:00:00Z"),
    ]
    built = ["  × Failed to build `shapely==1.5.16`", "  OSError: Could not find library geos_c"]
    listed = ("flask", "GeoAlchemy2", "shapely")
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(
        listed, "requirements.txt", None, None, exclude_newer="2016-09-01T00:00:00Z"
    )
    remedies.tried.python_version = "3.11.7"
    remedies.tried.index_files["shapely"] = files
    fix = remedies.next_fix(built[0], built[1:], {"app.py": b"import shapely\n"}, ["3.11.7"])
    assert fix is not None and fix.add == "shapely==1.8.5" and fix.beyond_era, fix
    assert "released after the era" in fix.said
    applied = remedies.apply(remedies.tried.deps)
    assert applied.requirements == ("flask", "GeoAlchemy2", "shapely==1.8.5")
    dated = applied.dated()
    assert dated[:2] == ("--exclude-newer", "2016-09-01T00:00:00Z")
    assert "shapely=2999-12-31T00:00:00Z" in dated  # (uv's --exclude-newer-package)
    assert "flask=2999-12-31T00:00:00Z" not in dated


def test_a_listed_package_with_no_wheel_here_that_nothing_imports_is_left_out() -> None:
    """bahaehmimdi's FlaskRadioFm lists pyaudio, whose wheels are Windows' and macOS's
    alone, and imports it nowhere: three older Pythons were tried, each built it and
    failed on portaudio.h. It goes; one the app imports, or with a wheel for an older
    Python here, gets that Python as before."""
    windows = frozenset(parse_tag("cp39-cp39-win_amd64"))
    linux = frozenset(parse_tag("cp39-cp39-manylinux_2_17_x86_64"))
    files = [
        File("pyaudio", Version("0.2.14"), None),
        File("pyaudio", Version("0.2.14"), windows),
    ]
    built = [
        "  × Failed to build `pyaudio==0.2.14`",
        "hint: This error likely indicates that you need to install a library that provides "
        '"portaudio.h"',
    ]
    message = (
        "building pyaudio 0.2.14 for Python 3.11 needs a C compiler and its headers (no wheel)"
    )
    code = {"app.py": b"from flask import Flask\nfrom flask_socketio import SocketIO\n"}

    def fix_for(index: list[File], files_of_the_app: dict[str, bytes]) -> Fix | None:
        remedies = Remedies()
        listed = ("Flask==1.1.2", "flask-socketio", "pyaudio")
        remedies.tried.deps = PythonDeps(listed, "requirements.txt", None, None)
        remedies.tried.python_version = "3.11.7"
        remedies.tried.index_files["pyaudio"] = index
        return remedies.next_fix(message, built, files_of_the_app, PYTHONS)

    fix = fix_for(files, code)
    assert fix is not None and fix.drop == "pyaudio" and fix.python_below is None, fix
    assert fix.said.endswith("relaunching without pyaudio"), fix.said
    imported = {**code, "audio.py": b"import pyaudio\n"}
    fix = fix_for(files, imported)
    assert fix is not None and fix.drop is None and fix.python_below == "3.11", fix
    older = [*files, File("pyaudio", Version("0.2.14"), linux)]
    fix = fix_for(older, code)
    assert fix is not None and fix.drop is None and fix.python_below == "3.11", fix
