"""A start script that starts none of the app's code, and the script that does:
:func:`script_that_serves`.

Some runners load the app from their arguments or the environment alone: Moleculer's
``moleculer-runner`` loads the services its arguments name, else those ``SERVICEDIR`` /
``SERVICES`` name (the app's Dockerfile or compose file sets them), else none, and its
broker then stops, "Good bye", exit code 0 (gothinkster's Moleculer RealWorld: ``"start":
"moleculer-runner"``, ``"dev": "moleculer-runner --repl --hot services"``, the README says
``npm run dev``). ``node``, ``ts-node`` and ``tsx`` with no script are a REPL, which ends
at once without a terminal. Where the start script runs one of them so, the first other
script (``dev``, ``start:dev`` …) running the same runner with what to load is the one
that serves; it is run without its watcher and REPL (:mod:`.devscript`).

A start running a module that exports its app and listens nowhere (what a serverless
platform serves: vercel.json's ``@vercel/node`` build of ``index.js``, its ``app.listen``
commented out) ends at once, code 0, having served nothing: the module is served as the
platform serves it, its export (an Express app, a ``(req, res)`` handler, a Koa app's
``callback()``) given to an HTTP server on ``$PORT`` (:func:`exported_app_start`).
"""

from __future__ import annotations

import re

from .devscript import simple_command
from .fallbacks import DEV_SCRIPTS, fetch_export, fetch_server

__all__ = [
    "env_names",
    "exported_app_start",
    "exported_fetch_start",
    "listens",
    "script_that_serves",
]

# runner -> (its options that take a value, the variables that name what it loads)
_LOADERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "moleculer-runner": (
        frozenset({"-c", "--config", "-E", "--envfile", "-i", "--instances", "-m", "--mask"}),
        frozenset({"SERVICEDIR", "SERVICES"}),
    ),
    "node": (frozenset({"-r", "--require", "--import", "--loader"}), frozenset()),
    "ts-node": (frozenset({"-r", "--require", "-P", "--project", "-C", "--compiler"}), frozenset()),
    "tsx": (frozenset({"--tsconfig", "--import", "--require"}), frozenset()),
}
# The scripts that run an app in development, looked at first, in this order.
_FIRST = (*DEV_SCRIPTS, "serve", "start:local")


def script_that_serves(
    name: str, scripts: dict[str, str], environment: set[str]
) -> tuple[str, str] | None:
    """(the script's name, why) of the script to run instead of ``name``, when ``name``
    runs a runner with nothing to load (see the module doc); ``environment``: the
    variables the app's own ``.env`` sets. None when ``name``'s script is not such."""
    runner = _runs_nothing(scripts.get(name, ""), environment)
    if runner is None:
        return None
    order = [*(s for s in _FIRST if s in scripts), *sorted(scripts)]
    for other in order:
        if other != name and not other.startswith(("pre", "post")):
            loading = _loads(scripts[other])
            if loading is not None and loading[0] == runner and loading[1]:
                return other, f"the {name} script ({scripts[name].strip()}) loads nothing"
    return None


