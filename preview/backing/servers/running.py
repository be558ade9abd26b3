"""One preview's own servers, for its whole life: :class:`BackingServers`.

What the upload expects (``wanted``) is started as the preview starts, beside its
dependency build (so that it is ready, as a rule, before anything needs it): each server
in a sandbox of its own (no network at all, the preview's host uid, a cgroup of its own
with its memory bounded, dying with the service), listening on a Unix socket in the
preview's services directory. That directory is bound read-only into the app's and
its set-up steps' sandboxes, where a forwarder on the loopback carries each port the
app's configuration names (``6379``, ``3306``, and any other) to the socket, and the
sandbox's one ``/etc/hosts`` names the hosts it asks for (``redis``, ``cache``, ``db``,
its compose services') as ``127.0.0.1`` (``sandbox.Containment.provide``, which leaves
a port PostgreSQL wants too to PostgreSQL only when the app has its driver). The
variables it leaves unset (``REDIS_URL``, ``MYSQL_*``, a ``DATABASE_URL`` its example
file names) are filled (``env``). The preview's set-up steps and the app start once each
server answers (or has failed, or has not answered in its time): :meth:`~BackingServers.
ready`. The forwarder's retries (a few seconds) cover a server restarting under the app,
not its first start, which may take longer (MariaDB's data-directory template is made on
a service's first launch of one: 6-9 s on a loaded machine), and a connection they gave
up on the app read as the server's failure ("Lost connection to MySQL server during
query", its process ended).

Nothing of one preview reaches another's: the socket is in its own directory, bound
into its own sandboxes only; the servers keep nothing (Redis saves nothing, MariaDB's
data is on its sandbox's tmpfs) and end with the preview.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trio

from ...apps.configvars import dotenv_chain, dotenv_text
from ...apps.spec import LaunchSpec
from ...sandbox.bubblewrap import SERVICES_DIR_INSIDE
from ...sandbox.cgroups import CgroupLimits
from ...sandbox.containment import Containment
from ...sandbox.isolation import Confinement, Isolation
from ...sandbox.outbound import ServiceMounts
from ...sandbox.process import ChildLimits, spawn_child, terminate_group
from ...settings import Settings
from ..schemasql import (
    MYSQL,
    DeclaredSql,
    declared_sql,
    for_mariadb,
    mysql_client_argv,
    queried_tables,
    run_mysql_scripts,
    script_accounts,
    used_database,
)
from ..timezones import time_zone_sql
from ..wanted import Wanted, wanted_servers
from ..wants import compose_init_scripts
from . import mongo, mysql, redis

__all__ = ["BackingServers"]

Say = Callable[[str, str], Awaitable[None]]  # (level, message): a system event
# For a server to answer, from its start: the app starts after it either way, and one
# that never answers has exited (said) or is not worth starting beside. 20 s was short of
# a MariaDB's first start (its template made, then its init file) on a loaded 2-core
# machine: the app connected first and met "Lost connection to MySQL server".
_READY_TIME = 60.0
_GRACE = 1.0
_HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")
_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}
_SCRIPTS_TIME = 120.0  # for the upload's own SQL, all of it, once its server answered


@dataclass
class _Server:
    kind: str  # "redis", "mysql", "mongo"
    label: str  # "Redis", "MariaDB", "MongoDB"
    directory: Path  # its working directory, where its socket is
    socket: Path
    argv: list[str]
    files: dict[str, str]  # written into its directory before it starts
    ready: Callable[[Path], Awaitable[bool]]
    memory_bytes: int
    tmp_mb: int
    pids: int  # its processes and threads (MariaDB: a thread per connection)
    read_only: tuple[Path, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (path, its socket) in the app's sandbox
    started_at: float = 0.0
    ready_after: float | None = None  # seconds from its start
    failed: str | None = None
    # Set once it answered, failed, or did not answer in its time: the app may start.
    settled: trio.Event = field(default_factory=trio.Event)
    output: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    # The SQL the upload declares for it (schemasql), run once it answers, before the app
    # starts, as (user, password, database) of its first account and database.
    declared: DeclaredSql | None = None
    login: tuple[str, str, str] = ("root", "", "app")


class BackingServers:
    """See the module doc. :meth:`serving` holds them for the preview's life, :meth:`start`
    starts them; :attr:`problem` says why it cannot have what it needs."""

    def __init__(self, spec: LaunchSpec, settings: Settings, isolation: Isolation | None) -> None:
        preview_id = self._id = spec.preview_id
        self._uid_slot = spec.port  # its port, which names its host uid
        self._settings = settings
        self._isolation = isolation
        self.directory = settings.sockets_dir / f"{preview_id}-svc"
        self.env: dict[str, str] = {}  # fills what the app leaves unset
        self.problem: str | None = None  # set: the launch fails with it
        self.mounts: ServiceMounts | None = None
        self._servers: list[_Server] = []
        self._nursery: trio.Nursery | None = None  # while serving
        self._started: list[_Server] = []  # those :meth:`start` started
        self._say: Say | None = None
        self.aliases: tuple[str, ...] = ()  # the host names it is called by
        # Its MariaDB's TLS certificate (PEM), once made: one an app may be told to trust.
        self.certificate: bytes | None = None

    @property
    def sandboxed(self) -> bool:
        return self._isolation is not None and self._isolation.sandboxed

    @property
    def failure(self) -> str | None:
        """Why one of its servers is not running (could not be made or started, or
        exited), which the app's own failure to reach it follows from; else None."""
        for server in self._started:
            if server.failed is not None:
                return f"the app's {server.label} is not running: {server.failed}"
        return None

    @property
    def kinds(self) -> set[str]:
        """The servers it gets (``redis``, ``mysql``), once planned."""
        return {server.kind for server in self._servers}

    def plan(
        self,
        files: dict[str, bytes],
        anchor: str,
        given: dict[str, str],
        chosen: dict[str, str] | None = None,
    ) -> list[str]:
        """Decide what it gets (module doc); the notes to say. Sets :attr:`problem`,
        :attr:`env` and :attr:`mounts`. Blocking only briefly (parses the upload).
        ``given``: its .env's and the env option's variables, ``chosen``: the option's."""
        settings, notes = self._settings, []
        wanted = wanted_servers(files, anchor, given, chosen)
        if wanted.mongo is not None and (problem := self._no_mongo(wanted)) is not None:
            self.problem = problem
            return notes
        if settings.app_redis == settings.app_mysql == settings.app_mongo == "off":
            return notes
        kinds = [
            (
                "redis",
                "Redis",
                wanted.redis,
                settings.app_redis,
                redis.redis_binary,
                "redis-server",
                "PREVIEW_APP_REDIS",
                "Debian: apt-get install redis-server",
            ),
            (
                "mysql",
                "MySQL",
                wanted.mysql,
                settings.app_mysql,
                mysql.mariadb_binary,
                "mariadbd",
                "PREVIEW_APP_MYSQL",
                "Debian: apt-get install mariadb-server",
            ),
            (
                "mongo",
                "MongoDB",
                wanted.mongo,
                settings.app_mongo,
                mongo.mongo_binary,
                "NX-27017",
                "PREVIEW_APP_MONGO",
                "pip install nx-27017 beside the service",
            ),
        ]
        relays: dict[int, str] = {}
        hosts: set[str] = set()
        for kind, label, want, mode, find, program, setting, install in kinds:
            if want is None or mode == "off":
                continue
            why = ", ".join(dict.fromkeys(want.why))
            binary = find()
            if binary is None:
                self.problem = (
                    f"the app expects {label} ({why}), but {program} is not installed here: "
                    f"install it ({install}) or set {setting}=off to launch the app without it"
                )
                return notes
            if not self.sandboxed:
                notes.append(
                    f"WARN the app expects {label} ({why}): previews get a private one only "
                    "when sandboxed (PREVIEW_SANDBOX)"
                )
                continue
            before = set(self.env)
            server = self._server(kind, binary, wanted, files)
            filled = [k for k in self.env if k not in before and k not in wanted.configured]
            self._servers.append(server)
            inside = f"{kind}/{server.socket.name}"
            for port in sorted(want.ports):
                if port != self._uid_slot:
                    relays.setdefault(port, inside)
            hosts |= want.hosts
            names = ", ".join(sorted(want.hosts)) or "localhost"
            ports = ", ".join(str(p) for p in sorted(want.ports))
            set_for_it = f"; {', '.join(filled)} set for it" if filled else ""
            notes.append(
                f"INFO a private {server.label} for the app ({why}): {names} and "
                f"localhost, port {ports}{set_for_it}"
            )
            if kind == "mongo" and wanted.mongo is not None:
                if away := [n for n in wanted.mongo.templates if n in given]:
                    notes.append(
                        f"INFO its .env's {', '.join(away)} names a MongoDB out of the "
                        "sandbox's reach (on the internet, or a form to fill in): its own "
                        "MongoDB instead (the launch option env chooses another)"
                    )
                notes.append(
                    "INFO its MongoDB is NX-27017, MongoDB's wire protocol on SQLite: the "
                    "drivers connect and query as to MongoDB, though not every operator "
                    "and aggregation stage behaves as MongoDB's"
                )
            if kind == MYSQL and wanted.mysql is not None and wanted.mysql.fold_case:
                notes.append(
                    f"INFO its table names compared without their case, as MySQL on Windows"
                    f" and macOS compares them: {wanted.mysql.fold_case}"
                )
            if kind == MYSQL and wanted.mysql is not None and wanted.mysql.character_set:
                said = wanted.mysql.character_set
                runs = f"collation {said.collation}" if said.collation else "its default collation"
                notes.append(
                    f"INFO its MariaDB runs with character set {said.charset}, {runs}, as "
                    f"{said.origin} says"
                )
            if kind == MYSQL and wanted.mysql is not None and wanted.mysql.time_zones:
                notes.append(
                    "INFO the time zones its code names loaded into its MariaDB: "
                    + ", ".join(wanted.mysql.time_zones)
                )
            if server.declared is not None:
                shown = ", ".join(p for p, _ in server.declared.scripts)
                notes.append(
                    f"INFO the app's schema for its {server.label}: {shown}, from "
                    f"{server.declared.origin}, run in it before the app starts"
                )
        if self._servers:
            self.mounts = ServiceMounts(
                directory=self.directory,
                relays=tuple(sorted(relays.items())),
                links=tuple(link for s in self._servers for link in s.links),
            )
            self.aliases = tuple(sorted(n for n in hosts if _HOST_NAME.match(n)))
        return notes

    def _no_mongo(self, wanted: Wanted) -> str | None:
        """Why the MongoDB the app expects cannot be given it, if it cannot."""
        why = ", ".join(dict.fromkeys(wanted.mongo.why)) if wanted.mongo else ""
        if self._settings.app_mongo == "off":
            reason = "PREVIEW_APP_MONGO is off"
        elif not self.sandboxed:
            reason = "previews get a private one only when sandboxed (PREVIEW_SANDBOX)"
        else:
            return None
        return (
            f"the app expects MongoDB ({why}), which cannot be given here: {reason}. Give "
            "the launch option env a URL of a MongoDB server it can reach"
        )

    def _server(
        self, kind: str, binary: str, wanted: Wanted, files: dict[str, bytes] | None = None
    ) -> _Server:
        settings = self._settings
        directory = self.directory / kind
        memory = settings.memory_limit_mb * 1024 * 1024
        if kind == "mongo":
            assert wanted.mongo is not None
            socket = directory / mongo.SOCKET_NAME
            self.env.update(mongo.mongo_environment(wanted.mongo))
            return _Server(
                kind,
                "MongoDB",
                directory,
                socket,
                mongo.mongo_argv(binary, directory, socket),
                {mongo.ACCOUNTS_FILE: mongo.mongo_accounts(wanted.mongo)},
                mongo.mongo_ready,
                memory_bytes=max(memory, 256 * 1024 * 1024),
                tmp_mb=settings.disk_limit_mb,  # its data, on its sandbox's /tmp
                pids=64,
                read_only=mongo.mongo_read_only(binary),
            )
        if kind == "redis":
            assert wanted.redis is not None
            socket = directory / redis.SOCKET_NAME
            maxmemory = max(8 * 1024 * 1024, memory // 4)  # a quarter of the app's share
            self.env.update(redis.redis_environment(wanted.redis))
            return _Server(
                kind,
                "Redis",
                directory,
                socket,
                [binary, str(directory / "redis.conf")],
                {"redis.conf": redis.redis_config(wanted.redis, socket, maxmemory)},
                redis.redis_ready,
                memory_bytes=maxmemory + 32 * 1024 * 1024,
                tmp_mb=1,
                pids=32,
            )
        assert wanted.mysql is not None
        socket = directory / mysql.SOCKET_NAME
        declared = None
        if files is not None:
            declared = declared_sql(files, MYSQL, compose_init_scripts) or queried_tables(files)
        scripts = declared.scripts if declared is not None else ()
        # The database its SQL switches to (or the command running it names), where the
        # app names none: given it as its own.
        used = (declared.database if declared is not None else None) or used_database(scripts)
        if not wanted.mysql.databases and used is not None:
            wanted.mysql.databases.append(used)
        wanted.mysql.script_accounts = script_accounts(scripts)
        self.env.update(mysql.mysql_environment(wanted.mysql))
        template = mysql.template_dir(settings.data_dir)
        return _Server(
            kind,
            "MariaDB",
            directory,
            socket,
            mysql.mariadb_argv(
                binary,
                template,
                socket,
                directory / "init.sql",
                fold_case=wanted.mysql.fold_case is not None,
                character_set=wanted.mysql.character_set,
            ),
            {
                "init.sql": mysql.init_sql(wanted.mysql) + time_zone_sql(wanted.mysql.time_zones),
                **{_script_name(i): for_mariadb(text) for i, (_, text) in enumerate(scripts)},
            },
            mysql.mariadb_ready,
            memory_bytes=max(memory, 256 * 1024 * 1024),
            tmp_mb=settings.disk_limit_mb,
            pids=128,
            read_only=(template,),
            links=tuple(
                (path, f"{SERVICES_DIR_INSIDE}/mysql/{socket.name}")
                for path in mysql.CLIENT_SOCKETS
            ),
            declared=declared,
            login=mysql.first_login(wanted.mysql),
        )

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Hold its servers (:meth:`start` starts them) for the block's duration; they
        end, and their directory is removed, after it."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                try:
                    yield
                finally:
                    self._nursery = None
                    nursery.cancel_scope.cancel()
        finally:
            if self._servers:
                with trio.CancelScope(shield=True), trio.move_on_after(10):
                    await trio.to_thread.run_sync(shutil.rmtree, self.directory, True)

    async def start(self, spec: LaunchSpec, containment: Containment, say: Say) -> bool:
        """Decide what the app of ``spec`` gets and start it in the background (inside
        :meth:`serving`), reachable from the sandboxes ``containment`` makes from now on;
        False (its reason said, and :attr:`problem`) when the launch must fail."""
        anchor = spec.detection.detected_from if spec.detection is not None else ""
        given = {**_dotenv(spec.files, anchor), **spec.extra}
        notes = await trio.to_thread.run_sync(self.plan, spec.files, anchor, given, spec.extra)
        for note in notes:
            await say(*note.split(" ", 1))
        if self.problem is not None:
            await say("ERROR", self.problem)
            return False
        if self.mounts is None or self._nursery is None:
            return True
        await trio.to_thread.run_sync(self._make_directory)
        containment.provide((), self.aliases, servers=self.mounts)
        self._say = say
        for server in self._servers:
            self._started.append(server)
            self._nursery.start_soon(self._run, server, say)
        return True

    async def ready(self) -> None:
        """Return once each server :meth:`start` started has answered, failed, or not
        answered in its time (said in its log): then the app's processes may connect."""
        waiting = [server for server in self._started if not server.settled.is_set()]
        if not waiting:
            return
        if self._say is not None:
            names = " and ".join(server.label for server in waiting)
            await self._say("INFO", f"waiting for the app's {names} to answer before it starts")
        for server in waiting:
            await server.settled.wait()

    def _make_directory(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(mode=0o755, parents=True)
        self.directory.chmod(0o755)
        for server in self._servers:
            server.directory.mkdir(mode=0o755)
            for name, text in server.files.items():
                (server.directory / name).write_text(text)

    async def _run(self, server: _Server, say: Say) -> None:
        """One server, from its start until the preview ends (or it dies: said)."""
        try:
            await self._serve(server, say)
        finally:
            server.settled.set()

    async def _serve(self, server: _Server, say: Say) -> None:
        assert self._isolation is not None
        server.started_at = trio.current_time()  # its template's making counted
        if server.kind == "mysql":
            try:
                await trio.to_thread.run_sync(mysql.ensure_template, self._settings.data_dir)
            except (OSError, mysql.TemplateFailed) as error:
                await _failed(server, say, f"its data directory could not be made: {error}")
                return
        argv = server.argv
        if server.kind == "mysql":
            tls = await mysql.server_tls(server.directory, self.aliases)
            if tls is not None:
                argv = [*argv, *tls.flags]
                self.certificate = tls.certificate
        settings = dataclasses.replace(self._settings, tmp_limit_mb=server.tmp_mb)
        confinement = self._isolation.confine_step(
            settings,
            f"{self._id}-{server.kind}",
            work_dir=server.directory,
            uid_slot=self._uid_slot,
            read_only=server.read_only,
            limits=CgroupLimits(memory_bytes=server.memory_bytes, pids=server.pids, cpus=1.0),
        )
        assert confinement is not None
        try:
            process = await spawn_child(
                argv,
                cwd=server.directory,
                env=dict(_ENV),
                limits=ChildLimits(memory_bytes=server.memory_bytes),
                confinement=confinement,
            )
        except OSError as error:
            await _released(confinement)
            await _failed(server, say, f"it could not be started: {error.strerror}")
            return
        try:
            async with trio.open_nursery() as nursery:
                for pipe in (process.stdout, process.stderr):
                    nursery.start_soon(_collect, pipe, server.output)
                nursery.start_soon(self._await_answer, server, say)
                await process.wait()
                nursery.cancel_scope.cancel()
            # Ended while the preview lives (its end cancels this task before): said.
            tail = next((ln for ln in reversed(server.output) if ln.strip()), "")
            await _failed(server, say, f"it exited ({process.returncode}): {tail}".rstrip(": "))
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(_GRACE + 5):
                await terminate_group(process, _GRACE, confinement)
            await _released(confinement)

    async def _await_answer(self, server: _Server, say: Say) -> None:
        delay = 0.002
        with trio.move_on_after(_READY_TIME):  # from its process's start
            while not await server.ready(server.socket):
                await trio.sleep(delay)
                delay = min(delay * 1.5, 0.02)
            server.ready_after = trio.current_time() - server.started_at
            await say("INFO", f"{server.label} ready in {server.ready_after * 1000:.0f} ms")
            if server.declared is not None:
                await self._declared_scripts(server, server.declared, say)
            server.settled.set()
            return
        await say("WARN", f"the app's {server.label} did not answer within {_READY_TIME:.0f} s")
        server.settled.set()

    async def _declared_scripts(self, server: _Server, declared: DeclaredSql, say: Say) -> None:
        """The upload's own SQL (``server.declared``) run in its MariaDB by its client, in
        a sandbox of its own beside the server's (the SQL is the upload's), a line each said;
        one that fails is said and the app still starts (its own error then says what it
        missed), as is what is left once :data:`_SCRIPTS_TIME` is out."""
        with trio.move_on_after(_SCRIPTS_TIME) as waited:
            for i, script in enumerate(declared.scripts):  # each said as it ends
                told = await run_mysql_scripts(
                    (script,), [_script_name(i)], lambda name: self._client(server, name)
                )
                for line in told:
                    await say(*line.split(" ", 1))
        if waited.cancelled_caught:
            await say("WARN", f"the app's SQL did not end within {_SCRIPTS_TIME:.0f} s: left")

    async def _client(self, server: _Server, name: str) -> tuple[int, str]:
        """The MariaDB client run on ``server``'s file ``name``: its status and output."""
        assert self._isolation is not None
        client = shutil.which("mariadb", path=_ENV["PATH"]) or shutil.which(
            "mysql", path=_ENV["PATH"]
        )
        if client is None:
            return 127, "no MariaDB client (mariadb) is installed here"
        user, password, database = server.login
        argv = mysql_client_argv(
            client, str(server.socket), user, database, str(server.directory / name)
        )
        memory = 256 * 1024 * 1024
        confinement = self._isolation.confine_step(
            dataclasses.replace(self._settings, tmp_limit_mb=8),
            f"{self._id}-{server.kind}-sql",
            work_dir=server.directory,
            uid_slot=self._uid_slot,
            limits=CgroupLimits(memory_bytes=memory, pids=16, cpus=1.0),
        )
        assert confinement is not None
        try:
            process = await spawn_child(
                argv,
                cwd=server.directory,
                env={**_ENV, "MYSQL_PWD": password},
                limits=ChildLimits(memory_bytes=memory),
                confinement=confinement,
            )
        except OSError as error:
            await _released(confinement)
            return 127, f"the client could not be started: {error.strerror}"
        output: deque[str] = deque(maxlen=_KEPT_LINES)
        try:
            async with trio.open_nursery() as nursery:
                for pipe in (process.stdout, process.stderr):
                    nursery.start_soon(_collect, pipe, output)
                status = await process.wait()
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(_GRACE + 5):
                await terminate_group(process, _GRACE, confinement)
            await _released(confinement)
        return status, "\n".join(output)


def _script_name(index: int) -> str:
    return f"declared-{index:03d}.sql"


async def _failed(server: _Server, say: Say, reason: str) -> None:
    server.failed = reason
    await say("WARN", f"the app's {server.label} is not running: {reason}")


async def _released(confinement: Confinement) -> None:
    with trio.CancelScope(shield=True), trio.move_on_after(_GRACE + 5):
        await trio.to_thread.run_sync(confinement.release)


async def _collect(pipe: trio.abc.ReceiveStream | None, lines: deque[str]) -> None:
    """The lines ``pipe`` carries into ``lines`` (its last ones kept), each whole: the
    MariaDB client writes one in parts (``ERROR 1146``, then `` (42S02) at line 30: …``),
    which a loaded machine's reads split ("ran with errors: ERROR", once in CI)."""
    if pipe is None:
        return
    pending = b""
    async with pipe:
        async for chunk in pipe:
            *whole, pending = (pending + chunk).split(b"\n")
            lines.extend(line.decode("utf-8", "replace") for line in whole[-_KEPT_LINES:])
            pending = pending[-_LONGEST_LINE:]
    if pending:
        lines.append(pending.decode("utf-8", "replace"))


_KEPT_LINES = 200
_LONGEST_LINE = 64 * 1024  # a line's tail kept beyond it (a dump's long INSERT echoed)


def _dotenv(files: dict[str, bytes], anchor: str) -> dict[str, str]:
    """The ``.env`` variables from the root down to ``anchor``'s directory (as the app
    gets them: ``builds.appenv.dotenv_file``)."""
    found: dict[str, str] = {}
    for directory in reversed(dotenv_chain(files, anchor)):
        data = files.get(f"{directory}/.env" if directory else ".env")
        if data is not None:
            found.update(dotenv_text(data))
    return found
