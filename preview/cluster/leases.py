"""The nodes' leases in PostgreSQL: one row a node (``store.models.ClusterNode``).

Blocking functions on a connection (run in a worker thread). Every time is the
database's clock (``_NOW``), never a node's: two nodes' clocks may disagree, the one
database does not. Naive UTC, as every timestamp of the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from ..store.models import LIVE_WHERE

__all__ = [
    "LEASE_TTL",
    "RENEW_INTERVAL",
    "Lost",
    "Reaped",
    "declare_dead",
    "lease_holder",
    "leave",
    "live_nodes",
    "lost_previews",
    "reap_lost_nodes",
    "register",
    "renew",
    "store_salvaged",
]

RENEW_INTERVAL = 2.0  # s
# s: three renewals missed; a dead node is reaped 4-6.5 s after its death (its last
# renewal 0-2 s before it, plus the TTL, plus a reaper tick of 0.5 s).
LEASE_TTL = 6.0
_NOW = "timezone('utc', clock_timestamp())"
_LIVE_HERE = LIVE_WHERE.replace("status", "preview_instances.status", 1)


def register(
    connection: Connection, node: str, internal_url: str, capacity: int | None = None
) -> int | None:
    """Make this node's row alive with a new epoch (the row made, or taken over from
    this node's previous run), ``capacity`` the previews it runs at most (placement's);
    None while another run holds the id with a lease that has not expired (this node
    killed a moment ago, or a second node of the same id)."""
    epoch = connection.execute(
        text(
            f"""
            INSERT INTO nodes (id, internal_url, state, epoch, started_at, renewed_at,
                               lease_expires_at, capacity)
            VALUES (:node, :url, 'alive', 1, {_NOW}, {_NOW},
                    {_NOW} + make_interval(secs => :ttl), :capacity)
            ON CONFLICT (id) DO UPDATE SET
                internal_url = excluded.internal_url, state = 'alive',
                capacity = excluded.capacity,
                epoch = nodes.epoch + 1, started_at = excluded.started_at,
                renewed_at = excluded.renewed_at, lease_expires_at = excluded.lease_expires_at
            WHERE nodes.state <> 'alive' OR nodes.lease_expires_at < {_NOW}
            RETURNING epoch
            """
        ),
        {"node": node, "url": internal_url, "ttl": LEASE_TTL, "capacity": capacity},
    ).scalar()
    return None if epoch is None else int(epoch)


def lease_holder(connection: Connection, node: str) -> datetime | None:
    """When the live holder of ``node``'s id last renewed (None: no live holder)."""
    return connection.execute(
        text("SELECT renewed_at FROM nodes WHERE id = :node AND state = 'alive'"),
        {"node": node},
    ).scalar()


def renew(connection: Connection, node: str, epoch: int) -> bool:
    """Extend this node's lease by the TTL; False when it was declared dead meanwhile
    (or a later run of it took over): the node must fence itself."""
    done = connection.execute(
        text(
            f"""
            UPDATE nodes SET renewed_at = {_NOW},
                lease_expires_at = {_NOW} + make_interval(secs => :ttl)
            WHERE id = :node AND epoch = :epoch AND state = 'alive'
            """
        ),
        {"node": node, "epoch": epoch, "ttl": LEASE_TTL},
    )
    return done.rowcount == 1


def live_nodes(connection: Connection) -> int:
    """How many nodes hold a lease now (this one among them, once registered)."""
    return int(
        connection.execute(
            text(f"SELECT count(*) FROM nodes WHERE state = 'alive' AND lease_expires_at > {_NOW}")
        ).scalar_one()
    )


def leave(connection: Connection, node: str, epoch: int) -> None:
    """At a clean stop, once its previews ended: the node is ``stopped``, so its next
    start takes its id at once (no lease to wait out)."""
    connection.execute(
        text(
            f"""
            UPDATE nodes SET state = 'stopped', lease_expires_at = {_NOW}
            WHERE id = :node AND epoch = :epoch
            """
        ),
        {"node": node, "epoch": epoch},
    )


@dataclass(frozen=True)
class Reaped:
    """A preview failed because the node that ran it is gone."""

    preview_id: str
    node: str


_LOST_MESSAGE = """'node lost: ' || nodes.id || ', the node that ran it, '
    || CASE nodes.state WHEN 'dead' THEN 'stopped renewing its lease'
       ELSE 'stopped before it could end it' END"""


