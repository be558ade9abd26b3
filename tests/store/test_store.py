"""Tests for preview.store.Store against a real database.

SQLite always (a file in ``tmp_path``); PostgreSQL too when ``PREVIEW_TEST_POSTGRES_URL``
is set. Each PostgreSQL test runs in a schema of its own (``search_path`` set through
the connection's ``options``), created before and dropped after, so tests never see
each other's rows and never touch tables in ``public``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import trio
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

import preview
from preview.logs import Event
from preview.store import DatabaseUnavailable, Generation, LogFilter, PreviewInstance, Store
from preview.store.schema import head_revision

MIGRATIONS = Path(preview.__file__).resolve().parent / "migrations"

PG_ENV = "PREVIEW_TEST_POSTGRES_URL"
T0 = datetime(2026, 11, 21, 12, 0, 0, 123456)
APP_TABLES = {"generations", "generation_files", "preview_instances", "log_events"}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/t.db"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    with trio.fail_after(30):
        opened = await Store.open(db_url)
    try:
        yield opened
    finally:
        await opened.aclose()


# --------------------------------------------------------------------------- helpers


def generation(gid: str, user: str = "u1", created_at: datetime = T0, **kw: Any) -> Generation:
    values: dict[str, Any] = {
        "id": gid,
        "user_id": user,
        "project_id": "proj",
        "created_at": created_at,
        "file_count": 0,
        "total_bytes": 0,
    }
    values.update(kw)
    return Generation(**values)


def preview(
    pid: str, gid: str, status: str = "starting", created_at: datetime = T0, **kw: Any
) -> PreviewInstance:
    values: dict[str, Any] = {
        "id": pid,
        "generation_id": gid,
        "project_id": "proj",
        "user_id": "u1",
        "status": status,
        "created_at": created_at,
        "expires_at": created_at + timedelta(hours=1),
        "preview_token_hash": "0" * 64,
        "token_expires_at": created_at + timedelta(hours=1),
    }
    values.update(kw)
    return PreviewInstance(**values)


def log_row(pid: str, seq: int, message: str | None = None, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "preview_id": pid,
        "seq": seq,
        "timestamp": T0 + timedelta(milliseconds=seq),
        "level": "INFO",
        "message": f"line {seq}" if message is None else message,
        "source": "app",
        "stream": "stdout",
        "status": None,
    }
    row.update(kw)
    return row


async def setup_preview(store: Store, pid: str = "p1", gid: str = "g1") -> None:
    """A generation and a preview, so log rows satisfy their foreign keys (ended: a
    test may make several of one generation, which may have one live preview only)."""
    if await store.get_generation(gid) is None:
        await store.add_generation(generation(gid), {})
    await store.add_preview(preview(pid, gid, status="stopped"))


async def in_thread(store: Store, fn: Any) -> Any:
    """Run ``fn(connection)`` on a connection of the store's engine, off the event loop."""

    def unit() -> Any:
        with store.engine.connect() as connection:
            return fn(connection)

    return await trio.to_thread.run_sync(unit)


# --------------------------------------------------------------------------- schema


async def test_migrate_creates_tables_and_is_idempotent(db_url: str) -> None:
    with trio.fail_after(60):
        first = await Store.open(db_url)
        try:
            tables = await in_thread(first, lambda c: set(sa.inspect(c).get_table_names()))
            assert APP_TABLES | {"alembic_version"} <= tables
            await first.add_generation(generation("g1"), {"a.txt": b"x"})
        finally:
            await first.aclose()

        # A second open on the same database migrates again: a no-op that keeps the data.
        second = await Store.open(db_url)
        try:
            await second.migrate()
            versions = await in_thread(
                second,
                lambda c: c.execute(sa.text("SELECT version_num FROM alembic_version")).all(),
            )
            assert [v for (v,) in versions] == [_head_revision()]
            again = await second.get_generation("g1")
            assert again is not None and again.user_id == "u1"
            assert await second.generation_files("g1") == {"a.txt": b"x"}
        finally:
            await second.aclose()


