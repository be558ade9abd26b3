"""How a Node app starts when its ``package.json`` has no ``start`` (or ``start:prod``)
script: whether its ``main`` is a file the app has or its build makes (:func:`made_main`),
else a script that plainly serves it under another name (:func:`serving_script`: ``"server":
"node build/server.js"``; or one that only runs such a script: :func:`serving_through`),
else its development script (:data:`DEV_SCRIPTS`: ``dev``, else ``start:dev`` …, run once,
its watcher off).

A ``main`` is often npm's default (``index.js``, written by ``npm init``), naming no file:
eflem00's koa-boilerplate has ``"main": "index.js"``, a ``tsc`` build into ``build/`` and
only ``start:dev`` (``nodemon --exec ts-node src/Server.ts``). A ``main`` the upload lacks
is taken as the build's output only where the build can be seen to make it: it lies under
the build's output directory (``tsconfig.json``'s ``outDir``, or ``dist/``, ``build/``,
``lib/``, ``out/``), or its TypeScript source is there (``src/index.ts`` for
``index.js``), or the build script names it. A start script running such a file where
nothing builds (no ``build`` script, no ``prestart``) has the project's own ``tsc`` make it
first (:func:`tsc_build`).
"""

from __future__ import annotations

import base64
import fnmatch
import posixpath
import re
import shlex
from collections.abc import Callable

from .devscript import compiled_once, without_watcher

__all__ = [
    "DEV_SCRIPTS",
    "NODE_FILE",
    "SERVERLESS_HTTP_NAME",
    "SERVERLESS_HTTP_PRELOAD",
    "SERVES_HANDLER",
    "adapter_export",
    "adapter_server",
    "ecosystem_start",
    "fetch_export",
    "fetch_server",
    "lists_serverless_http",
    "made_main",
    "project_start",
    "serving_script",
    "serving_through",
    "ships_image",
    "tsc_build",
    "uncommented",
    "variant_build",
]

# The development scripts, in order: the first the app has runs (its watcher off).
DEV_SCRIPTS = ("dev", "start:dev", "dev:server", "server:dev", "serve:dev", "develop")
# Scripts that start a built app under a name other than start (``"server": "node
# build/server.js"``, hi-ogawa's typescript-express-example): only a plain ``node FILE``.
_SERVING = ("start:production", "production", "prod", "server", "serve", "start:server")
# A script that plainly runs node on one file: group 1 what comes before the file (its
# variables, cross-env's or the shell's, node and its options), group 2 the file. Each
# part matches one way only, and what it matched is never given back (possessive): read
# by re, which holds the GIL, a script of 40 ``--a`` options failing at its end took
# 2^40 steps, the service stopped.
NODE_FILE = re.compile(
    r"((?:cross-env\s++)?+(?:[A-Z_][A-Z0-9_]*+=\S*+\s++)*+"
    r"node\s++(?:-{1,2}+\w[\w-]*+(?:=\S++)?+\s++)*+)"
    r"(?:\./)?([\w./-]+)"
)
_OUTPUT_DIRS = ("dist", "build", "lib", "out", ".output")
_OUT_DIR = re.compile(rb'"outDir"\s*:\s*"([^"]+)"')
_ROOT_DIR = re.compile(rb'"rootDir"\s*:\s*"([^"]+)"')
# tsconfig's comments (``tsc --init`` writes every option commented out: ``// "rootDir":
# "./",``), which say nothing of what tsc does.
_COMMENTS = re.compile(rb"/\*.*?\*/|^\s*//[^\n]*", re.S | re.M)
# Sources tsc does not compile into the app: declarations, dependencies', tests'.
_NOT_COMPILED = re.compile(
    r"\.d\.[cm]?ts$|(?:^|/)(?:node_modules|tests?|__tests__)/|\.(?:spec|test)\."
)
_TS_SOURCES = (".ts", ".mts", ".tsx")


