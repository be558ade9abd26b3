"""The cause of an exit is the last error before it: an exception the app logged and
survived (it answered after it) is not why it exited later."""

from __future__ import annotations

import trio

from preview.logs import failure_cause
from preview.logs.causes.failure import with_server_refused

from ..conftest import SERVER_COMMAND, Service, auth, read_sse, server_app

HANDLERS = """
import traceback

class Misbehaving(Handler):
    def do_GET(self):
        if self.path == "/boom":
            try:
                1 / 0
            except ZeroDivisionError:
                traceback.print_exc()  # handled, logged, and on it goes
                sys.stderr.flush()
        elif self.path == "/exit":
            os._exit(3)
        elif self.path == "/die":
            try:
                raise RuntimeError("the cache is corrupt")
            except RuntimeError:
                traceback.print_exc()
                sys.stderr.flush()
            os._exit(3)
        super().do_GET()

Handler = Misbehaving
"""


async def _call(service: Service, gid: str, token: str, path: str) -> int | None:
    answer = await service.client.post(
        f"/api/generations/{gid}/preview/request",
        json={"method": "GET", "path": path},
        headers={**auth(), "X-Preview-Token": token},
    )
    return answer.json().get("statusCode") if answer.status_code == 200 else None


async def _until(service: Service, gid: str, text: str) -> None:
    """Until the log says ``text`` (replayed, then live)."""
    url = f"/api/generations/{gid}/preview/logs/stream"
    async with service.client.stream("GET", url, headers=auth()) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and text in line:
                return


async def _ended(service: Service, gid: str) -> dict:
    url = f"/api/generations/{gid}/preview/logs/stream"
    async with service.client.stream("GET", url, headers=auth()) as response:
        events = await read_sse(response)
    assert events[-1][0] == "end"
    return await service.status(gid)


async def test_a_handled_exception_before_answers_is_not_the_cause(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app(before_serving=HANDLERS))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body
        token = body["previewToken"]
        assert await _call(service, gid, token, "/boom") == 200
        await _until(service, gid, "ZeroDivisionError: division by zero")
        assert await _call(service, gid, token, "/") == 200  # alive after it
        await _call(service, gid, token, "/exit")
        status = await _ended(service, gid)
        assert status["exitCode"] == 3
        assert status["errorMessage"] == "exited with code 3", status["errorMessage"]
        assert not any("ZeroDivisionError" in line for line in status["errorLines"])


async def test_the_error_just_before_the_exit_is_the_cause(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app(before_serving=HANDLERS))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body
        token = body["previewToken"]
        assert await _call(service, gid, token, "/boom") == 200
        await _until(service, gid, "ZeroDivisionError: division by zero")
        assert await _call(service, gid, token, "/") == 200
        await _call(service, gid, token, "/die")
        status = await _ended(service, gid)
        assert status["errorMessage"] == (
            "exited with code 3: RuntimeError: the cache is corrupt"
        ), status["errorMessage"]


def test_gunicorns_master_exception_gives_way_to_its_workers() -> None:
    lines = [
        "[2026-11-23 11:43:10 +0000] [9] [ERROR] Exception in worker process",
        "Traceback (most recent call last):",
        '  File "/app/conduit/app.py", line 3, in <module>',
        "    from flask_apispec import FlaskApiSpec",
        "ImportError: cannot import name 'FlaskApiSpec' from 'flask_apispec'",
        "[2026-11-23 11:43:10 +0000] [9] [INFO] Worker exiting (pid: 9)",
        "Traceback (most recent call last):",
        '  File "/env/lib/python3.11/site-packages/gunicorn/arbiter.py", line 209, in run',
        "    self.manage_workers()",
        "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>",
    ]
    assert failure_cause(lines) == (
        "ImportError: cannot import name 'FlaskApiSpec' from 'flask_apispec'"
    )
    # Alone, it is all there is to say.
    assert failure_cause(lines[5:]) == (
        "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>"
    )


