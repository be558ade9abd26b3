"""A name the app's own code uses and never defines, said as the app's own error with its
file and line, and only where the upload shows it (:mod:`preview.runtime.codeerrors`): a
start's cause, a running app's route (:class:`~preview.runtime.codeerrors.CodeErrors`)."""

from __future__ import annotations

import pydantic
import trio

from preview.runtime.codeerrors import (
    UnsentInput,
    definer_called,
    empty_entry,
    field_off_class,
    hosted_call_failed,
    port_as_database_port,
    request_as_response,
    string_included_model,
    terminal_program,
    uncalled_body_parser,
    undefined_name,
    unrendered_view,
    unsent_input,
    with_hosted_call_failed,
    with_undefined_name,
)

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched

_PYTHON_SERVER = """import json
import os
import traceback
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            body = json.dumps({"status": status.HTTP_200_OK}).encode()
            code = 200
        except Exception:
            traceback.print_exc()
            body, code = b"{}", 500
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""

_NODE_SERVER = """const http = require('http');

http.createServer((req, res) => {
  try {
    res.end(JSON.stringify({ type: QueryTypes.SELECT }));
  } catch (error) {
    console.error(error);
    res.statusCode = 500;
    res.end('{}');
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
"""


async def _said_after_a_call(service: Service, files: dict[str, str], command: list[str]) -> str:
    gid = await service.upload(files)
    body = (await service.launch(gid, command=command)).json()
    assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
    body["gid"] = gid
    assert (await service.app_get(body, "/items")).status_code == 500
    said = await service.first_system_line(gid, "diagnosis:")
    assert (await service.stop(gid)).status_code == 200
    return said


async def test_a_python_routes_undefined_name_is_said_as_the_apps_error(service: Service) -> None:
    """dockerized-fastapi-backend: ``status`` used with no ``from fastapi import status``;
    the route answered 500 and the log held only its traceback."""
    with trio.fail_after(60):
        said = await _said_after_a_call(
            service, {"server.py": _PYTHON_SERVER}, ["{python}", "server.py"]
        )
    assert said == (
        "diagnosis: server.py line 10 uses status, which server.py neither defines nor"
        " imports: an error in the app's own code"
    )


async def test_a_node_routes_undefined_name_is_said_as_the_apps_error(service: Service) -> None:
    """belajar-express-dasar: Sequelize's ``QueryTypes`` used with no ``require``."""
    with trio.fail_after(60):
        said = await _said_after_a_call(service, {"server.js": _NODE_SERVER}, ["node", "server.js"])
    assert said == (
        "diagnosis: server.js line 5 uses QueryTypes, which server.js neither defines nor"
        " imports: an error in the app's own code"
    )


_ROOT = "/srv/previews/p_1"  # the app's directory
_ROUTES = b"""from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def items():
    return {"status": status.HTTP_200_OK}
"""


def _python_traceback(path: str, line: int, name: str) -> list[str]:
    return [
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.12/site-packages/starlette/routing.py", line 74, in app',
        "    response = await f(request)",
        f'  File "{_ROOT}/{path}", line {line}, in items',
        f"    return {{'status': {name}.HTTP_200_OK}}",
        f"NameError: name '{name}' is not defined",
    ]


def _verdict(lines: list[str], files: dict[str, bytes]) -> str | None:
    found = undefined_name(lines, len(lines) - 1, files, _ROOT)
    return found.said() if found is not None else None


def test_a_python_name_no_line_of_its_file_binds_is_the_apps_own_error() -> None:
    """dockerized-fastapi-backend's ``status`` with no ``from fastapi import status``."""
    files = {"app/main.py": _ROUTES}
    said = _verdict(_python_traceback("app/main.py", 8, "status"), files)
    assert said == (
        "app/main.py line 8 uses status, which app/main.py neither defines nor imports:"
        " an error in the app's own code"
    )
    # A revision applied live runs from a folder of the app's directory; a log shows the
    # path relative to the app's directory once host paths are taken out.
    for shown in (".revisions/3.1/app/main.py", "app/main.py"):
        lines = _python_traceback(shown, 8, "status")
        lines[3] = lines[3].replace(f"{_ROOT}/app/main.py", shown) if shown[0] == "a" else lines[3]
        assert _verdict(lines, files) == said, shown
    # Another file of the upload defining it at its top is named.
    files["app/schemas.py"] = b"class Status:\n    pass\n\nstatus = Status()\n"
    said = _verdict(_python_traceback("app/main.py", 8, "status"), files)
    assert said is not None and said.endswith("(app/schemas.py defines one: import it from there)")


def test_a_python_name_bound_anywhere_or_unknowable_gets_no_verdict() -> None:
    """Any binding of it in the file, under any condition, a star import, a frame in a
    package, a builtin of a newer Python or Python 2's: not certainly the code's."""
    lines = _python_traceback("app/main.py", 8, "status")
    for bound in (
        b"try:\n    from fastapi import status\nexcept ImportError:\n    pass\n",
        b"from fastapi import *\n",
        b"if False:\n    status = None\n",
        b"def f(status):\n    return status\n",
        b"globals()['status'] = 1\n",
    ):
        assert _verdict(lines, {"app/main.py": bound + _ROUTES}) is None, bound
    # The name is not on the frame's line (the file changed since, or it was an eval's).
    assert _verdict(_python_traceback("app/main.py", 3, "status"), {"app/main.py": _ROUTES}) is None
    assert _verdict(lines, {"main.py": _ROUTES}) is None  # the frame is no file of the upload
    unicode = [*lines[:-1], "NameError: name 'unicode' is not defined"]
    assert _verdict(unicode, {"app/main.py": _ROUTES.replace(b"status", b"unicode")}) is None
    anext = [*lines[:-1], "NameError: name 'anext' is not defined"]
    assert _verdict(anext, {"app/main.py": _ROUTES.replace(b"status", b"anext")}) is None
    in_package = [*lines[:3], "NameError: name 'status' is not defined"]
    assert _verdict(in_package, {"app/main.py": _ROUTES}) is None


_NODE_ROUTES = b"""const express = require('express');
const router = express.Router();
const { sequelize } = require('../db');

router.get('/postgres', async (req, res) => {
  const rows = await sequelize.query('SELECT 1', { type: QueryTypes.SELECT });
  res.json(rows);
});

module.exports = router;
"""


def _node_error(name: str, line: int = 6) -> list[str]:
    return [
        f"ReferenceError: {name} is not defined",
        f"    at {_ROOT}/src/routes/db.js:{line}:56",
        f"    at Layer.handle ({_ROOT}/node_modules/express/lib/router/layer.js:95:5)",
    ]


def test_a_node_name_its_file_never_declares_is_the_apps_own_error() -> None:
    """belajar-express-dasar's ``QueryTypes`` used with no ``require`` giving it."""
    files = {"src/routes/db.js": _NODE_ROUTES}
    assert undefined_name(_node_error("QueryTypes"), 0, files, _ROOT) is not None
    said = undefined_name(_node_error("QueryTypes"), 0, files, _ROOT)
    assert said is not None and said.path == "src/routes/db.js" and said.line == 6
    for declared in (
        b"const { QueryTypes } = require('sequelize');\n",
        b"import { Op, QueryTypes } from 'sequelize';\n",
        b"function handler(req, res, QueryTypes) {}\n",
        b"global.QueryTypes = {};\n",
    ):
        assert (
            undefined_name(
                _node_error("QueryTypes"), 0, {"src/routes/db.js": declared + _NODE_ROUTES}, _ROOT
            )
            is None
        )
    # A global of a current Node (an older one lacking it would be ours), of Bun, of jest.
    for name in ("fetch", "Bun", "describe"):
        routes = _NODE_ROUTES.replace(b"QueryTypes", name.encode())
        assert undefined_name(_node_error(name), 0, {"src/routes/db.js": routes}, _ROOT) is None


def test_a_start_failing_on_such_a_name_says_so_in_its_cause() -> None:
    files = {"app/main.py": _ROUTES}
    lines = ["INFO: Started", *_python_traceback("app/main.py", 8, "status")]
    cause = with_undefined_name("NameError: name 'status' is not defined", lines, files, _ROOT)
    assert cause == (
        "NameError: name 'status' is not defined — app/main.py line 8 uses status, which"
        " app/main.py neither defines nor imports: an error in the app's own code"
    )
    # Another cause than such a name is left as it is.
    assert with_undefined_name("KeyError: 'x'", lines, files, _ROOT) == "KeyError: 'x'"


_DIES = """import json

print(json.dumps({"ready": True}))
settings = load_settings()
"""


async def test_a_launch_dying_on_such_a_name_says_where(service: Service) -> None:
    """The launch's errorMessage names the file and line, and whose error it is."""
    with trio.fail_after(30):
        gid = await service.upload({"main.py": _DIES})
        body = (await service.launch(gid, command=["{python}", "main.py"])).json()
        assert body["status"] == "failed", body
        assert body["errorMessage"] == (
            "NameError: name 'load_settings' is not defined — main.py line 4 uses"
            " load_settings, which main.py neither defines nor imports: an error in the"
            " app's own code"
        ), body["errorMessage"]


# A model file returning a name it never declared, loaded through a chain of requires: Node
# prints more frames below the error than a failure's shown lines hold (gitsangramdesai's
# expresssequelizemerge: Sequelize's import of models/Language.js, 16 frames).
_DIES_DEEP = {
    "server.js": "Error.stackTraceLimit = 40;\nrequire('./models')(20);\n",
    "models/index.js": (
        "module.exports = function load(depth) {\n"
        "  return depth ? load(depth - 1) : require('./Language')();\n"
        "};\n"
    ),
    "models/Language.js": (
        "module.exports = function () {\n  const Country = {};\n  return Language;\n};\n"
    ),
}


async def test_a_node_launch_dying_on_such_a_name_below_a_long_stack_says_where(
    service: Service,
) -> None:
    """The error's line is far above the output's last lines: still read, and said."""
    with trio.fail_after(60):
        gid = await service.upload(_DIES_DEEP)
        body = (await service.launch(gid, command=["node", "server.js"])).json()
    assert body["status"] == "failed", body
    assert body["errorMessage"].endswith(
        "ReferenceError: Language is not defined — models/Language.js line 3 uses Language,"
        " which models/Language.js neither defines nor imports: an error in the app's own code"
    ), body["errorMessage"]


def test_an_empty_entry_or_the_empty_source_of_a_built_one_is_the_apps_lack() -> None:
    """jiovanni-k's todo-api-express-typescript: src/server.ts empty, started as its build's
    dist/server.js (or through tsx): it exits 0 printing nothing, said as the app's own
    lack. An entry with code, or a start naming no file of the upload, gets no verdict."""
    files = {"src/server.ts": b"\n", "src/app.ts": b"", "package.json": b"{}"}
    said = "src/server.ts, which the start runs, is empty: nothing in it starts a server"
    for argv in (["node", "dist/server.js"], ["sh", "-c", "npm run build && tsx ./src/server.ts"]):
        found = empty_entry(argv, files)
        assert found is not None and found.startswith(said), (argv, found)
    assert empty_entry(["node", "dist/server.js"], {**files, "src/server.ts": b"import x"}) is None
    assert empty_entry(["npm", "start"], files) is None
    scripted = {**files, "package.json": b'{"scripts": {"start": "node dist/server.js"}}'}
    found = empty_entry(["npm", "start", "--silent"], scripted)
    assert found is not None and found.startswith(said), found


_GUARDED_SERVER = """const http = require('http');

function token(req) {
  return req.headers.cookie.split('=')[1];
}

http.createServer((req, res) => {
  try {
    res.end(JSON.stringify({ token: token(req) }));
  } catch (error) {
    console.error(error);
    res.statusCode = 500;
    res.end('{}');
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
"""


_PYTHON_GUARDED_SERVER = _PYTHON_SERVER.replace(
    "class Handler(",
    """class Request:
    def __init__(self, handler):
        self.headers = {k.lower(): v for k, v in handler.headers.items()}


def user_of(request):
    return request.headers['token']


class Handler(""",
).replace(
    """body = json.dumps({"status": status.HTTP_200_OK}).encode()
            code = 200""",
    """body, code = json.dumps({"user": user_of(Request(self))}).encode(), 200""",
)


async def test_a_python_route_reading_a_header_its_caller_did_not_send_is_said(
    service: Service,
) -> None:
    """RickZzDev's ApiErpDjango's authentication reads ``request.headers['Token']``: each
    route answered 500 (KeyError: 'token') to a caller sending none."""
    with trio.fail_after(60):
        said = await _said_after_a_call(
            service, {"server.py": _PYTHON_GUARDED_SERVER}, ["{python}", "server.py"]
        )
    assert said == (
        "diagnosis: server.py line 13 reads the request's token header as if every request"
        " sent one: a request without it fails there (KeyError: 'token') where the app could"
        " refuse it, an error in the app's own code"
    )


async def test_a_python_route_using_a_query_parameter_its_caller_did_not_send_is_said(
    service: Service,
) -> None:
    """mulitet4's Aakash-Timetable-Flask splits ``request.args.get('extra_period_codes')``:
    its route answered 500 (AttributeError of None) to a caller sending none."""
    server = _PYTHON_GUARDED_SERVER.replace(
        "        self.headers = {k.lower(): v for k, v in handler.headers.items()}",
        "        self.args = {}",
    ).replace(
        "    return request.headers['token']",
        "    codes = request.args.get('codes')\n    return codes.split(',')",
    )
    with trio.fail_after(60):
        said = await _said_after_a_call(service, {"server.py": server}, ["{python}", "server.py"])
    assert said == (
        "diagnosis: server.py line 14 reads the request's codes query parameter as if every"
        " request sent one: a request without it fails there (AttributeError: 'NoneType'"
        " object has no attribute 'split') where the app could refuse it, an error in the"
        " app's own code"
    )


async def test_a_node_route_reading_a_header_its_caller_did_not_send_is_said(
    service: Service,
) -> None:
    """hcfairbanks' warehouseNestJS takes its JWT from ``req.headers.cookie.split('=')``:
    each guarded route answered 500 to a caller sending no cookie, its sign-in never
    asked for."""
    with trio.fail_after(60):
        said = await _said_after_a_call(
            service, {"server.js": _GUARDED_SERVER}, ["node", "server.js"]
        )
    assert said == (
        "diagnosis: server.js line 4 reads the request's cookie header as if every request"
        " sent one: a request without it fails there (TypeError, reading 'split' of"
        " undefined) where the app could refuse it, an error in the app's own code"
    )


def test_a_header_read_straight_off_the_request_is_the_apps_own_error() -> None:
    """Express's ``req.headers['authorization'].replace``, ``req.header('Authorization')
    .split``, Koa's ``ctx.request.headers.authorization.split``: each said; a value of the
    app's own that is undefined (a setting we may not have given), or a package's frame,
    is not."""

    def verdict(line: str, read: str, frame: str = "src/auth.ts:3:20") -> str | None:
        files = {"src/auth.ts": f"// auth\n\n  const token = {line};\n".encode()}
        error = [
            f"TypeError: Cannot read properties of undefined (reading '{read}')",
            f"    at JwtStrategy.cookieExtractor ({frame})",
            "    at JwtStrategy.authenticate (<environment>/node_modules/passport-jwt/x.js:9:2)",
        ]
        found = unsent_input(error, 0, files, _ROOT)
        return f"{found.name} {found.path}:{found.line}" if found is not None else None

    assert verdict("req.headers['authorization'].replace('Bearer ', '')", "replace") == (
        "authorization src/auth.ts:3"
    )
    assert verdict("req.header('Authorization').split(' ')[1]", "split") == (
        "authorization src/auth.ts:3"
    )
    assert verdict("ctx.request.headers.authorization.split(' ')", "split") == (
        "authorization src/auth.ts:3"
    )
    assert verdict("process.env.JWT_SECRET.split(',')", "split") is None
    assert verdict("req.headers.cookie.split('=')", "trim") is None  # another read failed
    assert verdict("req.headers.cookie.split('=')", "split", "node_modules/x/a.js:3:1") is None
    old_node = [
        "TypeError: Cannot read property 'split' of undefined",
        f"    at cookieExtractor ({_ROOT}/src/auth.ts:3:20)",
    ]
    files = {"src/auth.ts": b"\n\nreturn req.headers.cookie.split('=')[1];\n"}
    found = unsent_input(old_node, 0, files, _ROOT)
    assert found is not None and found.name == "cookie" and found.read == "split"


def test_a_nest_headers_parameter_read_in_a_built_controller_is_the_apps_own_error() -> None:
    """SajadRahimi1's nestjs-tourism-app's ``getMe(@Headers() header)`` reads
    ``header.user.id``, set by its interceptor only for a caller sending a token: its
    frame is the build's (dist/…js:43), read by the method it names in the source."""
    controller = (
        b"@Controller('user')\n"
        b"export class UserController {\n"
        b"    @Get('me')\n"
        b"    async getMe(@Headers() header, @Res() res: Response) {\n"
        b"        const user = await this.userService.getUserInformation(header.user.id);\n"
        b"        res.status(200).json(user);\n"
        b"    }\n"
        b"    @Get('token')\n"
        b"    token(@Headers('authorization') auth: string, @Body() body) {\n"
        b"        return auth.split(' ')[1] + body.name.trim();\n"
        b"    }\n"
        b"}\n"
    )
    files = {"src/user/user.controller.ts": controller}

    def verdict(read: str, method: str, frame: str = "dist/user/user.controller.js:43:76"):
        error = [
            f"TypeError: Cannot read properties of undefined (reading '{read}')",
            f"    at UserController.{method} ({_ROOT}/{frame})",
            "    at <environment>/node_modules/@nestjs/core/router/x.js:38:29",
        ]
        found = unsent_input(error, 0, files, _ROOT)
        return f"{found.name} {found.path}:{found.line}" if found is not None else None

    assert verdict("id", "getMe") == "user src/user/user.controller.ts:5"
    assert verdict("split", "token") == "authorization src/user/user.controller.ts:10"
    assert verdict("trim", "token") is None  # its body's, not a header's
    assert verdict("id", "getMe", "dist/other.js:3:1") is None  # no source of that build


def test_a_braintree_calls_failed_answer_read_as_given_is_said_and_joins_the_cause() -> None:
    """Lammmas's braintree-express-poc: ``res.send(response.clientToken)`` in the callback
    of ``gateway.clientToken.generate``, its err unread, ended the app at /token (no host
    outside reached). A read of another value, or a client not Braintree's, is not said."""
    token = (
        b"var braintree = require('braintree');\n"
        b"router.get('/', function(req, res, next) {\n"
        b"\tvar gateway = braintree.connect({\n"
        b"\t\tenvironment: braintree.Environment.Sandbox,\n"
        b"\t});\n"
        b"\tgateway.clientToken.generate({}, function (err, response) {\n"
        b"\t\tres.send(response.clientToken);\n"
        b"\t});\n"
        b"});\n"
    )
    error = [
        "TypeError: Cannot read properties of undefined (reading 'clientToken')",
        f"    at {_ROOT}/routes/token.js:7:21",
        "    at Timeout._onTimeout (/x/node_modules/@braintree/wrap-promise/lib/deferred.js:9:10)",
    ]
    found = hosted_call_failed(error, 0, {"routes/token.js": token}, _ROOT)
    assert found is not None
    assert (found.line, found.call, found.host) == (
        7,
        "gateway.clientToken.generate",
        "api.sandbox.braintreegateway.com",
    )
    cause = with_hosted_call_failed(
        "exited with code 1: TypeError: Cannot read properties of undefined (reading"
        " 'clientToken')",
        ["earlier", *error],
        {"routes/token.js": token},
        _ROOT,
    )
    assert cause is not None and cause.endswith("which a preview does not reach")
    other = {"routes/token.js": token.replace(b"braintree.connect", b"makeClient")}
    assert hosted_call_failed(error, 0, other, _ROOT) is None
    body = error.copy()
    body[0] = body[0].replace("clientToken", "name")  # not the result's read
    assert hosted_call_failed(body, 0, {"routes/token.js": token}, _ROOT) is None


def test_a_query_parameter_passed_to_a_package_that_fails_on_it_is_the_apps_own_error() -> None:
    """moltin's braintree-express-app passes ``req.query.customer`` (by a name bound to it)
    to ``gateway.customer.find``, whose ``customerId.trim()`` failed for a caller sending no
    ``?customer=``. A name bound otherwise too, or a frame of the app's first, is not said."""
    app = (
        b"app.get('/braintree', (req, res) => {\n"
        b"  const customerId = req.query.customer;\n"
        b"  gateway.customer.find(customerId, (err, customer) => {\n"
        b"  });\n"
        b"  gateway.customer.find(req.query['id'], () => {});\n"
        b"});\n"
    )
    error = [
        "TypeError: Cannot read properties of undefined (reading 'trim')",
        "    at CustomerGateway.find (/x/node_modules/braintree/lib/customer_gateway.js:37:20)",
        f"    at {_ROOT}/app.js:3:20",
        "    at Layer.handle (/x/node_modules/express/lib/router/layer.js:95:5)",
    ]

    def verdict(lines: list[str], source: bytes = app) -> str | None:
        found = unsent_input(lines, 0, {"app.js": source}, _ROOT)
        return f"{found.name} {found.kind} app.js:{found.line}" if found is not None else None

    assert verdict(error) == "customer query parameter app.js:3"
    direct = [*error[:2], f"    at {_ROOT}/app.js:5:20"]
    assert verdict(direct) == "id query parameter app.js:5"
    twice = app.replace(b"});\n});", b"});\n  customerId = 'x';\n});")
    assert verdict(error, twice) is None
    assert verdict([error[0], error[2], error[1]]) is None  # the app's own line failed


def test_a_handler_taking_the_request_for_the_response_is_the_apps_own_error() -> None:
    """glrodriguez's onboarding-Express: ``userRouter.get('/login-failure', res =>
    res.send(…))``, a 500 each call. A handler naming its parameters (req, res), or a
    ``res`` of another kind (not a route's handler), is not said."""
    router = (
        b"import { Router } from 'express';\n"
        b"userRouter.get('/login-failure', res => res.send('Login Attempt Failed.'));\n"
        b"userRouter.get('/ok', (req, res) => res.send('ok'));\n"
        b"const res = makeThing(); res.send('x');\n"
        b"app.post('/x', function (res, req) { res.json({}) });\n"
    )

    def verdict(line: int, method: str = "send") -> str | None:
        error = [
            f"TypeError: res.{method} is not a function",
            f"    at file://{_ROOT}/r.js:{line}:45",
        ]
        found = request_as_response(error, 0, {"r.js": router}, _ROOT)
        return f"{found.name}.{found.method} r.js:{found.line}" if found is not None else None

    assert verdict(2) == "res.send r.js:2"
    assert verdict(5, "json") == "res.json r.js:5"
    assert verdict(3) is None
    assert verdict(4) is None


_PORT_AS_MONGO_SERVER = """const http = require('http');

http.createServer((req, res) => {
  console.error('MongooseError: Operation `movies.find()` buffering timed out after 10000ms');
  res.statusCode = 500;
  res.end('{}');
}).listen(Number(process.env.PORT), '127.0.0.1');
"""


async def test_a_mongodb_url_on_the_apps_own_port_is_said_when_its_client_finds_none(
    service: Service,
) -> None:
    """glrodriguez's onboarding-Express connects to ``mongodb://${config.host}:${config.
    port}/``, its config's ``port: process.env.PORT``: /movies timed out on every call."""
    files = {
        "server.js": _PORT_AS_MONGO_SERVER,
        "src/database.js": "const config = require('./config');\n"
        "mongoose.connect(`mongodb://${config.host}:${config.port}/`);\n",
        "src/config.js": "module.exports = { host: process.env.HOST, port: process.env.PORT };\n",
    }
    with trio.fail_after(60):
        said = await _said_after_a_call(service, files, ["node", "server.js"])
    assert said.startswith(
        "diagnosis: src/database.js line 2 builds its MongoDB URL's port from PORT (config.port)"
    ), said


def test_a_mongodb_urls_port_read_from_port_is_found_straight_named_or_keyed() -> None:
    def found(files: dict[str, bytes]) -> str | None:
        port = port_as_database_port(files)
        return f"{port.path}:{port.line} {port.expr}" if port is not None else None

    straight = b"\nconst url = `mongodb://${process.env.HOST}:${process.env.PORT}/db`;\n"
    assert found({"db.js": straight}) == "db.js:2 process.env.PORT"
    named = b"const port = process.env.PORT;\nconnect(`mongodb://localhost:${port}/x`);\n"
    assert found({"db.js": named}) == "db.js:2 port"
    other = b"const port = process.env.MONGO_PORT;\nconnect(`mongodb://localhost:${port}/x`);\n"
    assert found({"db.js": other}) is None
    keyed = {"db.js": b"`mongodb://h:${cfg.dbPort}/`", "cfg.js": b"dbPort: process.env.DB_PORT"}
    assert found(keyed) is None


# Express's own way of running middleware, and its json() factory, as small as they come:
# a middleware that neither answers nor calls next() leaves the request waiting.
_EXPRESS_STAND_IN = """const http = require('http');
function express() {
  const stack = [];
  const app = (req, res) => {
    let at = 0;
    const next = () => (at < stack.length ? stack[at++](req, res, next) : res.end('ok'));
    next();
  };
  app.use = (middleware) => stack.push(middleware);
  app.listen = (port, done) => http.createServer(app).listen(port, '127.0.0.1', done);
  return app;
}
express.json = (options) => (req, res, next) => next();
module.exports = express;
"""


async def test_a_body_parsers_factory_used_uncalled_is_said_when_nothing_answers(
    service: Service, settings
) -> None:
    """jeffmcrockett's bidpros: ``app.use(express.json)`` above every route; its start
    never answered a request, said only as "it should listen on $PORT, not 4001"."""
    object.__setattr__(settings, "startup_timeout", 3.0)
    files = {
        "node_modules/express/index.js": _EXPRESS_STAND_IN,
        "server.js": "const express = require('express');\nconst app = express();\n"
        "app.use(express.json);\napp.listen(Number(process.env.PORT));\n",
    }
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=["node", "server.js"])).json()
    assert body["status"] == "failed", body
    assert "server.js line 3 hands express.json to use() uncalled" in body["errorMessage"]


async def test_a_command_line_program_that_listens_nowhere_is_said_when_nothing_answers(
    service: Service, settings
) -> None:
    """kevindimayuga's employee-tracker-kd: express set up in server.js, never listened,
    its inquirer menu waiting for a key at the terminal: "did not answer HTTP"."""
    object.__setattr__(settings, "startup_timeout", 3.0)
    files = {
        # (its prompt waits for a key as inquirer's does, the process held open meanwhile)
        "node_modules/inquirer/index.js": "exports.prompt = () =>\n"
        "  new Promise(() => setInterval(() => {}, 1000));\n",
        "server.js": "const inquirer = require('inquirer');\n"
        "console.log('? What would you like to do?');\ninquirer.prompt([]);\n",
    }
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=["node", "server.js"])).json()
    assert body["status"] == "failed", body
    assert "server.js asks its questions at a terminal (inquirer's prompts)" in body["errorMessage"]


