"""One build or set-up command, its output streamed as events: :func:`run_logged`; a
launch's set-up step run so, its failure a :class:`BuildFailed` with the cause read from
its output (:func:`run_setup_step`); and a Python app's frontend, its packages installed
and its ``npm run build`` run as such a step (:func:`build_frontend`, for
``apps.frontend``).

The command starts through :func:`spawn_child` like the app itself (so whatever isolation
wraps the app wraps builds and set-up steps too), its two pipes are read into lines, and
each batch of lines goes to ``publish`` (which puts them in the preview's log as ``build``
events). The last lines are kept for the failure's reason, each stream's apart
(``logs.OutputTails``): the cause is looked for in stderr first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from ..apps.alembicheads import alembic_changes_nothing, alembic_without_revisions, runs_alembic
from ..apps.createall import creates_its_tables
from ..apps.depspec import NodeDeps, node_dependencies
from ..apps.frontend import Frontend
from ..apps.node.migrations import synchronizes_its_tables, syncs_its_tables
from ..apps.processes.scriptrun import script_run_in
from ..generations import loads_bounded
from ..logs import LevelClassifier, LineSplitter, OutputTails, failure_cause, shown_lines
from ..sandbox import ChildProcess
from ..sandbox.appdir import link_beneath, open_dir, unlink_beneath
from ..sandbox.isolation import BUILD_MEMORY_MB, Confinement
from ..sandbox.outbound import Outbound, open_outbound
from ..sandbox.process import ChildLimits, describe_exit, spawn_child, terminate_group
from ..settings import Settings
from .toolerrors import NODE_TRAILER, only_outside_the_code, tool_failure, typescript_output

__all__ = [
    "V8_ADDRESS_SPACE",
    "BuildFailed",
    "Publish",
    "SetupStep",
    "SetupStepRunner",
    "StepResult",
    "build_frontend",
    "migrations_not_needed",
    "run_logged",
    "run_setup_step",
    "shown_command",
]

# publish(lines as (level, text), stream): awaited for each batch, in order.
Publish = Callable[[list[tuple[str, str]], str], Awaitable[None]]
_KEPT = 200
_DRAIN = 2.0
_GRACE = 2.0
_DONE_GRACE = 15.0  # s a command may take to exit once it said it is done (finished)
# s a set-up step may go with no line and no CPU time before it is ended (_idle_watch): a
# build works or prints, a migration queries; one waiting on nothing would hold the
# launch to its timeout.
_STEP_IDLE = 45.0
_MAX_LINE = 16_384
_NOTHING_OUT = Outbound()
# A tsc step's own output directory (``tsc --outDir dist src/index.ts``).
_OUT_DIR_FLAG = re.compile(r"(?:^|[\s;&|(])tsc\s[^;&|]*?--outDir[\s=]([\w./-]+)")
V8_ADDRESS_SPACE = 16 * 1024 * 1024 * 1024  # what V8 reserves up front: a Node step's bound


class BuildFailed(Exception):
    """A build (or a step of it) failed: a one-line reason and the lines that explain it."""

    def __init__(self, message: str, lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lines = lines or []


@dataclass
class StepResult:
    returncode: int | None
    tail: list[str]  # the last lines of both streams, as they came
    timed_out: bool
    tails: OutputTails = field(default_factory=OutputTails)  # each stream's, apart
    lingered: bool = False  # said it was done, did not exit: ended, and taken as a success
    idle: bool = False  # said nothing and used no CPU for its idle limit: ended

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def cause(self, needed: Sequence[str] = (), **hints: Any) -> tuple[str | None, list[str]]:
        """Why it failed (a traceback's exception, else the last line it said), from
        stderr first, and the lines of the stream that tell it; ``needed``: the
        variables required and unset, named when it died for want of one; ``hints``:
        :func:`~preview.logs.failure_cause`'s (the upload's files, its dependency file),
        so that a module of the upload is not told to be installed."""
        return self.tails.cause(lambda lines: _cause(lines, needed, hints))


def _cause(lines: list[str], needed: Sequence[str], hints: dict[str, Any]) -> str | None:
    said = (line.strip() for line in reversed(lines))
    last = next((line for line in said if line and not NODE_TRAILER.match(line)), None)
    return failure_cause(lines, needed=needed, **hints) or last


async def run_logged(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    limits: ChildLimits,
    publish: Publish,
    time_limit: float,
    confinement: Confinement | None = None,
    finished: re.Pattern[str] | None = None,
    idle_limit: float | None = None,
) -> StepResult:
    """Run ``argv`` to its end (or ``time_limit`` seconds), streaming its lines to ``publish``.
    ``idle_limit``: seconds it may go with no line and no CPU time before it is ended as
    waiting for nothing that will come (``idle`` in the result; :func:`_idle_watch`).
    ``finished``: a line saying the work is done; a command still there ``_DONE_GRACE``
    seconds after it is ended and counts as a success (``lingered``): builds that hang
    after their last line are a known bug of their tools (Vue CLI's ``vue-cli-service
    build``, vuejs/vue-cli#1622 and #6181), and only the step's time limit ended them.

    With a ``confinement`` (see :meth:`.Isolation.confine_step`), in its sandbox and
    cgroup, reaching out only by the ways its ``outbound`` opens (the egress proxy's
    refusals are lines of the output). Raises ``OSError`` when it cannot start; on
    cancellation the whole group is killed.
    """
    tail = OutputTails(interleaved=_KEPT)

    async def refused(message: str) -> None:
        await publish([("WARN", message)], "stderr")

    outbound_dir = confinement.outbound_dir if confinement is not None else None
    outbound = confinement.outbound if confinement is not None else _NOTHING_OUT
    # ``npm run build`` as npm runs the script, without npm's own start-up (0.3-1 s a step)
    if (direct := await script_run_in(argv, cwd)) is not None:
        argv, env = direct.argv, {**env, **direct.env}
    try:
        async with open_outbound(outbound_dir, outbound, refused):
            process = await spawn_child(
                argv, cwd=cwd, env=env, limits=limits, confinement=confinement
            )
            timed_out = lingered = False
            done = trio.Event()
            heard = _Heard(trio.current_time())
            async with trio.open_nursery() as nursery:
                for pipe, stream in ((process.stdout, "stdout"), (process.stderr, "stderr")):
                    nursery.start_soon(_read, pipe, stream, publish, tail, finished, done, heard)
                try:
                    with trio.move_on_after(time_limit) as deadline:
                        async with trio.open_nursery() as waiting:
                            if idle_limit is not None:
                                watch = (process, heard, idle_limit, waiting.cancel_scope)
                                waiting.start_soon(_idle_watch, *watch)
                            if finished is None:  # nothing says done: its exit alone
                                await process.wait()
                            else:
                                lingered = await _exit_or_linger(process, done)
                            waiting.cancel_scope.cancel()
                    timed_out = deadline.cancelled_caught
                finally:
                    with trio.CancelScope(shield=True), trio.move_on_after(_GRACE + 5):
                        await terminate_group(process, _GRACE, confinement)
                    # Pipes held open by an escaped grandchild must not hold the step up.
                    nursery.cancel_scope.deadline = trio.current_time() + _DRAIN
    finally:
        if confinement is not None:
            with trio.CancelScope(shield=True), trio.move_on_after(_GRACE + 5):
                await trio.to_thread.run_sync(confinement.release)
    returncode = process.returncode
    if confinement is not None and returncode is not None:
        returncode = confinement.exit_status(returncode)
    if lingered:
        returncode = 0
    return StepResult(returncode, list(tail.lines), timed_out, tail, lingered, heard.idle)


@dataclass
class _Heard:
    """When a step last said a line, and whether it was ended for idling (_idle_watch)."""

    at: float
    idle: bool = False


async def _idle_watch(
    process: ChildProcess, heard: _Heard, limit: float, wait: trio.CancelScope
) -> None:
    """Ends the caller's ``wait`` (``heard.idle`` set) once ``process`` and its
    descendants have said no line and used no CPU time for ``limit`` seconds: a data
    script that holds its database connection open when it is done, or waits for an
    argument it was not given (kshtjsharma68's ExpressPortfolio: ``npm run migrate`` runs
    its migrations only given ``up``, said "Sucessfully connected to database" and waited
    out the launch's 240 s)."""
    used = await trio.to_thread.run_sync(_group_cpu, process.pid, limiter=_CPU_READS)
    busy = trio.current_time()
    while True:
        await trio.sleep(min(limit / 4, _IDLE_LOOK))
        now_used = await trio.to_thread.run_sync(_group_cpu, process.pid, limiter=_CPU_READS)
        if now_used is None or used is None or now_used - used > _IDLE_CPU:
            used, busy = now_used, trio.current_time()
        if trio.current_time() - max(busy, heard.at) >= limit:
            heard.idle = True
            wait.cancel()
            return


def _group_cpu(pid: int) -> float | None:
    """The CPU seconds ``pid`` and its descendants have used; None where it cannot be
    read (gone)."""
    import psutil  # lazy: only where a step is watched

    try:
        root = psutil.Process(pid)
        group = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0.0
    for member in group:
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


_IDLE_LOOK = 5.0  # s between looks at a watched step's CPU time, at most
_IDLE_CPU = 0.05  # CPU seconds between looks that count as work (a timer's ticks do not)
_CPU_READS = trio.CapacityLimiter(2)  # psutil's reads of /proc, off the loop


async def _exit_or_linger(process: ChildProcess, done: trio.Event) -> bool:
    """Wait for ``process`` to exit; True if it is still there ``_DONE_GRACE`` s after
    ``done`` (it said it finished)."""
    lingered = False

    async def exited() -> None:
        await process.wait()
        nursery.cancel_scope.cancel()

    async def lingering() -> None:
        nonlocal lingered
        await done.wait()
        await trio.sleep(_DONE_GRACE)
        lingered = True
        nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(exited)
        nursery.start_soon(lingering)
    return lingered


async def _read(
    pipe: trio.abc.ReceiveStream | None,
    stream: str,
    publish: Publish,
    tail: OutputTails,
    finished: re.Pattern[str] | None = None,
    done: trio.Event | None = None,
    heard: _Heard | None = None,
) -> None:
    if pipe is None:
        return
    splitter = LineSplitter(_MAX_LINE)
    classify = LevelClassifier().classify
    async with pipe:
        async for chunk in pipe:
            lines = [line.text for line in splitter.feed(chunk)]
            if heard is not None:
                heard.at = trio.current_time()
            if lines:
                if finished and done is not None and any(map(finished.search, lines)):
                    done.set()
                tail.extend(stream, lines)
                await publish([(classify(text), text) for text in lines], stream)
        rest = [line.text for line in splitter.finish()]
        if rest:
            tail.extend(stream, rest)
            await publish([(classify(text), text) for text in rest], stream)


@dataclass(frozen=True)
class SetupStep:
    """One set-up step: what runs, in which of the upload's folders, with what environment."""

    argv: list[str]
    where: str  # the step's directory in the upload (alembic's: where its ini is)
    env: dict[str, str]
    finished: re.Pattern[str] | None = None  # what its tool says once done (run_logged's)
    shown: str | None = None  # how the log names it, where not by its command


@dataclass(frozen=True)
class SetupStepRunner:
    """Runs an app's set-up steps (:meth:`run`) in its directory, each confined (or as its
    uid), its output published, a failure a :class:`BuildFailed` with its cause."""

    app_dir: Path
    settings: Settings
    publish: Publish
    say: Callable[[str], Awaitable[None]]
    confine: Callable[[Path], Confinement | None]
    uid: int | None  # an unconfined step's
    needed: Sequence[str] = ()  # the variables the app requires that nothing sets
    hints: dict[str, Any] = field(default_factory=dict)  # for a cause's hint: the upload …

    async def run(self, step: SetupStep) -> None:
        await run_setup_step(step, self)


def shown_command(argv: tuple[str, ...] | list[str]) -> str:
    """A step's command as the log shows it: a program given with ``-c`` or ``-e`` by its
    first line (what it does, as a comment), not its whole text."""
    return " ".join(a.splitlines()[0] + " …" if "\n" in a else a for a in argv)


async def run_setup_step(step: SetupStep, runner: SetupStepRunner) -> None:
    argv, where, env, settings, say = step.argv, step.where, step.env, runner.settings, runner.say
    shown = step.shown or shown_command(argv)
    await say(f"setup: {shown}" + (f" (in {where}/)" if where else ""))
    memory = max(settings.memory_limit_mb, BUILD_MEMORY_MB)  # a build's: see build_limits
    # The app's heap bound (appenv), whatever options follow it: a build's instead.
    ours, options = f"--max-old-space-size={settings.memory_limit_mb}", env.get("NODE_OPTIONS")
    if options is not None and (options == ours or options.startswith(f"{ours} ")):
        bound = f"--max-old-space-size={memory * 3 // 4}"
        env = {**env, "NODE_OPTIONS": bound + options.removeprefix(ours)}
    address = max(memory * 2**20, V8_ADDRESS_SPACE if "NODE_OPTIONS" in env else 0)
    limits = ChildLimits(memory_bytes=address, run_as=runner.uid)
    cwd = runner.app_dir / where if where else runner.app_dir
    try:
        result = await run_logged(
            argv,
            cwd=cwd,
            env=env,
            limits=limits,
            publish=runner.publish,
            time_limit=settings.build_timeout,
            confinement=runner.confine(cwd),
            finished=step.finished,
            idle_limit=_STEP_IDLE,
        )
    except OSError as error:
        raise BuildFailed(f"setup step {argv[0]!r} could not start: {error.strerror}") from None
    if result.timed_out:
        raise BuildFailed(f"setup step timed out after {settings.build_timeout:g} s: {shown}")
    if result.idle:
        raise BuildFailed(
            f"setup step ended: {shown} said nothing and used no CPU for {_STEP_IDLE:g} s"
            " (waiting for what will not come: an argument, input, or its connection's close)"
        )
    if result.lingered:
        await say(
            f"{shown} said it was done but had not exited {_DONE_GRACE:g} s later "
            "(a known bug of its tool): ended, its work kept"
        )
    if not result.ok:
        reason = f"setup step failed ({describe_exit(result.returncode)}): {shown}"
        told = tool_failure(result.tail)  # tsc's errors (on stdout), npm's
        out = None
        if told is not None and told[0].startswith("TypeScript"):
            flagged = _OUT_DIR_FLAG.search(argv[-1])
            out = await trio.to_thread.run_sync(
                typescript_output, cwd, flagged.group(1) if flagged else None
            )
        if told is not None and out is not None:
            # Type errors stop no JavaScript from running (its types are erased): tsc wrote
            # it, and the app runs as its author's transpile-only runner would have run it
            # (tsx, ts-node --transpile-only, swc), the errors said first. Only where its
            # tsconfig says not to emit on errors does the step fail.
            if only_outside_the_code(result.tail):  # noUnusedLocals …
                await say(
                    f"{told[0]}: none in what its code does; tsc wrote its JavaScript "
                    f"to {out}/ all the same (noEmitOnError is off), run as it is"
                )
            else:
                await say(
                    f"{told[0]}: type errors in its code, which tsc wrote JavaScript for "
                    f"to {out}/ all the same (noEmitOnError is off): run as it is, as a "
                    "transpile-only runner would run it; a failure of that code may be one "
                    "of these errors"
                )
            return
        if told is not None:
            raise BuildFailed(f"{reason}: {told[0]}", told[1])
        cause, lines = result.cause(runner.needed, **runner.hints)  # stderr first: a traceback's
        raise BuildFailed(reason + (f": {cause}" if cause else ""), shown_lines(lines, 15))


# What a bundler says once it has written everything (Vue CLI, Create React App, Vite).
_BUNDLED = re.compile(
    r"Build complete\. The \S+ directory is ready|The build folder is ready to be deployed"
    r"|✓ built in \d"
)
_LEGACY_OPENSSL = ("ERR_OSSL_EVP_UNSUPPORTED", "digital envelope routines::unsupported")
_UNLINK_TIMEOUT = 5.0  # s: one unlink, shielded


async def build_frontend(
    frontend: Frontend,
    files: dict[str, bytes],
    *,
    app_dir: Path,
    settings: Settings,
    node_modules: Callable[[NodeDeps, Publish, Callable[[str], Awaitable[None]]], Awaitable[Any]],
    env: dict[str, str],
    publish: Publish,
    say: Callable[[str], Awaitable[None]],
    confine: Callable[[Path, Path | None], Confinement | None],
    run_as: Callable[[Path | None], int | None],
) -> None:
    """Build ``frontend`` in ``app_dir`` (never through a link) with the app's ``env``:
    its packages installed by ``node_modules`` as a Node app's are (cached, shared; only
    the install reaches the registry) and linked into its folder, then ``npm run build``
    there as a set-up step, confined by ``confine(its directory, the packages'
    environment)`` (or run as ``run_as(…)``'s uid). A failure is said (WARN, in
    ``publish``), not raised: the app's API is what a preview is first for. webpack 4
    (Vue CLI 3-4, Create React App 4) hashes with MD4, which Node 17's OpenSSL 3
    refuses: that build runs again with OpenSSL's legacy provider, as those projects'
    READMEs say to. The link goes once built: the app runs with what the build wrote."""
    anchors = (settings.previews_dir,)

    async def build(node_options: str, built: Path | None) -> None:
        # V8's heap bounded as a Node app's is (the step then gets a Node step's address space)
        node = f"{node_options} --max-old-space-size={settings.memory_limit_mb}".strip()
        runner = SetupStepRunner(
            app_dir, settings, publish, say, lambda cwd: confine(cwd, built), run_as(built)
        )
        await runner.run(
            SetupStep(["npm", "run", "build"], folder, {**env, "NODE_OPTIONS": node}, _BUNDLED)
        )

    folder = frontend.folder
    if await trio.to_thread.run_sync(_has_entries, app_dir / frontend.output, anchors):
        await say(
            f"the frontend's {frontend.output}/ is there already (built before for "
            "this preview): not built again"
        )
        return
    prefix = f"{folder}/" if folder else ""
    own = {path[len(prefix) :]: data for path, data in files.items() if path.startswith(prefix)}
    where = f"{folder}/" if folder else "the upload's root"
    await say(
        f"a {frontend.bundler} frontend in {where}: the app reads {frontend.output}/, which "
        "the upload lacks, so it is built first (npm run build)"
    )
    home = app_dir / folder if folder else app_dir
    lease = None
    linked = False
    try:
        deps = node_dependencies(own)
        if deps is not None and "node_modules" not in {p.split("/")[0] for p in own}:
            lease = await node_modules(deps, publish, say)  # EnvBuilder's: a Lease
            modules = lease.path / "node_modules"
            await trio.to_thread.run_sync(link_beneath, home, "node_modules", modules, anchors)
            linked = True
        built = lease.path if lease is not None else None
        try:
            await build("", built)
        except BuildFailed as failure:
            told = "\n".join((failure.message, *failure.lines))
            if not any(mark in told for mark in _LEGACY_OPENSSL):
                raise
            await say(
                "its webpack hashes with MD4, which this Node's OpenSSL refuses: "
                "built again with NODE_OPTIONS=--openssl-legacy-provider"
            )
            await build("--openssl-legacy-provider", built)
    except BuildFailed as failure:
        await publish(
            [
                (
                    "WARN",
                    f"the frontend's build failed: {failure.message}; the app starts "
                    f"without {frontend.output}/ (its API is served all the same)",
                )
            ],
            "stderr",
        )
    finally:
        with trio.CancelScope(shield=True), trio.move_on_after(_UNLINK_TIMEOUT):
            if linked:
                await trio.to_thread.run_sync(unlink_beneath, home, "node_modules", anchors)
        if lease is not None:
            lease.release()


def _has_entries(directory: Path, anchors: tuple[Path, ...]) -> bool:
    """Whether ``directory`` is one (reached as ``open_dir`` does: no link) with entries."""
    try:
        fd = open_dir(directory, anchors)
    except OSError:
        return False
    try:
        return bool(os.listdir(fd))
    finally:
        os.close(fd)


_RUNS_SCRIPT = {("npm", "run"), ("yarn", "run"), ("pnpm", "run"), ("bun", "run")}


def _script_words(step: Sequence[str], files: dict[str, bytes]) -> list[str]:
    """The words of the package.json script ``step`` runs (``npm run NAME``), from the
    shallowest package.json that has it; empty for any other step."""
    if len(step) < 3 or (os.path.basename(step[0]), step[1]) not in _RUNS_SCRIPT:
        return []
    manifests = sorted(
        (p for p in files if os.path.basename(p) == "package.json" and "node_modules/" not in p),
        key=lambda p: (p.count("/"), p),
    )
    for path in manifests:
        try:
            scripts = loads_bounded(files[path]).get("scripts")
        except (ValueError, AttributeError):
            continue
        body = scripts.get(step[2]) if isinstance(scripts, dict) else None
        if isinstance(body, str):
            return body.split()
    return []


def migrations_not_needed(step: Sequence[str], files: dict[str, bytes]) -> str | None:
    """Why a failed migrations step (``step``) leaves the app nothing it needs, so that it
    starts as its author starts it; None: the failure stands. An Alembic history that
    cannot run (an env.py importing the app's package as a module, a head dropping tables
    no revision made, a URL quoted in its alembic.ini) whose every ``upgrade()`` passes, or
    whose app makes its tables itself (``create_all``), or with no revision at all (its
    models' tables made by the step after it); Sequelize's ``db:migrate`` where
    the app calls ``sync()`` as it starts (a history whose first migrations were deleted);
    TypeORM's ``migration:run`` where its options ``synchronize`` the tables. A package
    script's step (``npm run db:migrate:run``) is read as its script's command
    (masb0ymas's hono-api-typeorm: ``typeorm migration:run -d dist/config/database.js``)."""
    step = [*step, *_script_words(step, files)]
    if runs_alembic(step):
        if alembic_changes_nothing(files):
            return "their every upgrade() does nothing"
        if alembic_without_revisions(files, ""):
            # (its first revision could not be made: the models' tables are the next step's)
            return "their history has no revision, so upgrading it makes nothing"
        if creates_its_tables(files):
            return "it makes its tables itself (create_all) as it starts"
    elif (
        "db:migrate" in step
        and any(p.endswith("sequelize") for p in step)
        and syncs_its_tables(files)
    ):
        return "it makes its tables itself (Sequelize's sync()) as it starts"
    elif any("migration:run" in part for part in step) and synchronizes_its_tables(files):
        return "it makes its tables itself (TypeORM's synchronize) as it connects"
    return None
