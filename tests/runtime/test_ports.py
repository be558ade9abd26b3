"""preview.runtime.ports.free_port_block, the port range the test and benchmark harnesses use."""

from __future__ import annotations

import socket

from preview.runtime.ports import _ephemeral_floor, free_port_block


def test_a_free_port_block_is_bindable_and_below_the_ephemeral_range() -> None:
    first = free_port_block(8, lowest=20000)
    assert first >= 20000 and first + 8 <= _ephemeral_floor()
    for port in range(first, first + 8):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))


def test_a_taken_port_is_never_in_the_block() -> None:
    with socket.socket() as holder:
        first = free_port_block(8, lowest=20000)
        holder.bind(("127.0.0.1", first + 3))
        holder.listen()
        again = free_port_block(8, lowest=20000)
        assert not again <= first + 3 < again + 8
