"""The session cookie as the web UI's only credential: every route accepts it where no
other site's page can have made the browser send it (a state change needs the
``X-Preview-CSRF`` header; an ``Origin`` must be the service's own or a configured one),
and a session never outlives the bearer token it was opened with. Bearer clients need
none of this."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import trio
import trio_websocket

from preview import Settings
from preview.auth import JWTAuthenticator, User

from ..conftest import SECRET, SERVER_COMMAND, Service, auth, running_service, server_app, token

CSRF = {"X-Preview-CSRF": "1"}
FRONTEND = "http://127.0.0.1:5173"


def _session_of(response: httpx.Response) -> tuple[str, int]:
    """The session cookie's value and max-age set by ``response``."""
    (header,) = [h for h in response.headers.get_list("set-cookie") if "preview_session=" in h]
    parts = [part.strip() for part in header.split(";")]
    max_age = next(int(p.split("=")[1]) for p in parts if p.lower().startswith("max-age="))
    return parts[0].split("=", 1)[1], max_age


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "failed" and body["error"] == code, body


@pytest.fixture
async def cookie_client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in to the UI: the session cookie and nothing else."""
    with trio.fail_after(30):
        opened = await service.client.post("/api/session", headers=auth())
    value, _ = _session_of(opened)
    service.client.cookies.clear()
    async with httpx.AsyncClient(
        base_url=service.url, cookies={"preview_session": value}, trust_env=False, timeout=30
    ) as client:
        yield client


async def test_the_cookie_reads_and_with_the_csrf_header_changes(
    service: Service, cookie_client: httpx.AsyncClient
) -> None:
    browser = cookie_client
    files = {"projectId": "p", "files": {"a.py": "x = 1\n"}}
    with trio.fail_after(30):
        me = await browser.get("/api/session")
        assert me.status_code == 200 and me.json() == {"userId": "alice", "tier": "free"}
        assert (await browser.get("/api/generations")).status_code == 200

        # A form of another page of this site could send these: refused.
        _error(await browser.post("/api/generations", json=files), 403, "session_cookie_refused")
        uploaded = await browser.post("/api/generations", json=files, headers=CSRF)
        assert uploaded.status_code == 201, uploaded.text
        gid = uploaded.json()["generationId"]
        _error(await browser.delete(f"/api/generations/{gid}"), 403, "session_cookie_refused")
        # The service's own page says where it is from: accepted.
        own = {**CSRF, "Origin": service.url}
        renamed = await browser.patch(f"/api/generations/{gid}", json={"name": "n"}, headers=own)
        assert renamed.status_code == 200, renamed.text
        # Another origin's page: refused, whatever it sends, reads included.
        for origin in ("http://evil.example", "null", "http://preview-1.localhost:1"):
            # A preview's origin is refused before any route (origin_router).
            code = "cross_origin_refused" if "localhost" in origin else "session_cookie_refused"
            foreign = {**CSRF, "Origin": origin}
            _error(await browser.delete(f"/api/generations/{gid}", headers=foreign), 403, code)
            _error(await browser.get("/api/generations", headers={"Origin": origin}), 403, code)
        deleted = await browser.delete(f"/api/generations/{gid}", headers=CSRF)
        assert deleted.status_code == 200, deleted.text
        # Bearer clients are unaffected: no header, any Origin.
        listed = await service.client.get(
            "/api/generations", headers={**auth(), "Origin": "http://evil.example"}
        )
        assert listed.status_code == 200
        # No cookie at all is still a 401.
        async with httpx.AsyncClient(base_url=service.url, trust_env=False) as anonymous:
            _error(await anonymous.post("/api/generations", json=files), 401, "missing_credentials")


async def test_calls_to_the_app_with_the_cookie(
    service: Service, cookie_client: httpx.AsyncClient
) -> None:
    """The envelope (fast path and route), the path proxy and its WebSocket."""
    browser = cookie_client
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", launched
        token_header = {"X-Preview-Token": launched["previewToken"]}
        envelope = f"/api/generations/{gid}/preview/request"
        call = {"method": "GET", "path": "/"}
        _error(
            await browser.post(envelope, json=call, headers=token_header),
            403,
            "session_cookie_refused",
        )
        answered = await browser.post(envelope, json=call, headers={**token_header, **CSRF})
        assert answered.status_code == 200 and answered.json()["data"] == "ok", answered.text

        proxy = f"/api/generations/{gid}/preview/proxy/"
        assert (await browser.get(proxy, headers=token_header)).status_code == 200
        _error(await browser.post(proxy, headers=token_header), 403, "session_cookie_refused")

        # A WebSocket has no CORS: one from another origin's page is refused.
        host = service.url.removeprefix("http://")
        cookie = f"preview_session={browser.cookies['preview_session']}".encode()
        rejected: list[trio_websocket.ConnectionRejected] = []
        try:
            async with trio.open_nursery() as nursery:
                stream = await trio.open_tcp_stream("127.0.0.1", int(host.split(":")[1]))
                await trio_websocket.wrap_client_stream(
                    nursery,
                    stream,
                    host,
                    f"/api/generations/{gid}/preview/logs/ws",
                    extra_headers=[(b"Cookie", cookie), (b"Origin", b"http://evil.example")],
                )
        except* trio_websocket.ConnectionRejected as group:
            rejected = list(group.exceptions)  # type: ignore[arg-type]
        assert rejected and rejected[0].status_code == 403
        assert b"session_cookie_refused" in rejected[0].body
        # From the service's own page it opens.
        async with trio.open_nursery() as nursery:
            stream = await trio.open_tcp_stream("127.0.0.1", int(host.split(":")[1]))
            ws = await trio_websocket.wrap_client_stream(
                nursery,
                stream,
                host,
                f"/api/generations/{gid}/preview/logs/ws",
                extra_headers=[(b"Cookie", cookie), (b"Origin", service.url.encode())],
            )
            assert json.loads(await ws.get_message())["id"] == 1
            await ws.aclose()
        await service.stop(gid)


async def test_a_session_is_renewed_by_itself_but_never_outlives_its_bearer(
    service: Service,
) -> None:
    timeout = int(service.settings.session_timeout)
    with trio.fail_after(30):
        short = token(lifetime=120)
        opened = await service.client.post(
            "/api/session", headers={"Authorization": f"Bearer {short}"}
        )
        value, max_age = _session_of(opened)
        assert 110 <= max_age <= 120 < timeout
        service.client.cookies.clear()
        async with httpx.AsyncClient(
            base_url=service.url, cookies={"preview_session": value}, trust_env=False
        ) as browser:
            _error(await browser.post("/api/session"), 403, "session_cookie_refused")
            renewed = await browser.post("/api/session", headers=CSRF)
            assert renewed.status_code == 200, renewed.text
            _, renewed_age = _session_of(renewed)
            assert renewed_age <= 120  # still the bearer's end, not another timeout
        # A long bearer: the session timeout.
        _, max_age = _session_of(await service.client.post("/api/session", headers=auth()))
        assert timeout - 5 <= max_age <= timeout


def test_a_session_token_carries_the_end_of_its_bearer() -> None:
    auth_ = JWTAuthenticator(SECRET, session_timeout=3600)
    bearer = auth_.issue("ann", lifetime=100)
    user = auth_.decode(bearer)
    assert user == User("ann") and user.valid_until is not None
    assert user.valid_until <= time.time() + 100
    session, lifetime = auth_.session_token(user)
    assert lifetime <= 100
    renewed_user = auth_.decode(session, session=True)
    assert renewed_user.valid_until == int(user.valid_until)
    _, lifetime = auth_.session_token(renewed_user)
    assert lifetime <= 100
    # A host's User (no end known): the session timeout.
    assert auth_.session_token(User("bob"))[1] == 3600


@pytest.fixture
async def cors_service(settings: Settings) -> AsyncIterator[Service]:
    configured = dataclasses.replace(settings, cors_origins=FRONTEND)
    async with running_service(configured) as running:
        yield running


async def test_a_configured_frontend_uses_the_cookie_with_the_header(
    cors_service: Service,
) -> None:
    service = cors_service
    with trio.fail_after(30):
        preflight = await service.client.options(
            "/api/generations",
            headers={
                "Origin": FRONTEND,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-preview-csrf",
            },
        )
        assert preflight.status_code == 204
        assert "X-Preview-CSRF" in preflight.headers["access-control-allow-headers"]
        value, _ = _session_of(await service.client.post("/api/session", headers=auth()))
        service.client.cookies.clear()
        async with httpx.AsyncClient(
            base_url=service.url, cookies={"preview_session": value}, trust_env=False
        ) as frontend:
            files = {"projectId": "p", "files": {"a.py": "x"}}
            uploaded = await frontend.post(
                "/api/generations", json=files, headers={**CSRF, "Origin": FRONTEND}
            )
            assert uploaded.status_code == 201, uploaded.text


async def test_over_https_the_cookie_is_host_only_and_a_planted_one_never_counts(
    service: Service,
) -> None:
    """A preview's page under a sibling subdomain of the same site can set a cookie for
    their parent domain from a script; over HTTPS the session is ``__Host-`` (host-only,
    Secure, Path=/: no other host can set one of its name), and only that name counts."""
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://preview.test") as tls:
        with trio.fail_after(30):
            opened = await tls.post("/api/session", headers=auth())
            assert opened.status_code == 200, opened.text
            (header,) = opened.headers.get_list("set-cookie")
            parts = [part.strip().lower() for part in header.split(";")]
            assert parts[0].startswith("__host-preview_session=")
            assert {"secure", "httponly", "path=/", "samesite=strict"} <= set(parts), parts
            value = header.split(";")[0].split("=", 1)[1]
            tls.cookies.clear()
            tls.cookies.set("__Host-preview_session", value)
            whoami = await tls.get("/api/session")
            assert whoami.status_code == 200 and whoami.json()["userId"] == "alice"
            # The attacker's own session, planted under the plain name: not read here.
            tls.cookies.clear()
            tls.cookies.set("preview_session", value)
            _error(await tls.get("/api/session"), 401, "missing_credentials")
            tls.cookies.clear()
            closed = await tls.delete("/api/session", headers={**CSRF, **auth()})
            (gone,) = closed.headers.get_list("set-cookie")
            assert gone.lower().startswith("__host-preview_session=") and "Path=/" in gone
