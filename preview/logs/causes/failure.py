"""Why a preview failed to start, in one line, from its last lines: :func:`failure_cause`.

Pure, like ``lines``, whose level classifier it follows through tracebacks: the most
recent recognizable event wins (an exception, uvicorn's load error, a port in use, a
script that is not there, no space left), with a hint for a missing module that says
what is missing where (``missingmodule``). A Kafka client that found no broker says so
in the service's words (:func:`no_broker`): no Kafka broker is installed here, nor can
one be given a preview; so does an Oracle, SQL Server or MongoDB client
(:func:`no_database_server`).
A cause that says the disk (or its quota) is full says so first, in the
service's own words (:func:`no_space`): "no space left for the app's files (…)".

A failure of the service's own (not the app's) is told where the user looks too: users
used to read "the service failed to run it (its own log says why)", in a terminal they
may not have. :func:`report_fault` logs the error with its traceback under a new incident
id and returns one line for the preview's status and log: what failed, its cause, the id.
"""

from __future__ import annotations

import errno
import io
import logging
import posixpath
import re
import secrets
import tokenize
from collections.abc import Callable, Collection, Mapping, Sequence

from ..lines import LEVEL_WORD, LevelClassifier, strip_ansi
from .missingmodule import missing_module_hint
from .needed import needed_variables

__all__ = [
    "NO_SPACE",
    "failure_cause",
    "fault_cause",
    "no_broker",
    "no_database_server",
    "no_prisma_engine",
    "no_space",
    "quiet_exit",
    "report_fault",
    "shown_lines",
    "with_server_refused",
    "write_failure",
]

NO_SPACE = "no space left for "  # how every cause that is a full disk or quota begins
_CHAINED = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)

_MAX_CAUSE = 300
_LEVEL_PREFIX = re.compile(rf"{LEVEL_WORD}:\s*", re.IGNORECASE)
# NestJS's logger's prefix of an error (its process, time and context): the message is the
# cause ("[Nest] 17  - 12/07/2026, 7:55:35 AM   ERROR [ExceptionHandler] Nest can't …").
_NEST_PREFIX = re.compile(r"^\[Nest\]\s+\d+\s+-\s+[^\[\n]*?\s(?:ERROR|FATAL)\s+\[[^\]]*\]\s+")
# Node's end on a promise rejected with a value that is no Error (``Promise.reject("No
# User signed In")``): its reason is the cause (samuelatuma1's expressUpload).
_UNHANDLED_REJECTION = re.compile(
    r'^UnhandledPromiseRejection: This error originated .*? rejected with the reason "(.*)"\.?$'
)
_UVICORN_LOAD = re.compile(r"(?:error|critical):\s*(Error loading ASGI app\..*)", re.IGNORECASE)
_PORT_IN_USE = re.compile(r"\[Errno (?:98|48|10048)\]|address already in use", re.IGNORECASE)
# CPython's "python3: can't open file '/abs/server.py': [Errno 2] No such file or directory"
_CANT_OPEN = re.compile(r"can't open file '([^']*)': \[Errno \d+\] (.+)")
_SUPERVISOR = re.compile(r"HaltServer|Worker failed to boot|App failed to load")
# ENOSPC and EDQUOT as Python, Node, SQLite, uv, bwrap and the C library spell them.
_NO_SPACE = re.compile(
    r"\[Errno (?:28|122)\]|\bENOSPC\b|\bEDQUOT\b|no space left on device|disk quota exceeded"
    r"|database or disk is full|not enough space on the disk",
    re.IGNORECASE,
)
_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
# What a caught error logged as plain output says (console.log("connection error: ", e)).
_SAYS_ERROR = re.compile(
    r"\b(?:errors?|fail(?:ed|ure|s)?|fatal|exception|cannot|can't|unable|refused|denied)\b",
    re.IGNORECASE,
)
_EXCEPTION_LINE = re.compile(r"^(?:Uncaught )?[A-Z]\w*(?:Error|Exception)\b(?::.*)?$")
_STACK_FRAME = re.compile(r"^(?:at |File \"|\^+$|\.\.\.)")
# Its leading blanks taken once (possessive): two runs of \s* either side of an optional
# part split a line of 16 KiB blanks every way (2.6 s a line, the GIL held, each failure).
_FRAME = re.compile(r'\s*+(?:\| ?)?\s*+File "([^"<]+)", line (\d+)')
# Where a file that does not compile is wrong: Python's frame (_FRAME: 'File
# "app/main.py", line 2'), Node's line above the source it quotes ("/app/index.js:3").
_SYNTAX_ERROR = re.compile(r"^(?:SyntaxError|IndentationError|TabError)\b")
_NODE_AT = re.compile(r"^(\S+\.[cm]?[jt]sx?):(\d+)$")
# Node's report of an ES module's uncaught rejection: this line, a caret, then what was
# thrown (a bundler's "main.js (1:45): Expression expected", not always an Error's line).
# (``triggerUncaughtException(err, true /* fromPromise */);`` for a rejected promise).
_NODE_UNCAUGHT = "triggerUncaughtException("
_NODE_INSPECTED = re.compile(r"^\[((?:[A-Z]\w*)?(?:Error|Exception)\b.*)\]\s*\{?$")


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _MAX_CAUSE else text[: _MAX_CAUSE - 1] + "…"


