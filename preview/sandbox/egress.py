"""The one way out of a sandbox: an HTTP proxy that lets through only allowed hosts.

A sandbox's network namespace has a loopback device only. Where a sandboxed process may
reach the outside (a build, its package index; an app, the hosts ``PREVIEW_EGRESS``
names), its sandbox gets ``HTTP(S)_PROXY=http://127.0.0.1:<EGRESS_PORT>``: a forwarder
inside (socat) carries each connection to a Unix socket the service listens on
(:func:`serve_egress`), bound read-only into the sandbox so it cannot be replaced. The
service reads the request's head, and only for an allowed host does it connect:
``CONNECT host:port`` (HTTPS, anything tunnelled) or an absolute-form request
(``GET http://host/…``, plain HTTP), then relays bytes both ways.

Names are resolved here, never inside; an allowed name whose addresses are internal
(loopback, private, shared, link-local, any of this machine's own: the service itself,
databases, other previews, the cloud's metadata service; also written as IPv6 embedding
one) is refused unless the operator named it as trusted (a package mirror on the local
network). A name is looked up once for the tunnels that ask for it at once, its
addresses kept a minute, and a lookup that stalls is joined by another (:func:`resolve`).
Every refusal is reported to the preview's log,
once for each host and reason: clients retry (uv asked a refused index 6 to 31 times a
build), and the log said so each time.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import trio

__all__ = [
    "CONNECT_TIME",
    "EGRESS_PORT",
    "HEAD_LIMIT",
    "HEAD_TIME",
    "EgressPolicy",
    "Report",
    "embedded_ipv4",
    "is_internal",
    "own_addresses",
    "proxy_environment",
    "relay_both_ways",
    "resolve",
    "serve_egress",
    "serve_unix",
]

_log = logging.getLogger(__name__)

EGRESS_PORT = 65531  # inside the sandbox (its own network namespace); above any port pool
HEAD_LIMIT = 16 * 1024
HEAD_TIME = 10.0
_MAX_SAID = 256  # refusals remembered, each said once (a flood of hosts: said each time)
CONNECT_TIME = 10.0
_WEB_PORTS = (80, 443)  # what PREVIEW_EGRESS allows of a host it names, unless it names more
_UNRESOLVED = "unresolved"  # _public_address's answer for a name with no address
_IDLE_TIME = 300.0  # a tunnel with no byte either way for this long is closed
_MAX_TUNNELS = 64  # at once, per sandbox
_RESOLVERS = 4  # names resolved at once, per sandbox (_public_address)
_HEDGES = 3  # lookups of one name at most, each started when the ones before stall
_HEDGE_AFTER = 0.5  # seconds: a lookup from /etc/hosts or a near resolver takes a few ms
_REMEMBERED = 60.0  # seconds a name's addresses are reused by the sandbox's tunnels
_MAX_REMEMBERED = 256  # names, per sandbox
_CHUNK = 65536
# What an index named by URL implies: PyPI serves its files from another host.
_PYPI = ("pypi.org", "files.pythonhosted.org")
_NPM = ("registry.npmjs.org",)

Report = Callable[[str], Awaitable[None]]
Handler = Callable[[trio.SocketStream], Awaitable[None]]


@dataclass(frozen=True)
class EgressPolicy:
    """Which hosts a sandbox may reach through its proxy."""

    hosts: frozenset[str] = frozenset()  # exact names
    suffixes: tuple[str, ...] = ()  # ".example.com": its subdomains
    any_host: bool = False  # "*": any public host
    trusted: frozenset[str] = frozenset()  # names whose non-public addresses are fine
    # Ports past HTTP's and HTTPS's (80, 443), each for the name (or "*") it was given
    # with: "api.example.com:8443". An HTTP proxy's tunnel otherwise reaches a mail
    # server's port 25 as well as a web server's.
    ports: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def parse(cls, text: str) -> EgressPolicy:
        """``PREVIEW_EGRESS``: empty (nothing), ``*`` (any public host), or names and
        ``.suffix`` entries separated by commas; each may name a port beyond 80 and 443
        (``host:8443``, ``*:8443``)."""
        entries, ports = [], set()
        for entry in (e.strip().lower() for e in text.split(",") if e.strip()):
            name, colon, port = entry.rpartition(":")
            if colon and port.isdigit() and 0 < int(port) < 65536:
                ports.add((name, int(port)))
                entry = name
            entries.append(entry)
        if "*" in entries:
            return cls(any_host=True, ports=frozenset(ports))
        return cls(
            hosts=frozenset(e for e in entries if not e.startswith(".")),
            suffixes=tuple(e for e in entries if e.startswith(".")),
            ports=frozenset(ports),
        )

    @classmethod
    def for_builds(
        cls,
        index_url: str,
        find_links: str,
        also: tuple[str, ...] = (),
        prebuilt: EgressPolicy | None = None,
    ) -> EgressPolicy:
        """The package indexes a build may reach: the configured one (trusted: it may be
        a mirror on the local network), else PyPI; npm's registry; ``also`` (public
        hosts a build step needs: Prisma's engines); ``prebuilt``, the hosts of prebuilt
        binaries (``PREVIEW_BUILD_EGRESS``: a native module's install script fetches its
        binary there, else compiles it from source, minutes on a small machine)."""
        hosts = set(_NPM) | set(also)
        suffixes: tuple[str, ...] = ()
        trusted: set[str] = set()
        ports: set[tuple[str, int]] = set()
        if prebuilt is not None:
            hosts |= prebuilt.hosts
            suffixes = prebuilt.suffixes
            ports |= prebuilt.ports
        for url in (index_url, find_links):
            parts = urlsplit(url) if "://" in url else None
            host = parts.hostname if parts is not None else None
            if host:
                hosts.add(host.lower())
                trusted.add(host.lower())
                with contextlib.suppress(ValueError):  # a port past 65535: its own error
                    if parts is not None and parts.port is not None:
                        ports.add((host.lower(), parts.port))
        if not index_url:
            hosts.update(_PYPI)
        return cls(
            hosts=frozenset(hosts),
            suffixes=suffixes,
            any_host=prebuilt is not None and prebuilt.any_host,
            trusted=frozenset(trusted),
            ports=frozenset(ports),
        )

    @property
    def closed(self) -> bool:
        return not (self.any_host or self.hosts or self.suffixes)

    def allows(self, host: str, port: int | None = None) -> bool:
        """Whether ``host`` (and ``port``, when given) may be reached."""
        host = host.lower().rstrip(".")
        named = (
            self.any_host
            or host in self.hosts
            or any(host.endswith(suffix) for suffix in self.suffixes)
        )
        if not named or port is None or port in _WEB_PORTS:
            return named
        return (
            (host, port) in self.ports
            or ("*", port) in self.ports
            or any(
                (suffix, port) in self.ports for suffix in self.suffixes if host.endswith(suffix)
            )
        )

    def describe(self) -> str:
        if self.any_host:
            return "any public host"
        return ", ".join(sorted(self.hosts) + [f"*{s}" for s in self.suffixes]) or "none"


def proxy_environment(*, local_direct: bool = True) -> dict[str, str]:
    """What tells a sandboxed process's HTTP clients (Python's, uv, pip, npm) to go out
    through its proxy. ``local_direct``: its own loopback is not proxied (an app's calls
    to itself); a build has nothing local, and its index may be the host's."""
    url = f"http://127.0.0.1:{EGRESS_PORT}"
    local = "localhost,127.0.0.1,::1" if local_direct else ""
    return {
        "HTTP_PROXY": url,
        "HTTPS_PROXY": url,
        "http_proxy": url,
        "https_proxy": url,
        "ALL_PROXY": url,
        "all_proxy": url,
        "NO_PROXY": local,
        "no_proxy": local,
        "npm_config_proxy": url,
        "npm_config_https_proxy": url,
        "npm_config_noproxy": local,
    }


