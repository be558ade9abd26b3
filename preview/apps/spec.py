"""What a launch decided for one preview (:class:`LaunchSpec`), and the options its caller
asked for (:class:`LaunchOptions`: ``command``, ``setup``, ``env``, ``healthPath`` …, read
and checked by :func:`launch_options`, here since the API's routes are one module each)."""

from __future__ import annotations

import re
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import BadRequest
from ..previewtokens import PreviewTokens
from .detect import Detection
from .processes import WorkerProcess

__all__ = ["LaunchOptions", "LaunchSpec", "launch_options", "workers_off", "workers_option"]


@dataclass
class LaunchSpec:
    preview_id: str
    generation_id: str
    project_id: str | None
    user_id: str
    files: dict[str, bytes]
    argv: list[str]
    port: int
    health_path: str | None  # None: a TCP connect is the health check
    created_at: datetime
    expires_at: datetime
    requirements: str | None = None
    # Its live preview tokens (the launch's first): shared by reference with the specs
    # a revision's swap derives from it, so a revision keeps every caller's token.
    tokens: PreviewTokens = field(default_factory=PreviewTokens)
    extra: dict[str, str] = field(default_factory=dict)
    detection: Detection | None = None  # None: argv is final (tests' direct launches)
    root_path: str = ""
    revision: int = 1  # the generation's revision it runs (store.revisions)
    # Its PostgreSQL role and database (PREVIEW_APP_POSTGRES_URL), named at random
    # (backing.appdb.new_database_name): a name other previews may see tells nothing.
    database_name: str = ""
    # Data put in before its set-up steps and start (a snapshot's: preview.snapshots),
    # given the runtime once its services are up; a failure's message, else None.
    seed: Callable[[Any], Awaitable[str | None]] | None = None
    # Where its data steps' data is kept and put back (preview.snapshots.DataTemplates,
    # given the runtime; None: its steps run at every launch, as where it is off).
    data_cache: Callable[[Any], Any] | None = None
    command: list[str] | None = None  # the launch's options (a revision is detected so)
    setup: list[str] | None = None
    workers_off: tuple[str, ...] = ()  # the detected workers the launch turned off
    # Run once beside it when it answers, as its preparation left them (the type check
    # of a TypeScript build run without it: builds.typescript.type_check).
    checks: tuple[WorkerProcess, ...] = ()


_PLACEHOLDERS = ("python", "port", "root_path")  # what Supervisor._argv fills in


def _only_known_placeholders(part: str) -> bool:
    """``part`` names no placeholder but plain ``{python}``, ``{port}``, ``{root_path}`` (the
    supervisor fills them in with ``str.format_map``, which raises on anything else)."""
    try:
        fields = list(string.Formatter().parse(part))
    except ValueError:  # a lone brace
        return False
    return all(
        name is None or (name in _PLACEHOLDERS and not spec and conversion is None)
        for _, name, spec, conversion in fields
    )


def _argv_option(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is not None and (
        not isinstance(value, list)
        or not 1 <= len(value) <= 64
        or not all(
            isinstance(part, str) and part and "\x00" not in part and _only_known_placeholders(part)
            for part in value
        )
    ):
        raise BadRequest(
            f"{name} must be a list of 1 to 64 non-empty strings; the only placeholders are "
            "{python}, {port} and {root_path} (write {{ and }} for literal braces).",
            code=f"invalid_{name}",
        )
    return value


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_ENV = 200


def _env_option(body: dict[str, Any]) -> dict[str, str]:
    env = body.get("env", {})
    if (
        not isinstance(env, dict)
        or len(env) > _MAX_ENV
        or not all(
            isinstance(k, str)
            and _ENV_NAME.fullmatch(k)
            and len(k) <= 256
            and isinstance(v, str)
            and "\x00" not in v
            and len(v) <= 65536
            for k, v in env.items()
        )
    ):
        raise BadRequest(
            f"env must be an object of at most {_MAX_ENV} variables: names of letters, digits "
            "and _, string values.",
            code="invalid_env",
        )
    return env


_WORKER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def workers_option(body: dict[str, Any]) -> bool | dict[str, bool]:
    """The launch option ``workers``: ``false`` turns every detected worker off, an
    object turns each one named ``false`` off (``{"beat": false}``); ``true`` (the
    default) runs them all."""
    value = body.get("workers", True)
    if isinstance(value, bool):
        return value
    if (
        isinstance(value, dict)
        and len(value) <= 16
        and all(
            isinstance(k, str) and _WORKER_NAME.fullmatch(k) and isinstance(v, bool)
            for k, v in value.items()
        )
    ):
        return value
    raise BadRequest(
        "workers must be true, false, or an object turning workers on or off by name "
        '({"beat": false}).',
        code="invalid_workers",
    )


def workers_off(option: bool | dict[str, bool], detected: list[str]) -> tuple[str, ...]:
    """The names of the ``detected`` workers ``option`` turns off; :class:`BadRequest`
    ``invalid_workers`` for a name that is not one of them."""
    if isinstance(option, bool):
        return () if option else tuple(detected)
    unknown = sorted(set(option) - set(detected))
    if unknown:
        raise BadRequest(
            f"workers names {', '.join(unknown)}, which this app does not run "
            f"(its workers: {', '.join(detected) or 'none'}).",
            code="invalid_workers",
            details={"unknown": unknown, "detected": detected},
        )
    return tuple(name for name in detected if option.get(name) is False)


@dataclass(frozen=True)
class LaunchOptions:
    """What the caller of a launch asked for; everything else the launch decides itself
    (:class:`LaunchSpec`). A relaunch after a failure asks for what the failed launch asked
    (:meth:`repeating`)."""

    command: list[str] | None = None  # None: the start the upload's files say
    setup: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    health_path: str | None = None  # None: the app's own, else a TCP check
    revision: tuple[int, dict[str, bytes]] | None = None  # None: the latest
    seed: Callable[[Any], Awaitable[str | None]] | None = None  # a snapshot's data put in
    workers: bool | dict[str, bool] = True

    @classmethod
    def repeating(cls, spec: LaunchSpec, revision: tuple[int, dict[str, bytes]]) -> LaunchOptions:
        """The options of the launch that made ``spec``, for another revision."""
        return cls(
            command=spec.command,
            setup=spec.setup,
            env=spec.extra,
            health_path=spec.health_path,
            revision=revision,
            seed=spec.seed,
            workers=dict.fromkeys(spec.workers_off, False) or True,
        )


def launch_options(body: dict[str, Any]) -> LaunchOptions:
    """The options a launch's JSON body asks for, checked (:class:`BadRequest` for one that
    is not what it should be); its ``revision``, ``snapshot`` and ``preset`` are the
    route's to read."""
    command = _argv_option(body, "command")
    setup = _argv_option(body, "setup")
    env = _env_option(body)
    health_path = body.get("healthPath")  # None: the app's own, else a TCP check
    if health_path is not None and (
        not isinstance(health_path, str)
        or not health_path.startswith("/")
        or len(health_path) > 512
        or not health_path.isprintable()
        or " " in health_path
    ):
        raise BadRequest("healthPath must be an absolute URL path.", code="invalid_health_path")
    return LaunchOptions(
        command=command,
        setup=setup,
        env=env,
        health_path=health_path,
        workers=workers_option(body),
    )