def test_a_terminal_program_is_one_no_module_of_which_listens_or_exports() -> None:
    menu = b"import inquirer from 'inquirer';\nawait inquirer.prompt([]);\n"
    found = terminal_program({"index.js": menu})
    assert found is not None and found.startswith("index.js asks its questions at a terminal")
    server = b"const app = require('express')();\napp.listen(3000);\n"
    assert terminal_program({"index.js": menu, "server.js": server}) is None
    exported = b"const app = require('express')();\nmodule.exports = app;\n"
    assert terminal_program({"index.js": menu, "app.js": exported}) is None
    assert terminal_program({"server.js": server}) is None


def test_a_body_parsers_factory_is_found_uncalled_only_where_bound_to_its_package() -> None:
    uncalled = b"const bodyParser = require('body-parser');\n\napp.use(bodyParser.urlencoded);\n"
    found = uncalled_body_parser({"src/app.js": uncalled})
    assert found is not None and found.startswith("src/app.js line 3 hands bodyParser.urlencoded")
    imported = b"import express from 'express';\napp.use( express.json )\n"
    assert uncalled_body_parser({"app.ts": imported}) is not None
    called = b"const express = require('express');\napp.use(express.json());\n"
    assert uncalled_body_parser({"app.js": called}) is None
    commented = b"const express = require('express');\n// app.use(express.json)\n"
    assert uncalled_body_parser({"app.js": commented}) is None
    other = b"const express = require('./my-express');\napp.use(express.json);\n"
    assert uncalled_body_parser({"app.js": other}) is None


