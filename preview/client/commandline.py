"""The client commands of ``preview`` (``token``, ``push``, ``launch``, ``stop``, ``logs``,
``watch``, ``url``; on what a generation keeps, ``revisions``, ``snapshots`` and
``requests``: ``commands.py``) and the whole command line's parser. ``preview serve``
alone does not import them (``preview/cli.py``: serving needs none of them).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import sys
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx
import trio

from ..auth import JWTAuthenticator
from ..settings import Settings
from . import (
    LOCAL_USER,
    HealthChecks,
    describe_stop,
    print_event,
    print_launch,
)
from .commands import add_data_commands
from .http import add_service_options, check, connect, error_code, generation_id
from .launching import add_launch_options, launch_options
from .printing import _command
from .watch import FolderRules

__all__ = ["parse"]

_LOCAL_USER = LOCAL_USER


def _authenticator(settings: Settings) -> JWTAuthenticator:
    return JWTAuthenticator(
        settings.resolve_jwt_secret(),
        session_timeout=settings.session_timeout,
        max_lifetime=settings.jwt_max_lifetime,
    )


def _cmd_token(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    authenticator = _authenticator(settings)
    lifetime = args.hours * 3600
    print(authenticator.issue(args.user, tier=args.tier, lifetime=lifetime, admin=args.admin))
    return 0


# How every client command calls the service: client/http.py.
_client, _check, _error_code, _generation_id = connect, check, error_code, generation_id


def _zip_folder(folder: Path) -> bytes:
    """The folder's files as ``watch`` and the page's upload find them (not in a skipped
    folder, not ignored by its ``.gitignore`` files), binary ones included."""
    rules = FolderRules(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in rules.files():
            archive.write(rules.folder / relative, relative)
    return buffer.getvalue()


def _cmd_push(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if not folder.is_dir():
        raise SystemExit(f"not a folder: {folder}")
    with _client(args) as client:
        # Named after its folder unless the user gave a name. The same files pushed
        # again are the generation they made (the service says so), unless --new.
        params = {"projectId": args.project or folder.resolve().name}
        if not args.new:
            params["existing"] = "reuse"
        body = _check(
            client.post(
                "/api/generations",
                content=_zip_folder(folder),
                params=params,
                headers={"Content-Type": "application/zip"},
            ),
            args,
        )
    gid = body["generationId"]
    print(gid)  # the id alone on stdout, for GID=$(preview push DIR), new or not
    if body.get("existing"):
        watch = f"{_command()} watch {shlex.quote(args.dir)} {gid}"
        print(
            f"{gid} ({body.get('name')}) already has these same files: nothing uploaded."
            f" To send your changes as they are saved: {watch} (push --new makes a copy)",
            file=sys.stderr,
        )
    return 0


def _cmd_launch(args: argparse.Namespace) -> int:
    narrate = args.wait and not args.quiet and not args.json
    with _client(args) as client:
        body = _check(
            client.post(
                f"/api/generations/{args.gid}/preview/launch",
                # Narrated: the launch returns at once and its log tells the rest.
                json={"wait": args.wait and not narrate, **launch_options(args)},
                timeout=None if args.wait else 60,  # the service bounds the wait (a build)
            ),
            args,
        )
        if narrate and body.get("status") == "starting":
            body = _narrate_start(client, args, body)
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print_launch(args.url, args.gid, body, args.token_source)
    return 0 if body.get("status") != "failed" else 1


def _narrate_start(client: httpx.Client, args: argparse.Namespace, body: dict) -> dict:
    """Print the launch's phases and its build's and app's lines as they come (as
    Render's and Vercel's CLIs do) until it runs or ends; the launch's answer with the
    final status, and on a failure the cause with the lines that show it."""
    colour = sys.stdout.isatty()
    status = body.get("status")
    url = f"/api/generations/{args.gid}/preview/logs/stream"
    with client.stream("GET", url, headers={"Last-Event-ID": "0"}, timeout=None) as response:
        if response.is_error:
            response.read()
            _check(response, args)
        for kind, payload, _ in _sse_events(response):
            if kind == "end" or payload.get("end"):
                break
            print_event(payload, colour)
            status = payload.get("status") or status
            if status in ("running", "failed", "stopped"):
                break
    final = _check(client.get(f"/api/generations/{args.gid}/preview/status"), args)
    kept = ("status", "errorMessage", "errorLines", "stopReason")
    return {**body, **{k: final.get(k) for k in kept}}


def _cmd_stop(args: argparse.Namespace) -> int:
    with _client(args) as client:
        response = client.delete(f"/api/generations/{args.gid}/preview")
    if response.status_code == 404 and _error_code(response) == "no_active_preview":
        print(f"{args.gid}: no preview is running; nothing to stop")
        return 0
    body = _check(response, args)
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(f"{body.get('previewInstanceId')}: {describe_stop(body)}")
    return 0


def _sse_events(response: httpx.Response) -> Iterator[tuple[str, dict, int | None]]:
    """A log stream's events as they come: (event type, data, id)."""
    kind, data, event_id = "message", [], None
    for line in response.iter_lines():
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and data:
            yield kind, json.loads("\n".join(data)), event_id
            kind, data, event_id = "message", [], None


