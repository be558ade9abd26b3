"""A host application that embeds the preview service and signs its users in itself.

The host has its own login and its own session cookie (``host_session``). It mounts the
preview service's ASGI app for ``/api`` (and hands it the lifespan, so the service
starts and stops with the host), and passes ``create_app`` an authenticator that
recognises the host's cookie. So the frontend's plain
``new EventSource('/api/generations/${id}/preview/logs/stream')`` is authenticated by
the cookie the browser already has: no token in JavaScript, none in a URL.

Run it (then open http://127.0.0.1:8080/ and sign in as anyone)::

    python examples/embedding/host.py                      # on 127.0.0.1:8080
    python examples/embedding/host.py --bind 0.0.0.0:9000  # elsewhere
    HOST_BIND=0.0.0.0:9000 python examples/embedding/host.py

The bind address is ``--bind``, else ``$HOST_BIND``, else ``127.0.0.1:8080``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from preview import JWTAuthenticator, Settings, User, create_app
from preview.errors import Unauthorized

HOST_COOKIE = "host_session"
DEFAULT_BIND = "127.0.0.1:8080"
PAGE = Path(__file__).with_name("terminal.html")


class HostSessions:
    """The host's own sessions (in memory here; a real host has its own store)."""

    def __init__(self) -> None:
        self._users: dict[str, User] = {}

    def open(self, user_id: str, tier: str = "free") -> str:
        token = secrets.token_urlsafe(32)
        self._users[token] = User(user_id, tier)
        return token

    def close(self, token: str) -> None:
        self._users.pop(token, None)

    def user(self, token: str | None) -> User | None:
        return self._users.get(token) if token else None


class HostCookieAuthenticator:
    """What the service accepts by default (a bearer JWT, or its own session cookie on
    the read-only streams), and the host's session cookie where no bearer is sent."""

    def __init__(self, sessions: HostSessions, fallback: JWTAuthenticator) -> None:
        self._sessions = sessions
        self._fallback = fallback

    def authenticate(
        self,
        authorization: str | None,
        session_cookie: str | None,
        *,
        allow_cookie: bool,
        cookies: Mapping[str, str],
    ) -> User:
        # A bearer header, sent on purpose, wins over a cookie the browser adds anyway.
        # The host's cookie is SameSite=Lax and HttpOnly: other sites' pages cannot
        # make the browser send it with a POST, so every route may accept it.
        if not authorization and cookies.get(HOST_COOKIE):
            user = self._sessions.user(cookies[HOST_COOKIE])
            if user is None:
                raise Unauthorized("Your session has ended: sign in again.", code="session_expired")
            return user
        return self._fallback.authenticate(
            authorization, session_cookie, allow_cookie=allow_cookie, cookies=cookies
        )

    def session_token(self, user: User) -> tuple[str, int]:
        return self._fallback.session_token(user)


class Host:
    """The host's ASGI app: ``/`` (its page), ``POST /login``, ``POST /logout``, and
    the preview service for ``/api/...`` and the lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.sessions = HostSessions()
        fallback = JWTAuthenticator(
            settings.resolve_jwt_secret(),
            session_timeout=settings.session_timeout,
            max_lifetime=settings.jwt_max_lifetime,
        )
        self.preview = create_app(
            settings, authenticator=HostCookieAuthenticator(self.sessions, fallback)
        )

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "lifespan" or path == "/api" or path.startswith("/api/"):
            await self.preview(scope, receive, send)
        elif scope["type"] != "http":
            return  # a WebSocket elsewhere: not the host's business here
        elif path == "/" and scope["method"] == "GET":
            await _answer(send, 200, PAGE.read_bytes(), "text/html; charset=utf-8")
        elif path == "/login" and scope["method"] == "POST":
            await self._login(receive, send)
        elif path == "/logout" and scope["method"] == "POST":
            await self._logout(scope, send)
        else:
            await _answer(send, 404, b"not found\n", "text/plain")

    async def _login(self, receive: Any, send: Any) -> None:
        # A demo login: a real host checks a password, an SSO assertion...
        try:
            form = json.loads(await _body(receive))
            user_id = form["user"]
        except (ValueError, KeyError, TypeError):
            await _answer(send, 400, b'{"error": "send {\\"user\\": name}"}', "application/json")
            return
        if not isinstance(user_id, str) or not 0 < len(user_id) <= 64:
            await _answer(send, 400, b'{"error": "bad user"}', "application/json")
            return
        token = self.sessions.open(user_id, "pro" if form.get("tier") == "pro" else "free")
        cookie = f"{HOST_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax"
        await _answer(send, 204, b"", None, [(b"set-cookie", cookie.encode())])

    async def _logout(self, scope: dict, send: Any) -> None:
        for name, value in scope["headers"]:
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _, token = part.strip().partition("=")
                    if key == HOST_COOKIE:
                        self.sessions.close(token)
        cookie = f"{HOST_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        await _answer(send, 204, b"", None, [(b"set-cookie", cookie.encode())])


async def _body(receive: Any, limit: int = 4096) -> bytes:
    data = b""
    while True:
        message = await receive()
        data += message.get("body", b"")
        if len(data) > limit or not message.get("more_body"):
            return data[:limit]


async def _answer(
    send: Any,
    status: int,
    body: bytes,
    content_type: str | None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    head = list(headers or [])
    if content_type:
        head.append((b"content-type", content_type.encode()))
    head.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


def bind_address(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Where the host listens: ``--bind HOST:PORT``, else ``$HOST_BIND``, else 127.0.0.1:8080."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(description="The embedding example: a host app.")
    parser.add_argument(
        "--bind",
        default=environ.get("HOST_BIND") or DEFAULT_BIND,
        help=f"HOST:PORT to listen on (default: $HOST_BIND, else {DEFAULT_BIND})",
    )
    return parser.parse_args(argv).bind


def main() -> None:  # pragma: no cover - the interactive way to try it
    import trio
    from hypercorn.config import Config
    from hypercorn.trio import serve

    config = Config()
    config.bind = [bind_address()]
    trio.run(serve, Host(Settings.from_env()), config)


if __name__ == "__main__":
    main()
