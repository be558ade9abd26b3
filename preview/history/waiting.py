"""The requests waiting for the history's writer (``capture.RequestHistory``), kept as
they were recorded, and their rows shaped when the writer takes them.

A call keeps its request as ``Capture.record``'s tuple, unshaped (a few µs); the writer
shapes a batch (``rows.shape_row``: masked, its heads as JSON) on the loop, in slices of
``_SLICE`` with a checkpoint between them (a call under way waits behind one slice at
most, not behind the batch), each preview's newest first and only as many as its bounds
keep. Shaped by each call, a row cost a proxied call 50-70 µs of CPU on a 2-core VM
where the same shaping in a run of rows costs 18 µs: the call's shaping ran with the
caches cold (the app, the load client and the kernel's work between two calls), and the
rows of a preview past its bound were shaped only to be cut (benchmarks/README.md, the
proxy's "twenty-ninth round").
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import trio

from .rows import STORED, shape_row

__all__ = ["Waiting", "held_bytes", "shaped"]

_SLICE = 0.0002  # s of shaping between two checkpoints
_HEADS = 400  # bytes a request's heads hold, roughly (their lists are not measured)
# Capture.record's tuple: where its path and its bodies' samples are.
_PATH, _SENT, _ANSWER = 10, 14, 16


class Waiting:
    """One preview's requests waiting for the writer, oldest first, each with the number
    it was recorded as (the batch's order across previews), and the bytes they hold."""

    __slots__ = ("items", "size")

    def __init__(self) -> None:
        self.items: deque[tuple[int, tuple]] = deque()
        self.size = 0


def held_bytes(item: tuple) -> int:
    """What a recorded request holds until it is shaped: its path, its bodies' samples
    and, roughly, its heads (the bound of what may wait, ``capture._MAX_PENDING_BYTES``)."""
    return len(item[_PATH]) + _sample_bytes(item[_SENT]) + _sample_bytes(item[_ANSWER]) + _HEADS


def _sample_bytes(sample: Any) -> int:
    if sample is None:
        return 0
    if type(sample) is bytes:
        return len(sample)
    return sum(map(len, sample.chunks))


async def shaped(
    batch: dict[str, Waiting], most: int, most_bytes: int, failed: Callable[[], None]
) -> list[tuple]:
    """The rows of ``batch`` to store, in the order they were recorded: of each preview
    its newest within ``most`` requests and ``most_bytes`` stored bytes and one more (the
    rows before those, the batch's cut would remove unseen: ``rows.write_batch``, which
    then leaves the table as the whole batch would). ``failed``: called for a request
    that could not be shaped (it is not kept)."""
    previews: list[list[tuple[int, tuple]]] = []
    clock = time.perf_counter
    due = clock() + _SLICE
    for waiting in batch.values():
        rows: list[tuple[int, tuple]] = []
        count = size = 0
        for number, item in reversed(waiting.items):
            try:
                row = shape_row(item)
            except Exception:  # a bug of ours must not fail the batch: the request is lost
                failed()
                continue
            rows.append((number, row))
            count += 1
            size += row[STORED]
            if clock() >= due:
                await trio.lowlevel.checkpoint()
                due = clock() + _SLICE
            if count > most or size > most_bytes:
                break
        rows.reverse()
        previews.append(rows)
    if len(previews) == 1:
        return [row for _, row in previews[0]]
    return [row for _, row in heapq.merge(*previews)]
