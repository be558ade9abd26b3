"""What the routes (``api``), the proxy and the fast paths (``transport``) share, set up
when serving starts: :class:`Services` (``state``), who is calling and whether the
generation is theirs or shared with them (``callers``; the shares' rows: ``shares``; a
shared user's streams ended with their share: ``sharewatch``), request bodies read
bounded (``bodies``), one call to an app from its start to its record (``calls``), and
each preview's own origin: its hosts, one-time tickets and cookie (``origins``),
alert rules' webhooks delivered, signed (``webhooks``), and a WebSocket's text frames
written a batch at a time (``wsframes``)."""

from .calls import CallOutcome, CallRecord, CallRecorder, Calls, ProxiedCall, RequestRecording
from .origins import (
    APP_SESSION_COOKIES,
    ENTER_PATH,
    AppOrigins,
    OriginSession,
    Ticket,
    origin_label,
    preview_id_of_label,
)
from .state import Services, StreamParking, StreamSlot, StreamSlots, services
from .wsframes import WebsocketFrames

__all__ = [
    "APP_SESSION_COOKIES",
    "ENTER_PATH",
    "AppOrigins",
    "CallOutcome",
    "CallRecord",
    "CallRecorder",
    "Calls",
    "OriginSession",
    "ProxiedCall",
    "RequestRecording",
    "Services",
    "StreamParking",
    "StreamSlot",
    "StreamSlots",
    "Ticket",
    "WebsocketFrames",
    "origin_label",
    "preview_id_of_label",
    "services",
]
