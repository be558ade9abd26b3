"""Which interpreters an app's pinned packages have wheels for: :func:`wheel_gaps`.

An exact old pin (``psycopg2==2.7.3``, ``MarkupSafe==1.1.1``) has wheels only for the
Pythons of its day; on a newer one it is built from source — minutes for a dozen old
sdists, each resolved by running its ``setup.py``, and it often fails after them. Before
anything is built, the package index is asked which files each pinned version has (PEP
691's JSON simple API, or PEP 503's HTML page; and the find-links directory), and for
each candidate interpreter the pins are counted that have no wheel it can install (its
tags on this machine's platforms) and those whose ``Requires-Python`` excludes it. Only
file names are read: no code of the upload runs. The queries are bounded in time; a
package the index does not answer for counts for no interpreter, and when nothing is
known the answer is None (the interpreters keep uv's order).
"""

from __future__ import annotations

import functools
import json
import os
import re
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx
import trio
from packaging import tags
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

__all__ = [
    "File",
    "Gaps",
    "Wanted",
    "held",
    "installs_on",
    "newest_wheels",
    "project_files",
    "wanted",
    "wheel_gaps",
]

PYPI_SIMPLE = "https://pypi.org/simple/"
_QUERY_TIME = 20.0  # s for all of an app's queries; then what is known so far counts
_CONCURRENT = 8  # index queries at once
_MAX_PAGE = 32 * 1024 * 1024  # a project's page larger than this is not read
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_ANCHOR = re.compile(r"<a\s([^>]*)>([^<]*)</a>", re.I)
_REQUIRES_PYTHON = re.compile(r'data-requires-python\s*=\s*"([^"]*)"', re.I)
_HREF = re.compile(r'href\s*=\s*"([^"]*)"', re.I)


@dataclass(frozen=True)
class Wanted:
    """A requirement line: the project, the versions it accepts."""

    name: str  # canonical
    specifier: SpecifierSet
    marker: Marker | None


@dataclass(frozen=True)
class Gaps:
    """What one interpreter lacks among the requirements the index told about."""

    unbuilt: tuple[str, ...] = ()  # "name==version" with no wheel for it: built from source
    excluded: tuple[str, ...] = ()  # requirements no version of which admits it

    @property
    def cost(self) -> tuple[int, int]:
        return len(self.excluded), len(self.unbuilt)


def wanted(requirements: Iterable[str]) -> list[Wanted]:
    """The projects named by pip's requirement lines (not options, URLs or paths)."""
    found = []
    for line in requirements:
        if line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.url is None:
            found.append(Wanted(canonicalize_name(req.name), req.specifier, req.marker))
    return found


def held(asked: list[Wanted], pins: list[Wanted]) -> list[Wanted]:
    """``asked`` held to a lock's ``pins`` (poetry.lock's, uv's ``-c``): a pinned
    project counts at its pin, not at the newest version its range allows, and the
    pins of what it brings count too. A 2020 poetry.lock's ``uvicorn>=0.11.5,<0.12``
    installs ``httptools==0.1.1`` and ``uvloop==0.14.0``, its ``psycopg2-binary>=2.8.5``
    ``2.8.5``, whose wheels stop at 3.8: read by the ranges alone, every Python lacked the
    same one pure sdist, and 3.13 was tried first, compiling, then 3.12, a minute each."""
    pinned = {pin.name for pin in pins}
    return [want for want in asked if want.name not in pinned] + pins


async def wheel_gaps(
    requirements: Sequence[str],
    versions: Sequence[str],
    index: str,
    find_links: str,
    *,
    pins: Sequence[str] = (),
    before: str | None = None,
) -> dict[str, Gaps] | None:
    """For each interpreter version (``3.6.15``), what the requirements lack for it
    (see the module doc); None when the index told nothing. ``index``: the settings'
    (empty: PyPI; ``none``: none); ``find_links``: a directory or URL; ``pins``: the
    versions a lock holds the install to (see :func:`held`); ``before``: the install is
    resolved as of then (uv's ``--exclude-newer``): files uploaded later do not count."""
    asked = held(wanted(requirements), wanted(pins))
    if not asked or len(versions) < 2:
        return None
    files: dict[str, list[File]] = {}
    with trio.move_on_after(_QUERY_TIME):
        files = await _project_files({w.name for w in asked}, index, find_links)
    if not files:
        return None
    files = _as_of(files, before)
    return {version: _gaps(asked, files, version) for version in versions}


