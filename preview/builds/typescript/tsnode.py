"""ts-node's compiler for an app whose decorator metadata names its enums:
:func:`ts_node_compiler`.

A build's emit writes an enum-typed member's metadata as tsc does (``transpile.cjs``,
``enumtypes.cjs``); an app run under ``ts-node --transpile-only`` (its ORM loading its
``.ts`` entities at run time: lavellewarren's nestjs-crm-apis, ``@Column() status:
ContractStatus``) got the per-file emit's ``Object`` instead, and TypeORM refused the
column ("Data type "Object" in "Contract.status" is not supported by "postgres"") and
retried until the start-up timeout. ts-node takes its compiler from ``TS_NODE_COMPILER``:
a module of the app's directory (``tsnodecompiler.cjs``), the project's own TypeScript
with the same hook added to its emit.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from ...apps.node.envreads import node_sources
from ...apps.node.tscout import compiler_options

__all__ = ["TS_NODE_COMPILER_NAME", "ts_node_compiler"]

# Written into the app's directory (its sandbox sees it), named by TS_NODE_COMPILER.
TS_NODE_COMPILER_NAME = ".preview-ts-node-compiler.cjs"
_HERE = resources.files(__name__.rpartition(".")[0])
_PROGRAM = "\n".join(
    _HERE.joinpath(name).read_text(encoding="utf-8")
    for name in ("tsnodecompiler.cjs", "enumtypes.cjs")
)
_TS = (".ts", ".mts", ".cts", ".tsx")
_ENUM = re.compile(r"(?:^|[\s;])(?:export\s+)?(?:declare\s+)?enum\s+[A-Za-z_$]", re.MULTILINE)


def ts_node_compiler(files: dict[str, bytes], app_dir: Path) -> Path | None:
    """The compiler module for ts-node, written into ``app_dir``, where the project's
    tsconfig.json emits decorator metadata and a TypeScript source of the app declares an
    enum; None (nothing written) otherwise, or where ``app_dir`` is not made yet."""
    if compiler_options(files).get("emitDecoratorMetadata") is not True or not app_dir.is_dir():
        return None
    if not any(p.endswith(_TS) and _ENUM.search(t) for p, t in node_sources(files)):
        return None
    path = app_dir / TS_NODE_COMPILER_NAME
    if not path.is_file() or path.read_text(encoding="utf-8") != _PROGRAM:
        path.write_text(_PROGRAM, encoding="utf-8")
    return path
