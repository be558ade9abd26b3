"""An app's page, opened from the UI in a real Chromium by every way there is, can neither
read a credential of the user nor call the API: it always ends at the preview's own
origin (or, were it ever rendered on the API's origin, sandboxed with no script), and
the UI keeps no credential a script could read.

The app is hostile: its page reads every storage and cookie it can see and calls the
API (relative and absolute, listing and deleting another generation, an upload with a
simple request) and writes down what it got; the test reads that, and checks with the
owner's bearer token that nothing changed."""

from __future__ import annotations

import json
import re
from typing import Any

from .conftest import SERVER_COMMAND, Service, auth, server_app, token
from .test_ui import _select
from .ui_helpers import browser_page, in_browser, require_browser

# What the app's page tries; SERVICE and VICTIM are filled in before upload.
HOSTILE_SCRIPT = """
document.getElementById('result').dataset.ran = 'yes';  // at once, while parsing
(async () => {
  const service = SERVICE, victim = VICTIM;
  const seen = {
    origin: location.origin,
    storage: JSON.stringify([{...sessionStorage}, {...localStorage}]),
    cookie: document.cookie,
    calls: {},
  };
  const attempts = {
    relativeList: ['/api/generations', {}],
    relativeSession: ['/api/session', {method: 'POST', headers: {'X-Preview-CSRF': '1'}}],
    list: [service + '/api/generations', {credentials: 'include'}],
    session: [service + '/api/session', {credentials: 'include'}],
    remove: [service + '/api/generations/' + victim,
             {method: 'DELETE', credentials: 'include', headers: {'X-Preview-CSRF': '1'}}],
    upload: [service + '/api/generations',
             {method: 'POST', mode: 'no-cors', credentials: 'include',
              headers: {'Content-Type': 'text/plain'},
              body: '{"projectId": "planted", "files": {"a.py": "x"}}'}],
  };
  for (const [name, [url, init]] of Object.entries(attempts)) {
    try {
      const response = await fetch(url, init);
      seen.calls[name] = response.type === 'opaque'
        ? 'opaque' : response.status + ' ' + (await response.text()).slice(0, 300);
    } catch (error) {
      seen.calls[name] = 'refused: ' + error.message;
    }
  }
  document.getElementById('result').textContent = JSON.stringify(seen);
})();
"""


def _hostile_app(service_url: str, victim: str) -> dict[str, str]:
    script = HOSTILE_SCRIPT.replace("SERVICE", json.dumps(service_url)).replace(
        "VICTIM", json.dumps(victim)
    )
    page = f"<!doctype html><title>hostile</title><pre id=result>not run</pre><script>{script}"
    page += "</script>"
    return server_app(
        before_serving=f"""
        PAGE = {page.encode()!r}
        class Hostile(Handler):
            def do_GET(self):
                if self.path.split("?")[0] not in ("/", "/page"):
                    body = b"the app: nothing here"
                    self.send_response(404)
                else:
                    body = PAGE
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            do_POST = do_GET
        Handler = Hostile
        """
    )


def _result(page: Any) -> dict[str, Any]:
    page.wait_for_function(
        "() => document.getElementById('result')?.textContent !== 'not run'", timeout=20_000
    )
    return json.loads(page.text_content("#result"))


def _assert_harmless(seen: dict[str, Any], service_url: str, bearer: str) -> None:
    assert re.fullmatch(r"http://preview-[0-9a-f]+\.localhost:\d+", seen["origin"]), seen
    assert seen["storage"] == "[{},{}]", seen
    assert seen["cookie"] == "", seen  # the origin's own session cookie is HttpOnly
    text = json.dumps(seen)
    assert bearer not in text and "preview_session" not in text, seen
    calls = seen["calls"]
    # Relative: the app's own paths at its origin, not the API.
    assert calls["relativeList"] == "404 the app: nothing here", calls
    assert calls["relativeSession"].startswith("404 the app"), calls
    # The API from the app's origin: refused (no cookie crosses sites, no CORS for it).
    for name in ("list", "session", "remove"):
        assert calls[name].startswith("refused:"), (name, calls)
    assert calls["upload"] == "opaque", calls  # sent blind; the API refused it (below)


