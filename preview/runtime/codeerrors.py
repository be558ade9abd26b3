"""A name the app's own code uses and never defines, said as such: :class:`CodeErrors`.

Generated code often forgets an import: ``status`` used in ``main.py`` with no ``from
fastapi import status``, Sequelize's ``QueryTypes`` with no ``require``. Python then says
``NameError: name 'status' is not defined``, Node ``ReferenceError: QueryTypes is not
defined``, at start or on each call of the route that uses it (a 500, the traceback in
the log). No dependency, version, variable or service of ours changes that: the file must
be fixed. Saying so, with the file and line, tells the user what to change instead of
leaving a 500 to read: a launch that dies on one says it in its cause
(:func:`with_undefined_name`); a running app failing on one gets a ``system`` line for each
such name, once, a few at most (:class:`CodeErrors`).

The verdict (:func:`undefined_name`) is only given where it is certain from the upload:

* the innermost frame of the error is a file of the upload, under the app's directory
  (not a package's: its names are its own affair, and a version of ours may be why), and
  the name is on that line;
* Python: nothing in that file binds the name anywhere (an assignment, an import, a
  ``def`` or ``class``, a parameter, ``except … as``, ``global``, a match capture, under any
  condition), it has no ``from … import *``, does not write ``globals()``, ``exec`` or
  ``builtins``, and the name is no builtin of any Python 3 (``anext`` on an old one would be
  the interpreter's fault), nor one of Python 2's (such an app wants an interpreter no
  preview has: another failure);
* Node: no declaration of the name in that file (``var``/``let``/``const``, destructured
  too, ``function``, ``class``, ``import``, a parameter list, ``catch``), no ``global.X =``
  anywhere in the upload, and the name is no global of a current Node (an older Node lacking
  ``fetch`` is ours), of Bun or Deno (an app written for them, run by Node), nor of a test
  runner (a test file run as the app).

Anything less certain gives no verdict: the failure stays as it is.

A route that reads a request's header as if every caller sent one (``req.headers.cookie
.split('=')``, Python's ``request.headers['Token']``) fails with a TypeError (a KeyError)
for a caller that sends none, where it could refuse it: said likewise, where the error's
innermost frame of the upload is the app's own file and its line reads that property
straight off the header, or that key (:func:`unsent_input`); so does a Python route using
a query parameter or form field that ``.get()`` gave as None, unchecked; one calling a
method of a Sequelize model file's export, the function defining the model, where its
models/index.js keeps the model (:func:`definer_called`). So does a route
rendering a view that no file of the upload is, or rendering with no view engine set
anywhere in its code (:func:`unrendered_view`); one passing a package a query parameter
the caller did not send (``req.query.customer``), or reading a Nest ``@Headers()``
parameter's header in a built controller (:func:`unsent_input`); a handler whose first
parameter, the request, is named ``res`` (:func:`request_as_response`); a MongoDB URL whose
port is the app's own ``PORT``, when its client finds no server (:func:`port_as_database_port`);
a Sequelize include given a model's name in quotes, where Sequelize fails on it
(:func:`string_included_model`);
a Python route reading a field off its pydantic model's class, not an instance
(:func:`field_off_class`).
A hosted API's failed answer read as given (Braintree's, its error unread) is no error of
the app's to fix here but of the sandbox's reach: said too (:func:`hosted_call_failed`).
"""

from __future__ import annotations

import ast
import builtins
import posixpath
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from ..apps.node.nodeapp import package_scripts, read_package
from ..apps.node.tsnode import ts_source
from ..apps.spec import LaunchSpec
from ..discovery.pyast import STAR, bound_names, last_name, parse_source
from ..logs import JS_FRAME
from ..logs.hostpaths import REVISION_DIRS

__all__ = [
    "CodeErrors",
    "DefinerCalled",
    "FieldOffClass",
    "HostedCallFailed",
    "PortAsDatabasePort",
    "RequestAsResponse",
    "StringIncludedModel",
    "UndefinedName",
    "UnrenderedView",
    "UnsentInput",
    "definer_called",
    "empty_entry",
    "field_off_class",
    "hosted_call_failed",
    "port_as_database_port",
    "request_as_response",
    "string_included_model",
    "terminal_program",
    "uncalled_body_parser",
    "undefined_name",
    "unrendered_view",
    "unsent_input",
    "with_hosted_call_failed",
    "with_undefined_name",
]

_PY_NAME_ERROR = re.compile(r"\bNameError: name '([A-Za-z_]\w*)' is not defined")
_JS_REFERENCE_ERROR = re.compile(r"\bReferenceError: ([A-Za-z_$][\w$]*) is not defined$")
_PY_FRAME = re.compile(r'^\s*(?:\| ?)?\s*File "([^"<]+)", line (\d+)')
_JS_SOURCE = re.compile(r"\.[cm]?[jt]sx?$")
_REVISION = re.compile(rf"^{re.escape(REVISION_DIRS)}/[^/]+/")  # a revision applied live


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\S+", text))


# Python 2's builtins: an app using them wants an interpreter no preview has.
_PYTHON2 = _words(
    """unicode basestring xrange raw_input long unichr reduce file execfile reload cmp
    buffer apply intern coerce"""
)
# Python 3's builtins of versions newer than this interpreter's, which an app could rely on.
_NEWER_PY_BUILTINS = _words("""aiter anext EncodingWarning ExceptionGroup""")
# Globals of a current Node (``Object.getOwnPropertyNames(globalThis)`` of Node 20, less
# what only its REPL adds, and what Node 21–24 added), of Bun and Deno, and of test runners:
# a ReferenceError for one of them is the runtime's or the start's, not the code's.
_RUNTIME_GLOBALS = _words(
    """AbortController AbortSignal AggregateError Array ArrayBuffer Atomics BigInt
    BigInt64Array BigUint64Array Blob Boolean BroadcastChannel Buffer
    ByteLengthQueuingStrategy CompressionStream CountQueuingStrategy Crypto CryptoKey
    CustomEvent DOMException DataView Date DecompressionStream Error EvalError Event
    EventTarget File FinalizationRegistry Float16Array Float32Array Float64Array
    FormData Function Headers Infinity Int16Array Int32Array Int8Array Intl Iterator
    JSON Map Math MessageChannel MessageEvent MessagePort NaN Navigator Number Object
    Performance PerformanceEntry PerformanceMark PerformanceMeasure PerformanceObserver
    PerformanceObserverEntryList PerformanceResourceTiming Promise Proxy RangeError
    ReadableByteStreamController ReadableStream ReadableStreamBYOBReader
    ReadableStreamBYOBRequest ReadableStreamDefaultController
    ReadableStreamDefaultReader ReferenceError Reflect RegExp Request Response Set
    SharedArrayBuffer Storage String SubtleCrypto Symbol SyntaxError TextDecoder
    TextDecoderStream TextEncoder TextEncoderStream TransformStream
    TransformStreamDefaultController TypeError URIError URL URLPattern URLSearchParams
    Uint16Array Uint32Array Uint8Array Uint8ClampedArray WeakMap WeakRef WeakSet
    WebAssembly WebSocket CloseEvent WritableStream WritableStreamDefaultController
    WritableStreamDefaultWriter __dirname __filename atob btoa clearImmediate
    clearInterval clearTimeout console decodeURI decodeURIComponent encodeURI
    encodeURIComponent escape eval exports fetch global globalThis isFinite isNaN
    localStorage module navigator parseFloat parseInt performance process queueMicrotask
    require sessionStorage setImmediate setInterval setTimeout structuredClone undefined
    unescape Bun Deno describe it test expect jest vi beforeAll afterAll beforeEach
    afterEach"""
)
# What may bind any name in a Python file, unseen by its syntax tree.
_PY_DYNAMIC = re.compile(r"\bglobals\(\)|\bexec\(|\bbuiltins\b|\b__builtins__\b|\bvars\(\)")


@dataclass(frozen=True)
class UndefinedName:
    """The app's own ``path`` (as uploaded) uses ``name`` on ``line`` and never defines it;
    ``elsewhere``: another file of the upload that defines it at its top, if one does."""

    name: str
    path: str
    line: int
    elsewhere: str | None = None

    def said(self) -> str:
        where = f" ({self.elsewhere} defines one: import it from there)" if self.elsewhere else ""
        return (
            f"{self.path} line {self.line} uses {self.name}, which {self.path} neither defines"
            f" nor imports: an error in the app's own code{where}"
        )