async def serve_egress(
    socket_path: Path,
    policy: EgressPolicy,
    report: Report,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on ``socket_path`` until cancelled; every connection is one proxied call
    or tunnel (at most ``_MAX_TUNNELS`` at once: the rest wait for a slot)."""
    said: set[str] = set()  # the refusals reported (module doc), up to _MAX_SAID
    lookups = _Lookups(trio.CapacityLimiter(_RESOLVERS))

    async def report_once(message: str) -> None:
        if message not in said:
            if len(said) < _MAX_SAID:
                said.add(message)
            await report(message)

    async def proxy(client: trio.SocketStream) -> None:
        head, rest = None, b""
        with trio.move_on_after(HEAD_TIME):
            head, rest = await _read_head(client)
        if head is not None:  # else too slow, too big or gone
            await _proxy(client, head, rest, policy, report_once, lookups)

    await serve_unix(socket_path, proxy, task_status)


async def serve_unix(
    socket_path: Path, handler: Handler, task_status: trio.TaskStatus[None]
) -> None:
    """Listen on ``socket_path`` (which the sandbox's uid may connect to) until
    cancelled, each connection handled by ``handler`` in a task of its own (at most
    ``_MAX_TUNNELS`` at once: the rest wait for a slot); one connection's failure ends
    that connection only."""
    listener = trio.socket.socket(trio.socket.AF_UNIX)
    try:
        await listener.bind(str(socket_path))
        os.chmod(socket_path, 0o666)  # the sandbox's uid connects; the dir is ours
        listener.listen(128)
        slots = trio.Semaphore(_MAX_TUNNELS)
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                await slots.acquire()
                try:
                    sock, _ = await listener.accept()
                except BaseException:
                    slots.release()
                    raise
                nursery.start_soon(_serve_one, trio.SocketStream(sock), handler, slots)
    finally:
        listener.close()


async def _serve_one(client: trio.SocketStream, handler: Handler, slots: trio.Semaphore) -> None:
    try:
        async with client:
            await handler(client)
    except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # one connection's failure ends that connection only
    except Exception:
        _log.exception("egress connection failed")
    finally:
        slots.release()


async def _read_head(client: trio.SocketStream) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > HEAD_LIMIT or not (chunk := await client.receive_some(_CHUNK)):
            return None, b""  # too big, or gone
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


async def _proxy(
    client: trio.SocketStream,
    head: bytes,
    rest: bytes,
    policy: EgressPolicy,
    report: Report,
    lookups: _Lookups,
) -> None:
    lines = head.split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3:
        await _refuse(client, 400, "not an HTTP proxy request")
        return
    method, target, version = parts
    if method == "CONNECT":
        host, _, port_text = target.rpartition(":")
        forward = b""
    else:
        url = urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            await _refuse(client, 400, "only CONNECT and absolute http:// requests")
            return
        host, port_text = url.hostname, str(url.port or 80)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        forward = b"\r\n".join([f"{method} {path} {version}".encode(), *lines[1:]]) + b"\r\n\r\n"
    host = host.strip("[]").lower()
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        await _refuse(client, 400, "bad target")
        return
    port = int(port_text)
    if not policy.allows(host):
        await report(f"egress refused: {host}:{port} (allowed: {policy.describe()})")
        await _refuse(client, 403, f"{host} is not allowed by PREVIEW_EGRESS")
        return
    if not policy.allows(host, port):
        await report(
            f"egress refused: {host}:{port} (ports 80 and 443 unless PREVIEW_EGRESS"
            f" names another, as {host}:{port})"
        )
        await _refuse(client, 403, f"port {port} of {host} is not allowed by PREVIEW_EGRESS")
        return
    address = await _public_address(host, port, host in policy.trusted, lookups)
    if address is None or address == _UNRESOLVED:
        why = "could not be resolved" if address == _UNRESOLVED else "has no public address"
        await report(f"egress refused: {host}:{port} {why}")
        await _refuse(client, 403 if address is None else 502, f"{host} {why}")
        return
    try:
        with trio.fail_after(CONNECT_TIME):
            upstream = await trio.open_tcp_stream(address, port)
    except (OSError, trio.TooSlowError):
        await _refuse(client, 502, f"could not connect to {host}:{port}")
        return
    async with upstream:
        if method == "CONNECT":
            await client.send_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            await upstream.send_all(forward)
        if rest:
            await upstream.send_all(rest)
        await relay_both_ways(client, upstream)


async def _public_address(host: str, port: int, trusted: bool, lookups: _Lookups) -> str | None:
    """The first address of ``host`` the sandbox may reach; None if it has none that is
    public, ``_UNRESOLVED`` if the name has no address (within ``CONNECT_TIME``), looked
    up by the sandbox's own threads (``lookups``): a name whose server never answers
    holds one for the resolver's timeout, and many filled trio's pool, the service's."""
    addresses = await lookups.addresses(host, port)
    if addresses is None:
        return _UNRESOLVED
    for address in addresses:
        if trusted or not is_internal(ipaddress.ip_address(address.split("%")[0])):
            return address
    return None


class _Lookups:
    """A sandbox's lookups of the names its tunnels ask for: one at a time for a name,
    however many tunnels ask at once (a build opens dozens to its index as it starts),
    and a name's addresses remembered for ``_REMEMBERED`` seconds (it asks the index for
    every file), looked up by the sandbox's own threads (``limiter``)."""

    def __init__(self, limiter: trio.CapacityLimiter) -> None:
        self._limiter = limiter
        self._known: dict[tuple[str, int], tuple[float, list[str]]] = {}  # oldest first
        self._asking: dict[tuple[str, int], trio.Event] = {}

    async def addresses(self, host: str, port: int) -> list[str] | None:
        """``host``'s addresses (:func:`resolve`), None when it has none."""
        key = (host, port)
        while (asking := self._asking.get(key)) is not None:
            await asking.wait()  # bounded: a lookup ends within CONNECT_TIME
        known = self._known.get(key)
        if known is not None and trio.current_time() - known[0] < _REMEMBERED:
            return known[1]
        self._asking[key] = asking = trio.Event()
        try:
            addresses = await resolve(host, port, CONNECT_TIME, self._limiter)
        finally:
            del self._asking[key]
            asking.set()
        if addresses is not None:
            self._known.pop(key, None)
            self._known[key] = (trio.current_time(), addresses)
            if len(self._known) > _MAX_REMEMBERED:  # PREVIEW_EGRESS=*: the app names them
                del self._known[next(iter(self._known))]
        return addresses


async def resolve(
    host: str, port: int, within: float, limiter: trio.CapacityLimiter | None = None
) -> list[str] | None:
    """``host``'s addresses for a TCP connection to ``port`` (an IPv6 one may carry its
    ``%scope``), looked up in threads (``limiter``'s: trio's own where None); None when
    the name has none within ``within`` seconds.

    A lookup with no answer after ``_HEDGE_AFTER`` seconds is joined by another (a few
    at most), and the first answer counts: glibc's resolver, asked at once from several
    threads, sometimes sent a name that ``/etc/hosts`` holds to the DNS server instead
    and waited its whole timeout (5 s, twice: pypi.org here, where every build's tunnels
    to the index paid it and some were refused at ``CONNECT_TIME``); the same name asked
    again answered at once."""
    found: list[str] | None = None
    lookup = partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)

    async def look_up(done: trio.CancelScope) -> None:
        nonlocal found
        try:
            infos = await trio.to_thread.run_sync(lookup, limiter=limiter, abandon_on_cancel=True)
        except (OSError, UnicodeError):
            done.cancel()  # an answer too: the name has no address
            return
        if found is None:
            found = [str(info[4][0]) for info in infos]
        done.cancel()

    with trio.move_on_after(within):
        async with trio.open_nursery() as nursery:
            for attempt in range(_HEDGES):
                nursery.start_soon(look_up, nursery.cancel_scope)
                await trio.sleep(_HEDGE_AFTER * (attempt + 1))
    return found


# -- which addresses are internal, whatever their spelling --------------------------
# An IPv6 address may carry an IPv4 one that a host, a NAT64 gateway or a tunnel turns
# back into IPv4 (``::ffff:127.0.0.1``, ``::127.0.0.1``, ``64:ff9b::7f00:1``,
# ``2002:7f00:1::``, ``::ffff:0:7f00:1``): such an address is as internal as the IPv4 it
# embeds. The standard library's views (``ipv4_mapped``, ``sixtofour``, ``teredo``) say
# where it sits for the forms they know; the rest are read from its last 32 bits.

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# What reaches this host or its own networks: loopback, private and shared (CGNAT)
# ranges, link-local (a cloud's metadata service), unspecified, multicast, reserved;
# in IPv6 also site-local (deprecated, still routed by some) and the local-use NAT64
# prefix (RFC 8215: a gateway of the operator's own, translating to anything).
_INTERNAL = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
]

