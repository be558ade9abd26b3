"""The tsconfig of a Node app that emits declarations, told to keep node_modules' link path:
:func:`declaration_links`.

A preview's ``node_modules`` is a link to the environment built for it, outside the
project. tsc follows links to their real place (unless ``preserveSymlinks``), so the
packages it reads are outside the project too, and where it writes declarations
(``"declaration": true``, or ``composite``, which implies it), a type the app's code
infers from a package it does not import by name cannot be named from the project:
"TS2742: The inferred type of 'canActivate' cannot be named without a reference to
'../env/node_modules/rxjs/dist/types'. This is likely not portable" (anuragtiwari890's
nestjs-jwt-refresh-token-example: every ``nest start`` plan failed on two of them; the
Nest CLI's template sets ``declaration: true``). In the author's checkout, node_modules is
in the project, and ``rxjs`` is reachable from the source by its name. tsc given
``preserveSymlinks`` keeps the link's path, node_modules the project's, and emits and
passes (as node is given ``--preserve-symlinks`` where a tool reads node_modules' place:
``builds.appenv``).

Each ``tsconfig*.json`` of the upload (none under node_modules) whose own
``compilerOptions`` set ``declaration`` or ``composite`` and say nothing of
``preserveSymlinks`` is written again with it (its comments left out: JSON with comments
is read as tsc reads it, ``apps.node.tscout.jsonc``); one extending it inherits it.
"""

from __future__ import annotations

import json
import posixpath
import re

from ..node.tscout import jsonc

__all__ = ["declaration_links"]

_TSCONFIG = re.compile(r"^tsconfig(?:\.[\w.-]+)?\.json$")


def declaration_links(files: dict[str, bytes]) -> dict[str, bytes]:
    """``{path: the tsconfig written again with preserveSymlinks}`` (see the module doc)."""
    written: dict[str, bytes] = {}
    for path, data in files.items():
        if not _TSCONFIG.match(posixpath.basename(path)) or "node_modules/" in f"/{path}":
            continue
        config = jsonc(data)
        if not isinstance(config, dict):
            continue
        options = config.get("compilerOptions")
        if not isinstance(options, dict) or "preserveSymlinks" in options:
            continue
        if options.get("declaration") is not True and options.get("composite") is not True:
            continue
        config["compilerOptions"] = {**options, "preserveSymlinks": True}
        written[path] = (json.dumps(config, indent=2, ensure_ascii=False) + "\n").encode()
    return written
