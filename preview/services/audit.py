"""The audit trail as the routes write it: :func:`record_action` once an action is done.

The actor is the caller; the owner, who alone reads the trail (``GET /api/audit``), is the
generation's. The details are what names the action (ids, names, counts), never a secret:
no token value, no environment value, no body. A store that refuses the entry does not
undo the action, nor fail its answer: the action happened; the refusal is logged.

The actions everyone watching a preview should see as they happen (its owner's launch,
stop, revision applied, snapshot restored: a shared viewer reads the same log) are also
said in the log of the generation's live preview, as a ``system`` event naming the actor.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import has_request_context, request

from ..auth import User
from ..clock import utcnow
from ..errors import StoreError
from ..store.audit import AuditEntry, add_audit
from .state import Services

__all__ = ["ANNOUNCED", "record_action"]

_log = logging.getLogger(__name__)
# What the preview's log says of an action (its details' values put in), after the actor.
ANNOUNCED = {
    "launch": "launched the preview",
    "stop": "stopped the preview",
    "revision_apply": "applied revision {revision}",
    "snapshot_restore": "restored snapshot {snapshotId}",
    "snapshot_take": "took snapshot {snapshotId}",
}


async def record_action(
    state: Services,
    user: User,
    action: str,
    /,
    *,
    owner: str,
    generation_id: str | None = None,
    preview_id: str | None = None,
    **details: Any,
) -> None:
    """Record that ``user`` did ``action`` (``store.audit.ACTIONS``) to ``owner``'s
    generation, with ``details``."""
    await _announce(state, user, action, generation_id, details)
    if state.store is None:
        return
    source = request.remote_addr if has_request_context() else None
    entry = AuditEntry(
        owner_id=owner,
        actor_id=user.id,
        action=action,
        generation_id=generation_id,
        preview_id=preview_id,
        details=details,
        source=source,
    )
    try:
        await state.store.run_sync(add_audit, state.store.engine, entry, utcnow())
    except StoreError as error:
        _log.warning("an audit entry (%s of %s) was not stored: %s", action, generation_id, error)


async def _announce(
    state: Services, user: User, action: str, generation_id: str | None, details: dict
) -> None:
    """Say ``action`` in the log of ``generation_id``'s live preview (:data:`ANNOUNCED`)."""
    said = ANNOUNCED.get(action)
    if said is None or generation_id is None or state.supervisor is None:
        return
    runtime = state.supervisor.for_generation(generation_id)
    if runtime is None or runtime.broadcast.closed:
        return
    try:
        text = said.format(**details)
    except (KeyError, IndexError):
        text = said.split(" {", 1)[0]
    await runtime.state.system("INFO", f"{user.id} {text}")
