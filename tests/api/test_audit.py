"""The audit trail (issue 69, item 7): what the owner did to a generation and its preview,
recorded once done, with who, when and from where, no secret in it; listed by
``GET /api/audit`` to the owner alone, newest first, in pages."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import trio

from preview.clock import utcnow

from ..conftest import auth
from .jsonlog_app import APP, COMMAND, launched, observed_service


async def test_the_owners_actions_are_listed_newest_first_to_the_owner_alone(
    settings: Any,
) -> None:
    with trio.fail_after(150):
        async with observed_service(settings) as service:
            client = service.client
            preview = await launched(service)
            gid, pid = preview["gid"], preview["previewInstanceId"]
            base = f"/api/generations/{gid}"
            token = {"X-Preview-Token": preview["previewToken"]}
            made = await client.post(f"{base}/preview/token", json={"label": "ci"}, headers=auth())
            assert made.status_code == 200, made.text
            secret = made.json()["previewToken"]
            revoked = await client.delete(
                f"{base}/preview/tokens/{made.json()['tokenId']}", headers=auth()
            )
            assert revoked.status_code == 200, revoked.text
            taken = await client.post(
                f"{base}/preview/snapshots", json={"name": "before"}, headers=auth()
            )
            assert taken.status_code == 201, taken.text
            sid = taken.json()["snapshotId"]
            restored = await client.post(f"{base}/preview/snapshots/{sid}/restore", headers=auth())
            assert restored.status_code == 200, restored.text
            dropped = await client.delete(f"{base}/preview/snapshots/{sid}", headers=auth())
            assert dropped.status_code == 200, dropped.text
            sent = await client.post(
                f"{base}/preview/request", json={"path": "/items/1"}, headers={**auth(), **token}
            )
            assert sent.status_code == 200, sent.text
            replayed = await client.post(
                f"{base}/preview/requests/replay", json={"ids": "all"}, headers={**auth(), **token}
            )
            assert replayed.status_code == 200, replayed.text
            revision = await client.post(
                f"{base}/revisions",
                json={"files": {"app.py": APP + "\n# two\n"}},
                headers=auth(),
            )
            assert revision.status_code in (201, 202), revision.text
            await service.stop(gid)
            renamed = await client.patch(base, json={"name": "shop"}, headers=auth())
            assert renamed.status_code == 200, renamed.text
            other = await service.upload({"app.py": APP})
            relaunch = await service.launch(other, command=COMMAND)
            assert relaunch.json()["status"] == "running", relaunch.text
            await service.stop(other)
            deleted = await client.delete(f"/api/generations/{other}", headers=auth())
            assert deleted.status_code == 200, deleted.text

            mine = (await client.get("/api/audit", headers=auth())).json()
            one = await client.get("/api/audit", params={"generation": gid}, headers=auth())
            first = (await client.get("/api/audit", params={"limit": 3}, headers=auth())).json()
            second = await client.get(
                "/api/audit", params={"limit": 3, "before": first["nextBefore"]}, headers=auth()
            )
            bob = (await client.get("/api/audit", headers=auth("bob"))).json()
            bob_filtered = await client.get(
                "/api/audit", params={"generation": gid}, headers=auth("bob")
            )
            bad = [
                await client.get("/api/audit", params=params, headers=auth())
                for params in ({"limit": "0"}, {"before": "x"}, {"generation": "../x"})
            ]
            nobody = await client.get("/api/audit")
    actions = [(e["action"], e["generationId"]) for e in one.json()["entries"]]
    assert actions == [
        ("rename", gid),
        ("stop", gid),
        ("revision_apply", gid),
        ("revision", gid),
        ("replay", gid),
        ("snapshot_delete", gid),
        ("snapshot_restore", gid),
        ("snapshot_take", gid),
        ("token_revoke", gid),
        ("token_create", gid),
        ("launch", gid),
        ("upload", gid),
    ]
    assert [e["action"] for e in mine["entries"][:4]] == ["delete", "stop", "launch", "upload"]
    assert {e["generationId"] for e in mine["entries"][:4]} == {other}
    entries = {e["action"]: e for e in one.json()["entries"]}
    assert all(e["actor"] == "alice" and e["at"].endswith("Z") for e in mine["entries"])
    assert entries["launch"]["previewId"] == pid and entries["stop"]["previewId"] == pid
    assert entries["upload"]["details"] == {"projectId": "proj_1", "files": 1, "bytes": len(APP)}
    assert entries["token_create"]["details"]["label"] == "ci"
    assert entries["snapshot_take"]["details"] == {"snapshotId": sid, "name": "before"}
    assert entries["replay"]["details"] == {"target": gid, "requests": 1}
    assert entries["revision"]["details"] == {"revision": 2, "changed": 1}
    assert entries["revision_apply"]["details"]["revision"] == 2
    assert entries["rename"]["details"] == {"projectId": "shop"}
    assert entries["launch"]["source"] == "127.0.0.1"
    # Never a secret: the token made is not in the trail.
    assert secret not in json.dumps(mine) and preview["previewToken"] not in json.dumps(mine)
    assert first["hasMore"] is True and len(first["entries"]) == 3
    ids = [e["id"] for e in first["entries"] + second.json()["entries"]]
    assert ids == sorted(ids, reverse=True) and ids == [e["id"] for e in mine["entries"][:6]]
    assert bob["entries"] == [] and bob_filtered.json()["entries"] == []
    assert [(r.status_code, r.json()["error"]) for r in bad] == [
        (400, "invalid_limit"),
        (400, "invalid_before"),
        (400, "invalid_generation"),
    ]
    assert nobody.status_code == 401


async def test_an_operator_sees_every_users_trail_and_old_entries_go(settings: Any) -> None:
    """A token with the ``admin`` claim lists everyone's entries (``all=true``) or one
    user's (``owner=``); anyone else asking is refused 403; entries older than
    PREVIEW_AUDIT_RETENTION_DAYS go at the retention's pass, the newer stay."""
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            client = service.client
            mine = await service.upload({"app.py": APP})
            theirs = await service.upload({"app.py": APP}, user="bob")
            everyone = await client.get(
                "/api/audit", params={"all": "true"}, headers=auth("ops", admin=True)
            )
            bobs = await client.get(
                "/api/audit", params={"owner": "bob"}, headers=auth("ops", admin=True)
            )
            refused = await client.get("/api/audit", params={"all": "true"}, headers=auth())
            forged = await client.get("/api/audit", params={"owner": "bob"}, headers=auth("bob"))
            own = await client.get("/api/audit", headers=auth("ops", admin=True))
            # A pass 91 days on removes both (90 days by default); one now removes none.
            await service.supervisor.retention.run_once(utcnow())
            kept = await client.get("/api/audit", headers=auth())
            await service.supervisor.retention.run_once(utcnow() + timedelta(days=91))
            gone = await client.get("/api/audit", headers=auth())
    assert everyone.status_code == 200, everyone.text
    uploads = {(e["owner"], e["generationId"]) for e in everyone.json()["entries"]}
    assert {("alice", mine), ("bob", theirs)} <= uploads
    assert {e["owner"] for e in bobs.json()["entries"]} == {"bob"}
    assert refused.status_code == forged.status_code == 403
    assert refused.json()["error"] == forged.json()["error"] == "admin_required"
    assert own.json()["entries"] == []  # an operator's own trail: its own actions alone
    assert [e["generationId"] for e in kept.json()["entries"]] == [mine]
    assert gone.json()["entries"] == []
