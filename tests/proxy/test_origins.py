"""Each preview at its own origin (``http://<preview>.localhost:<port>/``), against a real
service and a real FastAPI child.

The system resolver here does not map ``*.localhost`` to loopback (browsers and curl do it
themselves), so calls go to 127.0.0.1 with the origin in the ``Host`` header, and cookies
are carried by hand: which is also how the tests see each cookie's attributes.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio_websocket

from preview.proxy import OriginRouter

from ..conftest import Service, auth, running_service

STDLIB_WS = Path(__file__).resolve().parent / "apps" / "stdlib_ws"
TARGET = Path(__file__).resolve().parent / "apps" / "origin_target"
PROXY_TARGET = Path(__file__).resolve().parent / "apps" / "proxy_target"
# Without --root-path: at its own origin the app needs none.
UVICORN = ["{python}", "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", "{port}"]


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


async def _launched(service: Service, root: Path, user: str = "alice", **options: Any) -> dict:
    gid = await service.upload(_files(root), user=user)
    body = (await service.launch(gid, user=user, **options)).json()
    assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
    return {**body, "gid": gid, "user": user, "host": urllib.parse.urlsplit(body["baseUrl"]).netloc}


@pytest.fixture
async def browser(service: Service):
    """A client of the service's port that keeps no cookies (each test carries its own)."""
    async with httpx.AsyncClient(
        base_url=service.url,
        trust_env=False,
        timeout=30,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    ) as client:
        yield client


@pytest.fixture
async def app(service: Service):
    with trio.fail_after(60):
        launched = await _launched(service, TARGET, command=UVICORN)
    yield launched
    with trio.fail_after(30):
        await service.stop(launched["gid"])


async def _ticket(
    service: Service, preview: dict, path: str = "/", *, user: str | None = None
) -> httpx.Response:
    return await service.client.post(
        f"/api/generations/{preview['gid']}/preview/ticket",
        json={"path": path},
        headers={**auth(user or preview["user"]), "X-Preview-Token": preview["previewToken"]},
    )


async def _enter(browser: httpx.AsyncClient, url: str) -> httpx.Response:
    """Follow a ticket URL as a browser would its first hop."""
    parts = urllib.parse.urlsplit(url)
    return await browser.get(f"{parts.path}?{parts.query}", headers={"Host": parts.netloc})


def _cookie_of(response: httpx.Response) -> str:
    """``name=value`` of the origin's session cookie set by ``response``."""
    (set_cookie,) = response.headers.get_list("set-cookie")
    return set_cookie.split(";", 1)[0]


async def _signed_in(service: Service, browser: httpx.AsyncClient, preview: dict) -> str:
    ticket = await _ticket(service, preview)
    assert ticket.status_code == 200, ticket.text
    entered = await _enter(browser, ticket.json()["url"])
    assert entered.status_code == 303, entered.text
    return _cookie_of(entered)


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "failed" and body["error"] == code, body
    assert isinstance(body["message"], str) and isinstance(body["details"], dict)


async def test_base_url_is_the_preview_origin(service: Service, app: dict) -> None:
    port = service.url.rsplit(":", 1)[1]
    label = app["previewInstanceId"].replace("_", "-")
    assert app["baseUrl"] == f"http://{label}.localhost:{port}"
    # No health route in the app: a TCP check, and no URL for it.
    assert app["healthPath"] is None and app["healthCheckUrl"] is None
    with trio.fail_after(30):
        assert (await service.status(app["gid"]))["baseUrl"] == app["baseUrl"]


