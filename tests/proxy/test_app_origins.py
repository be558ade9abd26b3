"""AppOrigins on its own: hosts, public URLs, tickets (on a fake clock) and session cookies."""

from __future__ import annotations

import time

import pytest

from preview.previewtokens import hash_preview_token
from preview.services import AppOrigins, origin_label, preview_id_of_label

TOKEN_HASH = hash_preview_token("pvt_one")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _origins(template: str = "", domain: str = "localhost", clock: FakeClock | None = None):
    return AppOrigins(
        domain, template, ticket_timeout=60, session_timeout=3600, clock=clock or FakeClock()
    )


def test_labels_are_dns_safe_and_lead_back_to_the_preview() -> None:
    label = origin_label("preview_0123456789abcdef")
    assert label == "preview-0123456789abcdef"
    assert preview_id_of_label(label) == "preview_0123456789abcdef"
    with pytest.raises(ValueError):
        origin_label("preview_" + "x" * 60)  # longer than a DNS label


@pytest.mark.parametrize(
    ("host", "label"),
    [
        ("preview-ab12.localhost:8000", "preview-ab12"),
        ("PREVIEW-AB12.LOCALHOST:8000", "preview-ab12"),
        ("preview-ab12.localhost", "preview-ab12"),
        ("localhost:8000", None),
        ("127.0.0.1:8000", None),
        ("a.b.localhost:8000", None),  # one label only
        ("-bad.localhost", None),
        ("evil.localhost.example.com", None),
        ("xlocalhost:8000", None),
        # DNS's absolute form: the same host, so the same preview (never the API).
        ("preview-ab12.localhost.:8000", "preview-ab12"),
        ("Preview-AB12.LocalHost.", "preview-ab12"),
        ("preview-ab12.localhost:", "preview-ab12"),
        ("preview-ab12.localhost:x", "preview-ab12"),
        ("localhost.:8000", None),
        ("[::1]:8000", None),
    ],
)
def test_which_hosts_are_preview_origins(host: str, label: str | None) -> None:
    assert _origins().label_of_host(host) == label


@pytest.mark.parametrize(
    ("host", "under"),
    [
        ("preview-ab12.localhost.:8000", True),
        ("a.b.localhost:8000", True),  # below a preview's origin: no API there either
        ("x.preview-ab12.LOCALHOST.", True),
        ("localhost:8000", False),
        ("localhost.", False),
        ("127.0.0.1:8000", False),
        ("xlocalhost", False),
    ],
)
def test_which_hosts_are_under_the_previews_domain(host: str, under: bool) -> None:
    assert _origins().is_app_host(host) is under
    assert _origins().is_app_origin(f"http://{host}") is under


def test_production_domain_and_origin_header() -> None:
    origins = _origins("https://{preview}.preview.example.com", domain="preview.example.com")
    assert origins.label_of_host("p-1.preview.example.com") == "p-1"
    assert origins.label_of_host("p-1.localhost:8000") is None
    assert origins.is_app_origin("https://p-1.preview.example.com")
    assert not origins.is_app_origin("https://example.com")
    assert not origins.is_app_origin("null")


def test_public_urls() -> None:
    local = _origins()
    assert (
        local.url("preview_ab", scheme="http", host="127.0.0.1:8000")
        == "http://preview-ab.localhost:8000"
    )
    assert local.url("preview_ab", scheme="http", host="example") == "http://preview-ab.localhost"
    behind_tls = _origins("https://{preview}.preview.example.com/", domain="preview.example.com")
    assert (
        behind_tls.url("preview_ab", scheme="http", host="10.0.0.5:8000")
        == "https://preview-ab.preview.example.com"
    )
    assert behind_tls.public_scheme("http") == "https"
    assert behind_tls.cookie_name("https") == "__Host-preview_app_session"
    assert local.cookie_name("http") == "preview_app_session"


def test_a_ticket_is_single_use_and_expires() -> None:
    clock = FakeClock()
    origins = _origins(clock=clock)
    ticket, lifetime = origins.issue_ticket("preview_a", "alice", TOKEN_HASH, "/docs")
    assert lifetime == 60
    redeemed = origins.redeem_ticket(ticket)
    assert redeemed is not None
    assert (redeemed.preview_id, redeemed.user_id, redeemed.path) == ("preview_a", "alice", "/docs")
    assert origins.matches_token(redeemed, TOKEN_HASH)
    assert not origins.matches_token(redeemed, hash_preview_token("pvt_two"))
    assert origins.redeem_ticket(ticket) is None  # used

    late, _ = origins.issue_ticket("preview_a", "alice", TOKEN_HASH, "/")
    clock.now += 59.9
    on_time, _ = origins.issue_ticket("preview_a", "alice", TOKEN_HASH, "/")
    clock.now += 0.1
    assert origins.redeem_ticket(late) is None  # 60 s old
    assert origins.redeem_ticket(on_time) is not None
    assert origins.redeem_ticket("tkt_unknown") is None


def test_the_session_cookie_is_signed_and_ages() -> None:
    origins = _origins()
    ticket, _ = origins.issue_ticket("preview_a", "alice", TOKEN_HASH, "/")
    redeemed = origins.redeem_ticket(ticket)
    assert redeemed is not None
    cookie = origins.session_cookie(redeemed)
    assert "pvt_" not in cookie and TOKEN_HASH not in cookie
    session = origins.read_session([cookie])
    assert session is not None
    assert (session.preview_id, session.user_id) == ("preview_a", "alice")
    assert origins.matches_token(session, TOKEN_HASH)

    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert origins.read_session([tampered]) is None
    assert origins.read_session(["garbage", tampered, cookie]) == session  # any valid one
    assert _origins().read_session([cookie]) is None  # another process's key
    expired = AppOrigins("localhost", "", ticket_timeout=60, session_timeout=-1)
    assert expired.read_session([expired.session_cookie(redeemed)]) is None


def test_a_remembered_cookie_still_expires() -> None:
    wall = FakeClock()
    wall.now = time.time()
    origins = AppOrigins("localhost", "", ticket_timeout=60, session_timeout=3600, wall_clock=wall)
    ticket, _ = origins.issue_ticket("preview_a", "alice", TOKEN_HASH, "/")
    redeemed = origins.redeem_ticket(ticket)
    assert redeemed is not None
    cookie = origins.session_cookie(redeemed)
    assert origins.read_session([cookie]) is not None  # verified, and remembered
    wall.now += 3000
    assert origins.read_session([cookie]) is not None
    wall.now += 602  # past the signature's age limit: not resurrected by a new check
    assert origins.read_session([cookie]) is None
    assert origins.read_session([cookie]) is None


def test_outstanding_tickets_are_bounded() -> None:
    clock = FakeClock()
    origins = _origins(clock=clock)
    first, _ = origins.issue_ticket("preview_a", "alice", TOKEN_HASH, "/")
    for _ in range(10_000):
        origins.issue_ticket("preview_a", "alice", TOKEN_HASH, "/")
    assert len(origins._tickets) == 10_000
    assert origins.redeem_ticket(first) is None  # the oldest made room
