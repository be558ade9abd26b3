"""A package's own word on what to install: :func:`for_install_hint`.

A package whose optional dependency the app needs says so in its exception rather than
failing an import (the ``ImportError`` it caught is gone): quart-schema, which stopped
bringing pydantic, "Cannot create schema for <class 'api.TodoIn'> - try installing
msgspec or pydantic"; pydantic's ``EmailStr``, "email-validator is not installed, run
`pip install pydantic[email]`"; FastAPI's forms, 'Form data requires "python-multipart" to
be installed'; Starlette's templates, "jinja2 must be installed to use Jinja2Templates";
WTForms' ``Email()``, "Install 'email_validator' for email validation support.";
Flask-Security-Too's "nh3 is required for USERNAME_ENABLE", where an installed package
offers nh3 as an optional requirement.
What it names is added, unless the environment has it already (then its absence is not
the cause).
"""

from __future__ import annotations

import glob
import importlib.metadata
import re
import sys

from ...apps.imports import import_mapping, imported_names
from .fixes import Fix, Tried
from .fixes import name as _name
from .fixes import norm as _norm
from .fixes import own as _own
from .pythons import installed_dists

__all__ = ["EXCEPTION_SAYS", "for_install_hint"]

# The exception's own line ("TypeError: …", "pydantic.errors.PydanticImportError: …"),
# or Django's system check, whose errors stop manage.py before any traceback:
# "shop.Item.image: (fields.E210) Cannot use ImageField because Pillow is not installed."
# What it says is ``said``. A bare ``Exception`` too: WTForms raises one. And one named
# otherwise, by its module's path: wafissh's belajar-fastapi lists pwdlib and hashes with
# argon2, "pwdlib.exceptions.HasherNotAvailable: … Try to run `pip install pwdlib[argon2]`".
EXCEPTION_SAYS = re.compile(
    r"^\s*(?:(?:[A-Za-z_][\w.]*\.)?(?:[A-Za-z_]\w*(?:Error|Exception)|Exception):"
    # one named otherwise, by its module's path (pwdlib.exceptions.HasherNotAvailable)
    r"|[a-z_]\w*(?:\.[a-z_]\w*)*\.[A-Z]\w*:"
    r"|[\w.]+: \((?:\w+\.)?[EC]\d+\)) (?P<said>.+)$"
)
_NAME = r"[`'\"]?([A-Za-z0-9][\w.-]*(?:\[[\w,-]+\])?)[`'\"]?"
_HINTS = (
    re.compile(rf"\btry installing {_NAME}(?: or {_NAME})?"),  # quart-schema's alternatives
    re.compile(rf"\bpip install {_NAME}"),
    re.compile(rf"\brequires {_NAME} to be installed"),
    re.compile(rf"(?:^|[\s:,;]){_NAME} (?:must be|is not|needs to be) installed\b"),
    # WTForms' Email(): "Install 'email_validator' for email validation support."
    re.compile(rf"(?:^|[\s:,;])[Ii]nstall {_NAME} (?:for|to)\b"),
)

# Flask-Security-Too 5: "nh3 is required for USERNAME_ENABLE" (its extra's, not installed).
_REQUIRED = re.compile(rf"^{_NAME} is required (?:for|by|to)\b")
_EXTRA_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][\w.-]*)[^;]*;.*\bextra\s*==")


def _optional_requirements(tried: Tried) -> set[str]:
    """The distributions the installed packages require under an extra of theirs
    (``Requires-Dist: nh3>=0.2; extra == "common"``), normalized."""
    if tried.env_path is None:
        return set()
    sites = glob.glob(str(tried.env_path / "lib" / "python*" / "site-packages"))
    found: set[str] = set()
    for dist in importlib.metadata.distributions(path=sites):
        for requirement in dist.requires or ():
            if (m := _EXTRA_REQUIREMENT.match(requirement)) is not None:
                found.add(_norm(m.group(1)))
    return found


def for_install_hint(said: str, tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """The distribution an exception's words (``said``: :data:`EXCEPTION_SAYS`'s) say to
    install, as a fix; of two alternatives, one the app imports, else the first."""
    if tried.deps is None:
        return []
    said = said.strip()
    named: list[str] = []
    for hint in _HINTS:
        if (found := hint.search(said)) is not None:
            named = [n.rstrip(".") for n in found.groups() if n]
            break
    # Said of a name only where an installed package offers it as an optional
    # requirement (an extra's): a form's "email is required for login" names none.
    required = _REQUIRED.search(said) if not named else None
    if required is not None and _norm(required.group(1)) in _optional_requirements(tried):
        named = [required.group(1)]
    if not named:
        return []
    mapping = import_mapping() or {}
    imported = imported_names(files)
    named.sort(key=lambda n: n.split("[")[0] not in imported)  # stable: else the first
    have = {_norm(d) for d, *_ in installed_dists(tried.env_path).values()}
    listed = {_name(r) for r in tried.deps.requirements}
    for wanted in named:
        module = wanted.split("[")[0]
        if module in sys.stdlib_module_names or _own(module, files):
            continue
        distribution = mapping.get(module, module) + wanted[len(module) :]
        if "[" not in wanted and (_name(distribution) in have | listed):
            return []  # there already: its absence is not what failed
        return [
            Fix(
                f'the app needs {distribution}, which its dependencies do not install ("'
                f'{said[:100]}"): relaunching with it added',
                add=distribution,
            )
        ]
    return []