async def test_a_ticket_signs_the_browser_in_and_the_app_sees_plain_paths(
    service: Service, browser: httpx.AsyncClient, app: dict
) -> None:
    with trio.fail_after(60):
        ticket = await _ticket(service, app, "/items/7?view=full")
        assert ticket.status_code == 200, ticket.text
        url = ticket.json()["url"]
        assert url.startswith(f"{app['baseUrl']}/__preview/enter?ticket=")
        assert ticket.json()["origin"] == app["baseUrl"]

        entered = await _enter(browser, url)
        assert entered.status_code == 303
        # Where the ticket said, with no token left in the URL.
        assert entered.headers["location"] == "/items/7?view=full"
        assert entered.headers["cache-control"] == "no-store"
        assert entered.headers["referrer-policy"] == "no-referrer"
        attributes = [part.strip().lower() for part in entered.headers["set-cookie"].split(";")]
        assert "httponly" in attributes and "path=/" in attributes
        assert "samesite=lax" in attributes
        assert not any(part.startswith("domain") for part in attributes)  # host-only

        cookie = _cookie_of(entered)
        answer = await browser.get(
            "/items/7?view=full",
            headers={
                "Host": app["host"],
                "Cookie": f"{cookie}; app_pref=dark",
                "Authorization": "Bearer the-apps-own-token",
            },
        )
        assert answer.status_code == 200, answer.text
        seen = answer.json()
        assert seen["path"] == "/items/7" and seen["query"] == "view=full"
        assert seen["rootPath"] == ""
        # The app's own Host, Authorization and cookies; never the service's cookie.
        assert seen["host"] == app["host"]
        assert seen["authorization"] == "Bearer the-apps-own-token"
        assert seen["cookies"] == {"app_pref": "dark"}
        assert seen["forwardedHost"] == app["host"] and seen["forwardedProto"] == "http"
        request_id = answer.headers["x-request-id"]

        posted = await browser.post(
            "/forms", content=b"a=1", headers={"Host": app["host"], "Cookie": cookie}
        )
        assert posted.json()["method"] == "POST" and posted.json()["body"] == "a=1"

        events = await service.history(app["gid"], source="proxy")
        assert any(
            "GET /items/7?view=full -> 200" in event["message"] and request_id in event["message"]
            for event in events
        ), events


async def test_absolute_redirects_and_cookies_of_the_app_work_at_its_origin(
    service: Service, browser: httpx.AsyncClient, app: dict
) -> None:
    with trio.fail_after(60):
        cookie = await _signed_in(service, browser, app)
        headers = {"Host": app["host"], "Cookie": cookie}
        redirected = await browser.get("/redirect", headers=headers)
        assert redirected.status_code == 302
        assert redirected.headers["location"] == f"http://{app['host']}/landing"

        cookie_set = await browser.get("/set-cookie", headers=headers)
        assert cookie_set.headers["set-cookie"].startswith("app_cookie=of-the-app;")
        echoed = await browser.get(
            "/whoami", headers={**headers, "Cookie": f"{cookie}; app_cookie=of-the-app"}
        )
        assert echoed.json()["cookies"] == {"app_cookie": "of-the-app"}


def _open_origin_websocket(
    service: Service, nursery: trio.Nursery, host: str, resource: str, cookie: str | None
):
    async def connect() -> trio_websocket.WebSocketConnection:
        port = int(service.url.rsplit(":", 1)[1])
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        headers = [(b"Cookie", cookie.encode())] if cookie else []
        return await trio_websocket.wrap_client_stream(
            nursery, stream, host, resource, extra_headers=headers
        )

    return connect()


async def test_websocket_at_the_origin_echoes_and_is_logged(
    service: Service, browser: httpx.AsyncClient, app: dict
) -> None:
    with trio.fail_after(60):
        cookie = await _signed_in(service, browser, app)
        async with trio.open_nursery() as nursery:
            ws = await _open_origin_websocket(service, nursery, app["host"], "/ws", cookie)
            await ws.send_message("hello")
            assert await ws.get_message() == "echo hello from /ws"
            await ws.send_message("again")
            assert await ws.get_message() == "echo again from /ws"
            await ws.aclose()
        events = await service.history(app["gid"], source="proxy")
        assert any("WS /ws -> 101" in event["message"] for event in events), events

        rejected: list[trio_websocket.ConnectionRejected] = []
        try:
            async with trio.open_nursery() as nursery:
                await _open_origin_websocket(service, nursery, app["host"], "/ws", None)
        except* trio_websocket.ConnectionRejected as group:
            rejected = list(group.exceptions)  # type: ignore[arg-type]
        assert rejected and all(error.status_code == 401 for error in rejected)
        assert b"origin_sign_in_required" in rejected[0].body