async def test_the_migrated_schema_is_the_models(db_url: str) -> None:
    # The tables are declared twice: by the migrations and by store.models (Core tables
    # the store's statements and records are made of). Alembic's autogenerate comparison
    # finds what differs: a column, its type or nullability, an index, a key.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from preview.store.models import metadata

    with trio.fail_after(60):
        store = await Store.open(db_url)
        try:
            differences = await in_thread(
                store, lambda c: compare_metadata(MigrationContext.configure(c), metadata)
            )
        finally:
            await store.aclose()
    assert differences == []


def test_a_record_is_its_rows_values_with_its_tables_defaults() -> None:
    made = preview("p1", "g1")
    assert made.health_status == "unknown" and made.port is None  # default, else None
    assert PreviewInstance.status.name == "status"  # the class's attribute: the column
    with pytest.raises(TypeError, match="no column colour"):
        PreviewInstance(id="p2", colour="red")
    # A row of select(PreviewInstance) gives the record back, value for value.
    engine = sa.create_engine("sqlite://")
    with engine.begin() as connection:
        PreviewInstance.__table__.create(connection)
        connection.execute(sa.insert(PreviewInstance), made.values())
        [row] = connection.execute(sa.select(PreviewInstance)).all()
    engine.dispose()
    assert PreviewInstance.from_row(row).__dict__ == made.__dict__
    assert repr(made) == "PreviewInstance(id='p1')"


async def test_migrated_apart_the_schema_is_the_same_and_a_failure_is_one_line(
    db_url: str,
) -> None:
    """``preview serve``'s way (``migrate_apart``): Alembic in a child process, the URL on
    its stdin; what it leaves is what the in-process upgrade leaves, and its failure is
    ``DatabaseUnavailable`` with the child's reason."""
    with trio.fail_after(120):
        store = await Store.open(db_url, migrate_apart=True)
        try:
            tables = await in_thread(store, lambda c: set(sa.inspect(c).get_table_names()))
            assert APP_TABLES | {"alembic_version", "proxied_requests"} <= tables
            await store.add_generation(generation("g1"), {"a.txt": b"x"})
            assert await store.generation_files("g1") == {"a.txt": b"x"}

            def unknown_revision(connection: Any) -> None:
                connection.execute(sa.text("UPDATE alembic_version SET version_num = 'nope'"))
                connection.commit()

            await in_thread(store, unknown_revision)
        finally:
            await store.aclose()
        with pytest.raises(DatabaseUnavailable) as failed:
            await Store.open(db_url, migrate_apart=True)
        reason = str(failed.value)
        assert "nope" in reason and "\n" not in reason and "Traceback" not in reason
        assert (make_url(db_url).password or "\0") not in reason


async def test_sqlite_pragmas_wal_and_foreign_keys(tmp_path: Any) -> None:
    with trio.fail_after(30):
        store = await Store.open(f"sqlite:///{tmp_path}/sub/dir/t.db")
        try:
            journal, fks = await in_thread(
                store,
                lambda c: (
                    c.exec_driver_sql("PRAGMA journal_mode").scalar(),
                    c.exec_driver_sql("PRAGMA foreign_keys").scalar(),
                ),
            )
            assert journal == "wal"
            assert fks == 1
            assert (tmp_path / "sub" / "dir" / "t.db").is_file()
        finally:
            await store.aclose()


async def test_sqlite_batches_bind_a_bounded_number_of_values_a_statement(tmp_path: Any) -> None:
    """Binding a statement's values holds the GIL, in C, out of the switch interval's
    reach: a batch goes in statements of at most 512 values, every row stored."""
    with trio.fail_after(30):
        store = await Store.open(f"sqlite:///{tmp_path}/t.db", threads=1)
        statements: list[str] = []

        def traced(connection: Any) -> None:
            connection.connection.driver_connection.set_trace_callback(statements.append)

        try:
            await setup_preview(store, "p1")
            await in_thread(store, traced)  # the store's one connection
            await store.add_log_events([log_row("p1", s) for s in range(1, 1001)])
            inserts = [s for s in statements if s.startswith("INSERT INTO log_events")]
            # (the trace shows each statement with its values: a row is "('p1', ")
            rows = [statement.count("('p1', ") for statement in inserts]
            assert sum(rows) == 1000 and max(rows) * 9 <= 512 and max(rows) >= 32
            assert await store.count_log_events("p1") == 1000
        finally:
            await store.aclose()


