"""A preview's own throwaway PostgreSQL server, where the operator gave none.

Debian's server binaries (``/usr/lib/postgresql/<version>/bin``, the ``postgresql``
package) make a template cluster once (``initdb`` in ``<data dir>/postgres/``, in a
sandbox of its own); each preview's server is a copy of it on a tmpfs of its own,
started in a sandbox of its own (no network: it listens on a Unix socket only, which the
relay in front of it connects to), with durability off (it is thrown away at the stop):
:func:`run_private_server`. :class:`PrivateLogins` gives the app whatever database it
names (made on first use), as the server's own superuser, which is the preview's alone.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    import psycopg

from ..apps.written.locales import build_locales
from ..sandbox.appdir import remove_tree, write_files
from ..sandbox.bubblewrap import INSIDE_UID, host_uid
from ..sandbox.isolation import Confinement, Isolation
from ..sandbox.process import ChildLimits, spawn_child, terminate_group
from ..settings import Settings
from ..store.datadir import POSTGRES_DRAFT_PREFIX
from .appdb import add_common_extensions, is_psycopg_error
from .initsql import Told, run_init_cancellably, tell_init
from .pgrelay import Login, LoginRefused
from .wants import InitScripts

__all__ = [
    "PrivateLogins",
    "PrivateServer",
    "ServerFailed",
    "ensure_template",
    "run_private_server",
    "server_binaries",
]

_log = logging.getLogger(__name__)
_BIN_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "postgres"
_TEMPLATE_TIME = 120.0
_START_TIME = 30.0
_READY_LINE = b"ready to accept connections"
_MAX_DATABASES = 17
_MIN_DISK = 512 * 1024 * 1024
_SETTINGS = (
    "listen_addresses=",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "shared_buffers=16MB",
    "max_connections=40",
    "dynamic_shared_memory_type=mmap",
    "max_wal_size=32MB",
    "min_wal_size=2MB",
    "logging_collector=off",
    "log_min_messages=warning",
)


class ServerFailed(Exception):
    """The private server could not be made or started; the message says why."""


def server_binaries(root: Path = _BIN_ROOT) -> Path | None:
    """The newest installed server's bin directory (``initdb`` and ``postgres``)."""
    found = []
    for bin_dir in root.glob("*/bin") if root.is_dir() else ():
        version = bin_dir.parent.name
        if (
            version.isdigit()
            and (bin_dir / "postgres").is_file()
            and (bin_dir / "initdb").is_file()
        ):
            found.append((int(version), bin_dir))
    return max(found)[1] if found else None


async def _run_to_end(
    argv: list[str], *, cwd: Path, isolation: Isolation, settings: Settings, name: str
) -> tuple[int, str]:
    """Run ``argv`` confined in ``cwd`` (writable) to its end: (status, its output)."""
    confinement = _confined(isolation, settings, name, cwd, 0)
    limits = ChildLimits(memory_bytes=max(settings.memory_limit_mb, 512) * 1024 * 1024)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(cwd)}
    output: list[bytes | bytearray] = []
    try:
        process = await spawn_child(argv, cwd=cwd, env=env, limits=limits, confinement=confinement)
        async with trio.open_nursery() as nursery:
            for pipe in (process.stdout, process.stderr):
                nursery.start_soon(_drain, pipe, output)
            try:
                with trio.fail_after(_TEMPLATE_TIME):
                    await process.wait()
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(10):
                    await terminate_group(process, 1.0, confinement)
    finally:
        if confinement is not None:
            with trio.CancelScope(shield=True), trio.move_on_after(10):
                await trio.to_thread.run_sync(confinement.release)
    status = process.returncode or 0
    if confinement is not None:
        status = confinement.exit_status(status)
    return status, b"".join(output).decode("utf-8", "replace")


