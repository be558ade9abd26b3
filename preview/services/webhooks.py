"""Alert webhooks (issue 69, item 6): an alert of a rule that has a webhook is POSTed
there as JSON, signed, retried with backoff: :class:`WebhookSender`.

The alert watch runs on the log intake's path (``logs.alerts``): it only queues the
delivery (:meth:`WebhookSender.queue`, never waiting; a full queue drops it and says so
in the service's log). The sender's task delivers each on its own, a few at once, so a
receiver that hangs delays only its own alerts: each attempt is bounded
(:data:`ATTEMPT_TIME`), a refusal or an answer other than 2xx is tried again after 1, 2,
4 and 8 s, then given up (said in the service's log; the preview's own log already holds
the alert).

The body is the alert as JSON; ``X-Preview-Signature: t=<unix seconds>,v1=<hex>`` is
HMAC-SHA256, keyed by the rule's secret (given once, when the rule is made), over
``<t>.<body>``: a receiver checks the body is ours and recent (a replayed one carries an
old ``t``). ``X-Preview-Delivery`` names the delivery (the same on each retry).

Where a webhook may go: like the previews' egress, never this host or its networks
(loopback, private, link-local such as a cloud's metadata service: ``sandbox.egress.
is_internal``), checked when the rule is made and again before each attempt (a name may
resolve elsewhere later), unless the operator allows it (``PREVIEW_WEBHOOK_PRIVATE=on``,
for a receiver on their own network). Between that check and httpx's own lookup a name
could still move: the check bounds what a rule's author can reach by naming an address,
not what a DNS server they control could do within that second.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import trio

from ..metrics import AlertStats
from ..settings import Settings

__all__ = [
    "ATTEMPT_TIME",
    "QUEUED",
    "Webhook",
    "WebhookRefused",
    "WebhookSender",
    "check_webhook_url",
    "new_webhook_secret",
    "signature",
]

_log = logging.getLogger(__name__)

QUEUED = 256  # deliveries waiting at most; past it one is dropped (and said)
ATTEMPT_TIME = 10.0  # seconds: one attempt's connect, send and answer
_BACKOFF = (1.0, 2.0, 4.0, 8.0)  # before each retry
_AT_ONCE = 8  # deliveries in flight
_MAX_URL = 2000
_RESOLVE_TIME = 5.0


class WebhookRefused(ValueError):
    """The URL is not one a webhook may go to (its message says why)."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """One delivery: where, the rule's secret, and the alert as the receiver gets it."""

    url: str
    secret: str
    payload: dict[str, Any]
    delivery: str


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``X-Preview-Signature``'s value for ``body`` sent at ``timestamp``."""
    signed = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={signed.hexdigest()}"


async def check_webhook_url(url: str, settings: Settings) -> str:
    """``url`` if a webhook may go there (http or https, a host that resolves, and to no
    internal address unless ``PREVIEW_WEBHOOK_PRIVATE=on``); else :class:`WebhookRefused`."""
    if len(url) > _MAX_URL:
        raise WebhookRefused(f"a webhook's URL is at most {_MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise WebhookRefused(f"not a URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("a webhook is an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise WebhookRefused("a webhook's URL carries no credentials (the signature is ours)")
    if settings.webhook_private == "on":
        return url
    from ..sandbox.egress import is_internal, resolve  # (with a rule's webhook, not at idle)

    addresses = await resolve(parts.hostname, port, _RESOLVE_TIME)
    if addresses is None:
        raise WebhookRefused(f"its host {parts.hostname} has no address")
    for found in addresses:
        address = ipaddress.ip_address(found.split("%")[0])
        if is_internal(address):
            raise WebhookRefused(
                f"its host {parts.hostname} is this machine or its network ({address}), which"
                " webhooks may not reach (PREVIEW_WEBHOOK_PRIVATE=on allows it)"
            )
    return url


class WebhookSender:
    """The service's queue of webhook deliveries and the task that makes them (module
    doc). Started with ``nursery.start(sender.serve)``."""

    def __init__(self, settings: Settings, counts: AlertStats) -> None:
        """``counts``: the deliveries by outcome (``/metrics``)."""
        self._settings = settings
        self._send, self._receive = trio.open_memory_channel[Webhook](QUEUED)
        self._counts = counts.webhooks

    def queue(self, url: str, secret: str, payload: dict[str, Any]) -> None:
        """Deliver ``payload`` to ``url`` when the sender can; never waits (a full queue
        drops it: said in the service's log)."""
        webhook = Webhook(url, secret, payload, "whd_" + secrets.token_hex(8))
        try:
            self._send.send_nowait(webhook)
        except (trio.WouldBlock, trio.ClosedResourceError):
            self._counts["dropped"] += 1
            _log.warning("alert webhook dropped: %d deliveries already wait", QUEUED)

    async def serve(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        slots = trio.CapacityLimiter(_AT_ONCE)
        async with (
            httpx.AsyncClient(trust_env=False, timeout=ATTEMPT_TIME) as client,
            trio.open_nursery() as nursery,
        ):
            task_status.started()
            async with self._receive:
                async for webhook in self._receive:
                    await slots.acquire_on_behalf_of(webhook.delivery)
                    nursery.start_soon(self._deliver, client, webhook, slots)

    async def _deliver(
        self, client: httpx.AsyncClient, webhook: Webhook, slots: trio.CapacityLimiter
    ) -> None:
        try:
            why = "not tried"
            for attempt, pause in enumerate((0.0, *_BACKOFF)):
                await trio.sleep(pause)
                why = await self._attempt(client, webhook)
                if why is None:
                    self._counts["delivered"] += 1
                    return
                _log.info("alert webhook %s, attempt %d: %s", webhook.delivery, attempt + 1, why)
            self._counts["failed"] += 1
            _log.warning("alert webhook %s given up: %s", webhook.delivery, why)
        finally:
            slots.release_on_behalf_of(webhook.delivery)

    async def _attempt(self, client: httpx.AsyncClient, webhook: Webhook) -> str | None:
        """One POST; None when the receiver took it (2xx), else why not."""
        try:
            await check_webhook_url(webhook.url, self._settings)  # (where it resolves now)
        except WebhookRefused as refused:
            return str(refused)
        body = json.dumps(webhook.payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "preview-service-webhook",
            "X-Preview-Delivery": webhook.delivery,
            "X-Preview-Signature": signature(webhook.secret, int(time.time()), body),
        }
        try:
            with trio.fail_after(ATTEMPT_TIME):
                answer = await client.post(webhook.url, content=body, headers=headers)
        except (httpx.HTTPError, trio.TooSlowError) as error:
            return f"{type(error).__name__}: {error}".rstrip(": ")
        if 200 <= answer.status_code < 300:
            return None
        return f"answered {answer.status_code}"