# A route failing as Sequelize fails on an include whose model is a string (its words,
# printed as Sequelize's promise rejects).
_STRING_MODEL_SERVER = """const http = require('http');
const { findAll } = require('./routes/categories');

http.createServer((req, res) => {
  try {
    res.end(JSON.stringify(findAll()));
  } catch (error) {
    console.error(error);
    res.statusCode = 500;
    res.end('{}');
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
"""
_CATEGORY_ROUTES = """const Category = {
  findAll(options) {
    return options.include.map((include) => include.model.getTableName());
  },
};
exports.findAll = () => Category.findAll({
  include: [
    {
      model: 'Product',
      attributes: ['id', 'product_name'],
    },
  ],
});
"""


async def test_a_sequelize_include_naming_its_model_by_a_string_is_said(
    service: Service,
) -> None:
    """Blackcat-Tinkerngineers' Ecommerce-back-end: ``include: [{ model: 'Product' }]``,
    its category routes answering 500, "include.model.getTableName is not a function"."""
    files = {"server.js": _STRING_MODEL_SERVER, "routes/categories.js": _CATEGORY_ROUTES}
    with trio.fail_after(60):
        said = await _said_after_a_call(service, files, ["node", "server.js"])
    assert said.startswith(
        "diagnosis: routes/categories.js line 9 gives a Sequelize include the string 'Product'"
    ), said


