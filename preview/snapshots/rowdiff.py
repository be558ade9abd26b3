"""Two copies of a table compared: :func:`diff_tables`.

Rows are matched by the table's primary key where it has one: a key in the second
copy only is a row added, in the first only a row removed, in both with other values
a row changed. A table without one is compared as a bag of rows (a row that differs
is one removed and one added). At most ``SHOWN`` rows of each kind are listed; the
counts are whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SHOWN", "TableRows", "diff_tables", "json_value"]

SHOWN = 100


@dataclass
class TableRows:
    """One table's rows as read from a snapshot: its columns, its primary key's
    columns (empty: none) and its rows (tuples in column order)."""

    columns: list[str]
    key: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)


def json_value(value: Any) -> Any:
    """A column's value as JSON can carry it (bytes as ``\\x`` and hex, as PostgreSQL
    writes them)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return value


def _as_object(columns: Sequence[str], row: tuple[Any, ...]) -> dict[str, Any]:
    return {name: json_value(value) for name, value in zip(columns, row, strict=False)}


def _by_key(table: TableRows, key: list[str]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    where = [table.columns.index(name) for name in key]
    return {tuple(row[i] for i in where): row for row in table.rows}


def diff_table(before: TableRows | None, after: TableRows | None) -> dict[str, Any]:
    """One table's differences (``before`` or ``after`` None: it is not in that copy)."""
    columns = (after or before or TableRows([])).columns
    old = before.rows if before is not None else []
    new = after.rows if after is not None else []
    key = after.key if after is not None else (before.key if before is not None else [])
    same_shape = before is None or after is None or before.columns == after.columns
    added: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    counts = {"added": 0, "removed": 0, "changed": 0}
    if key and same_shape and (before is None or before.key == key):
        old_rows = _by_key(before, key) if before is not None else {}
        new_rows = _by_key(after, key) if after is not None else {}
        for k, row in new_rows.items():
            if k not in old_rows:
                counts["added"] += 1
                if len(added) < SHOWN:
                    added.append(_as_object(columns, row))
            elif old_rows[k] != row:
                counts["changed"] += 1
                if len(changed) < SHOWN:
                    changed.append(
                        {
                            "key": dict(zip(key, map(json_value, k), strict=True)),
                            "before": _as_object(columns, old_rows[k]),
                            "after": _as_object(columns, row),
                        }
                    )
        for k, row in old_rows.items():
            if k not in new_rows:
                counts["removed"] += 1
                if len(removed) < SHOWN:
                    removed.append(_as_object(before.columns if before else columns, row))
    else:  # no key (or the columns changed): rows compared whole, as bags
        key = []
        old_bag, new_bag = Counter(old), Counter(new)
        for bag, other, kind in ((new_bag, old_bag, "added"), (old_bag, new_bag, "removed")):
            shown = added if kind == "added" else removed
            names = columns if kind == "added" or before is None else before.columns
            for row, n in (bag - other).items():
                counts[kind] += n
                shown.extend(_as_object(names, row) for _ in range(min(n, SHOWN - len(shown))))
    return {
        "primaryKey": key,
        "columns": columns,
        "rowsBefore": len(old),
        "rowsAfter": len(new),
        "addedCount": counts["added"],
        "removedCount": counts["removed"],
        "changedCount": counts["changed"],
        "added": added,
        "removed": removed,
        "changed": changed,
    }


def diff_tables(before: dict[str, TableRows], after: dict[str, TableRows]) -> list[dict[str, Any]]:
    """Every table of either copy, by name, with its differences (module doc)."""
    tables = []
    for name in sorted(set(before) | set(after)):
        entry = {"table": name, **diff_table(before.get(name), after.get(name))}
        entry["state"] = (
            "added"
            if name not in before
            else "removed"
            if name not in after
            else (
                "changed"
                if entry["addedCount"] or entry["removedCount"] or entry["changedCount"]
                else "same"
            )
        )
        tables.append(entry)
    return tables
