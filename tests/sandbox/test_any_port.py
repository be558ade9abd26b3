"""An app listening on a hard-coded port instead of $PORT: found in its sandbox's network
namespace and served from there, said in a system event; where it cannot be found (no
sandbox), the start-up timeout names the port the app printed."""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import replace

import psutil
import pytest
import trio

from preview import Settings
from preview.runtime.anyport import printed_port
from preview.sandbox.netns import can_enter_netns

from ..conftest import Service, running_service
from ..launching import BUILD_WAIT, app_files, launched, messages
from .test_sandbox import require_sandbox


def require_any_port(service: Service) -> None:
    require_sandbox(service)
    if not can_enter_netns():
        pytest.skip("the service cannot enter its sandboxes' network namespaces (not root)")


@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
async def test_node_app_on_port_3000_is_served_anyway(builder_service: Service) -> None:
    service = builder_service
    require_any_port(service)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("hardcoded_port"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/items?x=1")).json()
        assert answer == {"path": "/items?x=1", "port": 3000}
        system = messages(await service.history(body["gid"]), "system")
        said = f"the app listens on 3000, not $PORT={body['port']}: serving it from 3000"
        assert said in system, system
        assert "port 3000 answering" in system
        # Its health checks and the proxy keep reaching it there.
        status = await service.status(body["gid"])
        assert status["healthStatus"] == "healthy"
        assert forwarders(service) != []
        assert (await service.stop(body["gid"])).status_code == 200
        assert forwarders(service) == []  # the second forwarder ended with the preview


@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
async def test_an_app_on_port_at_the_ipv6_loopback_alone_is_served(
    builder_service: Service,
) -> None:
    """Machulsky's nodejs-fastify-postgres-api: Fastify 3's ``listen(port)`` bound $PORT
    at ::1 alone, which the forwarder to 127.0.0.1 never reached (no answer in 30 s)."""
    service = builder_service
    require_any_port(service)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_listens_ipv6_loopback"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/items")).json()
        assert answer == {"path": "/items", "family": "IPv6"}
        system = messages(await service.history(body["gid"]), "system")
        said = f"the app listens on $PORT={body['port']} at IPv6's loopback alone: served there"
        assert said in system, system
        assert (await service.stop(body["gid"])).status_code == 200


def forwarders(service: Service, port: int = 3000) -> list[int]:
    """This service's second forwarders (socat on a port-{port}.sock of its previews)."""
    found, ours = [], str(service.settings.previews_dir)
    for process in psutil.process_iter(["cmdline"]):
        parts = process.info["cmdline"] or ()
        if any(f"port-{port}.sock" in part and ours in part for part in parts):
            found.append(process.pid)
    return found


def listeners(forwarders: list[int]) -> list[int]:
    """Of ``forwarders``, those that listen (socat's forks, one per connection, are their
    children; one may end as it is looked at)."""
    found = []
    for pid in forwarders:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).ppid() not in forwarders:
                found.append(pid)
    return found


async def test_python_app_on_a_fixed_port_is_served_without_a_build(service: Service) -> None:
    require_any_port(service)
    with trio.fail_after(30):
        gid = await service.upload({"README.md": "a static server on 8000\n"})
        command = ["{python}", "-m", "http.server", "8000", "--bind", "127.0.0.1"]
        body = (await service.launch(gid, command=command)).json()
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        page = await service.app_get({"gid": gid, **body}, "/README.md")
        assert page.text == "a static server on 8000\n"
        system = messages(await service.history(gid), "system")
        assert any(m.startswith("the app listens on 8000, not $PORT=") for m in system)
        assert (await service.stop(gid)).status_code == 200


