"""Below-ASGI layers in front of the routes: direct body writes, parked SSE streams, the
fast stream path that skips Quart's per-request machinery, CORS, and the guard of
Hypercorn's connections. The proxy's own fast path and origin router are ``proxy``'s."""

from . import connection_guard
from .cors import CorsMiddleware
from .direct_body import DirectBodyWriter
from .fast_stream import HotStreams, StreamFastPath
from .parked_streams import ParkedStream, ParkedStreams

__all__ = [
    "CorsMiddleware",
    "DirectBodyWriter",
    "HotStreams",
    "ParkedStream",
    "ParkedStreams",
    "StreamFastPath",
    "connection_guard",
]
