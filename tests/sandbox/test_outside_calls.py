"""A sandboxed app's call to another host fails on its name; the log says why
(runtime.outsidecalls): the resolver's errors as real clients print them, and a real
preview that calls out."""

from __future__ import annotations

import pytest
import trio

from preview import Settings
from preview.runtime.outsidecalls import OutsideCalls, unreachable_address, unresolved_host
from preview.sandbox.egress import EgressPolicy
from preview.sandbox.outbound import Outbound

from ..conftest import SERVER_COMMAND, Service, auth, server_app
from .test_sandbox import require_sandbox

# Printed by each client in a network namespace with a loopback only (`unshare -n`),
# as a sandbox is: Python 3.11's urllib, httpx 0.28, requests 2.32, psycopg 3.2 (alone
# and under SQLAlchemy), a socket; Node 20's fetch (its cause), https and net.
_SAID = [
    (
        "urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>",
        None,
    ),
    ("httpx.ConnectError: [Errno -3] Temporary failure in name resolution", None),
    # A failure's cause clipped before the resolver's words (arturootalora's fastapi-railway)
    (
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='openaipublic.blob.core"
        ".windows.net', port=443): Max retries exceeded with url: /encodings/cl100k_base"
        ".tiktoken (Caused by NameResolutionError(\"HTTPSConnection(host='openaipublic.blob"
        ".core.windows.net', port=443): Failed to resolve 'open…",
        "openaipublic.blob.core.windows.net",
    ),
    (
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.github.com', "
        'port=443): Max retries exceeded with url: /x (Caused by NameResolutionError("'
        "HTTPSConnection(host='api.github.com', port=443): Failed to resolve 'api.github.com' "
        '([Errno -3] Temporary failure in name resolution)"))',
        "api.github.com",
    ),
    (
        "psycopg.OperationalError: failed to resolve host 'db.abc.supabase.co': [Errno -3] "
        "Temporary failure in name resolution",
        "db.abc.supabase.co",
    ),
    (
        "sqlalchemy.exc.OperationalError: (psycopg.OperationalError) failed to resolve host "
        "'db.abc.supabase.co': [Errno -3] Temporary failure in name resolution",
        "db.abc.supabase.co",
    ),
    ("socket.gaierror: [Errno -3] Temporary failure in name resolution", None),
    ("socket.gaierror: [Errno -2] Name or service not known", None),
    ("  [cause]: Error: getaddrinfo EAI_AGAIN api.github.com", "api.github.com"),
    ("Error: getaddrinfo EAI_AGAIN api.openai.com", "api.openai.com"),
    ("Error: getaddrinfo ENOTFOUND Cluster0.abc.mongodb.net", "cluster0.abc.mongodb.net"),
    ("Error: getaddrinfo ENOTFOUND mongo", "mongo"),
    ("curl: (6) Could not resolve host: example.org", "example.org"),
    # aws-sdk 2 (CatsMiaow's node-nestjs-structure's EC2 route) words ENOTFOUND so
    (
        "UnknownEndpoint: Inaccessible host: `ec2.region.amazonaws.com'. This service may not "
        "be available in the `region' region.",
        "ec2.region.amazonaws.com",
    ),
    # A mongodb+srv:// URL's lookup of its SRV record, by the driver's own DNS client:
    # Node's c-ares (mongodb 6), dnspython (pymongo 4: izharusmani's fastapi-hrms).
    (
        "MongoServerSelectionError: querySrv ECONNREFUSED _mongodb._tcp.cluster0.abc.mongodb.net",
        "cluster0.abc.mongodb.net",
    ),
    ("Error: queryTxt ETIMEOUT cluster0.abc.mongodb.net", "cluster0.abc.mongodb.net"),
    ("pymongo.errors.ConfigurationError: cannot open /etc/resolv.conf", None),
]


@pytest.mark.parametrize(("text", "host"), _SAID)
def test_the_resolvers_failures_as_clients_print_them(text: str, host: str | None) -> None:
    assert unresolved_host(text) == (True, host)