def made_main(main: str, files: dict[str, bytes], build: str) -> str | None:
    """Where the build script ``build`` can be seen to make ``main`` (not in the upload):
    ``main`` itself, or, where only its TypeScript source is there, the file tsc writes
    from that source (:func:`_emitted`: veressgergo88's kenn-crud backend has ``"main":
    "index.js"``, src/index.ts and ``"outDir": "./out"``: "Cannot find module 'index.js'");
    None where it cannot be: see the module doc."""
    path = posixpath.normpath(main.removeprefix("./"))
    if not build.strip() or path.startswith(".."):
        return None
    outputs: set[str] = set(_OUTPUT_DIRS)
    out = _out_dir(files)
    if out is not None:
        outputs.add(out)
    if any(path == out or path.startswith(f"{out}/") for out in outputs):
        return path  # (the directory itself: node runs its index.js, "start": "node lib/")
    stem = posixpath.splitext(path)[0]
    for base in (stem, f"src/{stem}"):
        if source := next((f"{base}{e}" for e in _TS_SOURCES if f"{base}{e}" in files), None):
            return _emitted(source, files, out)
    found = re.search(rf"(?:^|[\s/=]){re.escape(path)}(?:\s|$)", build) is not None
    return path if found else None


def _tsconfig_folder(files: dict[str, bytes], option: re.Pattern[bytes]) -> str | None:
    """The folder the project's tsconfig (its build's first) names by ``option``
    (``outDir``, ``rootDir``), normalised; None where neither names one."""
    for config in ("tsconfig.build.json", "tsconfig.json"):
        if found := option.search(uncommented(files.get(config, b""))):
            return posixpath.normpath(found.group(1).decode("utf-8", "replace").removeprefix("./"))
    return None


def _out_dir(files: dict[str, bytes]) -> str | None:
    """The ``outDir`` of the project's tsconfig, if it names one other than its own."""
    out = _tsconfig_folder(files, _OUT_DIR)
    return None if out in (".", "") else out


def uncommented(config: bytes) -> bytes:
    """A tsconfig's text without its comments."""
    return _COMMENTS.sub(b"", config)


def _emitted(source: str, files: dict[str, bytes], out: str | None) -> str:
    """The JavaScript tsc writes from ``source``: beside it without an ``outDir``; else
    below ``out`` at its path from the ``rootDir`` (tsconfig's, else the folder holding
    every source tsc compiles: ``src`` where all are there)."""
    stem = posixpath.splitext(source)[0]
    if out is None:
        return f"{stem}.js"
    root = _tsconfig_folder(files, _ROOT_DIR)
    if root is None:
        sources = [p for p in files if p.endswith(_TS_SOURCES) and not _NOT_COMPILED.search(p)]
        root = "src" if sources and all(p.startswith("src/") for p in sources) else ""
    root = "" if root == "." else root
    relative = posixpath.relpath(stem, root) if root else stem
    return posixpath.join(out, f"{relative}.js")


# A project's own start among several a monorepo could have (``start:api``,
# ``start:api:prod``): group 1 its project.
_PROJECT_START = re.compile(r"^start:([\w-]+)(:prod(?:uction)?)?$")
_NOT_PROJECTS = {"dev", "debug", "watch", "test", "hmr", "prod", "production", "local"}


def project_start(scripts: dict[str, str]) -> tuple[str, str] | None:
    """(the script starting the app's one project, the script building it or "") where the
    package has no start but ``start:<project>`` scripts for a single project, its
    production one first with that project's build (kosAndrey22's Nest-Typeorm-Postgres,
    a Nest monorepo: ``start:api:prod`` runs ``node dist/apps/api/main`` after
    ``build:api``; no script was found to run it); None for none or several projects."""
    found = {m.group(1): m for name in scripts if (m := _PROJECT_START.match(name)) is not None}
    projects = {p for p in found if p not in _NOT_PROJECTS}
    if len(projects) != 1:
        return None
    (project,) = projects
    prod = next(
        (
            f"start:{project}{s}"
            for s in (":prod", ":production")
            if f"start:{project}{s}" in scripts
        ),
        None,
    )
    build = next((b for b in (f"build:{project}", "build") if scripts.get(b, "").strip()), "")
    if prod is not None and build:
        return prod, build
    return f"start:{project}", ""