def no_space(lines: Sequence[str], what: str = "the app's files") -> str | None:
    """``no space left for <what> (<the last line that says so>)`` if any of ``lines`` says
    the disk or a quota is full (ENOSPC, EDQUOT, SQLite's "database or disk is full")."""
    for line in reversed(lines):
        text = strip_ansi(line).strip()
        if text.startswith(NO_SPACE):
            return _clip(text)
        if _NO_SPACE.search(text):
            return _clip(f"{NO_SPACE}{what} ({text})")
    return None


# A Kafka client that reached no broker: aiokafka's, kafka-python's, kafkajs's, librdkafka's.
_NO_KAFKA = re.compile(
    r"KafkaConnectionError|Unable to bootstrap from|NoBrokersAvailable"
    r"|KafkaJS(?:Connection|NumberOfRetriesExceeded|BrokerNotFound)Error"
    r"|KafkaJSNonRetriableError.*(?:ECONNREFUSED|Connection)|Broker transport failure"
)
_KAFKA_AT = re.compile(
    r"\[\('([^']+)', (\d+)|(?:ECONNREFUSED|bootstrap_servers=?|brokers?:?)\s*'?\[?'?"
    r"([\w.-]+:\d+)"
)


# Database servers no package of this machine's offers, reached by their own clients: the
# error each says when nothing answers, and the server's name. Oracle's node-oracledb and
# python-oracledb ("NJS-503: connection to host 127.0.0.1 port 1521 could not be
# established": priasa's and mojila's express-oracle apps), cx_Oracle's TNS; SQL Server's
# tedious/mssql ("Failed to connect to localhost:1433"), pymssql's, and pyodbc's with no
# ODBC driver manager or no SQL Server driver (mpaturi's flask-flights: "libodbc.so.2:
# cannot open shared object file").
_NO_DATABASE_SERVER = (
    (
        # (and its thick mode's client library, which nothing installs here: priasa's
        # nodejs-express-oracle, "DPI-1047: Cannot locate a 64-bit Oracle Client library")
        re.compile(
            r"\b(?:NJS-50[0-9]|DPY-600[0-9]|DPI-1047|ORA-12(?:541|514|170|543))\b"
            r"|TNS:no listener"
        ),
        "Oracle Database",
    ),
    (
        # (mssql's check of a server variable nothing could set: theshagwell's
        # sqlserver-expressjs-connection, 'The "config.server" property is required')
        re.compile(
            r"Failed to connect to [\w.-]+:1433\b|\bport 1433\b.*(?:refused|could not)"
            r"|Adaptive Server is unavailable|libodbc\.so[.\d]*: cannot open shared object"
            r"|Can't open lib '(?:ODBC Driver \d+ for SQL Server|FreeTDS)'"
            r"|The \"config\.server\" property is required"
        ),
        "Microsoft SQL Server",
    ),
    (
        # The DataStax driver's, given no Cassandra node (ivanlambev's fastapi-oauth:
        # ``cassandra.UnresolvableContactPoints: {}`` at its start).
        re.compile(r"\bcassandra\.(?:UnresolvableContactPoints|cluster\.NoHostAvailable)\b"),
        "Apache Cassandra",
    ),
    (
        # Neo4j's driver, given no server, or a URI nothing could set (jgaye's FastApiNeo4J:
        # ``verify_connectivity()`` at import, "URI scheme b'' is not supported").
        re.compile(
            r"\bneo4j\.exceptions\.(?:ServiceUnavailable\b|ConfigurationError: URI scheme)"
            r"|\bNeo4jError\b.*\bECONNREFUSED\b.*:7687\b"
        ),
        "Neo4j",
    ),
    (
        # A CouchDB client's refused connection to CouchDB's port (alexisibarra's
        # Hotels-ExpressJS-Backend: cradle's "connect ECONNREFUSED 127.0.0.1:5984", then its
        # own error handler's TypeError ended it).
        re.compile(r"\bECONNREFUSED \S+:5984\b"),
        "CouchDB",
    ),
    (
        # MinIO's client, given no server of the object store its compose file runs beside
        # it (DanielE0802's ally360-api: ``bucket_exists()`` at import, "Failed to resolve
        # 'minio'"; MinIO's own port, 9000, refused).
        re.compile(
            r"HTTPConnectionPool\(host='minio', port=\d+\)|Failed to resolve 'minio'"
            r"|\bminio\b.*\bECONNREFUSED \S+:9000\b|\bECONNREFUSED \S+:9000\b.*\bminio\b",
            re.IGNORECASE,
        ),
        "MinIO",
    ),
)
# Lines above the final exception searched for such a server's refusal: an app that
# catches the client's error, logs it, and dies on its own handling of it.
_REFUSED_BEFORE = 30
# A MongoDB client that reached no server (dhruvh86-git's student-api-django-mongodb:
# pymongo in a Django app on SQLite, its migration's "ServerSelectionTimeoutError:
# localhost:27017: [Errno 111] Connection refused"): a preview is given a MongoDB only where
# the app shows it runs on one (``backing.wanted``).
_NO_MONGODB = re.compile(
    r"\bServerSelectionTimeoutError\b.*27017|\bMong(?:oose|o)ServerSelectionError\b"
)


