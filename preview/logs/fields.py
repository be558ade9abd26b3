"""Structured log lines: the fields of a line the app printed as one JSON object, or as
logfmt (``level=info msg="user signed in" user_id=42``, Go's logrus and slog, Heroku's
router, structlog's and Pino's logfmt output).

Parsed when the history is read, never at intake: the intake's hot path stays as it was
(it only reads a JSON line's level, ``lines._json_level``), and a line nobody asks for is
never parsed. A message that starts with ``{`` is tried as JSON (as the intake's level
reading does); another is logfmt only when it is nothing but ``key=value`` pairs, two at
least (``listening on port=8000`` is prose, not a record); at most
:data:`MAX_PARSED_BYTES` of either. Anything else has no fields and is left as it is. A
logfmt value is text (logfmt has no types; a filter still compares numbers as numbers).

A filter names a field (``userId``, or ``user.id`` inside an object), a comparison
(``=``; ``>=``, ``<=``, ``>``, ``<`` between numbers; ``!=``) and a value, written
``status>=500`` (:func:`parse_condition`: an alert rule's ``field``, a history filter's
``field.`` parameter); ``=`` holds when the field is
there with that value: a number equal as a number (``7`` matches
``7``, ``7.0`` and ``"7"``), ``true``/``false``/``null`` as JSON writes them, else the
text itself (an object or a list: its compact JSON).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FIELD_NAME",
    "MAX_CONDITION_VALUE",
    "MAX_FIELD_FILTERS",
    "MAX_PARSED_BYTES",
    "MISSING",
    "FieldFilter",
    "field_text",
    "field_value",
    "line_fields",
    "matches_all",
    "parse_condition",
]

MAX_PARSED_BYTES = 64 * 1024  # a longer line is not parsed (a dump, not a record)
MAX_FIELD_FILTERS = 10
MISSING = object()  # what field_value gives for a field the line does not have
MAX_CONDITION_VALUE = 200
# A field's name: a key, or a dotted path of up to five keys into objects.
FIELD_NAME = r"[A-Za-z0-9_$@-]{1,64}(?:\.[A-Za-z0-9_$@-]{1,64}){0,4}"
_CONDITION = re.compile(rf"({FIELD_NAME})(>=|<=|!=|=|>|<)(.{{0,{MAX_CONDITION_VALUE}}})", re.S)
_ORDER = {">=": float.__ge__, "<=": float.__le__, ">": float.__gt__, "<": float.__lt__}


# One logfmt pair and the space after it: a key, ``=``, a bare value (no space, no quote)
# or a double-quoted one (its escapes as Go's strconv.Quote writes them, JSON's kin).
_LOGFMT_PAIR = re.compile(r'([A-Za-z_@][\w.@/-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?:\s+|$)')


def line_fields(message: str) -> dict[str, Any] | None:
    """The fields of a line that is one JSON object or a logfmt record, else None."""
    if len(message) > MAX_PARSED_BYTES:
        return None
    if message[:1] != "{":
        return _logfmt(message) if "=" in message else None
    try:
        value = json.loads(message)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return None
    return value if isinstance(value, dict) else None


def _logfmt(message: str) -> dict[str, str] | None:
    """The pairs of a line that is nothing but logfmt pairs (two at least), else None."""
    fields: dict[str, str] = {}
    text = message.strip()
    at = 0
    while at < len(text):
        pair = _LOGFMT_PAIR.match(text, at)
        if pair is None:
            return None
        key, value = pair.groups()
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:  # an escape JSON lacks (Go's \x41): the quotes off
                value = value[1:-1]
        fields[key] = value
        at = pair.end()
    return fields if len(fields) >= 2 else None


def field_value(fields: dict[str, Any], name: str) -> Any:
    """The field ``name`` of ``fields`` (a key, else a dotted path into objects), or
    ``MISSING``."""
    if name in fields:
        return fields[name]
    value: Any = fields
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def field_text(value: Any) -> str:
    """A field's value as one cell of text: a string as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number else None  # NaN equals nothing


@dataclass(frozen=True, slots=True)
class FieldFilter:
    """``field.<name>=<value>``: the line's field ``name`` has ``value``; with ``op``
    ``>=``, ``<=``, ``>`` or ``<``, a number in that order to ``value`` (a field that is
    no number never holds); ``!=``: the field is there with another value."""

    name: str
    value: str
    op: str = "="

    @property
    def key(self) -> str:
        """The key a matching line's text must hold (its last name; a logfmt key may be
        dotted itself, ``request.path=/``, which holds it too): a prefilter the database
        applies before any line is parsed."""
        return self.name.rsplit(".", 1)[-1]

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"

    def holds(self, fields: dict[str, Any]) -> bool:
        value = field_value(fields, self.name)
        if value is MISSING:
            return False
        if (order := _ORDER.get(self.op)) is not None:
            number = _number(value) if isinstance(value, str) else value
            wanted = _number(self.value)
            if isinstance(number, bool) or not isinstance(number, (int, float)) or wanted is None:
                return False
            return order(float(number), wanted)
        if self.op == "!=":
            return not self._equals(value)
        return self._equals(value)

    def _equals(self, value: Any) -> bool:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            wanted = _number(self.value)
            return wanted is not None and float(value) == wanted
        if isinstance(value, str):
            if value == self.value:
                return True
            number, wanted = _number(value), _number(self.value)
            return number is not None and number == wanted
        return field_text(value) == self.value


def parse_condition(text: str) -> FieldFilter:
    """``status>=500``, ``user.id=42``, ``level!=info``, ``ms>250`` as a filter;
    ValueError (saying what is wrong) for anything else. A comparison of order needs a
    number."""
    found = _CONDITION.fullmatch(text)
    if found is None:
        raise ValueError(
            "a field condition is NAME, a comparison (=, !=, >=, <=, >, <) and a value: NAME"
            " a key (letters, digits, '_', '-', '$', '@'; a dotted path into objects), the "
            f"value at most {MAX_CONDITION_VALUE} characters"
        )
    name, op, value = found.groups()
    if op in _ORDER and _number(value) is None:
        raise ValueError(f"{op} compares numbers: {value[:40]!r} is not one")
    return FieldFilter(name, value, op)


def matches_all(message: str, filters: Sequence[FieldFilter]) -> bool:
    """Whether the line is a JSON object or a logfmt record whose fields meet every
    filter."""
    fields = line_fields(message)
    return fields is not None and all(each.holds(fields) for each in filters)
