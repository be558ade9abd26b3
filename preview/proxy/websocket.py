"""A WebSocket to a preview's app: opened upstream (recorded as every call is, though not
kept in the request history), then pumped both ways with close codes passed through.
Shared by the path proxy (``proxying``) and a preview's own origin
(``proxy.origin_router``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import trio

from ..errors import BadGateway, PreviewError, TimedOut
from ..services import CallOutcome, ProxiedCall, Services
from .failures import unreachable
from .policy import Forwarded, request_headers

if TYPE_CHECKING:  # trio-websocket: imported where used (runtime.clients says why)
    import trio_websocket

    from ..runtime import PreviewRuntime

__all__ = ["WebSocketClient", "proxy_websocket"]


class WebSocketClient(Protocol):
    """The caller's side of a proxied WebSocket: Quart's ``websocket``, or an ASGI one
    with the same methods (``proxy.origin_router``). When the caller leaves,
    ``receive`` does not return: the call is cancelled, as Quart does."""

    async def accept(self, *, subprotocol: str | None = None) -> Any: ...
    async def receive(self) -> str | bytes: ...
    async def send(self, data: str | bytes) -> Any: ...
    async def close(self, code: int, reason: str = "") -> Any: ...


async def proxy_websocket(
    state: Services,
    runtime: PreviewRuntime,
    child_path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    subprotocols: list[str],
    forwarded: Forwarded,
    client: WebSocketClient,
    *,
    app_origin: bool = False,
) -> None:
    """Open the WebSocket to the app, accept the caller's with the app's subprotocol and
    pump both ways. Recorded as every call is (its event once it opened or failed to, and
    another if it breaks later), but not kept in the request history.

    The app refusing the handshake (an HTTP answer, not a WebSocket), being unreachable
    or too slow raises the service's error (502, 504) before the caller's WebSocket is
    accepted, for the caller to answer as HTTP; the app's connection breaking later
    closes the caller's with 1011. A message over either side's limit closes with 1009.
    """
    import trio_websocket

    sent = request_headers(headers, forwarded, app_origin=app_origin)
    resource = child_path + (f"?{query}" if query else "")
    _, recorder = state.calls.start(runtime, kept=False)
    began = trio.current_time()
    call = ProxiedCall("websocket", "WS", child_path, sent, forwarded.request_id, began)
    caller = _Caller(client)
    opened = False
    try:
        async with runtime.upstream.websocket(
            resource,
            subprotocols=subprotocols,
            extra_headers=sent,
            connect_timeout=state.settings.proxy_timeout,
        ) as upstream:
            elapsed = (trio.current_time() - began) * 1000
            await recorder.complete(call, CallOutcome(101, None, elapsed))
            opened = True
            await caller.accept(upstream.subprotocol)
            await _pump(upstream, caller)
    except (trio_websocket.HandshakeError, OSError, trio.TooSlowError) as error:
        elapsed = (trio.current_time() - began) * 1000
        failed = CallOutcome(None, None, elapsed, type(error).__name__)
        if opened:  # then broke off: an event of its own
            await recorder.event(call, failed)
        else:
            await recorder.complete(call, failed)
        if not caller.accepted:
            raise _refusal(error, state.settings.proxy_timeout) from None
        await caller.close(1011, "the preview's WebSocket broke off")


def _refusal(error: Exception, timeout: float) -> PreviewError:
    import trio_websocket

    """The service's error for a WebSocket the app did not open."""
    if isinstance(error, (trio.TooSlowError, trio_websocket.ConnectionTimeout)):
        return TimedOut(
            f"The preview did not open the WebSocket within {timeout:g} s.",
            code="upstream_timeout",
            details={"timeout": timeout},
        )
    if isinstance(error, trio_websocket.ConnectionRejected):
        return BadGateway(
            f"The preview did not accept the WebSocket (it answered {error.status_code}).",
            details={"upstreamStatus": error.status_code},
        )
    return unreachable(error)


class _Caller:
    """The caller's WebSocket, accepted and closed once at most (Quart's ``close``
    raises when called twice)."""

    def __init__(self, client: WebSocketClient) -> None:
        self._client = client
        self.accepted = False
        self.closed = False

    async def accept(self, subprotocol: str | None) -> None:
        await self._client.accept(subprotocol=subprotocol)
        self.accepted = True

    async def receive(self) -> str | bytes:
        return await self._client.receive()

    async def send(self, data: str | bytes) -> None:
        await self._client.send(data)

    async def close(self, code: int, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            await self._client.close(code, reason)


async def _pump(upstream: trio_websocket.WebSocketConnection, client: _Caller) -> None:
    import trio_websocket

    async def to_client() -> None:
        try:
            while True:
                await client.send(await upstream.get_message())
        except trio_websocket.ConnectionClosed as closed:
            reason = closed.reason
            code = reason.code if reason and reason.code not in (1005, 1006) else 1000
            await client.close(code, (reason.reason or "") if reason else "")
            nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(to_client)
        while True:
            message = await client.receive()
            try:
                await upstream.send_message(message)
            except trio_websocket.ConnectionClosed:
                break