def test_a_syntax_error_says_the_file_and_line_it_is_in() -> None:
    """Python's and Node's SyntaxError name their place above the error line; the
    cause carries it (the user's path, not the host's)."""
    python = [
        "Traceback (most recent call last):",
        '  File "<frozen importlib._bootstrap>", line 1176, in _find_and_load',
        '  File "/srv/gen/app/main.py", line 2',
        "    app = FastAPI(",
        "          ^",
        "SyntaxError: '(' was never closed",
    ]
    assert failure_cause(python, root="/srv/gen") == (
        "SyntaxError: '(' was never closed (app/main.py, line 2)"
    )
    node = [
        "/srv/gen/index.js:3",
        'app.get("/", (req, res) => { res.json({ok: true}) );',
        "                                                  ^",
        "",
        "SyntaxError: Unexpected token ')'",
        "    at wrapSafe (node:internal/modules/cjs/loader:1464:18)",
        "",
        "Node.js v20.20.2",
    ]
    assert failure_cause(node, root="/srv/gen") == "SyntaxError: Unexpected token ')' (index.js:3)"
    indented = ['  File "main.py", line 4', "    return 1", "IndentationError: unexpected indent"]
    assert failure_cause(indented) == "IndentationError: unexpected indent (main.py, line 4)"
    named = ['  File "main.py", line 9', "SyntaxError: invalid syntax (main.py, line 2)"]
    assert failure_cause(named) == "SyntaxError: invalid syntax (main.py, line 2)"  # once


def test_a_conflict_markers_syntax_error_names_where_the_merge_was_left() -> None:
    """shekharsikku's hono-scalar: ``<<<<<<< HEAD`` in src/controllers/tasks.ts, and Bun's
    "error: Unexpected <<" alone; Node's "Unexpected token '<<'" likewise. The upload's
    source holding the marker is named; without the upload's files, the error alone."""
    tasks = b"import { db } from '../db'\n<<<<<<< HEAD\nconst a = 1\n=======\n>>>>>>> b\n"
    files = {"package.json": b"{}", "src/controllers/tasks.ts": tasks, "src/index.ts": b""}
    for said in ("error: Unexpected <<", "SyntaxError: Unexpected token '<<'"):
        cause = failure_cause([said], upload=files)
        assert cause is not None and cause.endswith(
            "src/controllers/tasks.ts line 2 holds a merge conflict left unresolved"
        ), cause
    assert failure_cause(["error: Unexpected <<"], upload=list(files)) == "error: Unexpected <<"


def test_a_syntax_error_of_the_apps_own_javascript_or_a_marker_line_says_so() -> None:
    """dika165's task-api-express-db (``Task.create({req.body.name, …})``, an ES module:
    its path was said "file://services/…"), bbq191's hello-koa (``=>`` split over two
    lines): JavaScript no Node release parses, in an upload naming no transpiler, is the
    app's own error. Soumyashri-work's library-api-fastapi: main.py's line 297 is
    ``>>>>>>> 14cad7c``. A module kind's error, an upload with Babel, or a Python syntax
    error on a line of code (another release's grammar, maybe) gets no verdict."""
    esm = [
        "file:///srv/gen/services/taskService.js:26",
        "    const [result] = await Task.create({req.body.name, req.body.completed});",
        "                                           ^",
        "",
        "SyntaxError: Unexpected token '.'",
        "    at compileSourceTextModule (node:internal/modules/esm/utils:346:16)",
        "",
        "Node.js v20.20.2",
    ]
    files = {"package.json": b'{"type": "module"}', "services/taskService.js": b"x\n" * 30}
    cause = failure_cause(esm, root="/srv/gen", upload=files)
    assert cause == (
        "SyntaxError: Unexpected token '.' (services/taskService.js:26) — services/"
        "taskService.js line 26 is JavaScript no release of Node parses: a syntax error in"
        " the app's own code"
    ), cause
    babel = {**files, "package.json": b'{"devDependencies": {"@babel/core": "^7"}}'}
    said = "SyntaxError: Unexpected token '.' (services/taskService.js:26)"
    assert failure_cause(esm, root="/srv/gen", upload=babel) == said
    module_kind = [*esm[:4], "SyntaxError: Cannot use import statement outside a module"]
    cause = failure_cause(module_kind, root="/srv/gen", upload=files)
    assert cause is not None and "app's own code" not in cause, cause
    source = b"def f():\n    return 1\n" * 148 + b">>>>>>> 14cad7c55bc5\n"
    python = [
        '  File "main.py", line 297',
        "    >>>>>>> 14cad7c55bc5",
        "SyntaxError: invalid decimal literal",
    ]
    cause = failure_cause(python, upload={"main.py": source})
    assert cause is not None and cause.endswith(
        "main.py line 297 holds a merge conflict left unresolved"
    ), cause
    code = ['  File "main.py", line 2', '    print "x"', "SyntaxError: Missing parentheses"]
    assert failure_cause(code, upload={"main.py": source}) == (
        "SyntaxError: Missing parentheses (main.py, line 2)"
    )


