"""The modules a Node app imports under another case than its files have:
:func:`case_aliases` (read with a pattern, never run).

An author on macOS or Windows, whose file system ignores case, writes ``import
UserController from './controllers/User'`` beside ``controllers/user.ts``, or
``require('../helpers/responseHandler')`` beside ``helpers/ResponseHandler.ts``, and it
runs there; here (and on any Linux host, in its Docker image too) Node and tsc find no
such module (``ERR_MODULE_NOT_FOUND``, ``TS2307``) and the app never starts. A copy of
the file under the name the import spells, written beside it before the app builds or
starts, lets the import resolve as it did for its author; the file's own relative
imports resolve as before (the copy sits in a folder of the same depth).

Read: each ``import … from``, ``export … from``, ``import(…)`` and ``require(…)`` of a
relative path in the upload's JavaScript and TypeScript sources (``node_modules`` and
files over :data:`_LARGEST` aside), resolved as Node and TypeScript resolve it (the path
as written, with each source extension, or its folder's ``index``; ``./x.js`` also as
``./x.ts``, as TypeScript's ES module imports spell their sources). One that resolves to
no file, where exactly one file of the same folder matches when case is ignored, is an
alias to write.
"""

from __future__ import annotations

import posixpath
import re

__all__ = ["case_aliases"]

_SOURCES = re.compile(r"\.(?:[cm]?[jt]s|[jt]sx)$")
_SPECIFIER = re.compile(
    rb"""(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"](\.{1,2}/[^'"\n]+)['"]"""
)
_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json")
_INDEXES = tuple(f"/index{extension}" for extension in _EXTENSIONS)
_JS_SPELLING = re.compile(r"\.([cm]?)js(x?)$")  # ./x.js naming ./x.ts (tsc's ES modules)
_LARGEST = 512 * 1024  # bytes: a bundle or a generated file, not the app's own code


def case_aliases(files: dict[str, bytes]) -> dict[str, str]:
    """``{alias: file}``: the paths (in the upload) the app's relative imports name and
    no file has, each with the one upload file it matches when case is ignored."""
    by_case: dict[str, list[str]] = {}
    folders: set[str] = set()
    for path in files:
        by_case.setdefault(path.lower(), []).append(path)
        folder = posixpath.dirname(path)
        while folder and folder not in folders:
            folders.add(folder)
            folder = posixpath.dirname(folder)
    aliases: dict[str, str] = {}
    for path, source in files.items():
        if not _SOURCES.search(path) or "node_modules/" in path or len(source) > _LARGEST:
            continue
        for found in _SPECIFIER.finditer(source):
            specifier = found.group(1).decode("utf-8", "replace").split("?")[0]
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), specifier))
            if target.startswith("../") or target in folders:
                continue
            candidates = _candidates(target)
            if any(c in files for c in candidates):
                continue
            matches = {m for c in candidates for m in by_case.get(c.lower(), ())}
            if len(matches) != 1:
                continue
            (match,) = matches
            # the name as the import spells it, with the match's extension (or index)
            alias = next(c for c in candidates if c.lower() == match.lower())
            # A folder spelled otherwise (./Utils for utils/index.js) is left alone: a copy
            # of one file there would not find its siblings that it imports.
            if alias not in files and posixpath.dirname(alias) == posixpath.dirname(match):
                aliases.setdefault(alias, match)
    return aliases


def _candidates(target: str) -> list[str]:
    """The files Node's and TypeScript's resolution try for ``target``, in order."""
    found = [target, *(target + e for e in _EXTENSIONS), *(target + i for i in _INDEXES)]
    if spelled := _JS_SPELLING.search(target):
        stem = target[: spelled.start()]
        found.append(f"{stem}.{spelled.group(1)}ts{spelled.group(2)}")
    return found
