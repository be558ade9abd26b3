"""Cluster mode: several nodes on one PostgreSQL (docs/cluster.md, ../shared CLUSTER.md).

Imported only when ``PREVIEW_REDIS_URL`` turns cluster mode on: a single node never
loads it. :class:`ClusterNode` holds this node's lease (registered at start, renewed
every 2 s, by the database's clock), reaps the nodes whose lease expired (their live
previews failed, "node lost"), fences this node when it cannot renew (its previews
stopped, the service ended) and admits launches under cluster-wide limits
(``admission``: one live preview per generation, the user's tier limit).
:class:`ClusterForwarder` sends a call that needs another node's preview to that node's
internal listener (``serve_internal``, behind :class:`InternalGate` and the cluster's
secret), found by ``owners``; a launch, to the least-loaded node with room
(``placement``). The live tail of every preview's log goes through a :class:`LiveLog`
(:class:`RedisLiveLog`): its owner writes it (``write_tail``), the other nodes relay it
to their subscribers (:class:`TailRelays`); the reaper salvages a lost node's into
PostgreSQL. :class:`ClusterMetrics` adds the node's figures to its ``/metrics``;
:class:`ClusterStreamCounts` tells every node the others' open log streams (the
per-user bound and who is watching, cluster-wide).
"""

from .admission import AtLimit, place_preview
from .forwarding import ClusterForwarder, InternalGate, forwarded_generation, serve_internal
from .leases import LEASE_TTL, RENEW_INTERVAL
from .livelog import LiveLog, LiveLogDown, RedisLiveLog, StaleAppend
from .metrics import ClusterMetrics
from .node import ClusterNode, NodeIdInUse
from .owners import Owner, owner_of_generation, owner_of_preview
from .placement import node_for_launch
from .streamcounts import ClusterStreamCounts
from .tail import Relay, TailRelays, write_tail

__all__ = [
    "LEASE_TTL",
    "RENEW_INTERVAL",
    "AtLimit",
    "ClusterForwarder",
    "ClusterMetrics",
    "ClusterNode",
    "ClusterStreamCounts",
    "InternalGate",
    "LiveLog",
    "LiveLogDown",
    "NodeIdInUse",
    "Owner",
    "RedisLiveLog",
    "Relay",
    "StaleAppend",
    "TailRelays",
    "forwarded_generation",
    "node_for_launch",
    "owner_of_generation",
    "owner_of_preview",
    "place_preview",
    "serve_internal",
    "write_tail",
]
