"""A preview's PostgreSQL databases copied out by ``pg_dump`` and put back by ``psql``,
and the dumps read for their tables.

A dump is plain SQL (``--no-owner --no-privileges --quote-all-identifiers``): it can be
put back into any database of any preview, and its ``COPY`` blocks are the tables' rows,
read here for the row counts and the diffs without any server. Putting one back is one
transaction (``--single-transaction``): every schema of the database's own is dropped,
``public`` made again, the dump run, logged in as the preview's role where it has one
(what is made is its: ``PgDatabase``); a lock the app holds past ``LOCK_WAIT`` ends it
with nothing changed.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import trio

from ..errors import Conflict, TooLarge, Unavailable
from .rowdiff import TableRows

__all__ = ["LOCK_WAIT", "PgDatabase", "dump_database", "read_dump", "restore_database"]

LOCK_WAIT = 10  # s
_TIME = 300.0  # a dump or a restore not done by then fails
_CHUNK = 1 << 16
_COPY = re.compile(r'^COPY ((?:"(?:[^"]|"")*"\.)?"(?:[^"]|"")*") \((.*)\) FROM stdin;$')
_NAME = re.compile(r'"((?:[^"]|"")*)"')
_PRIMARY_KEY = re.compile(r'^\s+ADD CONSTRAINT "(?:[^"]|"")*" PRIMARY KEY \((.*)\);$')
_ALTER = re.compile(r'^ALTER TABLE ONLY ((?:"(?:[^"]|"")*"\.)?"(?:[^"]|"")*")$')
_CREATE = re.compile(r'^CREATE (?:UNLOGGED )?TABLE ((?:"(?:[^"]|"")*"\.)?"(?:[^"]|"")*") \($')
# A column of a CREATE TABLE whose type has a JSON value of its own (not an array).
_TYPED_COLUMN = re.compile(
    r'^\s+"((?:[^"]|"")*)" (smallint|integer|bigint|boolean|real|double precision|numeric)'
    r"(?:\(\d+(?:,\s*-?\d+)?\))?(?![\w\[])"
)
_SAFE_INTEGER = 2**53 - 1  # past it, a JavaScript number is not the same integer
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_DROP_OWN_SCHEMAS = """
DO $$ DECLARE s record; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
             AND pg_has_role(nspowner, 'USAGE')
  LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s.nspname); END LOOP;