def no_database_server(text: str) -> str | None:
    """The cause for an Oracle, SQL Server, Cassandra, Neo4j, CouchDB, MinIO or MongoDB client that
    reached no server (``text``: its line), else None: none of them can be installed here
    nor given a preview."""
    for failed, server in _NO_DATABASE_SERVER:
        if failed.search(text):
            return (
                f"the app expects {server}, which cannot be given here: no {server} server is"
                " installed on this machine (Debian packages none). Give the launch option env"
                f" the address of a {server} server it can reach"
            )
    if _NO_MONGODB.search(text):
        return (
            "the app's MongoDB client reached no server: a preview is given its own MongoDB "
            "where its dependencies list a MongoDB client and no SQL one, or its compose file "
            "or its code alone opens MongoDB. Give the launch option env the URL of a MongoDB "
            "server it can reach"
        )
    return None


def _refused_above(lines: Sequence[str], index: int) -> str | None:
    """The cause for a database server none can be given that a line shortly above
    ``lines[index]`` (the error the app died of) says refused the app's client
    (:data:`_NO_DATABASE_SERVER`'s), else None."""
    for above in reversed(lines[max(index - _REFUSED_BEFORE, 0) : index]):
        text = strip_ansi(above)
        if any(failed.search(text) for failed, _ in _NO_DATABASE_SERVER):
            return no_database_server(text)
    return None


def with_server_refused(cause: str | None, lines: Sequence[str]) -> str | None:
    """``cause`` (an exit's), or where a line shortly above the last of ``lines`` (both
    streams' tails, in order) it quotes says a database server none can be given refused
    the app's client, that server's cause instead: the refusal logged to stdout, the
    error it died of to stderr, which the cause is read from alone (alexisibarra's
    Hotels-ExpressJS-Backend: cradle's refused CouchDB, then its own handler's TypeError)."""
    if cause is None or "cannot be given here" in cause:
        return cause
    for index in range(len(lines) - 1, -1, -1):
        text = strip_ansi(lines[index]).strip()
        if len(text) >= 8 and text in cause:  # (not a brace or a caret of its own)
            return _refused_above(lines, index) or cause
    return cause


def no_broker(text: str) -> str | None:
    """The cause for a Kafka client's failure to reach its broker (``text``: its line),
    else None: aiokafka's "KafkaConnectionError: Unable to bootstrap from
    [('localhost', 9092, …)]" (briancappello's fastapi-starter) and its likes."""
    if not _NO_KAFKA.search(text):
        return None
    at = _KAFKA_AT.search(text)
    where = ""
    if at is not None:
        where = f" at {at.group(1)}:{at.group(2)}" if at.group(1) else f" at {at.group(3)}"
    return (
        f"the app expects a Kafka broker{where}, which cannot be given here: no Kafka broker "
        "is installed on this machine. Give the launch option env the address of a broker "
        "it can reach (its bootstrap servers' variable), or turn its Kafka off"
    )


def write_failure(error: OSError, where: str) -> str:
    """Why the app's files could not be written; ``where``: the file, as users see it."""
    reason = f"{error.strerror or error}" + (f" ({where})" if where else "")
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{NO_SPACE}the app's files ({reason})"
    return f"could not write the generation's files: {reason}"


