"""The live preview tokens of one preview (``preview.previewtokens``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from preview.previewtokens import MAX_LIVE_TOKENS, PreviewTokens, TooManyTokens

T0 = datetime(2026, 11, 27, 12, 0, 0)
HOUR = timedelta(hours=1)


def _added(tokens: PreviewTokens, label: str, at: datetime) -> tuple[str, str]:
    value, token = tokens.make(label, at, at + HOUR)
    tokens.add(token, retiring=tokens.to_retire(token, at))
    return value, token.id


def test_an_expired_token_is_told_apart_from_an_unknown_one() -> None:
    tokens = PreviewTokens()
    value, _ = _added(tokens, "launch", T0)
    assert tokens.match(value, T0 + HOUR) is not None
    later = T0 + HOUR + timedelta(seconds=1)
    assert tokens.match(value, later) is None and tokens.expired(value)
    assert not tokens.expired("pvt_never_made") and tokens.listed(later) == []
    assert tokens.soonest_expiry(later) is None


def test_revoking_changes_the_version_a_cache_checks() -> None:
    tokens = PreviewTokens()
    _, first = _added(tokens, "launch", T0)
    value, second = _added(tokens, "script", T0 + timedelta(seconds=1))
    version = tokens.version
    _added(tokens, "script", T0 + timedelta(seconds=2))
    assert tokens.version == version  # adding takes nothing away
    assert tokens.revoke(second) is not None and tokens.version == version + 1
    assert tokens.match(value, T0) is None and tokens.revoke(second) is None
    assert tokens.listed(T0)[0].id == first


def test_past_the_limit_the_oldest_of_the_label_goes_else_none() -> None:
    tokens = PreviewTokens()
    _added(tokens, "launch", T0)
    tabs = [
        _added(tokens, "web UI", T0 + timedelta(seconds=n + 1))[1]
        for n in range(MAX_LIVE_TOKENS - 1)
    ]
    _added(tokens, "web UI", T0 + timedelta(minutes=5))
    live = [token.id for token in tokens.listed(T0 + timedelta(minutes=5))]
    assert len(live) == MAX_LIVE_TOKENS and tabs[0] not in live and tabs[1] in live
    _, token = tokens.make("script", T0, T0 + HOUR)
    with pytest.raises(TooManyTokens):
        tokens.to_retire(token, T0 + timedelta(minutes=5))
