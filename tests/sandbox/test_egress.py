"""The egress proxy (runtime.egress) on real sockets, and PREVIEW_EGRESS from inside a
real preview and a set-up step."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import threading
from functools import partial
from pathlib import Path
from typing import Any

import psutil
import pytest
import trio

from preview import Settings
from preview.sandbox import egress
from preview.sandbox.egress import EgressPolicy, is_internal, serve_egress

from ..conftest import SERVER_COMMAND, Service, eventually, server_app
from .test_sandbox import PROBE_APP, require_sandbox


async def _echo_server(nursery: trio.Nursery) -> int:
    """A TCP server on the host's loopback: answers any request with what it got."""
    listeners = await nursery.start(partial(trio.serve_tcp, _echo, 0, host="127.0.0.1"))
    return listeners[0].socket.getsockname()[1]


async def _echo(stream: trio.SocketStream) -> None:
    async with stream:
        data = await stream.receive_some(4096)
        await stream.send_all(b"HTTP/1.0 200 OK\r\n\r\nechoed:" + data)


async def _through(socket_path: Path, head: bytes) -> bytes:
    stream = await trio.open_unix_socket(str(socket_path))
    async with stream:
        await stream.send_all(head)
        received = b""
        while chunk := await stream.receive_some(4096):
            received += chunk
            if head.startswith(b"CONNECT") and received.endswith(b"\r\n\r\n"):
                await stream.send_all(b"hello")
                head = b""
        return received