def quiet_exit(streams: Sequence[Sequence[str]]) -> str:
    """Why an app that exited with code 0 before it served did, as its output tells
    (``streams``: stderr's lines, then stdout's): nothing failed loudly, so an error was
    caught and logged as plain output (a Node app's ``.catch(e => console.log("TypeORM
    connection error: ", e))``), and then nothing kept it running. The last exception line
    (``SyntaxError: …``) with the line that introduced it, else the last line saying an
    error, else the last line it printed."""
    for lines in streams:
        texts = [t for t in (strip_ansi(line).strip() for line in lines) if t]
        if not texts:
            continue
        found = _caught(texts)
        return _clip(f"exited with code 0 before it served: {found}")
    return "exited with code 0 before it served, printing nothing: nothing kept it running"


def _caught(texts: list[str]) -> str:
    """The error a quiet exit's output says (see :func:`quiet_exit`)."""
    said = [i for i, t in enumerate(texts) if _SAYS_ERROR.search(t) and not _STACK_FRAME.match(t)]
    exceptions = [i for i, t in enumerate(texts) if _EXCEPTION_LINE.match(t)]
    if exceptions:
        at = exceptions[-1]
        before = [i for i in said if at - 8 <= i < at and not _EXCEPTION_LINE.match(texts[i])]
        if before:
            return f"{texts[before[-1]].rstrip(': ')}: {texts[at]}"
        return texts[at]
    return texts[said[-1]] if said else texts[-1]


def _out_of_reach(text: str) -> str | None:
    """A server the app expects that this machine cannot give it, or a library this
    machine's system cannot run, said as such."""
    return no_broker(text) or no_database_server(text) or no_prisma_engine(text)


# Prisma before 3.13 knows no engine for OpenSSL 3 (mojahige's hello-fastify, Prisma 2.28):
# its query engine is built against OpenSSL 1.1, which this machine's system lacks.
_PRISMA_OPENSSL = re.compile(r"Unknown binaryTarget (debian|linux|rhel)-openssl-3\.\d\.x")


def no_prisma_engine(text: str) -> str | None:
    """The cause for a Prisma too old for this machine's OpenSSL (``text``: its line),
    else None."""
    if not _PRISMA_OPENSSL.search(text):
        return None
    return (
        "the app's Prisma has no engine for OpenSSL 3, the only OpenSSL of this machine: its"
        " releases before 3.13 need OpenSSL 1.1, which cannot be given here. Its Prisma 3.13"
        " or newer (prisma and @prisma/client) runs here: " + _clip(text.strip())
    )


def failure_cause(
    lines: Sequence[str],
    requirements: str | None = None,
    root: str | None = None,
    listed_in: str = "requirements.txt",
    upload: Collection[str] | Mapping[str, bytes] = (),
    needed: Sequence[str] = (),
) -> str | None:
    """One-line reason a child failed to start, from its last lines (most recent last).

    The most recent recognizable event wins: a traceback's final exception line, uvicorn's
    "Error loading ASGI app" message, a port bind failure, or Python's "can't open file"
    (a command naming a script that is not there). Failing those, the last line that
    classifies as ERROR. ``requirements`` (the app's requirement lines, from the file
    ``listed_in``) sharpens the hint for a missing module: not listed vs. listed but not
    installed, in the ``upload`` (its file names, or its files: then its ``.gitignore``
    files are read too) but not importable, or missing from it. ``root`` (the
    generation's folder) is cut from paths: the cause names the user's files as they
    wrote them, and never a host path. ``needed``: the variables the app requires that
    nothing sets (read from its source), named too when it died for want of one.
    """
    cause = _failure_cause(lines, requirements, listed_in, upload, needed)
    if cause is not None and _CONFLICT_SAID.search(cause):
        cause = _with_conflict(cause, upload)
    if cause is not None and root:
        # (an ES module's path is a URL: file:///srv/…/app/x.js said as x.js, not file://x.js)
        folder = root.rstrip("/") + "/"
        cause = cause.replace(f"file://{folder}", "").replace(folder, "")
    if cause is not None and isinstance(upload, Mapping):
        cause = _with_own_syntax_error(cause, upload)
        cause = _with_own_missing_name(cause, upload)
    return cause


