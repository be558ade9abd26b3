"""A call the app never answered is kept too (status null, its error), each way in; and
credentials in JSON, form and multipart form bodies are never kept."""

from __future__ import annotations

import base64
import json
import random

import pytest
import trio

from preview.history.masking import is_asset, mask_body

from ..conftest import Service, auth
from .conftest import api, envelope, fresh, listed, one, origin_cookie, proxied

_JSON = [("Content-Type", "application/json")]
_FORM = [(b"content-type", b"application/x-www-form-urlencoded")]


async def test_a_call_never_answered_is_kept_with_its_error(
    service: Service, preview: dict
) -> None:
    gid = preview["gid"]
    with trio.fail_after(60):
        # The path proxy below Hypercorn (a connection of its own), then through it.
        below = await proxied(service, preview, "GET", "/hangup?way=hot")
        through = await proxied(
            service, preview, "GET", "/hangup?way=asgi", headers={"Connection": "close"}
        )
        # The preview's own origin, both ways.
        origin = {"Host": preview["host"], "Cookie": await origin_cookie(service, preview)}
        at_origin = await fresh(service, "GET", "/hangup?way=hot", headers=origin)
        closing = await fresh(
            service, "GET", "/hangup?way=asgi", headers={**origin, "Connection": "close"}
        )
        for answer in (below, through, at_origin, closing):
            assert answer.status_code == 502, answer.text
            failure = answer.json()
            assert failure["error"] == "upstream_unavailable"
            # What happened, in words (not "refused or reset") and for a program.
            assert failure["message"] == (
                "The preview closed the connection without answering: what it printed is"
                " in its log (RemoteProtocolError)."
            ), failure
            assert failure["details"] == {"cause": "closed_unanswered"}
        page = await listed(service, gid)
        log = await service.history(gid, source="proxy")
        kept = list(reversed(page["requests"]))
        whole = await one(service, gid, kept[0]["id"])
    assert [(r["way"], r["path"], r["status"]) for r in kept] == [
        ("proxy", "/hangup?way=hot", None),
        ("proxy", "/hangup?way=asgi", None),
        ("origin", "/hangup?way=hot", None),
        ("origin", "/hangup?way=asgi", None),
    ]
    assert all(r["error"] == "RemoteProtocolError" for r in kept), kept
    # Each linked to its proxy line, which says the same error.
    lines = {event["id"]: event["message"] for event in log}
    for request in kept:
        assert request["requestId"] in lines[request["eventId"]]
        assert "RemoteProtocolError" in lines[request["eventId"]]
    assert whole["status"] is None and whole["responseBody"] is None
    assert whole["requestHeaders"] and whole["error"] == "RemoteProtocolError"


