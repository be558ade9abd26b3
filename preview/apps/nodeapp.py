"""How to start a Node app from its ``package.json``: :func:`node_start`.

In order: a ``build`` script runs first as a set-up step (``tsc``, ``nest build``: the
start commands that follow expect its output); then ``start:prod``, else ``start``, else
``main`` (a ``.ts`` one run by ``tsx``), else the ``dev`` script, else the usual entry
files (``server.js``, ``index.js``, ``src/index.ts`` …). The ``dev`` script runs with its
watcher off where the tool has one to turn off (``tsx watch`` → ``tsx``, ``node
--watch`` → ``node``, ``nodemon x.js`` → ``node x.js``, ``nodemon x.ts`` and
``ts-node-dev x.ts`` → ``tsx x.ts``). A ``tsx`` the project does not depend on is added
to its environment at build time (:attr:`NodeStart.tools`): the build reaches the
registry, the app does not.

Commands are templates like :mod:`.detect`'s (braces of the scripts escaped).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

__all__ = ["TSX", "NodeStart", "node_hint", "node_start", "read_package"]

TSX = "tsx@^4"  # added to an app's environment when it needs tsx and does not list it
_TS = (".ts", ".mts", ".cts", ".tsx")
_ENTRIES = ("server.js", "index.js", "app.js", "server.ts", "index.ts", "src/index.ts")
_SHELL = re.compile(r"&&|\|\||[;|<>`$()]")


@dataclass(frozen=True)
class NodeStart:
    argv: tuple[str, ...]  # a template ({} escaped)
    setup: tuple[tuple[str, ...], ...] = ()
    tools: tuple[str, ...] = ()  # packages the build adds (tsx)
    note: str | None = None  # how the command differs from what the app declared


def read_package(files: dict[str, bytes]) -> dict | None:
    raw = files.get("package.json")
    if raw is None:
        return None
    try:
        package = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder's limit
        return None
    return package if isinstance(package, dict) else None


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def node_start(files: dict[str, bytes]) -> NodeStart | None:
    """How to start the Node app of ``files`` (see the module doc); None: no way found."""
    package = read_package(files)
    if package is None:
        return None
    scripts = _strings(package.get("scripts"))
    listed = {**_strings(package.get("dependencies")), **_strings(package.get("devDependencies"))}
    tools = () if "tsx" in listed else (TSX,)
    setup = (("npm", "run", "build"),) if scripts.get("build", "").strip() else ()
    for name in ("start:prod", "start"):
        if scripts.get(name, "").strip():
            argv = ("npm", "start", "--silent") if name == "start" else ("npm", "run", name)
            return NodeStart(argv, setup)
    main = package.get("main")
    entry = main.strip() if isinstance(main, str) and main.strip() else ""
    if entry and (entry in files or setup):  # there, or made by the build
        return _entry(entry, setup, tools)
    dev = scripts.get("dev", "").strip()
    if dev:
        return _dev(dev, setup, tools)
    entry = next((f for f in _ENTRIES if f in files), "")
    return _entry(entry, setup, tools) if entry else None


def _entry(entry: str, setup: tuple[tuple[str, ...], ...], tools: tuple[str, ...]) -> NodeStart:
    if entry.endswith(_TS):
        return NodeStart(("node_modules/.bin/tsx", _escape(entry)), setup, tools)
    return NodeStart(("node", _escape(entry)), setup)


def _dev(script: str, setup: tuple[tuple[str, ...], ...], tools: tuple[str, ...]) -> NodeStart:
    """The ``dev`` script, its watcher off where that can be said of its tool."""
    rewritten = _without_watcher(script)
    needs_tsx = re.search(r"(?:^|\s)tsx\s", rewritten + " ") is not None
    if rewritten == script and not needs_tsx:
        return NodeStart(("npm", "run", "dev"), setup)
    shell = f'export PATH="$PWD/node_modules/.bin:$PATH"; {rewritten}'
    note = f"the dev script without its watcher: {rewritten}" if rewritten != script else None
    return NodeStart(("sh", "-c", _escape(shell)), setup, tools if needs_tsx else (), note)


def _without_watcher(script: str) -> str:
    """``script`` with a watching runner replaced by its one-shot equivalent (only a
    simple command: one with shell operators is left as it is)."""
    if _SHELL.search(script):
        return script
    try:
        words = shlex.split(script)
    except ValueError:
        return script
    env = []
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", words[0]):
        env.append(words.pop(0))
    if not words:
        return script
    tool, args = words[0], words[1:]
    if tool == "tsx" and args[:1] == ["watch"]:
        words = ["tsx", *_drop_watch_flags(args[1:])]
    elif tool == "node":
        words = ["node", *(a for a in args if a != "--watch" and not a.startswith("--watch-"))]
    elif tool in ("nodemon", "ts-node-dev", "tsnd"):
        files = [a for a in args if not a.startswith("-") and a.endswith((*_TS, ".js", ".mjs"))]
        if len(files) != 1 or "--exec" in args or "-x" in args:
            return script
        entry = files[0]
        rest = args[args.index(entry) + 1 :]
        words = ["tsx" if entry.endswith(_TS) else "node", entry, *rest]
    else:
        return script
    return shlex.join([*env, *words])


def _drop_watch_flags(args: list[str]) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("--clear-screen=false", "--ignore", "--include"):
            skip = arg != "--clear-screen=false"
            continue
        if arg.startswith(("--ignore=", "--include=", "--clear-screen")):
            continue
        out.append(arg)
    return out


def node_hint(files: dict[str, bytes]) -> str:
    """The example command of ``nothing_to_run`` for a Node upload."""
    package = read_package(files) or {}
    scripts = sorted(_strings(package.get("scripts")))
    if scripts:
        return f'["npm", "run", "{scripts[0]}"]'
    js = sorted(p for p in files if p.endswith((".js", ".mjs", ".ts")) and "/" not in p)
    return f'["node", "{js[0] if js else "server.js"}"]'
