"""The status endpoint's latency while many idle streams get their heartbeats (a
diagnostic, not a scenario).

``python -m benchmarks.heartbeat [--subscribers 5000] [--interval 2] [--seconds 10]``

Starts the service as the scenarios do, with ``PREVIEW_KEEPALIVE_INTERVAL`` set to
``--interval``, launches the emitter (which prints nothing), connects the idle
subscribers from two client processes, then calls the status endpoint every 20 ms on
one keep-alive connection for ``--seconds`` and prints one JSON line: its latency and
the probe's own loop lag. Every heartbeat sends each idle stream a keep-alive comment,
so a heartbeat's cost shows up as the status endpoint's worst latencies.
"""

from __future__ import annotations

import argparse
import json
import time

from .harness import ServiceServer
from .scenarios.api import _status_request
from .scenarios.common import Subscribers, request_load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heartbeat", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=2.0, help="heartbeat, s")
    parser.add_argument("--seconds", type=float, default=10.0, help="status probe duration")
    args = parser.parse_args(argv)
    env = {"PREVIEW_KEEPALIVE_INTERVAL": str(args.interval)}
    with ServiceServer(extra_env=env) as target:
        target.launch_emitter()
        request = _status_request(target)
        with Subscribers(target, args.subscribers, 1, processes=2, connect_timeout=300) as subs:
            time.sleep(1.0)
            probe = request_load(
                {
                    "port": target.port,
                    "requests": [request],
                    "interval": 0.02,
                    "duration": args.seconds,
                },
                args.seconds + 60,
            )
            subs.close()
    result = {
        "subscribers": args.subscribers,
        "heartbeat_s": args.interval,
        "status_ms": probe["latency_ms"],
        "statuses": probe["statuses"],
        "probe_lag_ms": probe["lag_ms"],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
