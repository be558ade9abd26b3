"""Where in an upload its Node app is: :func:`with_app_at_root`.

A repository often keeps its only backend one folder down (``backend/package.json``,
``server/``, ``api/``), its root holding a README and a ``.gitignore``: topherism's
Hono-Auth-RBAC-Template is ``README.md`` beside ``backend/`` (its package.json, its
Prisma schema, its ``src/``), whose README says ``npm install``, ``npm run dev`` there.
Nothing at the root says how to run it, and a launch was refused ``nothing_to_run``.

Such an upload is run from that folder, as its README's commands are: the folder's files
become the app's, at its root; the root's own files (a README, a compose file) stay
beside them where the folder has none of the same name. It applies only where the root
has no package.json and no Python project (no ``.py`` file, no Python dependency file
anywhere: a Python app is found wherever it sits), and exactly one top-level folder has a
package.json of its own (two, a ``frontend/`` and a ``backend/``, say nothing of which
is the app).

An npm workspaces monorepo (the root's package.json lists ``workspaces``, ``apps/*``,
and starts nothing itself: no start, dev or serve script, no Procfile, no entry) is run
so from its backend workspace (:func:`backend_workspace`): thiskevinwang's
express-kysely-zod keeps its API in apps/api (``"start": "node --loader ts-node/esm
./server.ts"``), its root only ``plop``, ``gen:db`` and ``test`` scripts, and a launch
was refused ``nothing_to_run``. The root's lockfile, which locks every workspace
together, is left out: the workspace's dependencies are installed from its own ranges.
A workspace depending on another is not run so (its install would need the root's).
"""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatchcase

from .node.nodeapp import node_start, package_scripts, read_package

__all__ = ["app_folder", "backend_workspace", "with_app_at_root"]

_PYTHON_FILES = ("requirements.txt", "pyproject.toml", "Pipfile", "setup.py", "manage.py")


def app_folder(files: dict[str, bytes]) -> str | None:
    """The one top-level folder holding the upload's Node app where its root holds none
    (the module doc); None otherwise."""
    if _python(files):
        return None
    if "package.json" in files:
        return backend_workspace(files)
    folders: set[str] = set()
    for path in files:
        if "node_modules/" in path:
            continue
        parts = path.split("/")
        if len(parts) == 2 and parts[1] == "package.json" and not parts[0].startswith("."):
            folders.add(parts[0])
    return folders.pop() if len(folders) == 1 else None


def _python(files: dict[str, bytes]) -> bool:
    return any(
        "node_modules/" not in path
        and (path.endswith(".py") or posixpath.basename(path) in _PYTHON_FILES)
        for path in files
    )


_STARTS = ("start", "dev", "serve")
# What a backend depends on to serve: its web framework (a front end's toolchain has none).
_SERVERS = {
    "express",
    "fastify",
    "koa",
    "hono",
    "@hapi/hapi",
    "@nestjs/core",
    "restify",
    "polka",
    "@apollo/server",
    "apollo-server",
    "apollo-server-express",
    "elysia",
}
# ``npm run dev -w apps/api``, ``--workspace=api``, ``--workspace api``
_NAMED = re.compile(r"(?:^|\s)(?:-w|--workspace)(?:=|\s+)[\"']?([^\s\"';&|]+)")


def backend_workspace(files: dict[str, bytes]) -> str | None:
    """The folder of the workspace an npm workspaces monorepo's backend is (the module
    doc), where its root starts nothing itself: among its workspaces (the root's
    ``workspaces`` patterns, matched by folders holding a package.json) those with a
    start, dev or serve script, the one its root scripts or README name by ``-w`` /
    ``--workspace`` (its folder or its package's name), else the one listing a web
    framework. None where there is not exactly one, or where it depends on another of
    the workspaces (it cannot be installed alone)."""
    root = read_package(files) or {}
    patterns = root.get("workspaces")
    if isinstance(patterns, dict):  # (yarn's form: {"packages": [...], "nohoist": [...]})
        patterns = patterns.get("packages")
    if not isinstance(patterns, list) or any(package_scripts(root).get(name) for name in _STARTS):
        return None
    if "Procfile" in files or node_start(files) is not None:  # (a root entry: server.js)
        return None
    folders = {
        posixpath.dirname(path): read_package(files, path) or {}
        for path in files
        if path.endswith("/package.json") and "node_modules/" not in path
    }
    workspaces = {
        folder: package
        for folder, package in folders.items()
        if any(isinstance(p, str) and fnmatchcase(folder, p.strip("./")) for p in patterns)
    }
    starting = {
        f: p for f, p in workspaces.items() if any(package_scripts(p).get(n) for n in _STARTS)
    }
    said = " ".join([*package_scripts(root).values(), *_readmes(files)])
    names = {m.strip("./") for m in _NAMED.findall(said)}
    named = [f for f, p in starting.items() if f in names or p.get("name") in names]
    serving = [f for f, p in starting.items() if _SERVERS & _listed(p).keys()]
    chosen = named if len(named) == 1 else serving
    if len(chosen) != 1:
        return None
    siblings = {p.get("name") for f, p in workspaces.items() if f != chosen[0]}
    return None if siblings & _listed(workspaces[chosen[0]]).keys() else chosen[0]


def _readmes(files: dict[str, bytes]) -> list[str]:
    return [
        data[:65536].decode("utf-8", "replace")
        for path, data in files.items()
        if "/" not in path and path.lower().startswith("readme")
    ]


def _listed(package: dict) -> dict[str, object]:
    found: dict[str, object] = {}
    for key in ("dependencies", "devDependencies"):
        table = package.get(key)
        if isinstance(table, dict):
            found.update(table)
    return found


# The root's files of a workspaces monorepo that are its own alone: its lockfiles lock
# every workspace together, which the workspace's install alone does not match.
_ROOT_ONLY = {"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"}


def with_app_at_root(files: dict[str, bytes]) -> tuple[dict[str, bytes], str | None]:
    """``files`` with the folder of :func:`app_folder` as their root (the root's own files
    kept where the folder has none of their name), and that folder; ``files`` itself and
    None where there is no such folder."""
    folder = app_folder(files)
    if folder is None:
        return files, None
    prefix = f"{folder}/"
    moved = {
        path.removeprefix(prefix): data for path, data in files.items() if path.startswith(prefix)
    }
    root_only = _ROOT_ONLY if "package.json" in files else set()  # (a workspace's root)
    kept = {
        path: data
        for path, data in files.items()
        if "/" not in path and path not in moved and path not in root_only
    }
    return {**kept, **moved}, folder
