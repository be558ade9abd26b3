"""A package.json script run as npm runs it, without npm's own start-up: :func:`script_run`.

``npm start`` is a Node program of its own: it loads its configuration and modules
(0.3 s on an idle 2-core machine, over a second on a loaded one) before it runs the
script with ``sh -c``, then stays alive beside the app for its whole life (a second
Node process's memory: 58 MiB RSS for npm 10 here, per preview). A preview's start is
``npm start`` for most Node apps, so both are paid at every launch, relaunch and
revision (issue 68: a cached relaunch within 0.5 s of the app's own start).

So where the start is ``npm start`` or ``npm run <name>`` of a script that npm would run
alone (no ``pre``/``post`` script around it, or ``--ignore-scripts``), the script runs as
npm would run it: ``sh -c`` in the package's folder, ``node_modules/.bin`` first on the
``PATH``, the variables npm gives a script (``npm_lifecycle_event``,
``npm_package_name``, ``npm_package_version``, ``npm_package_config_*``,
``npm_package_json``, ``INIT_CWD`` …),
the words after ``--`` appended quoted. Anything else keeps npm: another package
manager, a workspace or other flag, a start npm makes up itself (``npm start`` with no
start script runs ``node server.js``), a script running npm by the path npm gives it
(``$npm_execpath``).

A script that installs before it starts (``"start": "npm i && node app.js"``) starts
without that install: the environment is installed already, and npm's install would
replace node_modules' link to it with a download of its own (minutes, past the start's
time).
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trio

from ..node.devscript import BIN_FIRST_ON_PATH

__all__ = ["ScriptRun", "script_run", "script_run_in"]

# The flags npm takes here that change nothing of how the script itself runs.
_QUIET = frozenset({"--silent", "-s", "--quiet", "--loglevel=silent", "--ignore-scripts"})
# Set by the shell line, as the paths inside a sandbox are not the service's.
_PRELUDE = BIN_FIRST_ON_PATH + 'export INIT_CWD="$PWD" npm_package_json="$PWD/package.json"; '


@dataclass(frozen=True)
class ScriptRun:
    """The start to spawn instead (``sh -c``), the variables to add to its environment,
    and the script's own line (what the log says was started)."""

    argv: tuple[str, ...]
    env: dict[str, str]
    line: str
    name: str  # the script's ("start", "dev")
    install_left_out: str = ""  # the script's own leading install (``npm i``), not run


def script_run(argv: Sequence[str], package_json: bytes | None) -> ScriptRun | None:
    """``argv`` (``npm start``, ``npm run dev --silent -- --port 3000``) as the script it
    runs, for the package whose package.json is ``package_json``; None where npm does
    more than run that one script (or ``argv`` is not npm's)."""
    found = _script_name(tuple(argv))
    if found is None or package_json is None:
        return None
    name, flags, extra = found
    try:
        package = json.loads(package_json)
    except ValueError:
        return None
    scripts = package.get("scripts") if isinstance(package, dict) else None
    if not isinstance(scripts, dict):
        return None
    script = scripts.get(name)
    if not isinstance(script, str) or not script.strip():
        return None
    around = any(isinstance(scripts.get(f"{at}{name}"), str) for at in ("pre", "post"))
    if around and "--ignore-scripts" not in flags:
        return None
    script = _package_manager_runs(script, scripts)
    if "npm_execpath" in script or "npm_node_execpath" in script:
        return None  # npm itself run another way by its path: npm runs it
    install = _LEADING_INSTALL.match(script)
    if install is not None:
        script = script[install.end() :]
    line = " ".join([script.strip(), *(shlex.quote(word) for word in extra)])
    env = {
        "npm_lifecycle_event": name,
        "npm_lifecycle_script": line,
        "npm_command": "start" if argv[1] == "start" else "run-script",
        **_package_fields(package),
    }
    left_out = install.group(1) if install is not None else ""
    return ScriptRun(("sh", "-c", _PRELUDE + line), env, line, name, left_out)