async def test_without_a_valid_ticket_or_cookie_the_origin_refuses(
    service: Service, browser: httpx.AsyncClient, app: dict
) -> None:
    host = {"Host": app["host"]}
    with trio.fail_after(60):
        _error(await browser.get("/anything", headers=host), 401, "origin_sign_in_required")
        forged = {**host, "Cookie": "preview_app_session=WyJwcmV2aWV3XyJd.forged.sig"}
        _error(await browser.get("/anything", headers=forged), 401, "origin_sign_in_required")
        _error(await browser.get("/__preview/enter", headers=host), 401, "invalid_ticket")
        _error(
            await browser.get("/__preview/enter?ticket=tkt_made_up", headers=host),
            401,
            "invalid_ticket",
        )
        # The path proxy's credentials are no credentials here.
        _error(
            await browser.get(
                "/anything", headers={**host, **auth(), "X-Preview-Token": app["previewToken"]}
            ),
            401,
            "origin_sign_in_required",
        )

        # A ticket needs the owner and the preview token, as every call to the app does.
        no_token = await service.client.post(
            f"/api/generations/{app['gid']}/preview/ticket", json={}, headers=auth()
        )
        _error(no_token, 403, "missing_preview_token")
        _error(await _ticket(service, app, user="mallory"), 404, "generation_not_found")
        bad_path = await service.client.post(
            f"/api/generations/{app['gid']}/preview/ticket",
            json={"path": "//evil.example/"},
            headers={**auth(), "X-Preview-Token": app["previewToken"]},
        )
        _error(bad_path, 400, "invalid_path")


async def test_a_ticket_opens_once_and_only_its_own_preview(
    service: Service, browser: httpx.AsyncClient, app: dict
) -> None:
    with trio.fail_after(90):
        bobs = await _launched(service, TARGET, user="bob", command=UVICORN)
        try:
            url = (await _ticket(service, app)).json()["url"]
            assert (await _enter(browser, url)).status_code == 303
            _error(await _enter(browser, url), 401, "invalid_ticket")  # used once already

            # Bob's ticket, taken to Alice's origin, does not open it (and is spent).
            bobs_url = (await _ticket(service, bobs)).json()["url"]
            parts = urllib.parse.urlsplit(bobs_url)
            at_alices = await browser.get(
                f"{parts.path}?{parts.query}", headers={"Host": app["host"]}
            )
            _error(at_alices, 403, "wrong_preview_ticket")
            _error(await _enter(browser, bobs_url), 401, "invalid_ticket")

            # Nor does Bob's session cookie.
            bobs_cookie = await _signed_in(service, browser, bobs)
            assert (
                await browser.get("/", headers={"Host": bobs["host"], "Cookie": bobs_cookie})
            ).status_code == 200
            _error(
                await browser.get("/", headers={"Host": app["host"], "Cookie": bobs_cookie}),
                403,
                "wrong_preview_session",
            )
        finally:
            await service.stop(bobs["gid"], user="bob")


async def test_a_ticket_expires(settings) -> None:
    lifetime = 2.0
    quick = dataclasses.replace(settings, app_ticket_timeout=lifetime)
    with trio.fail_after(60):
        async with running_service(quick) as service:
            preview = await _launched(service, TARGET, command=UVICORN)
            async with httpx.AsyncClient(base_url=service.url, trust_env=False) as client:
                at_once = (await _ticket(service, preview)).json()["url"]
                assert (await _enter(client, at_once)).status_code == 303
                late = (await _ticket(service, preview)).json()["url"]
                await trio.sleep(lifetime + 0.1)  # its lifetime passing, not a wait for an event
                _error(await _enter(client, late), 401, "invalid_ticket")
            await service.stop(preview["gid"])


async def test_a_revoked_preview_token_or_the_previews_end_closes_the_origin(
    service: Service, browser: httpx.AsyncClient, app: dict
) -> None:
    """The origin's session holds while the token it was opened with is live: another
    token asked for leaves it open; revoking its own closes it, and its unused tickets."""
    with trio.fail_after(60):
        cookie = await _signed_in(service, browser, app)
        headers = {"Host": app["host"], "Cookie": cookie}
        assert (await browser.get("/", headers=headers)).status_code == 200
        unused = (await _ticket(service, app)).json()["url"]
        another = await service.client.post(
            f"/api/generations/{app['gid']}/preview/token", headers=auth()
        )
        assert another.status_code == 200
        assert (await browser.get("/", headers=headers)).status_code == 200
        tokens_path = f"/api/generations/{app['gid']}/preview/tokens"
        listed = (await service.client.get(tokens_path, headers=auth())).json()["tokens"]
        launch = next(token for token in listed if token["label"] == "launch")
        revoked = await service.client.delete(f"{tokens_path}/{launch['id']}", headers=auth())
        assert revoked.status_code == 200
        _error(await browser.get("/", headers=headers), 403, "preview_token_changed")
        _error(await _enter(browser, unused), 403, "preview_token_changed")

        assert (await service.stop(app["gid"])).status_code == 200
        _error(await browser.get("/", headers=headers), 404, "preview_not_found")


