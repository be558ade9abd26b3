"""JSON request bodies over HTTP: a document nested past the decoder's recursion limit is a
400 on every route that parses one (Quart's routes and the envelope's fast path), and a
small JSON call stops reading at its own limit with 413, far below the upload limit."""

from __future__ import annotations

import base64
import dataclasses
import json
import tracemalloc

import httpx
import pytest
import trio
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge

from preview import Settings
from preview.app import create_app
from preview.errors import TooLarge
from preview.services.bodies import JSON_BODY_LIMIT, envelope_limit, read_body

from ..conftest import SERVER_COMMAND, Service, auth, running_service, server_app
from ..raw_http import send_endless_body

_PROXY_BODY = 48 << 10  # the envelope's limit is then about 128 KiB
_SENT_AT_MOST = 64 << 20  # what the client would send if nobody stopped it


@pytest.fixture
async def big_uploads(settings: Settings):
    """Uploads of up to 1 GiB: what used to be the only cap of every JSON body."""
    changed = dataclasses.replace(
        settings, max_upload_bytes=1 << 30, proxy_max_body_bytes=_PROXY_BODY
    )
    async with running_service(changed) as service:
        yield service


def _routes(gid: str) -> dict[str, tuple[str, str]]:
    base = f"/api/generations/{gid}"
    return {
        "rename": ("PATCH", base),
        "launch": ("POST", f"{base}/preview/launch"),
        "ticket": ("POST", f"{base}/preview/ticket"),
        "envelope": ("POST", f"{base}/preview/request"),
    }


