"""The locales a Python app sets that this machine lacks: :func:`missing_locales` (read
with :mod:`ast`, never run), and :func:`build_locales`, which compiles them for it alone.

An app calling ``locale.setlocale(locale.LC_TIME, settings.TIME_LOCALE)`` with
``TIME_LOCALE=ru_RU.utf8`` from its example env file runs where its Dockerfile installs
the locales (``apt-get install locales-all``); here, where only C's are installed, it
died on "locale.Error: unsupported locale setting" at import (steqa's fastapi-jwt-auth).
Read: each ``setlocale`` call's locale, a string constant or the variable it comes from
(``os.getenv("X")``, ``os.environ["X"]``, a settings attribute ``settings.X``, a name
``X``), whose value is the app's environment's. A locale glibc has the sources of is
compiled by ``localedef`` into a folder of the app's own, which ``LOCPATH`` names.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from ...discovery.pyast import last_name
from ..pyapp import parse_module, python_files

__all__ = ["build_locales", "missing_locales"]

# language_TERRITORY[.codeset][@modifier]: ru_RU.utf8, de_DE.UTF-8, sr_RS@latin.
_LOCALE = re.compile(r"^([a-z]{2,3}_[A-Z]{2})(?:\.([\w-]+))?(@\w+)?$")
_SOURCES = Path("/usr/share/i18n/locales")
_LOCALEDEF_TIME = 60  # seconds for one locale (a few on an idle machine)


def missing_locales(files: dict[str, bytes], env: dict[str, str]) -> list[str]:
    """The locales (by their glibc names, ``ru_RU.utf8``) the app's ``setlocale`` calls
    ask for that the machine has not installed but can compile; ``env``: the app's."""
    wanted: list[str] = []
    for path in python_files(files):
        if b"setlocale" not in files[path] or (tree := parse_module(files[path])) is None:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and (last_name(node.func) or "") == "setlocale"
                and len(node.args) >= 2
                and (value := _value(node.args[1], env)) is not None
                and (name := _glibc_name(value)) is not None
                and name not in wanted
            ):
                wanted.append(name)
    if not wanted:
        return []
    installed = _installed()
    return [
        name
        for name in wanted
        if name.lower() not in installed and (_SOURCES / _source_name(name)).is_file()
    ]


def build_locales(names: list[str], folder: Path) -> bool:
    """``names`` compiled into ``folder`` (blocking), those there already kept; whether
    every one is there."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (folder / name).is_dir():
            continue
        charset = "UTF-8" if "." not in name or name.split(".")[1].startswith("utf") else None
        charset = charset or name.split(".")[1].split("@")[0].upper()
        try:
            subprocess.run(
                ["localedef", "-i", _source_name(name), "-f", charset, str(folder / name)],
                capture_output=True,
                timeout=_LOCALEDEF_TIME,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        if not (folder / name).is_dir():
            return False
    return True


def _value(node: ast.expr, env: dict[str, str]) -> str | None:
    """The locale ``node`` gives: a constant, else its variable's value in ``env``."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Tuple) and node.elts:  # setlocale(LC_ALL, ("ru_RU", "UTF-8"))
        parts = [_value(e, env) for e in node.elts]
        return ".".join(p for p in parts if p) if all(parts) else None
    if isinstance(node, ast.Attribute):
        return env.get(node.attr)
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return env.get(str(node.slice.value))  # os.environ["X"]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        return env.get(str(node.args[0].value))  # os.getenv("X"), os.environ.get("X")
    return None


def _glibc_name(value: str) -> str | None:
    """``value`` as glibc names the compiled locale (its codeset lowered, without
    punctuation: ``UTF-8`` is ``utf8``); None where it is no locale's name."""
    found = _LOCALE.match(value.strip())
    if found is None:
        return None
    base, codeset, modifier = found.groups()
    codeset = f".{re.sub(r'[^a-z0-9]', '', codeset.lower())}" if codeset else ""
    return f"{base}{codeset}{modifier or ''}"


def _source_name(name: str) -> str:
    """Its source's name (``ru_RU``, ``sr_RS@latin``)."""
    found = _LOCALE.match(name)
    return f"{found.group(1)}{found.group(3) or ''}" if found else name


def _installed() -> set[str]:
    try:
        listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return set()
    return {line.strip().lower() for line in listed.stdout.splitlines()}