async def test_credentials_in_bodies_are_masked(service: Service, preview: dict) -> None:
    gid = preview["gid"]
    login = {"user": "a", "password": "hunter2", "nested": {"api_key": "k-0f9e"}}
    form = "user=b&Client_Secret=f0rm-secret&token=tk-77&note=kept+as+sent"
    with trio.fail_after(60):
        posted = await proxied(service, preview, "POST", "/login", json=login)
        assert posted.status_code == 201 and posted.json()["password"] == "hunter2"
        formed = await proxied(
            service,
            preview,
            "POST",
            "/form",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert formed.status_code == 201 and formed.json()["token"] == "tk-77"
        enveloped = await envelope(service, preview, method="POST", path="/in", body=login)
        assert enveloped.json()["statusCode"] == 201
        kept = list(reversed((await listed(service, gid))["requests"]))
        rows = [await one(service, gid, r["id"]) for r in kept]
        har = await service.client.get(api(gid, "/requests.har"), headers=auth())
    assert har.status_code == 200
    masked = {"user": "a", "password": "[masked]", "nested": {"api_key": "[masked]"}}
    for row in (rows[0], rows[2]):
        assert json.loads(row["requestBody"]["text"]) == masked
        assert row["requestBody"]["truncated"] is False
        answered = json.loads(row["responseBody"]["text"])  # the app echoes it back
        assert answered["password"] == "[masked]" and answered["user"] == "a"
    assert rows[1]["requestBody"]["text"] == (
        "user=b&Client_Secret=[masked]&token=[masked]&note=kept+as+sent"
    )
    assert json.loads(rows[1]["responseBody"]["text"])["token"] == "[masked]"
    for secret in ("hunter2", "k-0f9e", "f0rm-secret", "tk-77"):
        assert secret not in json.dumps(rows) and secret not in har.text
    # A replay's new answer is shown and compared as the kept one is: masked.
    with trio.fail_after(60):
        session = await proxied(service, preview, "POST", "/session", json={"user": "c"})
        fresh_token = session.json()["access_token"]
        newest = (await listed(service, gid, limit=1))["requests"][0]
        replayed = await service.client.post(
            api(gid, "/requests/replay"),
            json={"ids": [newest["id"]]},
            headers={**auth(), "X-Preview-Token": preview["previewToken"]},
        )
    assert replayed.status_code == 200, replayed.text
    (result,) = replayed.json()["results"]
    assert result["same"] is True, result
    assert json.loads(result["after"]["body"]["text"])["access_token"] == "[masked]"
    assert fresh_token not in replayed.text


def test_a_cut_body_keeps_no_credential_value() -> None:
    """A sample cut short does not parse: each credential pair is masked in place, the
    rest left as it is, and its size still says it was cut."""
    body = b'{"user": "a", "token": 12, "password": "hunter2", "list": [{"apiKey": "x1'
    kept, size = mask_body(body, 500, _JSON)
    assert kept == (
        b'{"user": "a", "token": "[masked]", "password": "[masked]", "list": [{"apiKey": "[masked]"'
    )
    assert size == 500
    kept, size = mask_body(b"a=1&passwd=hunt", 100, _FORM)
    assert (kept, size) == (b"a=1&passwd=[masked]", 100)
    # Not JSON nor a form, or no credential: as it was, byte for byte.
    text = b'{"password": "p"}'
    assert mask_body(text, 17, [("Content-Type", "text/plain")]) == (text, 17)
    spaced = b'{ "max_tokens" : 5,  "token_type": "bearer" }'
    assert mask_body(spaced, len(spaced), _JSON) == (spaced, len(spaced))


def test_a_body_nested_past_the_decoder_is_masked_in_place() -> None:
    """The app's answer (or the client's body) nested deeper than Python's decoder or a
    walk over it goes is still kept, each credential pair masked in the text: it once
    raised RecursionError, and the call was missing from the history."""
    for depth in (5000, 990):
        body = b'{"token": "t0ps3cret", "a": ' + b"[" * depth + b"]" * depth + b"}"
        kept, size = mask_body(body, len(body), _JSON)
        assert kept.startswith(b'{"token": "[masked]", "a": [[[') and size == len(kept)


_PARTS = [
    ("user", None, b"alice"),
    ("password", None, b"hunter2"),
    ("avatar", "token.png", b"\x89PNG not a secret"),
    ("client_secret", None, b"s3cr3t-value"),
]


def _multipart(boundary: str) -> bytes:
    body = b""
    for name, filename, content in _PARTS:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


async def test_credentials_in_multipart_bodies_are_masked(service: Service, preview: dict) -> None:
    body = _multipart("b0undary")
    with trio.fail_after(60):
        put = await proxied(
            service,
            preview,
            "PUT",
            "/upload",
            content=body,
            headers={"Content-Type": 'multipart/form-data; boundary="b0undary"'},
        )
        assert put.status_code == 200 and put.json()["received"] == len(body)
        newest = (await listed(service, preview["gid"], limit=1))["requests"][0]
        row = await one(service, preview["gid"], newest["id"])
    sent = row["requestBody"]
    assert sent["encoding"] == "base64"  # (not UTF-8: the file part's bytes)
    kept = base64.b64decode(sent["text"]).decode("latin-1")
    assert "hunter2" not in kept and "s3cr3t-value" not in kept
    assert 'name="password"\r\n\r\n[masked]\r\n--b0undary' in kept
    assert 'name="client_secret"\r\n\r\n[masked]\r\n--b0undary--' in kept
    assert "alice" in kept and "not a secret" in kept  # the rest as sent (a file named token)


def test_a_cut_multipart_body_keeps_no_credential_value() -> None:
    body = _multipart("XyZ")
    heads = [(b"content-type", b"multipart/form-data; boundary=XyZ")]
    cut = body[: body.index(b"hunter2") + 4]  # inside the password's value
    kept, size = mask_body(cut, len(body), heads)
    assert kept.endswith(b'name="password"\r\n\r\n[masked]') and b"hunt" not in kept
    assert size == len(body)
    whole, size = mask_body(body, len(body), heads)
    assert whole == body.replace(b"hunter2", b"[masked]").replace(b"s3cr3t-value", b"[masked]")
    assert size == len(whole)
    # Without a boundary it is no multipart body to read: as it was.
    assert mask_body(body, len(body), [("Content-Type", "multipart/form-data")]) == (
        body,
        len(body),
    )


async def test_an_unanswered_call_says_what_the_app_printed_on_why(
    service: Service, preview: dict
) -> None:
    """gunicorn logs a handler's OSError (requests' ConnectionError is one) and hangs up:
    the 502 says the app's error, and why where its sandbox made the lookup fail."""
    origin = {"Host": preview["host"], "Cookie": await origin_cookie(service, preview)}
    with trio.fail_after(60):
        answers = [
            await proxied(service, preview, "GET", "/outside?way=hot"),
            await proxied(
                service, preview, "GET", "/outside?way=asgi", headers={"Connection": "close"}
            ),
            await fresh(service, "GET", "/outside?way=hot", headers=origin),
            await fresh(
                service, "GET", "/outside?way=asgi", headers={**origin, "Connection": "close"}
            ),
            await envelope(service, preview, method="GET", path="/outside"),
        ]
        hung_up = await proxied(service, preview, "GET", "/hangup")  # printing nothing
    said = "ConnectionError: HTTPSConnectionPool(host='api.example.com', port=443): Max retries"
    sandboxed = preview["isolation"] != "none"
    for answer in answers:
        assert answer.status_code == 502, answer.text
        failure = answer.json()
        assert failure["details"]["cause"] == "closed_unanswered", failure
        app_error = failure["details"]["appError"]
        assert app_error.startswith(said), failure
        # Its sandbox resolves no outside name: what would let the call through (told
        # from the whole lines: the error itself is clipped before the words that say so).
        assert ("PREVIEW_EGRESS" in app_error) is sandboxed, failure
        assert failure["message"] == (
            "The preview closed the connection without answering (RemoteProtocolError);"
            f" it printed: {app_error}"
        )
    assert hung_up.json()["details"] == {"cause": "closed_unanswered"}


def test_a_long_bodys_credential_words_are_found_as_the_search_finds_them() -> None:
    """The words are found in one pass (RE2, not Python's case-insensitive search: its
    cost a byte, on the event loop at each call): the same answers as that search, in
    any case and each spelling of an API key, short bodies and long."""
    import re

    from preview.history.masking import may_name_credentials

    search = re.compile(rb"passw|pwd|secret|token|api[-_]?key|authorization", re.I)
    for filler in (b'{"id": 1, "name": "apple", "price": 1.5},' * n for n in (20, 200)):
        for word in (
            b"PassWord",
            b"PWD",
            b"client_Secret",
            b"accessToken",
            b"apiKey",
            b"API-KEY",
            b"api_key",
            b"Authorization",
            b"apikeys",
            b"api.key",
            b"tok en",
            b"",
        ):
            for body in (filler + word, word + filler, word):
                assert may_name_credentials(body) == (search.search(body) is not None), body[:40]
        assert not may_name_credentials(filler) and may_name_credentials(filler + b'"Token"')


@pytest.mark.parametrize(
    ("content_type", "asset"),
    [
        ("application/javascript; charset=utf-8", True),
        ("text/javascript", True),
        ("TEXT/CSS", True),
        ("image/png", True),
        ("image/svg+xml", True),
        ("font/woff2", True),
        ("application/font-woff", True),
        ("application/wasm", True),
        ("video/mp4", True),
        ("application/x-javascript", True),
        ("application/json", False),
        ("text/html; charset=utf-8", False),
        ("text/plain", False),
        ("application/octet-stream", False),
        ("application/x-www-form-urlencoded", False),
        ("", False),
    ],
)
def test_a_pages_assets_are_told_by_their_type(content_type: str, asset: bool) -> None:
    heads = [(b"content-length", b"10"), (b"Content-Type", content_type.encode())]
    assert is_asset(heads) is asset
    assert is_asset([("content-type", content_type)]) is asset


def _masked_as_parsed(value: object) -> object:
    """A JSON value with each credential-named key's value masked, walked (the meaning
    of masking a JSON body, whatever way the text is masked)."""
    if isinstance(value, dict):
        return {
            key: "[masked]" if _secret_key(key) else _masked_as_parsed(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked_as_parsed(item) for item in value]
    return value


def _secret_key(key: str) -> bool:
    """The rule, written again, plainly: a key named like a credential."""
    lowered = key.lower()
    words = (
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api-key",
        "api_key",
        "authorization",
    )
    return any(lowered.endswith(word) for word in words)


def _credential_holds_many(value: object) -> bool:
    """Whether a credential-named key's value is an object or an array, at any depth."""
    if isinstance(value, dict):
        return any(
            isinstance(item, dict | list) if _secret_key(key) else _credential_holds_many(item)
            for key, item in value.items()
        )
    return isinstance(value, list) and any(_credential_holds_many(item) for item in value)


def test_json_bodies_are_masked_in_place_as_parsing_them_would() -> None:
    """Random JSON documents (a seed, 400 of them) of keys named like credentials and
    not, nested, written compact or spaced, short and long: masked in place, each parses
    to the walked masking of the document, and the text around the values is kept byte
    for byte."""
    rng = random.Random(7)
    keys = [
        "id",
        "name",
        "Password",
        "hashed_password",
        "passwords",
        "max_tokens",
        "token_type",
        "API_KEY",
        "client_secret",
        "note",
        "Authorization",
        "pwd",
        "x-api-key",
        "tokenizer",
        'my "token"',
        'a "pwd": 1',
    ]
    texts = ["kiwi", "a token: here", 'say "password": no', 'pwd"', "ünïcode", ""]

    def value(depth: int) -> object:
        roll = rng.random()
        if depth < 3 and roll < 0.2:
            return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 4))}
        if depth < 3 and roll < 0.3:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return rng.choice([*texts, 1, -2.5, True, None])

    for _ in range(400):
        document = {rng.choice(keys): value(0) for _ in range(rng.randint(1, 6))}
        if rng.random() < 0.4:  # past masking._SCANNED_FROM: searched by RE2 first
            document[rng.choice(["id", "note"])] = "long text " * 500
        separators = rng.choice([(",", ":"), (", ", ": "), (",", " : ")])
        body = json.dumps(document, separators=separators, ensure_ascii=rng.random() < 0.5)
        raw = body.encode()
        kept, size = mask_body(raw, len(raw), [("content-type", "application/json")])
        assert json.loads(kept) == _masked_as_parsed(document), body
        assert size == len(kept)
        if not _credential_holds_many(document):  # else parsed and written again
            # Masked in place: the text before the first masked value is as sent.
            before = kept.split(b'"[masked]"')[0]
            assert raw.startswith(before) and (kept == raw) == (before == kept), body