# --------------------------------------------------------------------------- generations


async def test_generation_round_trip_with_binary_files(store: Store) -> None:
    files = {
        "requirements.txt": b"fastapi\nuvicorn\n",
        "app/main.py": "print('h\u00e9llo \U0001f389')\n".encode(),
        "zeta/empty.txt": b"",
        "bin/blob.bin": bytes(range(256)) * 16 + b"\x00\x00\xff",
        "static/x.css": b"body{}\r\n",
    }
    total = sum(len(c) for c in files.values())
    with trio.fail_after(30):
        await store.add_generation(
            generation("g1", file_count=len(files), total_bytes=total), files
        )
        got = await store.get_generation("g1")
        assert got is not None
        assert (got.user_id, got.project_id, got.file_count, got.total_bytes) == (
            "u1",
            "proj",
            len(files),
            total,
        )
        assert got.created_at == T0
        assert await store.generation_files("g1") == files
        listing = await store.generation_file_list("g1")
        assert listing == sorted((p, len(c)) for p, c in files.items())
        assert listing[0] == ("app/main.py", len(files["app/main.py"]))
        assert await store.get_generation("missing") is None
        assert await store.generation_files("missing") == {}


async def test_empty_generation_and_empty_log_batch_are_no_ops(store: Store) -> None:
    # executemany with an empty list would otherwise run one INSERT of NULLs.
    with trio.fail_after(30):
        await store.add_generation(generation("g1"), {})
        assert await store.get_generation("g1") is not None
        assert await store.generation_files("g1") == {}
        assert await store.generation_file_list("g1") == []
        await store.add_preview(preview("p1", "g1"))
        await store.add_log_events([])
        assert await store.count_log_events("p1") == 0


async def test_duplicate_generation_id_is_rejected(store: Store) -> None:
    with trio.fail_after(30):
        await store.add_generation(generation("g1"), {"a": b"1"})
        with pytest.raises(IntegrityError):
            await store.add_generation(generation("g1", user="other"), {"b": b"2"})
        # The failed transaction left nothing behind.
        assert await store.generation_files("g1") == {"a": b"1"}
        got = await store.get_generation("g1")
        assert got is not None and got.user_id == "u1"


async def test_list_generations_only_the_users_newest_first(store: Store) -> None:
    with trio.fail_after(30):
        for gid, offset in [("a2", 2), ("a0", 0), ("a3", 3), ("a1", 1)]:
            await store.add_generation(
                generation(gid, user="alice", created_at=T0 + timedelta(minutes=offset)), {}
            )
        await store.add_generation(generation("b0", user="bob", created_at=T0), {})
        assert [g.id for g in await store.list_generations("alice")] == ["a3", "a2", "a1", "a0"]
        assert [g.id for g in await store.list_generations("bob")] == ["b0"]
        assert await store.list_generations("nobody") == []


# --------------------------------------------------------------------------- previews


async def test_preview_add_update_get_latest(store: Store) -> None:
    with trio.fail_after(30):
        await store.add_generation(generation("g1"), {})
        await store.add_generation(generation("g2"), {})
        assert await store.latest_preview("g1") is None
        await store.add_preview(preview("p1", "g1", created_at=T0))
        got = await store.get_preview("p1")
        assert got is not None
        assert (got.status, got.health_status, got.port, got.exit_code) == (
            "starting",
            "unknown",
            None,
            None,
        )
        assert got.expires_at == T0 + timedelta(hours=1)

        started = T0 + timedelta(seconds=2)
        await store.update_preview(
            "p1",
            status="running",
            port=3001,
            base_url="http://127.0.0.1:3001",
            process_id=4242,
            process_started_at=1234.5,
            started_at=started,
        )
        got = await store.get_preview("p1")
        assert got is not None
        assert (got.status, got.port, got.base_url, got.process_id) == (
            "running",
            3001,
            "http://127.0.0.1:3001",
            4242,
        )
        assert got.process_started_at == 1234.5
        assert got.started_at == started

        await store.update_preview("p1", status="failed", exit_code=1, error_message="boom")
        got = await store.get_preview("p1")
        assert got is not None
        assert (got.status, got.exit_code, got.error_message) == ("failed", 1, "boom")

        # Ended ones: a generation has at most one live preview (the unique index).
        ended = {"status": "stopped"}
        await store.add_preview(preview("p2", "g1", created_at=T0 + timedelta(minutes=5), **ended))
        await store.add_preview(preview("p0", "g1", created_at=T0 - timedelta(minutes=5), **ended))
        await store.add_preview(preview("q9", "g2", created_at=T0 + timedelta(hours=9)))
        latest = await store.latest_preview("g1")
        assert latest is not None and latest.id == "p2"
        # Same created_at: the higher id wins, deterministically.
        await store.add_preview(preview("p3", "g1", created_at=T0 + timedelta(minutes=5), **ended))
        latest = await store.latest_preview("g1")
        assert latest is not None and latest.id == "p3"
        assert await store.get_preview("nope") is None