def test_a_sequelize_include_model_is_found_a_string_only_in_quotes() -> None:
    listed = b"Category.findOne({\n  include: [{ model: ['Product'], attributes: [] }],\n})\n"
    found = string_included_model({"routes/x.js": listed})
    assert found is not None and (found.path, found.line, found.name) == (
        "routes/x.js",
        2,
        "Product",
    )
    model = b"Category.findAll({ include: [{ model: Product, attributes: ['id'] }] })\n"
    assert string_included_model({"routes/x.js": model}) is None
    other = b"const car = { model: 'Civic' };\n"
    assert string_included_model({"cars.js": other}) is None


def test_a_python_header_read_by_subscript_is_the_apps_own_error() -> None:
    """RickZzDev's ApiErpDjango's authentication class reads ``request.headers['Token']``:
    every route answered 500 (KeyError: 'token') to a caller sending none. Said where the
    innermost frame of the upload reads that header (Django's ``META['HTTP_TOKEN']`` too);
    a key of the app's own mapping, or a frame of a package alone, is not."""

    def verdict(line: str, key: str, path: str = "app/auth.py") -> str | None:
        source = f"class TokenAuth:\n    def authenticate(self, request):\n        {line}\n"
        files = {"app/auth.py": source.encode()}
        packages = "<environment>/lib/python3.11/site-packages"
        error = [
            "Internal Server Error: /api/empresas/",
            "Traceback (most recent call last):",
            f'  File "{packages}/rest_framework/request.py", line 380, in _authenticate',
            "    user_auth_tuple = authenticator.authenticate(self)",
            f'  File "{_ROOT}/{path}", line 3, in authenticate',
            f"    {line}",
            f'  File "{packages}/django/utils/datastructures.py", line 320, in __getitem__',
            "    return self._store[key.lower()][1]",
            f"KeyError: '{key}'",
        ]
        found = unsent_input(error, len(error) - 1, files, _ROOT)
        return f"{found.name} {found.path}:{found.line}" if found is not None else None

    assert verdict("token = request.headers['Token']", "token") == "token app/auth.py:3"
    assert verdict("token = request.META['HTTP_TOKEN']", "HTTP_TOKEN") == "token app/auth.py:3"
    assert verdict('key = self.request.headers["X-Api-Key"]', "x-api-key") == (
        "x-api-key app/auth.py:3"
    )
    assert verdict("token = settings['TOKEN']", "TOKEN") is None
    assert verdict("token = request.headers['Token']", "other") is None
    assert verdict("token = request.headers['Token']", "token", "lib/x.py") is None
    found = UnsentInput("token", "app/auth.py", 3, "KeyError: 'HTTP_TOKEN'", python=True)
    assert "(KeyError: 'HTTP_TOKEN')" in found.said(), found.said()
    assert "an error in the app's own code" in found.said()