def serving_script(scripts: dict[str, str]) -> str | None:
    """The name of the first script of :data:`_SERVING` that plainly runs ``node`` on a
    file (None: none does)."""
    for name in _SERVING:
        if NODE_FILE.fullmatch(scripts.get(name, "").strip()):
            return name
    return None


# A script that only runs another of the project's scripts (``"serve": "npm run
# start-nodemon"``): group 1 the script it runs.
_RUNS_SCRIPT = re.compile(r"(?:npm\s+run(?:-script)?|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+([\w:.-]+)")


def serving_through(
    scripts: dict[str, str], one_shot: Callable[[str], str]
) -> tuple[str, str] | None:
    """(the name of the first script of :data:`_SERVING` that only runs another script,
    the script it ends at) where that one, run once (``one_shot``: its watcher off,
    ``cross-env NODE_ENV=development nodemon build/server.js`` → ``NODE_ENV=development
    node build/server.js``), plainly runs ``node`` on a file; None where none does.
    jyotendra's express-sequelize-boilerplate serves with ``"serve": "npm run
    start-nodemon"`` and has no start or dev script."""
    for name in _SERVING:
        seen = [name]
        while (run := _RUNS_SCRIPT.fullmatch(scripts.get(seen[-1], "").strip())) is not None:
            if run.group(1) in seen or run.group(1) not in scripts:
                break
            seen.append(run.group(1))
        if len(seen) > 1 and NODE_FILE.fullmatch(one_shot(scripts[seen[-1]].strip())):
            return name, seen[-1]
    return None


# Commands that build or push a container image, not the app (``docker build …``).
_IMAGE_TOOLS = frozenset({"docker", "podman", "docker-compose", "buildah"})
# npm-run-all's runners of scripts by name or glob (``run-s docker:*``).
_SCRIPT_RUNNERS = frozenset({"run-s", "run-p", "npm-run-all"})


