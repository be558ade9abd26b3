"""The ``proxied_requests`` table written: a batch inserted and each preview bounded.

Functions here run in the store's worker threads (``Store.run_sync``) on its engine, like
``store.revisions``'; each is one transaction. Each row of the writer's batch was shaped
by :func:`shape_row` on the event loop before (``waiting.shaped``, the writer's task, in
slices): masked, its heads as JSON, a tuple in ``ROW_FIELDS`` order, so that the worker
thread holding the GIL only inserts. Shaping a batch of hundreds there held the GIL for
milliseconds, and every proxied call meanwhile waited for it after each of its system
calls; shaped by the writer's task in one go, a batch was a burst of turns each call
waited behind (benchmarks/HISTORY.md, the proxy's "sixth" and "seventh round").
"""

from __future__ import annotations

import functools
import itertools
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from ..services import CallRecord
from ..store.logrows import Pace, insert_rows_sqlite
from ..store.models import PreviewInstance, ProxiedRequest
from .masking import mask_answer, mask_body, mask_headers, masked_path

__all__ = ["ROW_FIELDS", "STORED", "shape_row", "write_batch"]

# The columns of a shaped row (shape_row), in its order: every column but the id.
ROW_FIELDS = (
    "preview_id",
    "generation_id",
    "request_id",
    "event_id",
    "way",
    "replay_of",
    "started_at",
    "elapsed_ms",
    "total_ms",
    "method",
    "path",
    "status",
    "error",
    "request_headers",
    "request_body",
    "request_size",
    "response_headers",
    "response_body",
    "response_size",
    "stored_bytes",
)
_PREVIEW, STORED = ROW_FIELDS.index("preview_id"), ROW_FIELDS.index("stored_bytes")
_SQLITE_INSERT = "INSERT INTO proxied_requests ({}) VALUES ".format(", ".join(ROW_FIELDS))
_ROW_OVERHEAD = 200  # bytes a row costs beyond its heads, path and bodies (roughly)
_EPOCH = datetime(1970, 1, 1)


def _body(sample: Any) -> tuple[bytes | None, int]:
    """(kept bytes, whole size) of a ``BodySample``, raw bytes or nothing."""
    if sample is None:
        return None, 0
    if isinstance(sample, bytes):
        return sample, len(sample)
    return sample.kept(), sample.size


