"""The preloads a Node app is started with where it expects what a deployment put around
it: a process manager it tells it is ready (:func:`tells_manager`, read, never run, and
:data:`MANAGER_READY_PRELOAD`), and the HTTPS a platform or proxy terminates in front of it,
which it serves itself (:func:`serves_https` and :data:`PLAIN_HTTP_PRELOAD`).

pm2's ``wait_ready`` (an ecosystem file's ``"wait_ready": true``) waits for the app's
``process.send("ready")`` before it counts it as up; the app's author ran it under pm2 (or
a cluster's or a parent's ``fork``), where the process has an IPC channel. Run on its own,
as a preview runs it, ``process.send`` is undefined and the call throws where the app has
just started listening (fadedDexofan's koa-typeorm-starter: ``process.send!("ready")`` in
its ``listen`` callback, "TypeError: process.send is not a function"). Such an app is
started with a preload that gives a process without IPC a ``process.send`` that delivers
nothing, as a manager that ignores the message would; an app that checks for the channel
first (``if (process.send)``, ``process.send?.(…)``, ``typeof process.send``) needs none
and gets none.

An app that makes its own HTTPS server (``https.createServer({key, cert}, app)
.listen(PORT)``, its certificate committed beside it) answers nothing a preview's proxy or
its readiness probe asks in plain HTTP (whejhe's Proyecto-Express: "did not answer HTTP on
port … within 30 s"); the preview gives its user HTTPS itself. Such an app is started with a
preload making ``https.createServer`` the plain ``http.createServer`` of the same handler;
likewise ``http2.createSecureServer({allowHTTP1: true, …}, app.callback())``, in a script
with no extension its start runs (``node ./bin/start``, a ``#!`` line naming node:
fnalabs's starter-koa2-js), whose handler takes HTTP/1's requests as well.

An Express or Koa app handed to serverless-http (an AWS Lambda handler) is served by its
start with a stand-in for it (``apps.node.fallbacks``: the Lambda runtime around it).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..node.fallbacks import SERVERLESS_HTTP_NAME, SERVERLESS_HTTP_PRELOAD, lists_serverless_http

__all__ = [
    "MANAGER_READY_NAME",
    "MANAGER_READY_PRELOAD",
    "NODE_PRELOADS",
    "PLAIN_HTTP_NAME",
    "PLAIN_HTTP_PRELOAD",
    "serves_https",
    "tells_manager",
]

# Written into the app's directory (its sandbox sees it) and required through NODE_OPTIONS.
MANAGER_READY_NAME = ".preview-manager-ready.cjs"
MANAGER_READY_PRELOAD = """\
// The preview's: no process manager holds this process, so its "ready" goes nowhere.
if (typeof process.send !== "function") {
  process.send = function send(...args) {
    const done = args.find((arg) => typeof arg === "function");
    if (done) process.nextTick(done, null);
    return true;
  };
}
"""
PLAIN_HTTP_NAME = ".preview-plain-http.cjs"
PLAIN_HTTP_PRELOAD = """\
// The preview's: its proxy speaks plain HTTP to the app, and gives its user HTTPS itself.
const http = require("http");
const https = require("https");
https.createServer = function createServer(options, listener) {
  return http.createServer(typeof options === "function" ? options : listener);
};
const http2 = require("http2");
http2.createSecureServer = function createSecureServer(options, listener) {
  return http.createServer(typeof options === "function" ? options : listener);
};
require("module").syncBuiltinESMExports(); // (import { createServer } from "https")
"""
_CALL = re.compile(rb"\bprocess\.send\s*!?\s*\(")
_GUARD = re.compile(
    rb"\bprocess\.send\s*(?:&&|\?\.|\)|!==?\s*undefined|===?\s*undefined)"
    rb"|typeof\s+process\.send\b|if\s*\(\s*!?\s*process\.send\b"
)
_SOURCE = (".js", ".cjs", ".mjs", ".ts", ".cts", ".mts")
_NOT_THE_APP = re.compile(
    rb"(?:^|/)(?:node_modules|tests?|__tests__|dist|build)/|\.(?:spec|test)\."
)


def tells_manager(files: dict[str, bytes]) -> bool:
    """Whether a source file of the upload's own (not a dependency's, a test's or a build's
    output) calls ``process.send`` with no check that there is a channel."""
    return any(
        _CALL.search(data) and not _GUARD.search(data)
        for path, data in files.items()
        if path.endswith(_SOURCE) and not _NOT_THE_APP.search(path.encode()) and len(data) < 1 << 20
    )


_HTTPS_SERVER = re.compile(rb"\bhttps\.createServer\s*\(|\bcreateSecureServer\s*\(")
_HTTPS_IMPORT = re.compile(
    rb"""\bimport\s*\{[^}]*\bcreateServer\b[^}]*\}\s*from\s*["'](?:node:)?https["']"""
)


def serves_https(files: dict[str, bytes]) -> bool:
    """Whether a source file of the upload's own (or a script of it with no extension
    that node runs, by its ``#!`` line) makes an HTTPS server (module doc)."""
    return any(
        _HTTPS_SERVER.search(data) or _HTTPS_IMPORT.search(data)
        for path, data in files.items()
        if (path.endswith(_SOURCE) or _NODE_SCRIPT.match(data))
        and not _NOT_THE_APP.search(path.encode())
        and len(data) < 1 << 20
    )


_NODE_SCRIPT = re.compile(rb"#![^\n]*\bnode\b")  # ``#! /usr/bin/env node``


# Each preload: (whether the upload needs it, its file's name in the app's directory, its text).
NODE_PRELOADS: tuple[tuple[Callable[[dict[str, bytes]], bool], str, str], ...] = (
    (tells_manager, MANAGER_READY_NAME, MANAGER_READY_PRELOAD),
    (serves_https, PLAIN_HTTP_NAME, PLAIN_HTTP_PRELOAD),
    # An AWS Lambda handler's serverless-http, where the start serves the handler's app
    (lists_serverless_http, SERVERLESS_HTTP_NAME, SERVERLESS_HTTP_PRELOAD),
)
