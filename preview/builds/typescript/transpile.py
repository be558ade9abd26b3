"""A TypeScript build's JavaScript without its type check: :func:`transpiled_build`.

A Node app's build step (``npm run build`` running ``tsc``, ``rimraf dist && tsc -p
tsconfig.build.json``, ``nest build``) spends most of its time in the type check: the
whole program and the type declarations of its dependencies read and checked (14-18 s
for a NestJS boilerplate of 157 files on the 2-core machine), none of which changes what
the app runs. A preview runs the JavaScript, as ``ts-node --transpile-only`` runs it
elsewhere in the service; type errors are the developer's to see in their editor.

So such a step runs ``transpile.cjs`` in place of each ``tsc`` or ``nest build``: the
project's own TypeScript, its own tsconfig (read by TypeScript, ``extends`` and all),
each file tsc would emit (the tsconfig's and those they import) written where tsc writes
it by ``ts.transpileModule`` (3.5 s for the same app). A file whose text and emit
options are those of the last emit into its outDir (``.preview-transpile.json`` there
records them) is not emitted again: a revision's directory starts with the running
revision's output, so a revision changing one file emits that one (32 files: 1.4 → 0.6
s). The commands around them (file
tools, ``tsc-alias``) run as the app wrote them. Left to the app's own build: any other
flag to ``tsc`` (``--build``, ``--listEmittedFiles`` …), ``nest build`` with compiler
plugins (Swagger's and GraphQL's read the types), webpack, another builder or a monorepo
(its ``assets`` are copied by the project's own ``@nestjs/cli``, as ``nest build``
does); and, decided by the program on the parsed tsconfig (exit 3, "not transpiled: …"),
ES module output not declared ``isolatedModules`` (a type's re-export would stay),
``outFile``, project references. A ``nest build`` has the imports its tsconfig's
``baseUrl`` and ``paths`` resolve rewritten to relative ones, as Nest's compile does, by
the project's own ``@nestjs/cli`` hook (refused where that hook cannot be loaded).
Where the transpile is refused or fails, the step the app declared runs instead, said
(:mod:`..preparation`); where the app then exits during start-up, it starts again from
its own build (``relaunch``: a fix, remembered for the upload).
"""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from dataclasses import dataclass
from importlib import resources

from ...apps.node.buildsteps import pure_build
from ...apps.node.devscript import BIN_FIRST_ON_PATH
from ...apps.node.tscout import jsonc

__all__ = ["PROGRAM_VARIABLE", "TranspiledBuild", "transpiled_build"]

# The program reaches the step through its environment: the command stays readable.
PROGRAM_VARIABLE = "PREVIEW_TS_TRANSPILE"
_HERE = resources.files(__name__.rpartition(".")[0])
# The enum types' hook is shared with ts-node's compiler (tsnodecompiler.cjs): joined here.
_ENUM_TYPES = _HERE.joinpath("enumtypes.cjs").read_text(encoding="utf-8")
_PROGRAM = _HERE.joinpath("transpile.cjs").read_text(encoding="utf-8") + "\n" + _ENUM_TYPES
_VERSION = hashlib.sha256(_PROGRAM.encode()).hexdigest()[:16]
_RUN = f'node -e "${PROGRAM_VARIABLE}" --'
# nest-cli.json's compilerOptions that change what ``nest build`` writes beyond tsc's emit.
_NEST_OWN = ("plugins", "webpack", "webpackConfigPath", "builder")


@dataclass(frozen=True)
class TranspiledBuild:
    """The step to run instead, the variable it needs, and its version (the build
    cache's key tells its output apart from the declared step's by it)."""

    argv: tuple[str, ...]
    env: dict[str, str]
    version: str
    said: str  # "tsc as TypeScript's emit without its type check"
    projects: tuple[str, ...] = ()  # the tsconfigs transpiled (the type check's)


def transpiled_build(
    argv: tuple[str, ...] | list[str], where: str, files: dict[str, bytes]
) -> TranspiledBuild | None:
    """The build step ``argv`` (run in ``where``) with its ``tsc`` and ``nest build``
    transpiled; None where it runs neither, or runs one this cannot stand in for."""
    found = pure_build(argv, where, files)
    if found is None:
        return None
    commands: list[str] = []
    replaced: list[str] = []
    projects: list[str] = []
    for command in found.split(" && "):
        instead = _instead(command, where, files)
        if instead is None and _compiler(command):
            return None
        if instead is None:
            commands.append(command)
            continue
        commands.append(instead[0])
        replaced.append(command)
        projects.append(instead[1])
    if not replaced:
        return None
    said = f"{' and '.join(replaced)} as TypeScript's emit without its type check"
    script = f"# {said}\n{BIN_FIRST_ON_PATH}{' && '.join(commands)}"
    program = {PROGRAM_VARIABLE: _PROGRAM}
    unique = tuple(dict.fromkeys(projects))
    return TranspiledBuild(("sh", "-c", script), program, _VERSION, said, unique)


def _compiler(command: str) -> bool:
    """Whether ``command`` is ``tsc`` or ``nest build`` (which, not stood in for, would
    leave nothing to gain, or would write over what the transpile wrote)."""
    words = command.split()
    return words[:1] == ["tsc"] or words[:2] == ["nest", "build"]


def _instead(command: str, where: str, files: dict[str, bytes]) -> tuple[str, str] | None:
    """The transpile standing in for ``command`` (a ``tsc`` or ``nest build`` with no
    flag but its project's) and the tsconfig it reads, None if it is neither or has
    another flag."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if words[:1] == ["tsc"]:
        project = _project(words[1:], ("-p", "--project"))
        if project is None:
            return None
        project = project or "tsconfig.json"
        return f"{_RUN} {shlex.quote(project)}", project
    if words[:2] == ["nest", "build"]:
        project = _project(words[2:], ("-p", "--path"))
        if project is None:
            return None
        nest = _nest_options(where, files)
        if nest is None:
            return None
        config, clean = nest
        project = project or config
        return f"{_RUN} {shlex.quote(project)} --nest" + (" --clean" if clean else ""), project
    return None


def _project(flags: list[str], names: tuple[str, ...]) -> str | None:
    """The project given by ``names`` ("" for none); None for any other flag."""
    if not flags:
        return ""
    if len(flags) == 2 and flags[0] in names:
        return flags[1]
    name, equals, value = flags[0].partition("=")
    if len(flags) == 1 and equals and name in names and value:
        return value
    return None


def _nest_options(where: str, files: dict[str, bytes]) -> tuple[str, bool] | None:
    """(the tsconfig ``nest build`` compiles, whether it empties its outDir first) from
    nest-cli.json; None where ``nest build`` does more than tsc's emit."""

    def at(name: str) -> str:
        return posixpath.join(where, name) if where else name

    raw = files.get(at("nest-cli.json"))
    config = jsonc(raw) if raw is not None else {}
    if not isinstance(config, dict) or config.get("monorepo") or config.get("projects"):
        return None
    options = config.get("compilerOptions") or {}
    if not isinstance(options, dict) or any(options.get(name) for name in _NEST_OWN):
        return None
    tsconfig = options.get("tsConfigPath")
    if not isinstance(tsconfig, str) or not tsconfig:
        build = "tsconfig.build.json"
        tsconfig = build if at(build) in files else "tsconfig.json"
    return tsconfig, bool(options.get("deleteOutDir"))