async def script_run_in(argv: Sequence[str], directory: Path) -> ScriptRun | None:
    """:func:`script_run` of ``argv`` run in ``directory`` (its package.json read there)."""
    if tuple(argv[:1]) != ("npm",):
        return None
    try:
        package_json = await trio.Path(directory, "package.json").read_bytes()
    except OSError:
        return None
    return script_run(tuple(argv), package_json)


# A script's own install of its whole package, first: ``npm i && ``, ``yarn install
# --frozen-lockfile;`` (flags only: ``npm i pg && …`` adds a package, and is kept).
_LEADING_INSTALL = re.compile(
    r"\s*((?:(?:npm|pnpm)\s+(?:i|install|ci)|yarn(?:\s+install)?)(?:\s+--?[\w-]+(?:=\S+)?)*)"
    r"\s*(?:&&|;)\s*(?=\S)"
)


# The package manager run by the path it gives a script: ``$npm_execpath run tsc``.
_MANAGER_RUN = re.compile(r"\$\{?npm_execpath\}?\s+run\s+([\w:.-]+)")


def _package_manager_runs(script: str, scripts: dict) -> str:
    """``script`` with each ``$npm_execpath run <name>`` written as what it runs, as the
    yarn its author ran it with resolves it: the package's script of that name (``npm
    run``), else its tool of that name (OmarMAttia7's express-storefront-backend: ``"build":
    "$npm_execpath run tsc"``, tsc a tool, no script: "run: not found" without npm, and npm
    says "Missing script")."""
    return _MANAGER_RUN.sub(
        lambda m: (
            f"npm run {m.group(1)}" if isinstance(scripts.get(m.group(1)), str) else m.group(1)
        ),
        script,
    )


def _script_name(argv: tuple[str, ...]) -> tuple[str, set[str], tuple[str, ...]] | None:
    """(the script's name, npm's flags, the words after ``--``) of ``npm start`` or
    ``npm run <name>``; None for any other command or flag."""
    if argv[:2] == ("npm", "start"):
        name, rest = "start", argv[2:]
    elif argv[:2] in (("npm", "run"), ("npm", "run-script")) and len(argv) > 2:
        name, rest = argv[2], argv[3:]
    else:
        return None
    extra: tuple[str, ...] = ()
    if "--" in rest:
        at = rest.index("--")
        rest, extra = rest[:at], rest[at + 1 :]
    flags = set(rest)
    if not flags <= _QUIET or name.startswith("-"):
        return None
    return name, flags, extra


def _package_fields(package: dict) -> dict[str, str]:
    """The package's fields npm gives its scripts (npm/rfcs#183, @npmcli/run-script's
    package-envs: ``name``, ``version``, ``config``, ``engines``, ``bin``), flattened as
    npm flattens them: ``npm_package_config_port``, ``npm_package_bin_api``."""
    fields: dict[str, str] = {}

    def flatten(value: object, name: str) -> None:
        if value is None or value is False:
            fields[name] = ""
        elif isinstance(value, list):
            for index, item in enumerate(value):
                flatten(item, f"{name}_{index}")
        elif isinstance(value, dict):
            for key, item in value.items():
                flatten(item, f"{name}_{key}")
        elif value is True:
            fields[name] = "true"
        else:
            fields[name] = str(value)

    for key in ("name", "version", "config", "engines"):
        if key in package:
            flatten(package[key], f"npm_package_{key}")
    # npm reads ``bin`` normalised: a path alone is the package's own command, paths
    # relative ("./cli.js" is "cli.js"), anything else dropped.
    commands = package.get("bin")
    if isinstance(commands, str) and isinstance(package.get("name"), str):
        commands = {package["name"]: commands}
    if isinstance(commands, dict):
        for command, where in commands.items():
            if isinstance(where, str):
                fields[f"npm_package_bin_{command}"] = posixpath.normpath(where)
    return fields
