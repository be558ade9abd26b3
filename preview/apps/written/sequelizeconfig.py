"""The ``config/config.json`` of sequelize-cli's layout that an upload lacks: written
with the served database (:func:`sequelize_configs`, read from the upload, never run).

``sequelize init`` makes ``models/index.js``, which opens the database named by
``require(__dirname + '/../config/config.json')[env]``, and sequelize-cli's ``db:migrate``
reads the same file (``.sequelizerc`` may put it elsewhere). Its author's passwords are in
it, so it is often kept out of the repository with no example of it: FabCode67's
nodejs-express-sequelize-postgres then failed its migrations on 'Cannot find
"config/config.json"'. The file is written with the preview's database for each
environment sequelize-cli knows (SQLite's file in the app's folder where none is served).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Collection

from ..configvars import ServedDatabase
from ..node.envreads import node_sources

__all__ = ["sequelize_config_text", "sequelize_configs"]

# require(__dirname + '/../config/config.json'), require("../config/config.json"), and
# without its extension, as Node finds it (``require('../config/config')[env]``:
# yegyeom's my-instagram-express-server, "Cannot find module '../config/config'");
# require(path.join(__dirname, '..', 'config', 'config.json')) is left out (rare).
_REQUIRED = re.compile(
    r"""require\(\s*(?:__dirname\s*\+\s*)?["'`]([^"'`]*config(?:/config|\.json))["'`]\s*\)"""
)
# .sequelizerc's config: path.resolve('src', 'config', 'config.json') or a plain path.
_RC_CONFIG = re.compile(r"""["']?config["']?\s*:\s*path\.resolve\(([^)]*)\)""")
_RC_PART = re.compile(r"""["']([^"']+)["']""")
_DIALECTS = {"postgresql": "postgres", "mysql": "mysql"}
_ENVIRONMENTS = ("development", "test", "production")


def sequelize_configs(files: dict[str, bytes], copied: Collection[str]) -> list[str]:
    """The upload's paths of the sequelize-cli config files its code requires (or its
    ``.sequelizerc`` names) that it lacks, but those ``copied`` from an example of them
    (``configdefaults.example_copies``: ``config.example.json``, ``example.config.json``)."""
    found: list[str] = []
    for path, data in sorted(files.items()):
        if posixpath.basename(path) == ".sequelizerc":
            target = _rc_config(path, data.decode("utf-8", "replace"))
            if target is not None:
                found.append(target)
    for path, text in node_sources(files):
        if "config" not in text or "equelize" not in text:
            continue
        for match in _REQUIRED.finditer(text):
            relative = match.group(1)
            if relative.startswith("/"):  # __dirname + '/../config/config.json'
                relative = "." + relative
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), relative))
            if not target.endswith(".json"):  # (its .js first, where the upload has one)
                if f"{target}.js" in files:
                    continue
                target += ".json"
            found.append(target)
    lacked = {t for t in found if not t.startswith("..") and t not in files}
    return sorted(lacked - set(copied))


def sequelize_config_text(served: ServedDatabase | None) -> bytes:
    """The config file: each environment the served database (SQLite's file where none)."""
    if served is None or served.engine not in _DIALECTS:
        settings: dict[str, object] = {"dialect": "sqlite", "storage": "database.sqlite3"}
    else:
        settings = {
            "username": served.user,
            "password": served.password,
            "database": served.name,
            "host": served.host,
            "port": int(served.port) if served.port.isdigit() else served.port,
            "dialect": _DIALECTS[served.engine],
        }
    return json.dumps(dict.fromkeys(_ENVIRONMENTS, settings), indent=2).encode() + b"\n"


def _rc_config(path: str, text: str) -> str | None:
    match = _RC_CONFIG.search(text)
    if match is None:
        return None
    parts = _RC_PART.findall(match.group(1))
    if not parts or not parts[-1].endswith(".json"):
        return None  # a .js config is code, not ours to write
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), *parts))
