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
"""

from __future__ import annotations

import posixpath

__all__ = ["app_folder", "with_app_at_root"]

_PYTHON_FILES = ("requirements.txt", "pyproject.toml", "Pipfile", "setup.py", "manage.py")


def app_folder(files: dict[str, bytes]) -> str | None:
    """The one top-level folder holding the upload's Node app where its root holds none
    (the module doc); None otherwise."""
    if "package.json" in files:
        return None
    folders: set[str] = set()
    for path in files:
        if "node_modules/" in path:
            continue
        name = posixpath.basename(path)
        if name.endswith(".py") or name in _PYTHON_FILES:
            return None
        parts = path.split("/")
        if len(parts) == 2 and parts[1] == "package.json" and not parts[0].startswith("."):
            folders.add(parts[0])
    return folders.pop() if len(folders) == 1 else None


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
    kept = {path: data for path, data in files.items() if "/" not in path and path not in moved}
    return {**kept, **moved}, folder
