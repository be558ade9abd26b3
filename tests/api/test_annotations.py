"""Notes pinned to a preview's output (issue 69 §2): anyone with access pins one to a log
line or a kept request; it is said live as a ``note`` line of the running preview's log,
listed per preview, deleted by its author or the owner; bad pins have the error shape."""

from __future__ import annotations

from typing import Any

import trio

from ..conftest import Service, auth
from .jsonlog_app import call, launched, observed_service


def _notes(gid: str, rest: str = "") -> str:
    return f"/api/generations/{gid}/preview/annotations{rest}"


async def _pin(service: Service, gid: str, user: str = "alice", **body: Any) -> Any:
    return await service.client.post(_notes(gid), json=body, headers=auth(user))


async def test_notes_pinned_by_anyone_with_access_are_said_live_and_listed(
    settings: Any,
) -> None:
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid, preview_id = preview["gid"], preview["previewInstanceId"]
            assert await call(service, preview, "/boom") == 500
            line = next(
                e for e in await service.history(gid) if '"message": "boom"' in e["message"]
            )
            shared = await service.client.post(
                f"/api/generations/{gid}/shares",
                json={"user": "bob", "role": "viewer"},
                headers=auth(),
            )
            assert shared.status_code == 201, shared.text

            pinned = await _pin(service, gid, seq=line["id"], text="why a 500 here?")
            assert pinned.status_code == 201, pinned.text
            note = pinned.json()
            assert (note["seq"], note["previewInstanceId"]) == (line["id"], preview_id)
            assert (note["author"], note["text"], note["requestId"]) == (
                "alice",
                "why a 500 here?",
                None,
            )

            # A viewer pins one to the kept request of that call.
            kept = await service.client.get(
                f"/api/generations/{gid}/preview/requests", headers=auth()
            )
            request_id = kept.json()["requests"][0]["requestId"]
            by_bob = await _pin(service, gid, "bob", requestId=request_id, text="seen it too")
            assert by_bob.status_code == 201, by_bob.text
            assert by_bob.json()["previewInstanceId"] == preview_id

            # Said live in the preview's log, kept with its history.
            said = [e["message"] for e in await service.history(gid, source="note")]
            assert said == [
                f"alice on line {line['id']}: why a 500 here?",
                f"bob on request {request_id}: seen it too",
            ]
            listed = await service.client.get(
                _notes(gid), params={"previewId": preview_id}, headers=auth("bob")
            )
            assert [n["id"] for n in listed.json()["annotations"]] == [
                note["id"],
                by_bob.json()["id"],
            ]

            # Deleted by its author or the owner, no one else.
            refused = await service.client.delete(
                _notes(gid, f"/{note['id']}"), headers=auth("bob")
            )
            assert refused.status_code == 403 and refused.json()["error"] == "not_the_author"
            for nid in (by_bob.json()["id"], note["id"]):
                gone = await service.client.delete(_notes(gid, f"/{nid}"), headers=auth())
                assert gone.status_code == 200, gone.text
            assert (await service.client.get(_notes(gid), headers=auth())).json()[
                "annotations"
            ] == []
            await service.stop(gid)


async def test_bad_pins_have_the_error_shape_and_keep_nothing(settings: Any) -> None:
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            last = (await service.history(gid))[-1]["id"]
            for body, status, code in [
                ({"seq": last + 1000, "text": "x"}, 404, "line_not_found"),
                ({"seq": 0, "text": "x"}, 400, "invalid_annotation"),
                ({"seq": "1", "text": "x"}, 400, "invalid_annotation"),
                ({"seq": 1, "text": ""}, 400, "invalid_annotation"),
                ({"seq": 1, "text": "x" * 2001}, 400, "invalid_annotation"),
                ({"seq": 1, "text": "bell \x07"}, 400, "invalid_annotation"),
                ({"seq": 1, "previewId": "prv_other", "text": "x"}, 404, "line_not_found"),
                ({"requestId": "req_none", "text": "x"}, 404, "request_not_found"),
                ({"text": "x"}, 400, "invalid_annotation"),
            ]:
                answer = await _pin(service, gid, **body)
                assert answer.status_code == status, (body, answer.text)
                assert answer.json()["error"] == code and answer.json()["status"] == "failed"
            stranger = await _pin(service, gid, "mallory", seq=1, text="x")
            assert stranger.status_code == 404  # an unknown generation, to them
            assert (await service.client.get(_notes(gid), headers=auth())).json()[
                "annotations"
            ] == []
            await service.stop(gid)
