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

A TypeScript app with no tsconfig at all, whose scripts compile or run it with tsc or
ts-node (which then fall back to defaults of theirs that do not agree: ts-node's
"TS5109: Option 'moduleResolution' must be set to 'NodeNext'" under TypeScript 5, tsc
printing its help), is given one (:func:`missing_tsconfig`): the options a script's own
``tsc --init --rootDir ./src --outDir ./bin`` names (JannickOste's express-learning-project
makes its tsconfig in its ``install`` script, which a preview's install does not run),
else the folders its compiled start says (``node ./bin/App.js`` of ``src/App.ts``), over
CommonJS for Node, decorators and their metadata, and no strictness the app did not ask for.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex

from ..node.tscout import jsonc

__all__ = ["declaration_links", "missing_tsconfig"]

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


# The options of a tsconfig written where there is none: what tsc --init would leave on,
# for Node's CommonJS, with decorators (NestJS, TypeORM, routing-controllers).
_BASE_OPTIONS = {
    "target": "ES2020",
    "module": "commonjs",
    "esModuleInterop": True,
    "experimentalDecorators": True,
    "emitDecoratorMetadata": True,
    "resolveJsonModule": True,
    "skipLibCheck": True,
}
# An ES module package's (``"type": "module"``): Node's own resolution.
_ES_MODULE_OPTIONS = {"module": "NodeNext", "moduleResolution": "NodeNext"}
_TS_TOOL = re.compile(r"(?:^|[\s;&|(])(?:npx\s+)?(?:tsc|ts-node(?:-dev)?|nest)(?:\s|$)")
_INIT = re.compile(r"\btsc\s+--init\b([^;&|]*)")
_COMPILED_START = re.compile(r"\bnode\s+(?:\./)?([\w./-]+)\.js\b")


def missing_tsconfig(files: dict[str, bytes]) -> dict[str, bytes]:
    """``{"<folder>/tsconfig.json": its text}`` for each package (none under node_modules)
    with TypeScript sources and no tsconfig in its folder nor above it in the upload, whose
    scripts run tsc, ts-node or nest (see the module doc); ``{}`` elsewhere."""
    written: dict[str, bytes] = {}
    for path, data in files.items():
        if posixpath.basename(path) != "package.json" or "node_modules/" in f"/{path}":
            continue
        folder = posixpath.dirname(path)
        package = jsonc(data)
        scripts = package.get("scripts") if isinstance(package, dict) else None
        if not isinstance(scripts, dict) or _has_tsconfig(files, folder):
            continue
        lines = [s for s in scripts.values() if isinstance(s, str)]
        sources = [p for p in files if _inside(p, folder) and _typescript(p)]
        if not sources or not any(_TS_TOOL.search(line) for line in lines):
            continue
        options: dict[str, object] = dict(_BASE_OPTIONS)
        if isinstance(package, dict) and package.get("type") == "module":
            options |= _ES_MODULE_OPTIONS
        options |= _init_options(lines) or _compiled_folders(lines, sources, folder)
        config = {"compilerOptions": options, "exclude": ["node_modules"]}
        text = json.dumps(config, indent=2) + "\n"
        written[posixpath.join(folder, "tsconfig.json")] = text.encode()
    return written


def _has_tsconfig(files: dict[str, bytes], folder: str) -> bool:
    while True:
        if posixpath.join(folder, "tsconfig.json") in files:
            return True
        if not folder:
            return False
        folder = posixpath.dirname(folder)


def _inside(path: str, folder: str) -> bool:
    return (not folder or path.startswith(f"{folder}/")) and "node_modules/" not in f"/{path}"


def _typescript(path: str) -> bool:
    return path.endswith((".ts", ".mts", ".cts")) and not path.endswith(".d.ts")


def _init_options(lines: list[str]) -> dict[str, object]:
    """The options a script's ``tsc --init --flag [value] …`` names (a flag alone, or
    followed by another flag, is on)."""
    for line in lines:
        if (found := _INIT.search(line)) is None:
            continue
        try:
            words = shlex.split(found.group(1))
        except ValueError:
            continue
        options: dict[str, object] = {}
        for at, word in enumerate(words):
            if not word.startswith("--"):
                continue
            following = words[at + 1] if at + 1 < len(words) else None
            if following is None or following.startswith("--"):
                options[word[2:]] = True
            else:
                options[word[2:]] = {"true": True, "false": False}.get(following, following)
        return options
    return {}


def _compiled_folders(lines: list[str], sources: list[str], folder: str) -> dict[str, object]:
    """``rootDir`` and ``outDir`` where a script runs ``node <out>/<name>.js`` and the
    package's one source of that name is ``<root>/<name>.ts``."""
    for line in lines:
        for match in _COMPILED_START.finditer(line):
            out, name = posixpath.split(match.group(1))
            roots = {
                posixpath.dirname(posixpath.relpath(s, folder or "."))
                for s in sources
                if posixpath.basename(s) == f"{name}.ts"
            }
            if out and len(roots) == 1 and (root := roots.pop()) != out:
                return {"rootDir": f"./{root}" if root else ".", "outDir": f"./{out}"}
    return {}
