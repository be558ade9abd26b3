"""Cluster mode: several nodes on one PostgreSQL (docs/cluster.md, ../shared CLUSTER.md).

Imported only when ``PREVIEW_REDIS_URL`` turns cluster mode on: a single node never
loads it. :class:`ClusterNode` holds this node's lease (registered at start, renewed
every 2 s, by the database's clock), reaps the nodes whose lease expired (their live
previews failed, "node lost"), fences this node when it cannot renew (its previews
stopped, the service ended) and admits launches under cluster-wide limits
(``admission``: one live preview per generation, the user's tier limit).
"""

from .admission import AtLimit, place_preview
from .leases import LEASE_TTL, RENEW_INTERVAL
from .node import ClusterNode, NodeIdInUse

__all__ = [
    "LEASE_TTL",
    "RENEW_INTERVAL",
    "AtLimit",
    "ClusterNode",
    "NodeIdInUse",
    "place_preview",
]
