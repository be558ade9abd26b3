"""Whether a Node set-up step is a build whose output depends on nothing but its files:
:func:`pure_build`.

A build cache (``builds.buildcache``) may reuse such a step's output for the same inputs
(the upload's files, the dependency set, the command, the tool versions). That holds
only for tools that read source files and configuration and nothing of the launch:
``tsc``, ``nest build``, ``tsc-alias``, swc, Babel, esbuild, tsup, and the file
commands around them (``rimraf dist``, ``cp``, ``mkdir``). A bundler that inlines the
environment (webpack's DefinePlugin, Vite's ``import.meta.env``, Next.js) would bake one
preview's ``DATABASE_URL`` or secrets into another's output, so any other command makes
the step impure; so does a config written as code that reads ``process.env`` (beyond
``NODE_ENV``, which the key covers), and any shell beyond ``&&`` (a pipe, a redirect, a
substitution). ``npm run x`` is read through its script, with npm's ``prex`` and
``postx`` scripts around it, and the scripts it calls in turn.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Sequence

from preview.apps.node.devscript import BIN_FIRST_ON_PATH
from preview.apps.node.nodeapp import package_scripts, read_package

__all__ = ["ENV_READ_BY_BUILDS", "pure_build"]

# Variables the tools above read themselves: their values are part of a build's key.
ENV_READ_BY_BUILDS = ("NODE_ENV", "BABEL_ENV")
_SHELL = re.compile(r"\|\||[|;<>`]|\$\(")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*$")
_RUN = re.compile(r"^(?:npm|pnpm|yarn)$")
# npx's own flags before the command, which say nothing of what it runs (a local tool).
_NPX_FLAGS = {"-y", "--yes", "-q", "--quiet", "--no-install", "--prefer-offline"}
# Tools whose output is a function of the files they read (their configuration's code,
# where it has some, checked by _CONFIGS).
_COMPILERS = {"tsc", "tsc-alias", "tsup", "swc", "babel", "esbuild", "tsconfig-replace-paths"}
_FILE_TOOLS = {"rimraf", "rm", "mkdir", "cp", "copyfiles", "cpx", "ncp", "del", "del-cli", "shx"}
# Configuration written as code that a tool above (or nest build's webpack) runs.
_CONFIGS = re.compile(
    r"(?:^|/)(?:tsup\.config|babel\.config|\.babelrc|webpack\.config)\.[cm]?[jt]s$"
)
_ENV_READ = re.compile(r"process\.env(?!\.NODE_ENV\b)|import\.meta\.env")
_MAX_DEPTH = 4


def pure_build(argv: Sequence[str], where: str, files: dict[str, bytes]) -> str | None:
    """The commands the set-up step ``argv`` (run in the upload's folder ``where``) comes
    to, joined by ``&&``, where each is one of the tools above; None where any is not
    (or cannot be read): its output may then depend on more than its files."""
    package = package_scripts(read_package(files, posixpath.join(where, "package.json")))
    if list(argv[:2]) == ["sh", "-c"] and len(argv) == 3 and argv[2].startswith(BIN_FIRST_ON_PATH):
        commands = _commands(argv[2][len(BIN_FIRST_ON_PATH) :], package, 0)
    else:
        commands = _command(list(argv), package, 0)
    if not commands or _configs_read_env(files):
        return None
    return " && ".join(commands)


def _commands(script: str, scripts: dict[str, str], depth: int) -> list[str] | None:
    """The tool commands ``script`` runs (a script's text), None if one is not pure."""
    if _SHELL.search(script) or depth > _MAX_DEPTH:
        return None
    found: list[str] = []
    for part in script.split("&&"):
        try:
            words = shlex.split(part)
        except ValueError:
            return None
        commands = _command(words, scripts, depth)
        if commands is None:
            return None
        found += commands
    return found


def _command(words: list[str], scripts: dict[str, str], depth: int) -> list[str] | None:
    while words and (_ASSIGNMENT.match(words[0]) or words[0] in ("npx", "cross-env")):
        # (npx's own flags with it: gozonjoedaimar's scullery-api, ``"build": "npx -y
        # tsc"``, read as no tool's, ran as written: its build step failed, exit 1)
        npx = words[0] == "npx"
        words = words[1:]  # (an assignment is part of the script, which the key covers)
        while npx and words and words[0] in _NPX_FLAGS:
            words = words[1:]
    if not words:
        return []
    tool = posixpath.basename(words[0])
    if _RUN.match(tool) and len(words) >= 2:
        alone = tool == "npm" and words[-1] == "--ignore-scripts"  # (no pre or post script)
        words = words[:-1] if alone else words
        name = words[2] if words[1] == "run" and len(words) > 2 else words[1]
        if tool == "npm" and words[1] != "run":
            return None  # npm's own commands (install, ci …): not a script
        if len(words) > (3 if words[1] == "run" else 2) or name not in scripts:
            return None
        found: list[str] = []
        around = (name,) if alone else (f"pre{name}", name, f"post{name}")
        for each in around:  # as npm runs them
            if each in scripts:
                commands = _commands(scripts[each], scripts, depth + 1)
                if commands is None:
                    return None
                found += commands
        return found
    if tool == "nest" and len(words) >= 2 and words[1] == "build":
        return [" ".join(words)]
    if tool in _COMPILERS or tool in _FILE_TOOLS:
        return [" ".join(words)]
    return None


def _configs_read_env(files: dict[str, bytes]) -> bool:
    """Whether a build tool's configuration written as code reads the environment."""
    return any(
        _CONFIGS.search(path) and _ENV_READ.search(data.decode("utf-8", "replace"))
        for path, data in files.items()
        if "node_modules/" not in path
    )