async def test_unfinished_previews_are_starting_running_stopping(store: Store) -> None:
    statuses = ["starting", "running", "stopping", "stopped", "failed"]
    with trio.fail_after(30):
        assert await store.unfinished_previews() == []
        for status in statuses:  # a generation each: one live preview per generation
            await store.add_generation(generation(f"g-{status}"), {})
            await store.add_preview(preview(f"p-{status}", f"g-{status}", status=status))
        unfinished = await store.unfinished_previews()
        assert sorted(p.id for p in unfinished) == ["p-running", "p-starting", "p-stopping"]
        await store.update_preview("p-running", status="stopped")
        unfinished = await store.unfinished_previews()
        assert sorted(p.id for p in unfinished) == ["p-starting", "p-stopping"]


# --------------------------------------------------------------------------- log events


LEVELS = ["INFO", "WARNING", "ERROR", "DEBUG"]


def _level(seq: int) -> str:
    return LEVELS[seq % 4]


def _source(seq: int) -> str:
    return "system" if seq % 10 == 0 else "app"


async def test_log_events_bulk_insert_paging_and_filters(store: Store) -> None:
    n = 10_000
    rows = [
        log_row(
            "p1",
            seq,
            level=_level(seq),
            source=_source(seq),
            stream=None if _source(seq) == "system" else ("stderr" if seq % 3 else "stdout"),
        )
        for seq in range(1, n + 1)
    ]
    with trio.fail_after(60):
        await setup_preview(store, "p1")
        await setup_preview(store, "p2")
        await store.add_log_events(rows)
        await store.add_log_events([log_row("p2", s, level="ERROR") for s in range(1, 6)])
        assert await store.count_log_events("p1") == n
        assert await store.count_log_events("p2") == 5
        assert await store.count_log_events("nope") == 0
        # The newest id: where a finished stream ends (204 at or past it).
        assert await store.last_log_seq("p1") == n
        assert await store.last_log_seq("p2") == 5
        assert await store.last_log_seq("nope") == 0

        # Default limit is 1000, in seq order.
        first = await store.log_events("p1")
        assert [e.seq for e in first] == list(range(1, 1001))
        e = first[41]
        assert (e.seq, e.message, e.level, e.source, e.stream, e.status) == (
            42,
            "line 42",
            _level(42),
            _source(42),
            "stdout",
            None,
        )
        assert e.timestamp == T0 + timedelta(milliseconds=42)

        # Paging with after/limit visits every row exactly once.
        seen: list[int] = []
        pages = 0
        after = 0
        while page := await store.log_events("p1", after=after, limit=2500):
            pages += 1
            seen += [ev.seq for ev in page]
            after = page[-1].seq
        assert pages == 4
        assert seen == list(range(1, n + 1))

        everything = await store.log_events("p1", limit=None)
        assert len(everything) == n
        assert [ev.seq for ev in await store.log_events("p1", after=9990, limit=None)] == list(
            range(9991, n + 1)
        )
        assert [ev.seq for ev in await store.log_events("p1", before=11)] == list(range(1, 11))
        assert [ev.seq for ev in await store.log_events("p1", after=5, before=11)] == list(
            range(6, 11)
        )
        assert await store.log_events("p1", after=n) == []

        errors = await store.log_events("p1", limit=None, where=LogFilter(levels=["ERROR"]))
        assert [ev.seq for ev in errors] == [s for s in range(1, n + 1) if _level(s) == "ERROR"]
        two = await store.log_events("p1", limit=None, where=LogFilter(levels={"ERROR", "WARNING"}))
        assert [ev.seq for ev in two] == [
            s for s in range(1, n + 1) if _level(s) in ("ERROR", "WARNING")
        ]
        system = await store.log_events("p1", limit=None, where=LogFilter(sources=["system"]))
        assert [ev.seq for ev in system] == list(range(10, n + 1, 10))
        assert all(ev.stream is None for ev in system)
        combined = await store.log_events(
            "p1",
            after=100,
            before=300,
            limit=None,
            where=LogFilter(levels=["ERROR"], sources=["app"]),
        )
        assert [ev.seq for ev in combined] == [
            s for s in range(101, 300) if _level(s) == "ERROR" and _source(s) == "app"
        ]
        # Filters and limit: the limit applies to the filtered rows.
        assert [
            ev.seq
            for ev in await store.log_events("p1", limit=3, where=LogFilter(levels=["DEBUG"]))
        ] == [
            3,
            7,
            11,
        ]
        # Another preview's rows never leak in.
        assert [
            ev.seq for ev in await store.log_events("p2", where=LogFilter(levels=["ERROR"]))
        ] == [1, 2, 3, 4, 5]


