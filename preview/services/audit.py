"""The audit trail as the routes write it: :func:`record_action` once an action is done.

The actor is the caller; the owner, who alone reads the trail (``GET /api/audit``), is the
generation's. The details are what names the action (ids, names, counts), never a secret:
no token value, no environment value, no body. A store that refuses the entry does not
undo the action, nor fail its answer: the action happened; the refusal is logged.
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

__all__ = ["record_action"]

_log = logging.getLogger(__name__)


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
