"""The MongoDB a preview is given (``preview.seams.nx27017``), run as its sandbox runs it: a
script of its own on a Unix socket, reached by the real driver (pymongo)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pymongo
import pytest
from pymongo.errors import OperationFailure

from preview.seams import nx27017

pytestmark = pytest.mark.skipif(not nx27017.available(), reason="NX-27017 is not installed")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The server on a socket in ``tmp_path`` with one account; its socket's URL part."""
    socket = tmp_path / "mongo.sock"
    (tmp_path / "accounts.json").write_text(json.dumps({"root": "ex@mple:1"}))
    argv = [sys.executable, nx27017.__file__, "--socket", str(socket), "--data"]
    argv += [str(tmp_path / "data"), "--accounts", str(tmp_path / "accounts.json")]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not socket.exists():  # it binds once its handler is made
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the server never bound its socket"
            time.sleep(0.05)
        yield quote(str(socket), safe="")
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0  # SIGTERM ends it cleanly


def _client(url: str) -> pymongo.MongoClient:
    return pymongo.MongoClient(url, serverSelectionTimeoutMS=10_000, connectTimeoutMS=10_000)


def test_accounts_log_in_with_either_scram_and_a_wrong_password_is_refused(server: str) -> None:
    password = quote("ex@mple:1", safe="")
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
        url = f"mongodb://root:{password}@{server}/shop?authSource=admin"
        with _client(f"{url}&authMechanism={mechanism}") as client:
            client.shop.items.insert_one({"by": mechanism})
    with _client(f"mongodb://{server}/shop") as client:  # no account: as with no access control
        assert sorted(i["by"] for i in client.shop.items.find()) == ["SCRAM-SHA-1", "SCRAM-SHA-256"]
    for wrong in (f"root:nope@{server}", f"nobody:{password}@{server}"):
        with (
            _client(f"mongodb://{wrong}/shop") as client,
            pytest.raises(OperationFailure) as raised,
        ):
            client.shop.items.find_one()
        assert raised.value.code == 18  # AuthenticationFailed, as MongoDB says it


def test_a_regular_expression_of_bsons_own_type_is_a_regex_query(server: str) -> None:
    """mongoose sends a JavaScript ``/milk/i`` as BSON's regular expression, which NX-27017
    alone binds into SQL as it is ("type 'Regex' is not supported")."""
    with _client(f"mongodb://{server}/app") as client:
        client.app.notes.insert_many([{"t": "Buy milk"}, {"t": "call Bob"}, {"t": "MILKshake"}])
        found = client.app.notes.find({"t": re.compile("milk", re.IGNORECASE)}, {"_id": 0})
        assert sorted(n["t"] for n in found) == ["Buy milk", "MILKshake"]
        nested = {"$or": [{"t": re.compile("^call")}, {"t": "none"}]}
        assert [n["t"] for n in client.app.notes.find(nested)] == ["call Bob"]


def test_it_says_the_oldest_wire_version_mongodb_does(tmp_path: Path) -> None:
    """0, as MongoDB's own servers say: NX-27017's 17 turned away mongoose 5's and 6's
    drivers ("reports minimum wire version 17, but this version of the Node.js Driver
    requires at most 13")."""
    handler = nx27017.served_handler(str(tmp_path), {})
    hello = {"request_id": 1, "sections": [("body", {"hello": 1, "$db": "admin"})], "_conn_id": "c"}
    _, answer = handler.handle_command(hello)
    assert answer["ok"] == 1 and answer["minWireVersion"] == 0 and answer["maxWireVersion"] >= 13


def test_a_find_of_a_fractional_or_nan_skip_and_limit_reads_them_as_mongodb_does(
    server: str,
) -> None:
    """The Node driver sends JavaScript's numbers as they are: InvoiceNestJs's
    ``.skip(Number(undefined))`` asks for a NaN skip, which MongoDB reads as none (and
    ``2.0`` as 2, a negative limit as that many in one batch), where NX-27017 failed every
    list ("Indices for islice() must be None or an integer")."""
    with _client(f"mongodb://{server}/app") as client:
        client.app.items.insert_many([{"n": n} for n in range(5)])

        def found(**options: float) -> list[int]:
            answer = client.app.command({"find": "items", "filter": {}, **options})
            return [item["n"] for item in answer["cursor"]["firstBatch"]]

        assert found(skip=float("nan")) == [0, 1, 2, 3, 4]
        assert found(skip=1.0, limit=2.0) == [1, 2]
        assert found(limit=-3) == [0, 1, 2]
        assert found(limit=float("nan")) == [0, 1, 2, 3, 4]
        pipeline = [{"$skip": float("nan")}, {"$limit": 2.0}]
        answer = client.app.command({"aggregate": "items", "pipeline": pipeline, "cursor": {}})
        assert [item["n"] for item in answer["cursor"]["firstBatch"]] == [0, 1]
