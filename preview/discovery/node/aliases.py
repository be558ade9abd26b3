"""Where a Node app's non-relative imports lead: TypeScript's ``paths`` and ``baseUrl``
(``tsconfig.json`` / ``jsconfig.json``, with their ``extends``) and Node's subpath
``imports`` (``package.json``'s ``"#…"``), as the compiler or Node resolve them.

Generated TypeScript backends mount their routers through such aliases
(``import { userRouter } from "@/api/user/userRouter"``); without them, discovery cannot
follow ``app.use("/users", userRouter)`` to the routes the router declares.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

from preview.discovery.node.tokens import js_tokens

__all__ = ["ImportAliases"]

_CONFIGS = ("tsconfig.json", "jsconfig.json")
_MAX_EXTENDS = 4  # a chain of configs: each adds one file read
_CONDITIONS = ("node", "import", "require", "default")  # of a package's "imports"


@dataclass(frozen=True)
class _Paths:
    """One config's aliases: ``paths`` patterns (at most one ``*``) with their targets,
    and ``base`` (its ``baseUrl``, root-relative; None when it gives none)."""

    patterns: tuple[tuple[str, tuple[str, ...]], ...]
    base: str | None


class ImportAliases:
    """The aliases of the configs among an upload's ``files`` (path → bytes)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self._files = files
        self._found: dict[str, _Paths | None] = {}

    def targets(self, importer: str, spec: str) -> list[str]:
        """The root-relative paths (without a suffix, as written) ``spec`` may name when
        ``importer`` imports it, the first config's first; none for a relative ``spec``."""
        if spec.startswith(".") or not spec:
            return []
        found: list[str] = []
        directory = posixpath.dirname(importer)
        while True:
            for name in (*_CONFIGS, "package.json"):
                config = posixpath.join(directory, name) if directory else name
                paths = self._read(config)
                if paths is not None:
                    found += _matches(paths, spec)
            if not directory:
                return found
            directory = posixpath.dirname(directory)

    def _read(self, config: str, depth: int = 0) -> _Paths | None:
        if config not in self._found:
            self._found[config] = None  # an `extends` cycle ends here
            self._found[config] = self._parse(config, depth)
        return self._found[config]

    def _parse(self, config: str, depth: int) -> _Paths | None:
        data = _jsonc(self._files.get(config))
        if not isinstance(data, dict):
            return None
        home = posixpath.dirname(config)
        if config.endswith("package.json"):
            imports = data.get("imports")
            if not isinstance(imports, dict):
                return None
            patterns = [(key, (_condition(target),)) for key, target in imports.items()]
            return _Paths(_usable(patterns, home), None)
        options = data.get("compilerOptions")
        options = options if isinstance(options, dict) else {}
        inherited = None
        parent = data.get("extends")
        if isinstance(parent, str) and parent.startswith(".") and depth < _MAX_EXTENDS:
            parent = posixpath.normpath(posixpath.join(home, parent))
            inherited = self._read(
                parent if parent.endswith(".json") else parent + ".json", depth + 1
            )
        base = options.get("baseUrl")
        base = _joined(home, base) if isinstance(base, str) else None
        paths = options.get("paths")
        if not isinstance(paths, dict):
            if base is None:
                return inherited
            return _Paths(inherited.patterns if inherited else (), base)
        # paths are relative to baseUrl, or to the config that sets them (TypeScript 4.1).
        root = base if base is not None else home
        patterns = [
            (key, tuple(t for t in targets if isinstance(t, str)))
            for key, targets in paths.items()
            if isinstance(targets, list)
        ]
        return _Paths(_usable(patterns, root), base)


def _usable(patterns: list, root: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Patterns with at most one ``*``, their targets made root-relative."""
    return tuple(
        (key, tuple(_joined(root, t) for t in targets if t and t.count("*") <= 1))
        for key, targets in patterns
        if isinstance(key, str) and key.count("*") <= 1
    )


def _matches(paths: _Paths, spec: str) -> list[str]:
    """The targets ``spec`` names by ``paths``' patterns (the longest prefix first, as
    TypeScript tries them), then under its ``baseUrl``."""
    found = []
    ordered = sorted(paths.patterns, key=lambda item: -len(item[0].split("*")[0]))
    for key, targets in ordered:
        head, star, tail = key.partition("*")
        if not star:
            if spec == key:
                found += targets
            continue
        if spec.startswith(head) and spec.endswith(tail) and len(spec) >= len(head) + len(tail):
            middle = spec[len(head) : len(spec) - len(tail)]
            found += [t.replace("*", middle) for t in targets]
    if paths.base is not None:
        found.append(_joined(paths.base, spec))
    return found


def _joined(home: str, path: str) -> str:
    joined = posixpath.normpath(posixpath.join(home, path))
    return "" if joined == "." else joined


def _condition(target: object) -> str:
    """A package import's target: a path, or the first of its conditions that is one."""
    while isinstance(target, dict):
        target = next((target[c] for c in _CONDITIONS if c in target), None)
    return target if isinstance(target, str) else ""


def _jsonc(data: bytes | None) -> object:
    """JSON with comments and trailing commas (as tsconfig allows); None if not that."""
    if data is None or len(data) > 256 * 1024:
        return None
    try:
        tokens = js_tokens(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None
    parts: list[str] = []
    for index, (kind, value, _) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else None
        if kind == "punct" and value == "," and following in ("}", "]"):
            continue
        parts.append(json.dumps(value) if kind == "str" else str(value))
    try:
        return json.loads("".join(parts))
    except (ValueError, RecursionError):  # nested past the decoder's limit: not read
        return None
