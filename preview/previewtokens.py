"""The preview tokens of one running preview: :class:`PreviewTokens`.

A call to a preview's app carries one of its preview tokens besides the owner's
credentials. The launch makes the first; the owner may ask for more (``POST
…/preview/token``), each with its own label and expiry, so that a script, a second tab
and the web UI use the same preview at once without taking each other's token away.
Each is revocable on its own (``DELETE …/preview/tokens/<id>``). Only a token's SHA-256
is kept: the token itself is shown once, when it is made.

At most :data:`MAX_LIVE_TOKENS` live at once. A new one past that retires the oldest of
the same label (the web UI's tabs, each asking for one, replace each other's oldest,
never a script's); with none of its label to retire, it is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "MAX_LABEL",
    "MAX_LIVE_TOKENS",
    "PreviewToken",
    "PreviewTokens",
    "TooManyTokens",
    "hash_preview_token",
    "new_preview_token",
]

MAX_LIVE_TOKENS = 20
MAX_LABEL = 100  # characters of a token's label


def new_preview_token() -> str:
    return "pvt_" + secrets.token_urlsafe(32)


def hash_preview_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class PreviewToken:
    """One live preview token, as kept: its public id, the SHA-256 of its value."""

    id: str
    hash: str
    label: str
    created_at: datetime
    expires_at: datetime


class TooManyTokens(Exception):
    """A new token past :data:`MAX_LIVE_TOKENS` with no token of its label to retire."""


class PreviewTokens:
    """The live tokens of one preview, by hash (a token's hash is its lookup key: it is
    the digest of 32 random bytes, so a dictionary lookup reveals nothing by its time).

    ``version`` grows whenever a token stops being live before its expiry (revoked or
    retired), so that a cache of checked credentials can tell it must check again.
    """

    def __init__(self) -> None:
        self._by_hash: dict[str, PreviewToken] = {}
        self.version = 0

    @staticmethod
    def make(label: str, created_at: datetime, expires_at: datetime) -> tuple[str, PreviewToken]:
        """A new token's value (shown once) and what is kept of it; not yet live."""
        value = new_preview_token()
        token = PreviewToken(
            id="ptk_" + secrets.token_hex(8),
            hash=hash_preview_token(value),
            label=label[:MAX_LABEL],
            created_at=created_at,
            expires_at=expires_at,
        )
        return value, token

    def to_retire(self, token: PreviewToken, now: datetime) -> PreviewToken | None:
        """The token that adding ``token`` would retire (None: none), or
        :class:`TooManyTokens`."""
        live = self.listed(now)
        if len(live) < MAX_LIVE_TOKENS:
            return None
        same_label = [each for each in live if each.label == token.label]
        if not same_label:
            raise TooManyTokens
        return same_label[0]

    def add(self, token: PreviewToken, *, retiring: PreviewToken | None = None) -> None:
        if retiring is not None:
            self.revoke(retiring.id)
        if len(self._by_hash) >= 2 * MAX_LIVE_TOKENS:
            # Expired tokens are kept to say "expired" rather than "not valid"; not forever.
            gone = [h for h, each in self._by_hash.items() if each.expires_at < token.created_at]
            for token_hash in gone:
                del self._by_hash[token_hash]
        self._by_hash[token.hash] = token

    def match(self, value: str, now: datetime) -> PreviewToken | None:
        """The live token whose value is ``value`` (None: none, or expired)."""
        return self.live(hash_preview_token(value), now)

    def expired(self, value: str) -> bool:
        """Whether ``value`` is a token of this preview whose time has passed."""
        return hash_preview_token(value) in self._by_hash

    def live(self, token_hash: str, now: datetime) -> PreviewToken | None:
        token = self._by_hash.get(token_hash)
        if token is None or now > token.expires_at:
            return None
        return token

    def revoke(self, token_id: str) -> PreviewToken | None:
        """Take the token ``token_id`` away; it, or None if there was no such token."""
        for token_hash, token in self._by_hash.items():
            if token.id == token_id:
                del self._by_hash[token_hash]
                self.version += 1
                return token
        return None

    def revoke_all_but(self, keep: PreviewToken) -> list[PreviewToken]:
        gone = [token for token in self._by_hash.values() if token.id != keep.id]
        for token in gone:
            self.revoke(token.id)
        return gone

    def listed(self, now: datetime) -> list[PreviewToken]:
        """The live tokens, oldest first."""
        live = [token for token in self._by_hash.values() if now <= token.expires_at]
        return sorted(live, key=lambda token: token.created_at)

    def hashes(self, now: datetime) -> list[str]:
        return [token.hash for token in self.listed(now)]

    def soonest_expiry(self, now: datetime) -> datetime | None:
        """When the first of the live tokens expires (None: no token is live)."""
        return min((token.expires_at for token in self.listed(now)), default=None)

    def first(self) -> PreviewToken | None:
        """The oldest token kept (the launch's, unless revoked)."""
        return min(self._by_hash.values(), key=lambda token: token.created_at, default=None)
