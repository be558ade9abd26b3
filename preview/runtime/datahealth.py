"""Why a route answers 500 when the app's tables are missing: :class:`MissingTables`.

A preview whose data nobody initialised starts and answers, but each route reading its
database answers 500, and the app's output says ``no such table: items`` (SQLite),
``relation "items" does not exist`` (PostgreSQL) or ``Table 'app.items' doesn't exist``
(MySQL). Once both were seen, a 5xx through the proxy and such a line (in either order),
the log gets one ``system`` line naming the missing table and what would create it (see
:func:`~preview.apps.datainit.missing_tables_hint`): the set-up step to give, or why the
one the app has never runs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from ..apps.datainit import missing_tables_hint
from ..apps.spec import LaunchSpec
from ..builds.steps import shown_command

__all__ = ["MissingTables"]

_MISSING = re.compile(
    r"no such table: ?([\w.\"`]+)"
    r"|relation \"?([\w.]+)\"? does not exist"
    r"|Table '([\w.]+)' doesn't exist",
    re.IGNORECASE,
)
_WORDS = ("no such table", "does not exist", "doesn't exist")


class MissingTables:
    """See the module doc: :meth:`lines` sees the app's output, :meth:`answered` the
    proxied calls' statuses; ``say`` publishes the diagnosis, once per preview."""

    def __init__(self, spec: LaunchSpec, say: Callable[[str, str], Awaitable[None]]) -> None:
        self._spec = spec
        self._say = say  # (level, message)
        self._table: str | None = None
        self._failed: str | None = None  # "GET /todos -> 500"
        self._said = False

    async def lines(self, texts: list[str]) -> None:
        if self._said or self._table is not None:
            return
        joined = "\n".join(texts)  # most batches: three searches, none of them per line
        if not any(word in joined for word in _WORDS):
            return
        for text in texts:
            if any(word in text for word in _WORDS) and (m := _MISSING.search(text)):
                self._table = next(g for g in m.groups() if g).strip('"`')
                await self._diagnose()
                return

    async def answered(self, method: str, path: str, status: int | None) -> None:
        if status is None or status < 500 or self._said or self._failed is not None:
            return
        self._failed = f"{method} {path} answered {status}"
        await self._diagnose()

    async def _diagnose(self) -> None:
        if self._said or self._table is None or self._failed is None:
            return
        self._said = True
        detection = self._spec.detection
        steps = [shown_command(step) for step in detection.setup] if detection is not None else []
        hint = missing_tables_hint(self._spec.files, steps)
        await self._say(
            "WARN",
            f"diagnosis: {self._failed} and the app says its table {self._table} "
            f"does not exist — {hint}",
        )