async def test_the_second_forwarder_outlives_the_worker_threads_of_its_start(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """misterioss's vercel-fastify-deploy (Fastify on 3000): forked by one of trio's
    worker threads, the second forwarder got that thread's parent-death signal and was
    killed when the thread retired (idle ``IDLE_TIMEOUT`` seconds), the app still
    running: every call from then on met "nothing listens on its port"."""
    from trio._core import _thread_cache

    assert _thread_cache.IDLE_TIMEOUT == 10  # what is shortened here: read at each wait
    require_any_port(service)
    with trio.fail_after(60):
        gid = await service.upload({"README.md": "a static server on 8000\n"})
        command = ["{python}", "-m", "http.server", "8000", "--bind", "127.0.0.1"]
        body = (await service.launch(gid, command=command)).json()
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        listening = listeners(forwarders(service, port=8000))
        assert len(listening) == 1
        # Worker threads idle for a tenth of a second from now on retire: the threads of
        # its start among them, whatever else the service runs in threads meanwhile.
        monkeypatch.setattr(_thread_cache, "IDLE_TIMEOUT", 0.1)
        await trio.sleep(3)
        assert listeners(forwarders(service, port=8000)) == listening
        page = await service.app_get({"gid": gid, **body}, "/README.md")
        assert page.text == "a static server on 8000\n"
        assert (await service.stop(gid)).status_code == 200
        assert forwarders(service, port=8000) == []


async def test_an_app_on_port_80_binds_it_in_its_own_namespace_and_is_served(
    service: Service,
) -> None:
    """sea36895's bunhono-video's shape: ``Bun.serve({ port: 80 })``, as its image's root
    bound it; under the preview's uid the bind failed ("permission denied 0.0.0.0:80").
    Its namespace's low ports are open to it, the host's not."""
    require_any_port(service)
    with trio.fail_after(30):
        gid = await service.upload({"index.html": "served from 80\n"})
        command = ["{python}", "-m", "http.server", "80", "--bind", "0.0.0.0"]
        body = (await service.launch(gid, command=command)).json()
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        page = await service.app_get({"gid": gid, **body}, "/index.html")
        assert page.text == "served from 80\n"
        system = messages(await service.history(gid), "system")
        assert any(m.startswith("the app listens on 80, not $PORT=") for m in system), system
        assert (await service.stop(gid)).status_code == 200
    host = trio.Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    assert int(await host.read_text()) > 80


SIDE_PORT_FIRST = """
import http.server, os, socket, time
side = socket.socket()
side.bind(("127.0.0.1", 9100))
side.listen()  # a metrics port, open a while before the HTTP one
time.sleep(0.5)
handler = http.server.SimpleHTTPRequestHandler
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), handler).serve_forever()
"""


async def test_a_side_port_opened_first_is_not_taken_for_the_app(service: Service) -> None:
    require_any_port(service)
    with trio.fail_after(30):
        gid = await service.upload({"server.py": SIDE_PORT_FIRST, "hello.txt": "from $PORT"})
        body = (await service.launch(gid, command=["{python}", "server.py"])).json()
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        assert (await service.app_get({"gid": gid, **body}, "/hello.txt")).text == "from $PORT"
        system = messages(await service.history(gid), "system")
        assert not any(m.startswith("the app listens on") for m in system), system
        assert (await service.stop(gid)).status_code == 200


async def test_timeout_names_the_port_the_app_printed(settings: Settings) -> None:
    quick = replace(settings, sandbox="off", startup_timeout=2.0)
    async with running_service(quick) as service:
        with trio.fail_after(30):
            gid = await service.upload({"x.txt": ""})
            script = (
                "import time; print('Server listening on http://localhost:3999', flush=True); "
                "time.sleep(60)"
            )
            body = (await service.launch(gid, command=["{python}", "-c", script])).json()
            assert body["status"] == "failed"
            assert "did not answer HTTP on port" in body["errorMessage"]
            assert "'Server listening on http://localhost:3999'" in body["errorMessage"]
            assert "not 3999" in body["errorMessage"]


def test_printed_port_reads_the_usual_lines() -> None:
    assert printed_port(["listening on :3000"], 3012) == (3000, "listening on :3000")
    line = "INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"
    assert printed_port([line], 3012) == (8000, line)
    assert printed_port(["Server started on port 5000"], 3012)[0] == 5000
    assert printed_port(["listening on 3012"], 3012) is None
    assert printed_port(["compiled 12 files in 3000 ms"], 3012) is None
    # A stack trace's line and column (zivhsiao's koa2-demo: "not 1139"), Python's too.
    frame = "    at parserOnIncoming (node:_http_server:1139:12)"
    assert printed_port([frame], 3012) is None
    assert printed_port(['  File "server.py", line 4012, in serve'], 3012) is None
    assert printed_port(["error in server.js:1200:7 while listening"], 3012) is None


SIDE_PORT_ANSWERING = """
import http.server, threading, time

class Nothing(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # a runtime's own port: every path 404
        self.send_response(404)
        self.end_headers()

side = http.server.ThreadingHTTPServer(("127.0.0.1", 6284), Nothing)
threading.Thread(target=side.serve_forever, daemon=True).start()
time.sleep(0.3)
main = http.server.ThreadingHTTPServer(("127.0.0.1", 8787), http.server.SimpleHTTPRequestHandler)
print("[wrangler:inf] Ready on http://localhost:8787", flush=True)
main.serve_forever()
"""


async def test_the_port_the_app_says_it_is_ready_on_wins_over_a_side_port(
    service: Service,
) -> None:
    """prasanna89654's hono-lucia-auth under ``wrangler dev``: workerd answers every path
    with 404 on a port of its own (6284), below the 8787 wrangler prints "Ready on";
    served from 6284, all its routes answered 404. The port it says it is ready on,
    where it listens, is the one served."""
    require_any_port(service)
    with trio.fail_after(30):
        await _served_from_the_printed_port(service, SIDE_PORT_ANSWERING, 8787)


# The side port alone until it is asked (the service's probe through it, once it settled
# there), the app's own port opened and printed only then: as wrangler dev did under load.
SIDE_PORT_UNTIL_ASKED = """
import http.server, threading

asked = threading.Event()

class Nothing(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # a runtime's own port: every path 404
        asked.set()
        self.send_response(404)
        self.end_headers()

side = http.server.ThreadingHTTPServer(("127.0.0.1", 6284), Nothing)
threading.Thread(target=side.serve_forever, daemon=True).start()
asked.wait()
main = http.server.ThreadingHTTPServer(("127.0.0.1", 8787), http.server.SimpleHTTPRequestHandler)
print("[wrangler:inf] Ready on http://localhost:8787", flush=True)
main.serve_forever()
"""


async def test_the_port_the_app_says_it_is_ready_on_after_a_side_port_settled_wins(
    service: Service,
) -> None:
    """gravit09's basic-hono-app under ``wrangler dev`` on a loaded machine: workerd's
    side port (6284) listened alone past the settling time and was served; wrangler
    printed "Ready on http://localhost:8787" after it, and every route answered 404. The
    port printed later, where the app listens, is served from then on."""
    require_any_port(service)
    with trio.fail_after(40):
        files = {"server.py": SIDE_PORT_UNTIL_ASKED, "hello.txt": "from 8787"}
        gid = await service.upload(files)
        body = (await service.launch(gid, command=["{python}", "server.py"])).json()
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        preview = {"gid": gid, **body}
        for _ in range(300):  # polled (fail_after bounds it): the switch follows its line
            answer = await service.app_get(preview, "/hello.txt")
            if answer.status_code == 200:
                break
            await trio.sleep(0.1)
        assert answer.text == "from 8787"
        system = messages(await service.history(gid), "system")
        assert f"the app listens on 6284, not $PORT={body['port']}: serving it from 6284" in system
        said = f"the app listens on 8787, not $PORT={body['port']}: serving it from 8787"
        assert said in system, system
        assert (await service.stop(gid)).status_code == 200


# $PORT taken and never answered (as http.createServer(koaApp) does: a Koa app is no
# request handler), the app's real server on the port it prints.
SILENT_PORT_BESIDE_PRINTED = """
import http.server, os, socket, time

silent = socket.create_server(("0.0.0.0", int(os.environ["PORT"])))  # never accepted
main = http.server.ThreadingHTTPServer(("0.0.0.0", 2333), http.server.SimpleHTTPRequestHandler)
print("server start at localhost:2333", flush=True)
main.serve_forever()
"""


async def test_the_printed_port_is_served_where_port_listens_and_never_answers(
    service: Service,
) -> None:
    """EastRiseJ's koa2-base-server: its bin/www handed ``http.createServer`` the Koa app
    (an object, not a request handler), so $PORT took connections and answered none,
    while its server.js printed "server start at localhost:2333" and served there. The
    start timed out telling it to listen on $PORT; the printed port is served instead."""
    require_any_port(service)
    with trio.fail_after(40):
        await _served_from_the_printed_port(service, SILENT_PORT_BESIDE_PRINTED, 2333)


async def test_a_port_that_listens_and_never_answers_is_named_so_at_the_timeout(
    settings: Settings,
) -> None:
    """The start that timed out on a $PORT that took connections and answered none was
    told to "listen on $PORT, not 2333", which it did: said as what it was."""
    async with running_service(replace(settings, startup_timeout=3.0)) as service:
        require_any_port(service)
        with trio.fail_after(30):
            silent = SILENT_PORT_BESIDE_PRINTED.replace("main.serve_forever()", "time.sleep(60)")
            gid = await service.upload({"server.py": silent})
            body = (await service.launch(gid, command=["{python}", "server.py"])).json()
            assert body["status"] == "failed"
            message = body["errorMessage"]
            assert message.startswith(f"listened on $PORT ({body['port']}) but answered no"), body
            assert "'server start at localhost:2333', where nothing answered either" in message


async def _served_from_the_printed_port(service: Service, server: str, port: int) -> None:
    """``server`` (a script printing that it serves on ``port``) launched, served from
    ``port`` and said so, then stopped."""
    files = {"server.py": server, "hello.txt": f"from {port}"}
    gid = await service.upload(files)
    body = (await service.launch(gid, command=["{python}", "server.py"])).json()
    assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
    assert (await service.app_get({"gid": gid, **body}, "/hello.txt")).text == f"from {port}"
    system = messages(await service.history(gid), "system")
    said = f"the app listens on {port}, not $PORT={body['port']}: serving it from {port}"
    assert said in system, system
    assert (await service.stop(gid)).status_code == 200
