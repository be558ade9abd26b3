"""What a launch decided for one preview: :class:`LaunchSpec`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .detect import Detection

__all__ = ["LaunchSpec"]


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
    token_hash: str = ""
    token_expires_at: datetime | None = None
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
    command: list[str] | None = None  # the launch's options (a revision is detected so)
    setup: list[str] | None = None
    workers_off: tuple[str, ...] = ()  # the detected workers the launch turned off
