"""Where a launch runs: the least-loaded live node with a free slot, by one statement
on the shared database, blocking (run in the store's threads).

A node's load is its live previews (its rows of ``preview_instances`` that are not
over) against its capacity (``nodes.capacity``: its port pool, registered at start).
The node a launch reached runs it when it is the least loaded, or ties with the least
loaded (no hop for nothing); else the launch is forwarded to that node's internal
listener (``cluster.forwarding``), which runs it as its own. When no live node has a
free slot the launch is answered where it came, which refuses it as a full node does
(503 ``cluster_full``, ``ClusterNode.full``), after the checks every launch passes
first (who asks, their generation, their tier's limit).

The count is read, not taken: two launches at once may both choose the last slot of a
node, and the second then finds that node full (its port pool is the authority). The
node that placed it then places it again without that node (``full``; at most three
placements, ``cluster.forwarding``), so a launch is refused only when no node has room.
The design note's counter of slots taken in the placement's transaction (CLUSTER.md 2.3)
would close the window itself at the price of a write per launch and per stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from ..store.models import LIVE_WHERE
from .owners import Owner

__all__ = ["NodeLoad", "least_loaded", "node_for_launch", "node_loads"]

_LIVE_HERE = LIVE_WHERE.replace("status", "p.status", 1)
_LOADS = f"""
    SELECT n.id, n.internal_url, n.capacity,
           (SELECT count(*) FROM preview_instances p WHERE p.node_id = n.id AND {_LIVE_HERE})
    FROM nodes n
    WHERE n.state = 'alive' AND n.lease_expires_at > timezone('utc', clock_timestamp())
"""
# A node registered before capacities were (migration 0015) has room, as far as
# placement knows, until its next start registers its own.
_UNKNOWN_CAPACITY = 1_000_000


@dataclass(frozen=True)
class NodeLoad:
    """A live node: its live previews against its capacity."""

    node: str
    internal_url: str
    capacity: int
    live: int

    @property
    def has_room(self) -> bool:
        return self.live < self.capacity


def node_loads(engine: Engine) -> list[NodeLoad]:
    """Every live node's load. Blocking."""
    with engine.connect() as connection:
        rows = connection.execute(text(_LOADS)).all()
    return [
        NodeLoad(node, url or "", _UNKNOWN_CAPACITY if capacity is None else int(capacity), live)
        for node, url, capacity, live in rows
    ]


def least_loaded(loads: list[NodeLoad], me: str) -> NodeLoad | None:
    """The node with a free slot whose share of its capacity is the smallest; ``me`` on
    a tie, then the one with fewer previews, then by name. None: every node is full."""
    free = [load for load in loads if load.has_room]
    if not free:
        return None
    return min(free, key=lambda n: (n.live / max(n.capacity, 1), n.node != me, n.live, n.node))


def node_for_launch(
    engine: Engine, generation_id: str, me: str, full: frozenset[str] = frozenset()
) -> Owner | None:
    """The other node a launch of ``generation_id`` that reached ``me`` should run on
    (any node runs any generation: its files are in the database), of those not in
    ``full`` (nodes that refused it as full meanwhile: see the module doc); None: here
    (``me`` is the least loaded, or no node has room and ``me`` refuses it). Blocking."""
    loads = [load for load in node_loads(engine) if load.node not in full]
    chosen = least_loaded(loads, me)
    if chosen is None or chosen.node == me or not chosen.internal_url:
        return None
    return Owner("", chosen.node, chosen.internal_url)
