"""Sharing a preview (issue 69, item 1) on a real service and a real app: shares with a
user and links (redeemed by a signed-in user), the viewer's and the caller's rules, a
403 for every other route of the generation (enumerated from the app's route table, so a
new route is not forgotten), the owner's other generations unknown to them, expiry and
revocation ending open streams (SSE and WebSocket), presence and the owner's actions in
the stream, the audit trail."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx
import trio
import trio_websocket
from sqlalchemy import update

from preview.clock import utcnow
from preview.store.models import GenerationShare

from ..conftest import Service, auth, sse_events
from .jsonlog_app import APP, COMMAND, launched, observed_service

# What a shared user may do (method, rule): a viewer reads, a caller also calls the app.
VIEWER_ROUTES = {
    ("GET", "/api/generations/<gid>"),
    ("GET", "/api/generations/<gid>/preview/status"),
    ("GET", "/api/generations/<gid>/preview/logs"),
    ("GET", "/api/generations/<gid>/preview/logs/stream"),
    ("GET", "/api/generations/<gid>/preview/requests"),
    ("GET", "/api/generations/<gid>/preview/requests.har"),
    ("GET", "/api/generations/<gid>/preview/requests/<rid>"),
    ("GET", "/api/generations/<gid>/endpoints"),
    ("GET", "/api/generations/<gid>/preview/endpoints"),
    ("GET", "/api/generations/<gid>/preview/endpoints/stats"),
    ("GET", "/api/generations/<gid>/revisions"),
    ("GET", "/api/generations/<gid>/preview/viewers"),
    ("GET", "/api/generations/<gid>/preview/requests/volatile"),
    ("GET", "/api/generations/<gid>/preview/annotations"),
}
CALLER_ROUTES = {("POST", "/api/generations/<gid>/preview/request")}
# Anyone with access pins notes, and deletes their own (tests/api/test_annotations.py).
NOTE_ROUTES = {
    ("POST", "/api/generations/<gid>/preview/annotations"),
    ("DELETE", "/api/generations/<gid>/preview/annotations/<nid>"),
}
PROXY_RULE = re.compile(r"/preview/proxy(/|$)")  # every method: a caller's
_ARGUMENTS = {
    "gid": None,  # the generation's
    "sid": "snap_x",
    "n": "1",
    "path": "x",
    "rid": "1",
    "token_id": "tok_x",
    "rule_id": "rule_x",
    "name": "dev",
    "share_id": "shr_x",
    "nid": "note_x",
}


def _generation_routes(service: Service) -> list[tuple[str, str]]:
    """Every (method, rule) of a generation in the app's route table (WebSockets apart)."""
    routes = []
    for rule in service.app.url_map.iter_rules():
        if "<gid>" not in rule.rule or rule.websocket:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule))
    return sorted(set(routes))


def _url(rule: str, gid: str) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[-1]
        return gid if name == "gid" else _ARGUMENTS[name] or gid

    return re.sub(r"<([^>]+)>", value, rule)