def test_a_python_query_parameter_used_unchecked_is_the_apps_own_error() -> None:
    """Amogh-Nigam's holidays-flask-api passes ``request.args.get('start_date', None)`` to
    ``strptime`` ("argument 1 must be str, not None"), mulitet4's Aakash-Timetable-Flask
    splits ``request.args.get('extra_period_codes')``: each said where the innermost frame
    is the upload's and its line uses that value, unchecked since; not where the name was
    assigned again, nor where a package's frame is innermost (it may have made the None)."""

    def verdict(body: str, error: str, innermost: str = "") -> str | None:
        source = f"@app.route('/inp')\ndef view():\n{body}"
        use = len(source.splitlines())
        lines = [
            "Traceback (most recent call last):",
            '  File "<environment>/lib/python3.11/site-packages/flask/app.py", line 9, in x',
            f'  File "{_ROOT}/main.py", line {use}, in view',
            *([innermost] if innermost else []),
            error,
        ]
        found = unsent_input(lines, len(lines) - 1, {"main.py": source.encode()}, _ROOT)
        return f"{found.name} {found.kind} main.py:{found.line}" if found else None

    strptime = "TypeError: strptime() argument 1 must be str, not None"
    body = (
        "    start = request.args.get('start_date', None)\n\n"
        "    start = datetime.strptime(start, '%d-%m-%Y')\n"
    )
    assert verdict(body, strptime) == "start_date query parameter main.py:5"
    split = "AttributeError: 'NoneType' object has no attribute 'split'"
    assert verdict("    return request.form.get('codes').split(',')\n", split) == (
        "codes form field main.py:3"
    )
    again = "    codes = request.args.get('codes')\n    codes = codes or ''\n    codes.split(',')\n"
    assert verdict(again, split) is None
    assert verdict("    return settings.get('codes').split(',')\n", split) is None
    deeper = '  File "<environment>/lib/python3.11/site-packages/x/y.py", line 3, in parse'
    assert verdict(body, strptime, deeper) is None
    said = UnsentInput("start_date", "main.py", 5, strptime, True, "query parameter").said()
    assert said == (
        "main.py line 5 reads the request's start_date query parameter as if every request"
        " sent one: a request without it fails there (TypeError: strptime() argument 1 must"
        " be str, not None) where the app could refuse it, an error in the app's own code"
    )


