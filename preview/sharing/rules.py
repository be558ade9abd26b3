"""What a share is made of, checked: the body of ``POST …/shares``, a link's secret kept as
its hash, a share's JSON."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from ..auth import valid_subject
from ..clock import isoformat
from ..errors import BadRequest
from ..services.shares import ROLES, Share

__all__ = [
    "DEFAULT_EXPIRY",
    "MAX_EXPIRY",
    "MIN_EXPIRY",
    "checked_share",
    "invalid_share",
    "link_hash",
    "new_share_id",
    "share_json",
]

DEFAULT_EXPIRY = 86400  # s a share lasts when the owner gives no expiresIn
MAX_EXPIRY = 30 * 86400  # s: no share outlives a month (the longest a session token lives)
MIN_EXPIRY = 60


def link_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invalid_share(message: str, field: str) -> BadRequest:
    return BadRequest(message, code="invalid_share", details={"field": field})


def share_json(share: Share) -> dict[str, Any]:
    kind = "link" if share.is_link else "redeemed" if share.link_id else "user"
    return {
        "id": share.id,
        "kind": kind,
        "user": share.user_id,
        "linkId": share.link_id,
        "role": share.role,
        "createdAt": isoformat(share.created_at),
        "expiresAt": isoformat(share.expires_at),
    }


def _expiry(body: dict[str, Any]) -> int:
    value = body.get("expiresIn", DEFAULT_EXPIRY)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_share("expiresIn is a whole number of seconds.", "expiresIn")
    if not MIN_EXPIRY <= value <= MAX_EXPIRY:
        raise invalid_share(
            f"expiresIn is {MIN_EXPIRY} to {MAX_EXPIRY} seconds (a share is never for ever).",
            "expiresIn",
        )
    return value


def checked_share(body: dict[str, Any], owner: str) -> tuple[str | None, str, int]:
    """The user shared with (None: a link), the role and the expiry in seconds."""
    unknown = set(body) - {"user", "link", "role", "expiresIn"}
    if unknown:
        raise invalid_share(f"Unknown field {sorted(unknown)[0]!r}.", sorted(unknown)[0])
    role = body.get("role", "viewer")
    if role not in ROLES:
        raise invalid_share("role is 'viewer' or 'caller'.", "role")
    link = body.get("link", False)
    if not isinstance(link, bool):
        raise invalid_share("link is true or false.", "link")
    user = body.get("user")
    if link == (user is not None):
        raise invalid_share("Give either user (a user id) or link: true.", "user")
    if user is not None:
        if not valid_subject(user):
            raise invalid_share("user is a user id (1 to 200 characters).", "user")
        if user == owner:
            raise invalid_share("The generation is already yours.", "user")
    return user, role, _expiry(body)


def new_share_id() -> str:
    return "shr_" + secrets.token_hex(8)