def _unchunked(framed: bytes) -> bytes:
    """A chunked body's data (the hot path samples bodies as relayed, framing and all:
    ``BodySample.framed``); a sample cut short gives the data up to its cut."""
    data, at = [], 0
    while True:
        line_end = framed.find(b"\r\n", at)
        if line_end < 0:
            break
        try:
            size = int(framed[at:line_end].split(b";", 1)[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        start = line_end + 2
        data.append(framed[start : start + size])
        at = start + size + 2
        if at > len(framed):
            break
    return b"".join(data)


def _body_of(sample: Any) -> tuple[bytes | None, int]:
    body, size = _body(sample)
    if body is not None and getattr(sample, "framed", False):
        whole = len(body) == size  # all of it sampled: its data's size is known
        body = _unchunked(body)
        size = len(body) if whole else size
    return body, size


def _headers_json(heads: Any) -> str:
    """The heads masked, as stored (JSON); the same heads come again and again (a
    client's on each of its calls, an app's answers within a second), so remembered."""
    try:
        return _masked_heads(tuple(heads or ()))
    except TypeError:  # a head as a list: not hashable, not remembered
        return json.dumps(mask_headers(heads or ()))


@functools.lru_cache(maxsize=256)
def _masked_heads(heads: tuple) -> str:
    return json.dumps(mask_headers(heads))


@functools.lru_cache(maxsize=4)
def _second_text(second: int) -> str:
    return (_EPOCH + timedelta(seconds=second)).isoformat(sep=" ")


def _stored_time(started: float) -> str:
    """``started`` (s since the epoch) as stored, ``2026-11-24 12:00:00.123456``: the
    requests of one second share its text (a ``datetime`` formatted for each was a third
    of shaping a row)."""
    second = int(started)
    micro = round((started - second) * 1_000_000)
    if micro == 1_000_000:
        second, micro = second + 1, 0
    return f"{_second_text(second)}.{micro:06d}"


def shape_row(item: CallRecord) -> tuple:
    """The row of a kept call, masked and shaped as stored, in
    ``ROW_FIELDS`` order; its timestamp in the text form SQLAlchemy's SQLite ``DateTime``
    reads (for the plain inserts of :func:`write_batch`; PostgreSQL's are given a
    ``datetime`` there)."""
    (
        preview_id,
        generation_id,
        request_id,
        event_id,
        way,
        replay_of,
        started,
        elapsed_ms,
        total_ms,
        method,
        path,
        status,
        error,
        request_heads,
        request_sample,
        response_heads,
        response_sample,
    ) = item
    request_body, request_size = _body_of(request_sample)
    response_body, response_size = _body_of(response_sample)
    if request_body:  # credentials in a JSON or form body (masking.mask_body)
        request_body, request_size = mask_body(request_body, request_size, request_heads or ())
    if response_body:  # a page's asset: its size alone (masking._ASSET: why)
        response_body, response_size = mask_answer(
            response_body, response_size, response_heads or ()
        )
    shown_path = masked_path(path)
    request_headers = _headers_json(request_heads)
    response_headers = _headers_json(response_heads)
    stored = (
        len(shown_path)
        + len(request_headers)
        + len(response_headers)
        + len(request_body or b"")
        + len(response_body or b"")
        + _ROW_OVERHEAD
    )
    return (
        preview_id,
        generation_id,
        request_id,
        event_id,
        way,
        replay_of,
        _stored_time(started),
        round(elapsed_ms, 3),
        round(max(total_ms, elapsed_ms), 3),
        method,
        shown_path,
        status,
        error[:200] if error else None,
        request_headers,
        request_body,
        request_size,
        response_headers,
        response_body,
        response_size,
        stored,
    )


def write_batch(
    engine: Engine,
    rows: list[tuple],
    max_count: int,
    max_bytes: int,
    totals: dict[str, list[int]],
    pace: Pace | None = None,
) -> bool:
    """Insert ``rows`` (:func:`shape_row`'s) and keep each of their
    previews within ``max_count`` requests and ``max_bytes``: past either, its oldest
    are removed down to nine tenths of both (so that a preview at its bound is cut once
    every tenth of it, not at every batch). ``totals`` (the writer's, ``{preview:
    [count, bytes]}``) spares counting each time; requests of a preview removed
    meanwhile (its generation deleted) are let go. Whether a preview's rows of the batch
    were past a bound alone (only its newest inserted: a larger batch costs no more).
    On SQLite, ``pace`` comes between its statements, the deletes' included."""
    try:
        return _write(engine, rows, max_count, max_bytes, totals, pace)
    except BaseException:
        totals.clear()  # counted again from the table, once it takes a batch
        raise


def _write(
    engine: Engine,
    rows: list[tuple],
    max_count: int,
    max_bytes: int,
    totals: dict[str, list[int]],
    pace: Pace | None,
) -> bool:
    with engine.begin() as connection:
        unknown = {row[_PREVIEW] for row in rows} - totals.keys()
        if unknown:
            _learn(connection, unknown, totals)
            rows = [row for row in rows if row[_PREVIEW] in totals]
        down_to, bytes_to = max_count - max(max_count // 10, 1), max_bytes * 9 // 10
        bounds, cut_to = (max_count, max_bytes), (down_to, bytes_to)
        left = _past_bounds(connection, rows, bounds, cut_to, totals, pace)
        capped, rows = len(left) < len(rows), left  # fewer only where a preview is past one
        if not rows:  # none left, or a preview's only rows, each past its bounds alone
            return capped
        if connection.dialect.name == "sqlite":
            # Plain tuples to sqlite3 (the timestamp as text: shape_row): SQLAlchemy's
            # per-row parameter processing would cost as much as the insert (as for the
            # log's rows, ``store.logrows``).
            flat = list(itertools.chain.from_iterable(rows))
            most = max(1, _STATEMENT_BYTES // max(row[STORED] for row in rows))
            insert_rows_sqlite(connection, _SQLITE_INSERT, len(ROW_FIELDS), flat, pace, most)
        else:
            parse = datetime.fromisoformat
            mapped: list[dict[str, Any]] = [dict(zip(ROW_FIELDS, row, strict=True)) for row in rows]
            for values in mapped:
                values["started_at"] = parse(values["started_at"])
            connection.execute(insert(ProxiedRequest), mapped)
        for row in rows:
            kept = totals[row[_PREVIEW]]
            kept[0] += 1
            kept[1] += row[STORED]
        for preview_id in {row[_PREVIEW] for row in rows}:
            count, size = totals[preview_id]
            if count > max_count or size > max_bytes:
                _cut(connection, preview_id, down_to, bytes_to, totals, pace)
    return capped


def _past_bounds(
    connection: Any,
    rows: list[tuple],
    bounds: tuple[int, int],
    cut_to: tuple[int, int],
    totals: dict[str, list[int]],
    pace: Pace | None,
) -> list[tuple]:
    """``rows`` without those the cut after their insert would remove at once.

    A preview with more requests in the batch than it may keep (above a thousand calls
    a second, one batch a second) would have them all inserted, into the table and its
    two indexes, and most removed again by the cut, in this same transaction: nobody
    could see them. Its older rows all go instead (the cut falls inside the batch: it
    alone is past a bound) and only what the cut would leave is inserted, its newest
    requests down to ``cut_to`` (count, bytes), as :func:`_cut` leaves them."""
    (max_count, max_bytes), (down_to, bytes_to) = bounds, cut_to
    counts: dict[str, list[int]] = {}
    for row in rows:
        seen = counts.setdefault(row[_PREVIEW], [0, 0])
        seen[0] += 1
        seen[1] += row[STORED]
    over = {
        preview_id
        for preview_id, (count, size) in counts.items()
        if count > max_count or size > max_bytes
    }
    if not over:
        return rows
    kept: list[tuple] = []
    left = {preview_id: [0, 0] for preview_id in over}
    full: set[str] = set()
    for row in reversed(rows):  # newest first, as the cut counts
        preview_id = row[_PREVIEW]
        if preview_id not in over:
            kept.append(row)
            continue
        if preview_id in full:
            continue
        total = left[preview_id]
        if total[0] + 1 > down_to or total[1] + row[STORED] > bytes_to:
            full.add(preview_id)  # the cut's first row past a bound: it and older go
            continue
        total[0] += 1
        total[1] += row[STORED]
        kept.append(row)
    for preview_id in over:
        _delete(connection, preview_id, None, pace, totals)
        totals[preview_id] = [0, 0]  # what is left of it: the batch's rows, counted below
    kept.reverse()
    return kept


def _learn(connection: Any, previews: set[str], totals: dict[str, list[int]]) -> None:
    """``totals`` of ``previews`` from the table (those no longer there: none)."""
    live = set(
        connection.scalars(select(PreviewInstance.id).where(PreviewInstance.id.in_(previews)))
    )
    for preview_id in previews:
        totals.pop(preview_id, None)
    counted = (
        select(
            ProxiedRequest.preview_id,
            func.count(),
            func.coalesce(func.sum(ProxiedRequest.stored_bytes), 0),
        )
        .where(ProxiedRequest.preview_id.in_(live))
        .group_by(ProxiedRequest.preview_id)
    )
    for preview_id in live:
        totals[preview_id] = [0, 0]
    for preview_id, count, size in connection.execute(counted):
        totals[preview_id] = [count, size]


def _cut(
    connection: Any,
    preview_id: str,
    max_count: int,
    max_bytes: int,
    totals: dict[str, list[int]],
    pace: Pace | None,
) -> None:
    """Remove the preview's oldest requests beyond its newest ``max_count`` within
    ``max_bytes``; ``totals`` says what is left. The cut is found by the database (a
    running count and sum over its index, newest first), not row by row here: at a
    preview's bound that walk ran every tenth of it, a tenth of the writer's CPU. Where
    its bytes cannot bind (all of them within ``max_bytes``), the index is skipped
    through to the cut instead: the running sum over every row cost six times that."""
    parameters = {"preview": preview_id, "count": max_count}
    if totals[preview_id][1] <= max_bytes:
        cut = connection.execute(_NEWEST_PAST, parameters).scalar()
        if cut is not None:
            kept = connection.execute(_BYTES_AFTER, {"preview": preview_id, "cut": cut}).scalar()
            _delete(connection, preview_id, cut, pace, totals)
            totals[preview_id] = [max_count, kept]
            return
    found = connection.execute(_FIRST_PAST, {**parameters, "bytes": max_bytes}).first()
    if found is None:
        count, size = connection.execute(_TOTALS, {"preview": preview_id}).one()
        totals[preview_id] = [count, size]
        return
    cut, place, through, stored = found
    _delete(connection, preview_id, cut, pace, totals)
    totals[preview_id] = [place - 1, through - stored]


# _cut's statements, as text: built once (a Core statement built at each cut cost more
# to key for SQLAlchemy's cache than the database took to run it).
_FIRST_PAST = text(
    "SELECT id, n, s, stored_bytes FROM ("
    "SELECT id, stored_bytes, ROW_NUMBER() OVER (ORDER BY id DESC) AS n,"
    " SUM(stored_bytes) OVER (ORDER BY id DESC ROWS UNBOUNDED PRECEDING) AS s"
    " FROM proxied_requests WHERE preview_id = :preview"
    ") AS running WHERE n > :count OR s > :bytes ORDER BY id DESC LIMIT 1"
)
_NEWEST_PAST = text(
    "SELECT id FROM proxied_requests WHERE preview_id = :preview"
    " ORDER BY id DESC LIMIT 1 OFFSET :count"
)
_BYTES_AFTER = text(
    "SELECT coalesce(sum(stored_bytes), 0) FROM proxied_requests"
    " WHERE preview_id = :preview AND id > :cut"
)
_TOTALS = text(
    "SELECT count(*), coalesce(sum(stored_bytes), 0) FROM proxied_requests"
    " WHERE preview_id = :preview"
)
_DELETE = text("DELETE FROM proxied_requests WHERE preview_id = :preview AND id <= :cut")
_DELETE_SOME = text(
    "DELETE FROM proxied_requests WHERE id IN (SELECT id FROM proxied_requests"
    " WHERE preview_id = :preview AND id <= :cut ORDER BY id LIMIT :rows)"
)
_ALL = 1 << 62  # a cut past every id
# Rows a paced delete removes between its rests: about a tenth of a millisecond here
# (a bound's worth at once, 900 rows, was a burst of 0.75 ms).
_DELETED_AT_ONCE = 128
# A statement's rows (inserted or deleted) hold about this many bytes at most: a
# statement is not paced within, and 128 rows of 64 KiB samples were tens of ms of it.
_STATEMENT_BYTES = 256 * 1024


def _delete(
    connection: Any,
    preview_id: str,
    cut: int | None,
    pace: Pace | None,
    totals: dict[str, list[int]],
) -> None:
    """Remove the preview's requests up to ``cut`` (None: all of them); on SQLite with
    ``pace``, in statements of :func:`_deleted_at_once` rows with ``pace`` between them."""
    parameters = {"preview": preview_id, "cut": _ALL if cut is None else cut}
    if pace is None or connection.dialect.name != "sqlite":
        connection.execute(_DELETE, parameters)
        return
    parameters["rows"] = at_once = _deleted_at_once(totals.get(preview_id))
    while connection.execute(_DELETE_SOME, parameters).rowcount >= at_once:
        pace()


def _deleted_at_once(kept: list[int] | None) -> int:
    """Rows a paced delete removes at once: ``_DELETED_AT_ONCE``, fewer where the
    preview's rows are large (``kept``: its count and bytes, ``totals``')."""
    if not kept or kept[0] <= 0:
        return _DELETED_AT_ONCE
    return max(1, min(_DELETED_AT_ONCE, _STATEMENT_BYTES * kept[0] // max(kept[1], 1)))