async def test_the_proxy_lets_through_only_allowed_hosts(tmp_path: Path) -> None:
    refused: list[str] = []

    async def report(message: str) -> None:
        refused.append(message)

    socket_path = tmp_path / "proxy.sock"
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _echo_server(nursery)
            # "localhost" allowed but not trusted: its addresses are internal, never
            # reached; the echo server's port named (past 80 and 443, none is allowed).
            policy = EgressPolicy(
                hosts=frozenset({"127.0.0.1", "localhost", "nowhere.invalid"}),
                trusted=frozenset({"127.0.0.1"}),
                ports=frozenset({("127.0.0.1", port), ("localhost", port)}),
            )
            await nursery.start(serve_egress, socket_path, policy, report)

            tunnel = await _through(
                socket_path, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode()
            )
            assert tunnel.startswith(b"HTTP/1.1 200 Connection established\r\n\r\n")
            assert tunnel.endswith(b"echoed:hello")

            plain = await _through(
                socket_path,
                f"GET http://127.0.0.1:{port}/simple/?q=1 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
            )
            assert b"echoed:GET /simple/?q=1 HTTP/1.1\r\nHost: x\r\n\r\n" in plain

            other = await _through(socket_path, b"CONNECT example.com:443 HTTP/1.1\r\n\r\n")
            assert other.startswith(b"HTTP/1.1 403 ")
            again = await _through(socket_path, b"CONNECT example.com:443 HTTP/1.1\r\n\r\n")
            assert again.startswith(b"HTTP/1.1 403 ")  # refused again, not said again
            internal = await _through(
                socket_path, f"CONNECT localhost:{port} HTTP/1.1\r\n\r\n".encode()
            )
            assert internal.startswith(b"HTTP/1.1 403 ")
            # Another port of an allowed host: a mail server's, say.
            mail = await _through(socket_path, b"CONNECT 127.0.0.1:25 HTTP/1.1\r\n\r\n")
            assert mail.startswith(b"HTTP/1.1 403 "), mail
            nowhere = await _through(socket_path, b"CONNECT nowhere.invalid:443 HTTP/1.1\r\n\r\n")
            assert nowhere.startswith(b"HTTP/1.1 502 "), nowhere
            assert (await _through(socket_path, b"nonsense\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
            assert (await _through(socket_path, b"GET /relative HTTP/1.1\r\n\r\n")).startswith(
                b"HTTP/1.1 400 "
            )
            nursery.cancel_scope.cancel()
    assert refused[0].startswith("egress refused: example.com:443")
    assert refused[1] == f"egress refused: localhost:{port} has no public address"
    assert refused[2].startswith("egress refused: 127.0.0.1:25 (ports 80 and 443 unless")
    assert refused[3] == "egress refused: nowhere.invalid:443 could not be resolved"
    assert len(refused) == 4  # each refusal once: clients retry


async def test_a_client_silent_past_the_head_time_is_dropped_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that connects and says nothing is hung up on once the head's time is
    out, with nothing in the service's log (it once logged an UnboundLocalError)."""
    monkeypatch.setattr(egress, "HEAD_TIME", 0.2)

    async def report(message: str) -> None:
        raise AssertionError(message)

    socket_path = tmp_path / "proxy.sock"
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_egress, socket_path, EgressPolicy(any_host=True), report)
            silent = await trio.open_unix_socket(str(socket_path))
            async with silent:
                assert await silent.receive_some(4096) == b""  # hung up on
            nursery.cancel_scope.cancel()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_machines_own_addresses_are_refused_like_loopback(tmp_path: Path) -> None:
    """A server listening on every address is reached through any address of the
    machine's, a public one (this machine's 192.0.2.2) as well as 127.0.0.1: with
    ``PREVIEW_EGRESS=*`` a preview reached the host's own services through it."""
    own = sorted(
        a.address
        for nic in psutil.net_if_addrs().values()
        for a in nic
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    )
    if not own:
        pytest.skip("this machine has no address but loopback")
    refused: list[str] = []

    async def report(message: str) -> None:
        refused.append(message)

    socket_path = tmp_path / "proxy.sock"
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(partial(trio.serve_tcp, _echo, 0, host=own[0]))
            port = listeners[0].socket.getsockname()[1]
            policy = EgressPolicy(any_host=True, ports=frozenset({("*", port)}))
            await nursery.start(serve_egress, socket_path, policy, report)
            answer = await _through(
                socket_path, f"CONNECT {own[0]}:{port} HTTP/1.1\r\n\r\n".encode()
            )
            mapped = await _through(
                socket_path, f"CONNECT [::ffff:{own[0]}]:{port} HTTP/1.1\r\n\r\n".encode()
            )
            nursery.cancel_scope.cancel()
    assert answer.startswith(b"HTTP/1.1 403 ") and mapped.startswith(b"HTTP/1.1 403 "), answer
    assert refused == [
        f"egress refused: {own[0]}:{port} has no public address",
        f"egress refused: ::ffff:{own[0]}:{port} has no public address",
    ]


async def test_names_that_never_resolve_hold_the_sandboxs_threads_not_the_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PREVIEW_EGRESS=*, the app names the hosts, and its own DNS server can leave
    a lookup unanswered for the resolver's whole timeout. Its tunnels' lookups took
    trio's shared threads, the service's (its launches, its files): 64 tunnels to such
    names held all 40, and everything else of the service's waited."""
    entered: list[str] = []
    release = threading.Event()
    real = socket.getaddrinfo

    def resolver(host: str, *args: Any, **kwargs: Any) -> Any:
        if not host.endswith(".slow.test"):
            return real(host, *args, **kwargs)
        entered.append(host)
        release.wait(10)  # the nameserver that never answers (set free at the end)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    async def report(message: str) -> None:
        pass

    socket_path = tmp_path / "proxy.sock"
    shared = trio.to_thread.current_default_thread_limiter()
    try:
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                await nursery.start(serve_egress, socket_path, EgressPolicy(any_host=True), report)
                held = []
                for n in range(64):
                    stream = await trio.open_unix_socket(str(socket_path))
                    await stream.send_all(f"CONNECT h{n}.slow.test:443 HTTP/1.1\r\n\r\n".encode())
                    held.append(stream)
                await eventually(lambda: len(entered) >= 4)
                with trio.fail_after(2):  # the service's own thread work is not held up
                    assert await trio.to_thread.run_sync(lambda: "done") == "done"
                assert shared.borrowed_tokens == 0
                nursery.cancel_scope.cancel()
    finally:
        release.set()
    assert len(entered) == 4  # the sandbox's own, the other lookups waiting for them


async def test_a_lookup_that_stalls_is_answered_by_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """glibc's resolver, asked from several threads at once, sometimes sent pypi.org
    (which /etc/hosts names) to the DNS server and waited 5 s, twice; asked again, it
    answered at once. The first lookup here never answers until the test ends: the name
    is still resolved, by the lookup started after it."""
    release = threading.Event()
    calls: list[str] = []

    def resolver(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        calls.append(host)
        if len(calls) == 1:
            release.wait(20)  # the stalled one
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.7", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    try:
        with trio.fail_after(15):
            addresses = await egress.resolve("index.test", 443, 30.0)
        assert addresses == ["192.0.2.7"] and not release.is_set()
        assert len(calls) == 2
    finally:
        release.set()


async def test_a_name_many_tunnels_ask_for_at_once_is_looked_up_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build opens dozens of tunnels to its index as it starts and one for every file:
    the name is looked up once for them all, and remembered."""
    calls: list[str] = []
    real = socket.getaddrinfo

    def resolver(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "index.test":
            calls.append(host)
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    async def report(message: str) -> None:
        raise AssertionError(message)

    socket_path = tmp_path / "proxy.sock"
    answers: list[bytes] = []
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            port = await _echo_server(nursery)
            policy = EgressPolicy(
                hosts=frozenset({"index.test"}),
                trusted=frozenset({"index.test"}),  # its address is this machine's loopback
                ports=frozenset({("index.test", port)}),
            )
            await nursery.start(serve_egress, socket_path, policy, report)
            head = f"CONNECT index.test:{port} HTTP/1.1\r\n\r\n".encode()

            async def tunnel() -> None:
                answers.append(await _through(socket_path, head))

            async with trio.open_nursery() as tunnels:
                for _ in range(20):
                    tunnels.start_soon(tunnel)
            answers.append(await _through(socket_path, head))  # later: remembered
            nursery.cancel_scope.cancel()
    assert len(answers) == 21 and all(a.endswith(b"echoed:hello") for a in answers)
    assert 1 <= len(calls) <= egress._HEDGES  # one lookup's hedges at most, not 21


# Loopback as IPv6 that embeds it: IPv4-compatible, NAT64, 6to4, IPv4-translated, mapped.
EMBEDDED_LOOPBACK = [
    "::127.0.0.1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::",
    "::ffff:0:7f00:1",
    "::ffff:127.0.0.1",
]


async def test_ipv6_spellings_of_internal_addresses_are_refused(tmp_path: Path) -> None:
    refused: list[str] = []

    async def report(message: str) -> None:
        refused.append(message)

    socket_path = tmp_path / "proxy.sock"
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_egress, socket_path, EgressPolicy(any_host=True), report)
            for address in EMBEDDED_LOOPBACK:
                answer = await _through(
                    socket_path, f"CONNECT [{address}]:80 HTTP/1.1\r\n\r\n".encode()
                )
                assert answer.startswith(b"HTTP/1.1 403 "), (address, answer)
            nursery.cancel_scope.cancel()
    assert refused == [
        f"egress refused: {address}:80 has no public address" for address in EMBEDDED_LOOPBACK
    ]


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        *((address, True) for address in EMBEDDED_LOOPBACK),
        ("64:ff9b::a9fe:a9fe", True),  # the metadata service through NAT64
        ("::ffff:0:a00:1", True),  # 10.0.0.1, translated
        ("2002:c0a8:101::1", True),  # 192.168.1.1, 6to4
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", True),  # Teredo, client 127.0.0.1
        ("64:ff9b:1::1", True),  # local-use NAT64: the operator's own gateway
        ("fec0::1", True),
        ("64:ff9b::808:808", False),  # 8.8.8.8 through NAT64: public
        ("2002:808:808::", False),
        ("::ffff:8.8.8.8", False),
        ("2001:4860:4860::8888", False),
        ("8.8.8.8", False),
        ("127.0.0.2", True),
        ("::1", True),
        ("::", True),
    ],
)
def test_an_address_is_classified_by_the_ipv4_it_embeds(address: str, internal: bool) -> None:
    assert is_internal(ipaddress.ip_address(address)) is internal


@pytest.mark.parametrize(
    ("text", "host", "allowed"),
    [
        ("", "pypi.org", False),
        ("*", "anything.example", True),
        ("pypi.org, .github.com", "pypi.org", True),
        ("pypi.org, .github.com", "api.github.com", True),
        ("pypi.org, .github.com", "github.com.evil.test", False),
        ("pypi.org", "files.pythonhosted.org", False),
    ],
)
def test_policy_parsing(text: str, host: str, allowed: bool) -> None:
    assert EgressPolicy.parse(text).allows(host) is allowed


@pytest.mark.parametrize(
    ("text", "host", "port", "allowed"),
    [
        ("*", "mail.example", 25, False),  # an HTTP proxy's tunnel: web ports only
        ("*", "mail.example", 443, True),
        ("*:25", "mail.example", 25, True),
        ("api.example.com:8443", "api.example.com", 8443, True),
        ("api.example.com:8443", "api.example.com", 443, True),
        ("api.example.com:8443", "other.example.com", 8443, False),
        (".example.com:5000", "a.example.com", 5000, True),
        (".example.com", "a.example.com", 5000, False),
    ],
)
def test_ports_past_80_and_443_are_named(text: str, host: str, port: int, allowed: bool) -> None:
    assert EgressPolicy.parse(text).allows(host, port) is allowed


def test_builds_reach_the_configured_index_or_pypi_and_npm() -> None:
    default = EgressPolicy.for_builds("", "")
    assert default.allows("files.pythonhosted.org") and default.allows("registry.npmjs.org")
    mirror = EgressPolicy.for_builds("http://10.0.0.5:3141/root/pypi/+simple/", "")
    assert mirror.allows("10.0.0.5", 3141) and "10.0.0.5" in mirror.trusted
    assert not mirror.allows("pypi.org")


def test_builds_reach_the_hosts_of_prebuilt_binaries_and_the_app_does_not() -> None:
    """A native module's install script fetches its prebuilt binary from GitHub's release
    downloads (refused, sqlite3 compiled from source for minutes: issue 68); the build's
    install steps may reach those hosts (PREVIEW_BUILD_EGRESS), the app's run does not."""
    settings = Settings()
    prebuilt = EgressPolicy.parse(settings.build_egress)
    builds = EgressPolicy.for_builds("", "", prebuilt=prebuilt)
    for host in ("github.com", "objects.githubusercontent.com", "nodejs.org", "pypi.org"):
        assert builds.allows(host, 443), host
    # bin-wrapper's binaries (imagemin-gifsicle's, Xilin05's express-upload: "tunneling
    # socket could not be established, statusCode=403", then a compile with no autoreconf)
    assert builds.allows("raw.githubusercontent.com", 443)
    assert not builds.allows("example.com") and not builds.allows("github.com", 22)
    assert not EgressPolicy.parse(settings.egress).allows("github.com")  # the app's run
    narrowed = EgressPolicy.for_builds("", "", prebuilt=EgressPolicy.parse(""))
    assert not narrowed.allows("github.com") and narrowed.allows("registry.npmjs.org")
    suffixed = EgressPolicy.for_builds("", "", prebuilt=EgressPolicy.parse(".mirror.example"))
    assert suffixed.allows("bin.mirror.example") and not suffixed.allows("mirror.example.org")


EGRESS_APP = (
    PROBE_APP
    + """
import urllib.request

def fetch(url):
    with urllib.request.urlopen(url, timeout=20) as answer:  # honours HTTPS_PROXY
        return answer.status

class Egress(Probe):
    def do_GET(self):
        if self.path == "/egress":
            found = {
                "allowed": attempt(lambda: fetch("https://pypi.org/simple/six/")),
                "other": attempt(lambda: fetch("https://example.com/")),
                "postgres": attempt(lambda: connect(5432)),
                "proxy_set": os.environ.get("HTTPS_PROXY", ""),
            }
            body = json.dumps(found).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
        else:
            super().do_GET()
Handler = Egress
"""
)


async def test_preview_egress_opens_only_the_named_hosts(
    service: Service, settings: Settings
) -> None:
    require_sandbox(service)
    object.__setattr__(settings, "egress", "pypi.org")
    with trio.fail_after(90):
        gid = await service.upload(server_app(before_serving=EGRESS_APP))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body.get("errorMessage")
        found: dict[str, Any] = (await service.app_get(body, "/egress")).json()
        assert found["proxy_set"].startswith("http://127.0.0.1:")
        assert found["allowed"] == {"ok": True, "result": "200"}, found
        assert found["other"]["ok"] is False
        assert found["postgres"]["ok"] is False
        messages = [e["message"] for e in await service.history(gid)]
        assert any(m.startswith("egress refused: example.com:443") for m in messages)


async def test_without_preview_egress_nothing_is_reachable(service: Service) -> None:
    require_sandbox(service)
    assert service.settings.egress == ""
    with trio.fail_after(60):
        gid = await service.upload(server_app(before_serving=EGRESS_APP))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        found = (await service.app_get(body, "/egress")).json()
        assert found["proxy_set"] == ""
        assert found["allowed"]["ok"] is False and found["other"]["ok"] is False


SETUP_PROBE = """
import json, os, socket, sys
targets = json.load(open("targets.json"))
def attempt(action):
    try:
        action()
        return True
    except Exception:
        return False
def connect(port):
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
found = {
    "database_read": attempt(lambda: open(targets["database"], "rb").read(1)),
    "data_dir_list": attempt(lambda: os.listdir(targets["data_dir"])),
    "service_port": attempt(lambda: connect(targets["service_port"])),
    "postgres": attempt(lambda: connect(5432)),
    "uid": os.getuid(),
}
open("setup-found.json", "w").write(json.dumps(found))
"""


async def test_a_setup_step_is_confined_like_the_app(service: Service) -> None:
    """Set-up steps (Django's migrate, alembic, the setup option) run the upload's code
    before the app: the same sandbox holds them."""
    require_sandbox(service)
    targets = {
        "database": str(service.settings.data_dir / "preview.db"),
        "data_dir": str(service.settings.data_dir),
        "service_port": int(service.url.rsplit(":", 1)[1]),
    }
    files = server_app(**{"probe_setup.py": SETUP_PROBE, "targets.json": json.dumps(targets)})
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (
            await service.launch(gid, command=SERVER_COMMAND, setup=["{python}", "probe_setup.py"])
        ).json()
        assert body["status"] == "running", body.get("errorMessage")
        runtime = service.supervisor.get(body["previewInstanceId"])
        assert runtime is not None
        found = json.loads((runtime.temp_dir / "setup-found.json").read_text())
        assert found == {
            "database_read": False,
            "data_dir_list": False,
            "service_port": False,
            "postgres": False,
            "uid": found["uid"],
        }
        assert found["uid"] not in (0, os.getuid())