def _confined(
    isolation: Isolation,
    settings: Settings,
    name: str,
    work_dir: Path,
    uid_slot: int,
    writable: tuple[Path, ...] = (),
) -> Confinement | None:
    """A sandbox for the server's programs, which need their uid to have an account: a
    ``passwd`` of its own in its ``/etc`` (whose entries are bound one by one, not as
    the one copy the other sandboxes share, which has no ``passwd``)."""
    isolation = replace(isolation, etc_dir=None)
    confinement = isolation.confine_step(
        settings, name, work_dir=work_dir, uid_slot=uid_slot, writable=writable
    )
    if confinement is not None:
        uids = dict.fromkeys((host_uid(uid_slot), INSIDE_UID))
        accounts = "".join(f"{SUPERUSER}:x:{uid}:{uid}::/nonexistent:/bin/false\n" for uid in uids)
        (work_dir / "passwd").write_text(accounts)
        os.chmod(work_dir / "passwd", 0o644)
        confinement.etc_files = ((work_dir / "passwd", "/etc/passwd"),)
    return confinement


async def _drain(
    pipe: trio.abc.ReceiveStream | None,
    into: list[bytes | bytearray],
    ready: trio.Event | None = None,
) -> None:
    """Keep the last chunks of a pipe; ``ready`` set when the server says it accepts
    connections (or when the pipe closes: it ended)."""
    if pipe is None:
        return
    try:
        async with pipe:
            async for chunk in pipe:
                into.append(chunk)
                del into[:-64]
                if ready is not None and _READY_LINE in b"".join(into[-2:]):
                    ready.set()
    finally:
        if ready is not None:
            ready.set()


# The locales the postgres image has besides C's, which its clients and dumps name
# (``options: -c lc_messages=en_US.UTF-8``, ``LC_COLLATE = 'en_US.UTF-8'``) and a machine
# with only C's lacks: ambrociocastanazag-ctrl's task-api-fastapi met 'FATAL: invalid
# value for parameter "lc_messages": "en_US.UTF-8"' at its first connection. Compiled
# once a machine (a few seconds: localedef) beside its built environments (a folder whose
# name begins with a dot: no environment), copied beside each server, named by LOCPATH.
_IMAGE_LOCALES: tuple[str, ...] = ("en_US.utf8",)
_LOCALES_FOLDER = ".postgres-locales"


async def ensure_locales(settings: Settings) -> Path | None:
    """The folder of :data:`_IMAGE_LOCALES`, compiled once; None where they cannot be
    (no localedef or no sources here: the server runs with C's alone, as before)."""
    folder = settings.env_cache_dir / _LOCALES_FOLDER
    if await trio.to_thread.run_sync(lambda: all((folder / n).is_dir() for n in _IMAGE_LOCALES)):
        return folder
    work = folder.with_name(f"{_LOCALES_FOLDER}-{secrets.token_hex(4)}")
    try:
        if not await trio.to_thread.run_sync(build_locales, [*_IMAGE_LOCALES], work):
            return None
        with suppress(OSError):  # another server's made them meanwhile: as good
            await trio.to_thread.run_sync(os.rename, work, folder)
    finally:
        await trio.to_thread.run_sync(shutil.rmtree, work, True)
    return folder if await trio.to_thread.run_sync(folder.is_dir) else None


async def ensure_template(bin_dir: Path, settings: Settings, isolation: Isolation) -> Path:
    """The template cluster of ``bin_dir``'s version, made once (``initdb``); its path."""
    root = settings.data_dir / "postgres"
    template = root / f"template-{bin_dir.parent.name}"
    if await trio.to_thread.run_sync((template / "PG_VERSION").is_file):
        return template
    work = root / f"{POSTGRES_DRAFT_PREFIX}{secrets.token_hex(4)}"
    await trio.to_thread.run_sync(lambda: work.mkdir(parents=True))
    try:
        status, output = await _run_to_end(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(work / "data"),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
                "--wal-segsize=1",
            ],
            cwd=work,
            isolation=isolation,
            settings=settings,
            name=f"pg-{work.name}",
        )
        if status != 0:
            last = output.strip().splitlines()[-1:] or ["no output"]
            raise ServerFailed(f"initdb failed ({status}): {last[0]}")
        with suppress(OSError):  # another preview's made it meanwhile: theirs is as good
            await trio.to_thread.run_sync(os.rename, work / "data", template)
    finally:
        await trio.to_thread.run_sync(shutil.rmtree, work, True)
    return template