def _failure_cause(
    lines: Sequence[str],
    requirements: str | None,
    listed_in: str,
    upload: Collection[str] | Mapping[str, bytes],
    needed: Sequence[str],
) -> str | None:
    classifier = LevelClassifier()
    exception: tuple[int, str] | None = None
    frame = frame_at_exception = ""  # innermost frame outside importlib, i.e. who imported
    load_error: tuple[int, str] | None = None
    port: tuple[int, str] | None = None
    cant_open: tuple[int, str] | None = None
    full: tuple[int, str] | None = None
    last_error: tuple[int, str] | None = None
    uncaught: tuple[int, str] | None = None
    rejection: tuple[int, str] | None = None
    uncaught_at = -1
    for i, raw in enumerate(lines):
        s = strip_ansi(raw).rstrip("\r\n")
        level, exc_line = classifier.step(s)
        if s.strip().startswith(_NODE_UNCAUGHT):
            uncaught_at = i
        elif uncaught_at >= 0 and s.strip() and not s.strip().startswith("^"):
            uncaught, uncaught_at = (i, s), -1
        if (f := _FRAME.match(s)) is not None and "importlib" not in f.group(1):
            frame = f.group(1).replace("\\", "/")
        if exc_line is not None and not (exception is not None and _SUPERVISOR.search(exc_line)):
            # A process manager's own exception (gunicorn's master, once its worker
            # died) says that another process failed: that one's exception is the cause.
            exception, frame_at_exception = (i, exc_line), frame
        if (m := _UVICORN_LOAD.match(s)) is not None:
            load_error = (i, m.group(1))
        if _PORT_IN_USE.search(s):
            port = (i, s)
        if (m := _CANT_OPEN.search(s)) is not None:
            cant_open = (i, f"can't open file '{m.group(1)}': {m.group(2)}")
        if _NO_SPACE.search(s):
            full = (i, s)
        if level == "ERROR" and s.strip():
            last_error = (i, _NEST_PREFIX.sub("", s))
        if (rejected := _UNHANDLED_REJECTION.match(s.strip())) is not None:
            rejection = (i, f'UnhandledPromiseRejection: rejected with "{rejected.group(1)}"')
    # The disk's state wins over a line at the same place (its exception names it).
    found = [
        c
        for c in (exception, load_error, port, cant_open, full, uncaught, rejection)
        if c is not None
    ]
    if not found:
        if last_error is not None and (away := _out_of_reach(last_error[1])) is not None:
            return away
        if last_error is not None and (away := _refused_above(lines, last_error[0])) is not None:
            return away
        return _with_absent_module(lines, *last_error, upload) if last_error is not None else None
    index, text = max(found)
    # An error without its stack, as Node inspects one: "[Error: ENOENT: …] {".
    if (inspected := _NODE_INSPECTED.match(text.strip())) is not None:
        text = inspected.group(1)
    if _NO_SPACE.search(text):
        return no_space([text.strip()])
    if (away := _out_of_reach(text)) is not None:
        return away
    if _PORT_IN_USE.search(text):
        text = text.strip()
        if (m := _LEVEL_PREFIX.match(text)) is not None:  # uvicorn's "ERROR:    [Errno 98] ..."
            text = text[m.end() :]
        return "port already in use: " + _clip(text)
    if exception is not None and index == exception[0]:
        variables = needed_variables(lines, index, text, needed)
        if variables is not None:
            return variables
        m = _NO_MODULE.search(text)
        if m is not None and frame_at_exception.endswith("uvicorn/importer.py"):
            # uvicorn itself failed to import the entry module: a wrong path, not a dependency
            return _clip(text) + " — the app module itself was not found (check the app path)"
        if m is not None:
            hint = missing_module_hint(m.group(1), requirements, listed_in, upload)
            return _clip(text) + hint
    return _with_absent_module(lines, index, text, upload)


def _with_absent_module(
    lines: Sequence[str], index: int, text: str, upload: Collection[str] | Mapping[str, bytes]
) -> str:
    """:func:`_located`'s cause, or, where it is a module of the app's own never
    committed, that said (:func:`_absent_own_module`)."""
    absent = _absent_own_module(text, list(lines[index + 1 : index + 8]), upload)
    return _clip(text.strip()) + absent if absent is not None else _located(lines, index, text)


# Node's require of a module by its relative path that it did not find, and the first
# module of its require stack (the one requiring it: "- server/routers/home/index.js").
_NO_RELATIVE_MODULE = re.compile(r"Cannot find module '(\.\.?/[^']+)'")
_REQUIRED_BY = re.compile(r"^\s*- (\S+\.[cm]?[jt]s)$")
_NODE_RESOLVED = ("", ".js", ".cjs", ".mjs", ".json", ".ts", "/index.js", "/index.ts")


