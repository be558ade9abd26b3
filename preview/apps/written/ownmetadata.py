"""The metadata of a project that asks for its own installed distribution:
:func:`own_metadata` (read with :mod:`ast`, never run).

A setuptools or PEP 621 project is installed as well as its dependencies where its author
works (``pip install -e .``): its code may then read its own version from the installed
metadata (``importlib.metadata.version("myapi")``, ``pkg_resources.get_distribution``).
The build installs its dependencies, never the project itself (its upload is its code),
so the call raised ``PackageNotFoundError`` (zobayer1's flask-restful-boilerplate: its
status route answered 500, its OpenAPI document was never made). What ``pip install -e .``
leaves for that, a ``<name>-<version>.dist-info`` with its ``METADATA``, is written beside
its packages, which the app imports from its directory: ``importlib.metadata`` finds it
on the same path. So does an ``entry_points.txt`` of what the project declares
(``entry_points={"flask.commands": ["myapi = myapi.manage:cli"]}``): Flask's CLI adds the
``flask.commands`` of installed distributions as command groups, and cj-lin's
coding-exercise-flask runs its ``flask myapi init`` by one (:func:`declared_entry_points`).
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator

from ..pyapp import parse_module, python_files

__all__ = ["FLASK_COMMANDS", "declared_entry_points", "own_metadata"]

FLASK_COMMANDS = "flask.commands"  # the entry points Flask's CLI adds as commands

# A reader of an installed distribution's metadata (importlib.metadata's and its
# backport's, pkg_resources').
_READS = re.compile(
    rb"\b(?:importlib\.metadata|importlib_metadata|get_distribution|pkg_resources\.require)\b"
    rb"|\bfrom\s+importlib\s+import\s[^\n]*\bmetadata\b"
)
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


def own_metadata(files: dict[str, bytes]) -> dict[str, bytes]:
    """``{path: content}`` of the ``METADATA`` to write for the project at the upload's
    root (module doc); {} where it has no name, or its code reads no installed metadata,
    or the upload has that metadata already."""
    name, version = _project(files)
    if name is None:
        return {}
    commands = declared_entry_points(files).get(FLASK_COMMANDS, {})
    if not commands and not any(_READS.search(files[p]) for p in python_files(files)):
        return {}
    folder = f"{re.sub(r'[-_.]+', '_', name)}-{version}.dist-info"
    if any(p.startswith(folder + "/") for p in files):
        return {}
    text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    written = {f"{folder}/METADATA": text.encode()}
    if commands:
        lines = "".join(f"{key} = {target}\n" for key, target in commands.items())
        written[f"{folder}/entry_points.txt"] = f"[{FLASK_COMMANDS}]\n{lines}".encode()
    return written


def declared_entry_points(files: dict[str, bytes]) -> dict[str, dict[str, str]]:
    """``{group: {name: "module:attribute"}}`` the project at the upload's root declares:
    its ``pyproject.toml``'s ``[project.entry-points.<group>]``, else its ``setup.py``'s
    ``setup(entry_points={group: ["name = module:attribute", …]})`` (read, never run)."""
    project = _pyproject(files).get("project")
    table = project.get("entry-points") if isinstance(project, dict) else None
    if isinstance(table, dict):
        return {
            str(group): {str(k): str(v) for k, v in points.items() if isinstance(v, str)}
            for group, points in table.items()
            if isinstance(points, dict)
        }
    given = next(_setup_calls(files), {}).get("entry_points")
    if not isinstance(given, ast.Dict):
        return {}
    found: dict[str, dict[str, str]] = {}
    for group, points in zip(given.keys, given.values, strict=True):
        if not (isinstance(group, ast.Constant) and isinstance(group.value, str)):
            continue
        lines = points.elts if isinstance(points, ast.List | ast.Tuple) else [points]
        for line in lines:
            if isinstance(line, ast.Constant) and isinstance(line.value, str):
                key, equals, target = line.value.partition("=")
                if equals and key.strip() and target.strip():
                    found.setdefault(group.value, {})[key.strip()] = target.strip()
    return found


def _project(files: dict[str, bytes]) -> tuple[str | None, str]:
    """(its name, its version: "0.0.0" where it is not written down, as setuptools-scm's
    is not) of the root's ``pyproject.toml`` ``[project]``, else its ``setup.py``'s
    ``setup(name=…)``."""
    pyproject = _pyproject(files)
    tool = pyproject.get("tool")
    # PEP 621's table, else Poetry's own (``[tool.poetry] name = "exercise"``, which
    # ``poetry install`` installs as well: tianananta's exercise-fastapi reads
    # ``metadata.version("exercise")`` for its OpenAPI title's version)
    for project in (
        pyproject.get("project"),
        tool.get("poetry") if isinstance(tool, dict) else None,
    ):
        if isinstance(project, dict) and isinstance(project.get("name"), str):
            version = project.get("version")
            return _named(project["name"]), version if isinstance(version, str) else "0.0.0"
    for given in _setup_calls(files):
        name, version = given.get("name"), given.get("version")
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            written = version.value if isinstance(version, ast.Constant) else None
            return _named(name.value), written if isinstance(written, str) else "0.0.0"
    return None, "0.0.0"


def _pyproject(files: dict[str, bytes]) -> dict:
    """The root's ``pyproject.toml`` read ({} where it is none, or unreadable)."""
    try:
        return tomllib.loads(files.get("pyproject.toml", b"").decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _setup_calls(files: dict[str, bytes]) -> Iterator[dict[str | None, ast.expr]]:
    """The keywords of each ``setup(…)`` call of the root's ``setup.py``, in its order."""
    tree = parse_module(files["setup.py"]) if "setup.py" in files else None
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup":
            yield {k.arg: k.value for k in node.keywords}


def _named(name: str) -> str | None:
    return name if _NAME.match(name) else None
