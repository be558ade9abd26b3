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
import re

from preview.apps.node.tscout import compiler_options

__all__ = ["TS_CONFIG_PATHS", "ts_node_command", "ts_runner", "ts_source"]

TS_CONFIG_PATHS = "tsconfig-paths@^4"  # added to the environment where the app lacks it
_TS_NODE = ("node_modules/.bin/ts-node", "--transpile-only")
# The tsconfig is read parsed (tscout.compiler_options, over its `extends`): tsc --init's
# template holds the options it leaves off commented out (`// "emitDecoratorMetadata":
# true,`), which a search of its text took for set.


def ts_runner(files: dict[str, bytes]) -> str:
    """ts-node where the app's tsconfig asks for decorator metadata (which tsx does not
    emit) or TypeScript's own decorators, or for CommonJS where a module of the app
    imports after it exports (:func:`_imports_after_exports`), else tsx. The build adds
    ts-node where the app lacks it (``nodeapp``'s watchers): obeim's fastify-ecommerce-api
    runs ``nodemon src/index.ts``, whose default for a .ts file is ts-node, which it does
    not list; run with tsx, TypeORM could not tell a column's type
    (ColumnTypeUndefinedError)."""
    options = compiler_options(files)
    metadata = options.get("emitDecoratorMetadata") is True
    # TypeScript's own decorators (``experimentalDecorators``): esbuild applies them only
    # to the files its tsconfig includes, and the standard ones elsewhere (000eze000's
    # jwt-express-typescrit-sequelize includes "scr", a typo: sequelize-typescript's
    # @Column met "Cannot convert undefined or null to object" under tsx).
    legacy = options.get("experimentalDecorators") is True
    commonjs = str(options.get("module", "")).lower() == "commonjs"
    ordered = commonjs and _imports_after_exports(files)
    interop = options.get("esModuleInterop") is True or options.get("allowSyntheticDefaultImports")
    called = commonjs and not interop and _calls_a_namespace(files)
    return "ts-node" if metadata or legacy or ordered or called else "tsx"


# A statement that exports, and an import that runs a module (not ``import type``), each
# at a line's start (a module's top level).
_EXPORT = re.compile(rb"^export\s", re.MULTILINE)
_RUNNING_IMPORT = re.compile(rb"^import\s+(?!type\s)", re.MULTILINE)


def _imports_after_exports(files: dict[str, bytes]) -> bool:
    """Whether a TypeScript module of the app imports after it exports: compiled to
    CommonJS (TypeScript's own emit, ts-node's) its statements run in their order, the
    export set before the import runs; esbuild's (tsx) hoists every import first, as ES
    modules do. LuiFeAn's express-contacts-api's router/index.ts exports its Router, then
    imports the route modules that import it back and add to it: under tsx "Cannot read
    properties of undefined (reading 'post')"."""
    for path, data in files.items():
        if not path.endswith(".ts") or path.endswith(".d.ts") or "node_modules/" in path:
            continue
        first = _EXPORT.search(data)
        if first is not None and _RUNNING_IMPORT.search(data, first.end()):
            return True
    return False


_NAMESPACE_IMPORT = re.compile(rb"^import\s+\*\s+as\s+([A-Za-z_$][\w$]*)\s+from\b", re.MULTILINE)


def _calls_a_namespace(files: dict[str, bytes]) -> bool:
    """Whether a TypeScript module of the app calls (or ``new``s) what it imported as a
    namespace (``import * as knex from 'knex'`` then ``knex({...})``): TypeScript's
    CommonJS emit without ``esModuleInterop`` binds the module itself, a function;
    esbuild's (tsx) a namespace object, never callable (rodrigoribeirosilva's
    restaurant-api-express-knex: "TypeError: knex is not a function")."""
    for path, data in files.items():
        if not path.endswith(".ts") or path.endswith(".d.ts") or "node_modules/" in path:
            continue
        for name in _NAMESPACE_IMPORT.findall(data):
            if re.search(rb"(?<![\w$.])(?:new\s+)?" + re.escape(name) + rb"\s*\(", data):
                return True
    return False


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
