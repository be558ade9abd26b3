"""How snapshots read and compare tables: a real ``pg_dump`` read back (escapes, NULLs,
keys of several columns, a table without one), a real SQLite copy, and the diff's
rules (by key; as bags without one; at most 100 rows of each kind listed)."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import psycopg
import pytest
import trio
from psycopg import sql

from preview.snapshots.pgdata import PgDatabase, dump_database, read_dump
from preview.snapshots.rowdiff import SHOWN, TableRows, diff_tables
from preview.snapshots.sqlitedata import backup_into, read_tables, table_counts

_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def scratch_database():
    try:
        admin = psycopg.connect(_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.Error:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    name = "snaptest_" + secrets.token_hex(6)
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


async def test_a_real_dump_reads_back_as_its_rows(scratch_database: str, tmp_path: Path) -> None:
    def fill() -> None:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{scratch_database}") as c:
            c.execute('CREATE SCHEMA "odd schema"')
            c.execute(
                'CREATE TABLE "odd schema"."line ""items""" (order_id int, n int, note text,'
                " PRIMARY KEY (order_id, n))"
            )
            c.execute("CREATE TABLE public.tags (tag text)")
            c.execute(
                'INSERT INTO "odd schema"."line ""items""" VALUES (%s, %s, %s), (%s, %s, %s)',
                (1, 1, "tab\there, newline\nthere, back\\slash", 1, 2, None),
            )
            c.execute("INSERT INTO tags VALUES ('a'), ('a'), ('b')")

    await trio.to_thread.run_sync(fill)
    env = {"PATH": "/usr/bin:/bin", "PGHOST": "127.0.0.1", "PGUSER": "postgres"}
    database = PgDatabase("app", {**env, "PGDATABASE": scratch_database})
    with trio.fail_after(60):
        size = await dump_database(database, tmp_path / "dump.sql", 10**6)
    assert size == (tmp_path / "dump.sql").stat().st_size
    tables = read_dump(tmp_path / "dump.sql")
    items = tables['odd schema.line "items"']
    assert items.columns == ["order_id", "n", "note"]
    assert items.key == ["order_id", "n"]
    assert sorted(items.rows, key=str) == sorted(
        [("1", "1", "tab\there, newline\nthere, back\\slash"), ("1", "2", None)], key=str
    )
    assert tables["tags"].key == [] and sorted(tables["tags"].rows) == [("a",), ("a",), ("b",)]


def test_a_sqlite_copy_keeps_its_rows_and_keys(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    with sqlite3.connect(live) as connection:
        connection.execute("CREATE TABLE t (a TEXT, b INTEGER, PRIMARY KEY (b, a))")
        connection.execute("CREATE TABLE plain (x)")
        connection.executemany("INSERT INTO t VALUES (?, ?)", [("x", 1), ("y", 2)])
        connection.execute("INSERT INTO plain VALUES (?)", (b"\x00\xff",))
    backup_into(live, tmp_path / "copy.db")
    assert table_counts(tmp_path / "copy.db") == {"plain": 1, "t": 2}
    tables = read_tables(tmp_path / "copy.db")
    assert tables["t"].key == ["b", "a"] and tables["plain"].key == []
    assert tables["plain"].rows == [(b"\x00\xff",)]


def test_a_tables_generated_columns_are_never_computed_to_compare_it(tmp_path: Path) -> None:
    """The app writes its database's schema: a virtual column of 2 GB a row, added
    once its rows are in (past SQLite's own limit, so that computing it fails at once
    rather than take the memory a smaller one takes: an 8 KiB database held gigabytes
    of the service's)."""
    live = tmp_path / "live.db"
    with sqlite3.connect(live) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")
        connection.executemany("INSERT INTO t (id, a) VALUES (?, ?)", [(1, "x"), (2, "y")])
        connection.execute(
            "ALTER TABLE t ADD COLUMN huge BLOB GENERATED ALWAYS AS (zeroblob(2000000000))"
        )
    backup_into(live, tmp_path / "copy.db")
    tables = read_tables(tmp_path / "copy.db")
    assert tables["t"].columns == ["id", "a"] and tables["t"].key == ["id"]
    assert sorted(tables["t"].rows) == [(1, "x"), (2, "y")]


def test_the_diff_by_key_as_bags_and_bounded() -> None:
    before = {
        "keyed": TableRows(["id", "v"], ["id"], [(1, "a"), (2, "b"), (3, "c")]),
        "bag": TableRows(["v"], [], [("a",), ("a",), ("b",)]),
        "gone": TableRows(["v"], [], [("z",)]),
        "many": TableRows(["id"], ["id"], []),
    }
    after = {
        "keyed": TableRows(["id", "v"], ["id"], [(1, "a"), (2, "B"), (4, "d")]),
        "bag": TableRows(["v"], [], [("a",), ("b",), ("c",)]),
        "many": TableRows(["id"], ["id"], [(i,) for i in range(250)]),
        "new": TableRows(["v"], [], [(b"\x01",)]),
    }
    found = {t["table"]: t for t in diff_tables(before, after)}
    keyed = found["keyed"]
    assert keyed["added"] == [{"id": 4, "v": "d"}] and keyed["removed"] == [{"id": 3, "v": "c"}]
    assert keyed["changed"] == [
        {"key": {"id": 2}, "before": {"id": 2, "v": "b"}, "after": {"id": 2, "v": "B"}}
    ]
    bag = found["bag"]  # one "a" fewer, one "c" more: no key, so nothing "changed"
    assert (bag["added"], bag["removed"], bag["changedCount"]) == ([{"v": "c"}], [{"v": "a"}], 0)
    assert found["gone"]["state"] == "removed" and found["gone"]["removedCount"] == 1
    assert found["new"]["state"] == "added" and found["new"]["added"] == [{"v": "\\x01"}]
    assert found["many"]["addedCount"] == 250 and len(found["many"]["added"]) == SHOWN
