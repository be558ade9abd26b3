"""A start script running TypeScript in a way this machine's Node does not:
:func:`runnable_ts`.

Node 22.6 and later run a ``.ts`` file themselves (type stripping; by default from 23.6):
``node --env-file=.env --import ./src/instrumentation.ts ./src/index.ts`` is marcoturi's
fastify-boilerplate's start (its engines ask for Node 24), which Node 20 refuses
(ERR_UNKNOWN_FILE_EXTENSION). tsx runs the same command line (it passes node's own flags
on, and its loader comes before the app's ``--import``), on any Node.

ts-node's own command (or ``ts-node-esm``) in an ES module project (package.json's
``"type": "module"``) hands the file to its ESM loader through a child process, which
Node 20 no longer lets it hook:
DmitriyMolochkov's koa-boilerplate's ``ts-node src/index.ts`` failed on
ERR_UNKNOWN_FILE_EXTENSION, while its migrations, run through ts-node's loader given to
node (typeorm-ts-node-esm), ran. The start is run so: ``node --loader ts-node/esm``, its
type check off (TS_NODE_TRANSPILE_ONLY, as ts-node is run elsewhere: a type check of the
whole program at each start), as its ``--swc`` would (whose compiler it may not have).
"""

from __future__ import annotations

import re
import shlex

from preview.apps.node.devscript import simple_command
from preview.apps.node.tscout import compiler_options

__all__ = ["emits_commonjs", "runnable_ts", "with_metadata"]

_TS = (".ts", ".mts", ".cts")


def runnable_ts(
    script: str, esm: bool = False, *, commonjs: bool = False
) -> tuple[str, str, bool] | None:
    """(the command to run instead, why, whether it is tsx's) for a script that runs
    TypeScript with a runner this Node may lack; ``esm``: the project's modules are ES
    modules; ``commonjs``: its tsconfig emits CommonJS (:func:`emits_commonjs`). None for
    any other (a line with shell operators included)."""
    command = simple_command(script)
    if command is None or not command[1]:
        return None
    env, words = command
    hooks = [words[i + 1] for i in range(len(words) - 1) if words[i] in ("-r", "--require")]
    if words[0] == "node" and any(h.startswith(_TS_HOOKS) for h in hooks):
        # node given a TypeScript loader of the app's (mateuszzdyb's node-koa-knex-fun-fair:
        # ``node --inspect -r dotenv/config -r ts-node/register src/index.ts``): run so,
        # ts-node's type check off, as elsewhere.
        if "ts-node/register" not in hooks or any(a.startswith("TS_NODE_") for a in env):
            return None
        line = shlex.join([*env, "TS_NODE_TRANSPILE_ONLY=true", *words])
        return line, "its type check off (the build's, not each start's)", False
    if words[0] == "node" and any(w.endswith(_TS) for w in words[1:]):
        line = shlex.join([*env, "tsx", *words[1:]])
        why = "it runs TypeScript with node's own type stripping (Node 22.6 and later): with tsx"
        return line, why, True
    if words[0] in ("ts-node", "ts-node-esm") and any(_DEBUGGER.match(w) for w in words):
        # node's debugger flags, which ts-node 8 and later refuse ("Unknown or unexpected
        # option: --inspect": govorov's graphql-typeorm-koa-workshop, written for ts-node
        # 3, which passed them on): no debugger attaches to a preview.
        words = [w for w in words if not _DEBUGGER.match(w)]
        if {"-T", "--transpile-only"} & set(words):
            return shlex.join([*env, *words]), "without node's debugger flags", False
    if words[0] == "ts-node-esm":
        # ts-node's ES module command, ``ts-node --esm`` under another name (VolframL's
        # express-hw: ``"start": "ts-node-esm src/index.ts"``, ERR_UNKNOWN_FILE_EXTENSION
        # on Node 20 as ts-node's own): run as that.
        words, esm = ["ts-node", "--esm", *words[1:]], True
    if words[0] == "ts-node" and esm:
        flags = [w for w in words[1:] if w.startswith("-")]
        rest = [w for w in words[1:] if not w.startswith("-")]
        if not rest or not rest[0].endswith(_TS) or set(flags) - _TS_NODE_FLAGS:
            return None
        if commonjs:
            # Its loader would emit the tsconfig's CommonJS into an ES module's scope
            # (Zan-Mhmmdr's express-store: "type": "module", "module": "CommonJS": "exports
            # is not defined in ES module scope"); tsx compiles as the package's type says.
            line = shlex.join([*env, "tsx", *rest])
            why = (
                "ts-node cannot run an ES module project whose tsconfig emits CommonJS"
                " on Node 20: with tsx"
            )
            return line, why, True
        on = "TS_NODE_TRANSPILE_ONLY=true"
        line = shlex.join([*env, on, "node", "--loader", "ts-node/esm", *rest])
        why = (
            "ts-node's command cannot load an ES module project's TypeScript on Node 20: its loader"
        )
        return line, why, False
    if words[0] == "ts-node" and any(w.endswith(_TS) for w in words[1:]):
        if {"-T", "--transpile-only"} & set(words):
            return None
        # Its type check of the whole program at each start, which the start's time
        # bounds: darthvaderovych's koa-ts-typeorm (``"start": "ts-node src/server.ts"``)
        # did not answer within 30 s on a loaded machine. The build's, as elsewhere.
        line = shlex.join([*env, "ts-node", "--transpile-only", *words[1:]])
        return line, "its type check off (the build's, not each start's)", False
    return None


def emits_commonjs(files: dict[str, bytes]) -> bool:
    """Whether the project's tsconfig.json compiles its modules to CommonJS."""
    module = compiler_options(files).get("module")
    return isinstance(module, str) and module.lower() == "commonjs"


def with_metadata(line: str, esm: bool) -> str | None:
    """A ``tsx [node flags] entry.ts [args]`` line run through ts-node instead, for an app
    whose tsconfig asks for decorator metadata, which tsx (esbuild) does not emit: its
    loader given to node in an ES module project, its register hook else; its type check
    off. None for any other line. pepemolnar's node-fastify-typeorm runs its dev script
    with tsx, and TypeORM then could not tell a column's type (ColumnTypeUndefinedError)."""
    command = simple_command(line)
    if command is None or command[1][:1] != ["tsx"]:
        return None
    env, words = command
    entry = next((i for i, w in enumerate(words) if w.endswith(_TS) and i > 0), None)
    if entry is None or any(not w.startswith("--") for w in words[1:entry]):
        return None  # (a flag's value apart from it: not read here)
    hook = ["--loader", "ts-node/esm"] if esm else ["-r", "ts-node/register/transpile-only"]
    on = "TS_NODE_TRANSPILE_ONLY=true"
    return shlex.join([*env, on, "node", *words[1:entry], *hook, *words[entry:]])


# The TypeScript loaders node is given by ``-r`` (their ``/transpile-only`` forms too).
_TS_HOOKS = ("ts-node/register", "@swc-node/register", "tsx/cjs", "esbuild-register", "sucrase/")
# node's debugger flags (``--inspect``, ``--inspect-brk=9229``, ``--debug``).
_DEBUGGER = re.compile(r"^--(?:inspect(?:-brk)?|debug(?:-brk)?)(?:=\S*)?$")
# Its flags that the loader's run stands for (a type check off, its compiler's choice).
_TS_NODE_FLAGS = {"--transpile-only", "-T", "--swc", "--esm", "--files"}