async def test_the_api_is_not_served_on_a_preview_origin(
    service: Service, browser: httpx.AsyncClient, app: dict
) -> None:
    with trio.fail_after(60):
        cookie = await _signed_in(service, browser, app)
        for path in ("/api/generations", "/api/health", "/", "/static/js/app.js"):
            anonymous = await browser.get(path, headers={"Host": app["host"], **auth()})
            _error(anonymous, 401, "origin_sign_in_required")
            signed_in = await browser.get(
                path, headers={"Host": app["host"], "Cookie": cookie, **auth()}
            )
            assert signed_in.status_code == 200
            assert signed_in.json()["path"] == path  # the app's answer, not the API's
        session = await browser.post("/api/session", headers={"Host": app["host"], **auth()})
        _error(session, 401, "origin_sign_in_required")


async def test_the_service_refuses_calls_from_a_preview_page(
    service: Service, browser: httpx.AsyncClient, app: dict
) -> None:
    """A preview's script runs at its origin; under a production wildcard domain the API's
    cookies may be same-site with it, so the API refuses what such a page sends."""
    with trio.fail_after(30):
        from_preview = {**auth(), "Origin": f"http://{app['host']}"}
        _error(
            await browser.get("/api/generations", headers=from_preview), 403, "cross_origin_refused"
        )
        from_service = {**auth(), "Origin": service.url}
        assert (await browser.get("/api/generations", headers=from_service)).status_code == 200

        # WebSockets have no CORS: a handshake from a preview's page is refused as well.
        api_host = service.url.removeprefix("http://")
        resource = f"/api/generations/{app['gid']}/preview/logs/ws"
        headers = [(b"Origin", f"http://{app['host']}".encode())]
        headers.append((b"Authorization", auth()["Authorization"].encode()))
        rejected: list[trio_websocket.ConnectionRejected] = []
        try:
            async with trio.open_nursery() as nursery:
                stream = await trio.open_tcp_stream("127.0.0.1", int(api_host.split(":")[1]))
                await trio_websocket.wrap_client_stream(
                    nursery, stream, api_host, resource, extra_headers=headers
                )
        except* trio_websocket.ConnectionRejected as group:
            rejected = list(group.exceptions)  # type: ignore[arg-type]
        assert rejected and all(error.status_code == 403 for error in rejected)
        assert b"cross_origin_refused" in rejected[0].body

        # The API's own cookie is host-only and under /api: no preview origin receives it.
        session = await browser.post("/api/session", headers=auth())
        attributes = [part.strip().lower() for part in session.headers["set-cookie"].split(";")]
        assert "path=/api" in attributes and "httponly" in attributes
        assert not any(part.startswith("domain") for part in attributes)


async def test_no_spelling_of_a_preview_host_serves_the_api(
    service: Service, browser: httpx.AsyncClient, app: dict
) -> None:
    """``<label>.localhost.`` (the trailing dot of DNS's absolute form, which browsers make
    an origin of its own), any case or port, is the preview's host, and a name below it
    is nobody's: none of them serves the API or the UI."""
    port = service.url.rsplit(":", 1)[1]
    label = app["host"].split(".")[0]
    with trio.fail_after(60):
        cookie = await _signed_in(service, browser, app)
        for host in (
            f"{label}.localhost.:{port}",
            f"{label.upper()}.LOCALHOST.",
            f"{label}.localhost.",
        ):
            for path in ("/api/generations", "/", "/static/js/app.js"):
                anonymous = await browser.get(path, headers={"Host": host, **auth()})
                _error(anonymous, 401, "origin_sign_in_required")
            signed_in = await browser.get(
                "/api/generations", headers={"Host": host, "Cookie": cookie}
            )
            assert signed_in.status_code == 200
            assert signed_in.json()["path"] == "/api/generations"  # the app's answer
        for host in (f"x.{label}.localhost:{port}", f"a.b.localhost.:{port}"):
            for path in ("/api/generations", "/"):
                _error(
                    await browser.get(path, headers={"Host": host, **auth()}),
                    404,
                    "preview_not_found",
                )
        # A page there is a preview's page: the API refuses what it sends.
        for origin in (f"http://{label}.localhost.:{port}", f"http://x.{label}.localhost:{port}"):
            _error(
                await browser.get("/api/generations", headers={**auth(), "Origin": origin}),
                403,
                "cross_origin_refused",
            )


