"""WebsocketFrames: a batch of text frames per write on a WebSocket that a real Hypercorn
serves to a real QuartTrio route, read by a real client (trio-websocket)."""

from __future__ import annotations

import trio
import trio_websocket
from quart import websocket
from quart_trio import QuartTrio

from preview.services import WebsocketFrames

from ..hypercorn_serving import hypercorn_serving

# Messages of every size: ASCII, non-ASCII, empty, one over the 64 KiB of a write.
MESSAGES = [f"line {i} ünïcødé" for i in range(2000)] + ["", "x" * 200_000, "last"]


def _app(outcome: dict[str, object], done: trio.Event) -> QuartTrio:
    app = QuartTrio(__name__)

    @app.websocket("/frames")
    async def frames() -> None:
        await websocket.accept()
        writer = WebsocketFrames.attach(websocket)
        outcome["attached"] = writer is not None
        if writer is None:
            return
        await writer.send_texts(MESSAGES[:1000])  # two calls: one stream of frames
        await writer.send_texts(MESSAGES[1000:])
        await websocket.receive()  # the client's "bye", then it closes
        # The client's close cancels this route: what follows runs shielded, time-boxed.
        with trio.CancelScope(shield=True), trio.move_on_after(10):
            while writer.open:  # noqa: ASYNC110 (Hypercorn's state: polled)
                await trio.sleep(0.01)
            # Closed by the client: frames for it are dropped, as Hypercorn's send does.
            await writer.send_texts(["after the close"])
            done.set()

    return app


async def test_frames_written_in_batches_arrive_whole_and_in_order() -> None:
    outcome: dict[str, object] = {}
    done = trio.Event()
    with trio.fail_after(30):
        async with hypercorn_serving(_app(outcome, done)) as (_, port):
            url = f"ws://127.0.0.1:{port}/frames"
            async with trio_websocket.open_websocket_url(url, max_message_size=2**20) as ws:
                received = [await ws.get_message() for _ in MESSAGES]
                await ws.send_message("bye")
            await done.wait()  # the route's last send, after the close, did not raise
    # Pinned: if a Hypercorn or Quart upgrade moved what attach() reads, this fails
    # rather than the log stream falling back to a frame a write without a word.
    assert outcome["attached"] is True
    assert received == MESSAGES


def test_anything_but_hypercorns_websocket_is_not_attached() -> None:
    assert WebsocketFrames.attach(object()) is None
    assert WebsocketFrames.attach(None) is None
