"""The requests waiting for the history's writer (``capture.RequestHistory``), kept as
they were recorded, and their rows shaped when the writer takes them.

A call keeps its request as ``Capture.record``'s tuple, unshaped (a few µs; one with a
large body is shaped by its call: ``SHAPED_AT_ONCE``); the writer shapes a batch
(``rows.shape_row``: masked, its heads as JSON) on the loop, in slices of ``_SLICE``
with a checkpoint between them (a call under way waits behind one slice at most, not
behind the batch), each preview's newest first and only as many as its bounds keep.
Shaped by each call, a row cost a proxied call 50-70 µs of CPU on a 2-core VM where the
same shaping in a run of rows costs 18 µs: the call's shaping ran with the caches cold
(the app, the load client and the kernel's work between two calls), and the rows of a
preview past its bound were shaped only to be cut (benchmarks/HISTORY.md, the proxy's
"twenty-ninth round").
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import trio

from ..services import CallRecord
from .rows import STORED, shape_row

__all__ = ["SHAPED_AT_ONCE", "Entry", "Waiting", "entry", "shaped"]

_SLICE = 0.0002  # s of shaping between two checkpoints
# A request whose bodies' samples hold this much or more is shaped by its call, as
# before: masking a large body (RE2's scans, a parse where a credential's name is
# found) takes hundreds of µs to milliseconds, one row a slice would hold the loop for
# at once (a large JSON answer's p99 at one connection +3-5 ms, benchmarks/HISTORY.md,
# the proxy's "twenty-ninth round"), and an asset's sample is let go at once (its size
# alone is kept) rather than held until the batch.
SHAPED_AT_ONCE = 4096
_HEADS = 400  # bytes a request's heads hold, roughly (their lists are not measured)
# A waiting request: (its number, its record or None once shaped, its row or None until
# shaped, the bytes it holds).
Entry = tuple[int, CallRecord | None, tuple | None, int]


class Waiting:
    """One preview's requests waiting for the writer, oldest first (``Entry``: each
    with the number it was recorded as, the batch's order across previews), and the
    bytes they hold."""

    __slots__ = ("items", "size")

    def __init__(self) -> None:
        self.items: deque[Entry] = deque()
        self.size = 0


def entry(number: int, item: CallRecord) -> Entry:
    """``item`` as it waits: shaped now if its bodies' samples hold ``SHAPED_AT_ONCE``
    bytes or more, else as recorded. Raises what ``rows.shape_row`` raises."""
    samples = _sample_bytes(item.request_sample) + _sample_bytes(item.response_sample)
    if samples >= SHAPED_AT_ONCE:
        row = shape_row(item)
        return number, None, row, row[STORED]
    return number, item, None, len(item.path) + samples + _HEADS


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
        for number, item, row, _ in reversed(waiting.items):
            if row is None:
                try:
                    row = shape_row(item)  # type: ignore[arg-type]  # unshaped: recorded
                except Exception:  # a bug of ours must not fail the batch: it is lost
                    failed()
                    continue
                if clock() >= due:
                    await trio.lowlevel.checkpoint()
                    due = clock() + _SLICE
            rows.append((number, row))
            count += 1
            size += row[STORED]
            if count > most or size > most_bytes:
                break
        rows.reverse()
        previews.append(rows)
    if len(previews) == 1:
        return [row for _, row in previews[0]]
    return [row for _, row in heapq.merge(*previews)]