async def test_two_host_headers_are_400(service: Service, app: dict) -> None:
    """RFC 9112: the router and the API would each read another of them. h11 refuses
    them before the app; the router does too, behind a server that passes them on."""
    host, port = service.url.removeprefix("http://").split(":")
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    async def api(scope: dict, receive: Any, send: Any) -> None:
        raise AssertionError("the API was called")

    router = OriginRouter(api, service.app.extensions["preview"])
    for first, second in ((f"{host}:{port}", app["host"]), (app["host"], f"{host}:{port}")):
        head = (
            f"GET /api/generations HTTP/1.1\r\nHost: {first}\r\nHost: {second}\r\n"
            f"Authorization: {auth()['Authorization']}\r\nConnection: close\r\n\r\n"
        )
        with trio.fail_after(30):
            stream = await trio.open_tcp_stream(host, int(port))
            async with stream:
                await stream.send_all(head.encode())
                received = b""
                while chunk := await stream.receive_some(65536):
                    received += chunk
        assert received.startswith(b"HTTP/1.1 400 "), received

        sent.clear()
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/api/generations",
            "query_string": b"",
            "headers": [(b"host", first.encode()), (b"host", second.encode())],
        }
        with trio.fail_after(5):
            await router(scope, receive, send)
        assert sent[0]["status"] == 400 and b'"invalid_host"' in sent[1]["body"]


async def test_an_unknown_preview_host_is_404(service: Service, browser: httpx.AsyncClient) -> None:
    port = service.url.rsplit(":", 1)[1]
    with trio.fail_after(30):
        for host in (f"preview-0123456789abcdef.localhost:{port}", f"nothing.localhost:{port}"):
            for path in ("/", "/api/generations", "/__preview/enter?ticket=x"):
                _error(await browser.get(path, headers={"Host": host}), 404, "preview_not_found")


async def test_docs_of_an_app_started_with_the_proxys_root_path_work_at_its_origin(
    service: Service, browser: httpx.AsyncClient
) -> None:
    """The default command passes the path proxy's prefix as --root-path, so the app's
    /docs loads <prefix>/openapi.json: at the origin that is its own /openapi.json."""
    with trio.fail_after(60):
        preview = await _launched(service, PROXY_TARGET)
        try:
            cookie = await _signed_in(service, browser, preview)
            headers = {"Host": preview["host"], "Cookie": cookie}
            docs = await browser.get("/docs", headers=headers)
            assert docs.status_code == 200 and "swagger" in docs.text.lower()
            prefix = f"/api/generations/{preview['gid']}/preview/proxy"
            assert f"{prefix}/openapi.json" in docs.text
            schema = await browser.get(f"{prefix}/openapi.json", headers=headers)
            assert schema.status_code == 200 and "/json" in schema.json()["paths"]
            plain = await browser.get("/json?name=origin", headers=headers)
            assert plain.json() == {"hello": "origin"}
        finally:
            await service.stop(preview["gid"])


async def test_a_stdlib_websocket_answers_alike_through_the_path_proxy_and_its_origin(
    service: Service, browser: httpx.AsyncClient
) -> None:
    """Issue 64 (6): an app upgrading by hand on http.server (an HTTP/1.0 101, no
    framework) echoed at its origin and answered 502 through …/preview/proxy/ws."""
    with trio.fail_after(60):
        preview = await _launched(service, STDLIB_WS, command=["{python}", "server.py"])
        token = preview["previewToken"]
        resource = f"/api/generations/{preview['gid']}/preview/proxy/ws?previewToken={token}"
        host, port = service.url.removeprefix("http://").split(":")
        async with trio_websocket.open_websocket(
            host,
            int(port),
            resource,
            use_ssl=False,
            extra_headers=[(b"Authorization", auth()["Authorization"].encode())],
        ) as ws:
            await ws.send_message("through the path proxy")
            assert await ws.get_message() == "echo through the path proxy"
        cookie = await _signed_in(service, browser, preview)
        async with trio.open_nursery() as nursery:
            ws = await _open_origin_websocket(service, nursery, preview["host"], "/ws", cookie)
            await ws.send_message("at its origin")
            assert await ws.get_message() == "echo at its origin"
            await ws.aclose()
        await service.stop(preview["gid"])
