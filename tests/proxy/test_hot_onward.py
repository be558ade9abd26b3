"""A node's internal listener serves on its hot path only the calls another node vouches
for (``proxy.hot.onward.Hop``): the cluster's secret, once, a plain-HTTP caller and an
address that can only be one. The forwarding end runs in ``tests/cluster``."""

from __future__ import annotations

import pytest

from preview.proxy.hot.head import parse_request
from preview.proxy.hot.onward import Hop

SECRET = "cluster-secret-" + "s" * 32


def _head(*lines: str) -> bytes:
    return (
        "GET /x HTTP/1.1\r\nHost: node-b\r\n" + "".join(f"{x}\r\n" for x in lines) + "\r\n"
    ).encode()


def _vouched(head: bytes) -> bytes | None:
    request = parse_request(head, head.index(b"\r\n\r\n"))
    assert request is not None
    return Hop(SECRET).vouched(request)


VOUCHED = (
    f"X-Preview-Cluster-Secret: {SECRET}",
    "X-Preview-Cluster-Client: 10.0.0.7",
    "X-Preview-Cluster-Scheme: http",
)


def test_a_call_the_cluster_vouches_for_has_the_callers_address() -> None:
    assert _vouched(_head(*VOUCHED)) == b"X-Forwarded-For: 10.0.0.7\r\n"
    v6 = (VOUCHED[0], "X-Preview-Cluster-Client: fd00::7", VOUCHED[2])
    assert _vouched(_head(*v6)) == b"X-Forwarded-For: fd00::7\r\n"


@pytest.mark.parametrize(
    "lines",
    [
        (),  # a caller of its own
        VOUCHED[1:],  # no secret
        (f"X-Preview-Cluster-Secret: {SECRET}x", *VOUCHED[1:]),  # not the secret
        (*VOUCHED, VOUCHED[0]),  # twice
        (VOUCHED[0], VOUCHED[1], "X-Preview-Cluster-Scheme: https"),  # the ASGI path's
        (VOUCHED[0], "X-Preview-Cluster-Client: 1.2.3.4, 5.6.7.8", VOUCHED[2]),
        (VOUCHED[0], VOUCHED[2]),  # no address
    ],
)
def test_anything_else_is_hypercorns_and_the_gates(lines: tuple[str, ...]) -> None:
    assert _vouched(_head(*lines)) is None
