"""Environment presets (issue 69, item 3): a generation's named sets of variables, kept
with secret values that no answer shows, given to a real app by a launch that names one
(the launch's own ``env`` laid over it), from the API and ``preview launch --preset``;
names, sizes and bodies checked; changes in the audit trail without a value."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import trio

from preview.cli import main

from ..conftest import SECRET, auth, token
from .jsonlog_app import call, observed_service

ENV_APP = r"""
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        names = ("FEATURE_NEW_UI", "GREETING", "API_KEY", "WORKERS")
        body = json.dumps({name: os.environ.get(name) for name in names}).encode()
        print("env " + body.decode(), flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""
COMMAND = ["{python}", "app.py"]
SECRET_VALUE = "sk_test_0123456789abcdef"
DEV = {
    "env": {
        "FEATURE_NEW_UI": "true",
        "GREETING": "from the preset",
        "API_KEY": SECRET_VALUE,
        "WORKERS": "1",
        "VERBOSE": "off",
    },
    "secret": ["API_KEY"],
}


async def _app_env(service: Any, gid: str, launched: dict[str, Any]) -> dict[str, Any]:
    """What the running app has in its environment (it answers its own)."""
    response = await service.client.post(
        f"/api/generations/{gid}/preview/request",
        json={"method": "GET", "path": "/"},
        headers={**auth(), "X-Preview-Token": launched["previewToken"]},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_presets_are_kept_masked_and_laid_under_a_launchs_env(settings: Any) -> None:
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            client = service.client
            gid = await service.upload({"app.py": ENV_APP})
            presets = f"/api/generations/{gid}/presets"
            made = await client.put(f"{presets}/dev", json=DEV, headers=auth())
            again = await client.put(f"{presets}/dev", json=DEV, headers=auth())
            listed = await client.get(presets, headers=auth())
            # Sent back as read (the secret null) with one value changed: the secret kept.
            edited = {v["name"]: v["value"] for v in made.json()["variables"]}
            edited["GREETING"] = "from the edited preset"
            kept = await client.put(
                f"{presets}/dev", json={"env": edited, "secret": ["API_KEY"]}, headers=auth()
            )
            one = await client.get(f"{presets}/dev", headers=auth())
            launched = await service.launch(
                gid, command=COMMAND, preset="dev", env={"WORKERS": "4"}
            )
            assert launched.json()["status"] == "running", launched.text
            seen = await _app_env(service, gid, launched.json())
            assert await call(service, {**launched.json(), "gid": gid}, "/") == 200
            unknown = await service.launch(gid, command=COMMAND, preset="prod")
            not_a_name = await service.launch(gid, command=COMMAND, preset=5)
            await service.stop(gid)
            removed = await client.delete(f"{presets}/dev", headers=auth())
            gone = await client.get(f"{presets}/dev", headers=auth())
            bob = await client.get(presets, headers=auth("bob"))
            bob_put = await client.put(f"{presets}/dev", json=DEV, headers=auth("bob"))
            audit = await client.get("/api/audit", params={"generation": gid}, headers=auth())
    assert made.status_code == 201 and again.status_code == 200, made.text
    variables = {v["name"]: v for v in listed.json()["presets"][0]["variables"]}
    assert variables["API_KEY"] == {
        "name": "API_KEY",
        "value": None,
        "secret": True,
        "toggle": False,
    }
    assert variables["FEATURE_NEW_UI"]["toggle"] is True
    assert variables["VERBOSE"]["toggle"] is True  # a value that can only be a switch
    assert variables["WORKERS"]["toggle"] is False  # 1 alone is a number
    assert variables["GREETING"] == {
        "name": "GREETING",
        "value": "from the preset",
        "secret": False,
        "toggle": False,
    }
    assert listed.json()["limit"] == 20
    assert kept.status_code == 200, kept.text
    for answer in (made, again, listed, kept, one):
        assert SECRET_VALUE not in answer.text
    assert one.json()["name"] == "dev" and one.json()["createdAt"].endswith("Z")
    # The preset's variables under the launch's own (WORKERS: the launch's).
    assert seen == {
        "FEATURE_NEW_UI": "true",
        "GREETING": "from the edited preset",
        "API_KEY": SECRET_VALUE,
        "WORKERS": "4",
    }
    assert unknown.status_code == 404 and unknown.json()["error"] == "preset_not_found"
    assert not_a_name.status_code == 400 and not_a_name.json()["error"] == "invalid_preset"
    assert removed.status_code == 200
    assert gone.status_code == 404 and gone.json()["error"] == "preset_not_found"
    assert bob.status_code == 404 and bob.json()["error"] == "generation_not_found"
    assert bob_put.status_code == 404
    entries = audit.json()["entries"]
    actions = [e["action"] for e in entries]
    assert actions.count("preset_put") == 3 and "preset_delete" in actions
    launch = next(e for e in entries if e["action"] == "launch")
    assert launch["details"]["preset"] == "dev"
    first = next(e for e in reversed(entries) if e["action"] == "preset_put")
    assert first["details"] == {"preset": "dev", "created": True, "variables": 5, "secrets": 1}
    assert SECRET_VALUE not in audit.text and "from the preset" not in audit.text


async def test_names_bodies_and_the_limit_are_checked(settings: Any) -> None:
    with trio.fail_after(60):
        async with observed_service(settings) as service:
            client = service.client
            gid = await service.upload({"app.py": ENV_APP})
            presets = f"/api/generations/{gid}/presets"
            refused = {}
            for label, name, body in (
                ("name", "with space", DEV),
                ("long", "p" * 65, DEV),
                ("dot first", ".hidden", DEV),
                ("no env", "a", {"secret": []}),
                ("env list", "a", {"env": ["A"]}),
                ("bad variable", "a", {"env": {"1A": "x"}}),
                ("number", "a", {"env": {"A": 1}}),
                ("too many", "a", {"env": {f"V{i}": "x" for i in range(201)}}),
                ("secret unknown", "a", {"env": {"A": "x"}, "secret": ["B"]}),
                ("null plain", "a", {"env": {"A": None}}),
                ("null new secret", "a", {"env": {"A": None}, "secret": ["A"]}),
                ("not json", "a", None),
            ):
                if body is None:
                    response = await client.put(
                        f"{presets}/{name}",
                        content=b"{",
                        headers={**auth(), "Content-Type": "application/json"},
                    )
                else:
                    response = await client.put(f"{presets}/{name}", json=body, headers=auth())
                refused[label] = (response.status_code, response.json()["error"])
            bad_get = await client.get(f"{presets}/with%20space", headers=auth())
            for i in range(20):
                made = await client.put(f"{presets}/p{i}", json={"env": {}}, headers=auth())
                assert made.status_code == 201, made.text
            over = await client.put(f"{presets}/p20", json={"env": {}}, headers=auth())
            replaced = await client.put(f"{presets}/p3", json={"env": {"A": "b"}}, headers=auth())
            listed = (await client.get(presets, headers=auth())).json()
            # The generation's presets go with it (the table's rows cascade).
            deleted = await client.delete(f"/api/generations/{gid}", headers=auth())
            after = await client.get(presets, headers=auth())
    assert refused == {
        "name": (400, "invalid_preset_name"),
        "long": (400, "invalid_preset_name"),
        "dot first": (400, "invalid_preset_name"),
        "no env": (400, "invalid_env"),
        "env list": (400, "invalid_env"),
        "bad variable": (400, "invalid_env"),
        "number": (400, "invalid_env"),
        "too many": (400, "invalid_env"),
        "secret unknown": (400, "invalid_secret"),
        "null plain": (400, "invalid_env"),
        "null new secret": (400, "invalid_env"),
        "not json": (400, "invalid_json"),
    }
    assert bad_get.status_code == 400 and bad_get.json()["error"] == "invalid_preset_name"
    assert over.status_code == 409 and over.json()["error"] == "too_many_presets"
    assert over.json()["details"] == {"limit": 20}
    assert replaced.status_code == 200  # a preset of a name it has: replaced, not refused
    assert [p["name"] for p in listed["presets"]] == sorted(f"p{i}" for i in range(20))
    assert deleted.status_code == 200, deleted.text
    assert after.status_code == 404 and after.json()["error"] == "generation_not_found"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("PREVIEW_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PREVIEW_JWT_SECRET", SECRET)
    monkeypatch.setenv("PREVIEW_DATA_DIR", str(tmp_path / "cli-data"))


async def test_preview_launch_preset_gives_the_app_its_variables(
    settings: Any, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            gid = await service.upload({"app.py": ENV_APP})
            made = await service.client.put(
                f"/api/generations/{gid}/presets/dev", json=DEV, headers=auth()
            )
            assert made.status_code == 201, made.text
            common = ["--url", service.url, "--token", token("alice")]
            argv = ["launch", gid, "--preset", "dev", "--env", "GREETING=cli", "--wait"]
            argv += ["--json", "--command", "{python} app.py", *common]
            code = await trio.to_thread.run_sync(main, argv, abandon_on_cancel=True)
            launched = json.loads(capsys.readouterr().out)
            service.children.append(launched["processId"])
            seen = await _app_env(service, gid, launched)
            with pytest.raises(
                SystemExit, match=r"^error 404: This generation has no preset 'nope'"
            ):
                await trio.to_thread.run_sync(
                    main, ["launch", gid, "--preset", "nope", *common], abandon_on_cancel=True
                )
            await service.stop(gid)
    assert code == 0 and launched["status"] == "running"
    assert seen["GREETING"] == "cli" and seen["API_KEY"] == SECRET_VALUE
    assert seen["FEATURE_NEW_UI"] == "true"
