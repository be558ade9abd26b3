"""No app page runs on the API's origin: what the path proxy answers a browser and an API
client (sandboxed, no cookies or origin-wide headers of the app, redirects kept under
the prefix), and what of the app's cookies its own origin lets through; against a real
service and a real child app that sends every header it should not.

The Quart route answers calls whose preview token came in the query; the fast path those
with the token in a header or cookie: each test goes through both."""

from __future__ import annotations

import re
import urllib.parse
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
import pytest
import trio

from ..conftest import SERVER_COMMAND, Service, auth, server_app

PAGE = b"<!doctype html><script>fetch('/api/generations')</script><p>the app's page</p>"
# Everything here an app could send to act on the whole origin it is served at.
HOSTILE = server_app(
    before_serving=f"""
    import urllib.parse
    PAGE = {PAGE!r}
    class Hostile(Handler):
        protocol_version = "HTTP/1.1"
        def answer(self):
            path, _, query = self.path.partition("?")
            if path == "/reset":
                self.connection.shutdown(2)
                self.close_connection = True
                return
            if path.endswith("/go"):
                to = urllib.parse.parse_qs(query)["to"][0]
                self.send_response(307)
                self.send_header("Location", to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.send_header("Set-Cookie", "preview_session=planted; Path=/api/generations")
            self.send_header("Set-Cookie", "preview_token=planted; Path=/")
            self.send_header("Set-Cookie", "preview_app_session=planted; Path=/")
            self.send_header("Set-Cookie", "__Host-Preview_App_Session=planted; Path=/; Secure")
            self.send_header("Set-Cookie", "app_cookie=of-the-app; Domain=localhost; Path=/")
            self.send_header("Clear-Site-Data", '"cookies", "storage"')
            self.send_header("Refresh", "0; url=/api/generations")
            self.send_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            self.send_header("Alt-Svc", 'h2="elsewhere.example:443"')
            self.send_header("Report-To", '{{"group":"x","endpoints":[{{"url":"/r"}}]}}')
            self.send_header("NEL", '{{"report_to":"x","max_age":86400}}')
            self.send_header("Access-Control-Allow-Origin", "http://elsewhere.example")
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Content-Security-Policy", "script-src *")
            self.send_header("X-Content-Type-Options", "sniff-away")
            self.send_header("X-App", "kept")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(PAGE)
        def do_GET(self):
            self.answer()
        do_HEAD = do_GET
        def do_POST(self):
            if self.headers.get("Transfer-Encoding") == "chunked":  # as the proxy streams
                while size := int(self.rfile.readline(), 16):
                    self.rfile.read(size + 2)
                self.rfile.readline()
            else:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.answer()
    Handler = Hostile
    """
)
SANDBOXED = {
    "content-security-policy": "sandbox",
    "x-content-type-options": "nosniff",
    "cross-origin-resource-policy": "same-origin",
}
ORIGIN_WIDE = (
    "set-cookie",
    "clear-site-data",
    "refresh",
    "strict-transport-security",
    "alt-svc",
    "report-to",
    "nel",
    "access-control-allow-origin",
    "access-control-allow-credentials",
)
NAVIGATIONS = {
    "navigate": {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
    "iframe": {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "iframe"},
    "no fetch metadata": {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
}


@pytest.fixture
async def hostile(service: Service):
    with trio.fail_after(60):
        gid = await service.upload(HOSTILE)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    yield gid, body
    with trio.fail_after(30):
        await service.stop(gid)


@pytest.fixture
async def browser(service: Service):
    """A client of the service's port that keeps no cookies (each call carries its own)."""
    async with httpx.AsyncClient(
        base_url=service.url,
        trust_env=False,
        timeout=30,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    ) as client:
        yield client


def _assert_sandboxed(response: httpx.Response) -> None:
    for name, value in SANDBOXED.items():
        assert response.headers.get_list(name) == [value], (name, response.headers)
    for name in ORIGIN_WIDE:
        assert name not in response.headers, (name, response.headers)


async def test_an_app_page_is_data_on_the_api_origin(
    service: Service, browser: httpx.AsyncClient, hostile
) -> None:
    gid, body = hostile
    prefix = f"/api/generations/{gid}/preview/proxy"
    token = body["previewToken"]
    with trio.fail_after(30):
        # The fast path (token in a header), as an API client and as a page's fetch().
        for extra in ({}, {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}):
            answer = await browser.get(
                f"{prefix}/page", headers={**auth(), "X-Preview-Token": token, **extra}
            )
            assert answer.status_code == 200 and answer.content == PAGE
            assert answer.headers["x-app"] == "kept"
            _assert_sandboxed(answer)
        head = await browser.head(f"{prefix}/page", headers={**auth(), "X-Preview-Token": token})
        assert head.status_code == 200
        _assert_sandboxed(head)
        # The Quart route (token in the query, which only a GET trades for a cookie).
        posted = await browser.post(
            f"{prefix}/page", params={"previewToken": token}, headers=auth()
        )
        assert posted.status_code == 200 and posted.content == PAGE
        _assert_sandboxed(posted)
        # Its own answers too: the cookie trade, and errors of either path.
        traded = await browser.get(f"{prefix}/page", params={"previewToken": token}, headers=auth())
        assert traded.status_code == 303
        for name, value in SANDBOXED.items():
            assert traded.headers[name] == value
        refused = await browser.get(f"{prefix}/page", headers={**auth(), "X-Preview-Token": "no"})
        assert refused.status_code == 403
        assert refused.headers["content-security-policy"] == "sandbox"
        reset = await browser.get(f"{prefix}/reset", headers={**auth(), "X-Preview-Token": token})
        assert reset.status_code == 502 and reset.json()["error"] == "upstream_unavailable"
        _assert_sandboxed(reset)

        # The envelope gives the app's headers as data: its cookies included.
        envelope = await browser.post(
            f"/api/generations/{gid}/preview/request",
            json={"path": "/page"},
            headers={**auth(), "X-Preview-Token": token},
        )
        assert "set-cookie" not in envelope.headers
        assert "preview_session=planted" in str(envelope.json()["headers"]["set-cookie"])


@pytest.mark.parametrize("how", sorted(NAVIGATIONS))
async def test_a_navigation_goes_to_the_preview_origin_through_a_ticket(
    service: Service, browser: httpx.AsyncClient, hostile, how: str
) -> None:
    gid, body = hostile
    prefix = f"/api/generations/{gid}/preview/proxy"
    token = body["previewToken"]
    origin = urllib.parse.urlsplit(body["baseUrl"])
    headers = NAVIGATIONS[how]
    with trio.fail_after(30):
        for where, call in (
            ("fast path", {"headers": {**auth(), "X-Preview-Token": token, **headers}}),
            ("quart", {"headers": {**auth(), **headers}, "params": {"previewToken": token}}),
        ):
            params = {"q": "1", **call.pop("params", {})}
            sent = await browser.get(f"{prefix}/page/x", params=params, **call)
            assert sent.status_code == 303, (where, sent.text)
            assert sent.content == b""
            for name, value in SANDBOXED.items():
                assert sent.headers[name] == value
            assert sent.headers["cache-control"] == "no-store"
            assert "set-cookie" not in sent.headers  # no cookie for the API's origin
            location = urllib.parse.urlsplit(sent.headers["location"])
            assert (location.scheme, location.netloc) == (origin.scheme, origin.netloc)
            assert location.path == "/__preview/enter"
            # The ticket signs the browser in at the origin, on the same path.
            entered = await browser.get(
                f"{location.path}?{location.query}", headers={"Host": origin.netloc}
            )
            assert entered.status_code == 303, entered.text
            assert entered.headers["location"] == "/page/x?q=1"
            session = entered.headers["set-cookie"].split(";", 1)[0]
            page = await browser.get(
                "/page/x?q=1", headers={"Host": origin.netloc, "Cookie": session}
            )
            assert page.status_code == 200 and page.content == PAGE
            again = await browser.get(
                f"{location.path}?{location.query}", headers={"Host": origin.netloc}
            )
            assert again.status_code == 401  # one time only


async def test_a_post_or_a_fetch_asking_for_html_is_not_a_navigation(
    service: Service, browser: httpx.AsyncClient, hostile
) -> None:
    gid, body = hostile
    prefix = f"/api/generations/{gid}/preview/proxy"
    headers = {**auth(), "X-Preview-Token": body["previewToken"], "Accept": "text/html"}
    with trio.fail_after(30):
        fetched = await browser.get(
            f"{prefix}/page",
            headers={**headers, "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},
        )
        assert fetched.status_code == 200
        _assert_sandboxed(fetched)
        # A form's POST is a navigation that cannot be moved: answered, sandboxed.
        posted = await browser.post(
            f"{prefix}/page", headers={**headers, "Sec-Fetch-Mode": "navigate"}
        )
        assert posted.status_code == 200 and posted.content == PAGE
        _assert_sandboxed(posted)


async def test_an_apps_redirect_stays_under_its_prefix_on_the_service_host(
    service: Service, browser: httpx.AsyncClient, hostile
) -> None:
    gid, body = hostile
    prefix = f"/api/generations/{gid}/preview/proxy"
    host = service.url.removeprefix("http://")
    cases = {
        "/login?next=/a": f"{prefix}/login?next=/a",
        f"{prefix}/already/under": f"{prefix}/already/under",
        "../../../../../../api/generations": f"{prefix}/api/generations",
        f"http://{host}/api/generations/{gid}": f"{prefix}/api/generations/{gid}",
        f"//{host}/": f"{prefix}/",
        "relative/path": "relative/path",  # within the prefix: as the app wrote it
        "https://elsewhere.example/x": "https://elsewhere.example/x",
    }
    with trio.fail_after(30):
        for target, expected in cases.items():
            for call in (
                {"headers": {**auth(), "X-Preview-Token": body["previewToken"]}},
                {"headers": auth(), "params": {"previewToken": body["previewToken"]}},
            ):
                params = {**call.get("params", {}), "to": target}
                sent = await browser.post(
                    f"{prefix}/deep/go", params=params, headers=call["headers"]
                )
                assert sent.status_code == 307, sent.text
                assert sent.headers["location"] == expected, (target, sent.headers)
                _assert_sandboxed(sent)


async def test_at_its_own_origin_the_app_cannot_set_the_services_cookies(
    service: Service, browser: httpx.AsyncClient, hostile
) -> None:
    gid, body = hostile
    origin = urllib.parse.urlsplit(body["baseUrl"]).netloc
    with trio.fail_after(30):
        ticket = await browser.post(
            f"/api/generations/{gid}/preview/ticket",
            json={"path": "/page"},
            headers={**auth(), "X-Preview-Token": body["previewToken"]},
        )
        location = urllib.parse.urlsplit(ticket.json()["url"])
        entered = await browser.get(f"{location.path}?{location.query}", headers={"Host": origin})
        session = entered.headers["set-cookie"].split(";", 1)[0]
        page = await browser.get("/page", headers={"Host": origin, "Cookie": session})
        assert page.status_code == 200 and page.content == PAGE
        # The app's own cookie, host-only; none of the service's names.
        assert page.headers.get_list("set-cookie") == ["app_cookie=of-the-app; Path=/"]
        # The rest of its answer is its own at its origin.
        assert page.headers["clear-site-data"] == '"cookies", "storage"'
        assert page.headers["content-security-policy"] == "script-src *"
        assert re.fullmatch(r"preview_app_session=[^;]+", session)