async def test_log_event_values_are_the_rows_as_events_arguments(store: Store) -> None:
    """The catch-up read (tuples, straight from sqlite3 on SQLite) gives what
    ``log_events`` gives, for rows written by either insert path."""
    whole_second = datetime(2026, 11, 21, 12, 0, 1)  # no microseconds
    fast = [
        (
            "p1",
            seq,
            T0 + timedelta(milliseconds=seq // 3),
            _level(seq),
            f"line {seq} é",
            "app",
            "stderr",
            None,
            "worker" if seq % 7 == 0 else None,
        )
        for seq in range(1, 4001)
    ]
    with trio.fail_after(60):
        await setup_preview(store, "p1")
        await setup_preview(store, "p2")
        await store.add_log_values(fast)
        await store.add_log_events(
            [
                log_row("p1", 4001, timestamp=whole_second, source="system", stream=None),
                log_row("p1", 4002, source="system", stream=None, status="running"),
                log_row("p2", 4003),
            ]
        )
        for after, before, limit in ((0, None, 5000), (10, 3990, 2000), (3990, None, 7)):
            values = await store.log_event_values("p1", after=after, before=before, limit=limit)
            rows = await store.log_events("p1", after=after, before=before, limit=limit)
            assert values == [
                (r.seq, r.timestamp, r.level, r.message, r.source, r.stream, r.status, r.process)
                for r in rows
            ]
            assert [Event(*v).sse for v in values] == [Event.from_row(r).sse for r in rows]
        everything = await store.log_event_values("p1", after=0, before=None, limit=5000)
        assert [v[0] for v in everything] == list(range(1, 4003))
        assert everything[0][1] == T0 and everything[-2][1] == whole_second
        assert everything[-1][6] == "running"
        assert await store.log_event_values("p1", after=4002, before=None, limit=10) == []


async def test_log_text_filter_case_insensitive_and_literal(store: Store) -> None:
    messages = [
        "Disk at 100% full",  # 1
        "Disk at 1000 full",  # 2: matches "100%" only if % were a wildcard
        "key a_b set",  # 3
        "key axb set",  # 4: matches "a_b" only if _ were a wildcard
        "HELLO World",  # 5
        "hello world",  # 6
        "back\\slash",  # 7
        "nothing here",  # 8
    ]
    with trio.fail_after(30):
        await setup_preview(store)
        await store.add_log_events([log_row("p1", i, m) for i, m in enumerate(messages, start=1)])

        async def matches(text: str) -> list[int]:
            return [ev.seq for ev in await store.log_events("p1", where=LogFilter(text=text))]

        assert await matches("100%") == [1]
        assert await matches("%") == [1]
        assert await matches("a_b") == [3]
        assert await matches("_") == [3]
        assert await matches("hello") == [5, 6]
        assert await matches("WORLD") == [5, 6]
        assert await matches("hElLo wOrLd") == [5, 6]
        assert await matches("\\") == [7]
        assert await matches("k\\s") == [7]
        assert await matches("disk at 10") == [1, 2]
        assert await matches("no such text") == []
        # text combines with the other filters
        assert [
            ev.seq for ev in await store.log_events("p1", after=1, where=LogFilter(text="disk"))
        ] == [2]


async def test_duplicate_seq_is_rejected_and_batch_is_atomic(store: Store) -> None:
    with trio.fail_after(30):
        await setup_preview(store, "p1")
        await setup_preview(store, "p2")
        await store.add_log_events([log_row("p1", 1)])
        with pytest.raises(IntegrityError):
            await store.add_log_events([log_row("p1", 1, "again")])
        # A batch with one duplicate stores none of its rows.
        with pytest.raises(IntegrityError):
            await store.add_log_events([log_row("p1", s) for s in (2, 3, 1, 4)])
        assert [(ev.seq, ev.message) for ev in await store.log_events("p1")] == [(1, "line 1")]
        # The same seq in another preview is fine.
        await store.add_log_events([log_row("p2", 1)])
        assert await store.count_log_events("p2") == 1


async def test_log_row_for_unknown_preview_violates_foreign_key(store: Store) -> None:
    with trio.fail_after(30):
        with pytest.raises(IntegrityError):
            await store.add_log_events([log_row("no-such-preview", 1)])


async def test_unicode_messages_round_trip_exactly(store: Store) -> None:
    messages = [
        "emoji \U0001f389\U0001f680 and \u2764\ufe0f",
        "line\u2028separator\u2029paragraph",
        "\x1b[31mred\x1b[0m \x1b[1;32mbold green\x1b[0m",
        "tab\there, cr\rinside, bell\x07",
        "mixed \u00fcn\u00efc\u00f6d\u00e9 \u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
        "</script><script>alert(1)</script>",
        "  leading and trailing spaces  ",
        "",
        "x" * 100_000,
    ]
    with trio.fail_after(30):
        await setup_preview(store)
        await store.add_log_events([log_row("p1", i, m) for i, m in enumerate(messages, start=1)])
        got = await store.log_events("p1")
        assert [ev.message for ev in got] == messages
        assert [
            ev.seq for ev in await store.log_events("p1", where=LogFilter(text="\U0001f680"))
        ] == [1]
        assert [
            ev.seq for ev in await store.log_events("p1", where=LogFilter(text="\x1b[31m"))
        ] == [3]


async def test_delete_generation_cascades(store: Store) -> None:
    with trio.fail_after(30):
        await store.add_generation(generation("g1"), {"a.py": b"1", "b.py": b"2"})
        await store.add_generation(generation("g2"), {"c.py": b"3"})
        await store.add_preview(preview("p1", "g1"))
        await store.add_preview(preview("p2", "g2"))
        await store.add_log_events([log_row("p1", s) for s in range(1, 101)])
        await store.add_log_events([log_row("p2", s) for s in range(1, 11)])

        await store.delete_generation("g1")

        assert await store.get_generation("g1") is None
        assert await store.generation_files("g1") == {}
        assert await store.generation_file_list("g1") == []
        assert await store.get_preview("p1") is None
        assert await store.count_log_events("p1") == 0
        # The other generation is untouched.
        assert await store.generation_files("g2") == {"c.py": b"3"}
        assert await store.get_preview("p2") is not None
        assert await store.count_log_events("p2") == 10
        # Deleting something that does not exist is a no-op.
        await store.delete_generation("g1")


# --------------------------------------------------------------------------- concurrency


async def test_large_insert_does_not_block_the_event_loop(store: Store) -> None:
    n = 50_000
    rows = [log_row("p1", s, f"message number {s} " + "x" * 40) for s in range(1, n + 1)]
    ticks = 0

    async def ticker() -> None:
        # Proves the loop keeps running; stops spinning after a while so it does not
        # compete with the insert's thread for the GIL for the whole insert.
        nonlocal ticks
        while ticks < 1000:
            await trio.lowlevel.checkpoint()
            ticks += 1
        await trio.sleep_forever()

    with trio.fail_after(120):
        await setup_preview(store)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ticker)
            await store.add_log_events(rows)
            during = ticks
            nursery.cancel_scope.cancel()
        assert during > 10, f"the event loop ran only {during} times during the insert"
        assert await store.count_log_events("p1") == n


