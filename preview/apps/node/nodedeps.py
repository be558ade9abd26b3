"""A Node app's dependency set: its package.json and lockfile (:class:`NodeDeps`), with
the versions a ``pnpm-lock.yaml`` locked written into its package.json (npm reads no
pnpm lockfile)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

__all__ = ["NodeDeps", "node_dependencies"]


@dataclass(frozen=True)
class NodeDeps:
    package_json: bytes
    lockfile: tuple[str, bytes] | None  # (name, content): package-lock.json or npm-shrinkwrap
    tools: tuple[str, ...] = ()  # packages added beside the app's own (tsx for a .ts entry)
    prisma: tuple[str, bytes] | None = None  # (path, content): the client generated from it
    note: str | None = None  # how package.json was changed (pnpm's locked versions), said
    # The app's own ranges of the dependencies pinned to pnpm's locked versions: a
    # version the registry does not have (unpublished, or a mirror's gap) falls back to it.
    ranges: tuple[tuple[str, str], ...] = ()

    def key(self) -> str:
        digest = hashlib.sha256(self.package_json)
        if self.lockfile is not None:
            digest.update(self.lockfile[0].encode() + b"\0" + self.lockfile[1])
        if self.tools:
            digest.update(b"\0tools\0" + "\0".join(self.tools).encode())
        if self.prisma is not None:
            digest.update(b"\0prisma\0" + self.prisma[0].encode() + b"\0" + self.prisma[1])
        return "node-" + digest.hexdigest()[:24]


def node_dependencies(
    files: dict[str, bytes], tools: tuple[str, ...] = (), prisma: str | None = None
) -> NodeDeps | None:
    """The app's package.json and lockfile; ``tools``: packages the build adds;
    ``prisma``: the Prisma schema whose client the build generates."""
    if "package.json" not in files:
        return None
    schema = (prisma, files[prisma]) if prisma is not None and prisma in files else None
    for name in ("npm-shrinkwrap.json", "package-lock.json"):
        if name in files:
            return NodeDeps(files["package.json"], (name, files[name]), tools, schema)
    pinned = _pnpm_pinned(files)
    if pinned is not None:
        return NodeDeps(pinned[0], None, tools, schema, pinned[1], pinned[2])
    return NodeDeps(files["package.json"], None, tools, schema)


def _pnpm_pinned(
    files: dict[str, bytes],
) -> tuple[bytes, str, tuple[tuple[str, str], ...]] | None:
    """package.json with its direct dependencies at the versions its ``pnpm-lock.yaml``
    locked (npm reads no pnpm lockfile: it would install the newest each range allows,
    which a project resolved months ago may not build or run with), the note saying
    so and the ranges replaced; None without such a lockfile or with nothing to pin."""
    if "pnpm-lock.yaml" not in files:
        return None
    import yaml  # lazy: an idle service imports none of it (only such an upload needs it)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        package = json.loads(files["package.json"])
        lock = yaml.load(files["pnpm-lock.yaml"], Loader=loader)
    except (ValueError, RecursionError, yaml.YAMLError):
        return None
    if not isinstance(package, dict) or not isinstance(lock, dict):
        return None
    importers = lock.get("importers")
    root = importers.get(".") if isinstance(importers, dict) else lock  # v5: at the top
    locked: dict[str, str] = {}
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        table = root.get(key) if isinstance(root, dict) else None
        for name, entry in (table or {}).items() if isinstance(table, dict) else ():
            version = entry.get("version") if isinstance(entry, dict) else entry
            version = str(version).split("(", 1)[0].strip() if version is not None else ""
            if re.fullmatch(r"\d+\.\d+\.\d+[\w.+-]*", version):  # not link:, file:, git
                locked[name] = version
    ranges: list[tuple[str, str]] = []
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        table = package.get(key)
        if isinstance(table, dict):
            for name in table:
                if name in locked and table[name] != locked[name]:
                    ranges.append((name, str(table[name])))
                    table[name] = locked[name]
    if not ranges:
        return None
    note = f"pnpm-lock.yaml: {len(ranges)} dependencies at its locked versions (npm reads none)"
    return json.dumps(package, indent=2).encode(), note, tuple(ranges)