def _absent_own_module(
    text: str, after: list[str], upload: Collection[str] | Mapping[str, bytes]
) -> str | None:
    """The hint (" — …") where Node did not find a module the app's own committed
    module requires by its relative path, and the upload has no file Node would resolve it
    to (JhoneLee's expressQuickly: ``require('../../util/verify')`` in
    server/routers/home/index.js, no server/util/verify.js committed): the app's own
    code. None where the requiring module is no file of the upload (a build's output),
    or the upload has the module (what went wrong is not its absence)."""
    missing = _NO_RELATIVE_MODULE.search(text)
    requirer = next((m.group(1) for line in after if (m := _REQUIRED_BY.match(line))), None)
    if requirer is not None and requirer not in upload:
        # (by its absolute path in the app's folder, as Node names it: the upload's file
        # whose path ends it)
        ending = [path for path in upload if requirer.endswith(f"/{path}")]
        requirer = max(ending, key=len) if ending else None
    if missing is None or requirer is None:
        return None
    wanted = posixpath.normpath(posixpath.join(posixpath.dirname(requirer), missing.group(1)))
    if wanted.startswith("../") or any(wanted + ending in upload for ending in _NODE_RESOLVED):
        return None
    return (
        f" — {requirer} requires {missing.group(1)}, and the upload has no {wanted}.js nor "
        f"{wanted}/index.js (never committed, or left out by its .gitignore): the app's own code"
    )


# What a JavaScript runtime or TypeScript says of a merge's conflict marker (Bun: "error:
# Unexpected <<"; Node: "SyntaxError: Unexpected token '<<'"; tsc's TS1185).
_CONFLICT_SAID = re.compile(r"Unexpected (?:token )?'?<<|Merge conflict marker encountered")
_CONFLICT_MARKER = re.compile(rb"^<{7}(?: |$)", re.M)
_SOURCE = re.compile(r"\.(?:[cm]?[jt]sx?|py)$")


def _with_conflict(cause: str, upload: Collection[str] | Mapping[str, bytes]) -> str:
    """``cause`` with the first of the upload's sources holding a merge's conflict marker
    (shekharsikku's hono-scalar: ``<<<<<<< HEAD`` in src/controllers/tasks.ts, and Bun's
    "error: Unexpected <<" alone), where the upload's files are given."""
    if not isinstance(upload, Mapping):
        return cause
    for path in sorted(upload):
        if not _SOURCE.search(path) or "node_modules/" in path:
            continue
        if (found := _CONFLICT_MARKER.search(upload[path])) is not None:
            line = upload[path].count(b"\n", 0, found.start()) + 1
            return _clip(f"{cause} — {path} line {line} holds a merge conflict left unresolved")
    return cause


# A syntax error's cause as :func:`_located` says it, its file and line in the upload:
# Python's "(main.py, line 297)", Node's "(services/x.js:26)".
_SYNTAX_CAUSE = re.compile(
    r"^(?P<error>SyntaxError|IndentationError): (?P<said>.*) "
    r"\((?:(?P<py>\S+\.py), line (?P<pyline>\d+)|(?P<js>\S+\.[cm]?js):(?P<jsline>\d+))\)$"
)
# A merge's conflict markers, each on a line of its own.
_MARKER_LINE = re.compile(r"^(?:<{7}|>{7})(?: .*)?$|^={7}$")
# What Node says of JavaScript no release parses (a grammar's error, not a module kind's:
# "Cannot use import statement", "Unexpected token 'export'", "await is only valid", a
# named export; nor JSX's or a decorator's "<" and "@", which a transpiler the service
# did not see may take).
_GRAMMAR_ERROR = re.compile(
    r"^(?:Unexpected (?:token '[^<@#'][^']*'|end of input|string|number|template string"
    r"|identifier(?! 'assert')(?: '[^']*')?)|missing \) after argument list"
    r"|Invalid or unexpected token|Invalid left-hand side in \w+|Invalid destructuring"
    r" assignment target|Identifier '[^']+' has already been declared|Unexpected reserved"
    r" word|Illegal return statement|Unterminated \w+(?: \w+)*)$"
)
# An upload that names a transpiler of its JavaScript (Babel, Flow, Sucrase, SWC's or
# esbuild's require hook): its sources may be written for it, not for Node.
_JS_TRANSPILED = re.compile(
    rb'"(?:@babel/[\w-]+|babel-[\w-]+|flow-bin|sucrase|@swc/register|esbuild-register)"\s*:'
)
_TRANSPILER_CONFIG = re.compile(r"(?:^|/)(?:\.babelrc(?:\.\w+)?|babel\.config\.\w+|\.flowconfig)$")


# Python's "cannot import name" from a module it names by its file (not a circular
# import's "partially initialized module"): ``… from 'models' (models.py)``.
_CANNOT_IMPORT_OWN = re.compile(
    r"^ImportError: cannot import name '(?P<name>\w+)' from '[\w.]+' \((?P<path>[^()\s]+\.py)\)$"
)


_BINDS_ANY = re.compile(rb"\bimport\s+\*|\bdef\s+__getattr__\b|\bglobals\(\)")