async def test_more_concurrent_calls_than_threads_all_complete(store: Store) -> None:
    # The store has 4 threads and 4 pooled connections; 24 concurrent batches must queue
    # on the limiter rather than time out on the pool or trip over SQLite's writer lock.
    batches = 24
    per_batch = 250
    with trio.fail_after(60):
        await setup_preview(store)
        async with trio.open_nursery() as nursery:
            for b in range(batches):
                rows = [log_row("p1", b * per_batch + i) for i in range(1, per_batch + 1)]
                nursery.start_soon(store.add_log_events, rows)
                nursery.start_soon(store.count_log_events, "p1")
        got = await store.log_events("p1", limit=None)
        assert [ev.seq for ev in got] == list(range(1, batches * per_batch + 1))


def _head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_head_revision_read_from_the_files_is_alembics(tmp_path: Path) -> None:
    assert head_revision() == _head_revision()
    # Two heads (a branch nobody merged) are refused rather than one picked.
    for name, revises in (("a", "None"), ("b", '"a"'), ("c", '"a"')):
        (tmp_path / f"{name}.py").write_text(
            f'revision: str = "{name}"\ndown_revision: str | None = {revises}\n'
        )
    with pytest.raises(RuntimeError, match="2 heads"):
        head_revision(tmp_path)


