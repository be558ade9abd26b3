"""A preview's own MongoDB: NX-27017's wire server on NeoSQLite, run by path as a script
in the server's sandbox (``backing.mongo``), listening on a Unix socket.

NX-27017 is a command line that listens on TCP; its parts a server is made of are not a
documented API, so they are reached here (pinned: ``tests/seams``): its command handler
(``NeoSQLiteHandler``, one SQLite file a database under ``--data``) and its connection
loop (``handle_client``), which this script serves on the socket its sandbox binds into
the app's. What the handler lacks is are added around its commands:

* logging in. A MongoDB URL with an account (``mongodb://root:example@mongo:27017``, as a
  compose file's ``MONGO_INITDB_ROOT_USERNAME`` sets one) makes the client authenticate
  with SCRAM, which the handler does not know; the accounts the app's configuration
  names (``--accounts``: a JSON file, never the command line) are served SCRAM-SHA-256
  and SCRAM-SHA-1 by scramp, as MongoDB serves them (SHA-1's password is MongoDB's
  digest of it).
* the oldest wire version it answers: 0, as MongoDB's own servers say, not MongoDB 6.0's,
  which older drivers refuse.
* a query's regular expression sent as BSON's own type (mongoose sends a JavaScript
  ``/abc/i`` so), which the handler binds into SQL as it is ("type 'Regex' is not
  supported"): it is given as the ``$regex`` operator it reads.

Nothing of the service is imported: the script runs with the service's interpreter
alone, by its path. asyncio, not Trio: NX-27017's loop is asyncio's.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import logging
import math
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

__all__ = ["MECHANISMS", "Scram", "available", "main", "served_handler"]

MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-1")
_ITERATIONS = 4096  # the least either mechanism's clients accept
_HELLO = ("hello", "Hello", "isMaster", "ismaster")
_OPTIONS = {re.IGNORECASE: "i", re.MULTILINE: "m", re.DOTALL: "s", re.VERBOSE: "x"}


def available() -> bool:
    """Whether NX-27017 and the driver's BSON types are installed (looked up, not
    imported: the service itself never loads them)."""
    return all(importlib.util.find_spec(name) is not None for name in ("nx_27017", "bson"))


class Scram:
    """One SCRAM conversation's server side, scramp's, with MongoDB's one difference: the
    password SCRAM-SHA-1 is given is MongoDB's digest of it (``user:mongo:password``)."""

    def __init__(self, mechanism: str, accounts: dict[str, str]) -> None:
        from scramp import ScramMechanism

        scram = ScramMechanism(mechanism)

        def auth_info(user: str) -> tuple[bytes, bytes, bytes, int]:
            password = accounts.get(user)
            if password is None:
                raise PermissionError(f"no account {user!r} on this server")
            if mechanism == "SCRAM-SHA-1":
                digest = hashlib.md5(f"{user}:mongo:{password}".encode())
                password = digest.hexdigest()
            return scram.make_auth_info(password, iteration_count=_ITERATIONS)

        self._server = scram.make_server(auth_info)
        self.done = False

    def start(self, payload: bytes) -> bytes:
        """The client's first message -> the server's first."""
        self._server.set_client_first(payload.decode())
        return self._server.get_server_first().encode()

    def next(self, payload: bytes) -> bytes:
        """The client's final message (its proof) -> the server's (its signature); then,
        if the client asks once more (no ``skipEmptyExchange``), nothing."""
        if self.done:
            return b""
        self._server.set_client_final(payload.decode())
        self.done = True
        return self._server.get_server_final().encode()


def _as_operators(value: Any, regex: type) -> Any:
    """``value`` with every regular expression (``regex``: BSON's type, or Python's) a
    ``$regex`` operator's document."""
    if isinstance(value, regex | re.Pattern):
        options = "".join(letter for flag, letter in _OPTIONS.items() if value.flags & flag)
        return {"$regex": value.pattern, "$options": options}
    if isinstance(value, dict):
        return {key: _as_operators(item, regex) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_operators(item, regex) for item in value]
    return value


def _whole_count(value: Any) -> Any:
    """A skip's or a limit's number as MongoDB reads it: a float's whole part, NaN none
    (None: the option left out); anything else as it is."""
    if not isinstance(value, float):
        return value
    return None if math.isnan(value) or math.isinf(value) else int(value)


