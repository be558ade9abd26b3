"""A preview's own MySQL: Debian's MariaDB (``mariadbd``), throwaway and small.

Its data directory is a copy of a template made once under the service's data
directory (``mariadb-install-db``, a few seconds, then reused while the binary is the
same), copied at each start into its sandbox's ``/tmp`` (a tmpfs of
``PREVIEW_DISK_LIMIT_MB``): ~20 MB, milliseconds. It listens on a Unix socket only,
with a small buffer pool, no binary log, no doublewrite, no flush at each commit
(nothing is kept anyway). At start, before it accepts anyone, it runs an init file
(``--init-file``, as root) that creates the databases the app's configuration names
(``mysql://app:secret@db:3306/app``, ``MYSQL_USER``…, a compose service's ``MYSQL_*``).

It runs without its grant tables (``--skip-grant-tables``): **every user and password logs
in**, with every privilege, as the PostgreSQL relay (``pgrelay``) lets any login in. An app
whose account is written where no reader finds it (a literal in code, a root password its
compose file sets and its example leaves to fill in) logs in all the same; the server is the
app's alone, on its own socket, so a login that checks nothing is no weaker than one whose
password the app is given. The accounts its configuration names are still written into the
grant table, with every privilege: they are what the server checks once something reloads it
(a script's ``FLUSH PRIVILEGES``). There, an account with no password (root's, where the app
names none; one its example leaves empty) also accepts :data:`STAND_IN_PASSWORD`, which the
app is given as its password: an app that checks its configuration refuses an empty one
(ferdiebergado's express-mysql-api: ``if (!DB_USER || !DB_PASS)`` → "Configuration error",
exit 1), while another whose code sends none (``password: ''``) still logs in. Statements
that manage accounts (``CREATE USER``, ``GRANT``) are refused meanwhile: an upload's SQL that
runs them is not told as failing for that (``schemasql.run_mysql_scripts``).

It offers TLS, as a hosted MySQL does (Azure's, PlanetScale's require it): an app whose
driver asks for it (TypeORM's ``ssl: true``) met "Server does not support secure
connection" on a server without it. Its key and certificate are its own, self-signed,
made by ``openssl`` as it starts (:func:`server_tls`), in its folder, which the app's
sandbox reads: a key no other server uses. A client asking for none connects as before. Its
certificate names localhost, 127.0.0.1 and the host names the app calls it by, and a Node app
is told to trust it (``builds.appenv``): a driver verifying its server's certificate (the
``mysql`` package's ``ssl`` of any kind verifies it unless told not to) then connects too.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import trio

from ...apps.configvars.meanings import database_variables
from ...sandbox.outbound import socket_reply
from ...store.datadir import MARIADB_DRAFT_PREFIX
from ..pgrelay import self_signed_argv
from ..wanted import MYSQL_PORT, MysqlWanted, ServerCharacterSet

__all__ = [
    "CLIENT_SOCKETS",
    "SOCKET_NAME",
    "STAND_IN_PASSWORD",
    "ServerTls",
    "TemplateFailed",
    "ensure_template",
    "first_login",
    "init_sql",
    "mariadb_argv",
    "mariadb_binary",
    "mariadb_ready",
    "mysql_environment",
    "template_dir",
]

SOCKET_NAME = "mysqld.sock"
# Accepted beside an empty password, and given for it (module doc); the server listens on
# the preview's own socket only, so a password known to all is no weaker than none.
STAND_IN_PASSWORD = "preview"
# Where MySQL clients look for a local server's socket (libmysqlclient/libmariadb with
# host "localhost" or none, as Django's mysqlclient does): links to its socket there.
CLIENT_SOCKETS = ("/run/mysqld/mysqld.sock", "/tmp/mysql.sock")
_DEBIAN = "/usr/sbin/mariadbd"
_DATA_INSIDE = "/tmp/data"
# The same InnoDB geometry for the template and each server made from it, and the same
# synchronous I/O (no io_uring, no libaio): the servers ran so already; the template's
# bootstrap did not, and two of them side by side with a dozen servers (a CI run beside
# another test run, load 10) died, "Segmentation fault" and "[ERROR] Aborting", leaving
# their previews no MariaDB (the abort's cause found later: their shared temporary
# directory, see :func:`ensure_template`).
_INNODB = [
    "--innodb-log-file-size=2M",
    "--innodb-autoextend-increment=1",
    "--innodb-use-native-aio=0",
]
_INSTALL_TIME = 120


class TemplateFailed(Exception):
    """``mariadb-install-db`` failed; the message is its last line."""


def mariadb_binary() -> str | None:
    """Where ``mariadbd`` is (Debian's first), when ``mariadb-install-db`` is there too."""
    found = _DEBIAN if Path(_DEBIAN).is_file() else shutil.which("mariadbd")
    return found if found and _installer() else None


def _installer() -> str | None:
    return shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")


def template_dir(data_dir: Path) -> Path:
    """Where the template for this ``mariadbd`` is (made by :func:`ensure_template`)."""
    binary = mariadb_binary() or _DEBIAN
    try:
        stat = os.stat(binary)
        key = f"{stat.st_size:x}-{int(stat.st_mtime):x}"
    except OSError:
        key = "none"
    return data_dir / f"mariadb-template-{key}"


def ensure_template(data_dir: Path) -> Path:
    """The template data directory, made if absent (blocking: seconds the first time).
    Made aside and renamed into place: concurrent first launches both succeed."""
    target = template_dir(data_dir)
    if (target / "mysql").is_dir():
        return target
    installer = _installer()
    if installer is None:
        raise TemplateFailed("mariadb-install-db is not installed")
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=MARIADB_DRAFT_PREFIX, dir=data_dir))
    # Its temporary tables' files in a folder of its own, not the machine's /tmp: each
    # bootstrap runs as the first processes of a pid namespace of its own
    # (:func:`_dying_with_us`), so side by side they had the same pid, named their files
    # alike (``#sql-temptable-1c-1-3``), removed each other's and aborted ("Unknown table
    # 'mysql.tmp_user_sys'": 7 of 24, four at a time).
    scratch = Path(tempfile.mkdtemp(prefix=MARIADB_DRAFT_PREFIX + "tmp-", dir=data_dir))
    try:
        user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=False)
        try:
            result = subprocess.run(
                _dying_with_us(
                    installer,
                    "--no-defaults",
                    f"--datadir={staging}",
                    f"--user={user.stdout.strip() or 'root'}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                    "--innodb-buffer-pool-size=16M",
                    f"--tmpdir={scratch}",
                    *_INNODB,
                ),
                capture_output=True,
                text=True,
                timeout=_INSTALL_TIME,
                check=False,
            )
        except subprocess.TimeoutExpired:  # killed, and with it what it started (above)
            raise TemplateFailed(
                f"mariadb-install-db did not finish within {_INSTALL_TIME:g} s"
            ) from None
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            raise TemplateFailed(lines[-1] if lines else f"exit code {result.returncode}")
        for root, _dirs, names in os.walk(staging):  # readable by the previews' uids
            os.chmod(root, 0o755)
            for name in names:
                os.chmod(os.path.join(root, name), 0o644)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "mysql").is_dir():
                raise
    finally:
        _removed(staging)
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _removed(draft: Path, within: float = 10.0) -> None:
    """Remove ``draft``, again while it is there: a timed-out installer's namespace is
    killed as its child is reaped, and its bootstrap server, still dying, may write a file
    in it after one removal passed (a loaded CI run kept a draft, once)."""
    deadline = time.monotonic() + within
    while True:
        shutil.rmtree(draft, ignore_errors=True)
        if not draft.exists() or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def _dying_with_us(*argv: str) -> list[str]:
    """``argv`` run so that it and every process it starts end with the service however
    the service ends: a SIGKILL left mariadb-install-db and its bootstrap server running,
    adopted by init, writing into the data dir. setpriv gives it the parent-death signal;
    unshare runs it as the first process of a pid namespace of its own, killed when
    unshare dies, which ends every process in it. As they are without those (or root)."""
    setpriv, unshare = shutil.which("setpriv"), shutil.which("unshare")
    if setpriv is None or unshare is None or os.geteuid() != 0:
        return list(argv)
    return [
        setpriv,
        "--pdeathsig",
        "KILL",
        "--",
        unshare,
        "--pid",
        "--fork",
        "--kill-child",
        "--",
        *argv,
    ]