END $$;
CREATE SCHEMA IF NOT EXISTS public;
"""


@dataclass(frozen=True)
class PgDatabase:
    """One database of a preview, as the service reaches it: ``key`` the name the app
    knows it by; ``env`` libpq's variables (host, port, user, password, database);
    ``role`` and ``password``: who it is restored as, logged in as that role (None: the
    connecting user, the server's own). Never the server's superuser with ``SET ROLE``:
    the restore runs the app's own code (a function its CHECK constraints, domains or
    generated columns call), whose ``RESET ROLE`` made it the superuser again."""

    key: str
    env: dict[str, str]
    role: str | None = None
    password: str | None = None


def _names(text: str) -> list[str]:
    return [part.replace('""', '"') for part in _NAME.findall(text)]


def _table_name(quoted: str) -> str:
    parts = _names(quoted)
    return parts[-1] if parts[:-1] in ([], ["public"]) else ".".join(parts)


def _unescape(field: str) -> str | None:
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        char = field[i]
        if char == "\\" and i + 1 < len(field):
            following = field[i + 1]
            if following in _ESCAPES:
                out.append(_ESCAPES[following])
                i += 2
                continue
            octal = re.match(r"[0-7]{1,3}", field[i + 1 :])
            if octal:
                out.append(chr(int(octal.group(), 8)))
                i += 1 + len(octal.group())
                continue
            out.append(following)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _integer(text: str) -> int | str:
    value = int(text)
    return value if -_SAFE_INTEGER <= value <= _SAFE_INTEGER else text


def _boolean(text: str) -> bool:
    return text == "t"


def _float(text: str) -> float | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return value if value - value == 0 else text  # NaN and ±Infinity have no JSON


def _numeric(text: str) -> int | float | str:
    try:
        exact = Decimal(text)
    except InvalidOperation:
        return text
    if not exact.is_finite():
        return text
    if exact == exact.to_integral_value() and "." not in text and "e" not in text.lower():
        return _integer(text)
    value = float(exact)
    return value if Decimal(repr(value)) == exact else text  # else it would not be the same


_DECODE: dict[str, Callable[[str], Any]] = {
    "smallint": _integer,
    "integer": _integer,
    "bigint": _integer,
    "boolean": _boolean,
    "real": _float,
    "double precision": _float,
    "numeric": _numeric,
}


def _typed(table: TableRows, types: dict[str, str]) -> None:
    """``table``'s values of a type JSON has as that type (numbers, true/false): the
    others stay text as ``COPY`` wrote them, NULL None. An integer past JavaScript's
    exact ones and a number JSON cannot carry (NaN, Infinity) stay text too."""
    decode = [_DECODE.get(types.get(column, "")) for column in table.columns]
    if not any(decode):
        return
    table.rows = [
        tuple(
            value if value is None or how is None else how(value)
            for value, how in zip(row, decode, strict=False)
        )
        for row in table.rows
    ]


def read_dump(path: Path, *, typed: bool = False) -> dict[str, TableRows]:
    """The tables of a dump with their rows (text, as ``COPY`` writes them) and primary
    keys; ``typed``: numbers and booleans as such (``_typed``), from the types its
    ``CREATE TABLE`` gives the columns. Blocking."""
    tables: dict[str, TableRows] = {}
    keys: dict[str, list[str]] = {}
    types: dict[str, dict[str, str]] = {}
    current: TableRows | None = None
    altered: str | None = None
    created: dict[str, str] | None = None
    with open(path, encoding="utf-8", errors="replace") as dump:
        for line in dump:
            line = line.rstrip("\n")
            if current is not None:
                if line == "\\.":
                    current = None
                else:
                    current.rows.append(tuple(_unescape(f) for f in line.split("\t")))
                continue
            if created is not None:
                if line.startswith(")"):
                    created = None
                elif (column := _TYPED_COLUMN.match(line)) is not None:
                    created[column.group(1).replace('""', '"')] = column.group(2)
                continue
            if (create := _CREATE.match(line)) is not None:
                created = types.setdefault(_table_name(create.group(1)), {})
            elif (copy := _COPY.match(line)) is not None:
                current = TableRows(_names(copy.group(2)))
                tables[_table_name(copy.group(1))] = current
            elif (alter := _ALTER.match(line)) is not None:
                altered = _table_name(alter.group(1))
                continue
            elif altered is not None and (key := _PRIMARY_KEY.match(line)) is not None:
                keys[altered] = _names(key.group(1))
            altered = None
    for name, key in keys.items():
        if name in tables:
            tables[name].key = key
    if typed:
        for name, table in tables.items():
            _typed(table, types.get(name, {}))
    return tables


def _failure(output: bytes) -> str:
    lines = output.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else "no output"


async def dump_database(database: PgDatabase, target: Path, budget: int) -> int:
    """``pg_dump`` of ``database`` into ``target``; its size. :class:`TooLarge` as soon
    as it passes ``budget`` bytes (the dump is stopped; the caller removes the file)."""
    argv = ["pg_dump", "--no-owner", "--no-privileges", "--quote-all-identifiers"]
    written, too_large, errors = 0, False, bytearray()
    status: int | None = None
    with trio.move_on_after(_TIME) as scope:
        process = await trio.lowlevel.open_process(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=database.env,
        )
        try:
            async with await trio.open_file(target, "wb") as out, trio.open_nursery() as nursery:
                nursery.start_soon(_collect, process.stderr, errors)
                assert process.stdout is not None
                while chunk := await process.stdout.receive_some(_CHUNK):
                    written += len(chunk)
                    if written > budget:  # stopped here: its stderr ends with it
                        too_large = True
                        process.kill()
                        break
                    await out.write(chunk)
            status = await process.wait()
        finally:
            with trio.CancelScope(shield=True):
                if process.returncode is None:
                    process.kill()
                await process.wait()
                for pipe in (process.stdout, process.stderr):
                    if pipe is not None:
                        await pipe.aclose()
    if too_large:
        raise TooLarge(
            "The preview's data is larger than a snapshot may be.",
            code="snapshot_too_large",
            details={"limitBytes": budget},
        )
    if scope.cancelled_caught:
        raise Unavailable("pg_dump did not finish in time.", code="snapshot_failed")
    if status != 0:
        raise Unavailable(
            f"The preview's database could not be dumped: {_failure(bytes(errors))}",
            code="snapshot_failed",
        )
    return written


async def _collect(stream: trio.abc.ReceiveStream | None, into: bytearray) -> None:
    if stream is None:
        return
    while chunk := await stream.receive_some(_CHUNK):
        if len(into) < _CHUNK:
            into.extend(chunk)


async def restore_database(database: PgDatabase, dump: Path) -> None:
    """Put ``dump`` back into ``database`` in one transaction (module doc)."""
    prelude = f"SET lock_timeout = '{LOCK_WAIT}s';\n"
    env = database.env
    if database.role is not None:
        if database.password is None:
            raise Unavailable("The preview's database role is not known.", code="restore_failed")
        env = {**env, "PGUSER": database.role, "PGPASSWORD": database.password}
    # The prelude on stdin, then the dump's file: one transaction for both.
    argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
    argv += ["-f", "-", "-f", str(dump)]
    with trio.move_on_after(_TIME) as scope:
        result = await trio.run_process(
            argv,
            stdin=(prelude + _DROP_OWN_SCHEMAS).encode(),
            capture_stdout=True,
            capture_stderr=True,
            env=env,
            check=False,
        )
    if scope.cancelled_caught:
        raise Unavailable("The restore did not finish in time.", code="restore_failed")
    if result.returncode != 0:
        said = _failure(result.stderr)
        if "lock timeout" in said:
            raise Conflict(
                "The app holds its tables in a transaction; nothing was restored. Try again.",
                code="restore_busy",
                retry_after=1.0,
            )
        raise Unavailable(f"The database could not be restored: {said}", code="restore_failed")
