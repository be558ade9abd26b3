"""CORS for a frontend on another origin (PREVIEW_CORS_ORIGINS), on every /api answer:
the Quart routes, errors, the SSE fast path (which must still park) and the envelope
fast path; the session cookie's attributes; no token is taken from a URL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
import trio

from preview import Settings
from preview.proxy.hot import front as hot_front

from ..conftest import (
    SERVER_COMMAND,
    Service,
    auth,
    eventually,
    read_sse,
    running_service,
    server_app,
    token,
)

FRONTEND = "http://127.0.0.1:5173"
OTHER = "http://evil.example"


@pytest.fixture
async def cors_service(settings: Settings) -> AsyncIterator[Service]:
    configured = dataclasses.replace(settings, cors_origins=f"{FRONTEND}, https://app.example")
    async with running_service(configured) as running:
        yield running


def _assert_allowed(headers, origin: str = FRONTEND) -> None:
    assert headers.get_list("access-control-allow-origin") == [origin], headers
    assert headers["access-control-allow-credentials"] == "true"
    assert "Origin" in headers.get_list("vary")


def _assert_not_allowed(headers) -> None:
    assert "access-control-allow-origin" not in headers
    assert "access-control-allow-credentials" not in headers


async def test_preflight_of_every_api_route_kind(cors_service: Service) -> None:
    service = cors_service
    with trio.fail_after(30):
        for path in (
            "/api/generations",
            "/api/generations/g_x/preview/logs/stream",
            "/api/generations/g_x/preview/request",
            "/api/generations/g_x/preview/proxy/docs",
            "/api/session",
        ):
            response = await service.client.options(
                path,
                headers={
                    "Origin": FRONTEND,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, content-type",
                },
            )
            assert response.status_code == 204, path
            _assert_allowed(response.headers)
            methods = response.headers["access-control-allow-methods"]
            assert {"GET", "POST", "DELETE"} <= {m.strip() for m in methods.split(",")}
            allowed = response.headers["access-control-allow-headers"].lower()
            for name in ("authorization", "content-type", "last-event-id", "x-preview-token"):
                assert name in allowed
        refused = await service.client.options(
            "/api/generations",
            headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"},
        )
        _assert_not_allowed(refused.headers)


async def test_answers_and_errors_carry_cors_for_allowed_origins_only(
    cors_service: Service,
) -> None:
    service = cors_service
    with trio.fail_after(30):
        listing = await service.client.get(
            "/api/generations", headers={**auth(), "Origin": FRONTEND}
        )
        assert listing.status_code == 200
        _assert_allowed(listing.headers)
        unauthenticated = await service.client.get(
            "/api/generations", headers={"Origin": "https://app.example"}
        )
        assert unauthenticated.status_code == 401
        _assert_allowed(unauthenticated.headers, "https://app.example")
        other = await service.client.get("/api/generations", headers={**auth(), "Origin": OTHER})
        assert other.status_code == 200
        _assert_not_allowed(other.headers)
        assert "Origin" in other.headers.get_list("vary")
        # Not under /api: the UI and operations are not for other origins.
        index = await service.client.get("/", headers={"Origin": FRONTEND})
        _assert_not_allowed(index.headers)


async def test_sse_fast_path_has_cors_and_still_parks(cors_service: Service) -> None:
    service = cors_service
    parked = service.app.extensions["preview"].parked_streams
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running"
        url = f"/api/generations/{gid}/preview/logs/stream"
        headers = {**auth(), "Origin": FRONTEND}
        async with service.client.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            _assert_allowed(response.headers)
            await eventually(lambda: len(parked) == 1)  # the direct writer was attached
            await service.stop(gid)
            events = await read_sse(response)
        assert events[-1][0] == "end"
        last = events[-2][2]
        # The 204 of a finished stream, and the envelope fast path's answers, too.
        done = await service.client.get(url, headers={**headers, "Last-Event-ID": str(last)})
        assert done.status_code == 204
        _assert_allowed(done.headers)
        envelope = await service.client.post(
            f"/api/generations/{gid}/preview/request",
            json={"method": "GET", "path": "/"},
            headers=headers,
        )
        assert envelope.status_code == 503
        _assert_allowed(envelope.headers)


async def test_envelope_fast_path_and_the_proxy_replace_the_apps_own_cors(
    cors_service: Service,
) -> None:
    service = cors_service
    app = server_app(
        before_serving="""
        class Cors(Handler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", "2")
                self.end_headers(); self.wfile.write(b"ok")
        Handler = Cors
        """
    )
    with trio.fail_after(60):
        gid = await service.upload(app)
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        headers = {**auth(), "Origin": FRONTEND, "X-Preview-Token": launched["previewToken"]}
        envelope = await service.client.post(
            f"/api/generations/{gid}/preview/request",
            json={"method": "GET", "path": "/"},
            headers=headers,
        )
        assert envelope.status_code == 200 and envelope.json()["statusCode"] == 200
        _assert_allowed(envelope.headers)
        proxied = await service.client.get(
            f"/api/generations/{gid}/preview/proxy/", headers=headers
        )
        assert proxied.status_code == 200 and proxied.text == "ok"
        _assert_allowed(proxied.headers)  # one value, ours: not the app's "*"
        # Without an Origin, on a connection of its own: the hot path's answers
        # (below Hypercorn) vary by Origin too, and grant nothing.
        hot = service.app.extensions[hot_front.EXTENSION]
        served = hot.served
        del headers["Origin"]
        async with httpx.AsyncClient(base_url=service.url, trust_env=False) as fresh:
            for answer in (
                await fresh.post(
                    f"/api/generations/{gid}/preview/request",
                    json={"method": "GET", "path": "/"},
                    headers=headers,
                ),
                await fresh.get(f"/api/generations/{gid}/preview/proxy/", headers=headers),
            ):
                assert answer.status_code == 200, answer.text
                assert "Origin" in answer.headers.get_list("vary")
                assert "access-control-allow-origin" not in answer.headers
        assert hot.served == served + 2
        await service.stop(gid)


async def test_no_cors_by_default(service: Service) -> None:
    with trio.fail_after(30):
        response = await service.client.get(
            "/api/generations", headers={**auth(), "Origin": FRONTEND}
        )
        _assert_not_allowed(response.headers)
        preflight = await service.client.options(
            "/api/generations",
            headers={"Origin": FRONTEND, "Access-Control-Request-Method": "POST"},
        )
        _assert_not_allowed(preflight.headers)


@pytest.mark.parametrize(
    "origins", ["*", "https://app.example/", "app.example", "https://a.example/path", "null"]
)
def test_cors_origins_must_be_exact_origins(origins: str) -> None:
    with pytest.raises(ValueError, match="PREVIEW_CORS_ORIGINS"):
        Settings.from_env({"PREVIEW_CORS_ORIGINS": f"https://ok.example,{origins}"})


def test_cors_origins_parse() -> None:
    settings = Settings.from_env({"PREVIEW_CORS_ORIGINS": " http://127.0.0.1:5173 ,https://x.io,"})
    assert settings.cors_origin_set == {"http://127.0.0.1:5173", "https://x.io"}


async def test_session_cookie_suits_a_same_site_frontend(service: Service) -> None:
    with trio.fail_after(30):
        response = await service.client.post("/api/session", headers=auth())
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "httponly" in attributes
    assert attributes["path"].strip() == "Path=/api"  # every API route, the streams too
    # Strict still goes with same-site requests (another port or subdomain of this site),
    # never with another site's page: CSRF needs no token.
    assert attributes["samesite"].strip().lower() == "samesite=strict"


async def test_no_route_takes_a_bearer_token_from_the_url(service: Service) -> None:
    bearer = token()
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running"
        base = f"/api/generations/{gid}"
        for path in (
            "/api/generations",
            base,
            f"{base}/preview/status",
            f"{base}/preview/logs",
            f"{base}/preview/logs/stream",
            f"{base}/preview/proxy/docs",
        ):
            for name in ("token", "access_token", "authorization", "jwt", "bearer"):
                response = await service.client.get(path, params={name: bearer})
                assert response.status_code == 401, (path, name)
        await service.stop(gid)
