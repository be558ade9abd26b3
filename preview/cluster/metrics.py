"""A cluster node's own figures in its ``/metrics`` (``preview.metrics``' registry), read
at scrape time from the objects that keep them: the lease and the reaper's count
(:class:`~.node.ClusterNode`), the calls forwarded to other nodes, by kind
(:class:`~.forwarding.ClusterForwarder`; those of them the hot path sent on as bytes,
``proxy.hot.Onward``), the relayed tails (:class:`~.tail.TailRelays`).
Registered when the node joins; a single node never has them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from .forwarding import ClusterForwarder
    from .node import ClusterNode

__all__ = ["ClusterMetrics"]


class Sent(Protocol):
    """What counts the calls the hot path sent on (``proxy.hot.Onward``, a layer above)."""

    sent: int


class ClusterMetrics:
    """The cluster's figures of one node (see the module doc)."""

    def __init__(
        self, node: ClusterNode, forwarder: ClusterForwarder | None, onward: Sent | None
    ) -> None:
        self._node = node
        self._forwarder = forwarder
        self._onward = onward

    def register(self, registry: CollectorRegistry) -> None:
        registry.register(self)

    def describe(self) -> list[Metric]:
        return []  # collected at scrape time only (as preview.metrics' collectors)

    def collect(self) -> Iterator[Metric]:
        node = self._node
        yield GaugeMetricFamily(
            "preview_cluster_lease_age_seconds",
            "Seconds since this node last renewed its lease (past 4 it fences itself, unless"
            " no node can renew).",
            value=node.lease_age,
        )
        yield GaugeMetricFamily(
            "preview_cluster_lease_held",
            "1 while this node holds its lease; 0 once it lost it (fenced).",
            value=1 if node.holds_lease else 0,
        )
        yield GaugeMetricFamily(
            "preview_cluster_live_nodes",
            "Nodes holding a lease, this one among them, as of its last renewal.",
            value=node.live_nodes,
        )
        if node.capacity is not None:
            yield GaugeMetricFamily(
                "preview_cluster_capacity",
                "Previews this node runs at most (its port pool), as placement counts it.",
                value=node.capacity,
            )
        yield CounterMetricFamily(
            "preview_cluster_reaped_previews",
            "Previews of lost nodes this node's reaper failed (node lost).",
            value=node.reaped,
        )
        yield CounterMetricFamily(
            "preview_cluster_reaper_rounds",
            "Rounds this node's reaper ran (each after a whole lease TTL of renewals).",
            value=node.reap_rounds,
        )
        yield GaugeMetricFamily(
            "preview_cluster_database_down",
            "1 while no node of the cluster renews its lease (PostgreSQL down for all):"
            " previews run on, nobody is reaped.",
            value=1 if node.database_down else 0,
        )
        relays = node.relays
        yield CounterMetricFamily(
            "preview_cluster_relayed_events",
            "Log events of other nodes' previews relayed here from the live tail.",
            value=relays.relayed if relays is not None else 0,
        )
        yield GaugeMetricFamily(
            "preview_cluster_relays",
            "Previews of other nodes whose live tail this node relays now.",
            value=relays.running if relays is not None else 0,
        )
        forwarded = CounterMetricFamily(
            "preview_cluster_forwarded_calls",
            "Calls this node forwarded to another node, by kind (proxy, logs, stop, launch …).",
            labels=["kind"],
        )
        counts = self._forwarder.forwarded if self._forwarder is not None else {}
        for kind, count in sorted(counts.items()):
            forwarded.add_metric([kind], count)
        yield forwarded
        yield CounterMetricFamily(
            "preview_cluster_forwarded_raw_calls",
            "Of the forwarded calls, those the hot path sent on as bytes (a preview's"
            " proxied, origin and envelope calls), not through the ASGI layer.",
            value=self._onward.sent if self._onward is not None else 0,
        )
