"""Tests for preview.logs.lines and .failure: pipe bytes -> lines, levels, failed-start causes."""

from __future__ import annotations

import logging
import sys
import traceback

import pytest
import trio

from preview.logs import (
    LevelClassifier,
    Line,
    LineSplitter,
    classify_level,
    failure_cause,
    no_space,
    write_failure,
)

# --------------------------------------------------------------------------- LineSplitter


def _feed_all(splitter: LineSplitter, *chunks: bytes) -> list[Line]:
    out: list[Line] = []
    for chunk in chunks:
        out += splitter.feed(chunk)
    return out + splitter.finish()


def test_lines_split_across_feed_boundaries() -> None:
    s = LineSplitter(1024)
    assert s.feed(b"hel") == []
    assert s.feed(b"lo\nwor") == [Line("hello", False)]
    assert s.feed(b"ld\nnext\nlast") == [Line("world", False), Line("next", False)]
    assert s.finish() == [Line("last", False)]


def test_many_short_lines_in_one_chunk() -> None:
    data = b"".join(b"line %d\n" % i for i in range(5000))
    assert _feed_all(LineSplitter(256), data) == [Line(f"line {i}", False) for i in range(5000)]


def test_crlf_stripped_once_even_across_feeds() -> None:
    lines = _feed_all(LineSplitter(64), b"a\r\nb\r", b"\nc\r\r\n", b"mid\rdle\n")
    texts = ["a", "b", "c\r", "mid\rdle"]
    assert lines == [Line(text, False) for text in texts]


def test_empty_lines_are_kept() -> None:
    assert _feed_all(LineSplitter(64), b"\n\na\n\r\n\n") == [Line("", False)] * 2 + [
        Line("a", False),
        Line("", False),
        Line("", False),
    ]


def test_finish_flushes_partial_line_and_closes() -> None:
    s = LineSplitter(64)
    assert s.feed(b"done\nno newline") == [Line("done", False)]
    assert s.finish() == [Line("no newline", False)]
    assert s.finish() == []
    with pytest.raises(RuntimeError):
        s.feed(b"more")


def test_finish_without_pending_data_emits_nothing() -> None:
    s = LineSplitter(64)
    assert s.feed(b"x\n") == [Line("x", False)]
    assert s.finish() == []


def test_overlong_line_is_cut_into_bounded_pieces() -> None:
    s = LineSplitter(10)
    out = s.feed(b"0123456789abcdefghij" + b"XYZ")
    assert out == [Line("0123456789", True), Line("abcdefghij", True)]
    assert s.feed(b"\nok\n") == [Line("XYZ", False), Line("ok", False)]


def test_line_of_exactly_max_bytes_is_not_split() -> None:
    assert _feed_all(LineSplitter(10), b"0123456789", b"\r", b"\n") == [Line("0123456789", False)]
    assert _feed_all(LineSplitter(10), b"0123456789" * 2 + b"\n") == [
        Line("0123456789", True),
        Line("0123456789", False),
    ]


@pytest.mark.parametrize("char", ["é", "€", "😀"])
@pytest.mark.parametrize("offset", range(4))
def test_cut_never_breaks_a_multibyte_character(char: str, offset: int) -> None:
    text = "a" * offset + char * 40
    lines = _feed_all(LineSplitter(16), text.encode())
    assert len(lines) > 1
    assert all(piece.split for piece in lines[:-1]) and not lines[-1].split
    assert all(len(piece.text.encode()) <= 16 for piece in lines)
    assert "\ufffd" not in "".join(piece.text for piece in lines)
    assert "".join(piece.text for piece in lines) == text