def undefined_name(
    lines: Sequence[str], index: int, files: Mapping[str, bytes], root: str | None = None
) -> UndefinedName | None:
    """The undefined name that ``lines[index]`` (a NameError's or ReferenceError's line)
    tells, where the upload's ``files`` show it is the app's own (see the module doc);
    ``root``: the app's directory, under which its frames' paths are shown."""
    text = lines[index].strip()
    if (m := _PY_NAME_ERROR.search(text)) is not None:
        frame = _innermost(lines[:index], _PY_FRAME, reverse=True)
        return _python(m.group(1), frame, files, root)
    if (m := _JS_REFERENCE_ERROR.search(text)) is not None:
        frame = _innermost(lines[index + 1 : index + 4], JS_FRAME, reverse=False)
        return _node(m.group(1), frame, files, root)
    return None


# Node's words for a property read of undefined: "TypeError: Cannot read properties of
# undefined (reading 'split')" (Node 16 and later), "Cannot read property 'split' of
# undefined" (before).
_JS_UNDEFINED_READ = re.compile(
    r"\bTypeError: Cannot read propert(?:ies of undefined \(reading '([\w$]+)'\)"
    r"|y '([\w$]+)' of undefined)"
)
# A request, as the frameworks name it: Express's ``req``, Koa's ``ctx`` (and its
# ``ctx.request``), Hono's ``c.req``.
_REQUEST = r"(?<![\w$.])(?:req|request|ctx|context|c\.req)(?:\.request)?"


# Python's words for a key a mapping lacks: "KeyError: 'token'".
_PY_KEY_ERROR = re.compile(r"^\s*KeyError: (['\"])([^'\"]+)\1\s*$")
# A Python request's header read by subscript: Django's ``request.headers['Token']`` and
# ``request.META['HTTP_TOKEN']``, Starlette's ``request.headers["authorization"]``.
_PY_HEADER_READ = re.compile(
    r"(?<![\w.])(?:self\.)?(?:request|req)\.(?:headers|META)\s*\[\s*(['\"])([\w-]+)\1\s*\]"
)
_PY_TRACEBACK = "Traceback (most recent call last)"
# Any frame, a package's shown as "<environment>/…" or the interpreter's "<frozen …>" too.
_PY_ANY_FRAME = re.compile(r'^\s*(?:\| ?)?\s*File "([^"]+)", line (\d+)')
# Python's errors of a None used as a value: "AttributeError: 'NoneType' object has no
# attribute 'split'", "TypeError: strptime() argument 1 must be str, not None".
_PY_NONE_ERROR = re.compile(
    r"^\s*(?:AttributeError: 'NoneType' object has no attribute '\w+'"
    r"|TypeError: .*(?:\bnot None\b|'NoneType').*)\s*$"
)
# A request's input read with ``.get()``, no default or None: Flask's ``request.args``,
# ``form``, ``values``, ``headers``, ``cookies``, Django's ``GET``/``POST``, Starlette's
# and DRF's ``query_params``.
_PY_INPUT_GET = re.compile(
    r"(?<![\w.])(?:self\.)?(?:request|req)\.(?P<of>args|form|values|headers|cookies|GET|POST"
    r"|query_params)\.get\(\s*(?P<quote>['\"])(?P<name>[\w-]+)(?P=quote)\s*(?:,\s*None\s*)?\)"
)
_PY_GET_USED = re.compile(r"\s*(?:\.|\[)")  # the .get()'s value used at once: .split(, [0]
_PY_INPUT_ASSIGNED = re.compile(rf"^\s*(?P<var>[A-Za-z_]\w*)\s*=\s*{_PY_INPUT_GET.pattern}\s*$")
_PY_ASSIGNED = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)")
_INPUT_KINDS = {
    "args": "query parameter",
    "GET": "query parameter",
    "query_params": "query parameter",
    "form": "form field",
    "POST": "form field",
    "values": "parameter",
    "headers": "header",
    "cookies": "cookie",
}
_PY_FRAMES_BEFORE = 80  # lines above a KeyError searched for its traceback's frames


@dataclass(frozen=True)
class UnsentInput:
    """The app's own ``path`` reads the request's ``name`` (a header, by ``kind``: a query
    parameter, a form field…) on ``line`` as if every request sent it, and a request
    without it failed there: reading ``read`` of it (Node), or on ``read``, Python's
    error line (``KeyError: 'token'``)."""

    name: str
    path: str
    line: int
    read: str
    python: bool = False
    kind: str = "header"  # or "query parameter": ``req.query.customer`` passed on

    def said(self) -> str:
        error = self.read if self.python else f"TypeError, reading '{self.read}' of undefined"
        return (
            f"{self.path} line {self.line} reads the request's {self.name} {self.kind} as if "
            f"every request sent one: a request without it fails there ({error}) where the "
            "app could refuse it, an error in the app's own code"
        )


def unsent_input(
    lines: Sequence[str], index: int, files: Mapping[str, bytes], root: str | None = None
) -> UnsentInput | None:
    """The request header that ``lines[index]`` (a TypeError reading a property of
    undefined) was read from, where its innermost frame is a file of the upload whose line
    reads that property straight off a request's header (``req.headers.cookie.split``,
    ``req.headers['authorization'].replace``, ``req.header('Authorization').split``):
    hcfairbanks' warehouseNestJS takes its JWT from ``req.headers.cookie.split('=')``, and
    every guarded route answered 500 to a caller with no cookie, its sign-in never asked
    for. None otherwise (a value of the app's own that is undefined may be ours: a setting
    we did not give). Python's KeyError likewise, where the innermost frame of the upload
    reads that key straight off the request's headers (RickZzDev's ApiErpDjango:
    ``request.headers['Token']`` in its authentication class, every route 500 to a
    caller sending none). And a Python error of None (an AttributeError or TypeError of
    ``NoneType``) where the innermost frame is the upload's and its line uses the value a
    ``.get()`` of the request's query, form or headers gave in its function, unchecked
    (Amogh-Nigam's holidays-flask-api: ``strptime(start_date, …)`` of
    ``request.args.get('start_date', None)``, "argument 1 must be str, not None")."""
    above = lines[max(index - _PY_FRAMES_BEFORE, 0) : index]
    if (key := _PY_KEY_ERROR.match(lines[index])) is not None:
        return _python_header(key[2], lines[index].strip(), above, files, root)
    if _PY_NONE_ERROR.match(lines[index]) is not None:
        return _python_input_got(lines[index].strip(), above, files, root)
    found = _JS_UNDEFINED_READ.search(lines[index])
    if found is None:
        return None
    read = found.group(1) or found.group(2)
    below = lines[index + 1 : index + 1 + _FRAMES_AFTER]
    frame = _innermost(below, JS_FRAME, reverse=False)
    path = _uploaded(frame, files, root)
    if path is None and (built := _built_method(below, files, root)) is not None:
        return _nest_header(*built, read, files)
    if path is None and frame is not None and "node_modules/" in frame[0]:
        return _query_passed(lines[index + 1 : index + 1 + _FRAMES_PASSED], read, files, root)
    if path is None or frame is None or not _JS_SOURCE.search(path):
        return None
    text = _source_line(files[path].decode("utf-8", "replace"), frame[1])
    prop = re.escape(read)
    header = re.search(
        rf"{_REQUEST}\.headers\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*(['\"`])([\w-]+)\2\s*\])"
        rf"\s*\.\s*{prop}(?![\w$])"
        rf"|{_REQUEST}\.(?:header|get)\(\s*(['\"`])([\w-]+)\4\s*\)\s*\.\s*{prop}(?![\w$])",
        text,
    )
    if header is None:
        return None
    name = header.group(1) or header.group(3) or header.group(5)
    return UnsentInput(name.lower(), path, frame[1], read)


# A Node frame naming its method (``at UserController.getMe (dist/user/user.controller.js:
# 43:76)``), and Nest's parameter of the request's headers (``@Headers() header``, or of
# one header, ``@Headers('authorization') auth``).
_METHOD_FRAME = re.compile(r"^\s*at (?:async )?[\w$]+\.([\w$]+) \(")
_NEST_HEADERS = re.compile(r"@Headers\(\s*(?:(['\"`])([\w-]+)\1)?\s*\)\s*([A-Za-z_$][\w$]*)")


