"""Where the ``preview`` client commands get their bearer token (see :mod:`preview.cli`),
and the service itself when none is named.

``preview serve`` leaves its local user's token in one per-user file (the platform's state
directory, from platformdirs; readable by the user only), keyed by the URL it serves, so
the client commands find it from any folder. A server bound to all interfaces prints
``http://0.0.0.0:8080``, which a client calls as ``http://127.0.0.1:8080`` or
``http://localhost:8080``: loopback and wildcard hosts on the same scheme and port are
one server here. Otherwise a token comes from ``--token``, ``$PREVIEW_TOKEN``, or is
signed with the configured or stored JWT secret, never a new one. The same file tells a
command with no ``--url`` nor ``$PREVIEW_URL`` which of the user's servers is running.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import urllib.parse
from pathlib import Path

import platformdirs

from ..auth import JWTAuthenticator
from ..settings import Settings

__all__ = [
    "LOCAL_USER",
    "client_token",
    "remember_server_token",
    "running_server_url",
    "server_tokens_path",
]

LOCAL_USER = "local"
_SERVER_TOKENS = "servers.json"  # {url: token} of this user's local servers


def server_tokens_path() -> Path:
    return Path(platformdirs.user_state_dir("preview-service")) / _SERVER_TOKENS


_LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _local_host(host: str) -> bool:
    """Loopback (127.0.0.0/8, ::1, localhost) or wildcard (0.0.0.0, ::): this machine."""
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _server_key(url: str) -> str:
    """``url`` as one server: the local hosts are one, the default port is explicit."""
    parts = urllib.parse.urlsplit(url.rstrip("/"))
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # not a port: the URL is compared as written
        return url.rstrip("/")
    host = parts.hostname or ""
    return f"{parts.scheme}://{'local' if _local_host(host) else host}:{port}"


def _saved_token(tokens: dict[str, str], url: str) -> tuple[str, str] | None:
    """(the URL it was left for, the token) for ``url``: that exact URL's, else the same
    server's under another name."""
    exact = tokens.get(url.rstrip("/"))
    if isinstance(exact, str) and exact:
        return url.rstrip("/"), exact
    key = _server_key(url)
    # The newest entry last (a dict keeps insertion order): a restarted server wins.
    for saved_url, token in reversed(tokens.items()):
        if isinstance(token, str) and token and _server_key(saved_url) == key:
            return saved_url, token
    return None


def _read_server_tokens() -> dict[str, str]:
    try:
        tokens = json.loads(server_tokens_path().read_text())
    except (OSError, ValueError):
        return {}
    return tokens if isinstance(tokens, dict) else {}


def running_server_url() -> str | None:
    """The newest local server this user's ``preview serve`` left a token for that accepts
    a connection now, as a loopback URL (a server on every interface is called on
    127.0.0.1); None when none does. Stopped servers' entries stay in the file (a restart
    on the same URL reuses them), hence the connection tried, newest first."""
    for url in reversed(list(_read_server_tokens())):
        parts = urllib.parse.urlsplit(url)
        try:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            continue
        host = parts.hostname or ""
        if port is None or not _local_host(host):
            continue
        if host.lower() in _LOCAL_NAMES or ipaddress.ip_address(host).is_unspecified:
            host = "127.0.0.1"
        try:
            socket.create_connection((host, port), timeout=0.5).close()
        except OSError:
            continue
        shown = f"[{host}]" if ":" in host else host
        return f"{parts.scheme}://{shown}:{port}"
    return None


def remember_server_token(url: str, token: str) -> None:
    """Leave the served URL's token where this user's client commands look for it."""
    path = server_tokens_path()
    # Another URL for the same server is an older run's: its token is stale.
    key = _server_key(url)
    tokens = {u: t for u, t in _read_server_tokens().items() if _server_key(u) != key}
    tokens[url.rstrip("/")] = token
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_suffix(f".{os.getpid()}.tmp")
    # Owner-only from the start, then renamed into place: never readable by others.
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(tokens, out, indent=1)
    aside.replace(path)


def client_token(url: str, token: str | None) -> tuple[str, str]:
    """The bearer token for ``url`` and where it came from (said on a 401)."""
    if token:
        return token, "--token"
    if os.environ.get("PREVIEW_TOKEN"):
        return os.environ["PREVIEW_TOKEN"], "$PREVIEW_TOKEN"
    path = server_tokens_path()
    saved = _saved_token(_read_server_tokens(), url)
    if saved is not None:
        served, left = saved
        return left, f"{path}, left by `preview serve` at {served}"
    settings = Settings.from_env()
    secret_file = settings.data_dir / "jwt-secret"
    if settings.jwt_secret or secret_file.is_file():
        # Never a new secret here: the server would not know it.
        where = "$PREVIEW_JWT_SECRET" if settings.jwt_secret else str(secret_file.resolve())
        authenticator = JWTAuthenticator(
            settings.resolve_jwt_secret(),
            session_timeout=settings.session_timeout,
            max_lifetime=settings.jwt_max_lifetime,
        )
        lifetime = min(3600, settings.jwt_max_lifetime)
        signed = authenticator.issue(LOCAL_USER, tier="pro", lifetime=lifetime)
        return signed, f"signed with the JWT secret in {where}"
    raise SystemExit(
        f"error: no token for {url}: none in {path} (start `preview serve` as this user),"
        " no --token, no $PREVIEW_TOKEN"
    )