def _whole_counts(body: dict[str, Any]) -> dict[str, Any]:
    """A ``find``'s skip and limit, and an ``aggregate``'s ``$skip`` and ``$limit`` stages,
    whole numbers (:func:`_whole_count`), a find's negative limit that many in one batch:
    the Node driver sends JavaScript's numbers as they are (``.skip(Number(undefined))``
    is a NaN skip), which NX-27017 slices with."""
    if "find" in body:
        for option in [o for o in ("skip", "limit") if o in body]:
            if (count := _whole_count(body.pop(option))) is not None:
                body[option] = count
        if isinstance(body.get("limit"), int) and body["limit"] < 0:
            body["limit"], body["singleBatch"] = -body["limit"], True
    elif "aggregate" in body and isinstance(body.get("pipeline"), list):
        stages = []
        for stage in body["pipeline"]:
            if isinstance(stage, dict) and len(stage) == 1 and {*stage} & {"$skip", "$limit"}:
                ((name, value),) = stage.items()
                count = _whole_count(value)
                if count is None and name == "$skip":
                    continue
                stage = {name: value if count is None else count}
            stages.append(stage)
        body["pipeline"] = stages
    return body


def served_handler(data_dir: str, accounts: dict[str, str]) -> Any:
    """NX-27017's handler of databases under ``data_dir``, with ``accounts`` to log in
    and regular expressions read (module doc)."""
    from bson.binary import Binary
    from bson.regex import Regex
    from nx_27017.handler import NeoSQLiteHandler
    from scramp import ScramException

    class Served(NeoSQLiteHandler):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            super().__init__(data_dir=data_dir)
            self.conversations: dict[str, Scram] = {}

        def handle_command(self, msg: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            sections = msg.get("sections") or []
            body = next((doc for kind, doc in sections if kind == "body"), None)
            if not isinstance(body, dict):
                return super().handle_command(msg)
            if "saslStart" in body or "saslContinue" in body:
                return msg["request_id"], self._sasl(str(msg.get("_conn_id")), body)
            msg["sections"] = [
                (kind, _whole_counts(_as_operators(doc, Regex)) if kind == "body" else doc)
                for kind, doc in sections
            ]
            request_id, answer = super().handle_command(msg)
            if any(key in body for key in _HELLO):
                # MongoDB's own servers say 0 here: NX-27017's 17 (MongoDB 6.0's) turns
                # away the drivers of mongoose 5 and 6 ("reports minimum wire version 17,
                # but this version of the Node.js Driver requires at most 13").
                answer["minWireVersion"] = 0
                if "saslSupportedMechs" in body:
                    answer["saslSupportedMechs"] = list(MECHANISMS)
            return request_id, answer

        def _sasl(self, connection: str, body: dict[str, Any]) -> dict[str, Any]:
            try:
                if "saslStart" in body:
                    mechanism = str(body.get("mechanism", ""))
                    if mechanism not in MECHANISMS:
                        return {"ok": 0, "code": 2, "errmsg": f"no mechanism {mechanism}"}
                    scram = self.conversations[connection] = Scram(mechanism, accounts)
                    answer = scram.start(bytes(body["payload"]))
                else:
                    scram = self.conversations[connection]
                    answer = scram.next(bytes(body["payload"]))
            except (PermissionError, KeyError, ValueError, ScramException) as error:
                self.conversations.pop(connection, None)
                refused = {"ok": 0, "code": 18, "codeName": "AuthenticationFailed"}
                return {**refused, "errmsg": str(error)}
            skip = bool((body.get("options") or {}).get("skipEmptyExchange"))
            done = scram.done and (skip or not answer)
            if done:  # (the connection's conversation is over: not kept for its life)
                self.conversations.pop(connection, None)
            return {"ok": 1, "conversationId": 1, "done": done, "payload": Binary(answer, 0)}

    return Served()


async def _serve(socket_path: str, data_dir: str, accounts: dict[str, str]) -> None:
    from nx_27017.server import handle_client

    handler = served_handler(data_dir, accounts)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle_client(reader, writer, handler)

    server = await asyncio.start_unix_server(connection, path=socket_path)
    os.chmod(socket_path, 0o777)  # the app's sandbox reaches it under another uid's relay
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A preview's own MongoDB (NX-27017)")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--accounts", help="a JSON file: {user: password}")
    args = parser.parse_args(argv)
    if not available():
        print("NX-27017 is not installed", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    accounts = json.loads(Path(args.accounts).read_text()) if args.accounts else {}
    Path(args.data).mkdir(parents=True, exist_ok=True)
    asyncio.run(_serve(args.socket, args.data, accounts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
