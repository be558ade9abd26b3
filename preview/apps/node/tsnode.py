"""Which runner starts a TypeScript entry, and how ts-node is run when it is the one.

tsx (esbuild) is the default: fast, and it resolves the import paths a ``tsconfig.json``
maps (``"paths": {"@/*": ["*"]}``). ts-node runs where the app's tsconfig asks for
decorator metadata, which tsx does not emit (TypeORM's columns, NestJS's
injection, sequelize-typescript's models read it). ts-node does not resolve mapped
paths itself: an app whose code imports ``@/app`` registers ``tsconfig-paths`` in its own
commands (beerjoa's express-sequelize-ts: ``ts-node -r tsconfig-paths/register`` in its
nodemon.json), so ts-node is run with it here too, and the build adds the package where
the app does not list it ("Cannot find module '@/app'" without).
"""

from __future__ import annotations

import posixpath

from preview.apps.node.tscout import compiler_options

__all__ = ["TS_CONFIG_PATHS", "ts_node_command", "ts_runner", "ts_source"]

TS_CONFIG_PATHS = "tsconfig-paths@^4"  # added to the environment where the app lacks it
_TS_NODE = ("node_modules/.bin/ts-node", "--transpile-only")
# The tsconfig is read parsed (tscout.compiler_options, over its `extends`): tsc --init's
# template holds the options it leaves off commented out (`// "emitDecoratorMetadata":
# true,`), which a search of its text took for set.


def ts_runner(files: dict[str, bytes]) -> str:
    """ts-node where the app's tsconfig asks for decorator metadata (which tsx does not
    emit), else tsx. The build adds ts-node where the app lacks it (``nodeapp``'s
    watchers): obeim's fastify-ecommerce-api runs ``nodemon src/index.ts``, whose
    default for a .ts file is ts-node, which it does not list; run with tsx, TypeORM could
    not tell a column's type (ColumnTypeUndefinedError)."""
    metadata = compiler_options(files).get("emitDecoratorMetadata") is True
    return "ts-node" if metadata else "tsx"


def ts_node_command(
    files: dict[str, bytes], listed: dict[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """ts-node's command before its entry, and the packages the build adds for it: with
    ``tsconfig-paths`` registered where the tsconfig maps import paths (one at least)."""
    paths = compiler_options(files).get("paths")
    if not isinstance(paths, dict) or not paths:
        return _TS_NODE, ()
    tools = () if "tsconfig-paths" in listed else (TS_CONFIG_PATHS,)
    return (*_TS_NODE, "-r", "tsconfig-paths/register"), tools


def ts_source(main: str, files: dict[str, bytes]) -> str | None:
    """The TypeScript source the built ``main`` is made from (``dist/server.js`` →
    ``src/server.ts``), if the upload has it."""
    stem = posixpath.splitext(posixpath.normpath(main))[0]
    parts = stem.split("/")
    tail = "/".join(parts[1:]) if len(parts) > 1 else stem
    for candidate in (f"src/{tail}", tail, f"src/{posixpath.basename(stem)}"):
        for extension in (".ts", ".mts"):
            if candidate + extension in files:
                return candidate + extension
    return None
