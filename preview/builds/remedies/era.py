"""The era an app's own pins date it to, and its dependencies resolved as of then: where
the newest releases of what it leaves unpinned broke it (:func:`dated`).

A requirements file written years ago pins some packages (``fastapi==0.95.1``,
``cryptography==3.3.2``) and leaves others open (``passlib[bcrypt]``, ``sqlalchemy``);
installed today, the open ones come at their newest majors, whose APIs the app's code
never knew (bcrypt 5 refusing passlib's 72-byte probe, marshmallow 4, Flask-SQLAlchemy
3's ``paginate``). A human installs the versions of the app's own day; the app says which
day that is: the newest upload among its exact pins, and the floors of its ranges (PEP
700's ``upload-time``, asked of the package index: :func:`read_era`). Where its failure
comes from a third-party package's code and no narrower fix is left, the next attempt's
install is resolved as of that day and :data:`MARGIN` after it (``uv pip install
--exclude-newer``): every exact pin still installs, since none was uploaded later. An app
with no exact pin has no era, nor one with a lock (what it installs is its lock's), nor
where the index did not say; one that pins every line has one (what its lines depend on
is left open, and comes at its newest).
"""

from __future__ import annotations

import re
import sys

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from ...apps.depspec import PythonDeps
from ..wheelindex import File, project_files, wanted
from .fixes import MARGIN, Era, Fix, Tried, norm, own
from .pythons import SITE_FRAME, installed_dists

__all__ = ["MARGIN", "Era", "dated", "read_era", "third_party_failure"]

_KEPT = 256  # eras read (by requirements and index), at most
_ERAS: dict[str, Era | None] = {}
_FRAME = re.compile(r'^\s*File "([^"]+)", line \d+')
# The exception a traceback ends with (the first unindented line after a frame): its
# class (dotted: ``packaging.version.InvalidVersion``) and what it says.
_RAISED = re.compile(r"^([A-Za-z_][\w.]*)(?:: (.*))?$")
# The exceptions of a missing service, a database not set up, the machine or the app's
# configuration: no release of any package changes them.
_NOT_AN_API = re.compile(
    r"Operational|Programming|Interface|Integrity|Connect|Timeout|Refused|Permission|"
    r"FileNotFound|NotFound|gaierror|socket|OSError|KeyError|ImproperlyConfigured|"
    r"ValidationError|Unauthorized|Forbidden|Auth"
)
# An exception about a module by name (the module's own, installed by a package).
_ABOUT = re.compile(r"module '([\w.]+)'|from '([\w.]+)'|No module named '([\w.]+)'")
# uv's account of a failed install: the install's failure, never the app's code.
_INSTALL = re.compile(r"Failed to (?:download and )?build `|No solution found|^\s*×")


async def read_era(deps: PythonDeps, index: str, find_links: str) -> Era | None:
    """The era of ``deps`` (the app's own lines), asked of the index once per set and
    index (bounded in time); None where there is none (see the module doc)."""
    locked = any("==" in line for line in deps.constraints)  # a lock's pins (poetry.lock)
    if deps.lock is not None or locked or deps.inferred is not None:
        return None
    if index == "none":
        return None
    floors = []  # (name, lowest version allowed, its line)
    for want, line in zip(wanted(deps.requirements), _named(deps.requirements), strict=False):
        low = _floor(want.specifier)
        if low is not None:
            floors.append((want.name, low[0], line, low[1]))
    # Pinning every line leaves what they depend on open all the same (edesz's
    # fastapi-async-db-auth: pandas==1.2.4 got NumPy 2, uvicorn[standard]==0.14.0 the
    # newest uvloop, whose get_event_loop() it no longer knows): dated too.
    if not any(pinned for *_, pinned in floors):
        return None  # nothing pinned: no day of its own
    key = repr((sorted(deps.requirements), index, find_links))
    if key in _ERAS:
        return _ERAS[key]
    files = await project_files({name for name, *_ in floors}, index, find_links)
    dates = [
        (day, line)
        for name, version, line, _ in floors
        if (day := _released(files.get(name, []), version)) is not None
    ]
    era = Era(*max(dates)) if dates else None
    if files:  # the index answered (else asked again next time)
        _ERAS[key] = era
        while len(_ERAS) > _KEPT:
            _ERAS.pop(next(iter(_ERAS)))
    return era


def _named(requirements: tuple[str, ...]) -> list[str]:
    """The lines :func:`wanted` reads, in its order (each for the era's line)."""
    return [w for w in requirements if wanted([w])]


def _floor(specifier: SpecifierSet) -> tuple[Version, bool] | None:
    """The lowest version a line allows by its own specifiers, and whether it is an exact
    pin (``==1.2``, ``~=1.2``'s floor, ``>=1.2``'s); None where it names none."""
    lows = []
    for spec in specifier:
        if spec.operator in ("==", "===", "~=", ">=") and "*" not in spec.version:
            try:
                lows.append((Version(spec.version), spec.operator in ("==", "===")))
            except InvalidVersion:
                continue
    return max(lows) if lows else None


def _released(files: list[File], version: Version) -> str | None:
    """The day ``version`` was released: its first file's upload (None: not said)."""
    times = [f.uploaded for f in files if f.version == version and f.uploaded]
    return min(times)[:10] if times else None


def third_party_failure(text: list[str], tried: Tried, files: dict[str, bytes]) -> bool:
    """Whether a failure's lines show an error raised from a third-party package's code or
    about one (not an install's failure, nor a service's absence, nor the app's settings):
    its traceback's last frame is an installed package's, or its exception names an
    installed module, or says a function rejected the call."""
    if any(_INSTALL.search(line) for line in text):
        return False
    frame, last, raised = "", "", None
    environmental = False  # any exception of the failure's a service's or a setting's
    for line in text:
        if _FRAME.match(line) is not None:
            last = frame = line
        elif last and not line[:1].isspace() and (exception := _RAISED.match(line)):
            last, raised = "", exception  # (the frame stays: the one it was raised in)
            environmental = environmental or _NOT_AN_API.search(exception.group(1)) is not None
    # A server's own exception may come last (gunicorn's HaltServer after its worker's
    # "Access denied" ProgrammingError): the cause is the one before it.
    if raised is None or environmental:
        return False
    about = _ABOUT.search(raised.group(2) or "")
    module = next((name for name in about.groups() if name), "") if about else ""
    top = module.split(".")[0]
    if top and top not in sys.stdlib_module_names and not own(top, files):
        found = installed_dists(tried.env_path).get(top)
        return found is not None and not _guessed(found[0], tried)
    if SITE_FRAME.match(frame) is not None:
        return True
    return raised.group(1) == "TypeError" and "positional argument" in (raised.group(2) or "")


def _guessed(distribution: str, tried: Tried) -> bool:
    """Whether a fix added ``distribution``, which the app does not list (guessed from an
    import: PyPI's ``logtail`` for ``import logtail``, whose module is
    ``logtail-python``'s): its failure is the guess's, which no date mends."""
    listed = (tried.listed or tried.deps).names() if tried.deps else set()
    added = tried.deps.names() if tried.deps else set()
    return norm(distribution) in added - listed


def dated(text: list[str], tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """The app's dependencies resolved as of its era, where its failure is a third-party
    package's (:func:`third_party_failure`)."""
    era = tried.era
    if era is None or not third_party_failure(text, tried, files):
        return []
    said = (
        f"dependencies resolved as of {era.until[:10]}, {MARGIN.days} days after the newest of "
        f"the app's own pins ({era.pin}, {era.day}): the newest releases of what it leaves "
        "unpinned broke it"
    )
    return [Fix(said, before=era.until)]
