"""The ``preview`` command: token, push, launch, logs, stop, follow, help, errors."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from functools import partial
from pathlib import Path

import httpx
import jwt
import pytest
import trio

from preview.auth import JWTAuthenticator, User
from preview.cli import main
from preview.client import print_event, print_launch
from preview.errors import Unauthorized
from preview.settings import SETTINGS_HELP

from .conftest import (
    EXAMPLE_APP,
    SECRET,
    SERVER_COMMAND,
    Service,
    auth,
    eventually,
    example_files,
    server_app,
    token,
)

_DECODER = JWTAuthenticator(SECRET, session_timeout=3600)
_HYPERCORN_TOML = EXAMPLE_APP.parent.parent / "hypercorn.toml"  # the repository's


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("PREVIEW_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PREVIEW_JWT_SECRET", SECRET)
    monkeypatch.setenv("PREVIEW_DATA_DIR", str(tmp_path / "cli-data"))
    return tmp_path / "cli-data"


async def cli(*argv: str) -> int:
    """Run the (synchronous, blocking) CLI in a worker thread, as a user's shell would."""
    return await trio.to_thread.run_sync(main, list(argv), abandon_on_cancel=True)


def test_token_prints_a_jwt_for_the_user_and_tier(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "alice", "--tier", "pro"]) == 0
    printed = capsys.readouterr().out.strip()
    assert _DECODER.decode(printed) == User("alice", "pro")
    claims = jwt.decode(printed, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 24 * 3600

    assert main(["token", "bob", "--hours", "0.5"]) == 0
    printed = capsys.readouterr().out.strip()
    assert _DECODER.decode(printed) == User("bob", "free")
    claims = jwt.decode(printed, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 1800
    assert not cli_env.exists()  # a configured secret writes nothing


def test_token_longer_than_the_service_accepts_is_not_printed(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["token", "alice", "--hours", str(31 * 24)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "PREVIEW_JWT_MAX_LIFETIME" in captured.err
    monkeypatch.setenv("PREVIEW_JWT_MAX_LIFETIME", str(40 * 86400))
    assert main(["token", "alice", "--hours", str(31 * 24)]) == 0


def test_token_without_secret_uses_the_generated_one(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREVIEW_JWT_SECRET")
    assert main(["token", "carol"]) == 0
    printed = capsys.readouterr().out.strip()
    secret = (cli_env / "jwt-secret").read_text()
    assert JWTAuthenticator(secret, session_timeout=60).decode(printed) == User("carol")
    with pytest.raises(Unauthorized, match="token is not valid"):
        _DECODER.decode(printed)


def test_malformed_setting_is_reported_not_raised(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREVIEW_PORT_MIN", "abc")
    assert main(["token", "alice"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "PREVIEW_PORT_MIN" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("kind", ["malformed", "no driver", "no directory", "refused"])
def test_a_database_that_cannot_be_opened_is_one_line_not_a_traceback(
    cli_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kind: str,
) -> None:
    (tmp_path / "a-file").write_text("")
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = {
        "malformed": "not a url",
        "no driver": "mysql://someone@127.0.0.1/db",
        "no directory": f"sqlite:///{tmp_path}/a-file/preview.db",
        "refused": f"postgresql+psycopg://someone:secret@127.0.0.1:{port}/db",
    }[kind]
    monkeypatch.setenv("PREVIEW_DB_URL", url)
    assert main(["serve", "--bind", "127.0.0.1:0"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: cannot open the database ")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert "secret" not in captured.err and "Preview service ready" not in captured.out


@pytest.mark.parametrize("argv", [["serve", "--help-settings"], ["--help-settings"]])
def test_help_settings_lists_every_setting(
    cli_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == len(SETTINGS_HELP)
    for (name, _, unit, text), line in zip(SETTINGS_HELP, lines, strict=True):
        assert line.startswith(name + " ")
        assert line.rstrip().endswith(text) and f" {unit} " in line


def test_serve_read_alone_is_read_as_the_whole_parser_reads_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`preview serve` is parsed without the client commands (preview/cli.py), with the
    same help; what that parser leaves gets the whole parser's error, as before."""
    from preview import cli as command_line
    from preview.client.commandline import _parser

    parser, commands = _parser(command_line.__doc__ or "", command_line.add_serve_command)
    with pytest.raises(SystemExit) as help_exit:
        main(["serve", "--help"])
    assert help_exit.value.code == 0
    assert capsys.readouterr().out == commands["serve"].format_help()
    for argv in (["serve", "--no-such-option"], ["--bind"], ["--help"]):
        with pytest.raises(SystemExit) as fast_exit:
            main(argv)
        fast = capsys.readouterr()
        with pytest.raises(SystemExit) as whole_exit:
            parser.parse_args(argv if argv[0] in ("serve", "--help") else ["serve", *argv])
        assert fast_exit.value.code == whole_exit.value.code
        assert fast == capsys.readouterr()
    assert "{serve,token,push," in fast.out  # --help: every command


async def test_push_launch_logs_stop_follow_against_the_service(
    service: Service, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--url", service.url, "--token", token("alice")]
    with trio.fail_after(60):
        assert await cli("push", str(EXAMPLE_APP), "--project", "proj_cli", *common) == 0
        gid = capsys.readouterr().out.strip()
        assert re.fullmatch(r"gen_[0-9a-f]{16}", gid), gid
        shown = await service.client.get(f"/api/generations/{gid}", headers=auth())
        assert shown.status_code == 200, shown.text
        assert shown.json()["projectId"] == "proj_cli"
        paths = [f["path"] for f in shown.json()["files"]]
        assert "app/main.py" in paths and "requirements.txt" in paths
        assert not any("__pycache__" in path for path in paths)
        listed = await service.client.get("/api/generations", headers=auth())
        assert [g["generationId"] for g in listed.json()["generations"]] == [gid]

        assert await cli("launch", gid, "--wait", "--json", *common) == 0
        launched = json.loads(capsys.readouterr().out)
        service.children.append(launched["processId"])
        assert launched["status"] == "running"
        assert launched["previewToken"].startswith("pvt_")

        assert await cli("logs", gid, *common) == 0
        history = capsys.readouterr().out
        assert "ready in " in history
        assert "Uvicorn running on" in history
        assert "\x1b[" not in history  # no colours when not a terminal

        assert await cli("stop", gid, "--json", *common) == 0
        stopped = json.loads(capsys.readouterr().out)
        assert stopped["status"] == "stopped"
        assert stopped["previewInstanceId"] == launched["previewInstanceId"]
        # Stopping what is already stopped: said plainly, and not an error.
        assert await cli("stop", gid, *common) == 0
        assert capsys.readouterr().out == f"{gid}: no preview is running; nothing to stop\n"

        assert await cli("logs", gid, "--follow", *common) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[-1] == "-- preview ended: stopped"
        assert any(" INFO  ready in " in line for line in lines)
        assert sum(line.endswith(" stopped by the user") for line in lines) == 1
        assert not any("stopped: stopped" in line for line in lines)


async def test_logs_leave_out_the_services_health_checks_unless_asked(
    service: Service, settings, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app's access lines of the service's own health checks (every 10 s by default)
    are left out of `preview logs` as the page hides them; `--health-checks` keeps them."""
    object.__setattr__(settings, "health_interval", 0.2)
    common = ["--url", service.url, "--token", token("alice")]

    probe = re.compile(r"GET \S*/health\b")  # under the app's root path: …/proxy/health

    def checks(text: str) -> list[str]:
        return [line for line in text.splitlines() if probe.search(line)]

    with trio.fail_after(60):
        gid = await service.upload(example_files())
        launched = (await service.launch(gid)).json()
        assert launched["status"] == "running" and launched["healthPath"] == "/health"

        # The checks are the service's (no event to wait on): their lines, once three.
        while len(checks("\n".join(e["message"] for e in await service.history(gid)))) < 3:  # noqa: ASYNC110
            await trio.sleep(0.05)
        assert await cli("logs", gid, *common) == 0
        plain = capsys.readouterr()
        assert await cli("logs", gid, "--health-checks", *common) == 0
        kept = capsys.readouterr().out
        assert (await service.stop(gid)).status_code == 200
        assert await cli("logs", gid, "--follow", *common) == 0
        followed = capsys.readouterr().out
    assert "Uvicorn running on" in plain.out and checks(plain.out) == []
    assert re.search(r"-- \d+ health checks of the service left out", plain.err), plain.err
    assert len(checks(kept)) >= 3
    assert "Uvicorn running on" in followed and checks(followed) == []


async def test_follow_tails_a_live_preview_until_it_ends(
    service: Service, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--url", service.url, "--token", token("alice")]
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running"
        runtime = service.supervisor.get(body["previewInstanceId"])
        codes: list[int] = []

        async def follow() -> None:
            codes.append(await cli("logs", gid, "--follow", *common))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(follow)
            await eventually(lambda: runtime.broadcast.subscriber_count >= 1)
            assert (await service.stop(gid)).status_code == 200
        assert codes == [0]
        lines = capsys.readouterr().out.splitlines()
        assert lines[-1] == "-- preview ended: stopped"
        assert any(line.endswith(" stopping (by the user)") for line in lines)


async def test_follow_into_a_reader_that_leaves_ends_quietly(service: Service) -> None:
    """``preview logs -f | head -1``: once the reader is gone, the next event ends the
    command with status 0 and nothing on stderr (no BrokenPipeError traceback)."""
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        runtime = service.supervisor.get(body["previewInstanceId"])
        argv = ["--url", service.url, "--token", token("alice")]
        async with trio.open_nursery() as nursery:
            follow = await nursery.start(
                partial(
                    trio.run_process,
                    [sys.executable, "-m", "preview", "logs", gid, "--follow", *argv],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    check=False,
                    env={**os.environ, "PREVIEW_JWT_SECRET": SECRET},
                )
            )
            assert follow.stdout is not None and follow.stderr is not None
            assert await follow.stdout.receive_some(1)  # the first line is on its way
            await follow.stdout.aclose()  # `head` has what it wanted
            await eventually(lambda: runtime.broadcast.subscriber_count >= 1)
            assert (await service.stop(gid)).status_code == 200  # more lines come
            errors = b""
            while chunk := await follow.stderr.receive_some():
                errors += chunk
            assert await follow.wait() == 0
        assert errors == b""


async def test_cli_errors_are_one_line_messages(
    service: Service, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--url", service.url, "--token", token("alice")]
    with trio.fail_after(20):
        with pytest.raises(SystemExit, match=r"^error 404: No generation 'gen_nope'"):
            await cli("launch", "gen_nope", *common)
        with pytest.raises(SystemExit, match=r"^error 401: .*\(the token came from --token\)$"):
            await cli("logs", "gen_nope", "--url", service.url, "--token", "bad")
        gid = await service.upload({"README.md": "hi"})
        with pytest.raises(SystemExit, match=r"^error 400: Found no way to start this app"):
            await cli("launch", gid, *common)
        with pytest.raises(SystemExit, match=r"^error 404: "):
            await cli("logs", gid, "--follow", *common)
        with pytest.raises(SystemExit, match=r"^not a folder: "):
            await cli("push", str(EXAMPLE_APP / "nowhere"), *common)

        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
            code = await cli("stop", gid, "--url", dead_url, "--token", token())
        assert code == 1
        err = capsys.readouterr().err
        assert "cannot reach the service" in err and "Traceback" not in err


async def test_a_generation_id_that_is_not_one_path_segment_is_refused(
    service: Service, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The id went into the URL's path as typed: ``stop x/../<gid>`` stopped that other
    generation's preview, and ``?`` or ``#`` sent the call elsewhere."""
    common = ["--url", service.url, "--token", token("alice")]
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", launched
        for given in (f"x/../{gid}", f"{gid}?x", f"{gid}#x", "..", f"{gid}%2F", f"{gid} x"):
            for command in ("stop", "launch", "logs"):
                with pytest.raises(SystemExit) as refused:
                    await cli(command, given, *common)
                assert refused.value.code == 2
                assert "not a generation id" in capsys.readouterr().err
        assert (await service.status(gid))["status"] == "running"
        await service.stop(gid)


async def test_python_dash_m_preview_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREVIEW_")}
    env.update(PREVIEW_JWT_SECRET=SECRET, PREVIEW_DATA_DIR=str(tmp_path))
    with trio.fail_after(30):
        done = await trio.run_process(
            [sys.executable, "-m", "preview", "token", "bob"],
            env=env,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert _DECODER.decode(done.stdout.decode().strip()) == User("bob", "free")

        env["PREVIEW_STOP_GRACE"] = "later"
        bad = await trio.run_process(
            [sys.executable, "-m", "preview", "token", "bob"],
            env=env,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        assert bad.returncode == 2
        assert b"PREVIEW_STOP_GRACE" in bad.stderr and b"Traceback" not in bad.stderr


def _client_env(state: Path, **extra: str) -> dict[str, str]:
    """A user's environment: no PREVIEW_* setting, their own per-user state directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREVIEW_", "XDG_"))}
    return env | {"XDG_STATE_HOME": str(state), "NO_COLOR": "1"} | extra


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def _drain(stream: trio.abc.ReceiveStream) -> None:
    while await stream.receive_some():
        pass


async def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    done = await trio.run_process(
        [sys.executable, "-m", "preview", *argv],
        cwd=cwd,
        env=env,
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def test_client_commands_use_the_running_servers_token_from_any_folder(
    tmp_path: Path,
) -> None:
    """`preview serve` in one folder, the client commands in another: they find the token
    the server left in the user's state directory (no new secret, no 401); launch says
    how to call the app; a second stop is no error; Ctrl-C ends a follow quietly."""
    server_dir, client_dir, state = tmp_path / "server", tmp_path / "elsewhere", tmp_path / "st"
    server_dir.mkdir()
    client_dir.mkdir()
    env = _client_env(state)
    # A service started cold, an example app built and launched: generous on a busy machine.
    with trio.fail_after(240):
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                partial(
                    trio.run_process,
                    [sys.executable, "-m", "preview", "serve", "--bind", "127.0.0.1:0"],
                    cwd=server_dir,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    check=False,
                )
            )
            assert server.stdout is not None
            printed = b""
            while b"ready: " not in printed or not printed.endswith(b"\n"):
                chunk = await server.stdout.receive_some()
                assert chunk, printed
                printed += chunk
            url = re.search(rb"ready: (http://[^/\s]+)/[?#]token=", printed).group(1).decode()
            try:
                code, out, err = await _run(
                    ["push", str(EXAMPLE_APP), "--url", url], client_dir, env
                )
                assert code == 0, err
                gid = out.strip()
                assert not (client_dir / ".preview-data").exists()  # no secret made here

                # The sign-in URL again, as `preview serve` printed it (its scrollback gone).
                code, out, err = await _run(["url", "--url", url], client_dir, env)
                assert code == 0, err
                signed_in = re.search(rb"ready: (http://\S+)", printed).group(1).decode()
                assert out == f"{signed_in}\n", (out, printed)
                assert "left by `preview serve`" in err

                code, out, err = await _run(
                    ["launch", gid, "--wait", "--url", url], client_dir, env
                )
                assert code == 0, err
                proxy = f"{url}/api/generations/{gid}/preview/proxy/"
                assert re.search(r"^preview_\w+: running$", out, re.M), out
                assert f"  proxy:  {proxy}\n" in out
                call = re.search(
                    r"^  call:   curl -H 'Authorization: Bearer …'"
                    r" -H 'X-Preview-Token: (pvt_\S+)' (\S+)$",
                    out,
                    re.M,
                )
                assert call is not None and call.group(2) == proxy, out
                assert "(… is your bearer token: the one after #token= in the URL" in out
                served = re.search(rb"[?#]token=([\w.-]+)", printed).group(1).decode()
                assert served not in out  # the bearer token is never in a client's output
                # The printed call works with the user's own token put in.
                headers = {"Authorization": f"Bearer {served}", "X-Preview-Token": call.group(1)}
                async with httpx.AsyncClient(trust_env=False) as http:
                    answer = await http.get(proxy + "api/items", headers=headers)
                assert answer.json() == [{"id": 1, "name": "first item"}]

                # Ctrl-C while following: no traceback, the conventional status.
                follow = await nursery.start(
                    partial(
                        trio.run_process,
                        [sys.executable, "-m", "preview", "logs", gid, "-f", "--url", url],
                        cwd=client_dir,
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        check=False,
                        # As from a terminal: Ctrl-C not ignored, whatever this test process
                        # inherited (Python keeps ignoring SIGINT if it started so).
                        preexec_fn=_default_sigint,
                    )
                )
                assert follow.stdout is not None and follow.stderr is not None
                assert await follow.stdout.receive_some()
                follow.send_signal(signal.SIGINT)
                errors = b""
                # Its output is read to the end too: the launch's lines can fill the pipe,
                # and a process blocked writing them flushes them again at exit.
                async with trio.open_nursery() as readers:
                    readers.start_soon(_drain, follow.stdout)
                    while chunk := await follow.stderr.receive_some():
                        errors += chunk
                assert await follow.wait() == 130
                assert b"Traceback" not in errors and b"KeyboardInterrupt" not in errors

                code, out, err = await _run(["stop", gid, "--url", url], client_dir, env)
                assert code == 0, err
                assert re.fullmatch(r"preview_\w+: stopped by you\n", out), out
                code, out, err = await _run(["stop", gid, "--url", url], client_dir, env)
                assert (code, out) == (0, f"{gid}: no preview is running; nothing to stop\n")

                # A user without the server's token is told where it was looked for.
                other = _client_env(tmp_path / "other-user")
                code, out, err = await _run(["logs", gid, "--url", url], client_dir, other)
                assert code == 1 and "Traceback" not in err
                assert f"no token for {url}" in err
                assert str(tmp_path / "other-user") in err

                # A token that the server refuses: the 401 names where it came from.
                tokens = next(state.rglob("servers.json"))
                assert tokens.stat().st_mode & 0o077 == 0  # the user's own
                tokens.write_text(json.dumps({url: "not-a-token"}))
                code, out, err = await _run(["logs", gid, "--url", url], client_dir, env)
                assert code == 1 and err.startswith("error 401: ")
                assert f"the token came from {tokens}, left by `preview serve` at {url}" in err
            finally:
                server.send_signal(signal.SIGTERM)
                assert await server.wait() == 0


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("--token", "'Authorization: Bearer …'"),
        ("$PREVIEW_TOKEN", '"Authorization: Bearer $PREVIEW_TOKEN"'),
    ],
)
def test_the_launch_call_line_never_shows_the_bearer_token(
    source: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bearer = token("alice")
    body = {
        "previewInstanceId": "preview_1",
        "status": "running",
        "baseUrl": "http://preview-1.localhost:8000/",
        "previewToken": "pvt_abc",
    }
    print_launch("http://127.0.0.1:8000", "gen_1", body, source)
    out = capsys.readouterr().out
    assert bearer not in out and bearer.split(".")[2] not in out
    proxy = "http://127.0.0.1:8000/api/generations/gen_1/preview/proxy/"
    assert f"  call:   curl -H {shown} -H 'X-Preview-Token: pvt_abc' {proxy}\n" in out
    # Pasted as printed, `Bearer …` is a 401: the line after it says what to put there.
    hint = "          (… is your bearer token: the one given with --token;\n"
    assert (hint in out) is (source == "--token"), out


def test_follow_colours_follow_the_level_not_the_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = {"timestamp": "2026-01-01T00:00:00Z", "message": "m"}
    print_event(event | {"level": "ERROR", "source": "system"}, True)
    print_event(event | {"level": "INFO", "source": "app"}, True)
    print_event(event | {"level": "WARN", "source": "app"}, True)
    print_event(event | {"level": "INFO", "source": "system"}, True)
    red, plain, yellow, system = capsys.readouterr().out.splitlines()
    assert red.startswith("\x1b[31m") and yellow.startswith("\x1b[33m")
    assert "\x1b[" not in plain and system.startswith("\x1b[36m")


def test_an_apps_output_reaches_the_terminal_as_text_and_colours_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What the app printed goes to the user's terminal (logs --follow, a failed launch's
    lines): its colours show, but no other escape acts there (the clipboard, the title,
    a link, a cursor move or a carriage return that overwrites the service's line),
    as in the UI."""
    hostile = (
        "\x1b[31mred\x1b[0m \x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b]0;title\x1b\\"
        " \x1b]8;;http://evil.example/\x07link\x1b]8;;\x07 \x1b[2J\x1b[1;1H\rspoof\x1b"
    )
    event = {"timestamp": "2026-01-01T00:00:00Z", "level": "INFO", "source": "app"}
    print_event(event | {"message": hostile, "process": "w\x1b]0;x\x07"}, True)
    print_event(event | {"message": hostile}, False)
    failed = {"previewInstanceId": "preview_1", "status": "failed", "errorLines": [hostile]}
    print_launch("http://127.0.0.1:8000", "gen_1", failed | {"errorMessage": hostile}, "")
    coloured, plain, *launch = capsys.readouterr().out.splitlines()
    for line in (coloured, plain, *launch):
        assert "\x1b]" not in line and "\r" not in line and "\x1b[2J" not in line, line
    assert "\x1b[31mred\x1b[0m" in coloured and coloured.endswith("spoof\u241b")
    assert "INFO  [w] " in coloured and "\u240d" in coloured
    assert "\x1b" not in plain and "\x1b" not in "".join(launch)
    assert plain.endswith("INFO  red   link \u240dspoof\u241b")


async def _started(
    nursery: trio.Nursery, argv: list[str], env: dict[str, str], stderr: int
) -> trio.Process:
    """``preview serve`` (``argv``) started, its stdout a pipe (read by _until_ready)."""
    return await nursery.start(
        partial(trio.run_process, argv, env=env, stdout=subprocess.PIPE, stderr=stderr, check=False)
    )


async def _until_ready(server: trio.Process) -> tuple[tuple[str, int], bytes]:
    """(its address, what it printed so far) once it says it is ready."""
    assert server.stdout is not None
    output = b""
    while (found := re.search(rb"ready: http://([\d.]+):(\d+)/", output)) is None:
        chunk = await server.stdout.receive_some()
        assert chunk, output
        output += chunk
    return (found.group(1).decode(), int(found.group(2))), output


async def test_serve_exits_at_once_with_idle_keep_alive_clients(tmp_path: Path) -> None:
    """Idle keep-alive connections are closed as the server stops, not after its
    graceful_timeout (10 s in hypercorn.toml): their idle timer used to be lost when
    the app cancelled the task that restarts it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREVIEW_")}
    env.update(PREVIEW_JWT_SECRET=SECRET, PREVIEW_DATA_DIR=str(tmp_path))
    argv = [sys.executable, "-m", "preview", "serve", "--bind", "127.0.0.1:0"]
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            server = await _started(nursery, argv, env, subprocess.DEVNULL)
            address, _ = await _until_ready(server)
            used = await trio.open_tcp_stream(*address)  # one request, then idle
            await used.send_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await used.receive_some()).startswith(b"HTTP/1.1 200 ")
            unused = await trio.open_tcp_stream(*address)  # connected, never asked
            began = trio.current_time()
            server.send_signal(signal.SIGINT)
            await server.wait()
            took = trio.current_time() - began
            await used.aclose()
            await unused.aclose()
    assert server.returncode == 0
    assert took < 5, took


async def test_a_path_cannot_write_lines_of_its_own_into_the_access_log(tmp_path: Path) -> None:
    """Hypercorn's access line has the request's path percent-decoded: a ``%0A`` in it
    started a line of the client's making in the service's log (``hypercorn.toml``'s
    ``accesslog = "-"``); the unhandled-error line took the path as it was too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREVIEW_", "XDG_"))}
    env.update(
        PREVIEW_JWT_SECRET=SECRET, PREVIEW_DATA_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path)
    )
    argv = [sys.executable, "-m", "preview", "serve", "--bind", "127.0.0.1:0", "--config"]
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            server = await _started(nursery, [*argv, str(_HYPERCORN_TOML)], env, subprocess.STDOUT)
            (host, port), output = await _until_ready(server)
            url = f"http://{host}:{port}"
            async with httpx.AsyncClient(base_url=url) as client:
                forged = "/api/x%0AFORGED 127.0.0.1 - - GET /admin 200%0D%1B[2J"
                assert (await client.get(forged)).status_code == 404
                marker = await client.get("/api/after-the-forged-line")  # logged after it
                assert marker.status_code == 404
            while b"after-the-forged-line" not in output:
                chunk = await server.stdout.receive_some()
                assert chunk, output
                output += chunk
            server.send_signal(signal.SIGINT)
            await server.wait()
    lines = output.decode("utf-8", "replace").splitlines()
    assert not [line for line in lines if line.startswith("FORGED")], lines[-5:]
    assert not [line for line in lines if "\x1b" in line or "\r" in line], lines[-5:]
    assert any("/api/x\\x0aFORGED 127.0.0.1" in line for line in lines), lines[-5:]


async def test_the_uis_answered_status_polls_are_not_access_lines(tmp_path: Path) -> None:
    """The UI polls a preview's status every 2 s (``X-Preview-Poll: 1``): a third of the
    terminal's lines were those. Answered polls go to debug; a failed one and every
    other call stay access lines (serving.EscapingLogger.access, Hypercorn's own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREVIEW_", "XDG_"))}
    env.update(
        PREVIEW_JWT_SECRET=SECRET, PREVIEW_DATA_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path)
    )
    argv = [sys.executable, "-m", "preview", "serve", "--bind", "127.0.0.1:0", "--config"]
    poll = {"X-Preview-Poll": "1"}
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            server = await _started(nursery, [*argv, str(_HYPERCORN_TOML)], env, subprocess.STDOUT)
            (host, port), output = await _until_ready(server)
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
                assert (await client.get("/api/health", headers=poll)).status_code == 200
                assert (await client.get("/api/nothing-polled", headers=poll)).status_code == 404
                assert (await client.get("/api/asked-last")).status_code == 404
            while b"/api/asked-last" not in output:
                chunk = await server.stdout.receive_some()
                assert chunk, output
                output += chunk
            server.send_signal(signal.SIGINT)
            await server.wait()
    text = output.decode("utf-8", "replace")
    assert "GET /api/health " not in text
    assert "/api/nothing-polled" in text  # a poll that failed is worth a line


async def test_a_server_on_every_interface_is_found_by_its_loopback_url(tmp_path: Path) -> None:
    """`serve --bind 0.0.0.0:<port>` prints (and saves its token for) http://0.0.0.0:<port>;
    a client told $PREVIEW_URL=http://127.0.0.1:<port> (or localhost) is the same server
    and finds that token. Another port is another server: no token. A client told no URL
    calls the running server, not the default port."""
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        port = probe.getsockname()[1]
    server_dir, client_dir, state = tmp_path / "server", tmp_path / "elsewhere", tmp_path / "st"
    server_dir.mkdir()
    client_dir.mkdir()
    env = _client_env(state)
    argv = [sys.executable, "-m", "preview", "serve", "--bind", f"0.0.0.0:{port}"]
    with trio.fail_after(90):
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                partial(
                    trio.run_process,
                    argv,
                    cwd=server_dir,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    check=False,
                )
            )
            assert server.stdout is not None
            printed = b""
            while b"ready: " not in printed or not printed.endswith(b"\n"):
                chunk = await server.stdout.receive_some()
                assert chunk, printed
                printed += chunk
            try:
                assert f"ready: http://0.0.0.0:{port}/#token=".encode() in printed, printed
                for host in ("127.0.0.1", "localhost"):
                    local = env | {"PREVIEW_URL": f"http://{host}:{port}"}
                    code, out, err = await _run(["push", str(EXAMPLE_APP)], client_dir, local)
                    assert code == 0, err
                    assert out.startswith("gen_"), out
                other = env | {"PREVIEW_URL": f"http://127.0.0.1:{port + 1}"}
                code, out, err = await _run(["push", str(EXAMPLE_APP)], client_dir, other)
                assert code == 1 and f"no token for http://127.0.0.1:{port + 1}" in err, err
                # Named nowhere: the running server is found by what `serve` left, before
                # an entry of a server that is no longer running (saved later, so newer).
                tokens = next(state.rglob("servers.json"))
                saved = json.loads(tokens.read_text())
                tokens.write_text(json.dumps(saved | {f"http://127.0.0.1:{port + 1}": "old"}))
                code, out, err = await _run(["url"], client_dir, env)
                assert code == 0, err
                assert out.startswith(f"http://127.0.0.1:{port}/#token="), out
            finally:
                server.send_signal(signal.SIGTERM)
                assert await server.wait() == 0


async def test_launch_wait_narrates_the_start_and_pins_a_failures_cause(
    service: Service, cli_env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``launch --wait`` prints the phases and lines as they come, then the outcome; a
    failed start prints its cause and the lines that show it; ``--quiet`` the outcome."""
    common = ["--url", service.url, "--token", token("alice")]
    broken = tmp_path / "broken-app"
    broken.mkdir()
    (broken / "main.py").write_text(
        "from fastapi import FastAPI\nimport settings_module_that_is_missing\napp = FastAPI()\n"
    )
    with trio.fail_after(60):
        assert await cli("push", str(EXAMPLE_APP), *common) == 0
        gid = capsys.readouterr().out.strip()
        assert await cli("launch", gid, "--wait", *common) == 0
        out = capsys.readouterr().out.splitlines()
        allocated = next(i for i, line in enumerate(out) if "allocated" in line)
        ready = next(i for i, line in enumerate(out) if " INFO  ready in " in line)
        outcome = next(i for i, line in enumerate(out) if re.match(r"preview_\w+: running$", line))
        assert allocated < ready < outcome, out
        assert await cli("stop", gid, *common) == 0
        capsys.readouterr()

        assert await cli("launch", gid, "--wait", "--quiet", *common) == 0
        quiet = capsys.readouterr().out.splitlines()
        assert re.match(r"preview_\w+: running$", quiet[0]) and not any(
            "ready in" in q for q in quiet
        )
        assert await cli("stop", gid, *common) == 0
        capsys.readouterr()

        assert await cli("push", str(broken), *common) == 0
        bad = capsys.readouterr().out.strip()
        shown = await service.client.get(f"/api/generations/{bad}", headers=auth())
        assert shown.json()["name"] == "broken-app"  # named after its folder
        assert await cli("launch", bad, "--wait", *common) == 1
        failed = capsys.readouterr().out
        assert re.search(r"^preview_\w+: failed$", failed, re.M), failed
        assert re.search(r"^  reason: .*settings_module_that_is_missing", failed, re.M), failed
        assert re.search(r"^  \| .*main\.py", failed, re.M), failed  # the pinned lines
