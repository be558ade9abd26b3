"""Alert webhooks (services.webhooks, issue 69 item 6): a rule's alert is POSTed to its
webhook, signed with the secret its creation answered once, retried after a refusal; a
webhook to this machine or its networks is refused unless the operator allows it."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from typing import Any

import h11
import trio

from ..api.jsonlog_app import APP, COMMAND, call, observed_service
from ..conftest import auth


async def _receiver(
    statuses: list[int], received: list[dict[str, Any]], taken: trio.Event, task_status: Any
) -> None:
    """An HTTP server on 127.0.0.1 answering each request with the next of ``statuses``
    (then 200), keeping what it was sent; ``taken`` set at its first 2xx."""

    async def handle(stream: trio.SocketStream) -> None:
        connection = h11.Connection(h11.SERVER)
        request, body = None, b""
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await stream.receive_some(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        assert request is not None
        status = statuses.pop(0) if statuses else 200
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        received.append({"target": request.target.decode(), "headers": headers, "body": body})
        reply = h11.Response(status_code=status, headers=[("Content-Length", "0")])
        await stream.send_all(connection.send(reply) + connection.send(h11.EndOfMessage()))
        await stream.aclose()
        if 200 <= status < 300:
            taken.set()

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    task_status.started(listeners[0].socket.getsockname()[1])
    await trio.serve_listeners(handle, listeners)


def _signed(secret: str, headers: dict[str, str], body: bytes) -> bool:
    parts = dict(part.split("=", 1) for part in headers["x-preview-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(parts["v1"], expected.hexdigest())


async def test_an_alert_is_posted_signed_and_retried_after_a_refusal(settings: Any) -> None:
    received: list[dict[str, Any]] = []
    taken = trio.Event()
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            port = await nursery.start(_receiver, [503], received, taken)
            allowed = replace(settings, webhook_private="on")  # (the receiver is loopback)
            async with observed_service(allowed) as service:
                client = service.client
                gid = await service.upload({"app.py": APP})
                rules = f"/api/generations/{gid}/alerts"
                hook = f"http://127.0.0.1:{port}/hooks/preview"
                made = await client.post(
                    rules,
                    json={"pattern": "bo+m", "name": "booms", "webhook": hook},
                    headers=auth(),
                )
                assert made.status_code == 201, made.text
                launched = (await service.launch(gid, command=COMMAND)).json()
                assert launched["status"] == "running", launched
                assert await call(service, {**launched, "gid": gid}, "/boom") == 500
                await taken.wait()  # refused once (503), then taken
                listed = (await client.get(rules, headers=auth())).json()
                # Counted once the sender has read the answer the receiver just sent.
                delivered = 'preview_alert_webhooks_total{outcome="delivered"} 1.0'
                metrics = (await client.get("/metrics")).text
                while delivered not in metrics:  # (counted in the service, after its answer)
                    await trio.sleep(0.05)
                    metrics = (await client.get("/metrics")).text
                await service.stop(gid)
            nursery.cancel_scope.cancel()
    secret = made.json()["webhookSecret"]
    assert secret.startswith("whsec_") and made.json()["webhook"] == hook
    assert listed["rules"][0]["webhook"] == hook
    assert "webhookSecret" not in listed["rules"][0] and secret not in json.dumps(listed)
    first, retried = received
    assert first["target"] == retried["target"] == "/hooks/preview"
    assert first["headers"]["x-preview-delivery"] == retried["headers"]["x-preview-delivery"]
    assert first["body"] == retried["body"]
    assert _signed(secret, retried["headers"], retried["body"])
    assert not _signed("whsec_another", retried["headers"], retried["body"])
    payload = json.loads(retried["body"])
    assert payload["type"] == "alert" and payload["ruleName"] == "booms"
    assert payload["generationId"] == gid and payload["previewId"] == launched["previewInstanceId"]
    assert payload["message"].startswith("alert 'booms': line ") and payload["level"] == "ERROR"
    assert "preview_alerts_fired_total 1.0" in metrics
    assert 'preview_alert_webhooks_total{outcome="failed"} 0.0' in metrics


async def test_a_webhook_to_this_machine_or_its_network_is_refused(settings: Any) -> None:
    with trio.fail_after(60):
        async with observed_service(settings) as service:  # PREVIEW_WEBHOOK_PRIVATE=off
            gid = await service.upload({"app.py": APP})
            rules = f"/api/generations/{gid}/alerts"
            answers = [
                await service.client.post(
                    rules, json={"level": "ERROR", "webhook": webhook}, headers=auth()
                )
                for webhook in (
                    "http://127.0.0.1:8080/hook",
                    "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata
                    "http://[::ffff:10.0.0.1]/hook",
                    "ftp://example.com/hook",
                    "http://user:password@example.com/hook",
                    "not a url",
                    5,
                )
            ]
            listed = (await service.client.get(rules, headers=auth())).json()
    assert [a.status_code for a in answers] == [400] * 7
    assert {a.json()["error"] for a in answers} == {"invalid_webhook"}
    assert "this machine or its network" in answers[0].json()["message"]
    assert "PREVIEW_WEBHOOK_PRIVATE" in answers[0].json()["message"]
    assert listed["rules"] == []  # nothing half-made