class PrivateServer:
    """One preview's server, from before it starts: where its socket is, whether it is
    up (:meth:`wait`: the relay's logins wait for it, so that the launch need not)."""

    def __init__(self, root: Path) -> None:
        self.root = root  # its tmpfs: data/
        # Its socket's (``-k``): ``run_private_server`` puts it in the service's sockets
        # directory, where a socket's path is short enough (settings.sockets_dir).
        self.socket_dir = root
        self.ready = trio.Event()  # set when it accepts connections, or failed to start
        self.failure: str | None = None

    @property
    def socket_path(self) -> Path:
        return self.socket_dir / ".s.PGSQL.5432"

    async def wait(self) -> None:
        """Return once it accepts connections; :class:`ServerFailed` if it could not."""
        await self.ready.wait()
        if self.failure is not None:
            raise ServerFailed(self.failure)

    async def connect(self) -> trio.SocketStream:
        return await trio.open_unix_socket(str(self.socket_path))


def _fresh_socket_dir(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700, parents=True)  # its uid's: Confinement.prepare gives it


def _copy_template(template: Path, root: Path, quota: int, locales: Path | None) -> None:
    write_files(root, {}, quota)
    shutil.copytree(template, root / "data", symlinks=True)
    os.chmod(root / "data", 0o700)
    if locales is not None:  # beside its data, which its sandbox sees
        shutil.copytree(locales, root / "locales", symlinks=True)


