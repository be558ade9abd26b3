"""What a Python upload with no dependency file needs, read from its imports:
:func:`inferred_requirements`.

Every module of the upload is parsed (``ast``, never run); the top-level names it
imports absolutely, less the standard library (``sys.stdlib_module_names``) and the
upload's own modules and packages, are turned into distributions by pipreqs' maintained
import-name → distribution mapping (``yaml`` → ``PyYAML``, ``jwt`` → ``PyJWT``,
``dotenv`` → ``python-dotenv``), read as data from the installed ``pipreqs`` (the
``infer`` extra; nothing of it is imported); a name it does not list is its own
distribution, as pipreqs has it. Without pipreqs nothing is inferred.
"""

from __future__ import annotations

import ast
import posixpath
import sys
from functools import cache
from importlib import resources

from .pyapp import parse_module, python_files

__all__ = ["import_mapping", "imported_names", "inferred_requirements"]


@cache
def import_mapping() -> dict[str, str] | None:
    """pipreqs' import name → distribution table; None when pipreqs is not installed."""
    try:
        text = resources.files("pipreqs").joinpath("mapping").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None
    table = {}
    for line in text.splitlines():
        name, sep, distribution = line.strip().partition(":")
        if sep and name and distribution:
            table[name] = distribution
    return table


def imported_names(files: dict[str, bytes]) -> set[str]:
    """Top-level names the upload imports that are neither the standard library's nor
    its own modules'."""
    own = _own_names(files)
    found: set[str] = set()
    for path in python_files(files):
        tree = parse_module(files[path])
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    stdlib = set(sys.stdlib_module_names)
    return {name for name in found if name not in stdlib and name not in own and name}


def inferred_requirements(files: dict[str, bytes]) -> tuple[list[str], str] | None:
    """(distributions, how they were found) for the upload's imports; None when nothing
    can be inferred (no mapping here, or no import outside its own modules)."""
    mapping = import_mapping()
    names = imported_names(files)
    if mapping is None or not names:
        return None
    listed = sorted({mapping.get(name, name) for name in names}, key=str.lower)
    said = ", ".join(
        f"{name} → {mapping[name]}" if name in mapping else name for name in sorted(names)
    )
    return listed, said


def _own_names(files: dict[str, bytes]) -> set[str]:
    """Every module or package name the upload could import from itself, whatever its
    sys.path: each directory's and each module's name, at any depth."""
    own = set()
    for path in files:
        parts = path.split("/")
        own.update(parts[:-1])
        if path.endswith(".py"):
            own.add(posixpath.basename(path)[:-3])
    return own