def _with_own_missing_name(cause: str, upload: Mapping[str, bytes]) -> str:
    """``cause`` with what it means where the module it names is the upload's own and
    binds no such name at all (kethelynsantos' FastApiCursos: ``from models import Curso``,
    its models.py declaring only ``Movie``): the app's own code, no release's. No verdict
    where the module binds names it does not spell (a ``*`` import, ``__getattr__``)."""
    found = _CANNOT_IMPORT_OWN.match(cause)
    if found is None or found.group("path") not in upload:
        return cause
    path, name = found.group("path"), found.group("name")
    text = upload[path]
    # (its code's names, not its tree: a name it never spells in code is one it binds
    # nowhere, though a comment or a string may spell it (Dunil12's Hotels-Fastapi: its
    # ``AdminReportsService`` commented out); a ``*`` import or a module ``__getattr__``
    # may bind any: no verdict)
    if name in _code_names(text) or _BINDS_ANY.search(text):
        return cause
    return _clip(f"{cause} — {path} (the app's own) defines no {name}: the app's own code")


def _code_names(text: bytes) -> set[str]:
    """The names Python's tokenizer reads in ``text``, out of its comments and strings;
    where it cannot read it whole, every word of it (a verdict then needs the name absent
    from the text itself)."""
    try:
        tokens = tokenize.tokenize(io.BytesIO(text).readline)
        return {token.string for token in tokens if token.type == tokenize.NAME}
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        return set(re.findall(r"\w+", text.decode("utf-8", "replace")))


def _with_own_syntax_error(cause: str, upload: Mapping[str, bytes]) -> str:
    """``cause`` with what its syntax error means where the upload shows it is the app's own
    code's: the line it names is a merge's conflict marker (Soumyashri-work's library-api-
    fastapi: main.py line 297, ``>>>>>>> 14cad7c``, "invalid decimal literal"), or, in a
    JavaScript file of an upload naming no transpiler, a grammar no Node release parses
    (dika165's task-api-express-db: ``Task.create({req.body.name, …})``; bbq191's
    hello-koa: an arrow ``=>`` split over two lines). Python's other syntax errors may be
    another release's grammar (a Python 2 print, a 3.12 f-string): no verdict."""
    found = _SYNTAX_CAUSE.match(cause)
    if found is None:
        return cause
    path = found.group("py") or found.group("js")
    number = int(found.group("pyline") or found.group("jsline"))
    if path not in upload or "node_modules/" in path:
        return cause
    lines = upload[path].decode("utf-8", "replace").splitlines()
    line = lines[number - 1].strip() if 0 < number <= len(lines) else ""
    if _MARKER_LINE.match(line):
        return _clip(f"{cause} — {path} line {number} holds a merge conflict left unresolved")
    if (
        found.group("js")
        and found.group("error") == "SyntaxError"
        and _GRAMMAR_ERROR.match(found.group("said"))
        and not any(_TRANSPILER_CONFIG.search(p) for p in upload)
        and not any(
            _JS_TRANSPILED.search(data)
            for p, data in upload.items()
            if posixpath.basename(p) == "package.json" and "node_modules/" not in p
        )
    ):
        return _clip(
            f"{cause} — {path} line {number} is JavaScript no release of Node parses: a syntax"
            " error in the app's own code"
        )
    return cause


def _located(lines: Sequence[str], index: int, text: str) -> str:
    """``text`` (at ``lines[index]``), clipped, with the file and line a syntax error
    names just above it: "SyntaxError: Unexpected token ')' (index.js:3)"; a bracket
    alone, the object it opens or closes (:func:`_whole_object`)."""
    text = text.strip()
    if text.rstrip(",;") in _OPENING.values() or text.endswith(tuple(_OPENING)):
        return _clip(_whole_object(lines, index))
    if _SYNTAX_ERROR.match(text) and (where := _syntax_error_at(lines, index, text)):
        return _clip(f"{text} ({where})")
    return _clip(text)


_OPENING = {"{": "}", "[": "]", "(": ")"}
_OBJECT_LINES = 40  # at most: a printed object's lines read for its cause


def _whole_object(lines: Sequence[str], index: int) -> str:
    """The printed object that ``lines[index]`` opens (``{``: an object Node printed as
    thrown; "Error: Unable to connect {") or closes alone (``}``), on one line: "Error:
    Unable to connect { code: 'ECONNREFUSED', port: 5432 }", not "}" nor its first line."""
    texts = [strip_ansi(line).strip() for line in lines]
    step = -1 if texts[index].rstrip(",;") in _OPENING.values() else 1
    depth, at, block = 0, index, []
    while 0 <= at < len(texts) and len(block) < _OBJECT_LINES:
        text = texts[at]
        block.append(text)
        depth += sum(text.count(o) - text.count(c) for o, c in _OPENING.items()) * step
        if depth <= 0 and at != index:
            break
        at += step
    return " ".join(t for t in (block if step == 1 else block[::-1]) if t)


