"""The live tail of a preview's log that every node reads: :class:`LiveLog`, and its
Redis Streams implementation :class:`RedisLiveLog` (through coredis, Trio-native).

One stream a preview (``<prefix>pv:{<id>}:log``); one entry a batch of events, its id
``0-<the batch's last seq>``, set by the owner: Redis refuses an id at or below the
stream's top, so a writer that lost the preview (a zombie owner) cannot add lines after
the reaper's (:class:`StaleAppend`). The preview's end is the entry ``1-0`` (above every
``0-<seq>``): once it is there nothing can be appended at all. The reaper writes a fence
there instead (with its last line, at once), fails the row, then ends the tail at ``1-1``.

A small interface on purpose (``append``, ``read_after``, ``trim_below``, and the
reaper's ``end_lost`` and ``end_reaped``): NATS JetStream
(``Nats-Expected-Last-Subject-Sequence`` for the fencing) could replace Redis behind it.
PostgreSQL stays the system of record: the tail holds at least what it does not have yet
(trimmed only at or below what it stored).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import coredis
import trio
from coredis.exceptions import RedisError, ResponseError

from ..logs import Event

__all__ = ["END_ID", "LiveLog", "LiveLogDown", "RedisLiveLog", "StaleAppend", "TailRead"]

END_ID = "1-0"  # the end of a preview's tail: above every 0-<seq>
# The reaper's: its fence at END_ID (no append is taken after it, not even the owner's
# end) while it fails the preview's row; then its end, once the row says so.
_REAPED_END_ID = "1-1"
_CALL_TIMEOUT = 3.0  # s: a Redis slower than this is down, for the callers
_KEPT_FOR = 3600  # s: a stream lives on this long after its preview's end (late readers)

# The reaper's fence of a lost owner's tail, in one step Redis runs alone (a zombie's
# append cannot come between): the "node lost" event after the highest seq either store
# has (ARGV[1], PostgreSQL's), then the fence (the end follows once the row is failed).
# Returns its seq, or -1 if the tail had ended or was fenced.
_END_LOST = """
local top = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      local ms, seq = string.match(info[i + 1], '(%d+)-(%d+)')
      if tonumber(ms) > 0 then return -1 end
      if tonumber(seq) > top then top = tonumber(seq) end
    end
  end