async def newest_wheels(
    requirements: Sequence[str],
    version: str,
    index: str,
    find_links: str,
    *,
    before: str | None = None,
) -> dict[str, Version]:
    """Each requirement's newest release it accepts that has a wheel installing on a
    CPython ``version`` (no exact pin's, no pre-release, none yanked; as of ``before``), by
    its canonical name: what an install with wheels only takes of it, unless a package
    that release needs has no wheel (:meth:`EnvBuilder`'s check after such an install).
    Bounded like :func:`wheel_gaps`; a project the index did not answer for is absent."""
    python = Version(version)
    supported = _supported_tags(python.major, python.minor)
    environment = _environment(version)
    asked = [
        want
        for want in wanted(requirements)
        if not _exact(want) and (want.marker is None or want.marker.evaluate(environment))
    ]
    files = _as_of(await project_files({w.name for w in asked}, index, find_links), before)
    found = {}
    for want in asked:
        releases = [
            file.version
            for file in files.get(want.name, ())
            if file.version in want.specifier
            and not file.yanked
            and _installs(file, python, supported)
        ]
        if releases:
            found[want.name] = max(releases)
    return found


def _as_of(files: dict[str, list[File]], before: str | None) -> dict[str, list[File]]:
    """``files`` uploaded before ``before`` (uv's ``--exclude-newer``; None: all)."""
    if before is None:
        return files
    return {  # (ISO 8601 times in UTC compare as text)
        name: [f for f in listed if f.uploaded is None or f.uploaded[:19] < before[:19]]
        for name, listed in files.items()
    }


