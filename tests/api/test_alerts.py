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


async def test_field_and_route_rules_alert_on_a_real_apps_lines_and_calls(settings: Any) -> None:
    """A field condition on the app's JSON lines (``userId>8``), a route's p95 over a
    window (``/slow`` above 100 ms) and its error rate (``GET /boom`` above half): each
    alerts once it holds, listed with what it is; bad rules are refused, each saying
    why."""
    with trio.fail_after(180):
        async with observed_service(settings) as service:
            client = service.client
            gid = await service.upload({"app.py": APP})
            rules = f"/api/generations/{gid}/alerts"
            bodies = [
                {"field": "userId>8", "name": "big users"},
                {"route": "/slow", "metric": "p95", "above": 100, "window": 60},
                {"route": "GET /boom", "metric": "errorRate", "above": 0.5},
            ]
            for body in bodies:
                made = await client.post(rules, json=body, headers=auth())
                assert made.status_code == 201, made.text
            launched = await service.launch(gid, command=COMMAND)
            assert launched.json()["status"] == "running", launched.text
            preview = {**launched.json(), "gid": gid}
            assert await call(service, preview, "/items/3") == 200  # userId 3: no alert
            assert await call(service, preview, "/items/9") == 200
            for _ in range(5):
                assert await call(service, preview, "/slow?ms=150") == 200
                assert await call(service, preview, "/boom") == 500
            logs = f"/api/generations/{gid}/preview/logs"
            alerts: list[str] = []
            while len(alerts) < 3:  # the line's alert once the intake has taken it in
                listed = await client.get(logs, params={"source": "alert"}, headers=auth())
                alerts = sorted(event["message"] for event in listed.json()["events"])
                if len(alerts) < 3:
                    await trio.sleep(0.05)
            listing = (await client.get(rules, headers=auth())).json()["rules"]
            bad = [
                await client.post(rules, json=body, headers=auth())
                for body in (
                    {"field": "userId>many"},
                    {"route": "slow", "metric": "p95", "above": 1},
                    {"route": "/slow", "metric": "p99", "above": 1},
                    {"route": "/slow", "metric": "errorRate", "above": 2},
                    {"route": "/slow", "metric": "p95", "above": 1, "window": 5},
                    {"route": "/slow", "metric": "p95", "above": 1, "pattern": "x"},
                )
            ]
            await service.stop(gid)
    assert alerts[0].startswith("alert '/slow p95 above 100 ms': /slow p95 ")
    assert alerts[0].endswith("ms above 100 ms (5 calls) over the last 60 s")
    assert alerts[1] == (
        "alert 'GET /boom errorRate above 50%': GET /boom error rate 100% above 50% "
        "(5 of 5 calls) over the last 60 s"
    )
    assert alerts[2].startswith("alert 'big users': line ") and '"userId": 9' in alerts[2]
    assert [(r["field"], r["route"], r["metric"], r["above"], r["window"]) for r in listing] == [
        ("userId>8", None, None, None, None),
        (None, "/slow", "p95", 100.0, 60),
        (None, "GET /boom", "errorRate", 0.5, 60),
    ]
    assert [rule["fired"] for rule in listing] == [1, 1, 1]
    assert [r.json()["error"] for r in bad] == [
        "invalid_field",
        "invalid_route",
        "invalid_metric",
        "invalid_threshold",
        "invalid_window",
        "invalid_rule",
    ]