_BUDGETS = """const express = require('express');
const app = express();
app.engine('html', (file, options, done) => done(null, `<h1>${options.message}</h1>`));
app.set('view engine', 'html');
app.get('/budget/create', (req, res) => res.render('budget_form', { title: 'Create' }));
app.use(function (err, req, res, next) {
  res.locals.message = err.message;
  res.status(err.status || 500);
  res.render('error');
});
app.listen(Number(process.env.PORT));
"""


async def test_a_view_no_file_of_the_upload_is_is_said_as_the_apps_lack(
    builder_service: Service,
) -> None:
    """mrcunningham's budgetExpress renders ``budget_form``, which it never committed; its
    error handler (express-generator's) rendered the failure into its error page, logging
    nothing: the route answered 500 and the log said no more. The error is printed (the
    route table's preload), and said as the app's own lack."""
    files = {**app_files("express_app"), "server.js": _BUDGETS, "views/error.html": "x"}
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await builder_service.app_get(body, "/budget/create")).status_code == 500
        said = await builder_service.first_system_line(body["gid"], "diagnosis:")
        assert (await builder_service.stop(body["gid"])).status_code == 200
    assert said == (
        "diagnosis: the app renders the view budget_form, which no file of its upload is"
        " (Express's 'Failed to lookup view'): an error in the app's own code"
    )