_FRAMES_PASSED = 10  # Node's frames below an error: a package's, then the app's call of it
# A query parameter read off the request (``req.query.customer``, ``req.query['id']``).
_QUERY_READ = _REQUEST + r"\.query\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*(['\"`])([\w-]+)\2\s*\])"


def _query_passed(
    frames: Sequence[str], read: str, files: Mapping[str, bytes], root: str | None
) -> UnsentInput | None:
    """The query parameter a package's code failed on (reading ``read`` of undefined),
    where the first frame of the app's own below it (``frames``) passes that parameter to
    the package's call, straight off the request or by a name the file binds to it alone:
    moltin's braintree-express-app's ``gateway.customer.find(customerId, …)``, ``const
    customerId = req.query.customer``: a 500 at /braintree to a caller sending no
    ``?customer=``, braintree's own ``customerId.trim()`` failing."""
    for raw in frames:
        if (frame := JS_FRAME.match(raw)) is None:
            continue
        path = _uploaded((frame.group(1), int(frame.group(2))), files, root)
        if path is None:
            continue
        if not _JS_SOURCE.search(path):
            return None
        source = files[path].decode("utf-8", "replace")
        text = _source_line(source, int(frame.group(2)))
        call = re.search(r"[\w$]\s*\((.*)", text)
        if call is None:
            return None
        if (direct := re.search(_QUERY_READ, call.group(1))) is not None:
            name = direct.group(1) or direct.group(3)
            return UnsentInput(name, path, int(frame.group(2)), read, kind="query parameter")
        for word in re.findall(r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*[,)]", call.group(1)):
            bound = re.findall(
                rf"(?<![\w$.])(?:const|let|var)\s+{re.escape(word)}\s*=\s*{_QUERY_READ}\s*;?\s*$",
                source,
                re.M,
            )
            assigned = re.findall(rf"(?<![\w$.]){re.escape(word)}\s*=(?![=>])", source)
            if len(bound) == 1 and len(assigned) == 1:
                name = bound[0][0] or bound[0][2]
                line = int(frame.group(2))
                return UnsentInput(name, path, line, read, kind="query parameter")
        return None
    return None


def _built_method(
    below: Sequence[str], files: Mapping[str, bytes], root: str | None
) -> tuple[str, str] | None:
    """(the TypeScript source, the method) of the innermost frame below an error where
    that frame is a build's file of the upload's source (``dist/user/user.controller.js``
    → ``src/user/user.controller.ts``): its line numbers are the build's, not the source's,
    so the method it names is read instead."""
    for raw in below:
        if (frame := JS_FRAME.match(raw)) is None:
            continue
        shown = frame.group(1)
        if "node_modules/" in shown or (method := _METHOD_FRAME.match(raw)) is None:
            return None
        if root and shown.startswith(root.rstrip("/") + "/"):
            shown = shown[len(root.rstrip("/")) + 1 :]
        elif shown.startswith("/"):
            return None
        source = ts_source(shown.removeprefix("./"), dict(files))
        return (source, method.group(1)) if source is not None else None
    return None


def _nest_header(
    path: str, method: str, read: str, files: Mapping[str, bytes]
) -> UnsentInput | None:
    """The header a Nest controller's ``method`` in ``path`` reads ``read`` straight off,
    from its ``@Headers()`` parameter: SajadRahimi1's nestjs-tourism-app's ``getMe(@Headers()
    header)`` reads ``header.user.id``, which its interceptor sets only for a caller sending
    a token (a 500 at /user/me to any other)."""
    source = files[path].decode("utf-8", "replace")
    found = re.search(
        rf"^\s*(?:(?:public|private|protected|async)\s+)*{re.escape(method)}\s*\(", source, re.M
    )
    if found is None:
        return None
    start = source.count("\n", 0, found.start()) + 1
    body = source[found.start() :].splitlines()
    end = next((i for i, line in enumerate(body[1:], 1) if re.match(r"\s*@\w", line)), len(body))
    prop = re.escape(read)
    for at, line in enumerate(body[:end]):
        for param in _NEST_HEADERS.finditer("\n".join(body[:end])):
            name = re.escape(param.group(3))
            if param.group(2):  # one header's value: read of it
                read_off = re.search(rf"(?<![\w$.]){name}\s*\.\s*{prop}(?![\w$])", line)
                header = param.group(2)
            else:
                read_off = re.search(
                    rf"(?<![\w$.]){name}\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*(['\"`])([\w-]+)\2\s*\])"
                    rf"\s*\.\s*{prop}(?![\w$])",
                    line,
                )
                header = (read_off.group(1) or read_off.group(3)) if read_off else ""
            if read_off is not None:
                return UnsentInput(header.lower(), path, start + at, read)
    return None


def _python_header(
    key: str, error: str, above: Sequence[str], files: Mapping[str, bytes], root: str | None
) -> UnsentInput | None:
    """The header ``key`` (a KeyError's, ``error``) that the innermost frame of the upload
    among the traceback ``above`` reads off the request by subscript, if it does."""
    found = _upload_frame(above, files, root)
    if found is None:
        return None
    path, line, text = found
    wanted = _header_name(key)
    for read in _PY_HEADER_READ.finditer(text):
        if _header_name(read.group(2)) == wanted:
            return UnsentInput(wanted, path, line, error, python=True)
    return None


def _python_input_got(
    error: str, above: Sequence[str], files: Mapping[str, bytes], root: str | None
) -> UnsentInput | None:
    """The request's input whose ``.get()`` gave the None the innermost frame's line
    failed on (``error``), where that frame is the upload's: read on that line, or
    assigned to a name that line uses, earlier in its function and not again since."""
    found = _upload_frame(above, files, root, innermost_only=True)
    if found is None:
        return None
    path, line, text = found
    if (direct := _PY_INPUT_GET.search(text)) is not None and _PY_GET_USED.match(
        text[direct.end() :]
    ):
        return UnsentInput(direct["name"], path, line, error, True, _INPUT_KINDS[direct["of"]])
    source = files[path].decode("utf-8", "replace").splitlines()
    indent = len(text) - len(text.lstrip())
    assigned: dict[str, re.Match[str]] = {}
    for earlier in reversed(source[: line - 1]):
        stripped = earlier.lstrip()
        if stripped.startswith(("def ", "async def ")) and len(earlier) - len(stripped) < indent:
            break  # the function's head: nothing above it is its own
        if (got := _PY_INPUT_ASSIGNED.match(earlier)) is not None:
            assigned.setdefault(got["var"], got)
        elif (again := _PY_ASSIGNED.match(earlier)) is not None:
            assigned.setdefault(again[1], again)  # assigned since: no longer the .get()'s
    for name, got in assigned.items():
        if got.re is _PY_INPUT_ASSIGNED and re.search(rf"(?<![\w.]){name}\b", text):
            return UnsentInput(got["name"], path, line, error, True, _INPUT_KINDS[got["of"]])
    return None


def _upload_frame(
    above: Sequence[str],
    files: Mapping[str, bytes],
    root: str | None,
    *,
    innermost_only: bool = False,
) -> tuple[str, int, str] | None:
    """The innermost frame of the upload in the traceback ending ``above``: its path, line
    number and line of code; ``innermost_only``: only where it is the innermost of all (a
    package's frame below it may have made the value itself)."""
    start = max((i for i, line in enumerate(above) if _PY_TRACEBACK in line), default=None)
    if start is None:
        return None
    for raw in reversed(above[start:]):
        if (m := _PY_ANY_FRAME.match(raw)) is None:
            continue
        frame = (m.group(1).replace("\\", "/"), int(m.group(2)))
        path = None if frame[0].startswith("<") else _uploaded(frame, files, root)
        if path is not None:
            text = _source_line(files[path].decode("utf-8", "replace"), frame[1])
            return path, frame[1], text
        if innermost_only:
            return None
    return None


def _header_name(key: str) -> str:
    """A header's name as read by any of its spellings: ``Token``, ``HTTP_TOKEN``
    (Django's META), ``x_api_key``."""
    return key.removeprefix("HTTP_").lower().replace("_", "-")