def env_names(files: dict[str, bytes]) -> set[str]:
    """The variables the upload's own ``.env`` sets (the preview's environment has them)."""
    text = files.get(".env", b"").decode("utf-8", "replace")
    return set(re.findall(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", text, re.M))


def _runs_nothing(script: str, environment: set[str]) -> str | None:
    """The runner ``script`` runs with nothing to load, if it does."""
    loading = _loads(script)
    if loading is None or loading[1]:
        return None
    runner, _, assigned = loading
    naming = _LOADERS[runner][1]
    return None if naming & (assigned | environment) else runner


def _loads(script: str) -> tuple[str, bool, set[str]] | None:
    """(the runner, whether it is given what to load, the variables the script sets) of
    a simple command running one of :data:`_LOADERS`; None for any other."""
    command = simple_command(script.removeprefix("cross-env "))
    if command is None:
        return None
    assignments, words = command
    assigned = {assignment.partition("=")[0] for assignment in assignments}
    if not words or words[0] not in _LOADERS:
        return None
    valued = _LOADERS[words[0]][0]
    at, given = 1, False
    while at < len(words):
        word = words[at]
        if word in valued:
            at += 2
            continue
        given = given or not word.startswith("-")  # a path (or node -e's code)
        at += 1
    return words[0], given, assigned


# ``module.exports = app;`` / ``export default app``: the module's whole export is one name.
_EXPORTS_ONE = re.compile(
    r"^[ \t]*(?:module\.exports\s*=|export\s+default)\s*([A-Za-z_$][\w$]*)\s*;?[ \t]*$", re.M
)
_LISTENS = re.compile(r"\.listen\s*\(|\bcreateServer\s*\(|\bserve\s*\(\s*\{")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_LINE_COMMENT = re.compile(r"(?m)(?<![:\\'\"`])//.*$")
# A test's module, whose listen is its test server's (PeterNMcArthur's koasupertest:
# test.js's ``app.listen(3000)`` for supertest; server.js exports its Koa app).
_TEST_MODULE = re.compile(
    r"(?:^|/)(?:tests?|__tests__|specs?|e2e)(?:/|\.[cm]?[jt]s$)|\.(?:test|spec|e2e-spec)\.[cm]?[jt]s$"
)
# Its export served as @vercel/node serves it: a handler, or a Koa app's callback().
SERVE_EXPORT = (
    'const m = require(require("path").resolve(process.argv[1])); '
    "const app = m && m.__esModule && m.default ? m.default : m; "
    'const handler = typeof app.callback === "function" ? app.callback() : app; '
    'require("http").createServer(handler).listen(Number(process.env.PORT), "0.0.0.0", '
    '() => console.log("serving the app " + process.argv[1] + " exports on " + process.env.PORT));'
)


def exported_app_start(script: str, files: dict[str, bytes]) -> tuple[str, ...] | None:
    """The command serving the module ``script`` runs (``node index.js``) where that
    module exports its app and none of the upload's sources listens (module doc); None
    otherwise. A template: its braces escaped."""
    command = simple_command(script)
    if command is None or command[0] or len(command[1]) != 2 or command[1][0] != "node":
        return None
    module = command[1][1].removeprefix("./")
    if not module.endswith((".js", ".cjs")) or module not in files:
        return None
    if not _EXPORTS_ONE.search(_code(files[module])):
        return None
    for path, data in files.items():
        own = "node_modules/" not in path and path.endswith((".js", ".cjs", ".mjs", ".ts"))
        if own and not _TEST_MODULE.search(path) and listens(data):
            return None
    escaped = SERVE_EXPORT.replace("{", "{{").replace("}", "}}")
    return ("node", "-e", escaped, module)


# The runners a script runs a module with, which Bun stands in for.
_MODULE_RUNNERS = ("node", "tsx", "ts-node", "bun")


def exported_fetch_start(script: str, files: dict[str, bytes]) -> tuple[str, str] | None:
    """(Bun's command serving it, its module) where ``script`` runs a module (``tsx
    src/index.ts``) that exports a Hono app's fetch handler for a serverless platform and
    serves nothing (:func:`.fallbacks.fetch_export`): hoce1n's hono-try, deployed to Vercel,
    ended at once, code 0, printing nothing. None for any other script."""
    command = simple_command(script)
    if command is None or len(command[1]) != 2 or command[1][0] not in _MODULE_RUNNERS:
        return None
    exported = fetch_export(files)
    if exported is None or command[1][1].removeprefix("./") != exported[0]:
        return None
    return fetch_server(*exported), exported[0]


def listens(data: bytes) -> bool:
    """Whether a source opens a server itself (``.listen(``, ``createServer(``, Bun's
    ``serve({``), outside its comments."""
    return _LISTENS.search(_code(data)) is not None


def _code(data: bytes) -> str:
    """A source's text without its comments (a listen commented out listens nowhere)."""
    text = _BLOCK_COMMENT.sub("", data.decode("utf-8", "replace"))
    return _LINE_COMMENT.sub("", text)