def test_a_view_rendered_with_no_engine_set_or_no_file_is_the_apps_lack() -> None:
    """muaz234's recipes NestJS app renders ``@Render('index')`` and sets no view engine,
    nor has a view: Express's "No default engine was specified". Not where a module sets
    an engine, or a file of the view's name is anywhere in the upload (the folder Express
    looked in may be ours to get wrong)."""
    engine = "Error: No default engine was specified and no extension was provided."
    code = {"src/app.controller.ts": b"@Get()\n@Render('index')\nroot() {}\n"}
    found = unrendered_view(engine, code)
    assert found is not None and found.view is None
    sets = {**code, "src/main.ts": b"app.setViewEngine('hbs');\n"}
    assert unrendered_view(engine, sets) is None
    lookup = 'Error: Failed to lookup view "budget_form" in views directory "/srv/app/views"'
    found = unrendered_view(lookup, {"views/index.pug": b""})
    assert found is not None and found.view == "budget_form"
    assert unrendered_view(lookup, {"templates/budget_form.pug": b""}) is None
    nested = lookup.replace("budget_form", "budgets/form")
    assert unrendered_view(nested, {"views/budgets/form.hbs": b""}) is None
    assert unrendered_view("Error: something else", code) is None
    # Django's and Jinja2's (FlxBot001's django-appointments: register.html; hbarudi's
    # dispatch-django-capstone: Django's login view's registration/login.html).
    django = "django.template.exceptions.TemplateDoesNotExist: register.html"
    templates = {"templates/login.html": b"", "templates/dispatch_app/login.html": b""}
    found = unrendered_view(django, templates)
    assert found is not None and found.view == "register.html", found
    assert found.said() == (
        "the app renders the view register.html, which no file of its upload is (Django's"
        " TemplateDoesNotExist): an error in the app's own code"
    )
    login = "django.template.exceptions.TemplateDoesNotExist: registration/login.html"
    assert unrendered_view(login, templates) is not None
    assert unrendered_view(login, {"app/templates/registration/login.html": b""}) is None
    jinja = "jinja2.exceptions.TemplateNotFound: index.html"
    assert unrendered_view(jinja, {"templates/home.html": b""}) is not None
    assert unrendered_view(jinja, {"app/templates/index.html": b""}) is None
    # ESTON-kiam's mpesa-daraja-django renders index.html, its file templates/mpesa_app/
    # index.html: a folder below the templates no code names. Named (a DIRS entry), it may
    # be looked in: no verdict.
    index = "django.template.exceptions.TemplateDoesNotExist: index.html"
    below = {"templates/mpesa_app/index.html": b"", "mpesa/views.py": b"'mpesa_app/index.html'"}
    found = unrendered_view(index, below)
    assert found is not None and found.elsewhere == "templates/mpesa_app/index.html", found
    assert "its templates/mpesa_app/index.html is in a folder below them" in found.said()
    dirs = b"DIRS = [BASE_DIR / 'templates' / 'mpesa_app']\n"
    assert unrendered_view(index, {**below, "shop/settings.py": dirs}) is None
    assert unrendered_view(index, {**below, "shop/settings.py": b"'templates/mpesa_app'"}) is None


_PRODUTO_MODEL = """module.exports = (sequelize, DataTypes) => {
  const Produto = sequelize.define('Produto', { nome: DataTypes.STRING });
  return Produto;
};
"""
_PRODUTO_SERVER = """const http = require('http');
const Produto = require('./models/Produto');

http.createServer(async (req, res) => {
  try {
    res.end(JSON.stringify(await Produto.findAll()));
  } catch (error) {
    console.error(error);
    res.statusCode = 500;
    res.end('{}');
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
"""


async def test_a_sequelize_model_files_definer_called_as_the_model_is_said(
    service: Service,
) -> None:
    """Victor-Santos-Silva's BackEnd-CoffeeExpress requires its sequelize-cli model file
    ``../models/Produto`` in its service and calls ``Produto.findAll()``: the file exports
    the function defining the model, and every list answered 500."""
    files = {"server.js": _PRODUTO_SERVER, "models/Produto.js": _PRODUTO_MODEL}
    with trio.fail_after(60):
        said = await _said_after_a_call(service, files, ["node", "server.js"])
    assert said == (
        "diagnosis: server.js line 6 calls Produto.findAll, but Produto is models/Produto.js's"
        " export, a function that defines the model on the instance it is given"
        " (sequelize-cli's model file), not the model its models/index.js keeps: an error in"
        " the app's own code"
    )


