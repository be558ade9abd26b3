"""A preview's own Redis: Debian's ``redis-server``, throwaway and bounded.

It listens on a Unix socket only (no TCP port: its sandbox has no network at all),
keeps nothing (no RDB snapshot, no append-only file), holds at most ``maxmemory`` bytes
(evicting the least recently used keys beyond, as a cache would), and accepts the
passwords the app's configuration names (``redis://:secret@redis:6379`` sets
``requirepass``, ``redis://user:secret@…`` an ACL user): its clients log in as they would
to the real one. Its configuration is a file (passwords never on a command line).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ...sandbox.outbound import socket_reply
from ..wanted import REDIS_PORT, RedisWanted

__all__ = ["SOCKET_NAME", "redis_binary", "redis_config", "redis_environment", "redis_ready"]

SOCKET_NAME = "redis.sock"
_DEBIAN = "/usr/bin/redis-server"


def redis_binary() -> str | None:
    """Where ``redis-server`` is (Debian's first); None when it is not installed."""
    return _DEBIAN if Path(_DEBIAN).is_file() else shutil.which("redis-server")


def _quoted(value: str) -> str:
    """``value`` as one argument of a configuration line, whatever it holds: the file is
    read line by line, and a password or user name of the upload's (``%0A`` in its
    ``REDIS_URL``) must not end its line and add directives (``enable-module-command
    yes``, ``include``); control characters as ``\\xHH``, which Redis reads back."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m[0]):02x}", escaped) + '"'


def redis_config(wanted: RedisWanted, socket_path: Path, maxmemory: int) -> str:
    """The server's configuration file (see the module doc)."""
    lines = [
        "port 0",
        f"unixsocket {_quoted(str(socket_path))}",
        "unixsocketperm 777",
        'save ""',
        "appendonly no",
        f"maxmemory {maxmemory}",
        "maxmemory-policy allkeys-lru",
        f"dir {_quoted(str(socket_path.parent))}",
        "daemonize no",
        "loglevel warning",
        'logfile ""',
        "databases 16",
        "protected-mode no",  # nothing but the sandbox's relays reach its socket
    ]
    for user, password in wanted.accounts.items():
        if user == "default":
            lines.append(f"requirepass {_quoted(password)}")
        elif not re.search(r"[\s\x00-\x1f\x7f]", user):  # (no Redis takes such a name)
            lines.append(f"user {_quoted(user)} on {_quoted('>' + password)} ~* &* +@all")
    return "\n".join(lines) + "\n"


def redis_environment(wanted: RedisWanted) -> dict[str, str]:
    """What fills the app's unset ``REDIS_*`` variables, and the URLs its example gives
    as templates: its server as ``redis``."""
    host = "redis" if "redis" in wanted.hosts else "localhost"
    password = wanted.accounts.get("default")
    auth = f":{password}@" if password else ""
    env = {
        "REDIS_URL": f"redis://{auth}{host}:{REDIS_PORT}/0",
        "REDIS_HOST": host,
        "REDIS_PORT": str(REDIS_PORT),
        # its database's number, which a URL built from the parts ends with (midsti-dev's
        # DRF app: ``redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}``, Celery's "invalid
        # literal for int() with base 10: 'None'")
        "REDIS_DB": "0",
    }
    # Its client's password from a variable nothing sets: the server's.
    env.update(dict.fromkeys(wanted.password_variables, password or ""))
    # A template its example gives (CELERY_BROKER_URL=redis://<host>:<port>): its server's.
    env.update(
        {
            name: f"{scheme}://{auth}{host}:{REDIS_PORT}/0"
            for name, scheme in wanted.templates.items()
        }
    )
    return env


async def redis_ready(socket_path: Path) -> bool:
    """Whether the server answers ``PING`` (``-NOAUTH``: it answers, with a password)."""
    answer = await socket_reply(socket_path, b"PING\r\n", 64)
    return answer.startswith((b"+PONG", b"-NOAUTH"))
