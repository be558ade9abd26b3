"""An app that listens on another port than ``$PORT`` (3000, 5000, 8000 written in its
source), or on ``$PORT`` at IPv6's loopback alone: found and served anyway, :class:`AnyPort`.

A sandboxed app has a network namespace of its own, so any TCP socket listening there is
the app's (but the relays of its ways out, whose ports the service chose). While the
usual probe waits for ``$PORT``, the namespace's socket table (``/proc/<pid>/net/tcp``
of the sandbox's init, which the service, root, may read) is looked at; a port that
listens there while ``$PORT`` does not gets a second forwarder (socat, in that namespace
only: see ``Confinement.port_forwarder``), the upstream is pointed at it once the app
answers through it, and a ``system`` event says so. It needs the service to enter the
namespace (root, as for the in-namespace readiness probe); elsewhere, and for previews
run without a sandbox, only the usual probe runs, and a start that times out says which
port the app printed that it listens on (:func:`printed_port`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from typing import NamedTuple

import trio

from ..logs import failure_cause
from ..sandbox import ChildProcess, Confinement
from ..sandbox.child import start_child
from ..sandbox.netns import can_enter_netns, listening_ports, netns_child
from ..sandbox.process import terminate_group
from .readiness import answers_through_socket, wait_until_answering
from .upstream import Upstream

__all__ = ["AnyPort", "printed_port", "timeout_message"]

_LOOK_FIRST, _LOOK_SLOWEST = 0.01, 0.25  # how often the socket table is read
# How long another port must listen, $PORT staying closed, before it is taken: an app
# may open a side port (metrics, a debugger) a while before its HTTP one.
_SETTLED = 1.0
# How long $PORT may listen unanswered before a port the app printed is tried beside it:
# as long as the first request in the namespace may go unanswered before others follow.
_PORT_SILENT = 5.0
# How long after a settled port is served the port the app prints is still looked for.
_FOLLOW = 60.0
_SAYS_PORT = re.compile(
    r"(?i)(?:listen|running|started|serving|server|ready|http://|https://)"
    r"[^\n]*?(?:port\s*[:=]?\s*|:)(\d{2,5})\b(?!:\d)"
)
# A stack trace's frame (``at parserOnIncoming (node:_http_server:1139:12)``, Python's
# ``File "…", line 12``): its numbers are a line's and a column's, never a port
# (zivhsiao's koa2-demo was told to listen on $PORT "not 1139").
_FRAME = re.compile(r"^\s*(?:at\s|File\s\")")


_INSPECTOR = re.compile(r"(?i)debugger|inspector|\bwss?://")


class _OtherPort(NamedTuple):
    """A port the app listens on that the service may serve it from."""

    port: int
    address: str  # where it listens in the namespace: 127.0.0.1, 0.0.0.0, ::1, …
    settled: bool = False  # taken for having listened alone a while, not for being printed
    beside_expected: bool = False  # printed, while $PORT listened but never answered


def printed_port(lines: list[str], expected: int) -> tuple[int, str] | None:
    """A port the app said it listens on (``listening on :3000``, ``Uvicorn running on
    http://127.0.0.1:8000``) that is not ``expected``, with the line; the last such."""
    for line in reversed(lines):
        if _FRAME.match(line):
            continue
        for match in _SAYS_PORT.finditer(line):
            port = int(match.group(1))
            if port != expected and 0 < port < 65536:
                return port, line.strip()
    return None


def timeout_message(lines: list[str], port: int, timeout: float, *, listened: bool = False) -> str:
    """Why a start timed out, as far as the app's last ``lines`` tell: the port it said it
    listens on instead of ``port``, else the last error it printed; ``listened``: the app
    was seen listening on ``port`` (which then took connections and answered none)."""
    message = f"did not answer HTTP on port {port} within {timeout:g} s"
    if listened:
        message = f"listened on $PORT ({port}) but answered no request there within {timeout:g} s"
    printed = printed_port(lines, port)
    if printed is not None and listened:
        return f"{message}; it printed {printed[1]!r}, where nothing answered either"
    if printed is not None:  # it listens elsewhere, where the service did not find it
        return (
            f"{message}; it printed {printed[1]!r}: it should listen on $PORT ({port}), "
            f"not {printed[0]}"
        )
    error = failure_cause(lines)
    return f"{message}; the last error it printed: {error}" if error else message


class AnyPort:
    """One start's probe for an app on any port (see the module doc); :meth:`stop` ends
    the second forwarder, if one was started."""

    def __init__(
        self,
        confinement: Confinement | None,
        expected: int,
        say: Callable[[str, str], Awaitable[None]],
        printed: Callable[[], list[str]] = list,
    ) -> None:
        self._confinement = confinement
        self._expected = expected
        self._say = say
        self._printed = printed  # the app's last lines of output
        # One scope per task it leaves in the caller's nursery (each forwarder, the watch
        # for a port printed later), all cancelled by :meth:`stop`.
        self._scopes: list[trio.CancelScope] = []
        self._stopped = False
        self.port: int | None = None  # the port it is served from, once found
        self.expected_listened = False  # whether $PORT was seen listening in its namespace
        self._sandbox_pid = 0  # the sandbox's init, whose namespace is looked at

    @property
    def usable(self) -> bool:
        confinement = self._confinement
        return confinement is not None and confinement.socket_dir is not None and can_enter_netns()

    def stop(self) -> None:
        self._stopped = True
        for scope in self._scopes:
            scope.cancel()

    async def wait_answering(
        self, process: ChildProcess, upstream: Upstream, path: str | None, nursery: trio.Nursery
    ) -> bool:
        """Like :func:`wait_until_answering`, with the app's other port looked for
        beside it; ``nursery`` keeps the second forwarder (until :meth:`stop`)."""
        if not self.usable:
            return await wait_until_answering(process, upstream, path)
        result: list[bool] = []
        async with trio.open_nursery() as race:

            async def usual() -> None:
                result.append(await wait_until_answering(process, upstream, path))
                race.cancel_scope.cancel()

            async def other() -> None:
                found = await self._other_port(process)
                if found is None:
                    return  # the process ended: the usual probe says so
                probe = path or "/"
                answered = await self._serve(
                    (found.port, found.address), process, upstream, probe, nursery
                )
                if not answered and found.beside_expected:
                    return  # $PORT may answer yet: the usual probe goes on
                result.append(answered)
                if answered and found.settled:  # a port the app prints later may be its own
                    nursery.start_soon(self._follow_printed, process, upstream, probe, nursery)
                race.cancel_scope.cancel()

            race.start_soon(usual)
            race.start_soon(other)
        return bool(result and result[0])

    async def _other_port(self, process: ChildProcess) -> _OtherPort | None:
        """The port the app listens on instead of $PORT (or beside a $PORT that answers
        nothing), its address, and whether it was taken for having settled (rather than
        printed or $PORT at ::1); None where the process ended. Where $PORT answers, the
        usual probe's answer ends the race this looks in."""
        confinement = self._confinement
        assert confinement is not None
        relays = confinement.outbound.ports
        sandbox_pid, seen, since = None, None, 0.0
        expected_since: float | None = None  # when $PORT was first seen listening
        delay = _LOOK_FIRST
        while process.poll() is None:
            await trio.sleep(delay)
            delay = min(_LOOK_SLOWEST, delay * 1.5)
            if sandbox_pid is None:
                sandbox_pid = netns_child(process.pid)
                if sandbox_pid is None:
                    continue
            ports = listening_ports(sandbox_pid)
            if ports.get(self._expected) == "::1":
                # $PORT bound to IPv6's loopback alone, which the first forwarder (to
                # 127.0.0.1) never reaches: Fastify 3's listen(port) binds "localhost"'s
                # first address, ::1 on Node 17 and later (Machulsky's
                # nodejs-fastify-postgres-api). Served from there, at once.
                self._sandbox_pid = sandbox_pid
                return _OtherPort(self._expected, "::1")
            others = {p: a for p, a in ports.items() if p not in relays}
            if self._expected in ports:
                # $PORT listens, and the usual probe answers, unless what listens there
                # never does: EastRiseJ's koa2-base-server handed http.createServer its
                # Koa app (an object, not a request handler), whose $PORT took every
                # connection and answered none, while its server.js printed "server
                # start at localhost:2333" and served there. The printed port is tried
                # once $PORT has been silent a while; the usual probe goes on beside it.
                now = trio.current_time()
                expected_since = now if expected_since is None else expected_since
                self.expected_listened = True
                if now - expected_since < _PORT_SILENT:
                    continue  # (its output read only once $PORT has been silent a while)
                if (said := self._printed_among(others)) is not None:
                    self._sandbox_pid = sandbox_pid
                    return _OtherPort(said, others[said], beside_expected=True)
                continue
            if not others:
                seen = None
                continue
            # The port the app says it is ready on, where it listens, over a side port
            # its runtime opened first or on a lower number: wrangler dev's workerd
            # answers every path with 404 on one of its own (6284) while wrangler prints
            # "Ready on http://localhost:8787" (prasanna89654's hono-lucia-auth, served
            # from 6284: all its routes 404).
            if (said := self._printed_among(others)) is not None:
                self._sandbox_pid = sandbox_pid
                return _OtherPort(said, others[said])
            port = min(others)
            if seen != port:
                seen, since = port, trio.current_time()
            elif trio.current_time() - since >= _SETTLED:
                self._sandbox_pid = sandbox_pid
                return _OtherPort(port, others[port], settled=True)
        return None

    def _printed_among(self, listening: dict[int, str]) -> int | None:
        """The port the app last printed it listens on, where it is among ``listening``
        (not its runtime's inspector: "Debugger listening on ws://127.0.0.1:9229/…")."""
        said = printed_port(self._printed(), self._expected)
        if said is None or said[0] not in listening or _INSPECTOR.search(said[1]):
            return None
        return said[0]

    async def _follow_printed(
        self, process: ChildProcess, upstream: Upstream, path: str, nursery: trio.Nursery
    ) -> None:
        """After a port taken for having settled, the port the app then says it is ready
        on, where it listens, served instead: under load ``wrangler dev``'s workerd held
        its side port (6284) alone past :data:`_SETTLED` and wrangler printed "Ready on
        http://localhost:8787" after it (gravit09's basic-hono-app: all its routes 404).
        Looked for during :data:`_FOLLOW` only, and once."""
        scope = trio.CancelScope(deadline=trio.current_time() + _FOLLOW)
        self._scopes.append(scope)
        if self._stopped:
            return
        with scope:
            while process.poll() is None:
                await trio.sleep(_LOOK_SLOWEST)
                said = printed_port(self._printed(), self._expected)
                if said is None or said[0] == self.port or _INSPECTOR.search(said[1]):
                    continue
                ports = listening_ports(self._sandbox_pid)
                if said[0] in ports:
                    await self._serve((said[0], ports[said[0]]), process, upstream, path, nursery)
                    return

    async def _serve(
        self,
        found: tuple[int, str],
        process: ChildProcess,
        upstream: Upstream,
        path: str,
        nursery: trio.Nursery,
    ) -> bool:
        port, address = found
        confinement = self._confinement
        assert confinement is not None
        argv, socket = confinement.port_forwarder(self._sandbox_pid, port, address)
        await nursery.start(self._forward, argv)
        probe = Upstream(upstream.port, str(socket))
        try:
            answered = await answers_through_socket(process, probe, path)
        finally:
            await probe.aclose()
        if answered:
            await upstream.retarget(str(socket))
            self.port = port
            said = f"the app listens on {port}, not $PORT={self._expected}: serving it from {port}"
            if port == self._expected:
                said = f"the app listens on $PORT={port} at IPv6's loopback alone: served there"
            await self._say("WARN", said)
        return answered

    async def _forward(self, argv: list[str], task_status: trio.TaskStatus[None]) -> None:
        scope = trio.CancelScope()
        self._scopes.append(scope)
        if self._stopped:  # stopped before it began
            task_status.started()
            return
        # Forked by this thread (start_child), as previews are: its parent-death signal
        # (setpriv --pdeathsig) is the forking thread's, and forked by one of trio's
        # worker threads (trio.lowlevel.open_process) it was killed when that thread
        # retired, ten idle seconds later, the app still running: "nothing listens on
        # its port" from then on (misterioss's vercel-fastify-deploy, on 3000).
        forwarder = start_child(argv, cwd="/", env={"PATH": os.environ.get("PATH", os.defpath)})
        task_status.started()
        try:
            with scope:
                async with trio.open_nursery() as drains:
                    drains.start_soon(_discard, forwarder.stdout)
                    drains.start_soon(_discard, forwarder.stderr)
                    await forwarder.wait()
                    drains.cancel_scope.cancel()
        finally:
            # Its group too: the forks holding connections the app never answered.
            with trio.CancelScope(shield=True), trio.move_on_after(5):
                await terminate_group(forwarder, grace=0)
            forwarder.stdout.close()
            forwarder.stderr.close()
            forwarder.close()


async def _discard(stream: trio.lowlevel.FdStream) -> None:
    """A forwarder's output (socat says nothing but its errors), read so that it never
    blocks on a full pipe."""
    while await stream.receive_some(4096):
        pass