# A method a module's value lacks: "TypeError: Produto.findAll is not a function".
_JS_NO_METHOD = re.compile(r"\bTypeError: ([A-Za-z_$][\w$]*)\.([\w$]+) is not a function$")
# sequelize-cli's model file: a function defining the model on the instance it is given
# (``module.exports = (sequelize, DataTypes) => { … sequelize.define(…) }``), which its
# models/index.js calls and keeps the model of.
_MODEL_DEFINER = re.compile(
    r"(?:\bmodule\.exports\s*=|\bexport\s+default)\s*(?:async\s+)?(?:function\b\s*[\w$]*\s*)?"
    r"\(\s*sequelize\s*,\s*(?:DataTypes|dataTypes|Sequelize)\s*\)",
    re.I,
)


@dataclass(frozen=True)
class DefinerCalled:
    """``path`` calls ``name.method`` on ``line``, ``name`` being ``module``'s export: a
    function defining a Sequelize model, not the model."""

    name: str
    method: str
    path: str
    line: int
    module: str

    def said(self) -> str:
        return (
            f"{self.path} line {self.line} calls {self.name}.{self.method}, but {self.name} is"
            f" {self.module}'s export, a function that defines the model on the instance it is"
            " given (sequelize-cli's model file), not the model its models/index.js keeps: an"
            " error in the app's own code"
        )


def definer_called(
    lines: Sequence[str], index: int, files: Mapping[str, bytes], root: str | None = None
) -> DefinerCalled | None:
    """The model-defining function ``lines[index]`` (a TypeError of a method that is no
    function) was called a method of, where the innermost frame is the app's own file, its
    line calls that method, and the file requires the name from a module of the upload
    exporting ``(sequelize, DataTypes) => …``: Victor-Santos-Silva's BackEnd-CoffeeExpress
    requires ``../models/Produto`` in its service and calls ``Produto.findAll()``, every
    list answering 500. None otherwise."""
    found = _JS_NO_METHOD.search(lines[index].strip())
    if found is None:
        return None
    name, method = found.group(1), found.group(2)
    own = _own_js_frame(lines, index, files, root)
    if own is None:
        return None
    path, line, source = own
    if f"{name}.{method}" not in _source_line(source, line):
        return None
    bound = re.search(
        rf"""\b(?:const|let|var)\s+{re.escape(name)}\s*=\s*require\(\s*["'](\.{{1,2}}/[^"']+)["']\s*\)"""
        rf"""|\bimport\s+{re.escape(name)}\s+from\s+["'](\.{{1,2}}/[^"']+)["']""",
        source,
    )
    if bound is None:
        return None
    wanted = posixpath.normpath(
        posixpath.join(posixpath.dirname(path), bound.group(1) or bound.group(2))
    )
    for ending in ("", ".js", ".cjs", ".mjs", ".ts", "/index.js", "/index.ts"):
        module = wanted + ending
        if module in files and _MODEL_DEFINER.search(files[module].decode("utf-8", "replace")):
            return DefinerCalled(name, method, path, line, module)
    return None


# Python's words for an attribute a class lacks: pydantic 2's model class says the name
# alone (its metaclass's ``__getattr__``), any other class says whose it is.
_PY_NO_ATTRIBUTE = re.compile(
    r"\bAttributeError: (?:type object '(?P<owner>\w+)' has no attribute '(?P<name>\w+)'"
    r"|(?P<bare>[A-Za-z_]\w*))\s*$"
)
# Classes whose annotated names are fields, each a value of an instance: pydantic's.
_PYDANTIC_BASES = frozenset({"BaseModel", "BaseSettings", "SQLModel", "RootModel"})


@dataclass(frozen=True)
class FieldOffClass:
    """``path`` reads ``name`` off the class ``model`` on ``line``, ``name`` being a field
    of that pydantic model (declared in ``declared``): a value of each instance, which the
    class has none of. ``instance``: the one the upload makes of it, where it makes one."""

    name: str
    model: str
    path: str
    line: int
    declared: str
    instance: str | None

    def said(self) -> str:
        made = f", as {self.instance}.{self.name} would" if self.instance else ""
        return (
            f"{self.path} line {self.line} reads {self.model}.{self.name}, but {self.name} is"
            f" a field of the pydantic model {self.model} ({self.declared}): its value is an"
            f" instance's (the instance the app makes of it{made}), not the class's: an error"
            " in the app's own code"
        )


def field_off_class(
    lines: Sequence[str], index: int, files: Mapping[str, bytes], root: str | None = None
) -> FieldOffClass | None:
    """The pydantic field ``lines[index]`` (an AttributeError) says a class lacks, where the
    innermost frame of the upload above it reads it off that class (``Settings.TOKEN``) and
    a pydantic model of that name in the upload declares it: josellecallora08's
    paymongo-fastapi builds its PayMongo header from ``Settings.PAYMONGO_TOKEN``, its
    ``settings = Settings()`` beside it unread ("AttributeError: PAYMONGO_TOKEN"). None
    otherwise."""
    found = _PY_NO_ATTRIBUTE.search(lines[index].strip())
    if found is None:
        return None
    name = found["name"] or found["bare"]
    above = lines[max(index - _PY_FRAMES_BEFORE, 0) : index]
    frame = _upload_frame(above, files, root)
    if frame is None:
        return None
    path, line, text = frame
    read = re.search(rf"(?<![\w.])([A-Za-z_]\w*)\.{name}(?!\w)", text)
    if read is None or (found["owner"] and found["owner"] != read[1]):
        return None
    model = read[1]
    for declared, source in files.items():
        if not declared.endswith(".py") or f"class {model}".encode() not in source:
            continue
        try:
            tree = parse_source(source.decode("utf-8", "replace"))
        except (SyntaxError, ValueError, RecursionError):
            continue
        if name in _pydantic_fields(tree, model):
            return FieldOffClass(name, model, path, line, declared, _instance_of(tree, model))
    return None


def _pydantic_fields(tree: ast.Module, model: str) -> set[str]:
    """The annotated names of the top-level class ``model`` in ``tree``, where one of its
    bases is pydantic's; empty otherwise."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == model:
            if not any(last_name(base) in _PYDANTIC_BASES for base in node.bases):
                return set()
            return {
                item.target.id
                for item in node.body
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
            }
    return set()


def _instance_of(tree: ast.Module, model: str) -> str | None:
    """The top-level name ``tree`` binds to ``model()``, if it binds one."""
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and last_name(node.value.func) == model
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            return node.targets[0].id
    return None


# A route's handler whose first parameter is named for the response (``res => res.send(…)``,
# ``function (res, req)``), passed to a router's method on the same line.
_RESPONSE_NAMES = ("res", "response")
_ROUTE_CALL = re.compile(r"\.(?:get|post|put|patch|delete|all|use|head|options)\s*\(")


@dataclass(frozen=True)
class RequestAsResponse:
    """``path``'s handler on ``line`` names its first parameter ``name``, which Express
    gives the request: its ``name.method`` is the request's, which has none."""

    name: str
    method: str
    path: str
    line: int

    def said(self) -> str:
        return (
            f"{self.path} line {self.line} calls {self.name}.{self.method}, but its handler's"
            f" first parameter, {self.name}, is the request Express passes first (req, res):"
            " an error in the app's own code"
        )


def request_as_response(
    lines: Sequence[str], index: int, files: Mapping[str, bytes], root: str | None = None
) -> RequestAsResponse | None:
    """The handler that ``lines[index]`` (a TypeError of a method that is no function)
    took the request for the response in, where the innermost frame is the app's own file
    and its line passes a router's method a handler whose first parameter has the
    response's name: glrodriguez's onboarding-Express's ``userRouter.get('/login-failure',
    res => res.send('Login Attempt Failed.'))``, a 500 each call ("res.send is not a
    function"). None otherwise."""
    found = _JS_NO_METHOD.search(lines[index].strip())
    if found is None or found.group(1) not in _RESPONSE_NAMES:
        return None
    name, method = found.group(1), found.group(2)
    own = _own_js_frame(lines, index, files, root)
    if own is None:
        return None
    path, line, source = own
    text = _source_line(source, line)
    route = _ROUTE_CALL.search(text)
    if route is None:
        return None
    handler = re.search(
        rf"(?:,|\()\s*(?:async\s+)?(?:{name}\s*=>|\(\s*{name}\s*[,)][^)]*\)?\s*=>"
        rf"|function\s*[\w$]*\s*\(\s*{name}\s*[,)])",
        text[route.end() - 1 :],
    )
    if handler is None or f"{name}.{method}" not in text[route.end() - 1 + handler.start() :]:
        return None
    return RequestAsResponse(name, method, path, line)


