"""Scenario cluster: log lines through a node that does not run the preview (relayed from
the Redis tail, ``preview.cluster.tail``) against through the node that runs it.

Two nodes (``preview serve`` each, cluster mode) on a fresh PostgreSQL database (made
from ``PREVIEW_BENCH_POSTGRES_URL``, dropped after) and the machine's Redis
(``PREVIEW_BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/0``; a key prefix per
run). Node A runs the emitter; for each case the same subscribers (the fan-out
scenario's clients: kernel receive timestamps, lost and duplicated lines) connect to A
(owner) or to B (relay), a fresh preview each time:

* ``throughput``: 1 subscriber, N lines as fast as the emitter prints: lines/s
  delivered (issue 67: through a non-owner ≥ 0.8× through the owner);
* ``latency``: 100 subscribers, lines at 500/s: delivery latency p50/p99 (issue 67:
  p99 ≤ 25 ms on non-owner nodes);
* ``proxy``: sequential calls of the preview's transparent proxy on one kept-alive
  connection, to the owner and to the other node (forwarded to the owner), alternating
  in blocks: latency p50/p99 and the two nodes' CPU per call (issue 67: a forwarded call
  ≤ +0.5 ms at p50 and ≤ 1.3× the CPU of an owner-direct one);
* ``deaths``: a third node launches a preview and is killed (``kill -9`` of the service
  alone: its preview dies with it), ten times, a new node each time: the seconds from
  the kill to the row's ``failed`` by the others' reaper, by the database's clock
  (issue 67: p50 ≤ 7 s, max ≤ 10 s over 10 kills), and from its last renewal.

Skipped without ``PREVIEW_BENCH_POSTGRES_URL``. ``PREVIEW_CLUSTER_LOG_STREAMS=forward``
in the environment measures forwarding to the owner instead of the relay.
"""

from __future__ import annotations

import array
import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from preview.clock import utcnow

from ..harness import CpuMeter, ServiceServer, free_port, log
from ..loadclient import raw_request, summary_us
from .common import Subscribers, request_load
from .launch import _example_files

_SECRET = "bench-cluster-secret-" + "c" * 32
CASES = {
    # name: (subscribers, lines, lines/s; 0: as fast as the emitter prints)
    "throughput": (1, 50_000, 0),
    "latency": (100, 5_000, 500),
}
_QUICK = {"throughput": (1, 5_000, 0), "latency": (20, 1_000, 500)}
_PROXY_CALLS, _PROXY_ROUNDS = 10_000, 5  # a round: a block of each target in turn
_KILLS = 10
_LEASE_TTL = 6.0  # s: preview.cluster's; a node reaps only after a whole one of renewals


