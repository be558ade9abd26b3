"""The client commands on what a generation keeps: ``preview revisions``, ``preview
snapshots`` and ``preview requests`` (docs/using.md, "The command line").

Each calls one route of the API (docs/api.md) and prints its answer, one line an item,
or with ``--json`` the answer as it is, for scripts; an error is the API's own message
on one line, exit code 1 (``http.check``). What an app wrote (its paths, a snapshot's
name, its error) reaches the terminal as text only (``printing.terminal_text``).

- ``revisions GID`` (``GET …/revisions``), ``revisions GID diff N [--from M]``
  (``GET …/revisions/N/diff``), ``revisions GID apply N`` (``POST …/revisions/N/apply``);
- ``snapshots GID`` (``GET …/preview/snapshots``), ``take [--name]`` (``POST``),
  ``restore SID`` (``POST …/SID/restore``), ``diff SID OTHER`` (``GET …/SID/diff?with=``),
  ``delete SID`` (``DELETE …/SID``);
- ``requests GID`` (``GET …/preview/requests``, its filters), ``requests GID --har FILE``
  (``GET …/preview/requests.har``), ``requests GID replay ID… | all``
  (``POST …/preview/requests/replay``, with the preview's token: ``--preview-token``,
  else a new one asked for, ``POST …/preview/token``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from .http import (
    add_json_option,
    add_service_options,
    check,
    connect,
    generation_id,
    print_json,
    snapshot_id,
)
from .printing import terminal_text

__all__ = ["add_data_commands"]

_SHOWN_PATHS = 3  # paths named in a line; the rest are counted


def add_data_commands(commands: argparse._SubParsersAction) -> None:
    """``revisions``, ``snapshots`` and ``requests``, each with its actions."""
    revisions = _command(
        commands, "revisions", _revisions, "a generation's revisions: list, diff N, apply N"
    )
    actions = _actions(revisions)
    _action(actions, "list", "list them (the default)")
    diff = _action(actions, "diff", "the unified diff of revision N from the one before")
    diff.add_argument("n", type=int, metavar="N")
    diff.add_argument("--from", dest="base", type=int, metavar="M", help="from revision M")
    apply = _action(actions, "apply", "apply revision N to the running preview, live")
    apply.add_argument("n", type=int, metavar="N")

    snapshots = _command(
        commands,
        "snapshots",
        _snapshots,
        "a preview's saved data: list, take, restore SID, diff SID OTHER, delete SID",
    )
    actions = _actions(snapshots)
    _action(actions, "list", "list them, oldest first (the default)")
    take = _action(actions, "take", "save the running preview's data")
    take.add_argument("--name", help="what to call it (e.g. 'before the import')")
    restore = _action(actions, "restore", "put a snapshot's data back into the running preview")
    restore.add_argument("sid", type=snapshot_id, metavar="SID")
    diff = _action(actions, "diff", "the rows that differ from snapshot SID to snapshot OTHER")
    diff.add_argument("sid", type=snapshot_id, metavar="SID")
    diff.add_argument("other", type=snapshot_id, metavar="OTHER")
    delete = _action(actions, "delete", "delete a snapshot")
    delete.add_argument("sid", type=snapshot_id, metavar="SID")

    requests = _command(
        commands,
        "requests",
        _requests,
        "the requests its previews answered: list (filters), --har FILE, replay ID… | all",
    )
    requests.add_argument("--har", metavar="FILE", help="write the newest 1,000 as HAR 1.2")
    requests.add_argument("--method", help="only this method's (POST)")
    requests.add_argument("--path", help="only those whose path and query hold this")
    requests.add_argument("--status", help="only those answered with this status (404, 4xx)")
    requests.add_argument("--limit", type=int, help="at most this many (default 100)")
    requests.add_argument("--before", type=int, metavar="ID", help="older than this one")
    requests.add_argument("--no-replays", action="store_true", help="leave replays out")
    actions = _actions(requests)
    _action(actions, "list", "list them, newest first (the default)")
    replay = _action(actions, "replay", "send kept requests again, each answer compared")
    replay.add_argument("ids", nargs="+", metavar="ID", help="the requests' ids, or all")
    replay.add_argument(
        "--preview-token",
        help="the preview's token (launch printed it; default: a new one, asked for)",
    )
    replay.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'K: V'",
        help="a header to send with each, e.g. 'Authorization: Bearer …' (repeatable)",
    )


def _command(
    commands: argparse._SubParsersAction, name: str, run: Callable, text: str
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=text, description=text)
    parser.add_argument("gid", type=generation_id, metavar="GID")
    add_service_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=lambda args: run(_listed_unless_asked(args)))
    return parser


def _listed_unless_asked(args: argparse.Namespace) -> argparse.Namespace:
    args.action = args.action or "list"  # `snapshots GID` lists them
    return args


def _actions(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return parser.add_subparsers(dest="action", metavar="ACTION", required=False)


def _action(actions: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    action = actions.add_parser(name, help=text, description=text)
    add_service_options(action, nested=True)  # `snapshots GID take --json` as well as before
    add_json_option(action, nested=True)
    return action


# -- revisions --------------------------------------------------------------------------


def _revisions(args: argparse.Namespace) -> int:
    base = f"/api/generations/{args.gid}/revisions"
    with connect(args) as client:
        if args.action == "diff":
            params = {"from": args.base} if args.base is not None else {}
            body = check(client.get(f"{base}/{args.n}/diff", params=params), args)
        elif args.action == "apply":
            # The service waits up to 30 s for the swap (then 202, applying).
            body = check(client.post(f"{base}/{args.n}/apply", timeout=120), args)
        else:
            body = check(client.get(base), args)
    failed = args.action == "apply" and (body.get("apply") or {}).get("state") == "failed"
    if args.json:
        print_json(body)
    elif args.action == "diff":
        _print_diff(body)
    elif args.action == "apply":
        from .watch import outcome_line  # a revision's outcome, as `watch` says it

        print(terminal_text(outcome_line(body)))
    else:
        for revision in body["revisions"]:
            print(_revision_line(revision))
    return 1 if failed else 0


def _revision_line(revision: dict) -> str:
    changed = revision.get("changed") or []
    noun = "file" if len(changed) == 1 else "files"
    said = f"{len(changed)} {noun}" + (" changed" if revision["revision"] > 1 else "")
    if changed:
        said += f" ({_named(changed)})"
    if revision.get("dependenciesChanged") and revision["revision"] > 1:
        said += ", dependencies too"
    author = terminal_text(str(revision.get("author") or "-"))
    return f"{revision['revision']:>3}  {revision['createdAt']}  {author}  {said}"


def _print_diff(body: dict) -> None:
    if not body["diff"]:
        print(f"revision {body['to']} has the same files as revision {body['from']}")
        return
    for line in body["diff"].splitlines():
        print(terminal_text(line))
    if body.get("truncated"):
        print("-- the diff was cut at 20,000 lines", file=sys.stderr)


def _named(paths: list[str]) -> str:
    named = ", ".join(terminal_text(path) for path in paths[:_SHOWN_PATHS])
    if len(paths) > _SHOWN_PATHS:
        named += f" and {len(paths) - _SHOWN_PATHS} more"
    return named


# -- snapshots --------------------------------------------------------------------------


def _snapshots(args: argparse.Namespace) -> int:
    base = f"/api/generations/{args.gid}/preview/snapshots"
    with connect(args) as client:
        if args.action == "take":
            options = {"name": args.name} if args.name is not None else {}
            # Copying a database takes as long as it is big: the service bounds it.
            body = check(client.post(base, json=options, timeout=None), args)
        elif args.action == "restore":
            body = check(client.post(f"{base}/{args.sid}/restore", timeout=None), args)
        elif args.action == "diff":
            body = check(client.get(f"{base}/{args.sid}/diff", params={"with": args.other}), args)
        elif args.action == "delete":
            body = check(client.delete(f"{base}/{args.sid}"), args)
        else:
            body = check(client.get(base), args)
    if args.json:
        print_json(body)
    elif args.action in ("take", "list"):
        for snapshot in [body] if args.action == "take" else body["snapshots"]:
            print(_snapshot_line(snapshot))
    elif args.action == "restore":
        print(_restored_line(body))
    elif args.action == "diff":
        for table in body["tables"]:
            print(_table_line(table))
        if not body["tables"]:
            print(f"{body['from']} and {body['with']} hold no tables")
    else:
        print(f"{body['snapshotId']}: {body['status']}")
    return 0


def _snapshot_line(snapshot: dict) -> str:
    tables = snapshot.get("tables") or []
    rows = sum(table.get("rows") or 0 for table in tables)
    files = len(snapshot.get("files") or [])
    name = terminal_text(snapshot.get("name") or "(no name)")
    line = (
        f"{snapshot['snapshotId']}  {snapshot['createdAt']}  {name}  "
        f"{_count(rows, 'row')} in {_count(len(tables), 'table')}, {_count(files, 'file')}, "
        f"{_size(snapshot.get('sizeBytes') or 0)}"
    )
    if snapshot.get("notCovered"):
        line += f" (not saved: {', '.join(map(str, snapshot['notCovered']))})"
    return line


def _restored_line(body: dict) -> str:
    restored = body.get("restored") or {}
    databases = len(restored.get("sqlite") or []) + len(restored.get("postgres") or [])
    line = (
        f"{body['snapshotId']}: restored into {body['previewInstanceId']}: "
        f"{_count(databases, 'database')}, {_count(len(restored.get('files') or []), 'file')}"
    )
    if restored.get("removedFiles"):
        line += f", {_count(len(restored['removedFiles']), 'file')} written since removed"
    return line


def _table_line(table: dict) -> str:
    where = terminal_text(f"{table.get('database', '')} {table['table']}".strip())
    if table.get("state") == "same":
        return f"{where}: same"
    counts = (
        f"{table.get('addedCount', 0)} added, {table.get('removedCount', 0)} removed, "
        f"{table.get('changedCount', 0)} changed"
    )
    return f"{where}: {table.get('state')}, {counts}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"


# -- requests ---------------------------------------------------------------------------


def _requests(args: argparse.Namespace) -> int:
    base = f"/api/generations/{args.gid}/preview"
    with connect(args) as client:
        if args.action == "replay":
            return _replay(client, args)
        if args.har is not None:
            return _har(client, args, base)
        filters = {
            "method": args.method,
            "path": args.path,
            "status": args.status,
            "limit": args.limit,
            "before": args.before,
            "replays": "false" if args.no_replays else None,
        }
        params = {key: value for key, value in filters.items() if value is not None}
        body = check(client.get(f"{base}/requests", params=params), args)
    if args.json:
        print_json(body)
        return 0
    for row in body["requests"]:
        print(_request_line(row))
    if body.get("hasMore"):
        print(f"-- more: --before {body['nextBefore']}", file=sys.stderr)
    return 0


def _request_line(row: dict) -> str:
    answer = row.get("status") if row.get("status") is not None else row.get("error")
    line = (
        f"{row['id']:>5}  {row['startedAt']}  {row['method']} {terminal_text(row['path'])}  "
        f"{answer}  {row.get('elapsedMs')} ms  {row.get('way')}"
    )
    if row.get("replayOf") is not None:
        line += f" of {row['replayOf']}"
    return line


def _har(client: httpx.Client, args: argparse.Namespace, base: str) -> int:
    response = client.get(f"{base}/requests.har")
    document = check(response, args)
    Path(args.har).write_bytes(response.content)  # as the service wrote it
    if args.json:
        print_json({"file": args.har, "entries": len(document["log"]["entries"])})
    else:
        print(f"{args.har}: {_count(len(document['log']['entries']), 'request')} (HAR 1.2)")
    return 0


def _replay(client: httpx.Client, args: argparse.Namespace) -> int:
    ids: list[int] | str
    if args.ids == ["all"]:
        ids = "all"
    else:
        try:
            ids = [int(text) for text in args.ids]
        except ValueError:
            raise SystemExit(f"replay: not a request id: {args.ids!r} (ids, or all)") from None
    headers: dict[str, str] = {}
    for header in args.header:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            raise SystemExit(f"--header {header!r}: write it as 'Name: value'")
        headers[name.strip()] = value.strip()
    base = f"/api/generations/{args.gid}/preview"
    replay = {"ids": ids, "target": "current", **({"headers": headers} if headers else {})}
    if args.preview_token:
        body = _replayed(client, args, base, replay, args.preview_token)
    else:
        made = _new_preview_token(client, args, base)
        try:
            body = _replayed(client, args, base, replay, made["previewToken"])
        finally:  # a token of its own, for this command alone
            client.delete(f"{base}/tokens/{made['tokenId']}")
    if args.json:
        print_json(body)
        return 0
    for result in body["results"]:
        print(_replayed_line(result))
    target = body["target"]
    print(
        f"replayed {body['replayed']} on revision {target['revision']} ({target['previewId']}): "
        f"{body['same']} same, {body['different']} different, {body['skipped']} skipped"
    )
    return 0


def _replayed(
    client: httpx.Client, args: argparse.Namespace, base: str, replay: dict, token: str
) -> dict:
    return check(
        client.post(
            f"{base}/requests/replay",
            json=replay,
            headers={"X-Preview-Token": token},
            timeout=None,  # up to 200 calls of the app, each bounded by the service
        ),
        args,
    )


def _new_preview_token(client: httpx.Client, args: argparse.Namespace, base: str) -> dict:
    """A preview token for this command alone (the UI's and others' keep working)."""
    body = check(client.post(f"{base}/token", json={"label": "preview CLI"}), args)
    print(
        "-- replaying with a preview token of its own (--preview-token gives the one "
        "launch printed)",
        file=sys.stderr,
    )
    return body


def _replayed_line(result: dict) -> str:
    before = (result.get("before") or {}).get("status")
    head = f"{result['id']:>5}  {result['method']} {terminal_text(result['path'])}"
    if result.get("skipped"):
        return f"{head}: skipped ({result['skipped']})"
    after = result.get("after") or {}
    now = after.get("status") if after.get("status") is not None else after.get("error")
    if result.get("same"):
        return f"{head}: {before} -> {now}, same"
    differences = []
    if result.get("status"):
        differences.append("status")
    if result.get("headers"):
        differences.append(_count(len(result["headers"]), "header"))
    if result.get("body"):
        differences.append(f"body ({_count(result.get('bodyDifferences') or 0, 'difference')})")
    return f"{head}: {before} -> {now}, different: {', '.join(differences) or 'answer'}"