def ships_image(script: str, scripts: dict[str, str], depth: int = 0) -> bool:
    """Whether a build script only builds or pushes a container image (scottdkey's
    koaBase: ``"build": "run-s docker:*"``, ``docker build`` and ``docker push``; its
    app's compile is its ``ts`` script's ``tsc``): read through the scripts it runs."""
    commands = [c.split() for c in re.split(r"&&|;|\|\|", script) if c.strip()]
    if not commands or depth > 3:
        return False
    for words in commands:
        named: list[str] = []
        if words[0] in _SCRIPT_RUNNERS:
            patterns = [w for w in words[1:] if not w.startswith("-")]
            named = [n for n in scripts if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        elif words[0] in ("npm", "pnpm", "yarn") and len(words) > 1:
            named = [words[2] if words[1] == "run" and len(words) > 2 else words[1]]
        elif words[0] in _IMAGE_TOOLS:
            continue
        if not named or not all(
            n in scripts and ships_image(scripts[n], scripts, depth + 1) for n in named
        ):
            return False
    return True


def tsc_build(scripts: dict[str, str], files: dict[str, bytes], listed: dict[str, str]) -> str:
    """``tsc`` where the start script (else the dev script) plainly runs ``node`` on a file
    the upload lacks, under the output directory of the project's own TypeScript, and no
    script builds it (pawanganesh's fastify-typescript-typeorm: ``"start": "node
    build/server.js"``, its tsc only in its dev script's ``tsc-watch``; Feathers' generated
    ``"start": "node lib/"``, its tsc in a ``compile`` script); else ``""``."""
    built = ("build", "build:prod", "build:production", "prestart", "prestart:prod")
    # Its tsconfig says it is compiled where it lists no TypeScript (its author's tsc was
    # global: tatjama's typescript-node-express; the start's detection adds the compiler).
    typescript = "typescript" in listed or "tsconfig.json" in files
    if not typescript or any(
        scripts.get(name, "").strip() and not ships_image(scripts[name], scripts) for name in built
    ):
        return ""
    # Or, where neither is, the dev script that then runs (fathurds' belajar-express-
    # typescript: ``"dev": "nodemon ./build/index.js"``, its tsc in a ``tsc`` script).
    # (A variant's own build, ``build:dev``, is its dev script's: ``variant_build``.)
    variants = any(name.startswith("build") for name in scripts)
    dev = (
        ""
        if variants
        else next((scripts[n] for n in DEV_SCRIPTS if scripts.get(n, "").strip()), "")
    )
    script = (scripts.get("start:prod") or scripts.get("start") or dev).strip()
    # Run once, as the preview runs it (one tutorial's todo API, five apps of heldout19:
    # ``"start": "nodemon dist/app.js"``, no build script: "Cannot find module").
    script = without_watcher(script)
    target = script.split()[-1].removeprefix("./") if NODE_FILE.fullmatch(script) else ""
    if target in files and "tsconfig.json" in files and _stale_output(target, files):
        return "tsc"
    if target in files:  # (express-generator's bin/www, requiring '../dist/app')
        target = next(iter(_built_requires(target, files)), "")
    made = target and target not in files and made_main(target, files, "tsc") is not None
    if not made:
        return ""
    return "tsc" if "tsconfig.json" in files else _tsc_of_source(target, files)


def _stale_output(target: str, files: dict[str, bytes]) -> bool:
    """Whether ``target``, a file the upload commits under its tsconfig's ``outDir``, is of
    an older build than its sources: a TypeScript module of the folder they are compiled
    from has no JavaScript there, where others have (guidomiranda's afex-challenge
    commits build/index.js, which serves no route, and src/index.ts mounts
    src/routes/delivery.ts, which build/ has nothing of: every route answered 404)."""
    out = _out_dir(files)
    if out is None or not target.startswith(f"{out}/"):
        return False
    root = _tsconfig_folder(files, _ROOT_DIR)
    sources = [p for p in files if p.endswith(_TS_SOURCES) and not _NOT_COMPILED.search(p)]
    if root is None:
        root = "src" if sources and all(p.startswith("src/") for p in sources) else ""
    if root in ("", "."):
        return False  # (sources anywhere: another tool's, a front end's, may be among them)
    emitted = {_emitted(p, files, out) for p in sources if p.startswith(f"{root}/")}
    return bool(emitted & files.keys()) and bool(emitted - files.keys())


# A relative require of a CommonJS file: group 1 the path required.
_RELATIVE_REQUIRE = re.compile(rb"""\brequire\(\s*["'](\.{1,2}/[^"'\n]+)["']\s*\)""")


def _built_requires(start: str, files: dict[str, bytes]) -> list[str]:
    """The files ``start`` (a JavaScript file of the upload) requires by a relative path
    that the upload lacks under any name node would try, from the project root:
    JamesOlaleye's CRUD-MVC-Architecture-NodeTS keeps express-generator's ``bin/www``,
    which requires ``'../dist/app'``, its TypeScript compiled only by a ``tsc -w`` script:
    "Cannot find module '../dist/app'"."""
    found = []
    for match in _RELATIVE_REQUIRE.finditer(files[start]):
        wanted = match.group(1).decode("utf-8", "replace")
        path = posixpath.normpath(posixpath.join(posixpath.dirname(start), wanted))
        names = (path, f"{path}.js", f"{path}.cjs", f"{path}/index.js")
        if not path.startswith("..") and not any(name in files for name in names):
            found.append(path)
    return found


# A file (or folder) under a build's output directory that a script runs.
_BUILT_PATH = re.compile(r"(?:^|\s)(?:\./)?((?:dist|build|lib|out)/[\w./-]*)")
# The words of a script's name that name no variant of it.
_NOT_VARIANT = {"start", "serve", "server", "run"}


def variant_build(name: str, scripts: dict[str, str], files: dict[str, bytes]) -> str | None:
    """The build script of the script ``name``'s own variant (``start:dev`` runs what
    ``build:dev`` makes; ``build-dev`` and ``dev:build`` alike), where ``name`` runs a
    file the upload lacks that that build can be seen to make (:func:`made_main`); None
    elsewhere. kgomez95's Nodejs-typescript-api-crud has ``"start:dev": "nodemon
    dist/index.js"`` and ``"build:dev": "tsc && copyfiles …"``, no start nor build
    script: "Cannot find module 'dist/index.js'"."""
    found = _BUILT_PATH.search(scripts.get(name, ""))
    target = posixpath.normpath(found.group(1)) if found else ""
    if not target or target in files:
        return None
    for variant in (w for w in re.split(r"[:-]", name) if w and w not in _NOT_VARIANT):
        for build in (f"build:{variant}", f"build-{variant}", f"{variant}:build"):
            script = scripts.get(build, "").strip()
            if script and made_main(target, files, script) is not None:
                return build
    return None


def _tsc_of_source(target: str, files: dict[str, bytes]) -> str:
    """tsc given the TypeScript source of ``target`` and its output directory, where the
    project has no tsconfig to say either (shabith's typescript-node-api ignores its own
    in .gitignore: ``"start": "node dist/index.js"``, src/index.ts, nothing building it:
    "Cannot find module 'dist/index.js'"; tsx runs it, but esbuild's ``import * as
    express`` is no function, which tsc's CommonJS is); ``""`` where it has no source."""
    path = posixpath.normpath(target)
    out, _, rest = path.partition("/")
    if out not in _OUTPUT_DIRS:
        return ""
    stem = posixpath.splitext(rest)[0] if rest.endswith(".js") else f"{rest}/index".lstrip("/")
    for base in (f"src/{stem}", stem):
        if source := next((f"{base}{e}" for e in _TS_SOURCES if f"{base}{e}" in files), None):
            return f"tsc --outDir {out} {source}"
    return ""


# The modules a server-less app's handler is looked for in, in order.
_HANDLER_MODULES = ("src/index.ts", "src/index.js", "index.ts", "index.js", "src/app.ts")
# Its request handler exported by name (``export const handler = app.fetch``: AWS Lambda's
# shape), group 1 the name; or the app itself as the default export (``export default
# app``: Bun's and Cloudflare Workers'), group 2 the app's name.
_FETCH_EXPORT = re.compile(
    r"^export\s+const\s+(\w+)\s*=\s*\w+\.fetch\s*;?\s*$|^export\s+default\s+(\w+)\s*;?\s*$",
    re.MULTILINE,
)
# Where the module serves itself or hands the app to a runtime's adapter (``serve(app)``,
# ``app.listen(3000)``, ``handle(app)``): it is not left to a runtime to serve.
_SERVES = re.compile(r"\.listen\(|\bserve\(|\bhandle\(|Bun\.serve\(")


def fetch_export(files: dict[str, bytes]) -> tuple[str, str | None] | None:
    """(the module, its handler's export name; None for its default export) of a Hono
    app that nothing serves: it exports its fetch handler for a serverless runtime to call
    (Ayub1224's ayub-hono-example: no script, ``export const handler = app.fetch`` in
    src/index.js, deployed to AWS Lambda; the launch was refused, nothing to run). Bun
    serves a fetch handler as it is (:func:`fetch_server`); None where none is exported."""
    for path in _HANDLER_MODULES:
        source = files.get(path, b"").decode("utf-8", "replace")
        if "new Hono" not in source or _SERVES.search(uncommented(source.encode()).decode()):
            continue
        for found in _FETCH_EXPORT.finditer(source):
            if found.group(1):
                return path, found.group(1)
            if re.search(rf"\b{found.group(2)}\s*=\s*new\s+Hono\b", source):
                return path, None
    return None


def fetch_server(module: str, export: str | None) -> str:
    """Bun's command serving ``module``'s fetch handler on ``PORT``: the module itself
    where it is its default export (which Bun serves), else a line importing it."""
    if export is None:
        return f"bun {module}"
    served = f"Bun.serve({{ port: Number(process.env.PORT), fetch: {export} }})"
    return f"bun -e \"import {{ {export} }} from './{module}'; {served}\""


# A serverless platform's adapter, which takes the app and returns the platform's handler
# (group 1 the package): Hono's for AWS Lambda, Vercel, Netlify, Lambda@Edge, Cloudflare
# Pages, and serverless-http (an Express or Koa app on Lambda).
_ADAPTERS = ("hono/aws-lambda", "hono/vercel", "hono/netlify", "hono/lambda-edge")
_ADAPTERS += ("hono/cloudflare-pages", "serverless-http")
# (@hono/node-server's own for Vercel: pkorac's serverlesshono, ``"start": "vercel dev"``)
_ADAPTERS += ("@hono/node-server/vercel",)
_ADAPTER_IMPORT = re.compile(
    r"""(?:\bfrom\s*|\brequire\(\s*)["'](""" + "|".join(map(re.escape, _ADAPTERS)) + r""")["']"""
)
# The modules a serverless app's adapted handler is looked for in, besides those above.
_ADAPTED_MODULES = (*_HANDLER_MODULES, "handler.js", "handler.ts", "src/handler.ts")
_ADAPTED_MODULES += ("src/handler.js", "lambda.js", "src/lambda.ts", "app.js", "src/app.js")
# Vercel's functions folder (themuuln's learn-hono-v2: api/index.ts's ``export default
# handle(app)``, hono/vercel's).
_ADAPTED_MODULES += ("api/index.ts", "api/index.js")
# Where a module serves itself (``app.listen(3000)``, ``serve(app)``, ``Bun.serve(``).
_SERVES_ITSELF = re.compile(r"\.listen\(|(?<![\w.])serve\(|Bun\.serve\(")


def adapter_export(files: dict[str, bytes]) -> tuple[str, tuple[str, ...]] | None:
    """(the module, the adapters it imports) of an app that hands itself to a serverless
    platform's adapter (:data:`_ADAPTERS`) and serves nothing: kungfu321's aws-hono ends
    ``export const handler = handle(app)`` (``hono/aws-lambda``), deployed by SST; run as
    it was, it exited at once, printing nothing. Bun serves the app the adapter is given
    (:func:`adapter_server`); None where no module does so. The modules its serverless.yml
    names as handlers are looked in first, then those of the usual names."""
    for path in (*_declared_handlers(files), *_ADAPTED_MODULES):
        source = uncommented(files.get(path, b"")).decode("utf-8", "replace")
        adapters = tuple(dict.fromkeys(_ADAPTER_IMPORT.findall(source)))
        if adapters and not _SERVES_ITSELF.search(source):
            return path, adapters
    return None


# A function's handler in the Serverless Framework's serverless.yml (``handler:
# src/lambda.handler``): group 1 the module without its extension.
_SERVERLESS_HANDLER = re.compile(r"""^\s*handler:\s*["']?([\w./-]+)\.\w+["']?\s*$""", re.MULTILINE)


def _declared_handlers(files: dict[str, bytes]) -> list[str]:
    """The modules the app's serverless.yml names as its functions' handlers (the
    Serverless Framework's ``serverless offline`` serves those), of the upload's files."""
    declared = files.get("serverless.yml", b"") + b"\n" + files.get("serverless.yaml", b"")
    found = []
    for stem in _SERVERLESS_HANDLER.findall(declared.decode("utf-8", "replace")):
        stem = posixpath.normpath(stem)
        found += [f"{stem}{suffix}" for suffix in (".ts", ".js", ".mjs", ".cjs")]
    return [path for path in dict.fromkeys(found) if path in files]


def adapter_server(module: str, adapters: tuple[str, ...]) -> str:
    """Bun's command importing ``module`` with each of ``adapters`` replaced by one whose
    handler serves the app it is given on ``PORT`` (a fetch handler's app by Bun, an
    Express or Koa app by its own ``listen``): Bun's runtime plugin's virtual modules,
    registered before the import."""
    serve = (
        "const serve = (app) => { const port = Number(process.env.PORT);"
        " if (typeof app.fetch === 'function') Bun.serve({ port, fetch: app.fetch });"
        " else app.listen(port); return () => undefined; };"
    )
    exports = "{ default: serve, handle: serve, streamHandle: serve }"
    modules = ", ".join(f"'{adapter}'" for adapter in adapters)
    plugin = (
        "Bun.plugin({ name: 'preview-serverless', setup(build) {"
        f" for (const name of [{modules}]) build.module(name, () =>"
        f" ({{ exports: {exports}, loader: 'object' }})); }} }});"
    )
    return f"bun -e \"{serve} {plugin} await import('./{module}');\""


# serverless-http's stand-in under Node: a preload (``--require``, written into the app's
# directory: ``written.managerready``) answers ``require('serverless-http')`` (Node's
# CommonJS loader) and ``import … from 'serverless-http'`` (a resolve hook of its ES module
# loader) with a function serving the app it is given on PORT, once: an Express or Koa app
# by its own ``listen``, a request handler by an HTTP server. Only in the process the
# start marks (:data:`SERVES_HANDLER`): a set-up step importing the handler serves
# nothing. A preload by ``--import`` (a data: URL, as it was) made Node run the app's own
# module by its ES module loader, which knows no ``.ts``: ts-node's require hook never
# ran (helder9991's serverless-express-api: ERR_UNKNOWN_FILE_EXTENSION).
SERVES_HANDLER = "PREVIEW_SERVES_HANDLER"
_SERVERLESS_HTTP_RESOLVE = """
export async function resolve(specifier, context, next) {
  if (specifier !== 'serverless-http') return next(specifier, context);
  const url = 'data:text/javascript,export default globalThis.previewServerlessHttp';
  return { url, shortCircuit: true };
}
"""
_SERVERLESS_HTTP = """\
// The preview's: the app's Lambda handler is served on $PORT, as its platform runs it.
if (process.env.SERVES_HANDLER === "1") {
  const Module = require("node:module");
  const http = require("node:http");
  let serving = false;
  const serverless = (app) => {
    if (!serving) {
      serving = true;
      const port = Number(process.env.PORT);
      const handler = typeof app.callback === "function" ? app.callback() : app;
      if (typeof app.listen === "function") app.listen(port);
      else http.createServer(handler).listen(port);
    }
    return async () => ({ statusCode: 200, body: "" });
  };
  serverless.default = serverless;
  globalThis.previewServerlessHttp = serverless;
  const load = Module._load;
  Module._load = function (request, ...rest) {
    return request === "serverless-http" ? serverless : load.call(this, request, ...rest);
  };
  if (typeof Module.register === "function") {
    Module.register("data:text/javascript;base64,RESOLVE");
  }
}
"""
SERVERLESS_HTTP_NAME = ".preview-serverless-http.cjs"
SERVERLESS_HTTP_PRELOAD = _SERVERLESS_HTTP.replace("SERVES_HANDLER", SERVES_HANDLER).replace(
    "RESOLVE", base64.b64encode(_SERVERLESS_HTTP_RESOLVE.encode()).decode()
)
_LISTS_SERVERLESS_HTTP = re.compile(rb'"serverless-http"\s*:')


def lists_serverless_http(files: dict[str, bytes]) -> bool:
    """Whether a package.json of the upload lists serverless-http (the preload's)."""
    return any(
        _LISTS_SERVERLESS_HTTP.search(data)
        for path, data in files.items()
        if posixpath.basename(path) == "package.json" and "node_modules/" not in path
    )


# pm2's ecosystem files, the app's only word on how it starts where package.json has none.
_ECOSYSTEMS = ("ecosystem.config.js", "ecosystem.config.cjs", "ecosystem.json")
# One app's string values in an ecosystem file: ``script: "src/main.js"``, ``args: "serve"``,
# Node's own options ``node_args: "-r esm"`` (``interpreter_args``, its other name).
_ECOSYSTEM_VALUE = re.compile(
    r"""["']?\b(script|args|node_args|interpreter_args)["']?\s*:\s*(["'])([^"'\n]*)\2"""
)
# Those arguments as a list (``args: ["serve", "--port", "8080"]``): group 2 the items.
_ECOSYSTEM_ARGS = re.compile(
    r"""["']?\b(args|node_args|interpreter_args)["']?\s*:\s*\[([^\[\]]*)\]"""
)
_QUOTED = re.compile(r"""(["'])([^"'\n]*)\1""")
_ECOSYSTEM_APPS = re.compile(r"""["']?\bapps["']?\s*:\s*\[""")
# A compiler's package, where the app lists it not and an ecosystem app runs it with npx
# (which, offline, finds none: the build adds it).
_ECOSYSTEM_COMPILERS = {"tsc-alias": "tsc-alias@^1"}


def ecosystem_start(
    files: dict[str, bytes], listed: dict[str, str], name: str | None = None
) -> tuple[str, tuple[str, ...], tuple[str, ...], str] | None:
    """(the command, its build steps, the packages to add, the note) of a pm2 ecosystem
    file's apps, where it is how the app starts (package.json says nothing of it): the
    one app running a file of the upload or one its build makes (with its ``args``), in
    the foreground; the compilers the others run in watch mode run once before it, in
    their order (z411392's express-quiz: ``npx tsc -w``, ``npx tsc-alias -w`` and
    ``src/main.js serve``, tsc's outDir src, tsc-alias listed nowhere: "Found no way to
    start this app"). Node's options for that app (``node_args``) run it too
    (takuya-motoshima's express-easy-starter: ``-r esm``, its ES modules loaded by esm).
    ``name``: the file a script hands pm2 (``pm2 start ecosystem.config.js``); else the
    usual names. None where its apps are anything else (two files, another command)."""
    name = name or next((n for n in _ECOSYSTEMS if n in files), None)
    if name is None or name not in files:
        return None
    text = files[name].decode("utf-8", "replace")
    start = _ECOSYSTEM_APPS.search(text)
    if start is None:
        return None
    entries: list[tuple[str, str, str]] = []
    steps: list[str] = []
    added: list[str] = []
    for app in _objects(text, start.end()):
        values = {m.group(1): m.group(3).strip() for m in _ECOSYSTEM_VALUE.finditer(app)}
        for listed_args in _ECOSYSTEM_ARGS.finditer(app):
            words = [m.group(2) for m in _QUOTED.finditer(listed_args.group(2))]
            values[listed_args.group(1)] = shlex.join(words)
        script, args = values.get("script", ""), values.get("args", "")
        node_args = values.get("node_args") or values.get("interpreter_args", "")
        command = f"{script} {args}".strip()
        # A compiler it runs in watch mode: its build, run once before the app, as `make
        # compile` would (devscript.compiled_once).
        if (watching := compiled_once(command)) is not None:
            tool, once = watching
            steps.append(once)
            if tool in _ECOSYSTEM_COMPILERS and tool not in listed:
                added.append(_ECOSYSTEM_COMPILERS[tool])
        elif re.fullmatch(r"(?:\./)?[\w./-]+\.[cm]?[jt]s", script):
            entries.append((posixpath.normpath(script), args, node_args))
        else:
            return None
    if len(entries) != 1:
        return None
    entry, args, node_args = entries[0]
    if entry not in files and made_main(entry, files, " && ".join(steps)) is None:
        return None
    run = "node_modules/.bin/tsx" if entry.endswith(_TS_SOURCES) else "node"
    command = " ".join(part for part in (run, node_args, entry, args) if part)
    said = f" after {' && '.join(steps)}" if steps else ""
    note = f"its pm2 {name} runs {command}{said} (its watchers run once)"
    return command, tuple(steps), tuple(added), note


def _objects(text: str, at: int) -> list[str]:
    """The texts of the objects (``{…}``) of the array starting at ``at`` (after its
    ``[``), to its closing ``]``; strings' brackets are not counted."""
    found: list[str] = []
    depth, begun, quote = 0, -1, ""
    for index in range(at, len(text)):
        char = text[index]
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in "{[":
            depth += 1
            if depth == 1 and char == "{":
                begun = index
        elif char in "}]":
            if depth == 0:
                break
            depth -= 1
            if depth == 0 and begun >= 0:
                found.append(text[begun : index + 1])
                begun = -1
    return found