def test_a_json_body_whose_credential_words_are_in_its_values_only_is_kept_whole() -> None:
    body = json.dumps([{"id": n, "text": 'the token is "pwd": see password'} for n in range(2000)])
    raw = body.encode()
    assert mask_body(raw[:65536], len(raw), [("content-type", "application/json")]) == (
        raw[:65536],
        len(raw),
    )


@pytest.mark.parametrize("padding", [0, 5000], ids=["short", "long"])
def test_a_json_key_written_with_escapes_is_masked_as_its_name_reads(padding: int) -> None:
    """``"pass\\u0077ord"`` is the key ``password`` (no encoder writes a letter so, a key
    hiding its name would): the body is parsed and its value masked; escaped letters in
    another key or in values only leave a body as sent."""
    note = "n" * padding
    heads = [("content-type", "application/json")]
    start = '{"note": "' + note + '", '
    hidden = (start + '"pass\\u0077ord": "hunter2", "T\\u006fken": 7}').encode()
    kept, size = mask_body(hidden, len(hidden), heads)
    assert json.loads(kept) == {"note": note, "password": "[masked]", "Token": "[masked]"}
    assert b"hunter2" not in kept and size == len(kept)
    for body in (
        start + '"n\\u0061me": "hunter2"}',
        start + '"name": "\\u003cb\\u003e hunter2 \\u0077"}',
    ):
        raw = body.encode()
        assert mask_body(raw, len(raw), heads) == (raw, len(raw))