def declare_dead(connection: Connection, me: str) -> None:
    """Every other node whose lease expired is ``dead``: it can renew no more."""
    connection.execute(
        text(
            f"""
            UPDATE nodes SET state = 'dead'
            WHERE state = 'alive' AND lease_expires_at < {_NOW} AND id <> :me
            """
        ),
        {"me": me},
    )


@dataclass(frozen=True)
class Lost:
    """A live preview of a node that is not alive, before it is reaped."""

    preview_id: str
    message: str  # its last line's, as the reaper will write it
    stored_top: int  # its highest seq in PostgreSQL


def lost_previews(connection: Connection) -> list[Lost]:
    """The live previews of the nodes that are not alive (after :func:`declare_dead`)."""
    rows = connection.execute(
        text(
            f"""
            SELECT preview_instances.id, {_LOST_MESSAGE},
                   (SELECT coalesce(max(seq), 0) FROM log_events
                    WHERE log_events.preview_id = preview_instances.id)
            FROM preview_instances JOIN nodes ON nodes.id = preview_instances.node_id
            WHERE nodes.state <> 'alive' AND {_LIVE_HERE}
            """
        )
    ).all()
    return [Lost(pid, message, int(top)) for pid, message, top in rows]


_SALVAGED = ("seq", "timestamp", "level", "message", "source", "stream", "status", "process")


def store_salvaged(connection: Connection, preview_id: str, rows: list[tuple]) -> None:
    """Lines of a lost node's preview the live tail had and PostgreSQL may not: stored,
    those it has already left alone (``rows``: ``Event`` fields from ``seq`` on)."""
    if not rows:
        return
    connection.execute(
        text(
            """
            INSERT INTO log_events (preview_id, seq, timestamp, level, message, source,
                                    stream, status, process)
            VALUES (:pid, :seq, :timestamp, :level, :message, :source, :stream, :status,
                    :process)
            ON CONFLICT DO NOTHING
            """
        ),
        [dict(zip(_SALVAGED, row, strict=True), pid=preview_id) for row in rows],
    )


def reap_lost_nodes(
    connection: Connection, me: str, told: frozenset[str] | None = None
) -> list[Reaped]:
    """In one transaction: every other node whose lease expired is ``dead``, and every
    live preview of a node that is not alive (dead, or stopped before its rows were
    final) is ``failed``, "node lost", with a last ``system`` line saying so (unless in
    ``told``: its live tail's salvage stored that line already). Its ``owner_epoch``
    moves on, so that node's late writes change nothing. Row locks make one reaper win
    when several nodes reap at once; the others find nothing.

    With ``told`` (the live tail's salvage ran first: ``declare_dead``, then each lost
    preview's tail stored), only the nodes declared dead before it are reaped: one whose
    lease ran out since is the next round's, after its own salvage."""
    if told is None:
        declare_dead(connection, me)
        told = frozenset()
    rows = connection.execute(
        text(
            f"""
            UPDATE preview_instances SET status = 'failed', health_status = 'unknown',
                stopped_at = {_NOW}, stop_reason = 'node lost',
                error_message = {_LOST_MESSAGE},
                owner_epoch = preview_instances.owner_epoch + 1
            FROM nodes
            WHERE nodes.id = preview_instances.node_id AND nodes.state <> 'alive'
              AND {_LIVE_HERE}
            RETURNING preview_instances.id, preview_instances.node_id,
                      preview_instances.error_message
            """
        )
    ).all()
    for preview_id, _node, message in rows:
        if preview_id in told:
            continue
        # The log's last line, after whatever the lost node stored: a reader of the
        # history (and, later, of the stream) learns why it ended.
        connection.execute(
            text(
                f"""
                INSERT INTO log_events (preview_id, seq, timestamp, level, message, source,
                                        status)
                SELECT CAST(:pid AS varchar), coalesce(max(seq), 0) + 1, {_NOW}, 'ERROR',
                       CAST(:message AS text), 'system', 'failed'
                FROM log_events WHERE preview_id = CAST(:pid AS varchar)
                ON CONFLICT DO NOTHING
                """
            ),
            {"pid": preview_id, "message": message},
        )
    return [Reaped(preview_id, node) for preview_id, node, _ in rows]
