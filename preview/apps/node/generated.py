"""Sources a Node app's own scripts generate and its code imports: :func:`generating_scripts`.

Some apps commit the input of a generator, not its output: hi-ogawa's typescript-express-example
imports ``./routes`` from ``src/app.ts``, and ``src/routes.ts`` is written by ``"routes":
"ts-node -T src/scripts/make-routes src/routes src/routes.ts"`` (its README: run it before
the build). A script whose command names a source file the upload lacks, which the upload's
own code imports, runs as a set-up step before the build (or the start), so that ``tsc`` or
the runner finds it.
"""

from __future__ import annotations

import posixpath
import re
import shlex

__all__ = ["generating_scripts"]

_SOURCES = (".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs")
_IMPORT = re.compile(
    rb"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](\.{1,2}/[^"'\n]+)["']"""
)
# Scripts that are not generators whatever they name: the app's own lifecycle.
_NOT_GENERATORS = re.compile(r"^(?:pre|post)?(?:build|start|dev|serve|test|lint|watch|clean)")
_MAX_SCANNED = 512 * 1024


def generating_scripts(files: dict[str, bytes], scripts: dict[str, str]) -> tuple[str, ...]:
    """The names of the scripts that write a source file the upload lacks and imports
    (see the module doc), in ``package.json``'s order."""
    wanted = {}
    for name, command in scripts.items():
        if _NOT_GENERATORS.match(name) or "watch" in command:
            continue
        for made in _named_sources(command):
            if made not in files:
                wanted.setdefault(posixpath.splitext(made)[0], name)
    if not wanted:
        return ()
    found = set()
    for path, text in files.items():
        if not path.endswith(_SOURCES) or "node_modules/" in path or len(text) > _MAX_SCANNED:
            continue
        for spec in _IMPORT.findall(text):
            target = posixpath.normpath(
                posixpath.join(posixpath.dirname(path), spec.decode("utf-8", "replace"))
            )
            stem = posixpath.splitext(target)[0] if target.endswith(_SOURCES) else target
            if stem in wanted:
                found.add(wanted[stem])
    return tuple(name for name in scripts if name in found)


def _named_sources(command: str) -> list[str]:
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    return [
        posixpath.normpath(word.removeprefix("./"))
        for word in words
        if word.endswith(_SOURCES) and not word.startswith(("-", "/", ".."))
    ]
