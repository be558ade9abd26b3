"""A Node app that tells a process manager it is ready: :func:`tells_manager` (read, never
run) and :data:`MANAGER_READY_PRELOAD`.

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
"""

from __future__ import annotations

import re

__all__ = ["MANAGER_READY_NAME", "MANAGER_READY_PRELOAD", "tells_manager"]

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
