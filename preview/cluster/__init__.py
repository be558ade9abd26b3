"""Cluster mode: several nodes on one PostgreSQL (docs/cluster.md, ../shared CLUSTER.md).

Imported only when ``PREVIEW_REDIS_URL`` turns cluster mode on: a single node never
loads it. :class:`ClusterNode` holds this node's lease (registered at start, renewed
every 2 s, by the database's clock), reaps the nodes whose lease expired (their live
previews failed, "node lost"), fences this node when it cannot renew (its previews
stopped, the service ended) and admits launches under cluster-wide limits
(``admission``: one live preview per generation, the user's tier limit).
:class:`ClusterForwarder` sends a call that needs another node's preview to that node's
internal listener (``serve_internal``, behind :class:`InternalGate` and the cluster's
secret), found by ``owners``.
"""

from .admission import AtLimit, place_preview
from .forwarding import ClusterForwarder, InternalGate, forwarded_generation, serve_internal
from .leases import LEASE_TTL, RENEW_INTERVAL
from .node import ClusterNode, NodeIdInUse
from .owners import Owner, owner_of_generation, owner_of_preview

__all__ = [
    "LEASE_TTL",
    "RENEW_INTERVAL",
    "AtLimit",
    "ClusterForwarder",
    "ClusterNode",
    "InternalGate",
    "NodeIdInUse",
    "Owner",
    "forwarded_generation",
    "owner_of_generation",
    "owner_of_preview",
    "place_preview",
    "serve_internal",
]
