"""One log event and its encodings (JSON, SSE frame), each computed at most once."""

from __future__ import annotations

import json.encoder
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..clock import isoformat

__all__ = ["SSE_KEEPALIVE", "Event", "sse_frames"]

SSE_KEEPALIVE = b": keep-alive\n\n"  # the SSE comment a stream gets at a heartbeat

_quote = json.encoder.encode_basestring  # C-accelerated; keeps non-ASCII as is
_ALERT_KIND = "event: alert\n"


@dataclass(slots=True, eq=False)
class Event:
    """One log event; ``json`` and ``sse`` are its encodings, computed at most once.

    They are computed on first use, by whichever subscriber comes first, and shared by
    all: an event nobody streams (persistence alone) is never encoded.
    """

    id: int
    timestamp: datetime
    level: str
    message: str
    source: str
    stream: str | None = None
    status: str | None = None
    # The app's process that printed it, when not its web process (a worker's name:
    # ``runtime.processes``); in the JSON only when set, as ``status`` is.
    process: str | None = None
    _json: str | None = field(init=False, default=None, repr=False)
    _sse: bytes | None = field(init=False, default=None, repr=False)

    def row(self) -> tuple[int, datetime, str, str, str, str | None, str | None, str | None]:
        """Its fields in order, as ``Event(*row)`` takes them (a row to store, a tail's
        entry)."""
        return (
            self.id,
            self.timestamp,
            self.level,
            self.message,
            self.source,
            self.stream,
            self.status,
            self.process,
        )

    @property
    def json(self) -> str:
        if self._json is None:
            # Hand-assembled, byte for byte what json.dumps(to_dict()) gives (tested):
            # the C string encoder does the only escaping needed. It escapes CR and LF,
            # so a child's bytes cannot end the SSE data line.
            status = f',"status":{_quote(self.status)}' if self.status else ""
            if self.process:
                status += f',"process":{_quote(self.process)}'
            stream = _quote(self.stream) if self.stream is not None else "null"
            self._json = (
                f'{{"id":{self.id},"timestamp":"{isoformat(self.timestamp)}",'
                f'"level":{_quote(self.level)},"message":{_quote(self.message)},'
                f'"source":{_quote(self.source)},"stream":{stream}{status}}}'
            )
        return self._json

    @property
    def sse(self) -> bytes:
        if self._sse is None:
            # A lifecycle event is a default ``message`` too (its data carries
            # ``status``): a plain ``onmessage`` handler sees every line. An alert
            # (logs.alerts) is an event of its own kind, ``alert``.
            kind = _ALERT_KIND if self.source == "alert" else ""
            self._sse = f"{kind}id: {self.id}\ndata: {self.json}\n\n".encode()
        return self._sse

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "timestamp": isoformat(self.timestamp),
            "level": self.level,
            "message": self.message,
            "source": self.source,
            "stream": self.stream,
        }
        if self.status:
            data["status"] = self.status
        if self.process:
            data["process"] = self.process
        return data

    def to_values(self, preview_id: str) -> tuple[Any, ...]:
        """The row as a tuple in ``store.LOG_EVENT_COLUMNS`` order."""
        return (preview_id, *self.row())

    @classmethod
    def from_row(cls, row: Any) -> Event:
        return cls(
            row.seq,
            row.timestamp,
            row.level,
            row.message,
            row.source,
            row.stream,
            row.status,
            row.process,
        )


def sse_frames(events: list[Event]) -> bytes:
    """The SSE frames of ``events`` joined, as ``b"".join(e.sse for e in events)``, the
    encodings of those not encoded yet made here in one pass (and kept, as ``sse``
    keeps them): the fields all events of a batch share (timestamp, source, stream) are
    formatted once per change, not once per event."""
    frames: list[bytes] = []
    append = frames.append
    moment: datetime | None = None
    stamp = ""
    origin: tuple[str, str | None] | None = None
    rest = ""
    alert = False  # the events of this origin are alerts (an SSE event of their own kind)
    for event in events:
        sse = event._sse
        if sse is None:
            if event._json is not None or event.status or event.process:
                sse = event.sse  # the rare cases: encoded as one
            else:
                if (event.source, event.stream) != origin:
                    origin = (event.source, event.stream)
                    alert = event.source == "alert"  # asked once per change, not per event
                    stream = _quote(event.stream) if event.stream is not None else "null"
                    rest = f',"source":{_quote(event.source)},"stream":{stream}}}'
                if alert:
                    append(event.sse)  # a rare case too
                    continue
                if event.timestamp is not moment:
                    moment = event.timestamp
                    stamp = f'","timestamp":"{isoformat(moment)}","level":'
                json = event._json = (
                    f'{{"id":{event.id}{stamp[1:]}{_quote(event.level)},'
                    f'"message":{_quote(event.message)}{rest}'
                )
                sse = event._sse = f"id: {event.id}\ndata: {json}\n\n".encode()
        append(sse)
    return b"".join(frames)