async def test_an_older_schema_is_upgraded_on_open_keeping_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with trio.fail_after(30):
        engine = sa.create_engine(url)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
            for statement in (
                "INSERT INTO generations (id, user_id, created_at, file_count, total_bytes)"
                " VALUES ('g_old', 'u1', '2026-01-01 00:00:00.000000', 0, 0)",
                "INSERT INTO preview_instances (id, generation_id, user_id, status, created_at,"
                " expires_at, preview_token_hash, token_expires_at, health_status) VALUES"
                " ('p_old', 'g_old', 'u1', 'stopped', '2026-01-01 00:00:00.000000',"
                " '2026-01-01 00:00:00.000000', 'h', '2026-01-01 00:00:00.000000', 'unknown')",
                "INSERT INTO log_events (preview_id, seq, timestamp, level, message, source)"
                " VALUES ('p_old', 1, '2026-01-01 00:00:00.000000', 'INFO', 'kept', 'app')",
            ):
                connection.execute(sa.text(statement))
        engine.dispose()
        store = await Store.open(url)
        try:
            assert (await store.get_generation("g_old")).user_id == "u1"
            assert [e.message for e in await store.log_events("p_old")] == ["kept"]
            now = datetime(2026, 11, 21)
            await store.add_preview(
                PreviewInstance(
                    id="p_new",
                    generation_id="g_old",
                    user_id="u1",
                    status="failed",
                    created_at=now,
                    expires_at=now,
                    preview_token_hash="0" * 64,
                    token_expires_at=now,
                    health_status="unknown",
                    error_lines='["x"]',
                )
            )
            assert (await store.get_preview("p_new")).error_lines == '["x"]'
        finally:
            await store.aclose()


async def test_a_generation_has_at_most_one_live_preview(store: Store) -> None:
    # The partial unique index (migration 0010): whichever node inserts the second live
    # row of a generation, the database refuses it; ended rows are any number.
    with trio.fail_after(30):
        await store.add_generation(generation("g1"), {})
        await store.add_preview(preview("p1", "g1", status="running"))
        for status in ("starting", "running", "stopping"):
            with pytest.raises(IntegrityError):
                await store.add_preview(preview(f"p-{status}", "g1", status=status))
        await store.add_preview(preview("p-old", "g1", status="failed"))
        await store.update_preview("p1", status="stopped")
        await store.add_preview(preview("p2", "g1", status="starting"))