def test_a_prisma_without_an_engine_for_openssl_3_is_said_as_such() -> None:
    """mojahige's hello-fastify: Prisma 2.28 knows no engine for this machine's OpenSSL 3."""
    said = "Error: Unknown binaryTarget debian-openssl-3.0.x and no custom binaries were provided"
    cause = failure_cause(["Prisma schema loaded from prisma/schema.prisma", said])
    assert cause is not None and cause.startswith(
        "the app's Prisma has no engine for OpenSSL 3, the only OpenSSL of this machine"
    ), cause
    assert cause.endswith(said), cause


def test_an_es_modules_uncaught_rejection_says_what_was_thrown() -> None:
    """Node reports an ES module's uncaught rejection below its own frame and a caret:
    what was thrown (a bundler's parse error, not an Error's line) is the cause, never
    Node's version on the last line."""
    vite = [
        "x Build failed in 485ms",
        "node:internal/modules/run_main:123",
        "    triggerUncaughtException(",
        "    ^",
        "",
        "main.js (1:45): Expression expected",
        "file: /srv/gen/frontend/main.js:1:45",
        "",
        '1: document.getElementById("app").textContent = ;',
        "      ^",
        "",
        "    at getRollupError (file:///srv/gen/frontend/node_modules/rollup/x.js:355:41)",
        "  code: 'PARSE_ERROR',",
        "}",
        "",
        "Node.js v20.20.2",
    ]
    assert failure_cause(vite, root="/srv/gen") == "main.js (1:45): Expression expected"


def test_a_printed_objects_bracket_is_said_as_the_object_it_opens_or_closes() -> None:
    """An object Node prints as thrown (``throw {code: …}``: its ``{`` alone below the
    caret) or an error line opening a printed object (``console.error("Unable to
    connect", err)``): the cause is the whole object on one line, never a bare ``{`` or
    ``}``, nor the first line alone."""
    thrown = [
        "node:internal/process/promises:288",
        "            triggerUncaughtException(err, true /* fromPromise */);",
        "            ^",
        "",
        "{",
        "  code: 'ECONNREFUSED',",
        "  address: { host: 'db', port: 5432 }",
        "}",
        "",
        "Node.js v20.20.2",
    ]
    said = "{ code: 'ECONNREFUSED', address: { host: 'db', port: 5432 } }"
    assert failure_cause(thrown) == said
    printed = ["listening soon", "Error: Unable to connect {", '  "code": "ECONNREFUSED"', "}"]
    assert failure_cause(printed) == 'Error: Unable to connect { "code": "ECONNREFUSED" }'
    closed = ["ERROR database: {", "  errno: -111,", "  syscall: 'connect'", "}"]
    assert failure_cause(closed) == "ERROR database: { errno: -111, syscall: 'connect' }"