def mariadb_argv(
    binary: str,
    template: Path,
    socket: Path,
    init_file: Path,
    *,
    fold_case: bool = False,
    character_set: ServerCharacterSet | None = None,
) -> list[str]:
    """The server's command: copy the template to its tmpfs, then run there; its table
    names compared without their case where ``fold_case`` (MysqlWanted.fold_case)."""
    server = [
        binary,
        "--no-defaults",
        f"--datadir={_DATA_INSIDE}",
        f"--socket={socket}",
        "--skip-networking",
        # Every user and password logs in (module doc).
        "--skip-grant-tables",
        f"--pid-file={socket.parent / 'mariadbd.pid'}",
        "--tmpdir=/tmp",
        f"--init-file={init_file}",
        *_INNODB,
        "--innodb-buffer-pool-size=16M",
        "--innodb-flush-log-at-trx-commit=0",
        "--innodb-doublewrite=0",
        "--skip-log-bin",
        "--skip-name-resolve",
        "--performance-schema=OFF",
        "--max-connections=64",
        # A client's handshake given a minute, not 10 s: on a loaded machine the app's first
        # connection was dropped mid-handshake (2013, "Lost connection … during query").
        "--connect-timeout=60",
        "--open-files-limit=900",
        "--table-open-cache=200",
        "--key-buffer-size=1M",
        "--local-infile=0",
        "--secure-file-priv=/tmp",
        # Lenient, as MySQL before 5.7 (and XAMPP's MariaDB) was, where the apps it stands
        # for were written: a NOT NULL column with no default given DEFAULT takes its type's
        # zero, not "Field 'stock' doesn't have a default value" (ricardoaot's
        # ecommerce-express, whose seed died on it), a too long string is cut.
        "--sql-mode=NO_ENGINE_SUBSTITUTION",
        *_character_set_options(character_set),
        "--log-warnings=0",
        # Fewer threads and files at start (its cgroup bounds its processes and threads).
        "--innodb-buffer-pool-load-at-startup=0",
        "--innodb-buffer-pool-dump-at-shutdown=0",
        "--innodb-read-io-threads=1",
        "--innodb-write-io-threads=1",
        "--innodb-purge-threads=1",
        # As MySQL on Windows (1) and macOS (2): its template's tables' names are lower case.
        *(["--lower-case-table-names=1"] if fold_case else []),
    ]
    script = f'cp -R "$1"/. {_DATA_INSIDE} && shift && exec "$@"'
    return ["/bin/sh", "-c", script, "sh", str(template), *server]


