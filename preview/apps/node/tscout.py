"""Where tsc writes a start script's entry: :func:`emitted_start`.

tsc writes each source under ``outDir`` at its path from ``rootDir``, which, unset, is the
common directory of every file the build's tsconfig takes in. A project compiling files
beside ``src/`` (Sairyss' domain-driven-hexagon: ``database/*.ts``, ``tests/``, its
``tsconfig.build.json`` excluding only ``test``) gets ``dist/src/main.js``, not the
``dist/main.js`` its ``"start:prod": "node dist/main"`` runs ("Cannot find module"). Nest's
own ``nest start`` looks in both places; a preview runs the file tsc writes, as it does.

A start naming its file by its path within ``outDir`` (``"start": "node index.js"``, the
build copying package.json there: the output folder is what is deployed, and run there)
whose file the upload lacks, its TypeScript source there (``src/index.ts``), runs the
output's (AndreiDiaconovici's express-weather-app: "Cannot find module 'index.js'").

AdonisJS's ``node ace build`` compiles the whole project into ``build/`` and its ``"start":
"node bin/server.js"`` is meant to run there (``cd build``, as the build says): a start
whose file the upload lacks, its TypeScript source beside, runs ``build/``'s.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re

from preview.apps.node.fallbacks import NODE_FILE

__all__ = [
    "compiler_options",
    "emitted_file",
    "emitted_start",
    "glob_pattern",
    "jsonc",
    "loads_as_es_module",
]

_PROJECT = re.compile(r"(?:^|\s)(?:-p|--project)(?:=|\s+)(\S+)")
_TS = (".ts", ".tsx", ".mts", ".cts")
_ALWAYS_OUT = ("node_modules", "bower_components", "jspm_packages")  # tsc's default exclude
# Comments, then commas before a closing bracket, which tsconfig allows and JSON does not
# (in two passes: `true, // why` on the last line left its comma). A string or comment
# left open runs to the end (JSON then refuses it): one that had to be closed was scanned
# to the end from each of its kind (a tsconfig of "/*a" 80,000 times: minutes, the GIL held).
_STRING = r'("(?:\\.?|[^"\\])*+(?:"|\Z))'
_JSONC_COMMENTS = re.compile(_STRING + r"|//[^\n]*+|/\*.*?(?:\*/|\Z)", re.S)
_TRAILING_COMMAS = re.compile(_STRING + r"|,(?=\s*+[}\]])")
_MAX_EXTENDS = 4
_ACE_BUILD = re.compile(r"\bnode\s++ace(?:\.js)?+\s++build\b")
_ADONISRC = {"adonisrc.ts", ".adonisrc.json"}
# A JSON module imported by a relative path (``import pkg from "../package.json"``,
# ``with { type: "json" }`` or not; ``import("./data.json")``).
# A relative import (``from "../config-swagger"``, ``import("./x.json")``): what it names
# is a file of tsc's program, wherever it lies.
_RELATIVE_IMPORT = re.compile(r"""(?:\bfrom|\bimport\s*\(?)\s*["'](\.{1,2}/[^"'\n]+)["']""")
_MOST_IMPORTED = 200  # files followed from the inputs' imports, at most
# A module that starts a server (``app.listen(PORT``, ``server.listen(``), and the test
# files a build compiles too, which are no entry.
_LISTENS = re.compile(rb"\.listen\(")
_TEST = re.compile(r"\.(?:spec|test)\.[cm]?tsx?$|(?:^|/)(?:tests?|__tests__)/")


def emitted_start(script: str, build: str, files: dict[str, bytes]) -> str | None:
    """``script`` (``node dist/main``) running the file tsc writes for its entry instead
    (``node dist/src/main``), where the ``build`` script compiles with tsc (or ``nest
    build``) to a place other than the one it names (or it names it from within the
    output: ``node main.js``, module doc); None where it runs what tsc writes, or cannot
    be read as that."""
    match = NODE_FILE.fullmatch(script.strip())
    if match is not None and _ACE_BUILD.search(build) and _ADONISRC & files.keys():
        target = posixpath.normpath(match.group(2))
        stem = target.removesuffix(".js")
        if target not in files and any(f"{stem}{ext}" in files for ext in _TS):
            return f"{match.group(1)}build/{target}"  # (the adonisrc's buildDir is fixed)
    config = _build_config(build, files)
    if match is None or config is None:
        return None
    options, include, exclude = _read(config, files)
    out = _relative(posixpath.dirname(config), options.get("outDir"))
    target = posixpath.normpath(match.group(2))
    stem = target.removesuffix(".js")
    if not out or target in files or target.startswith("../"):
        return None
    within = stem.startswith(f"{out}/")
    rest = stem[len(out) + 1 :] if within else stem
    names = (f"{base}{ext}" for base in (rest, f"src/{rest}") for ext in _TS)
    source = next((name for name in names if name in files), None)
    if not within and source is None:
        return None  # a file of its own, not the output's
    inputs = _inputs(files, posixpath.dirname(config), include, [*exclude, out])
    if source is None:
        # No source of the file it names (npm init's ``index.js``): the one module the
        # build compiles that listens is the server it means (Lactantius' express-cart:
        # ``"start": "node dist/index.js"``, its server src/server.ts: "Cannot find
        # module 'dist/index.js'"); none, or several, and it is left as it is.
        listening = [p for p in inputs if not _TEST.search(p) and _LISTENS.search(files[p])]
        if len(listening) != 1:
            return None
        source = listening[0]
    written = _written(source, posixpath.dirname(config), (out, options), inputs, files)
    if written is None or written == stem:
        return None
    return f"{match.group(1)}{written}{'.js' if target.endswith('.js') else ''}"


def emitted_file(source: str, files: dict[str, bytes], config: str = "tsconfig.json") -> str | None:
    """The JavaScript file tsc writes for the TypeScript ``source`` by the project's
    ``config`` (``src/db/conexion.ts``: ``build/db/conexion.js`` where rootDir is ``src``
    and outDir ``build``); None where the config names no outDir or does not take it in."""
    if config not in files:
        return None
    options, include, exclude = _read(config, files)
    out = _relative(posixpath.dirname(config), options.get("outDir"))
    if not out:
        return None
    inputs = _inputs(files, posixpath.dirname(config), include, [*exclude, out])
    if source not in inputs:
        return None
    written = _written(source, posixpath.dirname(config), (out, options), inputs, files)
    return None if written is None else f"{written}.js"


def _written(
    source: str,
    home: str,
    emit: tuple[str, dict],
    inputs: list[str],
    files: dict[str, bytes],
) -> str | None:
    """Where tsc writes ``source``, without its extension, by the config in folder
    ``home`` (``emit``: its outDir and its options): under outDir at its path from
    rootDir, which, unset, is the common folder of the build's ``inputs``."""
    out, options = emit
    root = _relative(home, options.get("rootDir"))
    if root is None:
        inputs = [*inputs, *_imported(inputs, files, _resolves_json(options))]
        folders = [posixpath.dirname(path) for path in inputs]
        root = posixpath.commonpath(folders) if folders and all(folders) else ""
    if root and not source.startswith(f"{root}/"):
        return None
    return posixpath.join(out, posixpath.splitext(source[len(root) + 1 if root else 0 :])[0])


def _resolves_json(options: dict) -> bool:
    """Whether tsc resolves JSON modules: the tsconfig's word, else its default, which is
    yes under ``moduleResolution: bundler`` (TypeScript 5)."""
    given = options.get("resolveJsonModule")
    if isinstance(given, bool):
        return given
    return str(options.get("moduleResolution", "")).lower() == "bundler"


def _imported(sources: list[str], files: dict[str, bytes], json: bool) -> list[str]:
    """The upload's modules ``sources`` import by a relative path that they do not hold
    (those imports' own, in turn): files of tsc's program, and so of its common root,
    wherever they lie. nghia3110's nestjs-final includes ``src/**/*`` and imports
    ``../config-swagger`` (a .ts at its root) from src/main.ts: its entry written to
    dist/src/main.js ("Cannot find module 'dist/main'"); allenlin90's hono-drizzle-api
    imports ``../../package.json`` (``json``: tsc resolves JSON modules): likewise."""
    held, found = set(sources), []
    queue = list(sources)
    while queue and len(found) < _MOST_IMPORTED:
        source = queue.pop()
        text = files[source].decode("utf-8", "replace")
        for imported in _RELATIVE_IMPORT.findall(text):
            base = posixpath.normpath(posixpath.join(posixpath.dirname(source), imported))
            if base.startswith("../"):
                continue
            module = _module_file(base, files, json)
            if module is not None and module not in held:
                held.add(module)
                found.append(module)
                if not module.endswith(".json"):
                    queue.append(module)
    return found


def _module_file(base: str, files: dict[str, bytes], json: bool) -> str | None:
    """The file a relative import of ``base`` resolves to for tsc: itself (a JSON file,
    where ``json``), else a TypeScript source by that name (``./x.js`` names ``x.ts``),
    else its folder's index; never a declaration file, which no output is written for."""
    if base.endswith(".json"):
        return base if json and base in files else None
    stem = base.removesuffix(".js") if base.endswith(".js") else base
    for name in (*(f"{stem}{ext}" for ext in _TS), *(f"{stem}/index{ext}" for ext in _TS)):
        if name in files and not name.endswith(".d.ts"):
            return name
    return None


def _build_config(build: str, files: dict[str, bytes]) -> str | None:
    """The tsconfig the build compiles with: its ``-p``, Nest's ``tsConfigPath`` (else
    ``tsconfig.build.json``), else ``tsconfig.json``; None for a build that is not tsc's."""
    if given := _PROJECT.search(build):
        path = given.group(1)
        # (normalised after the join: ``tsc -p .`` names ``tsconfig.json``, not ``./tsconfig.json``)
        path = posixpath.normpath(path if path.endswith(".json") else f"{path}/tsconfig.json")
        return path if path in files and re.search(r"\btsc\b", build) else None
    if re.search(r"\bnest\s+build\b", build):
        nest = jsonc(files.get("nest-cli.json"))
        options = nest.get("compilerOptions") if isinstance(nest, dict) else None
        named = options.get("tsConfigPath") if isinstance(options, dict) else None
        for path in (named, "tsconfig.build.json", "tsconfig.json"):
            if isinstance(path, str) and path.removeprefix("./") in files:
                return path.removeprefix("./")
        return None
    return "tsconfig.json" if re.search(r"\btsc\b", build) and "tsconfig.json" in files else None


def compiler_options(files: dict[str, bytes], config: str = "tsconfig.json") -> dict:
    """``config``'s compilerOptions, parsed, over those of what it ``extends`` in the
    upload (``"extends": "./tsconfig.base.json"``): a package's tsconfig is not read)."""
    return _read(config, files)[0]


def _read(config: str, files: dict[str, bytes], depth: int = 0) -> tuple[dict, list, list]:
    """A tsconfig's compilerOptions, include and exclude, its ``extends`` (a file of the
    upload's) under them; paths in them as written (relative to ``config``'s directory,
    which is the one every config here is read from: one ``extends`` chain per folder)."""
    data = jsonc(files.get(config))
    data = data if isinstance(data, dict) else {}
    options, include, exclude = {}, ["**/*"], []
    parent = data.get("extends")
    if isinstance(parent, str) and parent.startswith(".") and depth < _MAX_EXTENDS:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(config), parent))
        options, include, exclude = _read(
            path if path.endswith(".json") else f"{path}.json", files, depth + 1
        )
    own = data.get("compilerOptions")
    options = {**options, **(own if isinstance(own, dict) else {})}
    if isinstance(data.get("include"), list):
        include = [p for p in data["include"] if isinstance(p, str)]
    elif isinstance(data.get("files"), list):  # files alone: include defaults to none
        include = [p for p in data["files"] if isinstance(p, str)]
    if isinstance(data.get("exclude"), list):
        exclude = [p for p in data["exclude"] if isinstance(p, str)]
    return options, include, exclude


