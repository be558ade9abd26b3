"""``preview serve``: the service under Hypercorn, on the settings of the environment.

Apart from the client commands (``cli``) so that they import none of the service. The
service's own log lines (not the previews') are plain text, or one JSON object per line
when ``PREVIEW_LOG_FORMAT=json``, for log collectors: ``time`` (ISO 8601, UTC,
milliseconds), ``level``, ``logger``, ``message`` and ``exc`` (the formatted traceback,
or null).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import signal
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.logging import AccessLogAtoms, Logger
from hypercorn.trio import serve as hypercorn_serve
from hypercorn.utils import LifespanFailureError
from quart import Quart

from .app import CONTROLS, create_app
from .auth import JWTAuthenticator
from .client import LOCAL_USER, remember_server_token
from .runtime import PreviewsDirUnusable, previews_dir_problem
from .sandbox import mounts_die_with_this_process
from .settings import SETTINGS_HELP, Settings
from .store import DatabaseUnavailable, Store
from .store.datadir import DataDirInUse, hold_data_dir, release_data_dir

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logging", "serve_command"]

_LOCAL_USER = LOCAL_USER
_STORE_CLOSE_TIMEOUT = 10  # s
_SWITCH_INTERVAL = 0.0005  # s: the GIL handed between threads (Python's default: 0.005)
_SERVE_TOKEN_LIFETIME = 30 * 86400  # s


class ServiceDidNotStart(RuntimeError):
    """The app's start (``before_serving``) failed: its reason, said in one line."""


class NodeFenced(RuntimeError):
    """A cluster node lost its lease, stopped its previews and ended (exit status 1, so
    that its supervision starts it again, as a new epoch)."""


