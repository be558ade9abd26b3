"""A Python app's JavaScript frontend, built before the app starts: :func:`find_frontend`.

Full-stack uploads keep their pages' sources beside the backend (a Vue CLI project at
the root of a Django one, a Vite app in ``frontend/`` that FastAPI mounts with
``StaticFiles(directory="frontend/dist")``) and commit no build output: Heroku builds it
with its Node.js buildpack before the Python one, Render and Railway with a build
command. Without it Django answers ``TemplateDoesNotExist: index.html`` at ``/`` and
Starlette's ``StaticFiles`` refuses to start. So a Python app's upload holding a
``package.json`` (at the root, or one or two folders down) whose ``build`` script runs a
bundler, whose output folder the upload lacks, and which the Python code names (the
output's folder as a quoted path part: ``"dist"``, ``'../client/build'``) or its
``app.json`` builds with ``heroku/nodejs``, has that build run first
(``builds.preparation``): its packages installed as a Node app's are, then ``npm run
build`` in its folder, confined as a set-up step. Nothing here runs anything.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass

__all__ = ["Frontend", "find_frontend"]

# A bundler the build script's project depends on, and the folder it writes by default.
_BUNDLERS = (
    ("react-scripts", "build"),
    ("@vue/cli-service", "dist"),
    ("vite", "dist"),
    ("@angular/cli", "dist"),
    ("parcel", "dist"),
    ("parcel-bundler", "dist"),
    ("@rsbuild/core", "dist"),
    ("webpack", "dist"),
    ("webpack-cli", "dist"),
    ("rollup", "dist"),
)
# Where a project's configuration moves that folder, as a plain string: Vue CLI's
# outputDir, Vite's build.outDir (the other bundlers' settings are not read).
_VITE_OUT_DIR = re.compile(r"""\boutDir\s*:\s*['"]([^'"\n]+)['"]""")
_OUT_SETTINGS = {
    "vue.config.js": re.compile(r"""\boutputDir\s*:\s*['"]([^'"\n]+)['"]"""),
    **dict.fromkeys(("vite.config.js", "vite.config.ts", "vite.config.mjs"), _VITE_OUT_DIR),
}
_DEPTH = 2  # folders below the root a frontend's package.json may be in
_NODEJS_BUILDPACK = re.compile(rb"heroku/nodejs|heroku-buildpack-nodejs")


@dataclass(frozen=True)
class Frontend:
    """A frontend to build: its folder in the upload (``""``: the root), the bundler its
    build script runs and the folder the build writes (relative to the upload's root)."""

    folder: str
    bundler: str
    output: str


def find_frontend(files: dict[str, bytes]) -> Frontend | None:
    """The frontend a Python app in ``files`` needs built (see the module doc), or None."""
    packages = [
        path
        for path in files
        if posixpath.basename(path) == "package.json"
        and path.count("/") <= _DEPTH
        and "node_modules" not in path
    ]
    if not packages:  # most Python uploads: nothing more is read
        return None
    python = [source for path, source in files.items() if path.endswith(".py")]
    heroku = _NODEJS_BUILDPACK.search(files.get("app.json", b"")) is not None
    for path in sorted(packages, key=lambda p: (p.count("/"), p)):  # the shallowest first
        found = _frontend(files, posixpath.dirname(path))
        if found is None or _built(files, found.output):
            continue
        if heroku or _named(python, found.output):
            return found
    return None


def _frontend(files: dict[str, bytes], folder: str) -> Frontend | None:
    try:
        package = json.loads(files[posixpath.join(folder, "package.json")])
    except (ValueError, RecursionError):
        return None
    if not isinstance(package, dict):
        return None
    scripts = package.get("scripts")
    if not isinstance(scripts, dict) or not isinstance(scripts.get("build"), str):
        return None
    depends: set[str] = set()
    for table in ("dependencies", "devDependencies"):
        if isinstance(package.get(table), dict):
            depends.update(package[table])
    bundler = next(((b, out) for b, out in _BUNDLERS if b in depends), None)
    if bundler is None:
        return None
    output = _configured_output(files, folder) or bundler[1]
    output = posixpath.normpath(posixpath.join(folder, output))
    if output.startswith(("..", "/")) or output == ".":
        return None  # written outside the upload, or over it: not ours to run
    return Frontend(folder, bundler[0], output)


def _configured_output(files: dict[str, bytes], folder: str) -> str | None:
    for name, pattern in _OUT_SETTINGS.items():
        config = files.get(posixpath.join(folder, name))
        if config is not None:
            found = pattern.search(config.decode("utf-8", "replace"))
            if found is not None:
                return found.group(1).strip().removeprefix("./") or None
    return None


def _built(files: dict[str, bytes], output: str) -> bool:
    prefix = output + "/"
    return any(path.startswith(prefix) for path in files)


def _named(python: list[bytes], output: str) -> bool:
    """Whether a Python source names ``output``'s folder as a quoted path's part."""
    name = re.escape(posixpath.basename(output).encode())
    pattern = re.compile(rb"""['"/\\]""" + name + rb"""['"/\\]""")
    return any(pattern.search(source) for source in python)
