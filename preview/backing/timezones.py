"""The time zones an app names for its MariaDB, and the SQL loading them into its server.

A server made by ``mariadb-install-db`` knows no zone by name: its ``mysql.time_zone*``
tables are empty, as MySQL's official image leaves them. An app naming one fails where
the image it was written against had them loaded (MarcoSilva0's api-rest-escola-express:
Sequelize's ``timezone: 'America/Sao_Paulo'``, then "setting timezone
'America/Sao_Paulo' fails on server" in its first migration; Django's date lookups under
``USE_TZ`` convert with ``CONVERT_TZ(…, 'UTC', 'America/…')`` and meet NULL). Only the
zones the upload names are loaded, by MariaDB's own ``mariadb-tzinfo-to-sql`` from the
machine's zone database, into the server's init file: a few kilobytes each, where every
zone would double the template every server copies (the transitions and Aria's log).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import zoneinfo
from pathlib import Path

__all__ = ["named_time_zones", "time_zone_sql"]

# An IANA name in a string of its code or config, or a variable's value (``TZ=Asia/Tokyo``).
_ZONE_NAME = re.compile(
    r"""(?:["'`]|^[\w.]+\s*[=:]\s*)((?:Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia"""
    r"""|Brazil|Canada|Chile|Europe|Indian|Mexico|Pacific|US|Etc)/[A-Za-z0-9_+-]+"""
    r"""(?:/[A-Za-z0-9_+-]+)?|UTC)(?=["'`]|\s*$)""",
    re.M,
)
_SOURCES = re.compile(
    r"\.(?:[cm]?[jt]s|py|json|ya?ml|ini|cfg|toml|conf)$|(?:^|/)\.env(?:[._-][\w.-]*)?$", re.I
)
_SKIPPED = re.compile(r"(?:^|/)(?:node_modules|\.venv|venv|dist|build)/|(?:^|/)package-lock\.json$")
_MOST_ZONES = 8
_ZONEINFO = Path("/usr/share/zoneinfo")
_LOADER_TIME = 10.0


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def named_time_zones(files: dict[str, bytes]) -> tuple[str, ...]:
    """The zones the upload's code and config name (``'America/Sao_Paulo'``, ``TZ=UTC``)
    that the machine's zone database has, in their names' order (eight at most)."""
    known = _known_zones()
    named: set[str] = set()
    for path, data in files.items():
        if not _SOURCES.search(path) or _SKIPPED.search(path) or len(data) > 512_000:
            continue
        text = data.decode("utf-8", "replace")
        named.update(m.group(1) for m in _ZONE_NAME.finditer(text) if m.group(1) in known)
    return tuple(sorted(named)[:_MOST_ZONES])


def time_zone_sql(zones: tuple[str, ...]) -> str:
    """The SQL loading ``zones`` into ``mysql.time_zone*`` (blocking: one
    ``mariadb-tzinfo-to-sql`` per zone, milliseconds each); empty where no zone is named
    or the tool or the zone's file is missing (the app then meets the server's own error,
    as it would without this)."""
    loader = shutil.which("mariadb-tzinfo-to-sql") or shutil.which("mysql_tzinfo_to_sql")
    if loader is None or not zones:
        return ""
    parts = []
    for zone in zones:
        path = _ZONEINFO / zone
        if not path.is_file():
            continue
        made = subprocess.run(
            [loader, str(path), zone],
            capture_output=True,
            text=True,
            timeout=_LOADER_TIME,
            check=False,
        )
        if made.returncode == 0:
            parts.append(made.stdout)
    if not parts:
        return ""
    # Its statements read ``DATABASE()``'s tables: the init file's own are all qualified.
    return "USE mysql;\n" + "".join(parts)
