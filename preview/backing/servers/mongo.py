"""A preview's own MongoDB: NX-27017, a MongoDB wire server on SQLite (PyPI's
``nx-27017``, declared by the service), throwaway and small.

Nothing installs MongoDB's own server here (Debian packages none, and its downloads are
out of reach), while a third of the Express and many of the FastAPI backends uploaded
keep their data in it. NX-27017 answers MongoDB's drivers (pymongo, motor, the Node
driver under mongoose) with its documents in one SQLite file a database, in the server's
own folder: nothing is kept past the preview. It runs with the service's interpreter, as
``seams.nx27017`` (by path: nothing of the service is imported there), on a Unix socket.

It logs in the accounts the app's configuration names (a URL's ``root:example@``, a
compose service's ``MONGO_INITDB_ROOT_USERNAME``), from a file in its folder; a URL
without an account connects as to a MongoDB with no access control, as a developer's own
does. The app is told its server under the names it reads (:func:`mongo_environment`).
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from urllib.parse import quote

from ...sandbox.bubblewrap import interpreter_dirs
from ...sandbox.outbound import socket_reply
from ...seams import nx27017
from ..wanted import MONGO_PORT, MongoWanted

__all__ = [
    "ACCOUNTS_FILE",
    "SOCKET_NAME",
    "mongo_accounts",
    "mongo_argv",
    "mongo_binary",
    "mongo_environment",
    "mongo_read_only",
    "mongo_ready",
]

SOCKET_NAME = "mongodb-27017.sock"  # (mongod's own name for its socket)
ACCOUNTS_FILE = "accounts.json"
DATA_DIR = "/tmp/mongo-data"  # (its sandbox's own tmpfs)
_SERVER_SCRIPT = Path(nx27017.__file__)
_USUAL_NAMES: tuple[str, ...] = ("MONGO_URI", "MONGODB_URI", "MONGO_URL", "MONGODB_URL")
_OP_MSG = 2013  # the wire protocol's message of a command and of its answer


def mongo_binary() -> str | None:
    """The interpreter that runs it (the service's), where NX-27017 is installed
    (``pip install nx-27017``); None where it is not."""
    return sys.executable if nx27017.available() else None


def mongo_argv(python: str, directory: Path, socket: Path) -> list[str]:
    """Its command line: the seam's script, by path, run by ``python``; its databases on
    its sandbox's ``/tmp`` (bounded as the app's disk is), its accounts in ``directory``."""
    return [
        python,
        str(_SERVER_SCRIPT),
        "--socket",
        str(socket),
        "--data",
        DATA_DIR,
        "--accounts",
        str(directory / ACCOUNTS_FILE),
    ]


def mongo_read_only(python: str) -> tuple[Path, ...]:
    """What its sandbox reads besides the system: ``python``'s venv and installation
    (where NX-27017 is installed) and the seam's folder."""
    return (*interpreter_dirs(python), _SERVER_SCRIPT.parent)


def mongo_accounts(wanted: MongoWanted) -> str:
    """Its accounts file (JSON: user -> password)."""
    return json.dumps(wanted.accounts)


def _database(wanted: MongoWanted) -> str:
    return wanted.databases[0] if wanted.databases else "app"


def mongo_environment(wanted: MongoWanted) -> dict[str, str]:
    """What fills the app's unset variables: MongoDB's usual names (``MONGO_URI``,
    ``MONGODB_URI`` …) and each name its configuration or code reads a MongoDB URL by
    (:attr:`MongoWanted.templates`), as its server's URL, with its first account."""
    host = "mongo" if "mongo" in wanted.hosts else "localhost"
    database = _database(wanted)
    auth = user = password = ""
    if wanted.accounts:
        user, password = next(iter(wanted.accounts.items()))
        auth = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    options = "?authSource=admin" if auth else ""
    url = f"mongodb://{auth}{host}:{MONGO_PORT}/{quote(database, safe='')}{options}"
    env: dict[str, str] = dict.fromkeys(_USUAL_NAMES, url)
    env.update(dict.fromkeys(wanted.templates, url))
    env.update({"MONGO_HOST": host, "MONGO_PORT": str(MONGO_PORT)})
    env.update(dict.fromkeys(wanted.database_variables, database))
    env.update(dict.fromkeys(wanted.user_variables, user))
    env.update(dict.fromkeys(wanted.password_variables, password))
    return env


def _hello() -> bytes:
    """``{hello: 1, $db: "admin"}`` as an OP_MSG: what a driver asks first."""
    document = (
        b"\x10hello\x00"
        + struct.pack("<i", 1)
        + b"\x02$db\x00"
        + struct.pack("<i", len(b"admin\x00"))
        + b"admin\x00"
    )
    body = struct.pack("<i", 4 + len(document) + 1) + document + b"\x00"
    message = struct.pack("<I", 0) + b"\x00" + body  # no flags, one body section
    return struct.pack("<iiii", 16 + len(message), 1, 0, _OP_MSG) + message


async def mongo_ready(socket_path: Path) -> bool:
    """Whether the server answers a driver's ``hello`` with an OP_MSG of its own."""
    answer = await socket_reply(socket_path, _hello(), 4096)
    return len(answer) >= 16 and struct.unpack("<i", answer[12:16])[0] == _OP_MSG