def _environment(version: str) -> dict[str, str]:
    """The marker environment of a CPython ``version`` on this machine."""
    python = Version(version)
    return {
        "python_version": f"{python.major}.{python.minor}",
        "python_full_version": version,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


def _gaps(asked: list[Wanted], files: dict[str, list[File]], version: str) -> Gaps:
    """The version of each requirement a resolver takes on ``version`` (the newest it
    accepts whose files admit that Python), and whether a wheel of it installs there."""
    python = Version(version)
    supported = _supported_tags(python.major, python.minor)
    environment = _environment(version)
    unbuilt, excluded = [], []
    for want in asked:
        if want.marker is not None and not want.marker.evaluate(environment):
            continue
        by_version: dict[Version, list[File]] = {}
        for file in files.get(want.name, ()):
            if file.version in want.specifier and (not file.yanked or _exact(want)):
                by_version.setdefault(file.version, []).append(file)
        if not by_version:
            continue  # the index did not say (or has no such version: the build will)
        usable = {
            v: fs for v, fs in by_version.items() if any(not _excludes(f, python) for f in fs)
        }
        if not usable:
            excluded.append(f"{want.name}{want.specifier}")
            continue
        chosen = max(usable)
        if not any(_installs(f, python, supported) for f in usable[chosen]):
            unbuilt.append(f"{want.name}=={chosen}")
    return Gaps(tuple(unbuilt), tuple(excluded))


def _exact(want: Wanted) -> bool:
    return any(s.operator in ("==", "===") and "*" not in s.version for s in want.specifier)


def _excludes(file: File, python: Version) -> bool:
    if not file.requires_python:
        return False
    try:
        return not SpecifierSet(file.requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return False


def installs_on(file: File, version: str) -> bool:
    """Whether ``file``, a wheel, installs on a CPython ``version`` ("3.11.7", "3.11") on
    this machine: one of its tags that interpreter supports, its Requires-Python admits it."""
    try:
        python = Version(version)
    except InvalidVersion:
        return False
    return _installs(file, python, _supported_tags(python.major, python.minor))


def _installs(file: File, python: Version, supported: frozenset[tags.Tag]) -> bool:
    """Whether ``file`` is a wheel with one of the ``supported`` tags whose Requires-Python
    admits ``python``."""
    return file.tags is not None and bool(file.tags & supported) and not _excludes(file, python)


@functools.lru_cache(maxsize=16)
def _supported_tags(major: int, minor: int) -> frozenset[tags.Tag]:
    """The tags a CPython ``major.minor`` on this machine installs."""
    platforms = list(tags.platform_tags())
    python = (major, minor)
    found = set(tags.cpython_tags(python_version=python, platforms=platforms, warn=False))
    found.update(tags.compatible_tags(python, f"cp{major}{minor}", platforms))
    return frozenset(found)


# -- the index ----------------------------------------------------------------------


@dataclass(frozen=True)
class File:
    """A distribution file the index lists for a project."""

    project: str  # canonical
    version: Version
    tags: frozenset[tags.Tag] | None  # a wheel's; None: an sdist
    requires_python: str | None = None
    yanked: bool = False
    uploaded: str | None = None  # PEP 700's upload-time (ISO 8601), where the index says it


def _file(
    filename: str,
    requires_python: str | None = None,
    yanked: bool = False,
    uploaded: str | None = None,
) -> File | None:
    """The file its name describes: a wheel or an sdist (others: None)."""
    try:
        if filename.endswith(".whl"):
            name, version, _, found = parse_wheel_filename(filename)
            return File(name, version, found, requires_python, yanked, uploaded)
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return File(name, version, None, requires_python, yanked, uploaded)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        pass
    return None


async def project_files(names: set[str], index: str, find_links: str) -> dict[str, list[File]]:
    """Each project's files the index (and find-links) list, as far as they answered
    within the queries' time (:data:`_QUERY_TIME`); {} when none did. A project the
    index answered it does not have is there with no files; one it did not answer for
    is not there."""
    files: dict[str, list[File]] = {}
    with trio.move_on_after(_QUERY_TIME):
        files = await _project_files(names, index, find_links)
    return files


async def _project_files(names: set[str], index: str, find_links: str) -> dict[str, list[File]]:
    """Each project's files from the index and find-links."""
    found: dict[str, list[File]] = {}
    work = trio.CapacityLimiter(2)  # parsing a large page (numpy's: megabytes) off the loop
    if find_links:
        for file in await _find_links(find_links, work):
            if file.project in names:
                found.setdefault(file.project, []).append(file)
    base = PYPI_SIMPLE if not index else None if index == "none" else index.rstrip("/") + "/"
    if base is None:
        return found
    if base.startswith("file://"):  # a directory laid out as a simple index
        for name in names:
            listed = await _local_page(Path(urlparse(base).path) / name, work)
            found.setdefault(name, []).extend(f for f in listed if f.project == name)
        return found
    limiter = trio.CapacityLimiter(_CONCURRENT)
    context = ssl.create_default_context()  # the machine's CAs, as uv's (UV_SYSTEM_CERTS)
    async with httpx.AsyncClient(
        verify=context,
        trust_env=True,
        follow_redirects=True,
        timeout=_QUERY_TIME,
        headers={"Accept": _ACCEPT},
    ) as client:

        async def one(name: str) -> None:
            async with limiter:
                listed = await _page(client, urljoin(base, f"{name}/"), work)
            if listed is not None:  # ([] where the index has no such project)
                found.setdefault(name, []).extend(f for f in listed if f.project == name)

        async with trio.open_nursery() as nursery:
            for name in sorted(names):
                nursery.start_soon(one, name)
    return found


async def _find_links(location: str, work: trio.CapacityLimiter) -> list[File]:
    if "://" in location and not location.startswith("file://"):
        async with httpx.AsyncClient(trust_env=True, timeout=_QUERY_TIME) as client:
            return await _page(client, location, work) or []
    path = Path(urlparse(location).path if location.startswith("file://") else location)
    try:
        names = await trio.to_thread.run_sync(os.listdir, path, limiter=work)
    except OSError:
        return []
    return [file for name in names if (file := _file(name)) is not None]


async def _local_page(project: Path, work: trio.CapacityLimiter) -> list[File]:
    """A local index's project: its ``index.html``, else the files in its directory."""

    def read() -> list[File]:
        try:
            return _html_files((project / "index.html").read_bytes())
        except OSError:
            pass
        try:
            return [file for name in os.listdir(project) if (file := _file(name)) is not None]
        except OSError:
            return []

    return await trio.to_thread.run_sync(read, limiter=work)


async def _page(
    client: httpx.AsyncClient, url: str, work: trio.CapacityLimiter
) -> list[File] | None:
    """A project page's files; [] where the index has no such project (404), None when
    the page cannot be read."""
    body = bytearray()
    try:
        async with client.stream("GET", url) as response:
            if response.status_code == 404:
                return []
            if response.status_code != 200:
                return None
            kind = response.headers.get("content-type", "")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > _MAX_PAGE:
                    return None
    except httpx.HTTPError:
        return None
    parse = _json_files if "json" in kind else _html_files
    return await trio.to_thread.run_sync(parse, bytes(body), limiter=work)


def _json_files(body: bytes) -> list[File]:
    try:
        listed = json.loads(body).get("files", [])
    except (ValueError, AttributeError):
        return []
    files = []
    for entry in listed if isinstance(listed, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("filename"), str):
            requires, uploaded = entry.get("requires-python"), entry.get("upload-time")
            file = _file(
                entry["filename"],
                requires if isinstance(requires, str) else None,
                bool(entry.get("yanked")),
                uploaded if isinstance(uploaded, str) else None,
            )
            if file is not None:
                files.append(file)
    return files


def _html_files(body: bytes) -> list[File]:
    files = []
    for attributes, text in _ANCHOR.findall(body.decode("utf-8", "replace")):
        href = _HREF.search(attributes)
        name = (href.group(1).split("#")[0].rsplit("/", 1)[-1] if href else "") or text
        requires = _REQUIRES_PYTHON.search(attributes)
        file = _file(
            unescape(name.strip()),
            unescape(requires.group(1)) if requires else None,
            "data-yanked" in attributes,
        )
        if file is not None:
            files.append(file)
    return files