def test_buffer_stays_bounded_on_huge_line_without_newline() -> None:
    max_bytes = 16 * 1024
    s = LineSplitter(max_bytes)
    chunk = ("x" * 1000 + "é€😀").encode() * 64  # ~64 KiB, multibyte chars at varying offsets
    pieces: list[Line] = []
    total = 0
    while total < 10 * 1024 * 1024:
        pieces += s.feed(chunk)
        total += len(chunk)
        assert s.buffered <= max_bytes + 1
    pieces += s.finish()
    assert all(p.split for p in pieces[:-1]) and not pieces[-1].split
    assert all(len(p.text.encode()) <= max_bytes for p in pieces)
    joined = "".join(p.text for p in pieces)
    assert "\ufffd" not in joined
    assert joined == chunk.decode() * (total // len(chunk))


def test_invalid_utf8_and_nul_are_replaced() -> None:
    lines = _feed_all(LineSplitter(64), b"bad \xff\xfe bytes\n", b"nul\x00here\n", b"\x1b[31mred\n")
    assert lines == [
        Line("bad \ufffd\ufffd bytes", False),
        Line("nul\ufffdhere", False),
        Line("\x1b[31mred", False),
    ]


def test_invalid_max_line_bytes() -> None:
    with pytest.raises(ValueError):
        LineSplitter(2)


# --------------------------------------------------------------------------- levels


@pytest.mark.parametrize(
    ("line", "level"),
    [
        # uvicorn / logging default format
        ("INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)", "INFO"),
        ("ERROR:    Exception in ASGI application", "ERROR"),
        ("WARNING:  StatReload detected changes in 'app/main.py'. Reloading...", "WARN"),
        ("WARNING:root:message", "WARN"),
        ("DEBUG:name:msg", "DEBUG"),
        ("CRITICAL:app:boom", "ERROR"),
        ("warning: lowercase works in position", "WARN"),
        ("ERROR - something", "ERROR"),
        ("INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.", "INFO"),
        # bracketed
        ("[INFO] hello", "INFO"),
        ("[2024-01-01 12:00:00,123] [ERROR] failed", "ERROR"),
        ("[2024-01-01 12:00:00 +0000] [1234] [INFO] Starting gunicorn 21.2.0", "INFO"),
        ("[2024-01-01 12:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT", "ERROR"),
        ("2024-01-01 12:00:00 [warning  ] structlog style", "WARN"),
        ("[trace] very verbose", "DEBUG"),
        # esbuild's mark before its bracket (wrangler's, tsup's, vite's)
        ("\u2718 [ERROR] You must be logged in to use wrangler dev in remote mode.", "ERROR"),
        ("\u25b2 [WARNING] Duplicate key in object literal", "WARN"),
        # timestamp-prefixed
        ("2024-01-01 12:00:00,123 - myapp - WARNING - message", "WARN"),
        ("2024-01-01 12:00:00,123 ERROR myapp: message", "ERROR"),
        ("2024-01-01T12:00:00.123Z INFO message", "INFO"),
        ("12:00:00 INFO msg", "INFO"),
        ("2024-01-01 12:00:00.123 | DEBUG    | app.main:startup:12 - loguru", "DEBUG"),
        ("[2024-01-01 12:00:00,123] ERROR in app: flask style", "ERROR"),
        ("2024-01-01 12:00:00,123 FATAL", "ERROR"),
        # NestJS's logger (bigchief64's ExampleNestJS: its ERROR unread, "exited with code 1")
        ("[Nest] 17  - 12/07/2026, 7:55:35 AM   ERROR [ExceptionHandler] Nest can't", "ERROR"),
        ("[Nest] 17  - 12/07/2026, 7:55:35 AM     LOG [NestFactory] Starting Nest", "INFO"),
        ("[Nest] 17  - 12/07/2026, 7:55:35 AM    WARN [Config] no .env", "WARN"),
        # python warnings and bare exception lines
        ("/venv/lib/python3.11/site-packages/x.py:12: DeprecationWarning: old", "WARN"),
        ("SyntaxError: invalid syntax", "ERROR"),
        ("pkg.mod.CustomError: x", "ERROR"),
        ("Exception: boom", "ERROR"),
    ],
)
def test_structural_levels(line: str, level: str) -> None:
    assert classify_level(line) == level
    assert LevelClassifier().classify(line) == level


def test_first_character_shortcut_agrees_with_every_pattern() -> None:
    """The cheap first-character filter never changes a level the patterns would give."""
    from preview.logs import lines as loglines

    def every_pattern(s: str) -> str | None:
        for pattern in loglines._STRUCTURES:
            m = pattern.match(s)
            if m:
                word = m.group("level").lower().replace("\u0307", "").replace("ı", "i")
                return loglines._LEVEL_MAP[word]
        return None

    bodies = ["INFO: x", "info - x", "[ERROR] x", "12:00:00 WARN x", "2024-01-01 x ERROR y"]
    firsts = "tdiwecfTDIWECFbxyzTİı[(0٣९ \t-|<"  # incl. non-ASCII digits and Turkish I
    lines = [f + body for f in firsts for body in ["", *bodies]] + [b[1:] for b in bodies]
    lines += ["İNFO: dotted", "ınfo: dotless", "٢٠٢٤-01-01 12:00:00 ERROR arabic digits"]
    for line in lines:
        assert loglines._structural_level(line) == every_pattern(line), line
    # Once a KeyError that ended the pipe reader: a level word with a Turkish I.
    assert classify_level("İNFO: dotted") == classify_level("ınfo: dotless") == "INFO"


def test_a_remembered_record_start_gives_each_line_the_level_it_would_have() -> None:
    """A line that starts as the last record the first structure matched did ("INFO:")
    takes its level without the patterns: the same levels, tracebacks included."""
    access = 'INFO:     127.0.0.1:{} - "GET /items/{} HTTP/1.1" {} OK'
    lines = [access.format(50000 + n, n, 200 + n) for n in range(3)]
    lines += [
        "INFO:x",
        "INFO:Traceback (most recent call last):",
        '  File "a.py", line 1, in f',
        "ValueError: v",
        "INFO:back",
        "WARN - a",
        "Welcome",
        "WARNING - b",
        "WARN -b",
        "warn - c",
        "info: a",
        "information about y",
        "INFO  [alembic.x] y",
        "INFO  -z",
        "ERROR - a",
        "Everything is fine",
        "ERROR -b",
        "ERROR something",
        "INFO:     Uvicorn running",
        "\x1b[32mINFO\x1b[0m: x",
        "INFO:     " + "x" * 50,
        "DEBUG:name:msg",
        "İNFO: dotted",
        "ınfo: dotless",
        "",
        *_chained_traceback().splitlines(),
        "INFO:     after the traceback",
        "Errors: 3",
    ]
    remembering, fresh = LevelClassifier(), LevelClassifier()
    for line in lines:
        fresh._prefix = None  # as if no record start were remembered
        assert remembering.classify(line) == fresh.classify(line), line
    # Lines classified together, as a pipe's read: the same as one by one.
    one_by_one = LevelClassifier()
    assert LevelClassifier().classify_many(lines) == [one_by_one.classify(x) for x in lines]


@pytest.mark.parametrize(
    "line",
    [
        "user ERROR count is 0",
        "GET /errors 200 OK",
        "Processing ERROR codes",
        "Errors: 3 found",
        "informational: nothing",
        "  INFO: indented is not a record start",
        "12:00:00 Processing ERROR codes",
        "2024-01-01 12:00:00 user ERROR count",
        "[notice] A new release of pip is available",
        "ErrorHandler registered",
        "",
        "\x1b[1mbold text with WARNING inside\x1b[0m",
        "\u2718 ERROR count is 0",
        "\u00d7 \u2718 [ERROR] two marks",
    ],
)
def test_free_text_stays_default(line: str) -> None:
    assert classify_level(line) == "INFO"
    assert classify_level(line, default="DEBUG") == "DEBUG"


def test_default_must_be_a_level() -> None:
    with pytest.raises(ValueError):
        LevelClassifier("NOTICE")


def test_uvicorn_colored_output() -> None:
    assert classify_level("\x1b[32mINFO\x1b[0m:     Started server process [42]") == "INFO"
    assert classify_level("\x1b[31mERROR\x1b[0m:    Exception in ASGI application") == "ERROR"
    assert classify_level("\x1b[33mWARNING\x1b[0m:  StatReload detected changes") == "WARN"


def test_uvicorn_formatter_output() -> None:
    uvicorn_logging = pytest.importorskip("uvicorn.logging")
    fmt = uvicorn_logging.DefaultFormatter("%(levelprefix)s %(message)s", use_colors=True)
    for levelno, expected in [
        (logging.INFO, "INFO"),
        (logging.WARNING, "WARN"),
        (logging.ERROR, "ERROR"),
        (logging.DEBUG, "DEBUG"),
    ]:
        record = logging.LogRecord("uvicorn.error", levelno, __file__, 1, "hello", None, None)
        line = fmt.format(record)
        assert "\x1b[" in line
        assert classify_level(line) == expected


def _chained_traceback() -> str:
    def inner() -> None:
        raise ValueError("bad value")

    try:
        try:
            inner()
        except ValueError:
            {}["missing"]
    except KeyError as exc:
        try:
            raise RuntimeError("wrapped") from exc
        except RuntimeError:
            return traceback.format_exc()
    raise AssertionError("unreachable")


def test_real_chained_traceback_is_error_then_back_to_info() -> None:
    tb = _chained_traceback()
    assert "During handling of the above exception" in tb
    assert "The above exception was the direct cause" in tb
    lines = ["INFO:     Started server process [1]", "ERROR:    Exception in ASGI application"]
    lines += tb.splitlines()
    assert lines[-1] == "RuntimeError: wrapped"
    clf = LevelClassifier()
    levels = [clf.classify(line) for line in lines]
    assert levels[0] == "INFO"
    assert levels[1:] == ["ERROR"] * (len(lines) - 1)
    assert clf.classify("Application is serving again") == "INFO"
    assert clf.classify("plain output") == "INFO"


def test_blank_lines_after_traceback_then_new_record() -> None:
    clf = LevelClassifier()
    assert clf.classify("Traceback (most recent call last):") == "ERROR"
    assert clf.classify('  File "app.py", line 1, in <module>') == "ERROR"
    assert clf.classify("") == "ERROR"
    assert clf.classify("    import foo") == "ERROR"
    assert clf.classify("KeyboardInterrupt") == "ERROR"
    assert clf.classify("") == "ERROR"
    assert clf.classify("INFO:     Shutting down") == "INFO"
    assert clf.classify("  indented but normal") == "INFO"


def test_new_log_record_ends_traceback() -> None:
    clf = LevelClassifier()
    clf.classify("Traceback (most recent call last):")
    clf.classify('  File "app.py", line 1, in <module>')
    assert clf.classify("INFO:     Waiting for application shutdown.") == "INFO"
    assert clf.classify("hello") == "INFO"


def test_traceback_logged_with_level_prefix() -> None:
    # uvicorn's lifespan does logger.error(traceback.format_exc())
    clf = LevelClassifier()
    assert clf.classify("ERROR:    Traceback (most recent call last):") == "ERROR"
    assert clf.classify('  File "/app/main.py", line 3, in lifespan') == "ERROR"
    assert clf.classify("ConnectionRefusedError: [Errno 111] Connect call failed") == "ERROR"
    assert clf.classify("") == "ERROR"
    assert clf.classify("\x1b[31mERROR\x1b[0m:    Application startup failed. Exiting.") == "ERROR"
    assert clf.classify("bye") == "INFO"


def test_exception_group_traceback() -> None:
    try:
        raise ExceptionGroup("eg", [ValueError("one"), TypeError("two")])
    except Exception:
        tb = traceback.format_exc()
    lines = tb.splitlines()
    assert lines[0].lstrip().startswith("+ Exception Group Traceback")
    clf = LevelClassifier()
    assert [clf.classify(line) for line in lines] == ["ERROR"] * len(lines)
    assert clf.classify("normal line") == "INFO"
    assert failure_cause(lines) == "TypeError: two"


# --------------------------------------------------------------------------- failure_cause

_MISSING = [
    "INFO:     Will watch for changes in these directories: ['/tmp/x']",
    "Traceback (most recent call last):",
    '  File "/tmp/x/app/main.py", line 3, in <module>',
    "    from sqlmodel import SQLModel",
    "ModuleNotFoundError: No module named 'sqlmodel'",
]


def test_failure_cause_missing_module_not_in_requirements() -> None:
    assert failure_cause(_MISSING, "fastapi>=0.110\nuvicorn[standard]\n") == (
        "ModuleNotFoundError: No module named 'sqlmodel' — add 'sqlmodel' to requirements.txt"
    )
    assert failure_cause(_MISSING) == (
        "ModuleNotFoundError: No module named 'sqlmodel' — add 'sqlmodel' to requirements.txt"
    )
    # A module whose distribution has another name: that name (pkg_resources: setuptools).
    missing = [line.replace("sqlmodel", "pkg_resources") for line in _MISSING]
    assert failure_cause(missing, "flask\n").endswith("— add 'setuptools' to requirements.txt")
    # A submodule Python's own library does not have: no package to add.
    stdlib = [line.replace("sqlmodel", "email.nonexistent") for line in _MISSING]
    assert failure_cause(stdlib, "flask\n") == (
        "ModuleNotFoundError: No module named 'email.nonexistent' — 'email' is Python's own;"
        " it has no module 'email.nonexistent' in this version"
    )
    # One letter off a listed distribution's module (bhagavathms' Metro-Flask-Backend:
    # ``flas_sqlalchemy``, Flask-SQLAlchemy listed); not a module of its own that far.
    slip = [line.replace("sqlmodel", "flas_sqlalchemy") for line in _MISSING]
    assert failure_cause(slip, "Flask\nFlask-SQLAlchemy==2.4.3\n").endswith(
        "— 'flas_sqlalchemy' is one letter off 'flask_sqlalchemy', the module of"
        " 'Flask-SQLAlchemy', which requirements.txt lists: a misspelling in the app's own code"
    )
    swapped = [line.replace("sqlmodel", "flaks") for line in _MISSING]
    assert "misspelling" in (failure_cause(swapped, "flask\n") or "")
    assert failure_cause(_MISSING, "sqlmodels\n") is not None
    assert failure_cause(slip, "flask-restx\n").endswith(
        "add 'flas_sqlalchemy' to requirements.txt"
    )


@pytest.mark.parametrize(
    "requirements",
    [
        "fastapi\nsqlmodel==0.0.16\n",
        "# deps\n-r base.txt\nSQLModel[extra] >= 0.0.14 ; python_version > '3.8'  # orm\n",
        "SQLMODEL\n",
    ],
)
def test_failure_cause_missing_module_in_requirements(requirements: str) -> None:
    cause = failure_cause([*_MISSING[:-1], "\x1b[31m" + _MISSING[-1] + "\x1b[0m"], requirements)
    assert cause is not None
    assert cause.startswith("ModuleNotFoundError: No module named 'sqlmodel' — '")
    assert cause.endswith(
        "' is in requirements.txt but not installed for the preview interpreter (PREVIEW_PYTHON)"
    )


def test_failure_cause_a_module_its_own_folder_lacks_is_named_there() -> None:
    """Ali-Sina-255's Fastapi-bank-system imports ``backend.app.auth.shema`` (its file is
    ``schema.py``, backend/ no package of its own): the cause said "add 'backend' to
    requirements.txt". It names the folder lacking the module and its nearest name; where
    the folder has it, the path is the matter (no such hint)."""
    lines = [*_MISSING[:-1], "ModuleNotFoundError: No module named 'backend.app.auth.shema'"]
    upload = ["backend/app/__init__.py", "backend/app/auth/schema.py", "backend/app/main.py"]
    assert failure_cause(lines, "fastapi\n", upload=upload) == (
        "ModuleNotFoundError: No module named 'backend.app.auth.shema' — the upload's"
        " backend/app/auth/ has no module 'shema' (its 'schema'?): its own import names it"
    )
    there = [*_MISSING[:-1], "ModuleNotFoundError: No module named 'backend.app.auth.schema'"]
    assert "has no module" not in (failure_cause(there, "fastapi\n", upload=upload) or "")


def test_failure_cause_a_module_the_upload_never_had_is_said_missing_from_it() -> None:
    """mstelmakh's fastapi-quiz: its alembic env.py imports ``app.answers``, which its
    ``src/app/`` no longer has; the cause said "'app' is in the upload (src/app) but not
    on the import path", which it was. A module nowhere in the upload is said so, with the
    ``.gitignore`` line that left it out where the upload's files are given."""
    lines = [*_MISSING[:-1], "ModuleNotFoundError: No module named 'app.answers'"]
    quiz = ["src/alembic/env.py", "src/app/__init__.py", "src/app/main.py", "src/app/users/x.py"]
    assert failure_cause(lines, "fastapi\n", upload=quiz) == (
        "ModuleNotFoundError: No module named 'app.answers' — no src/app/answers.py or"
        " src/app/answers/ is in the upload (is it in .gitignore, or renamed?)"
    )
    # Its contents given: the .gitignore that rules the folder, and its line.
    ignoring = {path: b"" for path in quiz} | {"src/.gitignore": b"# local\nanswers/\n"}
    cause = failure_cause(lines, "fastapi\n", upload=ignoring)
    assert cause is not None and cause.endswith(
        "is in the upload (left out by src/.gitignore's 'answers/')"
    )
    # One folder of that name has it all: the import path is the matter, said as before.
    moved = [*quiz, "lib/app/__init__.py", "lib/app/answers.py"]
    cause = failure_cause(lines, "fastapi\n", upload=moved)
    assert cause is not None and "'app' is in the upload (lib/app) but not on the import" in cause
    # A module nowhere in the upload that its .gitignore names is no package to add.
    config = [*_MISSING[:-1], "ModuleNotFoundError: No module named 'config'"]
    secret = {"main.py": b"import config\n", ".gitignore": b"__pycache__/\n/config.py\n"}
    assert failure_cause(config, "fastapi\n", upload=secret) == (
        "ModuleNotFoundError: No module named 'config' — no config.py or config/ is in the"
        " upload (left out by .gitignore's '/config.py')"
    )
    cause = failure_cause(config, "fastapi\n", upload={"main.py": b"import config\n"})
    assert cause is not None and cause.endswith("add 'config' to requirements.txt")


def test_a_name_the_apps_own_module_never_binds_is_said_as_its_own_code() -> None:
    """kethelynsantos' FastApiCursos: ``from models import Curso``, its models.py declaring
    only ``Movie``. Not where the module binds it, nor where a ``*`` import may."""
    lines = [
        "Traceback (most recent call last):",
        '  File "cursos.py", line 4, in <module>',
        "    from models import Curso",
        "ImportError: cannot import name 'Curso' from 'models' (models.py)",
    ]
    upload = {"models.py": b"class Movie:\n    pass\n", "cursos.py": b"from models import Curso\n"}
    assert failure_cause(lines, upload=upload) == (
        "ImportError: cannot import name 'Curso' from 'models' (models.py) — models.py (the"
        " app's own) defines no Curso: the app's own code"
    )
    for models in (b"class Curso:\n    pass\n", b"from schemas import *\n", b"Curso = dict\n"):
        assert failure_cause(lines, upload={**upload, "models.py": models}) == lines[-1]
    # Spelt only in a comment and a string (Dunil12's Hotels-Fastapi: its class commented
    # out): bound nowhere all the same.
    commented = b'# class Curso(Base):\n__doc__ = "Curso, later"\nclass Movie:\n    pass\n'
    assert failure_cause(lines, upload={**upload, "models.py": commented}).endswith(
        "models.py (the app's own) defines no Curso: the app's own code"
    )


def test_a_relative_require_of_a_module_never_committed_is_said_as_its_own_code() -> None:
    """JhoneLee's expressQuickly: server/routers/home/index.js requires
    ``../../util/verify``; no server/util/verify.js was ever committed. Not where the
    upload has it (in any form Node resolves), nor where the requiring module is a build's
    output, not the upload's."""
    lines = [
        "node:internal/modules/cjs/loader:1210",
        "  throw err;",
        "  ^",
        "",
        "Error: Cannot find module '../../util/verify'",
        "Require stack:",
        "- server/routers/home/index.js",
        "- server/index.js",
        "    at Function.Module._resolveFilename (node:internal/modules/cjs/loader:1207:15)",
    ]
    upload = {"server/routers/home/index.js": b"", "server/index.js": b"", "server/util/a.js": b""}
    assert failure_cause(lines, upload=upload) == (
        "Error: Cannot find module '../../util/verify' — server/routers/home/index.js requires"
        " ../../util/verify, and the upload has no server/util/verify.js nor"
        " server/util/verify/index.js (never committed, or left out by its .gitignore): the"
        " app's own code"
    )
    for present in ("server/util/verify.js", "server/util/verify/index.js"):
        cause = failure_cause(lines, upload={**upload, present: b""})
        assert cause is not None and "the app's own code" not in cause, cause
    # As Node names them, by their absolute paths in the app's folder.
    absolute = [*lines[:6], "- /srv/previews/p1/app/server/routers/home/index.js", *lines[7:]]
    cause = failure_cause(absolute, upload=upload)
    assert cause is not None and "server/routers/home/index.js requires" in cause, cause
    built = [*lines[:6], "- dist/routers/home/index.js", *lines[7:]]
    cause = failure_cause(built, upload=upload)
    assert cause is not None and "the app's own code" not in cause, cause


def test_a_promise_rejected_with_no_error_is_said_by_its_reason() -> None:
    """samuelatuma1's expressUpload: a route's ``Promise.reject("No User signed In")`` never
    caught, and Node ended (code 1); the cause was "exited with code 1"."""
    lines = [
        "node:internal/process/promises:389",
        "      new UnhandledPromiseRejection(reason);",
        "      ^",
        "",
        "UnhandledPromiseRejection: This error originated either by throwing inside of an"
        " async function without a catch block, or by rejecting a promise which was not"
        ' handled with .catch(). The promise rejected with the reason "No User signed In".',
        "  code: 'ERR_UNHANDLED_REJECTION'",
        "}",
        "",
        "Node.js v20.20.2",
    ]
    assert failure_cause(lines) == 'UnhandledPromiseRejection: rejected with "No User signed In"'


def test_a_nest_loggers_error_is_the_cause_its_prefix_left_out() -> None:
    """bigchief64's ExampleNestJS: Nest's injector refused a controller, its logger's
    ERROR line the only one, in colour; the cause was "exited with code 1"."""
    said = (
        "\x1b[32m[Nest] 17  - \x1b[39m12/07/2026, 7:55:35 AM \x1b[31m  ERROR\x1b[39m"
        " \x1b[38;5;3m[ExceptionHandler] \x1b[39mUnknownDependenciesException [Error]: Nest"
        " can't resolve dependencies of the ScoreController (?)."
    )
    lines = [said, "", "Potential solutions:", "- Is ScoreModule a valid NestJS module?", "}"]
    assert failure_cause(lines) == (
        "UnknownDependenciesException [Error]: Nest can't resolve dependencies of the"
        " ScoreController (?)."
    )


def test_failure_cause_module_in_the_upload_says_how_to_import_it() -> None:
    """A monorepo's library that no dependency file names is not a package to add from
    the index: the hint names where it is and how to make it importable."""
    lines = [*_MISSING[:-1], "ModuleNotFoundError: No module named 'common.models'"]
    in_project = [
        "main.py",
        "libs/common/pyproject.toml",
        "libs/common/src/common/__init__.py",
        "libs/common/src/common/models.py",
    ]
    assert failure_cause(lines, "fastapi\n", upload=in_project) == (
        "ModuleNotFoundError: No module named 'common.models' — 'common' is in the upload"
        " (libs/common/src/common) but not installed: name its project in requirements.txt"
        " as '-e ./libs/common'"
    )
    loose = ["main.py", "shared/common.py", "common_extra/__init__.py"]
    assert failure_cause(lines, None, upload=loose) == (
        "ModuleNotFoundError: No module named 'common.models' — 'common' is in the upload"
        " (shared/common.py) but not on the import path: put it beside the app, or give"
        " the launch option env a PYTHONPATH naming its folder"
    )
    # A module of a distribution its requirements list, the upload's file of that name
    # a module, no package: the release installed lacks it (jdht1992's fastapi-shipment:
    # redis==4.0.0 and redis.asyncio; the cause said "'redis' is in the upload").
    redis = [*_MISSING[:-1], "ModuleNotFoundError: No module named 'redis.asyncio'"]
    shipment = ["app/main.py", "app/database/redis.py"]
    assert failure_cause(redis, "fastapi\nredis==4.0.0\n", upload=shipment) == (
        "ModuleNotFoundError: No module named 'redis.asyncio' — the release of 'redis'"
        " (requirements.txt) installed has no module 'redis.asyncio': the app's code was"
        " written for another release of it"
    )
    # A file named after the package it imports wraps it (ravuritejaswi's
    # DJANGORESTPROJECT: config/celery.py's ``from celery import Celery``), so it is
    # not the missing module: the package is what to add.
    celery = [*_MISSING[:-1], "ModuleNotFoundError: No module named 'celery'"]
    wrapper = {"manage.py": b"", "config/celery.py": b"from celery import Celery\n"}
    assert failure_cause(celery, "Django\n", upload=wrapper) == (
        "ModuleNotFoundError: No module named 'celery' — add 'celery' to requirements.txt"
    )
    # The service's addition, not the app's listing: its own package left out of the
    # upload (Artem2335's projectFastapi: app.users.router, no app/, PyPI's "app" added).
    users = [*_MISSING[:-1], "ModuleNotFoundError: No module named 'app.users'"]
    left_out = {
        "main.py": b"from app.users.router import router\n",
        "requirements.txt": b"fastapi\n",
    }
    assert failure_cause(users, "fastapi\napp\n", upload=left_out) == (
        "ModuleNotFoundError: No module named 'app.users' — the upload holds no app/ and"
        " requirements.txt lists no 'app': the app's own package app (its code imports"
        " app.users) was left out of the upload"
    )
    elsewhere = ["main.py", "lib/uncommon/__init__.py"]
    assert failure_cause(lines, None, upload=elsewhere) == (
        "ModuleNotFoundError: No module named 'common.models' — add 'common' to requirements.txt"
    )


def test_failure_cause_ignores_commented_requirement() -> None:
    cause = failure_cause(_MISSING, "# sqlmodel\n-r sqlmodel.txt\n")
    assert cause is not None and cause.endswith("add 'sqlmodel' to requirements.txt")


def test_failure_cause_import_name_mapping() -> None:
    lines = [
        "Traceback (most recent call last):",
        "    import yaml",
        "ModuleNotFoundError: No module named 'yaml'",
    ]
    assert failure_cause(lines, "fastapi\n") == (
        "ModuleNotFoundError: No module named 'yaml' — add 'PyYAML' to requirements.txt"
    )
    cause = failure_cause(lines, "pyyaml==6.0\n")
    assert cause is not None and "'pyyaml' is in requirements.txt but not installed" in cause
    dotted = [*lines[:-1], "ModuleNotFoundError: No module named 'PIL.Image'"]
    assert failure_cause(dotted, None) == (
        "ModuleNotFoundError: No module named 'PIL.Image' — add 'Pillow' to requirements.txt"
    )
    dotenv = [*lines[:-1], "ModuleNotFoundError: No module named 'dotenv'"]
    cause = failure_cause(dotenv, "Python_DotEnv[cli]>=1.0\n")
    assert cause is not None and "'Python_DotEnv' is in requirements.txt" in cause
    psycopg = [*lines[:-1], "ModuleNotFoundError: No module named 'psycopg2'"]
    cause = failure_cause(psycopg, "psycopg2\n")
    assert cause is not None and "is in requirements.txt" in cause


def test_failure_cause_missing_entry_module_is_not_a_dependency() -> None:
    site = "/venv/lib/python3.11/site-packages"
    lines = [
        "Traceback (most recent call last):",
        f'  File "{site}/uvicorn/importer.py", line 19, in import_from_string',
        "    module = importlib.import_module(module_str)",
        '  File "/usr/lib/python3.11/importlib/__init__.py", line 126, in import_module',
        '  File "<frozen importlib._bootstrap>", line 1140, in _find_and_load_unlocked',
        "ModuleNotFoundError: No module named 'nope'",
    ]
    assert failure_cause(lines, "fastapi\n") == (
        "ModuleNotFoundError: No module named 'nope' — the app module itself was not found"
        " (check the app path)"
    )
    # the same error raised from the user's own code is a missing dependency
    user = [
        *lines[:3],
        '  File "/tmp/x/app/main.py", line 1, in <module>',
        "    import nope",
        lines[-1],
    ]
    cause = failure_cause(user, "fastapi\n")
    assert cause is not None and cause.endswith("add 'nope' to requirements.txt")


def test_failure_cause_last_traceback_wins() -> None:
    lines = [
        "Traceback (most recent call last):",
        "  x",
        "ValueError: first",
        "",
        "Traceback (most recent call last):",
        "  y",
        "pkg.mod.CustomError: second",
        "INFO:     Finished server process [7]",
    ]
    assert failure_cause(lines) == "pkg.mod.CustomError: second"


def test_failure_cause_uvicorn_import_error() -> None:
    lines = [
        "INFO:     Will watch for changes",
        '\x1b[31mERROR\x1b[0m:    Error loading ASGI app. Could not import module "app.main".',
    ]
    assert failure_cause(lines) == 'Error loading ASGI app. Could not import module "app.main".'
    attr = ['ERROR:    Error loading ASGI app. Attribute "app" not found in module "app.main".']
    assert failure_cause(attr) == (
        'Error loading ASGI app. Attribute "app" not found in module "app.main".'
    )
    # a traceback printed after it is the better explanation
    later = [*lines, "Traceback (most recent call last):", "  z", "ImportError: cannot import x"]
    assert failure_cause(later) == "ImportError: cannot import x"


def test_failure_cause_port_in_use() -> None:
    line = (
        "ERROR:    [Errno 98] error while attempting to bind on address "
        "('127.0.0.1', 8000): address already in use"
    )
    assert failure_cause(["INFO:     Started server process [1]", line]) == (
        "port already in use: [Errno 98] error while attempting to bind on address "
        "('127.0.0.1', 8000): address already in use"
    )


def test_failure_cause_fallbacks() -> None:
    assert failure_cause([]) is None
    assert failure_cause(["hello", "INFO:     Started", "user ERROR count is 0"]) is None
    lines = ["INFO:     Started", "ERROR:    Application startup failed. Exiting.", "bye"]
    assert failure_cause(lines) == "ERROR:    Application startup failed. Exiting."


def test_failure_cause_is_clipped() -> None:
    lines = ["Traceback (most recent call last):", "  f", "ValueError: " + "x" * 1000]
    cause = failure_cause(lines)
    assert cause is not None and cause.startswith("ValueError: xxx") and len(cause) <= 300


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("ERROR something failed", "ERROR"),
        ("WARNING disk almost full", "WARN"),
        ("INFO starting worker 3", "INFO"),
        ("DEBUG\tcache miss", "DEBUG"),
        ("CRITICAL database gone", "ERROR"),
        ('{"level": "error", "msg": "db down"}', "ERROR"),
        ('{"time": 1, "levelname": "WARNING", "message": "x"}', "WARN"),
        ('{"severity":"CRITICAL","message":"x"}', "ERROR"),
        ('{"level":30,"time":1,"msg":"pino info"}', "INFO"),
        ('{"level":50,"msg":"pino error"}', "ERROR"),
        ('{"log.level":"debug","message":"ecs"}', "DEBUG"),
    ],
)
def test_content_levels_prefix_words_and_json_fields(line: str, level: str) -> None:
    # The level is the line's own, whichever pipe it came from (uvicorn logs INFO to stderr).
    assert classify_level(line) == level


