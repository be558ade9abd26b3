"""Ways to start an upload, ranked: :class:`Plan` and :func:`node_plans`.

A plan is set-up steps and a start command, with where each came from. The first is the
detection's own (``detect``: the order Heroku's and Nixpacks' Node providers read a
package.json in, with this service's refinements). The others are what else the upload
declares, best first: a start command its deployment files name (``declared``:
nixpacks.toml, railway, render.yaml, fly.toml, the Dockerfile's ``CMD``, the compose
file's app service), a script its README runs (``npm run dev``), then the package's
scripts by their conventional meaning (``start:prod``, ``start``, ``serve``, ``dev`` …, a
watcher turned off as the detection turns it off). A launch tries them in order, judged
by health (``preview.builds.plantries``): at most :data:`MOST_PLANS`.

A plan's set-up is the first plan's, less the build where its start runs the upload's
sources (``tsx src/index.ts``, ``babel-node src/server.js``: nothing of the build's
output), and with it where the start runs what the build writes (``node dist/main.js``).
Some steps are *optional*: their failure is said and the start goes on (the app is
judged by whether it then serves): a seed (``npm run seed``, ``flask seed``: rows for a
demo, which a fresh database or a dev-only dependency may refuse), and a build whose
output the start does not run.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace

from ..createall import MODELS_TABLES
from ..datainit import LOAD_FIXTURES, OWN_INIT
from ..node.datascripts import table_scripts
from ..node.devscript import BIN_FIRST_ON_PATH, nodemon_settings, without_watcher
from ..node.emptystart import listens
from ..node.fallbacks import DEV_SCRIPTS
from ..node.migrations import BEHIND, SYNC_MODELS
from ..node.nodeapp import (
    TSX,
    global_tools,
    package_scripts,
    reached_text,
    read_package,
    runs_missing,
    without_checks,
)
from ..node.ownts import emits_commonjs, runnable_ts
from ..node.tsnode import ts_runner
from .declared import declared_starts, readme_scripts

__all__ = ["MOST_PLANS", "Plan", "escaped", "node_plans", "optional_steps", "shown", "step_origin"]

MOST_PLANS = 3  # a launch tries at most these (each a build's and a start's time)
_STARTS = ("start:prod", "start", "serve", *DEV_SCRIPTS)
_OUTPUT_DIRS = ("dist", "build", "lib", "out", ".output")
_SOURCE = re.compile(r"^(?:\./)?[\w@.-][\w@./-]*\.(?:[cm]?[jt]s|tsx)$")
_BUILDS_ITSELF = re.compile(r"\b(?:tsc|nest\s+build|babel\s|esbuild|swc|webpack|vite\s+build)\b")
_TS_RUNNER = re.compile(r"(?:^|[\s/])(?:tsx|ts-node|ts-node-dev|tsnd|babel-node|nodemon|bun)\s")
_BUILD_SCRIPT = re.compile(r"^(?:build|compile|prestart)(?:$|[:\-_])")
# A command that only compiles, once or watching (``tsc -w``, ``babel src -d lib --watch``):
# nothing of it serves, whatever its script is named.
_ONLY_COMPILES = re.compile(
    r"^\s*(?:npx\s+)?(?:tsc|babel|esbuild|swc|webpack|rollup|tsup|vite\s+build|nest\s+build)"
    r"(?:\s[^&;|]*)?$"
)
_SEED = re.compile(r"(?:^|[\s:_./-])seeds?(?:$|[\s:_./-])", re.IGNORECASE)
# SQLAlchemy's tables made by a step of their own (a Procfile ``release:``, the service's
# db.create_all() guess): what an app that serves without it makes itself or lacks.
_CREATES_ALL = re.compile(r"\bcreate_all\(")
_DECLARED_RUN = re.compile(r"(?:npm\s+run|yarn(?:\s+run)?|pnpm(?:\s+run)?|bun\s+run)\s+([\w:.-]+)")
_SCRIPT_RUN = re.compile(r"(?:npm\s+run|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+([\w:.-]+)")


@dataclass(frozen=True)
class Plan:
    """Set-up steps and a start command (templates, as :class:`~..detect.Detection`'s),
    said as a person would (``command``) with where it came from (``origin``) and
    where each step came from (``setup_from``)."""

    command: str  # "npm run dev"
    origin: str  # "package.json script dev, named in the README"
    argv: tuple[str, ...]
    setup: tuple[tuple[str, ...], ...] = ()
    setup_dirs: tuple[str, ...] = ()
    setup_from: tuple[str, ...] = ()
    optional: tuple[tuple[str, ...], ...] = ()  # steps whose failure does not end it
    notes: tuple[str, ...] = ()  # how its start differs from what the app declared
    tools: tuple[str, ...] = ()  # npm packages the build adds for it (tsx)

    def describe(self) -> dict[str, object]:
        """The status's account of it: its command, where it came from, its steps."""
        origins = self.setup_from + ("",) * (len(self.setup) - len(self.setup_from))
        return {
            "command": self.command,
            "from": self.origin,
            "setup": [
                {
                    "command": shown(step),
                    "from": origin or step_origin(step),
                    "optional": step in self.optional,
                }
                for step, origin in zip(self.setup, origins, strict=False)
            ],
        }

    def said(self, number: int, of: int) -> str:
        """Its ``system`` line: "plan 2 of 3: `npm run dev` (package.json script dev)"."""
        return f"plan {number} of {of}: `{self.command}` ({self.origin})"


def shown(argv: tuple[str, ...] | list[str]) -> str:
    """A command template as a person would type it (``npm start``, ``tsx src/index.ts``)."""
    words = list(argv)
    if words[:2] == ["sh", "-c"] and len(words) == 3:
        text = words[2].replace(BIN_FIRST_ON_PATH, "")
    elif words[:2] == ["npm", "start"]:
        text = "npm start"
    else:
        # A program given with -c by its first line (what it does, as a comment).
        words = [w.splitlines()[0] + " …" if "\n" in w else w for w in words]
        text = " ".join(w for w in words if w != "--ignore-scripts")
    text = text.replace("{python}", "python").replace("node_modules/.bin/", "")
    return text.replace("{{", "{").replace("}}", "}")


def step_origin(step: tuple[str, ...]) -> str:
    """Where a set-up step comes from, read from the step itself."""
    if step[:2] == ("npm", "run") and len(step) > 2:
        return f"package.json script {step[2]}"
    text = shown(step)
    if "prisma" in text:
        return "prisma/schema.prisma"
    if re.search(r"\btsc\b", text):
        return "tsconfig.json"
    if "manage.py" in text:
        return "manage.py"
    if "alembic" in text:
        return "alembic.ini"
    return "the upload's files"


def optional_steps(
    files: dict[str, bytes], argv: tuple[str, ...], setup: tuple[tuple[str, ...], ...]
) -> tuple[tuple[str, ...], ...]:
    """The steps of ``setup`` whose failure the start goes on after (module doc)."""
    scripts = package_scripts(read_package(files))
    source = _runs_source(_resolved(_start_text(argv, scripts), scripts), files)
    tables = table_scripts(scripts, files)  # its own script making its tables, once by hand
    return tuple(
        step
        for step in setup
        if _SEED.search(" ".join(step))
        or step in tables
        # its SQLAlchemy tables, which its start may make itself (Jxck007's
        # flask-resume-builder's release step died on its own import circle, where its
        # create_app() made them; flask-asset's guessed one on a config.json it lacked)
        or _CREATES_ALL.search(" ".join(step))
        # Django fixtures' rows: data to look at, not what the app needs to serve
        or LOAD_FIXTURES in step
        # the schema pushed where its committed migrations lack some of its tables
        or (len(step) > 2 and step[-1].startswith(BEHIND))
        or (source and is_build(step))
        # a call of the project's init function that nothing calls: datainit's guess
        or (len(step) > 2 and step[-1].startswith(OWN_INIT))
        # its models' tables, where nothing of the app makes them: datainit's guess too
        or MODELS_TABLES in step
        # a Node app's Sequelize models' tables, where nothing of it makes them: a guess
        or (len(step) > 2 and step[-1].startswith(SYNC_MODELS))
    )


def node_plans(files: dict[str, bytes], first: Plan) -> tuple[Plan, ...]:
    """``first`` and the other ways the upload declares to start it, ranked (module
    doc), at most :data:`MOST_PLANS`; each start once (the same command, however it is
    declared, is one plan, its other origins said)."""
    package = read_package(files) or {}
    scripts = package_scripts(package)
    plans: list[Plan] = [first]
    readme = [name for name in readme_scripts(files) if name in scripts]
    wanted: list[tuple[str | None, str, str]] = []  # (script, command, origin)
    for declared in declared_starts(files):
        script = _script_of(declared.command, scripts)
        origin = f"package.json script {script}, {declared.origin}" if script else declared.origin
        wanted.append((script, declared.command, origin))
    # A script of no conventional start's name its README runs is a weaker guess than
    # the conventional ones and an example that listens: llevintza's aws-fastify-prometheus
    # (a Fastify plugin) tried its README's `npm run security:analyze` third, an audit,
    # while examples/basic.ts serves the plugin on an app.
    usual = [name for name in readme if name in _STARTS]
    for name in usual:
        wanted.append((name, scripts[name], f"package.json script {name}, named in the README"))
    for name in _STARTS:
        if scripts.get(name, "").strip():
            wanted.append((name, scripts[name], f"package.json script {name}"))
    if (example := listening_example(files)) is not None:
        runner = "node" if example.endswith(_JS_FILES) else "tsx"
        wanted.append(
            (None, f"{runner} {example}", f"{example}, an example of its own that listens")
        )
    for name in readme:
        if name not in usual:
            wanted.append((name, scripts[name], f"package.json script {name}, named in the README"))
    for script, command, origin in wanted:
        if runs_missing(command, scripts):
            continue  # npm stops it: "Missing script" (knite51's start's build)
        if _ONLY_COMPILES.match(_resolved(scripts[script] if script else command, scripts)):
            continue  # undo-works' AutoCrypto-Hono: its README's `npm run watch`, tsc -w
        plan = _plan(files, package, scripts, first, script, command, origin)
        same = next((i for i, p in enumerate(plans) if _same_start(p, plan, scripts)), None)
        if same is None:
            plans.append(plan)
        elif script in readme and "README" not in plans[same].origin:
            plans[same] = _also(plans[same], "named in the README")
    return tuple(plans[:MOST_PLANS])


_JS_FILES = (".js", ".cjs", ".mjs")
_EXAMPLES = re.compile(r"^(?:examples?|demos?)/(?:[\w.-]+/)?([\w.-]+)\.(?:[cm]?[jt]s)$")
# The names a simplest example bears, tried first.
_SIMPLEST = ("basic", "simple", "index", "server", "app", "main", "minimal", "hello")


def listening_example(files: dict[str, bytes]) -> str | None:
    """The upload's example module that listens (``examples/basic.ts``: ``app.listen(``),
    the simplest by its name first, else the first by path; None where none does. A
    library's package (a plugin, a middleware) serves nothing itself; its example serves
    it on an app."""
    found: dict[str, str] = {}  # its name: its path
    for path in sorted(files):
        match = _EXAMPLES.match(path)
        if match and not path.endswith(".d.ts") and listens(files[path]):
            found.setdefault(match.group(1).lower(), path)
    if not found:
        return None
    return next((found[n] for n in _SIMPLEST if n in found), min(found.values()))


def _also(plan: Plan, said: str) -> Plan:
    return replace(plan, origin=f"{plan.origin}, {said}")


def _plan(
    files: dict[str, bytes],
    package: dict,
    scripts: dict[str, str],
    first: Plan,
    script: str | None,
    command: str,
    origin: str,
) -> Plan:
    """The plan starting with ``script`` (a package.json script) or ``command``."""
    listed = _listed(package)
    text = scripts[script].strip() if script else command.strip()
    # Its checks left out (unfetteredman2020's koa-service, its dev script a plan after
    # its build's: nodemon --exec "yarn lint && ts-node --files src/main.ts").
    checked = without_checks(text, scripts)
    once = without_watcher(checked or text, ts_runner(files), nodemon_settings(files, package))
    # TypeScript run in a way this Node refuses (ts-node's command in an ES module
    # project; node's own type stripping), run as the first plan runs it (.node.ownts):
    # DmitriyMolochkov's koa-boilerplate's deploy and start scripts each failed again on
    # ERR_UNKNOWN_FILE_EXTENSION after its first plan.
    own = runnable_ts(once, package.get("type") == "module", commonjs=emits_commonjs(files))
    why = f"{own[1]}: {own[0]}" if own is not None else ""
    once = own[0] if own is not None else once
    needs_tsx = re.search(r"(?:^|\s)tsx\s", once + " ") is not None
    notes: tuple[str, ...] = ()
    if script and once == text and not needs_tsx:
        argv = ("npm", "start", "--silent") if script == "start" else ("npm", "run", script)
    else:
        argv = ("sh", "-c", escaped(BIN_FIRST_ON_PATH + once))
        if why:
            notes = (f"its {script or 'declared'} script: {why}",)
        elif checked is not None:
            more = " and its watcher" if once != checked else ""
            notes = (f"the {script or 'declared'} script without its checks{more}: {once}",)
        elif once != text:
            notes = (f"the {script or 'declared'} script without its watcher: {once}",)
    resolved = _resolved(once, scripts)
    keep_build = not _runs_source(resolved, files) and not _BUILDS_ITSELF.search(resolved)
    steps, dirs, froms = [], [], []
    origins = first.setup_from + ("",) * (len(first.setup) - len(first.setup_from))
    all_dirs = first.setup_dirs + ("",) * (len(first.setup) - len(first.setup_dirs))
    for step, where, said in zip(first.setup, all_dirs, origins, strict=False):
        if is_build(step) and not keep_build:
            continue
        steps.append(step)
        dirs.append(where)
        froms.append(said)
    # A start that runs the build's output (node ./dist/index.js) after a first plan
    # that ran the sources (and so had no build): the package's build first (gn4r4's
    # typeorm-express-typescript: plan 2, npm start, "Cannot find module 'dist/index.js'").
    build = next((b for b in ("build", "build:prod") if scripts.get(b, "").strip()), None)
    if build and keep_build and _runs_output(resolved) and not any(map(is_build, steps)):
        steps.insert(0, ("npm", "run", build))
        dirs.insert(0, "")
        froms.insert(0, f"package.json script {build}")
    tools = tuple(t for t in first.tools if not t.startswith("tsx@"))
    if needs_tsx and "tsx" not in listed:
        tools = (*tools, TSX)
    # What its own start calls that the app does not list (ts-node, nodemon: its author's
    # global ones), which the first plan's start may not have called (JannickOste's
    # express-learning-project: ``"dev": "ts-node ./src/App.ts"`` after its start's build,
    # "ts-node: not found").
    tools = tuple(dict.fromkeys((*tools, *global_tools(reached_text(argv, scripts), listed))))
    setup = tuple(steps)
    said = ("npm start" if script == "start" else f"npm run {script}") if script else once
    return Plan(
        said,
        origin,
        argv,
        setup,
        tuple(dirs),
        tuple(froms),
        optional_steps(files, argv, setup),
        notes,
        tools,
    )


def _same_start(plan: Plan, other: Plan, scripts: dict[str, str]) -> bool:
    if plan.argv == other.argv:
        return True
    return _normal(_start_text(plan.argv, scripts), scripts) == _normal(
        _start_text(other.argv, scripts), scripts
    )


def _normal(text: str, scripts: dict[str, str]) -> str:
    words = _resolved(text, scripts).split()
    return " ".join(re.sub(r"^\./|\.js$", "", w) for w in words)


def _listed(package: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in ("dependencies", "devDependencies"):
        table = package.get(key)
        if isinstance(table, dict):
            found.update({k: v for k, v in table.items() if isinstance(v, str)})
    return found


def _script_of(command: str, scripts: dict[str, str]) -> str | None:
    """The package script a declared command runs (``npm start``, ``yarn dev``)."""
    words = command.split()
    if words[:2] == ["npm", "start"] and len(words) <= 3:
        return "start" if "start" in scripts else None
    match = re.fullmatch(
        r"(?:npm\s+run|yarn(?:\s+run)?|pnpm(?:\s+run)?|bun\s+run)\s+([\w:.-]+)", command.strip()
    )
    return match.group(1) if match and match.group(1) in scripts else None


def _start_text(argv: tuple[str, ...], scripts: dict[str, str]) -> str:
    """What a start command runs, as text: a script's command, a shell line's."""
    words = list(argv)
    if words[:2] == ["npm", "start"]:
        return scripts.get("start", "")
    if words[:2] == ["npm", "run"] and len(words) > 2:
        return scripts.get(words[2], "")
    if words[:2] == ["sh", "-c"] and len(words) == 3:
        return words[2].replace(BIN_FIRST_ON_PATH, "").replace("{{", "{").replace("}}", "}")
    return " ".join(words)


def _resolved(text: str, scripts: dict[str, str], depth: int = 0) -> str:
    """``text`` with the package scripts it runs (``npm run x``) written out."""
    if depth > 3:
        return text
    return _SCRIPT_RUN.sub(
        lambda m: (
            _resolved(scripts[m.group(1)], scripts, depth + 1)
            if m.group(1) in scripts
            else m.group(0)
        ),
        text,
    )


def _runs_source(text: str, files: dict[str, bytes]) -> bool:
    """Whether a start runs the upload's own sources (a file it has, not a build's
    output): ``babel-node src/server.js``, ``tsx src/index.ts``, ``node server.js``."""
    named = [w.strip("'\"") for w in text.split() if _SOURCE.match(w.strip("'\""))]
    if not named:
        return False
    return all(
        posixpath.normpath(w) in files and posixpath.normpath(w).split("/")[0] not in _OUTPUT_DIRS
        for w in named
    ) or bool(_TS_RUNNER.search(f" {text} ") and any(posixpath.normpath(w) in files for w in named))


def _runs_output(text: str) -> bool:
    """Whether a start runs a file in a build's output folder (``node ./dist/index.js``)."""
    named = [posixpath.normpath(w.strip("'\"")) for w in text.split()]
    return any(w.split("/")[0] in _OUTPUT_DIRS and _SOURCE.match(w) for w in named)


def is_build(step: tuple[str, ...]) -> bool:
    """A step that builds (its output is what a built start runs)."""
    if step[:2] == ("npm", "run") and len(step) > 2:
        return _BUILD_SCRIPT.match(step[2]) is not None
    if step[:2] != ("sh", "-c"):
        return False
    # A build script run in a shell (``npm run build``, the start script's own first part:
    # HernanAguilera's express-tasks-api starts ``npm run build && node dist/index.js``;
    # its README's ``npm run dev``, ts-node on its sources, was kept waiting on that
    # esbuild bundle, which fails on bcrypt's node-pre-gyp).
    text = shown(step)
    runs = (m.group(1) for m in _SCRIPT_RUN.finditer(text))
    return _BUILDS_ITSELF.search(text) is not None or any(map(_BUILD_SCRIPT.match, runs))


def escaped(text: str) -> str:
    """``text`` as a command template's word: its braces not a template's (``{{``)."""
    return text.replace("{", "{{").replace("}", "}}")
