"""The sharing routes: ``POST|GET /api/generations/{gid}/shares``, ``DELETE …/shares/{id}``
(its owner's), a link redeemed by a signed-in user (``POST /api/shares/redeem``), the
generations shared with the caller (``GET /api/shares``) and who watches a preview now
(``GET …/preview/viewers``).

A share is with a user id, or a link: a secret shown once (its URL carries it in the
fragment, which no browser sends), stored as its SHA-256 only. A link's holder signs in
and redeems it into a share of their own, so every caller is still a signed-in user and
the rules of ``services.callers.generation_access`` are the only ones. Every share has
an expiry (default a day, at most thirty) and a generation at most ``MAX_SHARES``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from quart import Blueprint, Response, jsonify, request

from ..clock import utcnow
from ..errors import Conflict, NotFound
from ..services import services
from ..services.audit import record_action
from ..services.callers import generation_access, json_body, owned_generation
from ..services.shares import (
    MAX_SHARES,
    ROLES,
    Share,
    ShareLimit,
    add_share,
    link_by_hash,
    list_shares,
    redeem_link,
    revoke_share,
    shared_with,
)
from .rules import checked_share, invalid_share, link_hash, new_share_id, share_json

__all__ = ["blueprint"]

blueprint = Blueprint("shares", __name__)


@blueprint.post("/api/generations/<gid>/shares")
async def create(gid: str) -> tuple[Response, int]:
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    shared_user, role, seconds = checked_share(await json_body(), user.id)
    now = utcnow()
    secret = None if shared_user is not None else secrets.token_urlsafe(32)
    share = Share(
        new_share_id(),
        gid,
        user.id,
        shared_user,
        None,
        role,
        now,
        now + timedelta(seconds=seconds),
        secret is not None,
    )
    assert state.store is not None
    try:
        await state.store.run_sync(
            add_share, state.store.engine, share, link_hash(secret) if secret else None, now
        )
    except ShareLimit:
        raise Conflict(
            f"This generation has {MAX_SHARES} shares, the most allowed; revoke one first.",
            code="share_limit",
            details={"limit": MAX_SHARES},
        ) from None
    await record_action(
        state,
        user,
        "share_create",
        owner=generation.user_id,
        generation_id=gid,
        share=share.id,
        kind="link" if secret else "user",
        user=shared_user,
        role=role,
        expiresIn=seconds,
    )
    data = share_json(share)
    if secret is not None:  # shown this once: only its hash is kept
        data["secret"] = secret
        data["url"] = f"{request.host_url.rstrip('/')}/#share={secret}"
    return jsonify(data), 201


@blueprint.get("/api/generations/<gid>/shares")
async def listing(gid: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    assert state.store is not None
    shares = await state.store.run_sync(list_shares, state.store.engine, gid, utcnow())
    return jsonify({"shares": [share_json(share) for share in shares], "limit": MAX_SHARES})


@blueprint.delete("/api/generations/<gid>/shares/<share_id>")
async def revoke(gid: str, share_id: str) -> Response:
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    assert state.store is not None
    removed = await state.store.run_sync(revoke_share, state.store.engine, gid, share_id)
    if not removed:
        raise NotFound(
            f"No share {share_id!r} of this generation.",
            code="share_not_found",
            details={"shareId": share_id},
        )
    state.shares.end(removed)  # its open streams end now (other nodes': RECHECK)
    await record_action(
        state,
        user,
        "share_revoke",
        owner=generation.user_id,
        generation_id=gid,
        share=share_id,
        ended=len(removed),
    )
    return jsonify({"revoked": share_id, "ended": removed})


@blueprint.post("/api/shares/redeem")
async def redeem() -> Response:
    """``{secret}`` (a link's) → the caller's own share of its generation."""
    state = services()
    user = state.user()
    body = await json_body()
    secret = body.get("secret")
    if not isinstance(secret, str) or not 10 <= len(secret) <= 200:
        raise invalid_share("secret is the link's secret (what follows #share=).", "secret")
    assert state.store is not None
    now = utcnow()
    link = await state.store.run_sync(link_by_hash, state.store.engine, link_hash(secret), now)
    if link is None:
        raise NotFound(
            "No such link: it was revoked, it expired, or it was mistyped.",
            code="share_link_not_found",
        )
    if link.owner_id == user.id:
        return jsonify({"generationId": link.generation_id, "role": "owner"})
    redemption = Share(
        new_share_id(),
        link.generation_id,
        link.owner_id,
        user.id,
        link.id,
        link.role,
        now,
        link.expires_at,
        False,
    )
    held = await state.store.run_sync(redeem_link, state.store.engine, link, redemption)
    if held is redemption:
        await record_action(
            state,
            user,
            "share_redeem",
            owner=link.owner_id,
            generation_id=link.generation_id,
            share=held.id,
            link=link.id,
            role=link.role,
        )
    return jsonify({"generationId": link.generation_id, **share_json(held)})


@blueprint.get("/api/shares")
async def shared_with_me() -> Response:
    """The generations others shared with the caller (live shares, newest first)."""
    state = services()
    user = state.user()
    assert state.store is not None
    shares = await state.store.run_sync(shared_with, state.store.engine, user.id, utcnow())
    best: dict[str, Share] = {}
    for share in shares:
        known = best.get(share.generation_id)
        if known is None or ROLES.index(share.role) > ROLES.index(known.role):
            best[share.generation_id] = share
    listed = [
        {"generationId": gid, "owner": share.owner_id, **share_json(share)}
        for gid, share in best.items()
    ]
    return jsonify({"shared": listed})


@blueprint.get("/api/generations/<gid>/preview/viewers")
async def viewers(gid: str) -> Response:
    """Who has a log stream of this generation's preview open now (on any node: a
    cluster's nodes tell each other theirs every 2 s, cluster.ClusterStreamCounts)."""
    state = services()
    access = await generation_access(gid, state.user())
    owner = access.generation.user_id
    watching = state.streams.watching(gid)
    people = [
        {"user": name, "streams": count, "owner": name == owner}
        for name, count in sorted(watching.items(), key=lambda item: (item[0] != owner, item[0]))
    ]
    return jsonify({"generationId": gid, "count": len(people), "viewers": people})
