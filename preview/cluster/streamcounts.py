"""Every node's open log streams, known to the others: :class:`ClusterStreamCounts`.

A user's bound on log streams (``PREVIEW_MAX_STREAMS_PER_USER``) and the list of who is
watching a preview (``GET …/preview/viewers``) were each node's own: a user could hold the
bound on every node, and a viewer saw only the watchers of the node their stream reached.
Each node now publishes its counts (per user, and per generation its watchers: the
service's ``StreamSlots.here``) to Redis every :data:`PUBLISH_INTERVAL` seconds, one key a
node that expires after :data:`KEPT_FOR` (a dead node's streams stop counting then), and
reads the others' at the same pace; ``StreamSlots`` adds them to its own.

So the bound holds cluster-wide to within those seconds: two streams opened at once on
two nodes may pass it by one each, until the next exchange (a bound against exhaustion,
not an exact quota; an exact one would put a Redis round trip before every stream). With
Redis down, a node counts what it last read for :data:`KEPT_FOR` seconds, then its own
alone.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import trio

from .livelog import LiveLogDown, RedisLiveLog

__all__ = ["KEPT_FOR", "PUBLISH_INTERVAL", "ClusterStreamCounts"]

_log = logging.getLogger(__name__)

PUBLISH_INTERVAL = 2.0  # s: as the lease's renewal
KEPT_FOR = 10  # s: a node's counts outlive its last publication this long


class _OwnStreams(Protocol):
    def here(self) -> tuple[dict[str, int], dict[str, dict[str, int]]]: ...


class ClusterStreamCounts:
    """The other nodes' streams (module doc); started with ``nursery.start(serve)``."""

    def __init__(self, redis: RedisLiveLog, node: str, own: _OwnStreams) -> None:
        self._redis = redis
        self._node = node
        self._own = own
        self._held: dict[str, int] = {}
        self._watching: dict[str, dict[str, int]] = {}
        self._read_at: float | None = None  # trio's clock at the last read

    def key(self, node: str) -> str:
        return self._redis.prefixed(f"streams:{node}")

    def held(self, user_id: str) -> int:
        return self._held.get(user_id, 0) if self._fresh() else 0

    def watching(self, gid: str) -> dict[str, int]:
        return dict(self._watching.get(gid, {})) if self._fresh() else {}

    def _fresh(self) -> bool:
        return self._read_at is not None and trio.current_time() - self._read_at < KEPT_FOR

    async def serve(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            try:
                await self.exchange()
            except LiveLogDown as down:  # counted from what was last read, for a while
                _log.debug("stream counts not exchanged: %s", down)
            await trio.sleep(PUBLISH_INTERVAL)

    async def exchange(self) -> None:
        """Publish this node's counts; read the other nodes'."""
        held, watching = self._own.here()
        mine = json.dumps({"held": held, "watching": watching})
        await self._redis.call("set", self.key(self._node), mine, ex=KEPT_FOR)
        keys = [
            key for key in await self._redis.scan_keys(self.key("*")) if key != self.key(self._node)
        ]
        values = await self._redis.call("mget", keys) if keys else []
        others_held: dict[str, int] = {}
        others_watching: dict[str, dict[str, int]] = {}
        for value in values:
            counts = _counts(value)
            for user, count in counts.get("held", {}).items():
                others_held[user] = others_held.get(user, 0) + int(count)
            for gid, users in counts.get("watching", {}).items():
                into = others_watching.setdefault(gid, {})
                for user, count in users.items():
                    into[user] = into.get(user, 0) + int(count)
        self._held, self._watching = others_held, others_watching
        self._read_at = trio.current_time()


def _counts(value: Any) -> dict[str, Any]:
    """A node's published counts; {} for a key gone meanwhile or not ours to read."""
    if value is None:
        return {}
    try:
        counts = json.loads(value)
    except ValueError:
        return {}
    return counts if isinstance(counts, dict) else {}