end
local seq = top + 1
local event = string.gsub(ARGV[2], '^%[0,', '[' .. seq .. ',', 1)
redis.call('XADD', KEYS[1], '0-' .. seq, 'first', seq, 'events', '[' .. event .. ']')
redis.call('XADD', KEYS[1], '1-0', 'fence', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return seq
"""


class LiveLogDown(Exception):
    """The live tail cannot be reached now (the callers go on from PostgreSQL)."""


class StaleAppend(Exception):
    """The tail refused an append: its top is at or above the batch (another writer, the
    reaper, took the preview over), or the tail has ended."""


@dataclass(frozen=True)
class TailRead:
    """What :meth:`LiveLog.read_after` found: the events after the asked seq, in order
    (possibly with holes where the tail lost events: PostgreSQL has them), and the final
    status once the tail has ended."""

    events: list[Event]
    ended: str | None = None


class LiveLog(Protocol):
    """A preview's live tail, shared by every node (see the module doc)."""

    async def append(self, preview_id: str, events: Sequence[Event]) -> None:
        """The owner's batch (ids dense, increasing); :class:`StaleAppend` if refused."""
        ...

    async def end(self, preview_id: str, final_status: str) -> None:
        """The owner's last entry: no append is taken after it."""
        ...

    async def read_after(self, preview_id: str, seq: int, block: float = 0) -> TailRead:
        """The events after ``seq``, waiting up to ``block`` seconds for some."""
        ...

    async def top(self, preview_id: str) -> int:
        """The highest seq the tail took (0: none)."""
        ...

    async def trim_below(self, preview_id: str, seq: int) -> None:
        """Forget the entries whose events all lie below ``seq`` (stored elsewhere)."""
        ...

    async def end_lost(
        self, preview_id: str, stored_top: int, event: Event, final_status: str
    ) -> int | None:
        """The reaper's: ``event`` appended after the highest seq the tail or the store
        (``stored_top``) has, then a fence, at once: no append is taken after it, and
        readers wait for :meth:`end_reaped`. Its seq, or None if the tail had ended or
        was fenced already (another reaper, or the owner)."""
        ...

    async def end_reaped(self, preview_id: str, final_status: str) -> None:
        """The reaper's end of a fenced tail, once the preview's row is final (so that a
        subscriber told the end finds the row saying so). :class:`StaleAppend` if
        another reaper ended it."""
        ...

    async def aclose(self) -> None: ...


def _encode(events: Sequence[Event]) -> str:
    return json.dumps(
        [_row(e) for e in events],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _row(e: Event) -> list[Any]:
    row: list[Any] = list(e.row())
    row[1] = e.timestamp.isoformat()
    return row


def _decode(raw: bytes | str) -> list[Event]:
    return [Event(seq, datetime.fromisoformat(at), *rest) for seq, at, *rest in json.loads(raw)]


def _lost_event_json(event: Event) -> str:
    """``event`` as one element of an entry, its id 0 (``_END_LOST`` sets it)."""
    return _encode([event])[1:-1].replace(f"[{event.id},", "[0,", 1)


class RedisLiveLog:
    """:class:`LiveLog` on Redis Streams (see the module doc). ``prefix`` starts every
    key (several clusters, or tests, on one Redis). :meth:`serve` in the app's nursery."""

    def __init__(self, url: str, prefix: str = "preview:") -> None:
        self._prefix = prefix
        self._redis: Any = coredis.Redis.from_url(
            url,
            decode_responses=False,
            connect_timeout=_CALL_TIMEOUT,
            stream_timeout=None,  # XREAD BLOCK waits longer; each call has its own limit
            max_connections=512,
        )
        self._open = False
        self._closing = trio.Event()

    def key(self, preview_id: str) -> str:
        return f"{self._prefix}pv:{{{preview_id}}}:log"

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Hold the client open (coredis runs its connections' tasks here) until
        :meth:`aclose`. Needs no Redis up: calls fail (:class:`LiveLogDown`) meanwhile."""
        async with self._redis:
            self._open = True
            task_status.started()
            try:
                await self._closing.wait()
            finally:
                self._open = False

    async def aclose(self) -> None:
        self._closing.set()

    def prefixed(self, name: str) -> str:
        """``name`` as a key of this cluster's (its prefix first)."""
        return f"{self._prefix}{name}"

    async def scan_keys(self, pattern: str) -> list[str]:
        """The keys matching ``pattern`` (SCAN: never blocks Redis as KEYS would)."""
        found: list[str] = []
        with self._failures(_CALL_TIMEOUT):
            async for key in self._redis.scan_iter(match=pattern, count=500):
                found.append(key.decode() if isinstance(key, bytes) else key)
        return found

    async def call(self, name: str, *args: Any, limit: float = _CALL_TIMEOUT, **kw: Any) -> Any:
        """One Redis command (the client's method ``name``), bounded by ``limit``;
        :class:`LiveLogDown` when Redis fails it."""
        with self._failures(limit):
            return await getattr(self._redis, name)(*args, **kw)

    @contextmanager
    def _failures(self, limit: float) -> Iterator[None]:
        """The block bounded by ``limit``, Redis's failures said as this module's."""
        if not self._open:
            raise LiveLogDown("the live tail's client is closed")
        try:
            with trio.fail_after(limit):
                yield
        except ResponseError as error:
            if "equal or smaller" in str(error):
                raise StaleAppend(str(error)) from None
            raise LiveLogDown(str(error)) from None
        except (RedisError, OSError, trio.TooSlowError) as error:
            raise LiveLogDown(str(error) or type(error).__name__) from None

    async def append(self, preview_id: str, events: Sequence[Event]) -> None:
        fields = {"first": str(events[0].id), "events": _encode(events)}
        await self.call("xadd", self.key(preview_id), fields, identifier=f"0-{events[-1].id}")

    async def end(self, preview_id: str, final_status: str) -> None:
        await self._end(preview_id, final_status, END_ID)

    async def _end(self, preview_id: str, final_status: str, identifier: str) -> None:
        """The end entry at ``identifier``, and the tail kept for ``_KEPT_FOR`` from now."""
        key = self.key(preview_id)
        await self.call("xadd", key, {"end": final_status}, identifier=identifier)
        await self.call("expire", key, _KEPT_FOR)

    async def read_after(self, preview_id: str, seq: int, block: float = 0) -> TailRead:
        key = self.key(preview_id)
        if block > 0:
            entries = await self._blocking_read(key, f"0-{seq}", 512, block)
        else:
            entries = await self.call("xrange", key, f"(0-{seq}", "+", count=512)
        events: list[Event] = []
        ended = None
        fenced = False
        for entry in entries:
            values = entry.field_values
            if b"end" in values:
                ended = values[b"end"].decode()
                break
            if b"fence" in values:  # the reaper's: its end follows
                fenced = True
                continue
            batch = _decode(values[b"events"])
            if batch[0].id <= seq:  # the entry that holds seq: only what follows it
                batch = [event for event in batch if event.id > seq]
            events.extend(batch)
        if fenced and ended is None and not events and block > 0:
            # Nothing comes before the reaper's end: wait for that alone (reading after
            # ``seq`` again would find the fence at once, and so spin).
            ended = await self._reaped_end(key, block)
        return TailRead(events, ended)

    async def _reaped_end(self, key: str, block: float) -> str | None:
        for entry in await self._blocking_read(key, END_ID, 1, block):
            if b"end" in entry.field_values:
                return entry.field_values[b"end"].decode()
        return None

    async def _blocking_read(self, key: str, after: str, count: int, block: float) -> Any:
        """Up to ``count`` entries of ``key`` after the id ``after``, waiting up to
        ``block`` seconds for the first (none: empty)."""
        ms = max(1, math.ceil(block * 1000))
        found = await self.call(
            "xread", {key: after}, count=count, block=ms, limit=block + _CALL_TIMEOUT
        )
        return next(iter(found.values())) if found else ()

    async def top(self, preview_id: str) -> int:
        entries = await self.call("xrevrange", self.key(preview_id), "(1-0", "-", count=1)
        return int(entries[0].identifier.split(b"-")[1]) if entries else 0

    async def trim_below(self, preview_id: str, seq: int) -> None:
        # MINID 0-<seq>: the entries whose last event is below seq go; "~": in whole
        # nodes of the radix tree, never past the threshold (cheaper, as Redis advises).
        await self.call(
            "xtrim",
            self.key(preview_id),
            coredis.PureToken.MINID,
            f"0-{seq}",
            trim_operator=coredis.PureToken.APPROXIMATELY,
        )

    async def end_lost(
        self, preview_id: str, stored_top: int, event: Event, final_status: str
    ) -> int | None:
        seq = await self.call(
            "eval",
            _END_LOST,
            [self.key(preview_id)],
            [stored_top, _lost_event_json(event), final_status, _KEPT_FOR],
        )
        return None if int(seq) < 0 else int(seq)

    async def end_reaped(self, preview_id: str, final_status: str) -> None:
        await self._end(preview_id, final_status, _REAPED_END_ID)