@pytest.mark.parametrize(
    "text",
    [
        'INFO:     127.0.0.1:0 - "GET /resolve HTTP/1.1" 200 OK',
        "DNS resolution took 3 ms",
        "ConnectionRefusedError: [Errno 111] Connection refused",
        "Error: connect ECONNREFUSED 127.0.0.1:5432",
        "could not resolve the conflict in migration 0003",
        "queryset ERRORS in the admin view",
    ],
)
def test_other_lines_are_not_failed_lookups(text: str) -> None:
    assert unresolved_host(text) == (False, None)


# requests' chained traceback, as a real app printed it (api-server-flask, gunicorn).
_CHAINED = [
    "socket.gaierror: [Errno -3] Temporary failure in name resolution",
    "During handling of the above exception, another exception occurred:",
    "urllib3.exceptions.NewConnectionError: <urllib3.connection.HTTPSConnection object at "
    "0x7fdf>: Failed to establish a new connection: [Errno -3] Temporary failure in name "
    "resolution",
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='github.com', port=443): "
    "Max retries exceeded with url: /login/oauth/access_token (Caused by NewConnectionError("
    "'<urllib3.connection.HTTPSConnection object at 0x7fdf>: Failed to establish a new "
    "connection: [Errno -3] Temporary failure in name resolution'))",
]


async def test_an_address_out_of_reach_is_a_call_out_too() -> None:
    """terminus's DNS check (the same app's /health) calls 1.1.1.1: no name to resolve,
    no route from the sandbox."""
    line = (
        'Health Check has failed! {"dns":{"status":"down","message":"connect ENETUNREACH '
        '1.1.1.1:443 - Local (0.0.0.0:0)"}}'
    )
    assert unreachable_address(line) == (True, "1.1.1.1")
    assert unreachable_address("OSError: [Errno 101] Network is unreachable") == (True, None)
    assert unreachable_address("Error: connect ECONNREFUSED 127.0.0.1:5432") == (False, None)
    said: list[str] = []

    async def say(level: str, message: str) -> None:
        said.append(message)

    with trio.fail_after(5):
        await OutsideCalls(lambda: Outbound(policy=EgressPolicy.parse("")), say).lines([line])
    assert said == [
        "diagnosis: the app could not reach 1.1.1.1: a preview reaches no host outside this"
        " machine unless the service's PREVIEW_EGRESS names it (it names none)"
    ]


async def test_what_is_said_names_each_host_once_and_what_would_let_it_through() -> None:
    said: list[str] = []

    async def say(level: str, message: str) -> None:
        said.append(f"{level} {message}")

    outbound = Outbound(policy=EgressPolicy.parse("github.com"), aliases=("postgres",))
    calls = OutsideCalls(lambda: outbound, say)
    await calls.lines(_CHAINED)  # the host, not also "a host" for the inner errors
    await calls.lines(_CHAINED)
    await calls.lines(
        [
            "Error: getaddrinfo ENOTFOUND mongo",
            "httpx.ConnectError: [Errno -3] Temporary failure in name resolution",
        ]
    )
    assert said == [
        "WARN diagnosis: the app could not resolve github.com: PREVIEW_EGRESS allows it, but"
        " only through the sandbox's HTTP proxy (HTTPS_PROXY and HTTP_PROXY in its"
        " environment), which this call did not use",
        "WARN diagnosis: the app could not resolve mongo: inside its sandbox only its own"
        " names resolve (localhost, postgres); a service it expects beside it by that name is"
        " not one the preview was given",
    ]
    assert calls.explained("exited with code 1: Error: getaddrinfo EAI_AGAIN api.openai.com") == (
        "exited with code 1: Error: getaddrinfo EAI_AGAIN api.openai.com — a preview reaches"
        " only the hosts the service's PREVIEW_EGRESS names (github.com), through its HTTP"
        " proxy (HTTPS_PROXY in its environment)"
    )
    unsandboxed = OutsideCalls(None, say)
    await unsandboxed.lines(_CHAINED)
    assert len(said) == 2
    assert unsandboxed.explained("socket.gaierror: [Errno -2] Name or service not known") == (
        "socket.gaierror: [Errno -2] Name or service not known"
    )