# A MongoDB URL of a template literal, the expression its port is (``mongodb://${config.
# host}:${config.port}/``), and the words of a MongoDB client that found no server there.
_MONGO_URL_PORT = re.compile(r"mongodb://[^`\s]*?:\$\{\s*([A-Za-z_$][\w$.]*)\s*\}")
_MONGO_UNREACHED = (
    "buffering timed out after",
    "MongooseServerSelectionError",
    "MongoServerSelectionError",
)


@dataclass(frozen=True)
class PortAsDatabasePort:
    """``path`` builds its MongoDB URL on ``line`` with ``expr`` as its port, which is the
    environment's ``PORT``: the port a host gives the app itself to serve on."""

    path: str
    line: int
    expr: str

    def said(self) -> str:
        return (
            f"{self.path} line {self.line} builds its MongoDB URL's port from PORT"
            f" ({self.expr}), the variable a host sets to the port the app itself serves on:"
            " its client seeks MongoDB on the app's own port, an error in the app's own code"
        )


def port_as_database_port(files: Mapping[str, bytes]) -> PortAsDatabasePort | None:
    """Where the upload's code builds a MongoDB URL whose port is ``process.env.PORT``,
    straight, by a name bound to it, or by a key an object of its sets to it
    (glrodriguez's onboarding-Express: ``mongodb://${config.host}:${config.port}/``, its
    config.js's ``port: process.env.PORT``, its server on a literal 3000: /movies timed out
    on every call). None otherwise."""
    sources = {
        path: data.decode("utf-8", "replace")
        for path, data in files.items()
        if _JS_SOURCE.search(path) and "node_modules/" not in path and len(data) < 512 * 1024
    }
    for path, source in sources.items():
        for found in _MONGO_URL_PORT.finditer(source):
            expr = found.group(1)
            last = re.escape(expr.rsplit(".", 1)[-1])
            if expr == "process.env.PORT":
                bound = True
            elif "." in expr:
                keyed = rf"(?<![\w$.]){last}\s*:\s*process\.env\.PORT\b"
                bound = any(re.search(keyed, other) for other in sources.values())
            else:
                named = rf"(?:const|let|var)\s+{last}\s*=\s*process\.env\.PORT\s*;?\s*$"
                bound = re.search(named, source, re.M) is not None
            if bound:
                return PortAsDatabasePort(path, source.count("\n", 0, found.start()) + 1, expr)
    return None


# A body parser's factory handed to ``use`` uncalled (``app.use(express.json)``): Express
# calls it as a middleware, the request taken for its options; it returns the middleware
# it would have made, and neither answers nor passes the request on.
_UNCALLED_PARSER = re.compile(
    r"\.use\(\s*(?P<module>[A-Za-z_$][\w$]*)\.(?:json|urlencoded|raw|text)\s*\)"
)
# Its module's name bound to Express or body-parser (``{0}``: that name).
_BOUND_TO_PARSER = (
    r"""\b(?:const|let|var)\s+{0}\s*=\s*require\(\s*["'](?:express|body-parser)["']"""
    r"""|\bimport\s+(?:\*\s+as\s+)?{0}\s+from\s+["'](?:express|body-parser)["']"""
)


def uncalled_body_parser(files: Mapping[str, bytes]) -> str | None:
    """Where the upload's code hands Express's or body-parser's ``json`` (``urlencoded``,
    ``raw``, ``text``) to ``use`` uncalled, the module bound to that package in its file:
    every request it meets waits forever, an error in the app's own code (jeffmcrockett's
    bidpros: ``app.use(express.json)`` above every route, its start never answered a
    request). Said with the file and line; None otherwise."""
    for path, data in sorted(files.items()):
        if not _JS_SOURCE.search(path) or "node_modules/" in path or len(data) >= 512 * 1024:
            continue
        source = data.decode("utf-8", "replace")
        for found in _UNCALLED_PARSER.finditer(source):
            line_start = source.rfind("\n", 0, found.start()) + 1
            if "//" in source[line_start : found.start()]:
                continue  # (commented out)
            bound = _BOUND_TO_PARSER.format(re.escape(found.group("module")))
            if re.search(bound, source) is None:
                continue
            line = source.count("\n", 0, found.start()) + 1
            call = found.group(0)[found.group(0).index("(") + 1 : -1].strip()
            return (
                f"{path} line {line} hands {call} to use() uncalled, the factory of a body"
                f" parser, not the middleware {call}() makes: called with each request, it"
                " neither answers nor passes it on, so no request is ever answered (an error"
                " in the app's own code)"
            )
    return None


# A package asking its questions at a terminal (a command-line program's prompts), as
# the app's code requires or imports it: group 1 (require) or 2 (import) its name.
_PROMPTS = re.compile(
    r"""\brequire\(\s*["'](inquirer|@inquirer/prompts|enquirer|prompts|readline-sync"""
    r"""|prompt-sync)["']\s*\)|\bfrom\s+["'](inquirer|@inquirer/prompts|enquirer|prompts"""
    r"""|readline-sync|prompt-sync)["']"""
)
# What a module that serves has: a server's listen, one made, Bun's or Deno's serve.
_SERVES = re.compile(r"\.listen\s*\(|\bcreateServer\s*\(|\b(?:Bun|Deno)\.serve\s*\(")


def terminal_program(files: Mapping[str, bytes]) -> str | None:
    """Where the app's code asks its questions at a terminal (inquirer's prompts, and the
    like) and no module of it listens, makes a server or exports one (the service serves
    an exported app): a command-line program, which serves nothing (kevindimayuga's
    employee-tracker-kd: express set up in server.js, never listened, its inquirer menu
    waiting for a key: "did not answer HTTP"). Said with the module; None otherwise."""
    sources = {
        path: data.decode("utf-8", "replace")
        for path, data in sorted(files.items())
        if _JS_SOURCE.search(path) and "node_modules/" not in path and len(data) < 512 * 1024
    }
    if any(_SERVES.search(s) or _EXPORTS.search(s) for s in sources.values()):
        return None
    for path, source in sources.items():
        if (found := _PROMPTS.search(source)) is not None:
            package = found.group(1) or found.group(2)
            return (
                f"{path} asks its questions at a terminal ({package}'s prompts), and no"
                " module of the app listens: a command-line program, which serves nothing"
                " (no web app: the app's own)"
            )
    return None


# An export of a module (an app the service may serve).
_EXPORTS = re.compile(r"\bmodule\.exports\b|\bexports\.\w+\s*=|^\s*export\s+default\b", re.M)


# Sequelize's words for an include whose ``model`` is no model (``include.model`` a
# string: it reads the model's table off it).
_NOT_A_MODEL = "include.model.getTableName is not a function"
# An include's ``model`` given a name in quotes (``include: [{ model: 'Product' }]``,
# ``model: ['Product']``): group 1 the name.
_STRING_MODEL = re.compile(r"""\bmodel\s*:\s*\[?\s*["'`]([A-Za-z_$][\w$]*)["'`]""")
_INCLUDE = re.compile(r"\binclude\s*:")


@dataclass(frozen=True)
class StringIncludedModel:
    """``path`` gives a Sequelize query's include the string ``name`` as its model, on
    ``line``: no model, which Sequelize fails on at every call of the query."""

    path: str
    line: int
    name: str

    def said(self) -> str:
        return (
            f"{self.path} line {self.line} gives a Sequelize include the string '{self.name}'"
            f" as its model, not the model {self.name}: Sequelize reads a model's table off"
            " it and fails on every call (an error in the app's own code)"
        )


def string_included_model(files: Mapping[str, bytes]) -> StringIncludedModel | None:
    """Where the upload's code gives an include's ``model`` a name in quotes, shortly
    after an ``include:`` (read once Sequelize has failed on such an include: Blackcat-
    Tinkerngineers' Ecommerce-back-end: ``include: [{ model: 'Product', … }]`` in its
    category routes, both answering 500, "include.model.getTableName is not a
    function"). The first such; None otherwise."""
    for path, data in sorted(files.items()):
        if not _JS_SOURCE.search(path) or "node_modules/" in path or len(data) >= 512 * 1024:
            continue
        source = data.decode("utf-8", "replace")
        for include in _INCLUDE.finditer(source):
            near = source[include.end() : include.end() + 200]
            found = _STRING_MODEL.search(near)
            if found is None or "{" not in near[: found.start()]:
                continue
            line = source.count("\n", 0, include.end() + found.start()) + 1
            return StringIncludedModel(path, line, found.group(1))
    return None