def _assert_invalid_json(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == "failed" and body["error"] == "invalid_json", body


@pytest.mark.parametrize("route", ["rename", "launch", "ticket", "envelope"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_deeply_nested_json_is_a_400(service: Service, route: str, chunked: bool) -> None:
    """A chunked envelope is answered by the Quart route, one with a length by the fast
    path; both used to let RecursionError through (500)."""
    deep = b"[" * (JSON_BODY_LIMIT - 1)
    with trio.fail_after(30):
        gid = await service.upload({"main.py": "print('hi')\n"})
        method, path = _routes(gid)[route]

        async def pieces():
            yield deep

        response = await service.client.request(
            method,
            path,
            content=pieces() if chunked else deep,
            headers={**auth(), "Content-Type": "application/json"},
        )
        _assert_invalid_json(response)
        assert (await service.client.get("/api/health")).status_code == 200


async def test_a_deeply_nested_upload_is_a_400(service: Service) -> None:
    with trio.fail_after(30):
        for deep in (b"[" * 100_000, b'{"files": ' * 50_000):
            response = await service.client.post(
                "/api/generations",
                content=deep,
                headers={**auth(), "Content-Type": "application/json"},
            )
            _assert_invalid_json(response)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_envelope_nested_just_under_the_decoders_limit_is_a_400(
    service: Service, chunked: bool
) -> None:
    """A body past 64 KiB is parsed in a thread, whose stack is shallow: a document
    nested 950 levels deep parsed there, and the envelope's ``body``, encoded again for
    the app on the request's deeper stack, raised RecursionError (an empty 500, by the
    fast path and by the Quart route alike)."""
    deep = b"[" * 950 + b"]" * 950
    padding = b"x" * (70 << 10)  # past the size parsed inline
    call = b'{"method": "POST", "path": "/", "pad": "' + padding + b'", "body": ' + deep + b"}"
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", (launched["errorMessage"], launched["errorLines"])

        async def pieces():
            yield call

        response = await service.client.post(
            f"/api/generations/{gid}/preview/request",
            content=pieces() if chunked else call,
            headers={
                **auth(),
                "Content-Type": "application/json",
                "X-Preview-Token": launched["previewToken"],
            },
        )
        _assert_invalid_json(response)
        assert response.json()["details"] == {"maxDepth": 128}
        # A body nested as deep as real ones do still goes through.
        shallow = {"method": "POST", "path": "/", "body": {"a": [[{"b": [1]}]]}}
        response = await service.client.post(
            f"/api/generations/{gid}/preview/request",
            json=shallow,
            headers={**auth(), "X-Preview-Token": launched["previewToken"]},
        )
        assert response.status_code == 200, response.text
        await service.stop(gid)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("route", ["rename", "launch", "ticket", "envelope"])
async def test_an_endless_json_body_is_refused_at_its_own_limit(
    big_uploads: Service, route: str, chunked: bool
) -> None:
    limit = envelope_limit(big_uploads.settings) if route == "envelope" else JSON_BODY_LIMIT
    with trio.fail_after(60):
        gid = await big_uploads.upload({"main.py": "print('hi')\n"})
        # Its owner known (a first lookup waits for the store's thread): the route then
        # reads the body at once. Meanwhile Quart buffers what arrives, and on a loaded
        # machine that wait let 49 MiB in before the refusal.
        assert (await big_uploads.client.get(f"/api/generations/{gid}", headers=auth())).is_success
        method, path = _routes(gid)[route]
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {_SENT_AT_MOST}"
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: {auth()['Authorization']}\r\n{framing}\r\n\r\n"
        ).encode()
        answer, sent = await send_endless_body(
            big_uploads, head, b'{"name": "', b"x", chunked=chunked, at_most=_SENT_AT_MOST
        )
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    refusal = json.loads(body)
    assert refusal["status"] == "failed" and refusal["details"] == {"limit": limit}, refusal
    # It stopped reading near its limit (what the sockets' buffers held besides), not
    # at the upload limit or the end of the body.
    assert sent < 16 << 20, sent
    assert (await big_uploads.client.get("/api/health")).status_code == 200


async def test_an_envelope_carrying_the_largest_body_is_not_too_large(
    big_uploads: Service,
) -> None:
    """Its limit leaves room for the largest body base64-encoded and the call around it."""
    largest = base64.b64encode(b"\xff" * _PROXY_BODY).decode()
    call = {"method": "POST", "path": "/", "body": largest, "bodyEncoding": "base64"}
    call["headers"] = {f"x-h{n}": "v" * 200 for n in range(100)}
    with trio.fail_after(30):
        gid = await big_uploads.upload({"main.py": "print('hi')\n"})
        response = await big_uploads.client.post(
            f"/api/generations/{gid}/preview/request", json=call, headers=auth()
        )
    assert response.status_code == 503, response.text  # not 413: nothing runs
    assert response.json()["error"] == "preview_not_running"


_DEEP_APP = server_app(
    before_serving="""
    class Deep(Handler):
        def do_GET(self):
            depth = int(self.path.partition("=")[2] or 1)
            body = b"[" * depth + b"]" * depth
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
    Handler = Deep
    """
)


async def test_an_app_answering_deeply_nested_json_gets_it_through_as_text(
    service: Service,
) -> None:
    """The app is untrusted too: its answer to an envelope call is parsed for ``data``.
    Every depth around the decoder's limit comes back whole, as JSON or as text."""
    with trio.fail_after(60):
        gid = await service.upload(_DEEP_APP)
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", (launched["errorMessage"], launched["errorLines"])
        headers = {**auth(), "X-Preview-Token": launched["previewToken"]}
        for depth in [*range(850, 1010, 5), 5000, 100_000]:
            response = await service.client.post(
                f"/api/generations/{gid}/preview/request",
                json={"path": f"/deep?depth={depth}"},
                headers=headers,
            )
            assert response.status_code == 200, (depth, response.text[:300])
            data = response.json()["data"]
            expected = "[" * depth + "]" * depth
            assert data == expected or json.dumps(data, separators=(",", ":")) == expected
        await service.stop(gid)


@pytest.mark.parametrize(
    ("route", "limit"),
    [
        ("/api/generations/g1", JSON_BODY_LIMIT),
        ("/api/generations/g1/preview/launch", JSON_BODY_LIMIT),
        ("/api/generations/g1/preview/request", None),  # the envelope's
        ("/api/generations/g1/preview/proxy/items", _PROXY_BODY),
        ("/api/generations/g1/revisions", 1 << 30),
        ("/api/generations", 1 << 30),
    ],
)
async def test_quart_keeps_no_more_of_a_body_than_its_routes_limit(
    settings: Settings, route: str, limit: int | None
) -> None:
    """What arrives while a route awaits something before it reads (its generation's
    owner, from the store) is kept by Quart up to the route's own limit, not up to the
    largest any route takes (the upload's): a rename's 64 MiB body took 64 MiB of RSS."""
    changed = dataclasses.replace(
        settings, max_upload_bytes=1 << 30, proxy_max_body_bytes=_PROXY_BODY
    )
    limit = envelope_limit(changed) if limit is None else limit
    app = create_app(changed, fast_paths=True)
    scope = {"type": "http", "headers": [], "path": route, "query_string": b""}
    request = app.request_class(
        "POST",
        "http",
        route,
        b"",
        Headers(),
        "",
        "1.1",
        scope,  # type: ignore[arg-type]
        max_content_length=app.config["MAX_CONTENT_LENGTH"],
        send_push_promise=None,  # type: ignore[arg-type]
    )
    chunk = b"x" * (1 << 20)
    tracemalloc.start()
    try:
        for _ in range(64 if limit < 64 << 20 else 8):
            request.body.append(chunk)
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = min(limit, 8 << 20)
    assert kept < expected + (2 << 20), (kept, limit)  # the last chunk past it, at most
    if limit < 8 << 20:
        with pytest.raises(RequestEntityTooLarge):
            await request.body


async def test_a_body_past_its_limit_before_the_route_reads_is_its_routes_413(
    settings: Settings,
) -> None:
    """Quart stopped keeping it (above): the route's refusal is still the error shape
    with the route's limit, not Werkzeug's own words."""
    app = create_app(settings, fast_paths=True)
    route = "/api/generations/g1"
    async with app.test_request_context(route, method="PATCH") as context:
        body = context.request.body
        for _ in range(3):  # chunked: no length said, so only the bytes tell
            body.append(b"x" * JSON_BODY_LIMIT)
        with pytest.raises(TooLarge) as refused:
            await read_body(JSON_BODY_LIMIT, settings.body_timeout)
    assert refused.value.details == {"limit": JSON_BODY_LIMIT}
    assert refused.value.code == "request_entity_too_large"