def serve_command(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; 1 when the database cannot be reached or another
    service serves from the data dir."""
    try:
        return _serve_command(args)
    except (
        DatabaseUnavailable,
        DataDirInUse,
        PreviewsDirUnusable,
        ServiceDidNotStart,
        NodeFenced,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _hypercorn_config(path: str | None) -> Config:
    candidate = Path(path or "hypercorn.toml")
    if candidate.is_file():
        config = Config.from_toml(candidate)
    elif path:
        raise SystemExit(f"no such file: {path}")
    else:
        config = Config()
        config.bind = ["127.0.0.1:8000"]
        config.graceful_timeout = 10
    config.logger_class = EscapingLogger
    return config


class _EscapedAtoms(AccessLogAtoms):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        for key, value in self.items():
            if isinstance(value, str):
                self[key] = value.translate(CONTROLS)


class EscapingLogger(Logger):
    """Hypercorn's logger, the values of its access lines with their control characters
    escaped (``\\x0a``), as nginx does: a request's path is percent-decoded, and
    ``GET /%0A<a line of the client's own>`` wrote that line into the service's log."""

    def atoms(self, request: Any, response: Any, request_time: float) -> Any:
        return _EscapedAtoms(request, response, request_time)

    async def access(self, request: Any, response: Any, request_time: float) -> None:
        """Hypercorn's ``access``, but an answered status poll of the UI's own (its
        ``X-Preview-Poll`` header, every 2 s while a page is open) at debug level: they
        were a third of the terminal's lines, hiding the calls a user made."""
        if self.access_logger is None:
            return
        status = response.get("status", 0) if response is not None else 0
        polled = (b"x-preview-poll", b"1") in request.get("headers", ()) and status < 400
        level = logging.DEBUG if polled else logging.INFO
        atoms = self.atoms(request, response, request_time)
        self.access_logger.log(level, self.access_log_format, atoms)


async def _serve(settings: Settings, config: Config) -> None:
    # Opened here rather than by the app as it starts serving, where a failure is a
    # traceback inside Hypercorn's lifespan: here a bad URL is one line.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    problem = await trio.to_thread.run_sync(previews_dir_problem, settings)
    if problem is not None:  # one line now, not a failure at the first revision
        raise PreviewsDirUnusable(problem)
    # Held here too (the app holds it again as it starts): a second service on this data
    # dir is one line and exit code 1 before it migrates anything, not a traceback.
    hold_data_dir(settings.data_dir)
    try:
        # Alembic, when the schema is not current, in a child process: its 11 MiB would stay.
        store = await Store.open(
            settings.database_url, threads=settings.db_threads, migrate_apart=True
        )
        app = create_app(settings, store=store, fast_paths=True)
        try:
            await _serve_app(app, settings, config)
        except* LifespanFailureError as group:  # the app's start failed: its reason, one line
            failure: BaseException = group
            while isinstance(failure, BaseExceptionGroup):  # (nested: one a nursery)
                failure = failure.exceptions[0]
            said = str(failure).partition("'")[2].removesuffix("'")
            raise ServiceDidNotStart(said or "its start failed (see the log above)") from None
        else:
            if app.extensions["preview.fenced"].is_set():
                cluster = app.extensions["preview"].supervisor.cluster
                raise NodeFenced(
                    f"node {cluster.node} lost its lease ({cluster.fenced_because}): its"
                    " previews were stopped and it ended"
                )
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(_STORE_CLOSE_TIMEOUT):
                await store.aclose()
    finally:
        release_data_dir(settings.data_dir)


async def _serve_app(app: Quart, settings: Settings, config: Config) -> None:
    # The longest the service accepts (PREVIEW_JWT_MAX_LIFETIME), at most 30 days.
    lifetime = min(_SERVE_TOKEN_LIFETIME, settings.jwt_max_lifetime)
    token = JWTAuthenticator(
        settings.resolve_jwt_secret(),
        session_timeout=settings.session_timeout,
        max_lifetime=settings.jwt_max_lifetime,
    ).issue(_LOCAL_USER, tier="pro", lifetime=lifetime)

    async def until_signal() -> None:
        # A signal, or (cluster mode) the node fenced itself and stopped its previews.
        async with trio.open_nursery() as waiting:
            waiting.start_soon(_until_set, app.extensions["preview.fenced"], waiting.cancel_scope)
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    break
            waiting.cancel_scope.cancel()
        # A warning: shown as the bare message (Python's last-resort handler) in text
        # mode, as a JSON line with PREVIEW_LOG_FORMAT=json.
        logging.getLogger("preview").warning("shutting down: stopping previews")
        supervisor = app.extensions["preview"].supervisor
        if supervisor is not None:
            await supervisor.aclose()

    async with trio.open_nursery() as nursery:
        binds = await nursery.start(
            partial(hypercorn_serve, app, config, shutdown_trigger=until_signal)
        )
        _freeze_startup_heap()
        url = binds[0] if binds else "http://127.0.0.1:8000"
        try:
            await trio.to_thread.run_sync(remember_server_token, url, token)
        except OSError as error:  # a read-only home: the client needs --token then
            print(f"(could not keep the token for the client commands: {error})", flush=True)
        print(f"Preview service ready: {url}/#token={token}", flush=True)
        print(
            f"  (bearer token for user '{_LOCAL_USER}', pro tier, {_duration(lifetime)})",
            flush=True,
        )


async def _until_set(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


def _duration(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400:.0f} days"
    return f"{seconds / 3600:g} hours" if seconds >= 3600 else f"{seconds:g} s"


def _freeze_startup_heap() -> None:
    """Keep what lives as long as the process out of the cycle collector's full passes.

    Modules, the app and the database engine are most of the heap. A full collection
    walks all of it and stops the loop meanwhile: 75-150 ms every second or so while
    100 streams are busy, which was most of their p99 latency. Frozen, such a pass
    takes 2-13 ms (benchmarks/HISTORY.md, "Garbage collection").
    """
    gc.collect()
    gc.freeze()


def _serve_command(args: argparse.Namespace) -> int:
    if args.help_settings:
        for name, default, unit, text in SETTINGS_HELP:
            print(f"{name:<28} {default:<20} {unit:<7} {text}")
        return 0
    settings = Settings.from_env()  # unknown PREVIEW_* names are reported by the app
    config = _hypercorn_config(args.config)
    if args.bind:
        config.bind = [args.bind]
    configure_logging(settings.log_format)
    if settings.log_format == "json":  # Hypercorn's lines through the same handler
        if config.errorlog == "-":
            config.errorlog = logging.getLogger("hypercorn.error")
        if config.accesslog == "-":
            config.accesslog = logging.getLogger("hypercorn.access")
    # The event loop shares the GIL with the store's writer threads: at Python's default
    # switch interval (5 ms) a call whose answer came waits up to that long for a writer
    # thread's turn to end (benchmarks/HISTORY.md: the proxy's p99 at one connection).
    sys.setswitchinterval(_SWITCH_INTERVAL)
    # Before trio.run starts a thread: the previews' tmpfs then end with this process.
    mounts_die_with_this_process()
    trio.run(_serve, settings, config)
    return 0


LOG_FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in it are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        exc = None
        if record.exc_info:
            exc = self.formatException(record.exc_info)
        elif record.exc_text:
            exc = record.exc_text
        return json.dumps(
            {
                "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                "exc": exc,
            },
            ensure_ascii=False,
        )


def configure_logging(log_format: str, level: int = logging.INFO) -> logging.Handler | None:
    """For ``json``: one stderr handler with :class:`JsonFormatter` on the root logger
    (returned); Hypercorn's loggers reach it when its config names them (see cli). For
    ``text``, logging stays as Python and Hypercorn set it up."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {LOG_FORMATS}, not {log_format!r}")
    if log_format == "text":
        return None
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
