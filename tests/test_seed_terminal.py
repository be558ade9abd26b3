"""The seeds' terminal (``usePreviewLogs``: a plain ``new EventSource(url)`` and its
``onmessage``) in Chromium, against a launch that fails: same origin (the embedding
example's host, its own cookie) and cross-origin (a page server on another port, our
session cookie, PREVIEW_CORS_ORIGINS). Every line reaches ``onmessage`` exactly once, the
stream stops after its end (a browser-managed EventSource is refused with 204 when it
reconnects, and stops), and a reload gets the log again once, without duplicates."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from preview import Settings, create_app

from .conftest import SERVER_COMMAND, auth, running_service, token
from .test_embedding import FAILING, HOST_FILE, load_host, serving
from .ui_helpers import browser_page, in_browser, require_browser

PAGE = HOST_FILE.with_name("terminal.html")

# A browser-managed EventSource beside the seeds' one: no onerror that closes it, so
# the browser reconnects after the end (with Last-Event-ID) unless the server says 204.
_PLAIN_CLIENT = """([base, gid]) => {
  const plain = { ids: [], opens: 0, errors: 0, ended: false };
  window.plain = plain;
  const source = new EventSource(
    `${base}/api/generations/${gid}/preview/logs/stream?client=plain`,
    base ? { withCredentials: true } : undefined);
  window.plainSource = source;
  source.onopen = () => { plain.opens += 1; };
  source.onmessage = (event) => { plain.ids.push(JSON.parse(event.data).id); };
  source.addEventListener('end', () => { plain.ended = true; });
  source.onerror = () => { plain.errors += 1; };
}"""
_SEEDS_DONE = "() => terminal.logs.length > 0 && !terminal.isConnected"


class StreamRequests:
    """ASGI middleware recording each log-stream request the server receives: its
    query and its Last-Event-ID (the server-side count of connections)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self.seen: list[tuple[str, str | None]] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/logs/stream"):
            headers = dict(scope["headers"])
            resume = headers.get(b"last-event-id")
            self.seen.append((scope["query_string"].decode(), resume.decode() if resume else None))
        await self._app(scope, receive, send)


def _watch_a_failing_launch(
    page_url: str, base: str, gid: str, prepare: Callable[[Any], None]
) -> dict[str, Any]:
    """In the page: sign in (``prepare``), launch, watch with the seeds' hook and a plain
    EventSource until both stopped; reload and watch again."""
    with browser_page() as (page, log):
        page.goto(page_url)
        prepare(page)
        page.evaluate("([gid, command]) => launch(gid, { command })", [gid, SERVER_COMMAND])
        page.evaluate(_PLAIN_CLIENT, [base, gid])
        page.wait_for_function(_SEEDS_DONE, timeout=60_000)
        first = page.evaluate("() => terminal.logs")
        page.wait_for_function("() => window.plainSource.readyState === EventSource.CLOSED")
        plain = page.evaluate("() => window.plain")

        page.reload()
        prepare(page)
        page.evaluate("gid => watch(gid)", gid)
        page.wait_for_function(_SEEDS_DONE)
        again = page.evaluate("() => terminal.logs")
        opened = [line for line in log.console if "SSE connection established" in line]
        failures = [e for e in log.errors if "SSE connection error" not in e]
        return {
            "first": first,
            "plain": plain,
            "again": again,
            "opened": len(opened),
            "errors": failures,
        }


async def _history(client: httpx.AsyncClient, gid: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/generations/{gid}/preview/logs", params={"limit": 5000}, headers=auth()
    )
    assert response.status_code == 200 and not response.json()["hasMore"]
    return response.json()["events"]


def _assert_each_line_once(result: dict[str, Any], history: list[dict[str, Any]]) -> None:
    assert not result["errors"], result["errors"]
    ids = [event["id"] for event in history]
    assert [log["id"] for log in result["first"]] == ids  # each once, in order
    assert result["first"] == history  # lifecycle lines included, with their status
    statuses = [log["status"] for log in result["first"] if "status" in log]
    assert statuses[-1] == "failed", statuses
    assert any("RuntimeError: no database configured" in log["message"] for log in history)
    assert [log["id"] for log in result["again"]] == ids  # the reload: once again, no dupes
    plain = result["plain"]
    assert plain["ids"] == ids and plain["ended"] and plain["opens"] == 1
    assert result["opened"] == 2  # the seeds' hook: one connection per page load


def _assert_connections(recorder: StreamRequests, last_id: int) -> None:
    seeds = [entry for entry in recorder.seen if entry[0] == ""]
    plain = [entry for entry in recorder.seen if entry[0] == "client=plain"]
    assert seeds == [("", None), ("", None)]  # first load and reload, nothing else
    # The browser's own reconnect after the end resumes at the last id: 204, and stop.
    assert plain == [("client=plain", None), ("client=plain", str(last_id))]