def _character_set_options(said: ServerCharacterSet | None) -> list[str]:
    """The server's character set and collation: the app's (its compose file's), else
    utf8mb4 with its general collation."""
    if said is None:
        return ["--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci"]
    options = [f"--character-set-server={said.charset}"]
    return options + ([f"--collation-server={said.collation}"] if said.collation else [])


def _literal(value: str) -> str:
    """``value`` as a quoted string of MariaDB's, on one line: the init file is read a
    statement a line, so a line break of a password (the app's own) would end it."""
    return "'" + value.translate(_ESCAPES) + "'"


_UNNAMEABLE = re.compile(r"[\n\r\0]")
# What MariaDB's own escaping escapes (mysql_real_escape_string), as its literals read it.
_ESCAPES = str.maketrans(
    {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\x1a": "\\Z"}
)


def _identifier(value: str) -> str:
    return "`" + value.replace("`", "``") + "`"


def _accounts(wanted: MysqlWanted) -> dict[str, str]:
    return dict(wanted.accounts) or {"root": ""}


def _databases(wanted: MysqlWanted) -> list[str]:
    # A name with a line break or NUL is none a server could have (and would end the
    # init file's line): left out, as an app's typo would be, not made.
    named = [d for d in wanted.databases if not _UNNAMEABLE.search(d)]
    return named or ["app"]


def init_sql(wanted: MysqlWanted) -> str:
    """The init file: its databases, and its accounts (its SQL's too: the definers with
    no password) with every privilege, written into the grant table, as ``CREATE USER``
    would, which the server refuses while it runs without them (module doc): they are the
    accounts it checks once something reloads them (a script's ``FLUSH PRIVILEGES``)."""
    lines = [f"CREATE DATABASE IF NOT EXISTS {_identifier(d)};" for d in _databases(wanted)]
    # root's, as mariadb-install-db made it: every privilege of this server's version.
    lines.append(
        "SET @every_privilege = (SELECT JSON_VALUE(Priv, '$.access')"
        " FROM mysql.global_priv WHERE User = 'root' AND Host = 'localhost');"
    )
    accounts = _accounts(wanted)
    made = {
        user: password
        for user, password in wanted.script_accounts.items()
        if user not in accounts and not _UNNAMEABLE.search(user)
    }
    for user, password in {**accounts, **made}.items():
        check = f"'authentication_string', PASSWORD({_literal(password)})"
        if not password:  # no password, or the stand-in: IDENTIFIED VIA … OR …
            stand_in = f"PASSWORD({_literal(STAND_IN_PASSWORD)})"
            check = (
                "'authentication_string', '', 'auth_or', JSON_ARRAY(JSON_OBJECT(), JSON_OBJECT("
                f"'plugin', 'mysql_native_password', 'authentication_string', {stand_in}))"
            )
        privileges = (
            # A number: a string there is no privilege (a variable's type varies with the
            # server's character set).
            "JSON_OBJECT('access', CAST(@every_privilege AS UNSIGNED), "
            f"'plugin', 'mysql_native_password', {check})"
        )
        for host in ("localhost", "%", "127.0.0.1"):
            lines.append(
                "REPLACE INTO mysql.global_priv (Host, User, Priv) VALUES "
                f"({_literal(host)}, {_literal(user)}, {privileges});"
            )
    return "\n".join(lines) + "\n"


def first_login(wanted: MysqlWanted) -> tuple[str, str, str]:
    """The user, password and database the app is given first (:func:`mysql_environment`):
    where the upload's own SQL runs (``mysql -u root ecommerce < dump.sql``)."""
    user, password = next(iter(_accounts(wanted).items()))
    return user, password or STAND_IN_PASSWORD, _databases(wanted)[0]


def _by_its_name(url: str, host: str) -> str:
    """``url`` reaching the server where it names it by an address of another machine
    (rookie-peng's fastapi-tenant-manager: ``mysql://root:123456@192.168.79.131:3306/…``,
    its author's LAN): the sandbox's one ``/etc/hosts`` makes a name the server's, never
    an address ("Network is unreachable"), so the server's name stands in for it. A
    loopback address is the sandbox's own already."""
    try:
        parts = urlsplit(url)
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        return url
    if address.is_loopback or address.is_unspecified:
        return url
    netloc = parts.netloc
    at = netloc.rfind("@") + 1
    shown = f"[{parts.hostname}]" if address.version == 6 else str(parts.hostname)
    netloc = netloc[:at] + netloc[at:].replace(shown, host, 1)
    return parts._replace(netloc=netloc).geturl()


def mysql_environment(wanted: MysqlWanted) -> dict[str, str]:
    """What fills the app's unset variables: the URLs its configuration names (an
    example file's; a template's, made whole), and ``MYSQL_*`` and the generic names
    (``DB_*``, ``DATABASE_*``: ``configvars.database_variables``) for its first account
    and database."""
    user, password = next(iter(_accounts(wanted).items()))
    password = password or STAND_IN_PASSWORD  # which the account accepts (module doc)
    host = "mysql" if "mysql" in wanted.hosts else "localhost"
    env = {name: _by_its_name(url, host) for name, url in wanted.url_variables.items()}
    # A template its example gives (``mysql+pymysql://[USER]:[PASSWORD]@[HOST]…``): the
    # same scheme (its driver) to the first account and database the server makes.
    auth = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    env.update(
        {
            name: f"{scheme}://{auth}{host}:{MYSQL_PORT}/{quote(_databases(wanted)[0])}"
            for name, scheme in wanted.templates.items()
        }
    )
    # DB_NAME, DB_USER … too: a Django app read its MySQL from those (which of the
    # servers gives them, where both could: backing.provided).
    env.update(database_variables(host, MYSQL_PORT, user, password, _databases(wanted)[0]))
    env.update(
        {
            "MYSQL_HOST": host,
            "MYSQL_PORT": str(MYSQL_PORT),
            "MYSQL_USER": user,
            "MYSQL_PASSWORD": password,
            "MYSQL_DATABASE": _databases(wanted)[0],
        }
    )
    return env


_TLS_KEY, _TLS_CERTIFICATE = "tls-key.pem", "tls-certificate.pem"
_TLS_TIME = 20.0


@dataclass(frozen=True)
class ServerTls:
    """A server's TLS: the flags giving it, and its certificate (PEM, without its key),
    which a client verifying the server's certificate is told to trust."""

    flags: tuple[str, ...]
    certificate: bytes


async def server_tls(directory: Path, names: tuple[str, ...] = ()) -> ServerTls | None:
    """TLS for the server on a key and self-signed certificate of its own, made in
    ``directory`` (a P-256 key: milliseconds) for localhost, 127.0.0.1 and the host
    ``names`` it is called by; None where ``openssl`` is missing or fails (it then runs
    without TLS, as before)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    key, certificate = directory / _TLS_KEY, directory / _TLS_CERTIFICATE
    argv = self_signed_argv(
        openssl,
        ("ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
        str(key),
        str(certificate),
        names,
    )
    with trio.move_on_after(_TLS_TIME):
        made = await trio.run_process(argv, capture_stdout=True, capture_stderr=True, check=False)
        if made.returncode == 0:
            # The server's own uid reads it (the service wrote it); the key is this
            # server's alone.
            await trio.to_thread.run_sync(key.chmod, 0o644)
            pem = await trio.to_thread.run_sync(certificate.read_bytes)
            return ServerTls((f"--ssl-cert={certificate}", f"--ssl-key={key}"), pem)
    return None


async def mariadb_ready(socket_path: Path) -> bool:
    """Whether the server greets a client on its socket (after its init file ran)."""
    return len(await socket_reply(socket_path, b"", 128)) > 4
