"""A release the app pins that has no wheel for any Python here and cannot be built here
(its source archive needs libraries this machine lacks): the nearest release of it that
has a wheel for the Python in use (:func:`nearest_wheel_fix`), as a human seeing that
build fail moves the pin.

TrialByFire37's FastAPI-Messenger pins ``av~=11.0.0``, a release the index lists with its
source archive alone; its build needs FFmpeg's headers ("pkg-config could not find
libraries ['avformat', …]"), and the older Pythons tried after it had no wheel of it
either, each compiling and failing. 12.0.0, the next release, has wheels for them all.

Where an installed interpreter has a wheel of the pinned release itself, an older Python
is the fix (``candidates._for_build``), not this one: the app's own release first. The
index's files are asked by the preparation (:func:`failed_builds` names the packages)
and kept in :attr:`Tried.index_files`; nothing here asks the network.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

from ..wheelindex import File, installs_on
from .fixes import Fix, Tried, norm

__all__ = ["failed_builds", "nearest_wheel_fix"]

# uv's account of a build that failed, with the version it built.
# (its closing quote may be gone: the installer's summary keeps the match it read, which
# stops before it, and the launch's failure carries that summary alone)
_FAILED_BUILD = re.compile(r"Failed to (?:download and )?build `([A-Za-z0-9._-]+)==([^`\s]+)`?")


def failed_builds(text: list[str]) -> list[tuple[str, str]]:
    """The (distribution, version) releases whose builds the failure's lines say failed."""
    return list(dict.fromkeys(f for line in text for f in _FAILED_BUILD.findall(line)))


def nearest_wheel_fix(
    distribution: str, version: str, tried: Tried, python: str, installed: list[str]
) -> Fix | None:
    """The fix moving the app's pin of ``distribution`` from ``version``, whose build
    failed on ``python``, to its nearest release with a wheel for ``python``; None where
    an ``installed`` Python has a wheel of ``version`` itself, or the index listed none."""
    files = tried.index_files.get(norm(distribution), [])
    try:
        pinned = Version(version)
    except InvalidVersion:
        return None
    if not files or any(_has_wheel(files, pinned, other) for other in installed):
        return None
    before = tried.deps.exclude_newer if tried.deps is not None else None
    released = sorted(
        {
            f.version
            for f in files
            if not f.version.is_prerelease and _has_wheel(files, f.version, python)
        }
    )
    within = [v for v in released if before is None or _uploaded_before(files, v, before)]
    # None of the era's: the nearest of any day, the era lifted for it alone (etrunon's
    # flaskSQLAlchemy, dated to 2016, got shapely 1.5.16, whose build needs GEOS's library).
    chosen = _nearest(pinned, within) or _nearest(pinned, released)
    if chosen is None:
        return None
    minor = ".".join(python.split(".")[:2])
    beyond = chosen not in within
    said = (
        f"{distribution}=={version} has no wheel for any Python here and cannot be built "
        f"here (the lines above): relaunching with {distribution}=={chosen}, its nearest "
        f"release with a wheel for Python {minor}"
        + (", released after the era its other packages are resolved as of" if beyond else "")
    )
    return Fix(said, add=f"{distribution}=={chosen}", drop=norm(distribution), beyond_era=beyond)


def _uploaded_before(files: list[File], version: Version, before: str) -> bool:
    """Whether ``version``'s first file came before ``before`` (or the index did not say)."""
    times = [f.uploaded for f in files if f.version == version and f.uploaded]
    return not times or min(times)[:19] < before[:19]


def _has_wheel(files: list[File], version: Version, python: str) -> bool:
    return any(f.version == version and not f.yanked and installs_on(f, python) for f in files)


def _nearest(pinned: Version, releases: list[Version]) -> Version | None:
    """The lowest of ``releases`` above ``pinned`` within its major, else the highest below
    it within its major, else the nearest above or below (``releases`` sorted)."""
    same = [v for v in releases if v.major == pinned.major]
    above, below = [v for v in same if v > pinned], [v for v in same if v < pinned]
    if above or below:
        return above[0] if above else below[-1]
    above, below = [v for v in releases if v > pinned], [v for v in releases if v < pinned]
    return above[0] if above else below[-1] if below else None