# Express's words for a view it cannot render (res.render, Nest's @Render): a name no file
# of its views folder has, or a name without an extension where no engine is set.
_NO_VIEW = re.compile(r'\bFailed to lookup view "([^"]+)" in views director(?:y|ies) ')
_NO_ENGINE = "No default engine was specified and no extension was provided"
# Where an app sets its view engine (Express's ``app.set('view engine', 'pug')``, Nest's
# ``app.setViewEngine('hbs')``, an ``engine`` of its own).
_SETS_ENGINE = re.compile(rb"""["'`]view engine["'`]|\.setViewEngine\s*\(|\.engine\s*\(""")


# Python's template engines' words for a template no loader finds: Django's, Jinja2's
# (Flask's); the name as the app asked for it.
_NO_TEMPLATE = re.compile(
    r"\b(?:(?P<django>TemplateDoesNotExist)|(?P<jinja>TemplateNotFound)): "
    r"['\"]?(?P<name>[^\s'\",]+)"
)


@dataclass(frozen=True)
class UnrenderedView:
    """A route renders ``view``, which no file of the upload is; or (``view`` None) a view
    with no engine set anywhere in the app's code. ``error``: the engine's words for it."""

    view: str | None
    error: str = "Express's 'Failed to lookup view'"
    elsewhere: str | None = None  # a file of its name in a folder the engine is not given

    def said(self) -> str:
        if self.view is None:
            return (
                "the app renders a view and no module of it sets a view engine (Express's"
                " 'No default engine was specified'): an error in the app's own code"
            )
        if self.elsewhere is not None:
            return (
                f"the app renders the view {self.view}, which no file of its upload is where"
                f" its templates are looked for ({self.error}; its {self.elsewhere} is in a"
                " folder below them, which the view does not name): an error in the app's"
                " own code"
            )
        return (
            f"the app renders the view {self.view}, which no file of its upload is"
            f" ({self.error}): an error in the app's own code"
        )


def unrendered_view(line: str, files: Mapping[str, bytes]) -> UnrenderedView | None:
    """The view ``line`` (Express's error) says a route could not render, where the upload
    shows it is the app's own lack: mrcunningham's budgetExpress renders ``budget_form``
    and has no views/budget_form.pug, nor any file of that name; muaz234's recipes
    NestJS app renders ``@Render('index')`` and sets no view engine, nor has any view.
    None where a file of that name is in the upload (a folder it is looked for in may be
    ours to get wrong), or a module of it sets an engine."""
    if _NO_ENGINE in line:
        sources = (d for p, d in files.items() if _JS_SOURCE.search(p) and "node_modules/" not in p)
        return None if any(_SETS_ENGINE.search(d) for d in sources) else UnrenderedView(None)
    if (template := _NO_TEMPLATE.search(line)) is not None:
        # Django's and Jinja2's names are paths with their extension (FlxBot001's
        # django-appointments renders register.html, its templates/ holding no such file;
        # hbarudi's dispatch-django-capstone, Django's login view, registration/login.html).
        name = template["name"].removeprefix("./").removeprefix("/")
        if any(_template_found(path, name, files) for path in files):
            return None
        engine = (
            "Django's TemplateDoesNotExist" if template["django"] else "Jinja2's TemplateNotFound"
        )
        elsewhere = sorted(path for path in files if path.endswith(f"/{name}"))
        return UnrenderedView(name, engine, elsewhere[0] if elsewhere else None)
    found = _NO_VIEW.search(line)
    if found is None:
        return None
    name = found.group(1).removeprefix("./").removeprefix("/")
    stem = posixpath.splitext(name)[0] if posixpath.splitext(name)[1] else name
    for path in files:
        shown = posixpath.splitext(path)[0]
        if shown == stem or shown.endswith(f"/{stem}"):
            return None
    return UnrenderedView(name)


# The folders a template engine is given by convention (Django's app templates/, its
# Jinja2 backend's jinja2/, Flask's and Starlette's templates/).
_TEMPLATE_FOLDERS = frozenset({"templates", "template", "jinja2"})


def _template_found(path: str, name: str, files: Mapping[str, bytes]) -> bool:
    """Whether the upload's ``path`` may be the template ``name`` rendered: that file, or
    one under a templates folder by that name, or under a folder the app's Python code
    names in a string of its own (``DIRS: [BASE_DIR / "templates" / "shop"]``). A file
    of that name deeper in a templates folder no code names is not it: ESTON-kiam's
    mpesa-daraja-django renders ``index.html``, and has ``templates/mpesa_app/index.html``
    only (its other view renders ``mpesa_app/index.html``)."""
    if path == name:
        return True
    if not path.endswith(f"/{name}"):
        return False
    folder = posixpath.basename(path[: -len(name) - 1])
    if folder in _TEMPLATE_FOLDERS:
        return True
    named = re.compile(rf"""['"](?:[^'"\n]*/)?{re.escape(folder)}/?['"]""".encode())
    return any(named.search(data) for p, data in files.items() if p.endswith(".py"))


def with_undefined_name(
    cause: str | None, lines: Sequence[str], files: Mapping[str, bytes], root: str
) -> str | None:
    """A failed start's ``cause`` with what its last such error in ``lines`` means, where
    it is the app's own code's (see the module doc); ``root``: the app's directory."""
    if cause is None or _WORD not in cause:
        return cause
    for index in range(len(lines) - 1, -1, -1):
        if _WORD in lines[index]:
            found = undefined_name(lines, index, files, root)
            if found is not None:
                return f"{cause} — {found.said()}"
    return cause


# A client of Braintree's API, a hosted service whose every call goes to its hosts on the
# internet (``braintree.connect({...})``, ``new braintree.BraintreeGateway({...})``).
_BRAINTREE_CLIENT = r"(?:braintree\.connect|new\s+braintree\.BraintreeGateway)\s*\("
_HOSTED = "a hosted service's API on the internet, which a preview does not reach"
_CALLBACK_ABOVE = 12  # lines above the read searched for the callback that holds it


@dataclass(frozen=True)
class HostedCallFailed:
    """``path`` reads ``read`` off ``result`` on ``line``, the result a callback of the
    client's ``call`` is given, which it was not: the call failed (its error, the
    callback's first argument, unread), Braintree's API at ``host`` being out of reach."""

    path: str
    line: int
    read: str
    result: str
    call: str
    host: str

    def said(self) -> str:
        return (
            f"{self.path} line {self.line} reads {self.result}.{self.read} from the answer of"
            f" {self.call}, which failed (its error unread): Braintree's API ({self.host}) is"
            f" {_HOSTED}"
        )


def hosted_call_failed(
    lines: Sequence[str], index: int, files: Mapping[str, bytes], root: str | None = None
) -> HostedCallFailed | None:
    """The failed call to a hosted API whose result ``lines[index]`` (a TypeError reading
    a property of undefined) was read from: the innermost frame is the app's own file, its
    line reads that property off the second parameter of a ``function (err, result)``
    callback passed to a method of a Braintree client the file makes (Lammmas's
    braintree-express-poc: ``gateway.clientToken.generate({}, function (err, response) {
    res.send(response.clientToken) })``, which ended the app at its first call). None
    otherwise."""
    found = _JS_UNDEFINED_READ.search(lines[index])
    if found is None:
        return None
    read = found.group(1) or found.group(2)
    own = _own_js_frame(lines, index, files, root)
    if own is None:
        return None
    path, line, source = own
    reads = re.search(
        rf"(?<![\w$.])([A-Za-z_$][\w$]*)\s*\.\s*{re.escape(read)}(?![\w$])",
        _source_line(source, line),
    )
    if reads is None:
        return None
    result = re.escape(reads.group(1))
    callback = re.compile(
        rf"([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)+)\s*\(.*?"
        rf"(?:function\s*[\w$]*\s*\(\s*(?:err|error|e|er)\s*,\s*{result}\s*\)"
        rf"|\(\s*(?:err|error|e|er)\s*,\s*{result}\s*\)\s*=>)"
    )
    for at in range(line, max(line - _CALLBACK_ABOVE, 0), -1):
        if (call := callback.search(_source_line(source, at))) is None:
            continue
        name = call.group(1).split(".")[0].strip()
        if re.search(rf"(?<![\w$.]){re.escape(name)}\s*=\s*{_BRAINTREE_CLIENT}", source) is None:
            return None
        host = "api.sandbox.braintreegateway.com"
        if re.search(r"Environment\.(?:Production|Live)\b", source):
            host = "api.braintreegateway.com"
        said = re.sub(r"\s+", "", call.group(1))
        return HostedCallFailed(path, line, read, reads.group(1), said, host)
    return None


