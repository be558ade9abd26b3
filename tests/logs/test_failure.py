"""A failure's lines as the remedies read them: the last ones, after the root cause of
each chained traceback they leave out (:func:`preview.logs.shown_lines`)."""

from __future__ import annotations

import trio

from preview.logs import shown_lines
from preview.logs.causes.failure import failure_cause

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages

_CHAINED = [
    "Traceback (most recent call last):",
    '  File "pytz/lazy.py", line 5, in <module>',
    "    from collections import Mapping as DictMixin",
    "ImportError: cannot import name 'Mapping' from 'collections'",
    "",
    "The above exception was the direct cause of the following exception:",
    "",
    "Traceback (most recent call last):",
    *[f'  File "logging/config.py", line {n}, in configure' for n in range(20)],
    "ValueError: Unable to configure filter 'require_debug_true'",
]


def test_the_root_cause_of_a_chain_is_kept_before_the_last_lines() -> None:
    shown = shown_lines(_CHAINED, 15)
    assert shown[0] == "ImportError: cannot import name 'Mapping' from 'collections'"
    assert shown[1:] == _CHAINED[-15:]
    assert shown_lines(_CHAINED, 40) == _CHAINED  # all of it shown: nothing added
    assert shown_lines(["a", "b", "c"], 2) == ["b", "c"]
    # Two causes: the nearest first (an import its package got past is the earlier one).
    tried = ["ModuleNotFoundError: No module named 'UserDict'", "", _CHAINED[5], ""]
    assert shown_lines([*tried, *_CHAINED], 15)[:2] == [_CHAINED[3], tried[0]]


_PARAGRAPH = [
    "This typically means that you attempted to use functionality that needed",
    "the current application. To solve this, set up an application context",
    "with app.app_context(). See the documentation for more information.",
]
_LONG_MESSAGE = [
    "[INFO] Booting worker with pid: 6",
    "[ERROR] Exception in worker process",
    _TRACEBACK := "Traceback (most recent call last):",
    '  File "<environment>/site-packages/gunicorn/arbiter.py", line 608, in spawn_worker',
    "    worker.init_process()",
    '  File "app.py", line 19, in <module>',
    "    db.create_all()",
    "    ^^^^^^^^^^^^^^^",
    '  File "<environment>/site-packages/flask_sqlalchemy/extension.py", line 900, in create_all',
    '    self._call_for_binds(bind_key, "create_all")',
    '  File "<environment>/site-packages/werkzeug/local.py", line 519, in _get_current_object',
    "    raise RuntimeError(unbound_message) from None",
    "RuntimeError: Working outside of application context.",
    "",
    *_PARAGRAPH,
    "Working outside of application context.",
    "",
    *_PARAGRAPH,
    "[INFO] Worker exiting (pid: 6)",
    "[ERROR] Worker (pid:6) exited with code 3.",
    "[ERROR] Shutting down: Master",
    "[ERROR] Reason: Worker failed to boot.",
]


def test_the_deepest_frames_come_before_last_lines_that_hold_none() -> None:
    """sjaks's sepro-restful-flask: Flask's message of several lines, twice, then
    gunicorn's own four; the last 15 lines held no frame, and the remedies never read
    which package raised it. Its deepest frames (at most twelve lines, from a frame's own
    line, carets left out) come first; none where the last lines show three frames, or
    there is no traceback."""
    shown = shown_lines(_LONG_MESSAGE, 15)
    carets = _LONG_MESSAGE.index("    ^^^^^^^^^^^^^^^")  # (left out: they say nothing more)
    assert shown[:-15] == [_TRACEBACK, *_LONG_MESSAGE[3:carets], *_LONG_MESSAGE[carets + 1 : 11]]
    assert shown[-15:] == _LONG_MESSAGE[-15:]
    deep = [_TRACEBACK, *[f'  File "m{n}.py", line 1\n    x()' for n in range(9)]]
    deep = [part for line in deep for part in line.split("\n")]
    shown = shown_lines([*deep, "ValueError: x", *_LONG_MESSAGE[-15:]], 15)
    assert shown[1] == '  File "m3.py", line 1' and len(shown) == 1 + 12 + 15
    assert shown_lines(_LONG_MESSAGE, 22) == _LONG_MESSAGE[-22:]  # three frames among them
    assert shown_lines(_LONG_MESSAGE[12:], 15) == _LONG_MESSAGE[12:]  # no traceback