@pytest.mark.parametrize(
    "line",
    [
        "Error handling request",  # prose, not an upper-case level word
        "ERROR",  # a word alone
        "ERRORS 3",
        '{"msg": "no level here", "levels": 3}',
        '{"level": "loud", "msg": "unknown word"}',
    ],
)
def test_content_levels_leave_prose_alone(line: str) -> None:
    assert classify_level(line) == "INFO"


def test_failure_cause_of_a_script_that_is_not_there_names_it_relative() -> None:
    root = "/srv/previews/preview_1"
    lines = [
        f"/usr/bin/python3: can't open file '{root}/server.py': [Errno 2] No such file or directory"
    ]
    cause = failure_cause(lines, root=root)
    assert cause == "can't open file 'server.py': No such file or directory"


def test_failure_cause_never_carries_the_generation_folder() -> None:
    root = "/srv/previews/preview_2"
    lines = [
        "Traceback (most recent call last):",
        f'  File "{root}/app/main.py", line 3, in <module>',
        f"FileNotFoundError: [Errno 2] No such file or directory: '{root}/data.csv'",
    ]
    cause = failure_cause(lines, root=root)
    assert cause == "FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'"


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        (  # Python, through a traceback whose last line names the errno
            [
                "Traceback (most recent call last):",
                '  File "/srv/previews/p/seed.py", line 2, in <module>',
                "OSError: [Errno 28] No space left on device: '/srv/previews/p/big.bin'",
            ],
            "OSError: [Errno 28] No space left on device: 'big.bin'",
        ),
        (  # Node
            ["node:fs:1", "Error: ENOSPC: no space left on device, write", "    at writeSync"],
            "Error: ENOSPC: no space left on device, write",
        ),
        (  # SQLite, then a generic last error line that says less
            [
                "sqlite3.OperationalError: database or disk is full",
                "ERROR:    Application startup failed. Exiting.",
            ],
            "sqlite3.OperationalError: database or disk is full",
        ),
        (["OSError: [Errno 122] Disk quota exceeded"], "OSError: [Errno 122] Disk quota exceeded"),
    ],
)
def test_failure_cause_of_a_full_disk_or_quota_says_no_space_is_left(
    lines: list[str], said: str
) -> None:
    cause = failure_cause(lines, root="/srv/previews/p")
    assert cause == f"no space left for the app's files ({said})"


