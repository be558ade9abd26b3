"""Issue 63 (7): what the API does, the CLI does too, against a real service: ``launch``
with ``--env``, ``--env-file``, ``--command`` and ``--from-snapshot``; ``revisions``
(list, diff, apply), ``snapshots`` (take, list, restore, diff, delete), ``requests``
(list, ``--har``, replay). Each command runs as a user's shell runs it (a process of
its own); ``--json`` prints the API's answer, an error is one line and exit code 1."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from .api.test_snapshots import App, items_app
from .conftest import SECRET, SERVER_COMMAND, VERSIONED, Service, auth, server_app, token

_DEV = Path(__file__).resolve().parent.parent / "dev"
# Answers GET /env/<NAME> with that variable's value (404 when it is not set).
_ENV_APP = """
class Env(Handler):
    def do_GET(self):
        name = self.path.removeprefix("/env/")
        if name not in os.environ:
            self.send_response(404); self.end_headers(); return
        body = os.environ[name].encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Env
"""


async def preview(service: Service, *argv: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """``preview ARGV --url … --token …`` in a process of its own: (code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREVIEW_")}
    env.update(PREVIEW_JWT_SECRET=SECRET, GIVEN_BY_SHELL="from the shell")
    done = await trio.run_process(
        [sys.executable, "-m", "preview", *argv, "--url", service.url, "--token", token()],
        env=env,
        cwd=cwd,
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def ok(service: Service, *argv: str) -> str:
    code, out, err = await preview(service, *argv)
    assert code == 0, (argv, out, err)
    return out


async def as_json(service: Service, *argv: str) -> Any:
    return json.loads(await ok(service, *argv, "--json"))


async def test_launch_gives_the_app_its_env_and_command(service: Service, tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text(
        "# the app's settings\nexport FROM_FILE='file value'\nOVERRIDDEN=file\n"
        "JOINED=${FROM_FILE}!\n"
    )
    with trio.fail_after(60):
        gid = await service.upload(server_app(before_serving=_ENV_APP))
        launched = await as_json(
            service,
            "launch",
            gid,
            "--wait",
            "--command",
            "{python} server.py",
            "--env",
            "GREETING=hello world",
            "--env-file",
            str(tmp_path / "app.env"),
            "--env",
            "OVERRIDDEN=flag",
            "--env",
            "GIVEN_BY_SHELL",
        )
        service.children.append(launched["processId"])
        assert launched["status"] == "running", launched
        assert str(launched["runtime"]["command"]).endswith("server.py"), launched["runtime"]
        seen = {
            name: (await service.app_get(launched, f"/env/{name}")).text
            for name in ("GREETING", "FROM_FILE", "OVERRIDDEN", "JOINED", "GIVEN_BY_SHELL")
        }
        assert seen == {
            "GREETING": "hello world",
            "FROM_FILE": "file value",
            "OVERRIDDEN": "flag",
            "JOINED": "file value!",
            "GIVEN_BY_SHELL": "from the shell",
        }
        assert (await service.stop(gid)).status_code == 200

        # What the command line cannot make a launch of is said on one line, nothing sent.
        for wrong, said in (
            (["--env", "=x"], "--env '=x': a variable's name comes first (K=V)"),
            (["--env", "UNSET_HERE_X"], "--env UNSET_HERE_X: not set in this shell"),
            (["--env-file", str(tmp_path / "none.env")], "--env-file: no such file: "),
            (["--command", "'unclosed"], "--command: No closing quotation"),
        ):
            code, out, err = await preview(service, "launch", gid, *wrong)
            assert (code, out) == (1, ""), (wrong, out, err)
            assert err.startswith(said) and err.count("\n") == 1, (wrong, err)
        # The API's refusal of a variable's name: its own message, one line.
        code, _, err = await preview(service, "launch", gid, "--env", "BAD-NAME=1")
        assert code == 1 and err.startswith("error 400: env must be an object"), err
        assert err.count("\n") == 1
        assert (await service.status(gid))["status"] == "stopped"


async def test_revisions_list_diff_and_apply(service: Service) -> None:
    with trio.fail_after(90):
        gid = await service.upload(server_app(before_serving=VERSIONED, **{"version.txt": "one\n"}))
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", launched
        added = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": {"version.txt": "two\n"}},
            headers=auth(),
        )
        assert added.status_code == 201 and added.json()["applied"], added.text
        assert (await service.app_get(launched, "/version.txt")).text == "two\n"

        lines = (await ok(service, "revisions", gid)).splitlines()
        assert len(lines) == 2, lines
        assert lines[0].startswith("  1  "), lines
        assert lines[0].endswith("2 files (server.py, version.txt)"), lines
        assert lines[1].startswith("  2  "), lines
        assert lines[1].endswith("1 file changed (version.txt)"), lines
        listed = await as_json(service, "revisions", gid)
        assert [r["revision"] for r in listed["revisions"]] == [1, 2]

        diff = await ok(service, "revisions", gid, "diff", "2")
        assert "-one\n" in diff and "+two\n" in diff and "b/version.txt" in diff
        assert (await as_json(service, "revisions", gid, "diff", "2", "--from", "1"))["to"] == 2

        said = await ok(service, "revisions", gid, "apply", "1")
        assert said.startswith("revision 1: 1 file changed (version.txt) — ready in "), said
        assert said.endswith(" ms, switched\n"), said
        assert (await service.app_get(launched, "/version.txt")).text == "one\n"
        applied = await as_json(service, "revisions", gid, "apply", "2")
        assert applied["applied"] is True and applied["apply"]["state"] == "switched"
        assert (await service.app_get(launched, "/version.txt")).text == "two\n"

        code, out, err = await preview(service, "revisions", gid, "apply", "9")
        assert (code, out) == (1, "") and err.startswith("error 404: ") and err.count("\n") == 1
        assert (await service.stop(gid)).status_code == 200


async def test_snapshots_take_list_diff_restore_delete_and_seed_a_launch(
    service: Service,
) -> None:
    with trio.fail_after(120):
        gid = await service.upload(items_app("sqlite"))
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", launched
        app = App(service, gid, launched)
        await app.call("POST", "/items", {"name": "apple"})

        first = await as_json(service, "snapshots", gid, "take", "--name", "one apple")
        assert first["name"] == "one apple"
        assert [t["rows"] for t in first["tables"] if t["table"] == "items"] == [1]
        await app.call("POST", "/items", {"name": "pear"})
        took = await ok(service, "snapshots", gid, "take")
        second = took.split()[0]
        assert second.startswith("snap") and "(no name)" in took and " rows in " in took, took

        lines = (await ok(service, "snapshots", gid)).splitlines()
        assert [line.split()[0] for line in lines] == [first["snapshotId"], second], lines
        assert "one apple  1 row in " in lines[0], lines
        assert len((await as_json(service, "snapshots", gid, "list"))["snapshots"]) == 2

        diff = await ok(service, "snapshots", gid, "diff", first["snapshotId"], second)
        assert "items: changed, 1 added, 0 removed, 0 changed" in diff, diff

        restored = await ok(service, "snapshots", gid, "restore", first["snapshotId"])
        assert restored.startswith(f"{first['snapshotId']}: restored into "), restored
        assert await app.names() == ["apple"]

        deleted = await ok(service, "snapshots", gid, "delete", second)
        assert deleted == f"{second}: deleted\n"
        left = await as_json(service, "snapshots", gid)
        assert [s["snapshotId"] for s in left["snapshots"]] == [first["snapshotId"]]
        code, out, err = await preview(service, "snapshots", gid, "delete", second)
        assert (code, out) == (1, "") and err.startswith("error 404: ") and err.count("\n") == 1

        # A new launch seeded from the snapshot starts with its rows.
        await app.call("POST", "/items", {"name": "plum"})
        assert (await service.stop(gid)).status_code == 200
        seeded = await as_json(
            service,
            "launch",
            gid,
            "--wait",
            "--command",
            "{python} server.py",
            "--from-snapshot",
            first["snapshotId"],
        )
        service.children.append(seeded["processId"])
        assert seeded["status"] == "running", seeded
        assert await App(service, gid, seeded).names() == ["apple"]
        assert (await service.stop(gid)).status_code == 200


async def test_requests_list_har_and_replay(service: Service, tmp_path: Path) -> None:
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", launched
        app = App(service, gid, launched)
        for path in ("/first", "/second?x=1"):
            assert await app.call("GET", path) == "ok"

        lines = (await ok(service, "requests", gid)).splitlines()
        assert len(lines) == 2, lines
        assert " GET /second?x=1  200  " in lines[0] and " GET /first  200  " in lines[1]
        listed = await as_json(service, "requests", gid, "--path", "first")
        ((row,),) = [listed["requests"]]
        assert row["path"] == "/first" and listed["hasMore"] is False

        har = tmp_path / "requests.har"
        said = await ok(service, "requests", gid, "--har", str(har))
        assert said == f"{har}: 2 requests (HAR 1.2)\n"
        document = json.loads(har.read_text())
        assert document["log"]["version"] == "1.2"
        urls = sorted(entry["request"]["url"] for entry in document["log"]["entries"])
        assert [url.rsplit("/", 1)[-1] for url in urls] == ["first", "second?x=1"], urls

        replayed = await ok(
            service,
            "requests",
            gid,
            "replay",
            str(row["id"]),
            "--preview-token",
            launched["previewToken"],
        )
        assert replayed.splitlines()[0].endswith("GET /first: 200 -> 200, same"), replayed
        assert replayed.splitlines()[1].startswith("replayed 1 on revision 1 ("), replayed
        assert "1 same, 0 different, 0 skipped" in replayed
        answer = await as_json(
            service,
            "requests",
            gid,
            "replay",
            str(row["id"]),
            "--preview-token",
            launched["previewToken"],
        )
        assert answer["replayed"] == 1 and answer["results"][0]["path"] == "/first", answer
        # Without the preview's token it asks for one of its own, says so, and revokes
        # it when done: the launch's keeps working (issue 63, item 9).
        code, out, err = await preview(service, "requests", gid, "replay", "all")
        assert code == 0 and "a preview token of its own" in err, (out, err)
        assert "replayed 2 on revision 1" in out, out
        tokens = await service.client.get(f"/api/generations/{gid}/preview/tokens", headers=auth())
        assert [token["label"] for token in tokens.json()["tokens"]] == ["launch"]
        assert await app.call("GET", "/first") == "ok"
        assert (await service.stop(gid)).status_code == 200


async def test_an_unknown_generation_is_one_line_and_exit_code_1(service: Service) -> None:
    with trio.fail_after(60):
        for argv in (
            ["revisions", "gen_nope"],
            ["revisions", "gen_nope", "diff", "2"],
            ["snapshots", "gen_nope", "take"],
            ["snapshots", "gen_nope", "--json"],
            ["requests", "gen_nope"],
            ["requests", "gen_nope", "replay", "all", "--preview-token", "pvt_x"],
        ):
            code, out, err = await preview(service, *argv)
            assert (code, out) == (1, ""), (argv, out, err)
            assert err.startswith("error 404: No generation 'gen_nope'"), (argv, err)
            assert err.count("\n") == 1, (argv, err)
        for argv in (
            ["revisions", "x/../y"],
            ["snapshots", "gen_x", "restore", "../snap"],
            ["requests", "gen?x", "--har", "f"],
        ):
            code, out, err = await preview(service, *argv)
            assert code == 2 and out == "" and "not a " in err, (argv, err)


async def test_dev_passes_the_new_commands_through(service: Service, tmp_path: Path) -> None:
    """``./dev revisions|snapshots|requests …`` reach ``preview`` (not ``dev``'s usage)."""
    dev = _DEV
    if not os.access(dev.parent / ".venv" / "bin" / "preview", os.X_OK):
        pytest.skip("the clone's .venv is not installed (./dev serve or ./dev test installs it)")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    with trio.fail_after(60):
        for command in ("revisions", "snapshots", "requests"):
            done = await trio.run_process(
                [str(dev), command, "gen_nope", "--url", service.url, "--token", token()],
                cwd=tmp_path,
                env=env,
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
            said = done.stderr.decode()
            assert done.returncode == 1 and said.startswith("error 404: No generation"), said