# Dies as gunicorn's worker does on sjaks's sepro-restful-flask: a traceback whose message
# is a paragraph, that paragraph again, then the server's own lines, on stderr.
DIES_LONG = """import sys
lines = [
    "[ERROR] Exception in worker process",
    "Traceback (most recent call last):",
    '  File "app.py", line 19, in <module>',
    "    db.create_all()",
    '  File "/srv/site-packages/flask_sqlalchemy/extension.py", line 900, in create_all',
    "    self._call_for_binds(bind_key)",
    "RuntimeError: Working outside of application context.",
    "",
    *["This typically means", "that you attempted", "to use functionality"] * 2,
    "[INFO] Worker exiting (pid: 6)",
    "[ERROR] Worker (pid:6) exited with code 3.",
    "[ERROR] Shutting down: Master",
    "[ERROR] Reason: Worker failed to boot.",
]
print("\\n".join(lines), file=sys.stderr)
sys.exit(3)
"""


async def test_a_failed_starts_lines_show_its_tracebacks_frames(service: Service) -> None:
    """Its errorLines hold the app's frame and the package's below it, which the last
    15 lines alone did not."""
    with trio.fail_after(30):
        gid = await service.upload({"main.py": DIES_LONG})
        body = (await service.launch(gid, command=["{python}", "main.py"])).json()
        assert body["status"] == "failed", body
        lines = body["errorLines"]
        assert '  File "app.py", line 19, in <module>' in lines, lines
        assert lines[-1] == "[ERROR] Reason: Worker failed to boot."


async def test_a_root_cause_above_the_last_lines_gets_its_fix(builder_service: Service) -> None:
    """brascher's docker-django-jwt: migrate died on "Unable to configure filter
    'require_debug_true'", caused by its pinned pytz's ``from collections import
    Mapping`` (gone in Python 3.10) 40 lines above; the remedies read the last 15 and
    found nothing. The root cause is read: relaunched with an older Python, it runs."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(service, app_files("flask_chained_root_cause"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"python": "older than 3.10"}
        system = messages(await service.history(body["gid"]), "system")
        assert any("collections.Mapping was removed" in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_tools_marked_error_is_the_cause_of_an_exit_that_printed_nothing_else() -> None:
    """open-source-usach's ramosusach-honojs-api: ``wrangler dev`` (wrangler 2) printed
    its one error in esbuild's colours and exited 1; the failure said only "exited with
    code 1"."""
    said = (
        "\x1b[31m\u2718 \x1b[41;31m[\x1b[41;97mERROR\x1b[41;31m]\x1b[0m \x1b[1mYou must be "
        "logged in to use wrangler dev in remote mode. Try logging in, or run wrangler dev "
        "--local.\x1b[0m"
    )
    lines = ["", said, "", "", "\x1b[32mIf you think this is a bug then please create an issue"]
    assert failure_cause(lines) == (
        "\u2718 [ERROR] You must be logged in to use wrangler dev in remote mode. Try logging "
        "in, or run wrangler dev --local."
    )


def test_a_rejected_promise_nodes_inspected_error_is_the_cause() -> None:
    """lucaspater's gastos-express: a route's readFile rejected and Node exited 1; its
    report (``triggerUncaughtException(err, true /* fromPromise */);``, a caret, the error
    inspected without a stack) gave no cause: "exited with code 1" alone."""
    lines = [
        "Listening on port 19211...",
        "node:internal/process/promises:391",
        "    triggerUncaughtException(err, true /* fromPromise */);",
        "    ^",
        "",
        "[Error: ENOENT: no such file or directory, open './data/expense.json'] {",
        "  errno: -2,",
        "  code: 'ENOENT',",
        "}",
        "",
        "Node.js v20.20.2",
    ]
    assert failure_cause(lines) == (
        "Error: ENOENT: no such file or directory, open './data/expense.json'"
    )


def test_a_node_error_named_with_its_class_beside_it_is_the_cause() -> None:
    """selmanjir's blog-with-express.js: Sequelize's ``ConnectionError
    [SequelizeConnectionError]: connect ENOENT …`` (Node names the error's class beside its
    name) gave no cause: "exited with code 1" alone."""
    lines = [
        "Server has started at port 19207",
        "node_modules/sequelize/lib/dialects/mysql/connection-manager.js:102",
        "          throw new SequelizeErrors.ConnectionError(err);",
        "                ^",
        "",
        "ConnectionError [SequelizeConnectionError]: connect ENOENT mysql://root@mysql:3306/blog",
        "    at ConnectionManager.connect (node_modules/sequelize/lib/dialects/mysql/x.js:102:17)",
        "  parent: Error: connect ENOENT mysql://root@mysql:3306/blog",
        "}",
        "",
        "Node.js v20.20.2",
    ]
    assert failure_cause(lines) == (
        "ConnectionError [SequelizeConnectionError]: connect ENOENT mysql://root@mysql:3306/blog"
    )