def with_hosted_call_failed(
    cause: str | None, lines: Sequence[str], files: Mapping[str, bytes], root: str
) -> str | None:
    """A failed start's ``cause`` (a read of undefined) with the hosted API's call whose
    failed result the last such error in ``lines`` read (:func:`hosted_call_failed`)."""
    if cause is None or _READ_WORD not in cause:
        return cause
    for index in range(len(lines) - 1, -1, -1):
        if _READ_WORD in lines[index]:
            found = hosted_call_failed(lines, index, files, root)
            if found is not None:
                return f"{cause} — {found.said()}"
    return cause


_SOURCE_FILE = re.compile(r"\.(?:[cm]?[jt]sx?|py)$")


def empty_entry(argv: Sequence[str], files: Mapping[str, bytes]) -> str | None:
    """What a start that exited with code 0, printing nothing, ran where the file it names
    is empty in the upload (jiovanni-k's todo-api-express-typescript: ``src/server.ts``
    and ``src/app.ts`` both empty): said as the app's own lack; None where the start names
    no such file."""
    words = [w.strip("'\"") for part in argv for w in re.split(r"[\s;&|()]+", part)]
    # A package manager's script (npm start, npm run dev): the words of its command too.
    scripts = package_scripts(read_package(files)) if {"npm", "yarn", "pnpm"} & set(words) else {}
    named = [scripts[name] for name in words if name in scripts]
    words += [w for script in named for w in re.split(r"[\s;&|()]+", script)]
    for word in words:
        path = word.removeprefix("./")
        if not _SOURCE_FILE.search(path):
            continue
        # A build's output (node dist/server.js) is its TypeScript source's (src/server.ts).
        source = path if path in files else ts_source(path, dict(files))
        if source is not None and source in files and not files[source].strip():
            return (
                f"{source}, which the start runs, is empty: nothing in it starts a server (an"
                " error in the app's own code)"
            )
    return None


def _innermost(
    lines: Sequence[str], pattern: re.Pattern[str], *, reverse: bool
) -> tuple[str, int] | None:
    """The nearest frame (path, line) among ``lines``: Python's last one above the error,
    Node's first one below it."""
    for raw in reversed(lines) if reverse else lines:
        if (m := pattern.match(raw)) is not None:
            return m.group(1).replace("\\", "/"), int(m.group(2))
    return None


def _own_js_frame(
    lines: Sequence[str], index: int, files: Mapping[str, bytes], root: str | None
) -> tuple[str, int, str] | None:
    """The innermost of Node's frames below the error ``lines[index]``, where it is a
    JavaScript or TypeScript file of the upload: its path, line number and source."""
    frame = _innermost(lines[index + 1 : index + 1 + _FRAMES_AFTER], JS_FRAME, reverse=False)
    path = _uploaded(frame, files, root)
    if path is None or frame is None or not _JS_SOURCE.search(path):
        return None
    return path, frame[1], files[path].decode("utf-8", "replace")


def _uploaded(
    frame: tuple[str, int] | None, files: Mapping[str, bytes], root: str | None
) -> str | None:
    """The upload's path of the frame's file: its path under ``root`` (the app's directory,
    or a revision's folder in it), or as shown where the log shows it relative; None if it
    is no file of the upload (a package's)."""
    if frame is None or "node_modules/" in frame[0] or "site-packages/" in frame[0]:
        return None
    shown = frame[0]
    if root and shown.startswith(root.rstrip("/") + "/"):
        shown = _REVISION.sub("", shown[len(root.rstrip("/")) + 1 :])
    elif shown.startswith("/"):
        return None
    shown = shown.removeprefix("./")
    return shown if shown in files else None