def _inputs(files: dict[str, bytes], home: str, include: list, exclude: list) -> list[str]:
    """The TypeScript sources (no declarations) ``include`` takes and ``exclude`` leaves."""
    found = []
    for path in files:
        rel = path[len(home) + 1 :] if home else path
        if (home and not path.startswith(f"{home}/")) or not path.endswith(_TS):
            continue
        if path.endswith(".d.ts") or any(p in _ALWAYS_OUT for p in rel.split("/")):
            continue
        if _matched(rel, include) and not _matched(rel, exclude):
            found.append(path)
    return found


def _matched(rel: str, patterns: list) -> bool:
    """Whether a tsconfig's include or exclude ``patterns`` take ``rel``: a folder's name
    takes what it holds, ``*`` and ``?`` match within a name, ``**/`` any folders, none
    too (``src/**/*`` takes src/main.ts: read as fnmatch reads it, it took nothing
    directly in src/, and a build of src/ alone was thought to write dist/src/main.js)."""
    for pattern in patterns:
        pattern = posixpath.normpath(pattern.removeprefix("./")) if pattern else ""
        if pattern in ("", ".", "**/*") or rel.startswith(f"{pattern}/"):
            return True
        if _tsc_glob(pattern).fullmatch(rel):
            return True
    return False