def test_a_full_disk_before_a_later_exception_is_not_the_cause() -> None:
    lines = [
        "warning: [Errno 28] No space left on device (the cache is skipped)",
        "Traceback (most recent call last):",
        "  x",
        "ValueError: later and unrelated",
    ]
    assert failure_cause(lines) == "ValueError: later and unrelated"


def test_no_space_in_a_build_s_lines_and_in_writing_the_files() -> None:
    said = ["uv pip install failed", "error: Failed to write to cache: No space left on device"]
    assert no_space(said, "the app's environment") == (
        "no space left for the app's environment"
        " (error: Failed to write to cache: No space left on device)"
    )
    assert no_space(["no space left for the app's files (x)"]) == (
        "no space left for the app's files (x)"
    )  # said once, not wrapped twice
    assert no_space(["error: resolution failed"]) is None
    full = OSError(28, "No space left on device", "/srv/previews/p/server.py")
    assert write_failure(full, "server.py") == (
        "no space left for the app's files (No space left on device (server.py))"
    )
    denied = OSError(13, "Permission denied")
    assert write_failure(denied, "") == "could not write the generation's files: Permission denied"


# The cause is read with re, which holds the GIL while it matches: a pattern that
# backtracks quadratically on an app's own output stops the whole service, not the
# preview alone, each time a failure or a failed call is read.
_CAUSE_OF_BLANKS = """
from preview.logs import failure_cause
print(failure_cause([" " * 65_536 + "x"] * 8))
"""


async def test_a_cause_is_read_at_once_from_lines_of_blanks() -> None:
    with trio.fail_after(60):  # five minutes on the old pattern, the GIL held
        done = await trio.run_process([sys.executable, "-c", _CAUSE_OF_BLANKS], capture_stdout=True)
    assert done.stdout.strip() == b"None"