async def run_private_server(
    bin_dir: Path,
    server: PrivateServer,
    *,
    settings: Settings,
    isolation: Isolation,
    name: str,
    uid_slot: int,
    task_status: trio.TaskStatus[PrivateServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Copy the template to ``server.root`` (a tmpfs), start the server in a sandbox of
    its own (host uid ``uid_slot``'s, the preview's), ``started`` (and ``server.ready``)
    once it accepts connections; runs until cancelled, then ends it and removes its
    root. :class:`ServerFailed` (also ``server.failure``) when it cannot start."""
    root = server.root
    sockets = server.socket_dir = settings.sockets_dir / name
    quota = max(settings.disk_limit_mb * 1024 * 1024, _MIN_DISK)
    try:
        template = await ensure_template(bin_dir, settings, isolation)
        locales = await ensure_locales(settings)
        await trio.to_thread.run_sync(_copy_template, template, root, quota, locales)
        await trio.to_thread.run_sync(_fresh_socket_dir, sockets)
        confinement = _confined(isolation, settings, name, root, uid_slot, (sockets,))
        argv = [str(bin_dir / "postgres"), "-D", str(root / "data"), "-k", str(sockets)]
        for setting in _SETTINGS:
            argv += ["-c", setting]
        limits = ChildLimits(memory_bytes=max(settings.memory_limit_mb, 512) * 1024 * 1024)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        if locales is not None:
            env["LOCPATH"] = str(root / "locales")
        output: list[bytes | bytearray] = []
        process = await spawn_child(argv, cwd=root, env=env, limits=limits, confinement=confinement)
        try:
            async with trio.open_nursery() as nursery:
                ready = trio.Event()
                for pipe in (process.stdout, process.stderr):
                    nursery.start_soon(_drain, pipe, output, ready)
                with trio.move_on_after(_START_TIME):
                    await ready.wait()
                if not ready.is_set() or process.poll() is not None:
                    text = b"".join(output).decode("utf-8", "replace").strip().splitlines()
                    raise ServerFailed("it did not start: " + (text[-1] if text else "no output"))
                server.ready.set()
                task_status.started(server)
                await process.wait()
                raise ServerFailed(f"it ended by itself (status {process.returncode})")
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(10):
                await terminate_group(process, 0.5, confinement)
                if confinement is not None:
                    await trio.to_thread.run_sync(confinement.release)
    except* (ServerFailed, OSError) as group:  # raised in the nursery's body: a group
        error = group.exceptions[0]
        while isinstance(error, BaseExceptionGroup):
            error = error.exceptions[0]
        server.failure = error.strerror if isinstance(error, OSError) else str(error)
        raise ServerFailed(server.failure or "it could not start") from None
    finally:
        server.ready.set()
        with trio.CancelScope(shield=True), trio.move_on_after(30):
            await trio.to_thread.run_sync(remove_tree, root)
            await trio.to_thread.run_sync(shutil.rmtree, sockets, True)


class PrivateLogins:
    """``pgrelay.Logins`` on a private server: whatever user, as its superuser; whatever
    database, made on first use (at most ``_MAX_DATABASES``). ``said`` is told each."""

    def __init__(
        self,
        server: PrivateServer,
        said: Callable[[str], None] = lambda t: None,
        init_scripts: InitScripts = (),
        init_told: Told | None = None,
        own_extensions: tuple[str, ...] = (),
    ) -> None:
        self._server = server
        self._own_extensions = own_extensions  # the upload creates them: not made first
        self._said = said
        self._known = {"postgres"}
        # The databases its init scripts ran in: each the app opens, once, before it does.
        self._initialised: set[str] = set()
        self._init_scripts = init_scripts
        self._init_told = init_told  # where what its init scripts did is told (else said)
        self._lock = trio.Lock()

    @property
    def server(self) -> PrivateServer:
        return self._server

    async def login(self, user: str, database: str) -> Login:
        try:
            await self._server.wait()
        except ServerFailed as failure:
            raise LoginRefused(
                f"the preview's PostgreSQL server did not start: {failure}"
            ) from None
        async with self._lock:
            if database not in self._known:
                if len(self._known) >= _MAX_DATABASES or not re.match(r"^[^\0]{1,63}$", database):
                    raise LoginRefused(f"database {database!r} cannot be made for this preview")
                try:
                    await trio.to_thread.run_sync(self._create, database)
                except Exception as error:
                    if not is_psycopg_error(error):
                        raise
                    first = next(iter(str(error).strip().splitlines()), "")
                    raise LoginRefused(
                        f"database {database!r} could not be made: {first}"
                    ) from None
                self._known.add(database)
                self._said(f"PostgreSQL: database {database!r} created for the app")
            if self._init_scripts and database not in self._initialised:
                self._initialised.add(database)
                told = await run_init_cancellably(
                    partial(self._connect, database), self._init_scripts
                )
                await tell_init(told, self._init_told, self._said)
        return Login(SUPERUSER, database)

    def _connect(self, database: str) -> psycopg.Connection:
        import psycopg  # lazy: psycopg loads only once a PostgreSQL is used

        return psycopg.connect(
            host=str(self._server.socket_dir),
            user=SUPERUSER,
            dbname=database,
            autocommit=True,
            connect_timeout=10,
        )

    def _create(self, database: str) -> None:
        import psycopg  # lazy: psycopg loads only once a PostgreSQL is used
        from psycopg import sql

        with psycopg.connect(
            host=str(self._server.socket_dir),
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        ) as admin:
            found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if found.fetchone() is None:
                # A copy of its files, at once (no WAL of them: nothing here is kept).
                fast = sql.SQL(
                    " STRATEGY = FILE_COPY" if admin.info.server_version >= 150000 else ""
                )
                admin.execute(
                    sql.SQL("CREATE DATABASE {}{}").format(sql.Identifier(database), fast)
                )
                with psycopg.connect(
                    host=str(self._server.socket_dir),
                    user=SUPERUSER,
                    dbname=database,
                    autocommit=True,
                    connect_timeout=10,
                ) as inside:
                    add_common_extensions(inside, self._own_extensions)
