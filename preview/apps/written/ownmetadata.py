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
on the same path.
"""

from __future__ import annotations

import ast
import re
import tomllib

from ..pyapp import parse_module, python_files

__all__ = ["own_metadata"]

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
    if name is None or not any(_READS.search(files[p]) for p in python_files(files)):
        return {}
    folder = f"{re.sub(r'[-_.]+', '_', name)}-{version}.dist-info"
    if any(p.startswith(folder + "/") for p in files):
        return {}
    text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    return {f"{folder}/METADATA": text.encode()}


def _project(files: dict[str, bytes]) -> tuple[str | None, str]:
    """(its name, its version: "0.0.0" where it is not written down, as setuptools-scm's
    is not) of the root's ``pyproject.toml`` ``[project]``, else its ``setup.py``'s
    ``setup(name=…)``."""
    try:
        pyproject = tomllib.loads(files.get("pyproject.toml", b"").decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        pyproject = {}
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
    tree = parse_module(files["setup.py"]) if "setup.py" in files else None
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup":
            given = {k.arg: k.value for k in node.keywords}
            name, version = given.get("name"), given.get("version")
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                written = version.value if isinstance(version, ast.Constant) else None
                return _named(name.value), written if isinstance(written, str) else "0.0.0"
    return None, "0.0.0"


def _named(name: str) -> str | None:
    return name if _NAME.match(name) else None