def test_a_kafka_client_that_reaches_no_broker_says_none_can_be_given_here() -> None:
    """briancappello's fastapi-starter starts its Kafka consumers with the app: aiokafka's
    "Unable to bootstrap" is no fault of ours nor the app's, but this machine's (no
    broker is installed; none is given a preview), said as such, as MongoDB's is."""
    aiokafka = [
        "Traceback (most recent call last):",
        '  File "<environment>/site-packages/aiokafka/consumer/consumer.py", line 380',
        "aiokafka.errors.KafkaConnectionError: KafkaConnectionError: Unable to bootstrap "
        "from [('localhost', 9092, <AddressFamily.AF_UNSPEC: 0>)]",
        "ERROR:    Application startup failed. Exiting.",
    ]
    cause = failure_cause(aiokafka)
    assert cause is not None and cause.startswith(
        "the app expects a Kafka broker at localhost:9092, which cannot be given here"
    )
    kafka_python = ["Traceback (most recent call last):", "kafka.errors.NoBrokersAvailable"]
    assert (failure_cause(kafka_python) or "").startswith("the app expects a Kafka broker,")
    kafkajs = [
        '{"level":"ERROR","logger":"kafkajs","message":"[Connection] Connection error: '
        'connect ECONNREFUSED 127.0.0.1:9092","broker":"localhost:9092"}',
        "KafkaJSNumberOfRetriesExceededError: connect ECONNREFUSED 127.0.0.1:9092",
        "    at /app/node_modules/kafkajs/src/retry/index.js:50:18",
    ]
    assert "Kafka broker at 127.0.0.1:9092" in (failure_cause(kafkajs) or "")
    other = ["Traceback (most recent call last):", "ConnectionRefusedError: [Errno 111]"]
    assert "Kafka" not in (failure_cause(other) or "")


def test_an_oracle_or_sql_server_client_that_reaches_none_says_none_can_be_given_here() -> None:
    """mojila's express-oracledb: node-oracledb's "NJS-503" (the service's failure, by the
    look of it); mpaturi's flask-flights: pyodbc with no ODBC driver manager; a tedious
    client's "Failed to connect". Neither server can be installed here nor given a
    preview: said as such, as Kafka's and MongoDB's are. PostgreSQL's refusal is not."""
    oracle = [
        "Error: NJS-503: connection to host 127.0.0.1 port 1521 could not be established.",
        "    at Object.throwErr (/app/node_modules/oracledb/lib/errors.js:733:10)",
    ]
    assert (failure_cause(oracle) or "").startswith(
        "the app expects Oracle Database, which cannot be given here"
    )
    pyodbc = [
        "Traceback (most recent call last):",
        '  File "app.py", line 2, in <module>',
        "    import pyodbc",
        "ImportError: libodbc.so.2: cannot open shared object file: No such file or directory",
    ]
    tedious = [
        "ConnectionError: Failed to connect to localhost:1433 - Could not connect (sequence)",
        "    at Connection.<anonymous> (/app/node_modules/mssql/lib/tedious/connection-pool.js)",
    ]
    for lines in (pyodbc, tedious):
        assert "expects Microsoft SQL Server, which cannot" in (failure_cause(lines) or "")
    postgres = ["Error: connect ECONNREFUSED 127.0.0.1:5432", "    at TCPConnectWrap"]
    assert "cannot be given here" not in (failure_cause(postgres) or "")
    # Oracle's client library (thick mode), mssql's server nothing set, and a MongoDB
    # client beside the preview's own database (its migration's failure).
    thick = ["Error: DPI-1047: Cannot locate a 64-bit Oracle Client library: libclntsh.so"]
    assert "expects Oracle Database, which cannot" in (failure_cause(thick) or "")
    unset = ['TypeError: The "config.server" property is required and must be of type string.']
    assert "expects Microsoft SQL Server, which cannot" in (failure_cause(unset) or "")
    pymongo = [
        "pymongo.errors.ServerSelectionTimeoutError: localhost:27017: [Errno 111] Connection"
        " refused, Timeout: 30s, Topology Description: <TopologyDescription …>",
    ]
    assert "the app's MongoDB client reached no server" in (failure_cause(pymongo) or "")
    # Neo4j's driver, its URI unset (jgaye's FastApiNeo4J).
    neo4j = [
        "neo4j.exceptions.ConfigurationError: URI scheme b'' is not supported. Supported URI"
        " schemes are ['bolt', 'bolt+ssc', 'bolt+s', 'neo4j', 'neo4j+ssc', 'neo4j+s']."
    ]
    assert "expects Neo4j, which cannot" in (failure_cause(neo4j) or "")
    # CouchDB refused, the app's own handler of the error dying after it (alexisibarra's
    # Hotels-ExpressJS-Backend); the same TypeError with no refusal above it is its own.
    couch = [
        "Problem getting all events Error: connect ECONNREFUSED 127.0.0.1:5984",
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16) {",
        "  code: 'ECONNREFUSED',",
        "}",
        "routes/events.js:9",
        "    res.status(500).send({error: 'Unexpected Error: ' + err});",
        "        ^",
        "",
        "TypeError: Cannot read properties of undefined (reading 'status')",
        "    at logError (routes/events.js:9:9)",
    ]
    assert "expects CouchDB, which cannot" in (failure_cause(couch) or "")
    assert "CouchDB" not in (failure_cause(couch[4:]) or "")
    # The refusal on stdout, the error on stderr: read from both streams' tails in order.
    died = "exited with code 1: TypeError: Cannot read properties of undefined (reading 'status')"
    refused = with_server_refused(died, [*couch, "    at Socket.emit (node:events:524:28)"])
    assert (refused or "").startswith("the app expects CouchDB, which cannot be given here")
    assert with_server_refused(died, couch[4:]) == died
    # The DataStax driver given no Cassandra node (ivanlambev's fastapi-oauth).
    cassandra = [
        "Traceback (most recent call last):",
        '  File "main.py", line 3, in <module>',
        "cassandra.UnresolvableContactPoints: {}",
    ]
    assert "expects Apache Cassandra, which cannot" in (failure_cause(cassandra) or "")
    # MinIO's client given no server beside it (DanielE0802's ally360-api: bucket_exists()
    # at import, its compose file's minio service missing).
    minio = [
        "Traceback (most recent call last):",
        '  File "app/modules/files/service.py", line 12, in <module>',
        "urllib3.exceptions.MaxRetryError: HTTPConnectionPool(host='minio', port=9000): Max"
        ' retries exceeded with url: /ally360?location= (Caused by NameResolutionError("…:'
        " Failed to resolve 'minio' ([Errno -3] Temporary failure in name resolution)\"))",
    ]
    assert "expects MinIO, which cannot" in (failure_cause(minio) or "")
    other = [*minio[:2], minio[2].replace("'minio'", "'api.example.com'")]
    assert "MinIO" not in (failure_cause(other) or "")