async def test_seed_terminal_same_origin_in_the_embedding_host(settings: Settings) -> None:
    require_browser()
    host = load_host().Host(settings)
    recorder = StreamRequests(host.preview.asgi_app)
    host.preview.asgi_app = recorder

    def sign_in(page: Any) -> None:
        assert page.evaluate("() => signIn('alice')") == 204  # the host's own cookie

    with trio.fail_after(120):
        async with (
            serving(host, host.preview) as url,
            httpx.AsyncClient(base_url=url, trust_env=False, timeout=30) as client,
        ):
            upload = await client.post(
                "/api/generations", json={"projectId": "p", "files": FAILING}, headers=auth()
            )
            gid = upload.json()["generationId"]
            result = await in_browser(_watch_a_failing_launch, f"{url}/", "", gid, sign_in)
            history = await _history(client, gid)
    _assert_each_line_once(result, history)
    _assert_connections(recorder, history[-1]["id"])


def _page_server(api: str) -> Any:
    """A tiny ASGI app serving the example's page, told where the service is."""
    html = PAGE.read_text().replace(
        "<script>", f"<script>window.PREVIEW_API = {api!r};</script>\n<script>", 1
    )

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = html.encode()
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_seed_terminal_cross_origin_with_our_session_cookie(settings: Settings) -> None:
    require_browser()
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    pages = trio.Event()
    api_url: list[str] = []

    async def page_app(scope: dict, receive: Any, send: Any) -> None:
        await _page_server(api_url[0])(scope, receive, send)

    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                partial(serve, page_app, config, shutdown_trigger=pages.wait)
            )
            page_origin = binds[0]
            configured = dataclasses.replace(settings, cors_origins=page_origin)
            app = create_app(configured, fast_paths=True)
            recorder = StreamRequests(app.asgi_app)
            app.asgi_app = recorder
            async with running_service(configured, app) as service:
                api_url.append(service.url)
                assert service.url != page_origin  # another port: another origin
                gid = await service.upload(FAILING)

                def sign_in(page: Any) -> None:
                    # Our session cookie, set by a credentialed cross-origin call (the
                    # Authorization header makes it preflighted).
                    status = page.evaluate(
                        """bearer => fetch(`${window.PREVIEW_API}/api/session`, {
                            method: 'POST', credentials: 'include',
                            headers: { Authorization: `Bearer ${bearer}` },
                        }).then(response => response.status)""",
                        token(),
                    )
                    assert status == 200
                    # launch() sends the cookie only; launching needs the bearer.
                    page.evaluate(
                        """bearer => { const api = window.fetch.bind(window);
                          window.fetch = (url, options = {}) => api(url, { ...options,
                            headers: { ...(options.headers || {}),
                                       Authorization: `Bearer ${bearer}` } }); }""",
                        token(),
                    )

                result = await in_browser(
                    _watch_a_failing_launch, f"{page_origin}/", service.url, gid, sign_in
                )
                history = await _history(service.client, gid)
            pages.set()
    _assert_each_line_once(result, history)
    _assert_connections(recorder, history[-1]["id"])


async def test_our_ui_stream_stops_when_the_service_says_204(settings: Settings) -> None:
    """The UI's LogStream reopens a stream the browser gave up on (an HTTP error), unless
    the service says 204: nothing after its last id of a finished preview. Then it ends
    instead of reopening every few seconds."""
    require_browser()
    app = create_app(settings, fast_paths=True)
    recorder = StreamRequests(app.asgi_app)
    app.asgi_app = recorder

    def script(url: str, gid: str, last_id: int) -> dict[str, Any]:
        with browser_page() as (page, log):
            page.goto(f"{url}/#token={token()}")
            page.wait_for_selector("#app:not([hidden])")
            result = page.evaluate(
                """async ([gid, last]) => {
                  const { LogStream } = await import('/static/js/logstream.js');
                  const { streamUrl } = await import('/static/js/api.js');
                  const states = [];
                  const ended = await new Promise((resolve) => {
                    new LogStream({
                      url: (lastEventId) => streamUrl(gid, undefined, lastEventId),
                      lastId: () => last,
                      onEvent: () => {}, onStatus: () => {}, onEnd: resolve,
                      onState: (state) => states.push(state),
                    }).open(last);
                  });
                  return { states, ended };
                }""",
                [gid, last_id],
            )
            assert not log.errors, log.errors
            return result

    with trio.fail_after(90):
        async with running_service(settings, app) as service:
            gid = await service.upload(FAILING)
            launched = await service.launch(gid, command=SERVER_COMMAND)
            assert launched.json()["status"] == "failed"
            last_id = (await service.history(gid))[-1]["id"]
            before = len(recorder.seen)
            result = await in_browser(script, service.url, gid, last_id)
    assert result["states"][-1] == "ended", result
    # The EventSource's one request (204), then the UI's one check (204): no loop.
    assert recorder.seen[before:] == [(f"lastEventId={last_id}", None)] * 2