def test_a_method_of_a_module_that_is_no_model_definer_gets_no_verdict() -> None:
    """A module exporting anything else (a model itself, a service), a name bound to a
    package, or a frame of a package's: no verdict."""
    error = [
        "TypeError: Produto.findAll is not a function",
        f"    at Object.getAll ({_ROOT}/src/services/produtoService.js:3:28)",
    ]
    service = b"const Produto = require('../models/Produto');\n\nreturn Produto.findAll();\n"
    files = {"src/services/produtoService.js": service, "src/models/Produto.js": b""}
    definer = _PRODUTO_MODEL.encode()
    found = definer_called(error, 0, {**files, "src/models/Produto.js": definer}, _ROOT)
    assert found is not None and found.module == "src/models/Produto.js" and found.line == 3
    model = b"const Produto = sequelize.define('Produto', {});\nmodule.exports = Produto;\n"
    assert definer_called(error, 0, {**files, "src/models/Produto.js": model}, _ROOT) is None
    package = service.replace(b"../models/Produto", b"produto-sdk")
    with_package = {**files, "src/services/produtoService.js": package}
    assert definer_called(error, 0, {**with_package, "src/models/Produto.js": definer}) is None
    inner = [error[0], "    at x (<environment>/node_modules/sequelize/lib/model.js:3:1)"]
    assert definer_called(inner, 0, {**files, "src/models/Produto.js": definer}, _ROOT) is None


_HANDLERS = b"""const router = require('express').Router();

router.get('/login', (req, res, next) => {
  next(new Error('not yet'));
});
router.get('/logout', (req, res) => {
  const failure = new Error('You are not logged in!');
  next(failure);
});
router.get('/one', (req, res) => res.send(next));
router.get('/two', function (req, res, next) { return next(); });

const list = async (req, res) => {
  try {
    res.json(await Customer.findAll());
  } catch (error) {
    res.status(400).send(err);
  }
};
const show = async (req, res) => {
  try {
    res.json({});
  } catch (err) {
    res.send(err);
  }
};
"""


def test_a_node_name_bound_only_in_other_functions_is_the_apps_own_error() -> None:
    """gulshank721's restaurentExpressServer calls ``next(err)`` in a ``(req, res) =>``
    handler, ``next`` a parameter of its other handlers; VierryFadhilah's tugasExpress
    sends ``err`` in a ``catch (error)``, ``err`` another catch's. Where a function or
    catch around the line binds it (an arrow's with no braces too), no verdict; nor where
    the file declares it otherwise."""

    def verdict(name: str, line: int, source: bytes = _HANDLERS) -> int | None:
        found = undefined_name(_node_error(name, line), 0, {"src/routes/db.js": source}, _ROOT)
        return found.line if found is not None else None

    assert verdict("next", 8) == 8
    assert verdict("err", 17) == 17
    assert verdict("next", 4) is None  # its handler's parameter
    assert verdict("err", 24) is None  # its catch's
    assert verdict("next", 11) is None  # a function's parameter on its own line
    assert verdict("next", 10) == 10  # an arrow without braces, not naming it
    one = _HANDLERS.replace(b"(req, res) => res.send", b"(req, res, next) => res.send")
    assert verdict("next", 10, one) is None  # an arrow's without braces
    declared = _HANDLERS + b"let next;\n"
    assert verdict("next", 8, declared) is None
    unbalanced = _HANDLERS + b"const brace = /{/;\n"
    assert verdict("next", 8, unbalanced) is None


def test_a_pydantic_field_read_off_its_class_is_the_apps_own_error() -> None:
    """josellecallora08's paymongo-fastapi builds its PayMongo header from
    ``Settings.PAYMONGO_TOKEN`` beside the ``settings = Settings()`` it never reads: pydantic
    keeps a field's value on instances ("AttributeError: PAYMONGO_TOKEN", its model class's
    words, made here by pydantic itself). Said where the upload's innermost frame reads that
    name off that class and a pydantic model of the upload declares it; not for a class of
    another kind, nor a name it does not declare, nor a read off an instance."""

    class Settings(pydantic.BaseModel):
        PAYMONGO_TOKEN: str = "token"

    try:
        Settings.PAYMONGO_TOKEN  # noqa: B018 (the error is what is read)
    except AttributeError as error:
        pydantic_words = f"AttributeError: {error}"
    config = (
        "from pydantic_settings import BaseSettings\n\n"
        "class Settings(BaseSettings):\n    DATABASE_URL: str\n    PAYMONGO_TOKEN: str\n\n"
        "settings = Settings()\n"
    )

    def verdict(read: str, words: str = pydantic_words, model: str = config) -> str | None:
        files = {"app/core/config.py": model.encode(), "app/api/hooks.py": read.encode()}
        lines = [
            "Traceback (most recent call last):",
            '  File "<environment>/lib/python3.11/site-packages/fastapi/routing.py", line 9, in x',
            f'  File "{_ROOT}/app/api/hooks.py", line 1, in events',
            f"    {read}",
            '  File "<environment>/lib/python3.11/site-packages/pydantic/_internal/'
            '_model_construction.py", line 271, in __getattr__',
            "    raise AttributeError(item)",
            words,
        ]
        found = field_off_class(lines, len(lines) - 1, files, _ROOT)
        return found.said() if found is not None else None

    said = verdict('headers = {"Authorization": f"Basic {Settings.PAYMONGO_TOKEN}"}')
    assert said is not None and said.startswith(
        "app/api/hooks.py line 1 reads Settings.PAYMONGO_TOKEN, but PAYMONGO_TOKEN is a field"
        " of the pydantic model Settings (app/core/config.py)"
    ), said
    assert "as settings.PAYMONGO_TOKEN would" in said and said.endswith("the app's own code")
    # Pydantic 1 and plain classes say whose attribute it was: the same read, the same verdict.
    older = "AttributeError: type object 'Settings' has no attribute 'PAYMONGO_TOKEN'"
    assert verdict("token = Settings.PAYMONGO_TOKEN", older) is not None
    assert (
        verdict("token = Settings.PAYMONGO_TOKEN", older.replace("'Settings'", "'Other'")) is None
    )
    assert verdict("token = Settings.OTHER", "AttributeError: OTHER") is None  # not declared
    assert verdict("token = settings.PAYMONGO_TOKEN") is None  # read off an instance
    plain = config.replace("(BaseSettings)", "")  # no pydantic model: not certain
    assert verdict("token = Settings.PAYMONGO_TOKEN", model=plain) is None