def glob_pattern(glob: str) -> re.Pattern[str]:
    """The paths ``glob`` matches, as tsc's include and drizzle-kit's schema read it:
    ``**/`` any folders (none too), ``*`` and ``?`` within one name."""
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", glob)
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts))


def _tsc_glob(pattern: str) -> re.Pattern[str]:
    """tsc's reading of an include or exclude pattern, as a regular expression of a
    path: what it names, and what that holds if it is a folder."""
    return re.compile(f"{glob_pattern(pattern).pattern}(?:/.*)?")


def _relative(home: str, path: object) -> str | None:
    if not isinstance(path, str) or not path.strip():
        return None
    joined = posixpath.normpath(posixpath.join(home, path))
    return "" if joined == "." else joined


def jsonc(data: bytes | None) -> object:
    """A tsconfig's (or another JSON-with-comments file's) document; None if it is none."""
    if data is None or len(data) > 256 * 1024:
        return None
    text = data.decode("utf-8-sig", "replace")
    for noise in (_JSONC_COMMENTS, _TRAILING_COMMAS):
        text = noise.sub(lambda m: m.group(1) or "", text)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def loads_as_es_module(files: dict[str, bytes], path: str) -> bool:
    """Whether Node loads ``path``, or the file tsc emits of it, as an ES module: a
    ``.mjs`` or ``.mts``, or a ``.js`` or ``.ts`` (not a declaration) whose nearest
    package.json of the upload says ``"type": "module"``."""
    if path.endswith((".mjs", ".mts")):
        return True
    if not path.endswith((".js", ".ts")) or path.endswith(".d.ts"):
        return False
    folder = posixpath.dirname(path)
    while (manifest := posixpath.join(folder, "package.json")) not in files:
        if not folder:
            return False
        folder = posixpath.dirname(folder)
    return _says_module(files[manifest])


@functools.lru_cache(maxsize=64)
def _says_module(manifest: bytes) -> bool:
    """Whether the package.json ``manifest`` says ``"type": "module"`` (read once for the
    many sources below it: the import spelling asks for each)."""
    try:
        package = json.loads(manifest)
    except (ValueError, RecursionError):
        return False
    return isinstance(package, dict) and package.get("type") == "module"
