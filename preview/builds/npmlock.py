"""What npm is given of an app's lockfile, so that installing it does not stall:
:func:`prepare_npm_project`.

* **Another registry's addresses.** A lockfile made against a private mirror (Verdaccio,
  Nexus, a company's registry) names its tarballs there (``https://npm.example.com/
  express/-/express-4.17.1.tgz``); builds reach only the public registry, so npm retried
  each refused download with back-off, for minutes. Such addresses are rewritten to the
  registry's own (``https://registry.npmjs.org/express/-/express-4.17.1.tgz``): the same
  files, which npm checks against the lockfile's ``integrity``.
* **An old npm's lockfile** (``lockfileVersion`` 1) lacks what npm 7+ needs of each
  package, which npm fetches from the registry first ("old lockfile … one-time fix-up"),
  one package at a time on a two-core machine (its queue's width is the CPU count less
  one): a thousand round trips. npm is started with a preload that widens that queue
  (:data:`PRELOAD`, only in npm's own process, not in the packages' install scripts).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

from ..apps.depspec import NodeDeps
from ..generations import loads_bounded
from ..sandbox.appdir import read_no_follow, replace_file
from .envcache import write_node_project

__all__ = [
    "PRELOAD",
    "REGISTRY",
    "NpmProject",
    "prepare_npm_project",
    "registry_addresses",
    "restore_range",
]

REGISTRY = "https://registry.npmjs.org/"
_REGISTRY_HOST = urlparse(REGISTRY).hostname
PRELOAD_NAME = ".npm-wide-queue.cjs"
_WIDTH = 8  # npm's queues (an old lockfile's metadata, its scripts) at most this wide
# Run by node before npm's own code: promise-call-limit reads the CPU count once, when
# npm loads it. Only npm's command line (not the install scripts it starts, which
# inherit NODE_OPTIONS) sees a wider machine.
PRELOAD = f"""\
if (/[\\\\/]npm(-cli)?(\\.js)?$/.test(process.argv[1] || "")) {{
  const os = require("node:os");
  const real = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  os.availableParallelism = () => Math.max(real, {_WIDTH} + 1);
}}
"""


class NpmProject:
    """What :func:`prepare_npm_project` did: notes for the log, variables for npm."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.env: dict[str, str] = {}


def prepare_npm_project(path: Path, deps: NodeDeps) -> NpmProject:
    """Write the app's package.json and lockfile into ``path`` (see the module doc)."""
    write_node_project(path, deps)
    done = NpmProject()
    if deps.lockfile is None:
        return done
    name, content = deps.lockfile
    try:
        lock = loads_bounded(content)
    except ValueError:
        return done  # npm says what is wrong with it
    if not isinstance(lock, dict):
        return done
    moved = registry_addresses(lock)
    if moved:
        (path / name).write_text(json.dumps(lock, indent=2) + "\n")
        hosts = ", ".join(sorted(moved))
        count = sum(moved.values())
        done.notes.append(
            f"{name} names another registry ({hosts}) for {count} package"
            f"{'s' if count != 1 else ''}: fetched from {_REGISTRY_HOST} instead "
            "(the same files, checked by their integrity)"
        )
    if lock.get("lockfileVersion", 1) == 1:
        (path / PRELOAD_NAME).write_text(PRELOAD)
        done.env["NODE_OPTIONS"] = f"--require {path / PRELOAD_NAME}"
        done.notes.append(
            f"{name} is an old npm's (lockfileVersion 1): npm fetches each package's "
            f"details first, {_WIDTH} at a time"
        )
    return done


def restore_range(path: Path, deps: NodeDeps, name: str) -> str | None:
    """Give ``name`` back the range the app's package.json gives it, in ``path``'s
    package.json, where it was pinned to its lockfile's version (``NodeDeps.ranges``);
    that range, or None if it was not pinned (or is already back). The packages of its
    scope pinned with it (``@mikro-orm/core`` beside ``@mikro-orm/mysql``) get theirs
    back too, and are named after it: a scope's packages are released together and
    want each other's same version, which the newest in each range gives them again."""
    ranges = dict(deps.ranges)
    if name not in ranges:
        return None
    scope = name.split("/")[0] + "/" if name.startswith("@") and "/" in name else None
    kin = [n for n in ranges if scope is not None and n != name and n.startswith(scope)]
    package = loads_bounded(read_no_follow(path / "package.json"))  # npm's scripts ran here
    restored: list[str] = []
    for each in (name, *kin):
        for key in ("dependencies", "devDependencies", "optionalDependencies"):
            table = package.get(key)
            if isinstance(table, dict) and each in table and table[each] != ranges[each]:
                table[each] = ranges[each]
                restored.append(each)
    if name not in restored:
        return None
    replace_file(path / "package.json", (json.dumps(package, indent=2) + "\n").encode())
    others = sorted(set(restored) - {name})
    also = f", and {', '.join(others)} theirs (released with it)" if others else ""
    return ranges[name] + also


def registry_addresses(lock: dict) -> dict[str, int]:
    """Rewrite (in place) each ``resolved`` tarball address of another registry to the
    public one's; the hosts moved away from, with their counts."""
    moved: dict[str, int] = {}

    def visit(entry: object) -> None:
        if isinstance(entry, dict):
            resolved = entry.get("resolved")
            if isinstance(resolved, str):
                public = _public_address(resolved)
                if public is not None:
                    entry["resolved"] = public
                    host = urlparse(resolved).hostname or "?"
                    moved[host] = moved.get(host, 0) + 1
            for key in ("packages", "dependencies"):
                nested = entry.get(key)
                if isinstance(nested, dict):
                    for child in nested.values():
                        visit(child)

    visit(lock)
    return moved


def _public_address(resolved: str) -> str | None:
    """The public registry's address of another registry's tarball, else None."""
    url = urlparse(resolved)
    if url.scheme not in ("http", "https") or url.hostname == _REGISTRY_HOST:
        return None
    where = url.path.rsplit("/-/", 1)
    if len(where) != 2 or "/" in where[1] or not where[1].endswith(".tgz"):
        return None
    parts = where[0].replace("%2f", "/").replace("%2F", "/").split("/")
    if len(parts) >= 2 and parts[-2].replace("%40", "@").startswith("@"):
        package = f"{parts[-2].replace('%40', '@')}/{parts[-1]}"
    elif parts[-1]:
        package = parts[-1]
    else:
        return None
    return f"{REGISTRY}{package}/-/{where[1]}"
