"""The JWT authenticator: what it accepts, and that remembering verified tokens changes
nothing about it."""

from __future__ import annotations

import base64
import hashlib
import hmac
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


def _signed(payload: str) -> str:
    """A token over ``payload`` as written (PyJWT would encode only what JSON allows)."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signed = part(b'{"alg":"HS256","typ":"JWT"}') + b"." + part(payload.encode())
    signature = hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()
    return (signed + b"." + part(signature)).decode()


_LATER = int(time.time()) + 3600
_HUGE = 10**400
_SUB, _EXP = '"sub":"a"', f'"exp":{_LATER}'


def _claims(*members: str) -> str:
    return "{" + ",".join(members) + "}"


@pytest.mark.parametrize(
    "payload",
    [
        _claims(_SUB, f'"exp":{_HUGE}'),
        _claims(_SUB, f'"exp":-{_HUGE}'),
        _claims(_SUB, '"exp":1e400'),
        _claims(_SUB, '"exp":NaN'),
        _claims(_SUB, f'"exp":"{_LATER}"'),
        _claims(_SUB, '"exp":true'),
        _claims(_SUB, '"exp":[1]'),
        _claims(_SUB, _EXP, f'"iat":{_HUGE}'),
        _claims(_SUB, _EXP, '"iat":"1"'),
        _claims(_SUB, _EXP, f'"nbf":{_HUGE}'),
        _claims(_SUB, _EXP, '"nbf":NaN'),
        _claims(_SUB, _EXP, '"nbf":"1"'),
        _claims('"sub":5', _EXP),
        _claims('"sub":["a"]', _EXP),
        _claims('"sub":"alice\\n"', _EXP),  # a newline: another user than "alice"
        _claims('"sub":" alice"', _EXP),
        _claims('"sub":"' + "a" * 201 + '"', _EXP),
        _claims(_SUB, _EXP, '"tier":["pro"]'),
        _claims(_SUB, _EXP, '"tier":{}'),
        "[1, 2]",
    ],
    ids=lambda payload: payload.replace(str(_LATER), "later"),  # the same in every process
)
def test_claims_of_the_wrong_type_or_size_are_refused_not_a_crash(payload: str) -> None:
    auth = JWTAuthenticator(SECRET, session_timeout=60)
    assert _code(lambda: auth.decode(_signed(payload))) in ("invalid_token", "token_expired")


def test_a_user_id_the_service_would_refuse_is_not_issued() -> None:
    auth = JWTAuthenticator(SECRET, session_timeout=60)
    for subject in ("alice\n", "", " a", "a" * 201):
        with pytest.raises(ValueError):
            auth.issue(subject)
    assert auth.decode(auth.issue("auth0|user@example.com")).id == "auth0|user@example.com"


def test_a_well_formed_raw_token_is_accepted() -> None:
    # The helper above signs correctly: the refusals are the claims'.
    auth = JWTAuthenticator(SECRET, session_timeout=60)
    assert auth.decode(_signed(_claims(_SUB, _EXP, f'"iat":{_LATER - 7200}.5'))) == User("a")


_NOW = int(time.time())
_DAY = 86400


@pytest.mark.parametrize(
    "payload",
    [
        _claims(_SUB, '"exp":9007199254740992'),  # 2**53, no iat: counted from now
        _claims(_SUB, f'"iat":{_NOW}', '"exp":9007199254740992'),
        _claims(_SUB, f'"iat":{_NOW}', f'"exp":{_NOW + 30 * _DAY + 1}'),
        _claims(_SUB, f'"exp":{_NOW + 31 * _DAY}'),
        # Issued long ago and still valid: its lifetime is exp - iat.
        _claims(_SUB, f'"iat":{_NOW - 60 * _DAY}', f'"exp":{_NOW + _DAY}'),
    ],
    ids=["exp 2**53", "iat now, exp 2**53", "30 days and 1 s", "exp in 31 days", "60 + 1 days"],
)
def test_a_token_living_longer_than_the_maximum_is_refused_saying_so(payload: str) -> None:
    auth = JWTAuthenticator(SECRET, session_timeout=60)  # the default maximum: 30 days
    with pytest.raises(Unauthorized) as raised:
        auth.decode(_signed(payload))
    assert raised.value.code == "token_lifetime_too_long"
    assert "longer than the 2592000 s this service accepts" in raised.value.message


def test_tokens_within_the_maximum_are_accepted_and_none_longer_is_issued() -> None:
    auth = JWTAuthenticator(SECRET, session_timeout=60, max_lifetime=3600)
    assert auth.decode(auth.issue("ann", lifetime=3600)) == User("ann")  # `preview serve`'s
    assert auth.decode(_signed(_claims(_SUB, f'"exp":{_NOW + 3000}'))) == User("a")
    # An iat in the future does not shorten a lifetime (PyJWT >= 2.10 refuses it first).
    later = _claims(_SUB, f'"iat":{_NOW + 365 * _DAY}', f'"exp":{_NOW + 365 * _DAY + 60}')
    assert _code(lambda: auth.decode(_signed(later))) in (
        "token_lifetime_too_long",
        "invalid_token",
    )
    month = JWTAuthenticator(SECRET, session_timeout=60).issue("ann", lifetime=30 * _DAY)
    assert _code(lambda: auth.decode(month)) == "token_lifetime_too_long"
    with pytest.raises(ValueError, match="PREVIEW_JWT_MAX_LIFETIME"):
        auth.issue("ann", lifetime=3601)
    # A session cookie never outlives what is accepted either.
    session, lifetime = JWTAuthenticator(
        SECRET, session_timeout=7200, max_lifetime=3600
    ).session_token(User("ann"))
    assert lifetime == 3600 and auth.decode(session, session=True) == User("ann")


def test_the_admin_claim_is_a_json_true_kept_by_the_session_it_opens() -> None:
    auth = JWTAuthenticator(SECRET, session_timeout=60)
    operator = auth.decode(auth.issue("ops", admin=True))
    assert operator.admin is True and auth.decode(auth.issue("ann")).admin is False
    session, _ = auth.session_token(operator)
    assert auth.decode(session, session=True).admin is True
    for value in ('"true"', "1", '"yes"'):  # only a JSON true makes an operator
        assert auth.decode(_signed(_claims(_SUB, _EXP, f'"admin":{value}'))).admin is False
