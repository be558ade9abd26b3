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
"""

from __future__ import annotations

import re

from .devscript import simple_command
from .fallbacks import DEV_SCRIPTS

__all__ = ["env_names", "script_that_serves"]

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