async def test_an_app_page_reads_no_credential_and_calls_no_api(service: Service) -> None:
    require_browser()
    victim = await service.upload({"keep.py": "print('keep me')\n"})
    gid = await service.upload(_hostile_app(service.url, victim))
    launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert launched["status"] == "running", launched
    proxy = f"{service.url}/api/generations/{gid}/preview/proxy"
    bearer = token()

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            page.goto(f"{url}/#token={bearer}")
            page.wait_for_selector("#app:not([hidden])")
            # The UI keeps no credential a script of this origin could read.
            seen["ui"] = page.evaluate(
                "JSON.stringify([{...sessionStorage}, {...localStorage}, document.cookie])"
            )

            # 1. The path proxy's URL in the same tab, the preview token in the query.
            page.goto(f"{proxy}/page?previewToken={launched['previewToken']}")
            seen["query token"] = (page.url, _result(page))

            # 2. The same after the UI's page traded the token for the path's cookie
            # (a fetch: not a navigation, so answered, sandboxed), then a plain link.
            page.goto(f"{url}/")
            page.wait_for_selector("#app:not([hidden])")
            traded = page.evaluate(
                "([u]) => fetch(u).then(r => [r.status, r.headers.get('content-security-policy')])",
                [f"{proxy}/?previewToken={launched['previewToken']}"],
            )
            assert traded == [200, "sandbox"], traded
            page.goto(f"{proxy}/")
            seen["cookie token"] = (page.url, _result(page))

            # 3. In a frame of a page of the API's origin: the frame is sent to the
            # app's origin too (and the UI's own page may not frame it at all).
            page.goto(f"{url}/")
            page.wait_for_selector("#app:not([hidden])")
            seen["framed"] = page.evaluate(
                """([u]) => new Promise(resolve => {
                    const frame = document.createElement('iframe');
                    frame.addEventListener('load', () => {
                        let inside = null;
                        try { inside = frame.contentDocument?.documentElement?.outerHTML; }
                        catch (error) { inside = null; }
                        resolve(inside ?? 'not readable');
                    });
                    frame.src = u;
                    document.body.append(frame);
                })""",
                [f"{proxy}/"],
            )
            # The UI's CSP refuses a frame of another origin: the frame's redirect to the
            # app's origin is where it stops.
            log.errors = [e for e in log.errors if "Framing 'http://preview-" not in e]

            # 4. Were the page ever rendered on the API's origin (here the browser is
            # handed the path proxy's answer to a plain fetch as the document), it is
            # sandboxed: its script does not run, and its origin is no one's.
            def as_a_fetch(route: Any) -> None:
                answer = route.fetch(
                    headers={"Accept": "*/*", "X-Preview-Token": launched["previewToken"]}
                )
                route.fulfill(response=answer)

            page.route(f"{proxy}/page", as_a_fetch)
            page.goto(f"{proxy}/page", wait_until="load")
            page.unroute(f"{proxy}/page")
            seen["rendered here"] = {
                "url": page.url,
                "text": page.text_content("#result"),
                "ran": page.get_attribute("#result", "data-ran"),
            }
            blocked = [e for e in log.errors if "Blocked script execution" in e]
            seen["blocked"] = blocked
            log.errors = [e for e in log.errors if e not in blocked]

            # 5. "Open app", in a new tab.
            page.goto(f"{url}/")
            page.wait_for_selector("#app:not([hidden])")
            _select(page, gid)
            page.wait_for_selector("#status-badge[data-status='running']")
            with page.context.expect_page() as opened:
                page.click("#open-app")
            tab = opened.value
            tab.wait_for_load_state("domcontentloaded")
            seen["open app"] = (tab.url, _result(tab))
            tab.close()
            # What the hostile page was refused is on the console of its tab; the UI
            # itself must have had nothing to complain about.
            log.errors = [e for e in log.errors if "from origin 'http://preview-" not in e]
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url, within=180)
    assert bearer not in seen["ui"] and "preview.bearer" not in seen["ui"], seen["ui"]
    assert "hostile" not in seen["framed"], seen["framed"]  # no app page in the UI's frame
    assert seen["rendered here"] == {"url": f"{proxy}/page", "text": "not run", "ran": None}
    assert len(seen["blocked"]) == 1 and "is sandboxed" in seen["blocked"][0], seen["blocked"]
    for way in ("query token", "cookie token", "open app"):
        landed, found = seen[way]
        assert landed.startswith(found["origin"] + "/"), (way, landed)
        _assert_harmless(found, service.url, bearer)
    # Nothing changed: the other generation is there, nothing was uploaded.
    listed = await service.client.get("/api/generations", headers=auth())
    ids = sorted(g["generationId"] for g in listed.json()["generations"])
    assert ids == sorted([victim, gid]), listed.json()
    await service.stop(gid)
