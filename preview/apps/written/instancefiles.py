"""The settings files a Flask app loads with ``from_pyfile`` that its upload lacks:
:func:`instance_files` (read with :mod:`ast`, never run).

Flask's ``app.config.from_pyfile("config.py")`` raises when the file is missing (unless
``silent=True``), and an app made with ``instance_relative_config=True`` reads it from its
instance folder (``instance/`` beside its module or package), which its authors keep out
of the repository, secrets and all: huudy's flask-rest-api ``.gitignore``s ``instance/``,
loads its defaults with ``from_object("config")`` first, then ``from_pyfile("config.py")``;
every import of it failed, and uWSGI said only "no python application found". Such a file
holds overrides of what the app loads otherwise: written empty, it overrides nothing.
Only a name the call spells out (a string constant), of a ``.py``/``.cfg`` file.
"""

from __future__ import annotations

import ast
import posixpath

from ...discovery.pyast import last_name
from ..pyapp import parse_module, python_files

__all__ = ["instance_files"]

_SETTINGS_SUFFIXES = (".py", ".cfg")


def instance_files(files: dict[str, bytes]) -> list[str]:
    """The upload's paths of the files its Flask apps' ``config.from_pyfile`` reads and
    it lacks (the module doc), in the order met."""
    found: list[str] = []
    for path in python_files(files):
        data = files[path]
        tree = parse_module(data) if b"from_pyfile" in data and b"Flask" in data else None
        if tree is None:
            continue
        instance = _instance_relative(tree)
        for name in _loaded_names(tree):
            if instance is None:
                continue
            folder = _instance_folder(path, files) if instance else posixpath.dirname(path)
            target = posixpath.normpath(posixpath.join(folder, name))
            if not target.startswith("..") and target not in files and target not in found:
                found.append(target)
    return found


def _instance_relative(tree: ast.Module) -> bool | None:
    """Whether the module's ``Flask(…)`` reads settings from its instance folder (True) or
    its own (False); None where the module makes no Flask app."""
    made = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and last_name(node.func) == "Flask":
            relative = next(
                (k.value for k in node.keywords if k.arg == "instance_relative_config"), None
            )
            made = bool(made) or (isinstance(relative, ast.Constant) and relative.value is True)
    return made


def _loaded_names(tree: ast.Module) -> list[str]:
    """The file names ``….config.from_pyfile("name")`` loads, not silently."""
    names = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and last_name(node.func) == "from_pyfile"):
            continue
        silent = next((k.value for k in node.keywords if k.arg == "silent"), None)
        if len(node.args) > 1 or (isinstance(silent, ast.Constant) and silent.value):
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            name = first.value
            if name.endswith(_SETTINGS_SUFFIXES) and not posixpath.isabs(name):
                names.append(name)
    return names


def _instance_folder(module: str, files: dict[str, bytes]) -> str:
    """Flask's default instance folder of an app made in ``module``: ``instance`` beside
    the module, or beside its package (the folder holding an ``__init__.py``)."""
    folder = posixpath.dirname(module)
    if posixpath.join(folder, "__init__.py") in files:
        folder = posixpath.dirname(folder)
    return posixpath.join(folder, "instance")
