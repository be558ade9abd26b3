"""Every call to a preview's app, in one place: who may call (``access``), the policy of
what crosses (``policy``: headers, paths, envelopes), how a call fails (``failures``), the calls
themselves (``calls``: the envelope and the transparent call, over the runtime's
``Upstream``), the WebSocket pump (``websocket``), the fast path that skips Quart for
authorised calls (``fast_path``) and the router that serves each preview at its own
origin (``origin_router``), the hot path below Hypercorn and httpx that serves
authorised calls on the connection itself (``hot``), and what a browser may make of an
app's answer on the API's origin or the app's own (``browser``). The routes in
``api.proxying`` and ``api.origins`` are thin faces of these."""

from .access import (
    authorised_envelope,
    authorised_runtime,
    authorised_target,
    presented_token,
    shared_target,
)
from .browser import API_ORIGIN_HEADERS, ApiOrigin, AppOrigin, is_navigation, ticket_redirect
from .calls import call_envelope, envelope_error_response, open_upstream
from .failures import translate_upstream_error
from .fast_path import ProxyFastPath, answer_error, asgi_forwarded, forward_call
from .hot import HotPath
from .hot import attach as attach_hot_path
from .hot import install as install_hot_path
from .origin_router import OriginRouter
from .policy import (
    PREVIEW_TOKEN_COOKIE,
    EnvelopeRequest,
    Forwarded,
    body_too_large,
    new_request_id,
    parse_envelope,
    read_envelope_response,
    request_headers,
    response_headers,
    validate_path,
)
from .websocket import proxy_websocket

__all__ = [
    "API_ORIGIN_HEADERS",
    "PREVIEW_TOKEN_COOKIE",
    "ApiOrigin",
    "AppOrigin",
    "EnvelopeRequest",
    "Forwarded",
    "HotPath",
    "OriginRouter",
    "ProxyFastPath",
    "answer_error",
    "asgi_forwarded",
    "attach_hot_path",
    "authorised_envelope",
    "authorised_runtime",
    "authorised_target",
    "body_too_large",
    "call_envelope",
    "envelope_error_response",
    "forward_call",
    "install_hot_path",
    "is_navigation",
    "new_request_id",
    "open_upstream",
    "parse_envelope",
    "presented_token",
    "proxy_websocket",
    "read_envelope_response",
    "request_headers",
    "response_headers",
    "shared_target",
    "ticket_redirect",
    "translate_upstream_error",
    "validate_path",
]
