"""The cause of a failed start comes from one stream's own sequence, whatever the other
printed meanwhile, and a whole long traceback is kept for it."""

from __future__ import annotations

import itertools

import trio

from ..conftest import SERVER_COMMAND, Service, server_app

# A chain of 30 imports ending in a missing module: a traceback of about 65 lines, each
# written to stderr with a stdout line after it (as an app's logging thread would),
# paced so that the two pipes' reads alternate: 20 ms a pair, 1.3 s in all, so that even
# a loaded machine's service, reading every 100 ms or so, reads them in turns.
_CHAIN = {f"chain{n}.py": f"import chain{n + 1}\n" for n in range(30)}
_CHAIN["chain30.py"] = "import sqlmodel_missing_module\n"
_INTERLEAVED = """
import traceback
try:
    import chain0
except ImportError:
    for text in traceback.format_exc().splitlines():
        say(text, sys.stderr)
        say("app booting")
        time.sleep(0.02)
    sys.exit(1)
"""


async def test_the_cause_is_stderrs_exception_line_among_interleaved_stdout(
    service: Service,
) -> None:
    with trio.fail_after(60):
        files = server_app(before_serving=_INTERLEAVED, **_CHAIN)
        files["requirements.txt"] = "fastapi\n"
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "failed"
        assert body["errorMessage"] == (
            "ModuleNotFoundError: No module named 'sqlmodel_missing_module'"
            " — add 'sqlmodel_missing_module' to requirements.txt"
        )
        lines = body["errorLines"]
        assert lines[-1] == "ModuleNotFoundError: No module named 'sqlmodel_missing_module'"
        assert "app booting" not in lines and len(lines) == 15
        app = [e["stream"] for e in await service.history(gid) if e["source"] == "app"]
        assert app.count("stderr") > 60  # longer than the 40 lines kept before
        assert app.count("stdout") == app.count("stderr")
        switches = sum(a != b for a, b in itertools.pairwise(app))
        assert switches > 10, app  # the streams' lines did interleave