def _syntax_error_at(lines: Sequence[str], index: int, error: str) -> str | None:
    """The file and line a syntax error at ``lines[index]`` names just above it (None
    where ``error`` names its file itself: "invalid syntax (main.py, line 2)")."""
    for raw in reversed(lines[max(0, index - 8) : index]):
        text = strip_ansi(raw).strip()
        python = _FRAME.match(text)
        found = python or _NODE_AT.match(text)
        if found is not None:
            path, line = found.groups()
            if posixpath.basename(path) in error:
                return None
            return f"{path}, line {line}" if python else f"{path}:{line}"
    return None


def fault_cause(error: BaseException) -> str:
    """``error`` in one line (the first of a group's): its type and message."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = " ".join(str(error).split())
    cause = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return cause if len(cause) <= _MAX_CAUSE else cause[: _MAX_CAUSE - 1] + "…"


def report_fault(
    logger: logging.Logger,
    error: BaseException,
    what: str,
    *,
    about: str = "",
    scrub: Callable[[str], str] | None = None,
) -> str:
    """Log ``error`` (``what`` failed, ``about`` naming whose: "preview p_1") under a new
    incident id; return the user's line of it, which carries the same id."""
    incident = secrets.token_hex(4)
    whose = f"{about}: " if about else ""
    logger.error("%s%s [incident %s]", whose, what, incident, exc_info=error)
    cause = fault_cause(error)
    if scrub is not None:
        cause = scrub(cause)
    return f"{what}: {cause} (incident {incident} in the service's log)"


def shown_lines(lines: Sequence[str], count: int) -> list[str]:
    """The last ``count`` of ``lines`` (a failure's), after the exception line of each
    chained traceback those leave out: the root cause of a failure told by a later one
    ("The above exception was the direct cause of the following exception:"), which
    the remedies read them for. docker-django-jwt's migrate failed on "Unable to
    configure filter 'require_debug_true'", its last 15 lines; the cause above them,
    pytz 2018's ``from collections import Mapping`` (gone in Python 3.10), was never
    read, and no older Python was tried. The cause nearest the failure comes first: an
    earlier one may be an import its package tried first and got past (Python 2's
    ``UserDict``), no fix of this failure's.

    Where the last lines begin inside the last traceback and show a frame or two at most
    (a message of several lines, then its server's own lines: Flask's "Working outside of
    application context" paragraph twice and gunicorn's four, sjaks's
    sepro-restful-flask), its deepest frames come before them: which package raised it,
    called by which of the app's lines, is what the remedies read, and a person."""
    kept = list(lines[-count:]) if count else []
    cut = len(lines) - len(kept)
    roots = []
    for at, line in enumerate(lines[:cut]):
        if line.strip() not in _CHAINED:
            continue
        before = next((lines[i] for i in range(at - 1, -1, -1) if lines[i].strip()), None)
        if before is not None and not before.startswith((" ", "\t")) and before not in roots:
            roots.append(before)
    shows_frames = sum(1 for k in kept if _FRAME_LINE.match(k)) >= _FRAMES_ENOUGH
    frames = _last_frames(lines[:cut]) if _TRACEBACK not in kept and not shows_frames else []
    return [*roots[::-1], *frames, *kept]  # the nearest cause first: the remedies try it first


_FRAME_LINE = re.compile(r'^\s+File "')
_TRACEBACK = "Traceback (most recent call last):"
_FRAMES_SHOWN = 12  # lines of the deepest frames (a frame's line and its code's)
_CARETS = re.compile(r"^\s*[\^~]+\s*$")
_FRAMES_ENOUGH = 3  # frames the last lines show that say where it was raised


def _last_frames(lines: Sequence[str]) -> list[str]:
    """The last traceback's header and the lines of its deepest frames (at most
    :data:`_FRAMES_SHOWN`) among ``lines``; none without one."""
    start = next((i for i in range(len(lines) - 1, -1, -1) if lines[i] == _TRACEBACK), None)
    if start is None:
        return []
    end = start + 1
    while end < len(lines) and lines[end].startswith((" ", "\t")):
        end += 1
    # (Python's carets under a frame's code say nothing more: left out)
    block = [line for line in lines[start + 1 : end] if not _CARETS.match(line)]
    deepest = block[-_FRAMES_SHOWN:]
    while deepest and not _FRAME_LINE.match(deepest[0]):
        deepest.pop(0)  # from a frame's own line
    return [_TRACEBACK, *deepest] if deepest else []
