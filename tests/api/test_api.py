"""The HTTP API through a real service: auth, ownership, uploads, launch admission, errors."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import struct
import tarfile
import time
import zipfile
import zlib
from typing import Any

import httpx
import jwt
import psutil
import pytest
import trio
import trio_websocket

from preview.app import create_app
from preview.auth import JWTAuthenticator, User
from preview.settings import Settings
from preview.store import Store

from ..conftest import (
    SECRET,
    SERVER_COMMAND,
    Service,
    auth,
    eventually,
    read_sse,
    running_service,
    server_app,
    token,
)

_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_TRACEBACK_MARKERS = ("Traceback", 'File "', ", line ", "Exception:", "<html")


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The one error shape, the right status and code, and no leaked internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"status", "error", "message", "details"}, body
    assert body["status"] == "failed"
    assert body["error"] == code, body
    assert _SNAKE.fullmatch(body["error"])
    assert isinstance(body["message"], str) and body["message"].strip()
    assert isinstance(body["details"], dict)
    for marker in _TRACEBACK_MARKERS:
        assert marker not in response.text, response.text
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return body


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "alice", "tier": "free", "iat": now, "exp": now + 3600, **extra}


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def make_tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


APP_FILES = {"app/main.py": b"app = None\n", "requirements.txt": b"fastapi\n"}


async def generation_ids(service: Service, user: str = "alice") -> list[str]:
    response = await service.client.get("/api/generations", headers=auth(user))
    assert response.status_code == 200, response.text
    return [g["generationId"] for g in response.json()["generations"]]


async def launch_server(service: Service, gid: str, *, tier: str = "free") -> dict[str, Any]:
    response = await service.launch(gid, tier=tier, command=SERVER_COMMAND)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "running", body
    return body


async def stop_ok(service: Service, gid: str) -> dict[str, Any]:
    response = await service.stop(gid)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "stopped"
    return response.json()


# -- authentication -------------------------------------------------------------------

_OTHER = JWTAuthenticator("another-secret-" + "y" * 40, session_timeout=3600)
_MINE = JWTAuthenticator(SECRET, session_timeout=3600)

BAD_CREDENTIALS: dict[str, tuple[dict[str, str], str]] = {
    "no header": ({}, "missing_credentials"),
    "basic scheme": ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, "invalid_authorization"),
    "bearer without token": ({"Authorization": "Bearer"}, "invalid_authorization"),
    "expired": (_bearer(_MINE.issue("alice", lifetime=-60)), "token_expired"),
    "wrong signature": (_bearer(_OTHER.issue("alice")), "invalid_token"),
    "alg none": (
        _bearer(f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."),
        "invalid_token",
    ),
    "no exp": (
        _bearer(jwt.encode({"sub": "alice", "tier": "free"}, SECRET, algorithm="HS256")),
        "invalid_token",
    ),
    "no sub": (
        _bearer(jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256")),
        "invalid_token",
    ),
    "bad tier": (_bearer(jwt.encode(_claims(tier="gold"), SECRET)), "invalid_token"),
    "garbage": (_bearer("not.a.jwt"), "invalid_token"),
    "exp 2**53": (
        _bearer(jwt.encode({"sub": "alice", "exp": 2**53}, SECRET, algorithm="HS256")),
        "token_lifetime_too_long",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CREDENTIALS))
async def test_bad_credentials_are_401_with_a_code(service: Service, case: str) -> None:
    headers, code = BAD_CREDENTIALS[case]
    with trio.fail_after(20):
        listed = await service.client.get("/api/generations", headers=headers)
        assert_error(listed, 401, code)
        uploaded = await service.client.post(
            "/api/generations",
            json={"projectId": "p", "files": {"a.py": "x"}},
            headers=headers,
        )
        assert_error(uploaded, 401, code)
        assert await generation_ids(service) == []  # nothing was stored


async def test_valid_token_is_accepted_and_scheme_is_case_insensitive(service: Service) -> None:
    with trio.fail_after(20):
        response = await service.client.get(
            "/api/generations", headers={"Authorization": f"bearer {token()}"}
        )
        assert response.status_code == 200
        assert response.json() == {"generations": []}


# -- ownership --------------------------------------------------------------------------


async def test_other_users_generation_is_not_found_and_lists_are_private(
    service: Service,
) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        body = await launch_server(service, gid)
        base = f"/api/generations/{gid}"
        bob = auth("bob")
        attempts = [
            ("GET", base),
            ("GET", f"{base}/preview/status"),
            ("POST", f"{base}/preview/launch"),
            ("GET", f"{base}/preview/logs"),
            ("GET", f"{base}/preview/logs/stream"),
            ("GET", f"{base}/preview/config"),
            ("DELETE", f"{base}/preview"),
        ]
        for method, url in attempts:
            kwargs: dict[str, Any] = (
                {"json": {"command": SERVER_COMMAND}} if method == "POST" else {}
            )
            response = await service.client.request(method, url, headers=bob, **kwargs)
            details = assert_error(response, 404, "generation_not_found")["details"]
            assert details == {"generationId": gid}
        # Bob's DELETE did nothing: alice's preview still runs.
        assert (await service.status(gid))["status"] == "running"
        assert service.supervisor.get(body["previewInstanceId"]) is not None

        for unknown in ("gen_0000000000000000", "x" * 300):
            response = await service.client.get(f"/api/generations/{unknown}", headers=auth())
            assert_error(response, 404, "generation_not_found")
            response = await service.client.get(
                f"/api/generations/{unknown}/preview/status", headers=auth()
            )
            assert_error(response, 404, "generation_not_found")

        bobs = await service.upload({"main.py": "print(1)\n"}, user="bob")
        assert await generation_ids(service, "bob") == [bobs]
        assert await generation_ids(service, "alice") == [gid]
        response = await service.client.get(f"/api/generations/{bobs}", headers=auth())
        assert_error(response, 404, "generation_not_found")
        await stop_ok(service, gid)


# -- uploads ----------------------------------------------------------------------------


async def test_json_upload_lists_files_with_sizes(service: Service) -> None:
    with trio.fail_after(20):
        response = await service.client.post(
            "/api/generations",
            json={
                "projectId": "proj_json",
                "files": {"app/main.py": "x = 1\n", "requirements.txt": "", "README.md": "héllo"},
            },
            headers=auth(),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["generationId"].startswith("gen_")
        assert body["projectId"] == "proj_json"
        assert body["createdAt"].endswith("Z")
        expected = [
            {"path": "README.md", "size": 6},
            {"path": "app/main.py", "size": 6},
            {"path": "requirements.txt", "size": 0},
        ]
        assert body["files"] == expected
        assert body["fileCount"] == 3 and body["totalBytes"] == 12
        shown = await service.client.get(f"/api/generations/{body['generationId']}", headers=auth())
        assert shown.status_code == 200
        assert shown.json()["files"] == expected
        assert await generation_ids(service) == [body["generationId"]]


async def test_archive_uploads_raw_zip_multipart_and_tar_gz(service: Service) -> None:
    with trio.fail_after(20):
        # A zipped project folder: its top folder is dropped.
        zipped = make_zip({f"proj/{path}": content for path, content in APP_FILES.items()})
        raw = await service.client.post(
            "/api/generations",
            params={"projectId": "proj_zip"},
            content=zipped,
            headers={**auth(), "Content-Type": "application/zip"},
        )
        assert raw.status_code == 201, raw.text
        assert raw.json()["projectId"] == "proj_zip"
        assert raw.json()["files"] == [
            {"path": "app/main.py", "size": 11},
            {"path": "requirements.txt", "size": 8},
        ]

        form = await service.client.post(
            "/api/generations",
            data={"projectId": "proj_form"},
            files={"file": ("gen.zip", make_zip(APP_FILES), "application/zip")},
            headers=auth(),
        )
        assert form.status_code == 201, form.text
        assert form.json()["projectId"] == "proj_form"
        assert [f["path"] for f in form.json()["files"]] == ["app/main.py", "requirements.txt"]

        tarred = await service.client.post(
            "/api/generations",
            content=make_tar_gz({**APP_FILES, "static/a.css": b"body{}"}),
            headers={**auth(), "Content-Type": "application/gzip"},
        )
        assert tarred.status_code == 201, tarred.text
        assert tarred.json()["projectId"] is None
        assert tarred.json()["files"][-1] == {"path": "static/a.css", "size": 6}

        ids = await generation_ids(service)
        assert sorted(ids) == sorted(r.json()["generationId"] for r in (raw, form, tarred))


def _zip_declaring(content: bytes, size: int) -> bytes:
    """A zip of one member whose headers declare ``size`` bytes, with their CRC."""
    data = bytearray(make_zip({"main.py": content}))
    central = data.index(b"PK\x01\x02")
    for offset in (14, central + 16):  # the CRC; 8 bytes on, the size
        struct.pack_into("<I", data, offset, zlib.crc32(content[:size]))
        struct.pack_into("<I", data, offset + 8, size)
    return bytes(data)


async def test_bad_uploads_are_refused_and_store_nothing(
    service: Service, settings: Settings
) -> None:
    def post_json(files: Any) -> dict[str, Any]:
        return {"json": {"projectId": "p", "files": files}}

    def post_raw(data: bytes, content_type: str) -> dict[str, Any]:
        return {"content": data, "headers": {"Content-Type": content_type}}

    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("dotdot", post_json({"../x": "a"}), 400, "unsafe_path"),
        ("absolute", post_json({"/etc/passwd": "a"}), 400, "unsafe_path"),
        ("no files", post_json({}), 400, "invalid_files"),
        (
            "zip dotdot",
            post_raw(make_zip({"../evil.py": b"x"}), "application/zip"),
            400,
            "unsafe_path",
        ),
        (
            "corrupt zip",
            post_raw(b"PK\x03\x04" + b"\x00garbage" * 20, "application/zip"),
            400,
            "corrupt_archive",
        ),
        (
            "corrupt gzip",
            post_raw(b"\x1f\x8b" + b"nonsense" * 20, "application/gzip"),
            400,
            "corrupt_archive",
        ),
        (
            "zip declaring fewer bytes than it holds (a CRC made for them)",
            post_raw(_zip_declaring(b"print('hi')\n" * 20, 12), "application/zip"),
            400,
            "corrupt_archive",
        ),
        ("text/plain", post_raw(b"hello", "text/plain"), 400, "unsupported_media_type"),
        ("malformed json", post_raw(b'{"files": {', "application/json"), 400, "invalid_json"),
        ("json array", post_raw(b"[1, 2]", "application/json"), 400, "invalid_json"),
        (
            "a file named twice in json (the last one was kept, without a word)",
            post_raw(b'{"files": {"a.py": "1", "a.py": "2"}}', "application/json"),
            400,
            "invalid_json",
        ),
        (
            "form without file",
            {"data": {"projectId": "p"}, "files": {"other": ("a.zip", b"x", "text/plain")}},
            400,
            "missing_archive",
        ),
        ("big file json", post_json({"big.txt": "x" * 1001}), 413, "file_too_large"),
        (
            "big file zip",
            post_raw(make_zip({"big.txt": b"x" * 1001}), "application/zip"),
            413,
            "file_too_large",
        ),
    ]
    with trio.fail_after(30):
        kept = await service.upload({"keep.py": "pass\n"})
        # Settings are read per request, so this applies to the running service.
        object.__setattr__(settings, "max_file_bytes", 1000)
        for name, kwargs, status, code in cases:
            headers = {**auth(), **kwargs.pop("headers", {})}
            response = await service.client.post("/api/generations", headers=headers, **kwargs)
            assert response.status_code == status, (name, response.text)
            assert_error(response, status, code)
            assert await generation_ids(service) == [kept], name
        # Exactly at the limit is fine.
        await service.upload({"big.txt": "x" * 1000})


@pytest.fixture
def small_bodies(settings: Settings) -> Settings:
    """A request-body limit of 4 KiB; applied before the ``service`` fixture starts."""
    object.__setattr__(settings, "max_upload_bytes", 4096)
    return settings


async def test_request_body_over_limit_is_413(small_bodies: Settings, service: Service) -> None:
    big = "x" * 3000
    noise = os.urandom(6000)  # does not compress below the limit
    with trio.fail_after(20):
        attempts = [
            {"json": {"projectId": "p", "files": {"a.txt": big, "b.txt": big}}},
            {
                "content": make_zip({"a.bin": noise}),
                "headers": {"Content-Type": "application/zip"},
            },
            {"files": {"file": ("a.zip", make_zip({"a.bin": noise}))}},
        ]
        for kwargs in attempts:
            headers = {**auth(), **kwargs.pop("headers", {})}
            response = await service.client.post("/api/generations", headers=headers, **kwargs)
            assert_error(response, 413, "request_entity_too_large")
            assert await generation_ids(service) == []
        await service.upload({"a.txt": "small"})  # under the limit still works


# -- launch admission -------------------------------------------------------------------


async def test_launch_refuses_nothing_to_run(service: Service) -> None:
    with trio.fail_after(20):
        gid = await service.upload({"README.md": "# nothing to run\n", "lib/util.py": "x = 1\n"})
        body = assert_error(await service.launch(gid), 400, "nothing_to_run")
        assert "command" in body["message"]
        assert body["details"]["option"] == "command"
        assert any("Procfile" in item for item in body["details"]["lookedFor"])
        assert service.supervisor.ports.in_use == frozenset()
        assert_error(await service.stop(gid), 404, "no_active_preview")


async def test_same_generation_twice_is_409(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        first = await launch_server(service, gid, tier="pro")
        again = await service.launch(gid, tier="pro", command=SERVER_COMMAND)
        details = assert_error(again, 409, "preview_already_running")["details"]
        assert details["previewInstanceId"] == first["previewInstanceId"]
        assert service.supervisor.ports.in_use == {first["port"]}
        await stop_ok(service, gid)


async def test_free_tier_allows_one_preview(service: Service) -> None:
    with trio.fail_after(30):
        first_gid = await service.upload(server_app())
        second_gid = await service.upload(server_app())
        first = await launch_server(service, first_gid)
        refused = await service.launch(second_gid, command=SERVER_COMMAND)
        details = assert_error(refused, 409, "preview_limit_reached")["details"]
        assert details["limit"] == 1 and details["tier"] == "free"
        assert int(refused.headers["retry-after"]) > 0
        assert [r["previewInstanceId"] for r in details["running"]] == [first["previewInstanceId"]]
        assert details["running"][0]["generationId"] == first_gid
        assert details["running"][0]["projectId"] == "proj_1"  # named, not only an id
        assert_error(await service.stop(second_gid), 404, "no_active_preview")

        await stop_ok(service, first_gid)
        second = await launch_server(service, second_gid)
        assert second["generationId"] == second_gid
        await stop_ok(service, second_gid)


async def test_pro_tier_allows_three_previews(service: Service) -> None:
    with trio.fail_after(40):
        gids = [await service.upload(server_app()) for _ in range(4)]
        launched = [await launch_server(service, gid, tier="pro") for gid in gids[:3]]
        assert len({body["port"] for body in launched}) == 3
        refused = await service.launch(gids[3], tier="pro", command=SERVER_COMMAND)
        details = assert_error(refused, 409, "preview_limit_reached")["details"]
        assert details["limit"] == 3 and details["tier"] == "pro"
        assert {r["previewInstanceId"] for r in details["running"]} == {
            body["previewInstanceId"] for body in launched
        }
        # Another user is not counted against alice.
        bobs = await service.upload(server_app(), user="bob")
        bob_launch = await service.launch(bobs, user="bob", command=SERVER_COMMAND)
        assert bob_launch.status_code == 200, bob_launch.text
        assert (await service.stop(bobs, user="bob")).status_code == 200

        await stop_ok(service, gids[0])
        await launch_server(service, gids[3], tier="pro")
        for gid in gids[1:]:
            await stop_ok(service, gid)


async def test_invalid_launch_bodies_are_400(service: Service) -> None:
    url_of = "/api/generations/{}/preview/launch".format
    with trio.fail_after(20):
        gid = await service.upload(server_app())
        cases: list[tuple[dict[str, Any], str]] = [
            ({"json": {"command": "python server.py"}}, "invalid_command"),
            ({"json": {"command": []}}, "invalid_command"),
            ({"json": {"command": ["python", ""]}}, "invalid_command"),
            ({"json": {"command": ["python", 3]}}, "invalid_command"),
            # Braces that are not {python} / {port} cannot be filled in.
            ({"json": {"command": ["{python}", "-c", "print({})"]}}, "invalid_command"),
            ({"json": {"command": ["{python}", "{home}"]}}, "invalid_command"),
            ({"json": {"command": ["{python:>999999999}"]}}, "invalid_command"),
            ({"json": {"command": SERVER_COMMAND, "healthPath": "nope"}}, "invalid_health_path"),
            ({"json": {"command": SERVER_COMMAND, "healthPath": 7}}, "invalid_health_path"),
            # "yes" and ?wait=maybe were taken as true and false.
            ({"json": {"command": SERVER_COMMAND, "wait": "yes"}}, "invalid_wait"),
            ({"json": {"command": SERVER_COMMAND}, "params": {"wait": "maybe"}}, "invalid_wait"),
            ({"json": [1, 2]}, "invalid_json"),
            (
                {"content": b"{oops", "headers": {"Content-Type": "application/json"}},
                "invalid_json",
            ),
        ]
        for kwargs, code in cases:
            headers = {**auth(), **kwargs.pop("headers", {})}
            response = await service.client.post(url_of(gid), headers=headers, **kwargs)
            assert_error(response, 400, code)
            assert service.supervisor.ports.in_use == frozenset()  # no port leaked
        assert_error(
            await service.client.get(f"/api/generations/{gid}/preview/status", headers=auth()),
            404,
            "no_active_preview",
        )
        # Escaped braces are literal text; {port} and {root_path} are filled in.
        launched = await service.launch(
            gid, command=[*SERVER_COMMAND, "{{x}}", "{root_path}", "--port={port}"]
        )
        assert launched.status_code == 200, launched.text
        body = launched.json()
        assert body["status"] == "running"
        argv = psutil.Process(body["processId"]).cmdline()
        assert argv[-3:] == [
            "{x}",
            f"/api/generations/{gid}/preview/proxy",
            f"--port={body['port']}",
        ]
        await stop_ok(service, gid)


@pytest.fixture
def one_port(settings: Settings) -> Settings:
    """A port pool of one port; applied before the ``service`` fixture starts."""
    object.__setattr__(settings, "port_max", settings.port_min)
    return settings


async def test_port_pool_exhausted_is_503(one_port: Settings, service: Service) -> None:
    with trio.fail_after(30):
        first_gid = await service.upload(server_app())
        second_gid = await service.upload(server_app())
        first = await launch_server(service, first_gid, tier="pro")
        assert first["port"] == one_port.port_min
        refused = await service.launch(second_gid, tier="pro", command=SERVER_COMMAND)
        details = assert_error(refused, 503, "port_pool_exhausted")["details"]
        assert details == {"portMin": one_port.port_min, "portMax": one_port.port_min}
        assert int(refused.headers["retry-after"]) > 0
        assert_error(
            await service.client.get(
                f"/api/generations/{second_gid}/preview/status", headers=auth()
            ),
            404,
            "no_active_preview",
        )
        await stop_ok(service, first_gid)
        assert service.supervisor.ports.in_use == frozenset()


async def test_stopped_previews_port_is_reused_at_once(
    one_port: Settings, service: Service
) -> None:
    with trio.fail_after(30):
        first_gid = await service.upload(server_app())
        second_gid = await service.upload(server_app())
        first = await launch_server(service, first_gid, tier="pro")
        # One HTTP/1.0 exchange the app closes first, as a browser's visit can end: the
        # app's side of it (on the preview's port) is left in TIME_WAIT.
        async with await service.open_app_stream(first) as visit:
            await visit.send_all(b"GET / HTTP/1.0\r\n\r\n")
            while await visit.receive_some():  # until the app closes
                pass
        await stop_ok(service, first_gid)
        second = await service.launch(second_gid, tier="pro", command=SERVER_COMMAND)
        if second.status_code == 200:
            await stop_ok(service, second_gid)
        assert second.status_code == 200, second.text
        assert second.json()["port"] == one_port.port_min


# -- status, stop, config ---------------------------------------------------------------


async def test_status_and_stop_without_preview_and_after_stop(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        status_url = f"/api/generations/{gid}/preview/status"
        assert_error(await service.client.get(status_url, headers=auth()), 404, "no_active_preview")
        assert_error(await service.stop(gid), 404, "no_active_preview")

        launched = await launch_server(service, gid)
        stopped = await stop_ok(service, gid)
        assert stopped["previewInstanceId"] == launched["previewInstanceId"]
        assert stopped["stoppedAt"].endswith("Z")
        assert isinstance(stopped["exitCode"], int)
        assert_error(await service.stop(gid), 404, "no_active_preview")

        preview_id = launched["previewInstanceId"]
        await eventually(lambda: service.supervisor.get(preview_id) is None)
        status = await service.status(gid)  # now answered from the stored row
        assert status["previewInstanceId"] == preview_id
        assert status["status"] == "stopped"
        assert status["stoppedAt"] == stopped["stoppedAt"]
        assert status["exitCode"] == stopped["exitCode"]
        assert status["stopReason"] == "stopped by the user"
        assert status["memoryMb"] is None
        by_id = await service.client.get(
            status_url, params={"previewId": preview_id}, headers=auth()
        )
        assert by_id.json()["status"] == "stopped"
        other = await service.client.get(
            status_url, params={"previewId": "preview_nope"}, headers=auth()
        )
        assert_error(other, 404, "no_active_preview")


async def test_config_follows_the_tier(service: Service) -> None:
    with trio.fail_after(20):
        gid = await service.upload({"a.py": "pass\n"})
        url = f"/api/generations/{gid}/preview/config"
        free = (await service.client.get(url, headers=auth())).json()
        pro = (await service.client.get(url, headers=auth(tier="pro"))).json()
        assert free["maxInstances"] == 1 and pro["maxInstances"] == 3
        assert free["limitations"]["tier"] == "free" and pro["limitations"]["tier"] == "pro"
        assert free["limitations"]["maxConcurrentPreviews"] == 1
        assert pro["limitations"]["maxConcurrentPreviews"] == 3
        assert free["portRange"] == [service.settings.port_min, service.settings.port_max]


# -- session cookie ---------------------------------------------------------------------


def _session_cookie(response: httpx.Response) -> tuple[str, dict[str, str]]:
    for header in response.headers.get_list("set-cookie"):
        name_value, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = name_value.partition("=")
        if name == "preview_session":
            parsed = {}
            for attribute in attributes:
                key, _, val = attribute.partition("=")
                parsed[key.lower()] = val
            return value, parsed
    raise AssertionError(f"no preview_session cookie in {response.headers}")


async def test_session_cookie_reads_and_changes_nothing_without_the_csrf_header(
    service: Service,
) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        launched = await launch_server(service, gid)
        await stop_ok(service, gid)

        opened = await service.client.post("/api/session", headers=auth())
        assert opened.status_code == 200, opened.text
        assert opened.json()["userId"] == "alice"
        value, attributes = _session_cookie(opened)
        service.client.cookies.clear()
        assert "httponly" in attributes
        assert attributes["samesite"] == "Strict"
        assert attributes["path"] == "/api"
        # The session timeout, or less: never past the bearer token it was opened with,
        # which may end in the same second (a second boundary between the two: 3599).
        lifetime = opened.json()["expiresIn"]
        assert int(attributes["max-age"]) == lifetime
        assert service.settings.session_timeout - 60 <= lifetime <= service.settings.session_timeout
        assert "secure" not in attributes  # plain http here

        base = f"/api/generations/{gid}"
        async with httpx.AsyncClient(
            base_url=service.url, cookies={"preview_session": value}, trust_env=False, timeout=30
        ) as browser:
            history = await browser.get(f"{base}/preview/logs")
            assert history.status_code == 200, history.text
            assert history.json()["previewInstanceId"] == launched["previewInstanceId"]
            assert history.json()["events"]
            async with browser.stream("GET", f"{base}/preview/logs/stream") as response:
                assert response.status_code == 200
                events = await read_sse(response)
            assert events[-1][0] == "end" and events[-1][1]["status"] == "stopped"

            # What another page of this site could make the browser send is refused
            # (tests/api/test_session_cookie.py: with the header, from the UI).
            upload = await browser.post(
                "/api/generations", json={"projectId": "p", "files": {"a.py": "x"}}
            )
            assert_error(upload, 403, "session_cookie_refused")
            launch = await browser.post(f"{base}/preview/launch", json={})
            assert_error(launch, 403, "session_cookie_refused")
            assert (await browser.get(f"{base}/preview/status")).status_code == 200
            assert (await browser.get("/api/generations")).status_code == 200
            # Another user's session cookie does not open alice's logs.
            bob_session = _MINE.session_token(User("bob"))[0]
            browser.cookies.set("preview_session", bob_session)
            assert_error(await browser.get(f"{base}/preview/logs"), 404, "generation_not_found")

        async with httpx.AsyncClient(
            base_url=service.url,
            cookies={"preview_session": token()},
            trust_env=False,
            timeout=30,
        ) as forged:
            assert_error(await forged.get(f"{base}/preview/logs"), 401, "invalid_token")
            assert_error(await forged.get(f"{base}/preview/logs/stream"), 401, "invalid_token")

        as_bearer = await service.client.get(f"{base}/preview/logs", headers=_bearer(value))
        assert_error(as_bearer, 401, "invalid_token")
        assert await generation_ids(service) == [gid]


# -- log query parameters ---------------------------------------------------------------


async def test_bad_log_parameters_are_400(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        base = f"/api/generations/{gid}/preview"
        logs = await service.client.get(f"{base}/logs", headers=auth())
        assert_error(logs, 404, "no_active_preview")
        await launch_server(service, gid)
        await stop_ok(service, gid)
        cases = [
            ({"after": "-1"}, "invalid_after"),
            ({"after": "soon"}, "invalid_after"),
            ({"limit": "0"}, "invalid_limit"),
            ({"limit": "5001"}, "invalid_limit"),
            ({"format": "xml"}, "invalid_format"),
            ({"level": "LOUD"}, "invalid_level"),
            ({"source": "kernel"}, "invalid_source"),
            ({"q": "x" * 201}, "invalid_q"),
        ]
        for params, code in cases:
            response = await service.client.get(f"{base}/logs", params=params, headers=auth())
            assert_error(response, 400, code)
        for headers in ({"Last-Event-ID": "abc"}, {"Last-Event-ID": "-3"}):
            response = await service.client.get(
                f"{base}/logs/stream", headers={**auth(), **headers}
            )
            assert_error(response, 400, "invalid_last_event_id")
        response = await service.client.get(
            f"{base}/logs", params={"level": "warning,error", "limit": "1"}, headers=auth()
        )
        assert response.status_code == 200, response.text


# -- routing errors ---------------------------------------------------------------------


async def test_unknown_route_and_wrong_method_use_the_error_shape(service: Service) -> None:
    with trio.fail_after(20):
        assert_error(await service.client.get("/api/nope", headers=auth()), 404, "not_found")
        assert_error(await service.client.get("/nope"), 404, "not_found")
        wrong = await service.client.put("/api/generations", headers=auth(), json={})
        assert_error(wrong, 405, "method_not_allowed")
        assert set(wrong.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
        wrong = await service.client.post("/api/generations/gen_x/preview/status", headers=auth())
        assert_error(wrong, 405, "method_not_allowed")


async def test_an_unexpected_failure_is_a_500_in_the_error_shape_and_is_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, fast_paths=True)

    @app.get("/api/fails")
    async def _fails() -> None:
        raise RuntimeError("a bug with a secret in it")

    with trio.fail_after(20):
        async with running_service(settings, app) as service:
            response = await service.client.get("/api/fails", headers=auth())
            health = await service.client.get("/api/health")
    body = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text and body["details"] == {}
    assert health.status_code == 200  # the service goes on
    logged = [r for r in caplog.records if r.name == "preview" and r.exc_info]
    assert "GET /api/fails" in logged[0].getMessage()
    assert "a bug with a secret in it" in str(logged[0].exc_info[1])


async def test_an_unexpected_failure_in_a_websocket_handler_is_logged_as_itself(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, fast_paths=True)

    @app.websocket("/api/fails/ws")
    async def _fails() -> None:
        raise RuntimeError("a websocket bug")

    with trio.fail_after(20):
        async with running_service(settings, app) as service:
            host, port = service.url.removeprefix("http://").rsplit(":", 1)
            with pytest.raises(trio_websocket.HandshakeError) as refused:
                async with trio_websocket.open_websocket(
                    host, int(port), "/api/fails/ws", use_ssl=False
                ):
                    pass
            health = await service.client.get("/api/health")
    assert refused.value.status_code == 500
    assert json.loads(refused.value.body)["error"] == "internal_error"
    assert health.status_code == 200
    logged = [r for r in caplog.records if r.name == "preview" and r.exc_info]
    assert "WEBSOCKET /api/fails/ws" in logged[0].getMessage()
    assert "a websocket bug" in str(logged[0].exc_info[1])  # not "Not within a request context"


async def test_a_store_given_to_the_app_is_used_and_left_open(settings: Settings) -> None:
    with trio.fail_after(30):
        store = await Store.open(settings.database_url)
        try:
            async with running_service(
                settings, create_app(settings, store=store, fast_paths=True)
            ) as service:
                assert service.store is store
                gid = await service.upload(server_app())
            generation = await store.get_generation(gid)  # still open after the app stopped
        finally:
            await store.aclose()
    assert generation is not None and generation.user_id == "alice"
