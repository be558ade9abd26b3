"""Alerts on a preview's log lines (issue 69, item 6): a generation's rules, stored; a
line of a real app that matches makes one ``alert`` event (``event: alert`` on the SSE
stream, ``source: alert`` in the history), at most once per rule every 10 s, the matches
meanwhile counted; rules added or removed while it runs take effect at once."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import trio

from ..conftest import auth, sse_events
from .jsonlog_app import APP, COMMAND, call, observed_service


async def test_a_matching_line_makes_one_alert_event_rate_limited(settings: Any) -> None:
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            client = service.client
            gid = await service.upload({"app.py": APP})
            rules = f"/api/generations/{gid}/alerts"
            made = await client.post(
                rules, json={"pattern": "bo+m", "name": "booms"}, headers=auth()
            )
            assert made.status_code == 201, made.text
            launched = await service.launch(gid, command=COMMAND)
            assert launched.json()["status"] == "running", launched.text
            preview = {**launched.json(), "gid": gid}
            assert await call(service, preview, "/boom") == 500
            assert await call(service, preview, "/boom") == 500
            assert await call(service, preview, "/items/1") == 200
            during = (await client.get(rules, headers=auth())).json()
            while during["rules"][0]["matched"] < 2:  # both booms' lines taken in
                await trio.sleep(0.05)
                during = (await client.get(rules, headers=auth())).json()
            warnings = await client.post(rules, json={"level": "warning"}, headers=auth())
            assert warnings.status_code == 201, warnings.text
            assert await call(service, preview, "/items/2") == 200  # INFO: no alert
            assert await call(service, preview, "/boom") == 500  # a new rule's first
            logs = f"/api/generations/{gid}/preview/logs"
            alerts: list[dict[str, Any]] = []
            while len(alerts) < 2:  # the warnings rule's first boom, once taken in
                listed = await client.get(logs, params={"source": "alert"}, headers=auth())
                alerts = listed.json()["events"]
                if len(alerts) < 2:
                    await trio.sleep(0.05)
            async with client.stream(
                "GET", f"{logs}/stream", headers={**auth(), "Last-Event-ID": "0"}
            ) as response:
                kinds = []
                async with aclosing(sse_events(response)) as events:
                    async for kind, data, _ in events:
                        kinds.append((kind, data["source"]))
                        if data["id"] == alerts[-1]["id"]:
                            break
            removed = await client.delete(f"{rules}/{made.json()['id']}", headers=auth())
            again = await client.delete(f"{rules}/{made.json()['id']}", headers=auth())
            assert await call(service, preview, "/boom") == 500  # booms gone: no alert
            # The app's lines reach the rules after its answer (the log's intake): each
            # count is read once the lines it counts were matched, however busy the
            # machine (a loaded CI run read 1 here).
            after = (await client.get(rules, headers=auth())).json()
            while after["rules"][0]["matched"] < 2:
                await trio.sleep(0.05)
                after = (await client.get(rules, headers=auth())).json()
            total = await client.get(logs, params={"source": "alert"}, headers=auth())
            bad = [
                await client.post(rules, json=body, headers=auth())
                for body in ({"pattern": "("}, {"level": "INFO"}, {}, {"pattern": 5})
            ]
            bob = await client.get(rules, headers=auth("bob"))
            audit = await client.get("/api/audit", params={"generation": gid}, headers=auth())
            await service.stop(gid)
    booms = during["rules"][0]
    assert (booms["name"], booms["matched"], booms["fired"]) == ("booms", 2, 1)
    assert booms["lastFiredAt"].endswith("Z") and during["minIntervalSeconds"] == 10
    assert [event["level"] for event in alerts] == ["ERROR", "ERROR"]
    assert alerts[0]["message"].startswith("alert 'booms': line ")
    assert '"message": "boom"' in alerts[0]["message"]
    assert alerts[1]["message"].startswith("alert 'WARN lines': line ")
    assert [k for k in kinds if k[1] == "alert"] == [("alert", "alert"), ("alert", "alert")]
    assert all(kind == "message" for kind, source in kinds if source != "alert")
    assert removed.status_code == 200 and again.status_code == 404
    assert again.json()["error"] == "alert_rule_not_found"
    assert [rule["name"] for rule in after["rules"]] == ["WARN lines"]
    assert len(total.json()["events"]) == 2  # the warnings rule is within its 10 s
    assert after["rules"][0]["matched"] == 2 and after["rules"][0]["fired"] == 1
    assert [r.json()["error"] for r in bad] == [
        "invalid_pattern",
        "invalid_level",
        "invalid_rule",
        "invalid_pattern",
    ]
    assert bob.status_code == 404
    trail = [(e["action"], e["details"].get("ruleId")) for e in audit.json()["entries"]]
    rule_id = made.json()["id"]
    assert ("alert_create", rule_id) in trail and ("alert_delete", rule_id) in trail
