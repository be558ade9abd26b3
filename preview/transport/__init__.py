"""Below-ASGI fast paths in front of the routes: direct body writes, parked SSE streams,
the fast stream and proxy paths that skip Quart's per-request machinery, and the router
that serves each preview at its own origin."""

from . import connection_guard
from .cors import CorsMiddleware
from .direct_body import DirectBodyWriter
from .fast_proxy import ProxyFastPath, answer_error, asgi_forwarded, forward_call
from .fast_stream import StreamFastPath
from .origin_router import OriginRouter
from .parked_streams import ParkedStream, ParkedStreams

__all__ = [
    "CorsMiddleware",
    "DirectBodyWriter",
    "OriginRouter",
    "ParkedStream",
    "ParkedStreams",
    "ProxyFastPath",
    "StreamFastPath",
    "answer_error",
    "asgi_forwarded",
    "connection_guard",
    "forward_call",
]