@contextlib.contextmanager
def scratch_database(base_url: str, prefix: str = "preview_bench_cluster") -> Iterator[str]:
    """The URL of a new, empty database on ``base_url``'s PostgreSQL (named ``prefix``
    and a random part), dropped afterwards, its connections too (the cluster tests'
    databases as well)."""
    base = make_url(base_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin: dict[str, Any] = dict(
        host=base.host, port=base.port or 5432, user=base.username, dbname="postgres"
    )
    if base.password:
        admin["password"] = base.password
    with psycopg.connect(**admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**admin, autocommit=True) as connection:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            connection.execute(drop.format(sql.Identifier(name)))


def _node(name: str, db_url: str, redis_url: str, prefix: str) -> ServiceServer:
    env = {
        "PREVIEW_REDIS_URL": redis_url,
        "PREVIEW_REDIS_PREFIX": prefix,
        "PREVIEW_NODE_ID": name,
        "PREVIEW_INTERNAL_URL": f"http://127.0.0.1:{free_port()}",
        "PREVIEW_CLUSTER_SECRET": _SECRET,
    }
    if os.environ.get("PREVIEW_CLUSTER_LOG_STREAMS"):
        env["PREVIEW_CLUSTER_LOG_STREAMS"] = os.environ["PREVIEW_CLUSTER_LOG_STREAMS"]
    return ServiceServer(db_url=db_url, extra_env=env)


def _case(owner: ServiceServer, reader: ServiceServer, m: int, n: int, rate: float) -> dict:
    owner.launch_emitter()
    reader.gid, reader.preview = owner.gid, owner.preview
    reader.child_port, reader.child_pid = owner.child_port, owner.child_pid
    try:
        with Subscribers(reader, m, n, processes=1, connect_timeout=120) as subscribers:
            time.sleep(0.5)
            owner.start_emitting(n, rate)
            timeout = n / rate * 3 + 15 if rate > 0 else 60.0
            merged = subscribers.collect(timeout)
    finally:
        owner.stop_preview()
        reader.gid = ""
    return {
        "subscribers": m,
        "lines": n,
        "rate": rate or "max",
        "deliveries_per_s": merged["deliveries_per_s"],
        "latency_ms": merged["latency_ms"],
        "lost_total": merged["lost_total"],
        "dup_total": merged["dup_total"],
    }


def _proxy_case(owner: ServiceServer, other: ServiceServer, calls: int) -> dict[str, Any]:
    """The owner's and the other node's proxy, ``calls`` sequential calls each in
    ``_PROXY_ROUNDS`` alternating blocks; CPU: both nodes' together, per call."""
    # The example app (FastAPI on uvicorn: the emitter's http.server writes its head and
    # body apart, and Nagle's delay with the delayed ACK made every call 40 ms).
    gid = owner.upload(_example_files())
    launched = owner.launch(gid)
    try:
        path = f"/api/generations/{gid}/preview/proxy/api/items/1"
        headers = {**owner.auth, "X-Preview-Token": launched["previewToken"]}
        targets = {
            label: (node.port, raw_request("GET", path, f"127.0.0.1:{node.port}", headers))
            for label, node in (("owner", owner), ("non_owner", other))
        }
        meters = [CpuMeter(owner.pid), CpuMeter(other.pid)]
        samples = {label: array.array("q") for label in targets}
        cpu = dict.fromkeys(targets, 0.0)
        by_node = {label: [0.0, 0.0] for label in targets}  # owner's, other's
        statuses: dict[str, dict[str, int]] = {label: {} for label in targets}
        for port, request in targets.values():  # warm: connections, caches
            request_load({"port": port, "requests": [request], "count": 100}, 60)
        for _ in range(_PROXY_ROUNDS):
            for label, (port, request) in targets.items():
                before = [meter.cpu() for meter in meters]
                block = request_load(
                    {"port": port, "requests": [request], "count": calls // _PROXY_ROUNDS}, 120
                )
                spent = [meter.cpu() - began for meter, began in zip(meters, before, strict=True)]
                cpu[label] += sum(spent)
                for node, seconds in enumerate(spent):
                    by_node[label][node] += seconds
                measured = array.array("q")
                measured.frombytes(block["latencies_us"])
                samples[label].extend(measured[1:])  # the first also paid for the connect
                for status, count in block["statuses"].items():
                    statuses[label][status] = statuses[label].get(status, 0) + count
    finally:
        owner.stop(gid)
    out: dict[str, Any] = {
        label: {
            "latency_ms": summary_us(samples[label]),
            "cpu_us_per_call": round(cpu[label] / max(len(samples[label]), 1) * 1e6, 1),
            # Each node's part: where a forwarded call's added CPU is spent.
            "cpu_us_per_call_owner_other": [
                round(seconds / max(len(samples[label]), 1) * 1e6, 1) for seconds in by_node[label]
            ],
            "statuses": statuses[label],
        }
        for label in targets
    }
    direct, forwarded = out["owner"], out["non_owner"]
    if direct["latency_ms"]["p50"] is not None and forwarded["latency_ms"]["p50"] is not None:
        out["added_p50_ms"] = round(forwarded["latency_ms"]["p50"] - direct["latency_ms"]["p50"], 3)
    if direct["cpu_us_per_call"]:
        out["cpu_ratio"] = round(forwarded["cpu_us_per_call"] / direct["cpu_us_per_call"], 2)
    return out


def _deaths_case(
    survivor: ServiceServer, db_url: str, redis_url: str, prefix: str, kills: int
) -> dict[str, Any]:
    """A node launches the emitter and is killed, ``kills`` times (a new node each time,
    its own id: a killed node's id is held until its lease expires); ``survivor`` is up
    for a whole lease first, so that its reaper may reap from the first kill on."""
    survivor.wait_ready_for(_LEASE_TTL + 0.5)
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    failed_after: list[float] = []
    since_renewal: list[float] = []
    for number in range(kills):
        name = f"bench-doomed-{number}"
        node = _node(name, db_url, redis_url, prefix)
        try:
            node.launch_emitter()
            preview_id = node.preview["previewInstanceId"]
            killed_at = utcnow()  # naive UTC, as the store's timestamps
            node.process.kill()
            node.process.wait()
            with psycopg.connect(url, autocommit=True) as connection:
                stopped = _failed_at(connection, preview_id, timeout=60)
                renewed = connection.execute(
                    "SELECT renewed_at FROM nodes WHERE id = %s", (name,)
                ).fetchone()
        finally:
            node.close()  # (the process is gone: its data and its preview's group)
        failed_after.append(round((stopped - killed_at).total_seconds(), 2))
        if renewed is not None:
            since_renewal.append(round((stopped - renewed[0]).total_seconds(), 2))
        log(f"cluster: kill {number + 1}/{kills}: failed {failed_after[-1]} s after it")
    ordered = sorted(failed_after)
    return {
        "kills": kills,
        "failed_after_kill_s": {
            "p50": ordered[len(ordered) // 2],
            "max": ordered[-1],
            "each": failed_after,
        },
        "failed_after_last_renewal_s": since_renewal,
    }


def _failed_at(connection: psycopg.Connection, preview_id: str, timeout: float) -> datetime:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = connection.execute(
            "SELECT status, stopped_at FROM preview_instances WHERE id = %s", (preview_id,)
        ).fetchone()
        if row is not None and row[0] == "failed" and row[1] is not None:
            return row[1]
        time.sleep(0.05)  # another process's row: polled
    raise TimeoutError(f"{preview_id} was not failed within {timeout:g} s of its node's death")


def run(*, quick: bool = False, only: list[str] | None = None, **_: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"scenario": "cluster"}
    base = os.environ.get("PREVIEW_BENCH_POSTGRES_URL")
    if not base:
        out["skipped"] = "PREVIEW_BENCH_POSTGRES_URL is not set"
        return out
    redis_url = os.environ.get("PREVIEW_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    out["streams"] = os.environ.get("PREVIEW_CLUSTER_LOG_STREAMS", "relay")
    cases = _QUICK if quick else CASES
    with scratch_database(base) as db_url:
        prefix = f"bench-{uuid.uuid4().hex[:8]}:"
        with (
            _node("bench-a", db_url, redis_url, prefix) as a,
            _node("bench-b", db_url, redis_url, prefix) as b,
        ):
            for name, (m, n, rate) in cases.items():
                if only and name not in only:
                    continue
                for label, reader in (("owner", a), ("non_owner", b)):
                    log(f"cluster: {name}, {m} subscriber(s) on the {label}")
                    out[f"{name}_{label}"] = _case(a, reader, m, n, rate)
            if not only or "proxy" in only:
                log("cluster: proxy calls, to the owner and forwarded by the other node")
                out["proxy"] = _proxy_case(a, b, _PROXY_CALLS // 4 if quick else _PROXY_CALLS)
            if not only or "deaths" in only:
                log("cluster: a node killed with its preview, a new one each time")
                kills = 3 if quick else _KILLS
                out["deaths"] = _deaths_case(b, db_url, redis_url, prefix, kills)
            through, direct = out.get("throughput_non_owner"), out.get("throughput_owner")
            if through and direct and through["deliveries_per_s"] and direct["deliveries_per_s"]:
                out["throughput_ratio"] = round(
                    through["deliveries_per_s"] / direct["deliveries_per_s"], 2
                )
    return out
