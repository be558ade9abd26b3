"""What crosses to a preview: the proxy policy (headers, paths, envelopes, upstream errors),
the origins of previews (hosts, tickets, their session cookie) and the service's upstream
HTTP clients."""

from .clients import LocalTransport, local_client, local_transport, shared_tls_context
from .origins import (
    APP_SESSION_COOKIES,
    ENTER_PATH,
    AppOrigins,
    OriginSession,
    Ticket,
    origin_label,
    preview_id_of_label,
)
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
    translate_upstream_error,
    upstream_url,
    validate_path,
)
from .upstream import Upstream, UpstreamRouter, pin_socket

__all__ = [
    "APP_SESSION_COOKIES",
    "ENTER_PATH",
    "PREVIEW_TOKEN_COOKIE",
    "AppOrigins",
    "EnvelopeRequest",
    "Forwarded",
    "LocalTransport",
    "OriginSession",
    "Ticket",
    "Upstream",
    "UpstreamRouter",
    "body_too_large",
    "local_client",
    "local_transport",
    "new_request_id",
    "origin_label",
    "parse_envelope",
    "pin_socket",
    "preview_id_of_label",
    "read_envelope_response",
    "request_headers",
    "response_headers",
    "shared_tls_context",
    "translate_upstream_error",
    "upstream_url",
    "validate_path",
]