def _follow(
    client: httpx.Client, args: argparse.Namespace, colour: bool, checks: HealthChecks
) -> int:
    """Tail the SSE stream; on a dropped connection resume after the last id seen."""
    last_id, failures = 0, 0
    while True:
        try:
            with client.stream(
                "GET",
                f"/api/generations/{args.gid}/preview/logs/stream",
                headers={"Last-Event-ID": str(last_id)},
                timeout=None,
            ) as response:
                if response.status_code == 204:  # the preview is over and was sent whole
                    print("-- preview ended", flush=True)
                    return 0
                if response.is_error:
                    response.read()
                    _check(response, args)
                failures = 0
                for kind, payload, event_id in _sse_events(response):
                    last_id = event_id if event_id is not None else last_id
                    if kind == "end" or payload.get("end"):
                        print(f"-- preview ended: {payload.get('status')}", flush=True)
                        return 0
                    if not checks.event(payload):
                        print_event(payload, colour)
        except httpx.TransportError as error:
            failures += 1
            if failures > 30:
                raise SystemExit(f"connection lost: {error}") from None
            print(f"-- reconnecting after event {last_id} ({error})", file=sys.stderr)
            trio.run(trio.sleep, min(0.2 * failures, 2.0))


def _cmd_logs(args: argparse.Namespace) -> int:
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    with _client(args) as client:
        checks = HealthChecks(None if args.health_checks else _health_path(client, args))
        if args.follow:
            return _follow(client, args, colour, checks)
        response = client.get(
            f"/api/generations/{args.gid}/preview/logs", params={"format": "text"}
        )
        if response.is_error:
            _check(response, args)
        sys.stdout.writelines(
            line for line in response.text.splitlines(True) if not checks.text_line(line)
        )
        if checks.left_out:
            print(
                f"-- {checks.left_out} health checks of the service left out "
                "(--health-checks shows them)",
                file=sys.stderr,
            )
    return 0


def _health_path(client: httpx.Client, args: argparse.Namespace) -> str | None:
    """The path the service checks the app's health on (its status's), if it has one."""
    response = client.get(f"/api/generations/{args.gid}/preview/status")
    return None if response.is_error else response.json().get("healthPath")


def _cmd_watch(args: argparse.Namespace) -> int:
    # Imported here: watchfiles and pathspec load only for this command.
    from .watch import watch_folder

    folder = Path(args.dir)
    if not folder.is_dir():
        raise SystemExit(f"not a folder: {folder}")
    with _client(args) as client:
        return watch_folder(client, args.gid, folder, out=sys.stdout)


def _cmd_url(args: argparse.Namespace) -> int:
    """The sign-in URL `preview serve` printed, again (its terminal scrolled it away),
    once the service has accepted its token."""
    with _client(args) as client:
        _check(client.get("/api/generations"), args)
        token = client.headers["Authorization"].removeprefix("Bearer ")
    print(f"{args.url.rstrip('/')}/#token={token}")
    print(f"  (the token came from {args.token_source})", file=sys.stderr)
    return 0


_AddCommand = Callable[[argparse._SubParsersAction], None]


def _parser(
    description: str, add_serve: _AddCommand
) -> tuple[argparse.ArgumentParser, Mapping[str, argparse.ArgumentParser]]:
    """The command line's parser, and its commands' by name."""
    parser = argparse.ArgumentParser(prog="preview", description=description)
    commands = parser.add_subparsers(dest="command")

    add_serve(commands)

    token = commands.add_parser("token", help="print a bearer token for a user")
    token.add_argument("user")
    token.add_argument("--tier", choices=("free", "pro"), default="free")
    token.add_argument("--hours", type=float, default=24)
    token.add_argument(
        "--admin", action="store_true", help="an operator's: sees every user's audit trail"
    )
    token.set_defaults(run=_cmd_token)

    for name, handler, text in (
        ("push", _cmd_push, "upload a folder as a generation; prints its id"),
        ("launch", _cmd_launch, "launch a preview of a generation"),
        ("stop", _cmd_stop, "stop the preview of a generation"),
        ("logs", _cmd_logs, "print a preview's logs (--follow: tail live)"),
        ("watch", _cmd_watch, "push each saved change of a folder as a revision of a generation"),
        ("url", _cmd_url, "print the service's sign-in URL again (with its token)"),
    ):
        sub = commands.add_parser(name, help=text)
        if name in ("push", "watch"):
            sub.add_argument("dir")
        if name not in ("push", "url"):
            sub.add_argument("gid", type=_generation_id)
        add_service_options(sub)
        sub.set_defaults(run=handler)
        if name in ("launch", "stop"):
            sub.add_argument("--json", action="store_true", help="print the API's JSON answer")
    commands.choices["push"].add_argument(
        "--project", help="the generation's name (default: the folder's name)"
    )
    commands.choices["push"].add_argument(
        "--new",
        action="store_true",
        help="upload even when a generation already has these same files (default: its id)",
    )
    launch = commands.choices["launch"]
    launch.add_argument(
        "--wait",
        action="store_true",
        help="return once running or failed, printing the phases and the build as they come",
    )
    launch.add_argument("--quiet", action="store_true", help="with --wait: print only the outcome")
    add_launch_options(launch)
    add_data_commands(commands)
    commands.choices["logs"].add_argument("--follow", "-f", action="store_true")
    commands.choices["logs"].add_argument(
        "--health-checks",
        action="store_true",
        help="keep the app's lines of the service's own health checks (left out by default)",
    )
    return parser, commands.choices


def parse(argv: list[str], description: str, add_serve: _AddCommand) -> argparse.Namespace:
    """``argv`` read by the whole command line (``preview/cli.py``'s ``description`` and
    ``serve`` command, which the service's side of it adds): ``serve`` when it names no
    command."""
    parser, commands = _parser(description, add_serve)
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help")):
        argv = ["serve", *argv]  # `preview` and `python -m preview [options]` serve
    return parser.parse_args(argv)
