"""Replaying kept requests against a running preview — the generation's own on a later
revision, or another generation's — with each answer compared under the stated rule
(``history.compare``): exactly the answer that changed is reported."""

from __future__ import annotations

import trio

from ..conftest import Service, auth
from .conftest import api, app_files, envelope, launched, listed, proxied


async def _replay(service: Service, gid: str, token: str | None, **body) -> dict:
    headers = {**auth(), **({"X-Preview-Token": token} if token else {})}
    response = await service.client.post(
        api(gid, "/requests/replay"), json=body, headers=headers, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _try_everything(service: Service, preview: dict) -> None:
    for path in ("/items/1", "/items/2", "/items/9"):
        assert (await proxied(service, preview, "GET", path)).status_code in (200, 404)
    posted = await envelope(service, preview, method="POST", path="/items", body={"name": "fig"})
    assert posted.json()["statusCode"] == 201
    put = await proxied(service, preview, "PUT", "/things/1", content=b"\x00\x01 bytes")
    assert put.status_code == 200


async def test_replay_on_a_revision_reports_exactly_the_changed_answer(
    service: Service, preview: dict
) -> None:
    gid = preview["gid"]
    with trio.fail_after(120):
        await _try_everything(service, preview)
        revised = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": app_files(second="blueberry")},
            headers=auth(),
        )
        assert revised.status_code == 201, revised.text
        assert (await service.stop(gid)).status_code == 200
        again = await launched(service, {}, gid=gid)  # its latest revision: 2
        result = await _replay(service, gid, again["previewToken"], ids="all")
        log = await service.history(gid, source="proxy")
    assert result["target"] == {
        "generationId": gid,
        "previewId": again["previewInstanceId"],
        "revision": 2,
    }
    assert (result["replayed"], result["same"], result["different"]) == (5, 4, 1)
    by_path = {item["path"]: item for item in result["results"]}
    assert [item["path"] for item in result["results"]] == [
        "/items/1",
        "/items/2",
        "/items/9",
        "/items",
        "/things/1",
    ]
    changed = by_path["/items/2"]
    assert changed["same"] is False and changed["status"] is None and changed["headers"] == []
    assert changed["body"] == [{"path": "$.name", "before": "banana", "after": "blueberry"}]
    # What differs by nature is ignored, and said: times, trace ids, generated ids,
    # ETag, Date and Set-Cookie.
    assert set(by_path["/items/1"]["ignored"]) == {"$.fetchedAt", "$.trace"}
    assert set(by_path["/items"]["ignored"]) == {"$.id", "$.createdAt"}
    assert by_path["/items/9"]["same"] is True and by_path["/items/9"]["after"]["status"] == 404
    assert by_path["/things/1"]["same"] is True and by_path["/things/1"]["bodyCompared"] is True
    assert changed["before"]["status"] == changed["after"]["status"] == 200
    # Each replay is a proxy line of the new preview, and kept as a replay.
    lines = {event["id"]: event["message"] for event in log}
    for item in result["results"]:
        assert item["after"]["requestId"] in lines[item["after"]["eventId"]]
    with trio.fail_after(60):
        everything = await listed(service, gid)
        originals = await listed(service, gid, replays="false")
        second = await _replay(service, gid, again["previewToken"], ids="all")
    replays = [r for r in everything["requests"] if r["way"] == "replay"]
    assert len(replays) == 5 and len(originals["requests"]) == 5
    assert {r["replayOf"] for r in replays} == {r["id"] for r in originals["requests"]}
    assert second["replayed"] == 5  # ``all`` never replays a replay


async def test_replay_against_another_generations_preview(service: Service) -> None:
    with trio.fail_after(180):
        old = await launched(service, app_files(), tier="pro")
        new = await launched(service, app_files(second="blueberry"), tier="pro")
        await _try_everything(service, old)
        kept = (await listed(service, old["gid"]))["requests"]
        ids = [r["id"] for r in reversed(kept)]
        target = {"generation": new["gid"], "previewToken": new["previewToken"]}
        elsewhere = await _replay(service, old["gid"], None, ids=ids, target=target)
        at_home = await _replay(service, old["gid"], old["previewToken"], ids=ids[:2])
        # Refusals: a bad body, no preview token, an unknown id, a stopped target.
        refusals = [
            ({"ids": "some"}, old["previewToken"], 400, "invalid_ids"),
            ({"ids": [ids[0]], "target": "elsewhere"}, old["previewToken"], 400, "invalid_target"),
            ({"ids": [ids[0]], "headers": ["x"]}, old["previewToken"], 400, "invalid_headers"),
            ({"ids": [ids[0]]}, None, 403, "missing_preview_token"),
            ({"ids": [ids[0]]}, "pvt_wrong", 403, "invalid_preview_token"),
            ({"ids": [999999]}, old["previewToken"], 404, "request_not_found"),
        ]
        for body, token, status, code in refusals:
            headers = {**auth(), **({"X-Preview-Token": token} if token else {})}
            response = await service.client.post(
                api(old["gid"], "/requests/replay"), json=body, headers=headers
            )
            assert (response.status_code, response.json()["error"]) == (status, code), body
        await service.stop(new["gid"])
        stopped = await service.client.post(
            api(old["gid"], "/requests/replay"),
            json={"ids": [ids[0]], "target": target},
            headers=auth(),
        )
        assert stopped.status_code == 503 and stopped.json()["error"] == "preview_not_running"
        await service.stop(old["gid"])
    assert elsewhere["target"]["generationId"] == new["gid"]
    assert (elsewhere["replayed"], elsewhere["different"]) == (5, 1)
    assert [item["path"] for item in elsewhere["results"] if not item["same"]] == ["/items/2"]
    assert (at_home["replayed"], at_home["same"]) == (2, 2)


async def test_paths_the_owner_marks_volatile_are_ignored_by_its_replays(
    service: Service, preview: dict
) -> None:
    gid = preview["gid"]
    volatile = api(gid, "/requests/volatile")
    with trio.fail_after(120):
        assert (await proxied(service, preview, "GET", "/items/2")).status_code == 200
        for wrong in (["name"], "$.name", ["$.a b"], ["$[x]"], ["$.a"] * 101, [7]):
            refused = await service.client.put(volatile, json={"paths": wrong}, headers=auth())
            assert refused.status_code == 400, (wrong, refused.text)
            assert refused.json()["error"] == "invalid_volatile_paths"
        other = await service.client.get(volatile, headers=auth("mallory"))
        assert other.status_code == 404, other.text
        revised = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": app_files(second="blueberry")},
            headers=auth(),
        )
        assert revised.status_code == 201, revised.text
        assert (await service.stop(gid)).status_code == 200
        again = await launched(service, {}, gid=gid)

        (changed,) = (await _replay(service, gid, again["previewToken"], ids="all"))["results"]
        assert changed["body"] == [{"path": "$.name", "before": "banana", "after": "blueberry"}]

        paths = ["$.name", "$.items[*].token", "$['x-trace']"]
        marked = await service.client.put(volatile, json={"paths": paths}, headers=auth())
        assert marked.status_code == 200, marked.text
        assert marked.json() == {"generationId": gid, "paths": sorted(paths)}
        assert (await service.client.get(volatile, headers=auth())).json()["paths"] == sorted(paths)
        result = await _replay(service, gid, again["previewToken"], ids=[changed["id"]])
        (same,) = result["results"]
        assert same["same"] is True and same["body"] == [], same
        assert "$.name" in same["ignored"]

        cleared = await service.client.put(volatile, json={"paths": []}, headers=auth())
        assert cleared.json()["paths"] == []