async def test_the_upgrade_to_0010_closes_out_all_but_the_newest_live_row(db_url: str) -> None:
    # Two services on one database (before cluster mode) could each run a copy of a
    # generation: the older copies' rows are closed out, or the index could not be made.
    def upgrade_to(revision: str) -> None:
        engine = sa.create_engine(db_url)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            if revision == "0009":
                connection.execute(sa.insert(Generation), [generation("g1").values()])
                for pid, minutes in (("p_a", 0), ("p_b", 5), ("p_c", 1)):
                    row = preview(pid, "g1", status="running")
                    values = row.values()
                    del values["node_id"], values["owner_epoch"]  # not there yet
                    values["created_at"] = T0 + timedelta(minutes=minutes)
                    connection.execute(sa.insert(PreviewInstance.__table__).values(values))
        engine.dispose()

    with trio.fail_after(60):
        await trio.to_thread.run_sync(upgrade_to, "0009")
        await trio.to_thread.run_sync(upgrade_to, "head")
        store = await Store.open(db_url)
        try:
            live = await store.unfinished_previews()
            assert [row.id for row in live] == ["p_b"]
            closed = await store.get_preview("p_a")
            assert closed.status == "failed" and "another preview" in closed.error_message
        finally:
            await store.aclose()


async def test_services_opening_a_new_postgresql_database_at_once_all_start() -> None:
    """Nodes of a cluster started together on a new database: one upgrades the schema,
    the others wait for it (an advisory lock) and find it current. Before, two ran the
    first migration side by side and one failed: "duplicate key value violates unique
    constraint pg_type_typname_nsp_index"."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    admin = sa.create_engine(base)
    for _ in range(3):  # a race: a few fresh schemas
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        opened: list[Store] = []
        try:
            with trio.fail_after(60):
                async with trio.open_nursery() as nursery:
                    for _ in range(3):
                        nursery.start_soon(
                            _open_into, opened, url.render_as_string(hide_password=False)
                        )
            assert len(opened) == 3
            with admin.connect() as connection:
                version = connection.execute(
                    sa.text(f'SELECT version_num FROM "{schema}".alembic_version')
                ).scalar_one()
            assert version == head_revision()
        finally:
            for store in opened:
                await store.aclose()
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


async def _open_into(opened: list[Store], url: str) -> None:
    opened.append(await Store.open(url))


async def test_a_transaction_left_open_by_a_stalled_process_releases_its_locks(
    db_url: str,
) -> None:
    """A node paused (SIGSTOP) while its transaction held its preview's row: the others'
    reaper waited on that lock for as long as the node stayed paused. PostgreSQL now ends
    a transaction of ours left idle past a few seconds, and the lock with it."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's idle_in_transaction_session_timeout")
    with trio.fail_after(60):
        store = await Store.open(db_url)
        try:
            await store.add_generation(generation("g1"), {})
            stalled = store.engine.connect()
            try:
                transaction = stalled.begin()
                stalled.execute(
                    sa.text("UPDATE generations SET project_id = 'held' WHERE id = 'g1'")
                )
                other = sa.create_engine(db_url, connect_args={"options": ""})
                search_path = stalled.execute(sa.text("SHOW search_path")).scalar_one()

                def update_from_another_node() -> None:
                    with other.begin() as connection:
                        connection.execute(sa.text(f"SET LOCAL search_path = {search_path}"))
                        connection.execute(sa.text("SET LOCAL lock_timeout = '20s'"))
                        connection.execute(
                            sa.text("UPDATE generations SET project_id = 'reaped' WHERE id = 'g1'")
                        )

                await trio.to_thread.run_sync(update_from_another_node)
                other.dispose()
                with pytest.raises(sa.exc.DBAPIError):  # "idle-in-transaction timeout"
                    transaction.commit()  # ended by the server meanwhile
            finally:
                stalled.invalidate()
                stalled.close()
            assert (await store.get_generation("g1")).project_id == "reaped"
        finally:
            await store.aclose()