# Prefixes whose last 32 bits are an IPv4 address that reaches the IPv4 network:
# IPv4-compatible (RFC 4291, deprecated; ``::`` and ``::1`` themselves are listed above),
# IPv4-translated (RFC 2765, SIIT) and NAT64's well-known prefix (RFC 6052).
_LOW_32_PREFIXES = [ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")]


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses ``address`` stands for (none for a plain IPv6 address).
    Teredo gives two (its server and the client's, both reached over IPv4)."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    if any(address in prefix for prefix in _LOW_32_PREFIXES):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def own_addresses() -> frozenset[str]:
    """This machine's interfaces' addresses: a public one reaches what listens on every
    address as loopback does (databases, the service). Read at each call (getifaddrs)."""
    import psutil  # (0.7 MiB: loaded by the first build's or preview's egress, not idle)

    nics, ip = psutil.net_if_addrs().values(), (socket.AF_INET, socket.AF_INET6)
    return frozenset(a.address.split("%")[0] for nic in nics for a in nic if a.family in ip)


def is_internal(address: IPAddress) -> bool:
    """True for an address of this host or its networks, however it is written."""
    if any(address in network for network in _INTERNAL) or str(address) in own_addresses():
        return True
    if isinstance(address, ipaddress.IPv6Address):
        return any(is_internal(ipv4) for ipv4 in embedded_ipv4(address))
    return False


async def relay_both_ways(a: trio.abc.Stream, b: trio.abc.Stream) -> None:
    """Bytes both ways until both ends are done (TLS's: either), or idle ``_IDLE_TIME``."""
    idle = trio.CancelScope(deadline=trio.current_time() + _IDLE_TIME)

    async def pump(source: trio.abc.Stream, to: trio.abc.Stream) -> None:
        try:
            while chunk := await source.receive_some(_CHUNK):
                idle.deadline = trio.current_time() + _IDLE_TIME
                await to.send_all(chunk)
            await to.send_eof() if isinstance(to, trio.abc.HalfCloseableStream) else idle.cancel()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            idle.cancel()

    with idle:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pump, a, b)
            nursery.start_soon(pump, b, a)


async def _refuse(client: trio.SocketStream, status: int, message: str) -> None:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    body = (message + "\n").encode()
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    await client.send_all(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