async def _share(service: Service, gid: str, **body: Any) -> dict[str, Any]:
    response = await service.client.post(
        f"/api/generations/{gid}/shares", json=body, headers=auth()
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _ask(service: Service, method: str, url: str, user: str) -> httpx.Response:
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return await service.client.request(method, url, headers=auth(user), **body)


async def test_viewers_read_callers_call_and_nothing_else(settings: Any) -> None:
    with trio.fail_after(180):
        async with observed_service(settings) as service:
            client = service.client
            preview = await launched(service)
            gid = preview["gid"]
            other = await service.upload({"app.py": APP})  # alice's other generation
            assert await _call_as(service, preview, "/items/3", "alice", token=True) == 200

            # The checks: the error shape, each field named.
            shares = f"/api/generations/{gid}/shares"
            for body, field in [
                ({"user": "bob", "role": "admin"}, "role"),
                ({"user": "bob", "link": True}, "user"),
                ({}, "user"),
                ({"user": "alice"}, "user"),
                ({"user": "", "role": "viewer"}, "user"),
                ({"user": "bob", "expiresIn": 10**9}, "expiresIn"),
                ({"user": "bob", "expiresIn": "1h"}, "expiresIn"),
                ({"user": "bob", "until": 1}, "until"),
            ]:
                refused = await client.post(shares, json=body, headers=auth())
                assert refused.status_code == 400, (body, refused.text)
                error = refused.json()
                assert error["status"] == "failed" and error["error"] == "invalid_share"
                assert error["details"]["field"] == field and error["message"]

            viewer = await _share(service, gid, user="bob", role="viewer", expiresIn=3600)
            await _share(service, gid, user="carol", role="caller")  # the default expiry
            assert viewer["kind"] == "user" and "secret" not in viewer

            # A viewer reads what the rules list; a caller also calls the app.
            for method, rule in sorted(VIEWER_ROUTES):
                if rule.endswith("/logs/stream"):
                    continue  # a stream: read below
                for user in ("bob", "carol"):
                    response = await _ask(service, method, _url(rule, gid), user)
                    assert response.status_code == 200, (user, rule, response.text)
            status = (
                await client.get(f"/api/generations/{gid}/preview/status", headers=auth("bob"))
            ).json()
            assert status["access"] == "viewer" and status["status"] == "running"
            described = (await client.get(f"/api/generations/{gid}", headers=auth("bob"))).json()
            assert described["access"] == "viewer" and "files" not in described
            refused = await _call(service, gid, "bob")
            assert refused.status_code == 403 and refused.json()["error"] == "share_role"
            assert await _call_as(service, preview, "/items/4", "carol") == 200
            proxied = await client.get(
                f"/api/generations/{gid}/preview/proxy/items/5", headers=auth("carol")
            )
            assert proxied.status_code == 200 and proxied.json() == {"id": "5"}
            as_viewer = await client.get(
                f"/api/generations/{gid}/preview/proxy/items/5", headers=auth("bob")
            )
            assert as_viewer.status_code == 403

            # Every other route of the generation: 403 for both (the owner's alone).
            allowed = VIEWER_ROUTES | CALLER_ROUTES | NOTE_ROUTES
            checked = 0
            for method, rule in _generation_routes(service):
                if (method, rule) in allowed or PROXY_RULE.search(rule):
                    continue
                for user in ("bob", "carol"):
                    response = await _ask(service, method, _url(rule, gid), user)
                    assert response.status_code == 403, (user, method, rule, response.text)
                    assert response.json()["error"] == "owner_only"
                checked += 1
            assert checked >= 25  # stop, launch, revisions, snapshots, presets, shares, tokens …

            # The owner's other generations, and anyone else: unknown, as before.
            for user, gen in (("bob", other), ("carol", other), ("dave", gid)):
                for url in (
                    f"/api/generations/{gen}/preview/status",
                    f"/api/generations/{gen}/shares",
                ):
                    response = await client.get(url, headers=auth(user))
                    assert response.status_code == 404, (user, url, response.text)
            listed = (await client.get("/api/generations", headers=auth("bob"))).json()
            assert listed["generations"] == []  # a share is not a generation of one's own
            mine = (await client.get("/api/shares", headers=auth("bob"))).json()["shared"]
            assert [(s["generationId"], s["role"], s["owner"]) for s in mine] == [
                (gid, "viewer", "alice")
            ]

            # The owner lists them; every share is in the audit trail.
            listing = (await client.get(shares, headers=auth())).json()
            assert {(s["user"], s["role"]) for s in listing["shares"]} == {
                ("bob", "viewer"),
                ("carol", "caller"),
            }
            trail = (await client.get(f"/api/audit?generation={gid}", headers=auth())).json()
            made = [e for e in trail["entries"] if e["action"] == "share_create"]
            assert {e["details"]["user"] for e in made} == {"bob", "carol"}
            await service.stop(gid)


async def _call(service: Service, gid: str, user: str) -> httpx.Response:
    return await service.client.post(
        f"/api/generations/{gid}/preview/request",
        json={"method": "GET", "path": "/items/1"},
        headers=auth(user),
    )


async def _call_as(
    service: Service, preview: dict[str, Any], path: str, user: str, *, token: bool = False
) -> int:
    headers = {**auth(user)} | ({"X-Preview-Token": preview["previewToken"]} if token else {})
    response = await service.client.post(
        f"/api/generations/{preview['gid']}/preview/request",
        json={"method": "GET", "path": path},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["statusCode"]


async def test_a_link_redeemed_then_revoked_ends_its_streams(settings: Any) -> None:
    with trio.fail_after(180):
        async with observed_service(settings) as service:
            client = service.client
            preview = await launched(service)
            gid = preview["gid"]
            link = await _share(service, gid, link=True, role="viewer", expiresIn=600)
            assert link["kind"] == "link" and link["url"].endswith("#share=" + link["secret"])
            listed = await client.get(f"/api/generations/{gid}/shares", headers=auth())
            assert link["secret"] not in listed.text and "secret" not in listed.text
            status_url = f"/api/generations/{gid}/preview/status"
            # Unknown until redeemed; a wrong secret is no link.
            assert (await client.get(status_url, headers=auth("erin"))).status_code == 404
            wrong = await _redeem(service, "x" * 43, "erin")
            assert wrong.status_code == 404 and wrong.json()["error"] == "share_link_not_found"
            redeemed = await _redeem(service, link["secret"], "erin")
            assert redeemed.status_code == 200, redeemed.text
            assert redeemed.json()["generationId"] == gid and redeemed.json()["role"] == "viewer"
            await _share(service, gid, user="bob", expiresIn=600)
            carol = await _share(service, gid, user="carol", expiresIn=600)

            url = f"/api/generations/{gid}/preview/logs/stream"
            async with (
                client.stream("GET", url, headers=auth("erin")) as sse,
                _websocket(service, gid, "bob") as bob_ws,
                _websocket(service, gid, "carol") as carol_ws,
            ):
                assert sse.status_code == 200
                events = sse_events(sse)
                await events.__anext__()  # open: its first event came
                await bob_ws.get_message()
                await carol_ws.get_message()
                viewers_url = f"/api/generations/{gid}/preview/viewers"
                seen = (await client.get(viewers_url, headers=auth("erin"))).json()
                assert {v["user"] for v in seen["viewers"]} == {"erin", "bob", "carol"}
                assert seen["count"] == 3
                status = (await client.get(status_url, headers=auth("bob"))).json()
                assert set(status["viewers"]) == {"erin", "bob", "carol"}

                # Revoking the link ends its redeemed viewer's stream, at once.
                revoked = await client.delete(
                    f"/api/generations/{gid}/shares/{link['id']}", headers=auth()
                )
                assert revoked.status_code == 200, revoked.text
                assert len(revoked.json()["ended"]) == 2  # the link and its redemption
                kinds = [kind async for kind, _, _ in events]
                assert kinds[-1] == "revoked" and "end" not in kinds
                assert (await client.get(status_url, headers=auth("erin"))).status_code == 404
                again = await _redeem(service, link["secret"], "frank")
                assert again.status_code == 404

                # Carol's share revoked: her WebSocket closes with 1008.
                await client.delete(f"/api/generations/{gid}/shares/{carol['id']}", headers=auth())
                assert await _close_code(carol_ws) == 1008

                # The owner's stop reaches Bob's stream as it happens, then its end.
                await service.stop(gid)
                said = []
                try:
                    while True:
                        said.append(json.loads(await bob_ws.get_message()))
                except trio_websocket.ConnectionClosed as closed:
                    assert closed.reason.code == 1000
                messages = [frame.get("message") for frame in said]
                assert "alice stopped the preview" in messages
                assert said[-1]["type"] == "end"
            trail = (await client.get(f"/api/audit?generation={gid}", headers=auth())).json()
            actions = [e["action"] for e in trail["entries"]]
            assert actions.count("share_revoke") == 2 and "share_redeem" in actions

            # The owner launches again: the new preview's log says who, to Bob too.
            again = await service.launch(gid, command=COMMAND)
            assert again.json()["status"] == "running", again.text
            history = await client.get(f"/api/generations/{gid}/preview/logs", headers=auth("bob"))
            said = [event["message"] for event in history.json()["events"]]
            assert "alice launched the preview" in said
            await service.stop(gid)


async def test_an_expired_share_ends_its_stream_and_access(settings: Any) -> None:
    with trio.fail_after(180):
        async with observed_service(settings) as service:
            client = service.client
            preview = await launched(service)
            gid = preview["gid"]
            share = await _share(service, gid, user="bob", role="caller", expiresIn=600)
            # Its expiry brought to two seconds from now (the store's clock is the wall's).
            soon = utcnow() + timedelta(seconds=2)
            statement = (
                update(GenerationShare)
                .where(GenerationShare.id == share["id"])
                .values(expires_at=soon)
            )

            def expire_soon(engine: Any) -> None:
                with engine.begin() as connection:
                    connection.execute(statement)

            await service.store.run_sync(expire_soon, service.store.engine)
            url = f"/api/generations/{gid}/preview/logs/stream"
            async with client.stream("GET", url, headers=auth("bob")) as sse:
                assert sse.status_code == 200
                kinds = [kind async for kind, _, _ in sse_events(sse)]
            assert kinds[-1] == "revoked"
            status = await client.get(f"/api/generations/{gid}/preview/status", headers=auth("bob"))
            assert status.status_code == 404
            assert (await _call(service, gid, "bob")).status_code == 404
            assert (await client.get("/api/shares", headers=auth("bob"))).json()["shared"] == []
            await service.stop(gid)


async def _redeem(service: Service, secret: str, user: str) -> httpx.Response:
    return await service.client.post(
        "/api/shares/redeem", json={"secret": secret}, headers=auth(user)
    )


def _websocket(service: Service, gid: str, user: str) -> Any:
    host, port = service.url.removeprefix("http://").split(":")
    return trio_websocket.open_websocket(
        host,
        int(port),
        f"/api/generations/{gid}/preview/logs/ws",
        use_ssl=False,
        extra_headers=[(b"Authorization", auth(user)["Authorization"].encode())],
    )


async def _close_code(ws: trio_websocket.WebSocketConnection) -> int | None:
    try:
        while True:
            await ws.get_message()
    except trio_websocket.ConnectionClosed as closed:
        return closed.reason.code


async def test_a_generation_has_at_most_fifty_shares(service: Service) -> None:
    with trio.fail_after(120):
        gid = await service.upload({"app.py": APP})
        for number in range(50):
            await _share(service, gid, user=f"user{number}", expiresIn=60)
        url = f"/api/generations/{gid}/shares"
        refused = await service.client.post(url, json={"link": True}, headers=auth())
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "share_limit" and refused.json()["details"] == {
            "limit": 50
        }
        listed = listing_of(await service.client.get(url, headers=auth()))
        assert len(listed) == 50
        gone = await service.client.delete(f"{url}/{listed[0]['id']}", headers=auth())
        assert gone.status_code == 200
        again = await service.client.delete(f"{url}/{listed[0]['id']}", headers=auth())
        assert again.status_code == 404 and again.json()["error"] == "share_not_found"
        await _share(service, gid, link=True, role="caller")


def listing_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()["shares"]