def _source_line(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _on_line(name: str, source: str, line: int) -> bool:
    return (
        re.search(rf"(?<![\w$.]){re.escape(name)}(?![\w$])", _source_line(source, line)) is not None
    )


def _python(
    name: str, frame: tuple[str, int] | None, files: Mapping[str, bytes], root: str | None
) -> UndefinedName | None:
    path = _uploaded(frame, files, root)
    if path is None or frame is None or not path.endswith(".py"):
        return None
    if name in _PYTHON2 or name in _NEWER_PY_BUILTINS or hasattr(builtins, name):
        return None
    source = files[path].decode("utf-8", "replace")
    if not _on_line(name, source, frame[1]) or _PY_DYNAMIC.search(source):
        return None
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    bound = bound_names(tree)
    if STAR in bound or name in bound:  # a star import may bind it: not certain
        return None
    return UndefinedName(name, path, frame[1], _python_definer(name, path, files))


def _python_definer(name: str, path: str, files: Mapping[str, bytes]) -> str | None:
    """Another Python file of the upload that defines ``name`` at its top level."""
    pattern = re.compile(rf"^(?:(?:async\s+)?def|class)\s+{name}\b|^{name}\s*(?::[^=]*)?=", re.M)
    for other in sorted(files):
        if (
            other != path
            and other.endswith(".py")
            and pattern.search(files[other].decode("utf-8", "replace"))
        ):
            return other
    return None


def _node(
    name: str, frame: tuple[str, int] | None, files: Mapping[str, bytes], root: str | None
) -> UndefinedName | None:
    path = _uploaded(frame, files, root)
    if path is None or frame is None or not _JS_SOURCE.search(path):
        return None
    if name in _RUNTIME_GLOBALS:
        return None
    source = files[path].decode("utf-8", "replace")
    if not _on_line(name, source, frame[1]):
        return None
    if _js_declares(name, source) and not _bound_elsewhere_only(name, source, frame[1]):
        return None
    assigned = re.compile(rf"\b(?:global|globalThis|window)\s*\.\s*{re.escape(name)}\s*=")
    if any(
        _JS_SOURCE.search(p) and assigned.search(files[p].decode("utf-8", "replace")) for p in files
    ):
        return None
    return UndefinedName(name, path, frame[1])


# A string literal (either quote, a template's whole text) or a comment: blanked where the
# code's braces and parentheses are read, its length kept.
_JS_NOT_CODE = re.compile(
    r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|`(?:[^`\\]|\\.)*`|//[^\n]*|/\*.*?\*/", re.S
)
# What before a parenthesised list says it binds nothing: a condition's, a loop's (its
# ``let`` a declaration, which rules the reading out before), an expression's.
_NOT_BINDING = re.compile(r"\b(?:if|while|switch|with|for|return|typeof|await)\s*$")


def _bound_elsewhere_only(name: str, source: str, line: int) -> bool:
    """Whether ``name``, which ``source`` binds only as a parameter or a ``catch``'s
    (no ``var``/``let``/``const``, ``function``, ``class`` nor ``import`` of it), is bound
    by none of the functions and ``catch`` blocks around ``line``, its braces read from its
    code with its strings and comments blanked: gulshank721's restaurentExpressServer calls
    ``next(err)`` in a ``(req, res) =>`` handler, ``next`` a parameter of its other
    routes' handlers; VierryFadhilah's tugasExpress sends ``err`` in a ``catch (error)``,
    ``err`` another's. False where the name is declared otherwise, the braces do not
    balance, or a list around the line (or an arrow's before it in its block) names it."""
    named = rf"(?<![\w$]){re.escape(name)}(?![\w$])"
    declared = (
        rf"\b(?:var|let|const)\s+{named}",
        rf"\b(?:var|let|const)\s*[{{\[][^;=]*?{named}[^;=]*?[}}\]]\s*=",
        rf"\b(?:function\s*\*?|class|enum|namespace)\s*{named}",
        rf"\bimport\b[^;]*{named}",
    )
    if any(re.search(pattern, source) for pattern in declared):
        return False
    code = _JS_NOT_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), source)
    lines = code.split("\n")
    if not 0 < line <= len(lines) or code.count("{") != code.count("}"):
        return False
    # (its last on the line: a use follows a list naming it, ``function (next) { next() }``)
    found = list(re.finditer(named, lines[line - 1]))
    if not found:
        return False
    at = sum(len(text) + 1 for text in lines[: line - 1]) + found[-1].start()
    opened: list[int] = []
    for index, char in enumerate(code[:at]):
        if char in "{(":
            opened.append(index)
        elif char in ")}" and opened:
            opened.pop()
    blocks = [index for index in opened if code[index] == "{"]
    for index in blocks:
        head = code[max(0, index - 2000) : index].rstrip()
        if head.endswith("=>"):
            before = head[:-2].rstrip()
            listed = _parameter_list(before)
            if listed is None:
                last = re.search(r"[\w$]+$", before)
                listed = last.group() if last else ""
        else:
            listed = _parameter_list(head)
            if listed is None or _NOT_BINDING.search(head[: len(head) - len(listed) - 2]):
                continue
        if re.search(named, listed):
            return False
    # An arrow with no braces before it in its block (``(req, res) => res.send(next)``).
    segment = code[blocks[-1] + 1 if blocks else 0 : at]
    for arrow in re.finditer(r"(\([^()]*\)|[\w$]+)\s*=>(?!\s*\{)", segment):
        if re.search(named, arrow.group(1)):
            return False
    return True


def _parameter_list(head: str) -> str | None:
    """The text of the parenthesised list ``head`` ends with (its parentheses matched back
    from the end), else None."""
    if not head.endswith(")"):
        return None
    depth = 0
    for index in range(len(head) - 1, -1, -1):
        if head[index] == ")":
            depth += 1
        elif head[index] == "(":
            depth -= 1
            if depth == 0:
                return head[index + 1 : -1]
    return None


def _js_declares(name: str, source: str) -> bool:
    """Whether ``source`` may declare ``name`` anywhere (a parameter list naming it counts:
    a reading of text, not a parse, so it errs towards "declares")."""
    word = re.escape(name)
    named = rf"(?<![\w$]){word}(?![\w$])"
    return any(
        re.search(pattern, source) is not None
        for pattern in (
            rf"\b(?:var|let|const)\s+{named}",
            rf"\b(?:var|let|const)\s*[{{\[][^;=]*?{named}[^;=]*?[}}\]]\s*=",
            rf"\b(?:function\s*\*?|class|enum|namespace)\s*{named}",
            rf"\bimport\s+(?:type\s+)?{named}",
            rf"\bimport\s*(?:type\s*)?(?:[\w$]+\s*,\s*)?\{{[^}}]*{named}[^}}]*\}}",
            rf"\bimport\s*\*\s*as\s+{named}",
            rf"\([^()]*{named}[^()]*\)\s*(?::[^=;{{]*)?(?:=>|\{{)",
            rf"{named}\s*=>",
            rf"\bcatch\s*\(\s*{named}",
        )
    )


_WORD = "is not defined"  # both errors' words: most batches need no other search
_READ_WORD = "of undefined"  # a property read of undefined's (unsent_input)
_NOT_FUNCTION = "is not a function"  # a method a value lacks (definer_called)
_TYPE_WORDS = (_READ_WORD, _NOT_FUNCTION)  # a TypeError's worth reading further
# A Python key a mapping lacks, a None used as a value (unsent_input), an attribute a
# class lacks (field_off_class).
_PY_WORDS = ("KeyError: ", "'NoneType'", "not None", "AttributeError: ")
# A view not rendered's (unrendered_view): Express's, Django's, Jinja2's.
_VIEW_WORDS = ("Failed to lookup view", _NO_ENGINE, "TemplateDoesNotExist", "TemplateNotFound")
_CONTEXT = 80  # lines kept from earlier batches: a traceback's frames above its error
_FRAMES_AFTER = 3  # Node's frames below its error line: wait for them if not yet printed
_MAX_SAID = 4
# Errors judged, each by its line and the frames about it: a route failing on every call
# prints the same traceback each time, read (its file parsed) once (a bound: then no more).
_MAX_JUDGED = 256


class CodeErrors:
    """See the module doc: :meth:`lines` sees the app's output; ``say`` publishes."""

    def __init__(
        self, spec: LaunchSpec, app_dir: str, say: Callable[[str, str], Awaitable[None]]
    ) -> None:
        self._spec = spec  # its files: the upload's, by path
        self._app_dir = app_dir  # where they are: its frames' paths begin with it
        self._say = say  # (level, message)
        self._earlier: deque[str] = deque(maxlen=_CONTEXT)
        self._waiting = 0  # lines at the end of _earlier whose Node frames may come next
        self._said: set[tuple[str, str]] = set()
        self._judged: set[tuple[str, ...]] = set()

    async def lines(self, texts: list[str]) -> None:
        if len(self._said) >= _MAX_SAID:
            return
        for text in texts:
            if any(word in text for word in _VIEW_WORDS):
                await self._view(text)
            if any(word in text for word in _MONGO_UNREACHED):
                await self._database_port()
            if _NOT_A_MODEL in text:
                await self._string_model()
        if not self._waiting and not any(
            _WORD in t or any(word in t for word in (*_PY_WORDS, *_TYPE_WORDS)) for t in texts
        ):
            self._earlier.extend(texts)
            return
        seen = [*self._earlier, *texts]
        begin = len(self._earlier) - self._waiting
        self._earlier.extend(texts)
        self._waiting = 0
        for index in range(max(begin, 0), len(seen)):
            node = "ReferenceError" in seen[index] or "TypeError" in seen[index]
            if (
                _WORD not in seen[index]
                and not any(word in seen[index] for word in _PY_WORDS)
                and not (node and any(word in seen[index] for word in _TYPE_WORDS))
            ):
                continue
            if node and len(seen) - index <= _FRAMES_AFTER:
                self._waiting = len(seen) - index  # its frames may be in the next batch
                break
            told = tuple(seen[max(index - _FRAMES_AFTER, 0) : index + _FRAMES_AFTER + 1])
            if told in self._judged or len(self._judged) >= _MAX_JUDGED:
                continue
            self._judged.add(told)
            files, root = self._spec.files, self._app_dir
            found = (
                undefined_name(seen, index, files, root)
                or unsent_input(seen, index, files, root)
                or definer_called(seen, index, files, root)
                or field_off_class(seen, index, files, root)
                or hosted_call_failed(seen, index, files, root)
                or request_as_response(seen, index, files, root)
            )
            if found is None:
                continue
            key = (found.path, found.call if isinstance(found, HostedCallFailed) else found.name)
            if key in self._said:
                continue
            self._said.add(key)
            await self._say("WARN", f"diagnosis: {found.said()}")
            if len(self._said) >= _MAX_SAID:
                return

    async def _database_port(self) -> None:
        """A MongoDB client that found no server, its URL's port the app's own PORT, said
        once (:func:`port_as_database_port`: the upload read once)."""
        if ("mongodb", "PORT") in self._judged or len(self._said) >= _MAX_SAID:
            return
        self._judged.add(("mongodb", "PORT"))
        found = port_as_database_port(self._spec.files)
        if found is not None:
            self._said.add((found.path, "PORT"))
            await self._say("WARN", f"diagnosis: {found.said()}")

    async def _string_model(self) -> None:
        """A Sequelize include given a model's name in quotes, said once
        (:func:`string_included_model`: the upload read once)."""
        if ("sequelize", "include") in self._judged or len(self._said) >= _MAX_SAID:
            return
        self._judged.add(("sequelize", "include"))
        found = string_included_model(self._spec.files)
        if found is not None:
            self._said.add((found.path, found.name))
            await self._say("WARN", f"diagnosis: {found.said()}")

    async def _view(self, text: str) -> None:
        """A view a route could not render, said once a view (:func:`unrendered_view`)."""
        told = (text.strip(),)  # (a route failing on every call prints the same line)
        if told in self._judged or len(self._judged) >= _MAX_JUDGED:
            return
        self._judged.add(told)
        found = unrendered_view(text, self._spec.files)
        if found is None:
            return
        key = ("view", found.view or "")
        if key in self._said or len(self._said) >= _MAX_SAID:
            return
        self._said.add(key)
        await self._say("WARN", f"diagnosis: {found.said()}")
