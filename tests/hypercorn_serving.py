"""A real Hypercorn (trio) serving an ASGI app on a free port, for the tests of what runs
under it (direct bodies, WebSocket frames)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve


@asynccontextmanager
async def hypercorn_serving(asgi: Any) -> AsyncIterator[tuple[str, int]]:
    """``asgi`` served on 127.0.0.1 and a free port (its host and port) until the block
    ends; then Hypercorn shuts down (1 s of grace)."""
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.graceful_timeout = 1
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, asgi, config, shutdown_trigger=shutdown.wait))
        host, port = binds[0].removeprefix("http://").rsplit(":", 1)
        yield host, int(port)
        shutdown.set()
