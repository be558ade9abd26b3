"""Whether an upload's ``.gitignore`` files leave out one of its modules: a module its code
imports that the upload lacks because its author kept it out of the repository
(``config.py`` with the secrets), which no distribution installs: :func:`gitignored_module`
and :func:`ignored_in`. Read from the patterns' text (a name alone at any depth, one with a
slash from its file's folder, a trailing slash folders only), never run."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Collection, Mapping

__all__ = ["gitignored_module", "ignored_in"]


def gitignored_module(name: str, upload: Collection[str] | Mapping[str, bytes]) -> str | None:
    """What says that a ``.gitignore`` of the upload leaves out a top-level module
    ``name`` (``config.py`` beside its app, whatever its folder: "left out by
    .gitignore's 'config.py'"); None where none does, or only the names are given. Such
    a module is the app's own, never uploaded: no distribution to install."""
    ignores = {posixpath.dirname(p) for p in upload if posixpath.basename(p) == ".gitignore"}
    return ignored_in(name, upload, sorted(ignores | {""})) if ignores else None


def ignored_in(
    name: str, upload: Collection[str] | Mapping[str, bytes], folders: list[str]
) -> str | None:
    """What says that a ``.gitignore`` of the upload leaves out the module ``name`` of one
    of ``folders`` (its ``name.py`` or ``name/``): "left out by .gitignore's
    'config.py'"; None where none does, or the upload's contents are not given."""
    if not isinstance(upload, Mapping):
        return None
    for ignore in sorted(p for p in upload if posixpath.basename(p) == ".gitignore"):
        base = posixpath.dirname(ignore)
        text = upload[ignore].decode("utf-8", "replace")
        for folder in folders:
            if base and not f"{folder}/".startswith(f"{base}/"):
                continue  # a .gitignore rules the files below its own folder only
            inside = folder[len(base) :].strip("/") if base else folder
            for line in text.splitlines():
                pattern = line.strip()
                if pattern and not pattern.startswith(("#", "!")):
                    if _ignores(pattern, posixpath.join(inside, f"{name}.py"), folder=False):
                        return f"left out by {ignore}'s '{pattern}'"
                    if _ignores(pattern, posixpath.join(inside, name), folder=True):
                        return f"left out by {ignore}'s '{pattern}'"
    return None


def _ignores(pattern: str, path: str, *, folder: bool) -> bool:
    """Whether a ``.gitignore`` line ignores ``path`` (relative to its folder): a name
    alone matches at any depth, one with a slash from the folder; a trailing slash only
    folders."""
    if pattern.endswith("/"):
        if not folder:
            return False
        pattern = pattern.rstrip("/")
    pattern = pattern.removeprefix("**/")
    if "/" in pattern:
        return fnmatch.fnmatchcase(path, pattern.lstrip("/"))
    return fnmatch.fnmatchcase(posixpath.basename(path), pattern)
