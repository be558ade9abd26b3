"""The JWT authenticator: what it accepts, and that remembering verified tokens changes
nothing about it."""

from __future__ import annotations

import time

import pytest

from preview.auth import JWTAuthenticator, User
from preview.errors import Unauthorized

SECRET = "a-test-secret-" + "x" * 40


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _code(call) -> str:
    with pytest.raises(Unauthorized) as raised:
        call()
    return raised.value.code


def test_a_remembered_token_still_expires() -> None:
    clock = Clock()
    auth = JWTAuthenticator(SECRET, session_timeout=60, clock=clock)
    token = auth.issue("ann", tier="pro", lifetime=100)
    assert auth.decode(token) == User("ann", "pro")
    assert auth.decode(token) == User("ann", "pro")  # remembered
    clock.now += 99
    assert auth.decode(token) == User("ann", "pro")
    clock.now += 2
    assert _code(lambda: auth.decode(token)) == "token_expired"


def test_remembering_a_token_does_not_widen_what_it_is_accepted_as() -> None:
    auth = JWTAuthenticator(SECRET, session_timeout=60)
    bearer = auth.issue("ann")
    session, _ = auth.session_token(User("bob"))
    assert auth.decode(bearer) == User("ann")
    assert auth.decode(session, session=True) == User("bob")
    # A bearer token is not a session cookie, nor the other way round, cached or not.
    assert _code(lambda: auth.decode(bearer, session=True)) == "invalid_token"
    assert _code(lambda: auth.decode(session)) == "invalid_token"
    # Any other string is verified afresh: a changed signature, another secret.
    head, payload, signature = bearer.split(".")
    flipped = "A" if signature[10] != "A" else "B"  # a middle character: 6 data bits
    forged = f"{head}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
    assert _code(lambda: auth.decode(forged)) == "invalid_token"
    other = JWTAuthenticator("another-secret-" + "y" * 40, session_timeout=60).issue("ann")
    assert _code(lambda: auth.decode(other)) == "invalid_token"


def test_expired_and_malformed_tokens_are_refused() -> None:
    auth = JWTAuthenticator(SECRET, session_timeout=60)
    expired = auth.issue("ann", lifetime=-10)
    assert _code(lambda: auth.decode(expired)) == "token_expired"
    assert _code(lambda: auth.decode("not-a-jwt")) == "invalid_token"