# A Node-style start that catches its connection's error, logs it as plain output and
# then has nothing left to run: exit code 0 before it ever served.
QUIET = """
print("connecting to the database", flush=True)
print("TypeORM connection error:  /app/src/entity/user.ts:1", flush=True)
print('import { Entity } from "typeorm";', flush=True)
print("^^^^^^", flush=True)
print("", flush=True)
print("SyntaxError: Cannot use import statement outside a module", flush=True)
print("    at internalCompileFunction (node:internal/vm:76:18)", flush=True)
"""


async def test_an_exit_with_code_0_before_serving_says_the_error_it_logged(
    service: Service,
) -> None:
    with trio.fail_after(30):
        gid = await service.upload({"quits.py": QUIET})
        body = (await service.launch(gid, command=["{python}", "quits.py"])).json()
        assert body["status"] == "failed", body
        assert body["errorMessage"] == (
            "exited with code 0 before it served: TypeORM connection error:  "
            "/app/src/entity/user.ts:1: SyntaxError: Cannot use import statement outside "
            "a module"
        ), body["errorMessage"]
        gid = await service.upload({"quits.py": "print('done')\n"})
        body = (await service.launch(gid, command=["{python}", "quits.py"])).json()
        assert body["errorMessage"] == "exited with code 0 before it served: done", body
        gid = await service.upload({"quits.py": "import sys\n"})
        body = (await service.launch(gid, command=["{python}", "quits.py"])).json()
        assert body["errorMessage"] == (
            "exited with code 0 before it served, printing nothing: nothing kept it running"
        ), body
        # (jiovanni-k's todo-api-express-typescript: its src/server.ts empty)
        gid = await service.upload({"quits.py": "\n"})
        body = (await service.launch(gid, command=["{python}", "./quits.py"])).json()
        assert body["errorMessage"] == (
            "exited with code 0 before it served, printing nothing: quits.py, which the start"
            " runs, is empty: nothing in it starts a server (an error in the app's own code)"
        ), body
