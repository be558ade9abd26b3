"""Each internal of another library the service uses (``preview.seams``), pinned against
the versions pyproject.toml allows: an upgrade that moves one fails here, by name."""

from __future__ import annotations

import inspect
from functools import partial

import h11
import httpcore
import httpx
import trio
import trio.testing
import trio_websocket
from quart.wrappers.websocket import Websocket
from werkzeug.datastructures import Headers

from preview.seams import h11 as h11_seam
from preview.seams import httpcore as httpcore_seam
from preview.seams import hypercorn as hypercorn_seam
from preview.seams import quart as quart_seam
from preview.seams import trio_websocket as trio_websocket_seam


def test_every_hypercorn_name_is_there_with_the_methods_wrapped() -> None:
    missing = [name for name in hypercorn_seam.__all__ if getattr(hypercorn_seam, name) is None]
    assert missing == []
    wrapped = {
        hypercorn_seam.TCPServer: ("run", "_read_data", "protocol_send", "_close"),
        hypercorn_seam.H11Protocol: ("_create_stream", "_send_error_response"),
        hypercorn_seam.HTTPStream: ("_send_error_response",),
        hypercorn_seam.WSStream: ("handle",),
    }
    for owner, names in wrapped.items():
        for name in names:
            assert inspect.iscoroutinefunction(getattr(owner, name)), (owner, name)
    assert hypercorn_seam.ASGIHTTPState.CLOSED and hypercorn_seam.ASGIWebsocketState.HANDSHAKE


def test_h11s_readers_table_and_chunked_writer() -> None:
    readers = h11_seam.readers
    assert (h11.CLIENT, h11.IDLE) in readers.READERS
    assert readers.chunk_header_re.pattern and hasattr(h11_seam.ReceiveBuffer(), "_data")
    written: list[bytes] = []
    h11_seam.ChunkedWriter()(h11.Data(data=b"hello"), written.append)
    assert b"".join(written) == b"5\r\nhello\r\n"


async def test_httpcores_trio_stream_and_a_transports_pool() -> None:
    transport = httpx.AsyncHTTPTransport()
    assert isinstance(httpcore_seam.connection_pool(transport), httpcore.AsyncConnectionPool)
    pool = httpcore.AsyncConnectionPool()
    httpcore_seam.replace_connection_pool(transport, pool)
    assert httpcore_seam.connection_pool(transport) is pool
    left, right = trio.testing.memory_stream_pair()
    stream = httpcore_seam.TrioStream(left)
    with trio.fail_after(5):
        await stream.write(b"ping")
        assert await right.receive_some(4) == b"ping"
        await stream.aclose()
    await transport.aclose()


def test_trio_websockets_reader_task() -> None:
    reader = trio_websocket.WebSocketConnection._reader_task
    assert inspect.iscoroutinefunction(reader)
    assert inspect.iscoroutinefunction(trio_websocket_seam.run_reader)


def test_quarts_websocket_send_is_the_asgi_send_under_it() -> None:
    # A Websocket as Quart makes one (quart.asgi: partial(send_data, send)); the whole
    # path under a real Hypercorn is tests/services/test_wsframes.py's.
    async def asgi_send(message: dict) -> None: ...

    async def send_data(send: object, data: str) -> None: ...

    async def nothing(*args: object) -> None: ...

    websocket = Websocket(
        "/",
        b"",
        "ws",
        Headers(),
        "",
        "1.1",
        [],
        nothing,
        partial(send_data, asgi_send),
        nothing,
        nothing,
        scope={},
    )
    assert quart_seam.websocket_asgi_send(websocket) is asgi_send


def test_nx27017s_handler_and_connection_loop() -> None:
    """NX-27017's parts ``preview.seams.nx27017`` serves on a Unix socket: its handler (one
    SQLite file a database under ``data_dir``, a command at a time by ``handle_command``)
    and its connection loop."""
    from nx_27017.handler import NeoSQLiteHandler
    from nx_27017.server import handle_client

    assert inspect.iscoroutinefunction(handle_client)
    assert list(inspect.signature(handle_client).parameters) == ["reader", "writer", "handler"]
    assert "data_dir" in inspect.signature(NeoSQLiteHandler.__init__).parameters
    assert list(inspect.signature(NeoSQLiteHandler.handle_command).parameters) == ["self", "msg"]