# Calls out as generated apps do: a database by its host name (psycopg names it), an API
# by URL with urllib (which does not); the error is unhandled, so the server prints it.
# It says so first: while a call is under way, the service's reader of its output, having
# read that, leaves the pipe to the call (``logs.childoutput``), which takes the error.
OUTSIDE_APP = """
import urllib.request
import psycopg

class Outside(Handler):
    def do_GET(self):
        say(f"calling out for {self.path}", sys.stderr)
        time.sleep(0.01)
        if self.path == "/database":
            psycopg.connect("host=db.example.com dbname=app user=app connect_timeout=5")
        elif self.path == "/api":
            urllib.request.urlopen("https://api.example.com/", timeout=5)
        super().do_GET()
Handler = Outside
"""


async def _calls_out(service: Service) -> str:
    """Launch OUTSIDE_APP and call it through the proxy, as users do (the second and
    third calls on the first one's connection: the hot path, ``proxy.hot``)."""
    gid = await service.upload(server_app(before_serving=OUTSIDE_APP))
    body = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
    headers = {**auth(), "X-Preview-Token": body["previewToken"]}
    for path in ("/api", "/database", "/database"):
        url = f"/api/generations/{gid}/preview/proxy{path}"
        answer = await service.client.get(url, headers=headers)
        assert answer.status_code == 502, answer.text  # the app dropped the connection
    return gid


async def test_a_call_out_of_a_closed_sandbox_is_diagnosed_once_per_host(
    service: Service,
) -> None:
    require_sandbox(service)
    assert service.settings.egress == ""
    with trio.fail_after(60):
        gid = await _calls_out(service)
        named = await service.first_system_line(gid, "resolve db.example.com")
        assert named == (
            "diagnosis: the app could not resolve db.example.com: a preview reaches no host"
            " outside this machine unless the service's PREVIEW_EGRESS names it (it names"
            " none)"
        )
        unnamed = await service.first_system_line(gid, "resolve a host")
        assert unnamed.startswith("diagnosis: the app could not resolve a host: a preview")
        await service.stop(gid)
    said = [
        e["message"]
        for e in await service.history(gid)
        if e["source"] == "system" and e["message"].startswith("diagnosis:")
    ]
    assert said == [unnamed, named]  # the second call to the database: nothing new


async def test_a_host_egress_does_not_name_is_diagnosed_with_what_it_allows(
    service: Service, settings: Settings
) -> None:
    require_sandbox(service)
    object.__setattr__(settings, "egress", "pypi.org,.pythonhosted.org")
    with trio.fail_after(60):
        gid = await _calls_out(service)
        named = await service.first_system_line(gid, "resolve db.example.com")
        assert named == (
            "diagnosis: the app could not resolve db.example.com: a preview reaches only the"
            " hosts the service's PREVIEW_EGRESS names (pypi.org, *.pythonhosted.org),"
            " through its HTTP proxy (HTTPS_PROXY in its environment)"
        )
        await service.stop(gid)


async def test_an_app_that_dies_calling_out_at_start_says_why_in_its_cause(
    service: Service,
) -> None:
    require_sandbox(service)
    connect = "import psycopg\npsycopg.connect('host=db.example.com user=app connect_timeout=5')\n"
    with trio.fail_after(60):
        gid = await service.upload(server_app(before_serving=connect))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert body["status"] == "failed", body
    assert body["errorMessage"] == (
        "psycopg.OperationalError: failed to resolve host"
        " 'db.example.com': [Errno -3] Temporary failure in name resolution — a preview"
        " reaches no host outside this machine unless the service's PREVIEW_EGRESS names"
        " it (it names none)"
    )


async def test_an_unsandboxed_apps_failed_lookups_are_its_own(
    unsandboxed: Settings, service: Service
) -> None:
    # Not sandboxed, it has the host's network and resolver: nothing to explain.
    connect = "import psycopg\npsycopg.connect('host=db.invalid user=app connect_timeout=5')\n"
    with trio.fail_after(60):
        gid = await service.upload(server_app(before_serving=connect))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "failed", body
        assert body["errorMessage"].startswith(
            "psycopg.OperationalError: failed to resolve host 'db.invalid'"
        ), body
        assert "PREVIEW_EGRESS" not in body["errorMessage"]
        events = await service.history(gid)
    assert not [e for e in events if e["message"].startswith("diagnosis:")]
