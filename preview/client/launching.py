"""What ``preview launch`` asks for besides starting: the launch's options (``env``,
``command``, ``snapshot``: docs/api.md, ``POST …/preview/launch``) from its command line.

``--env K=V`` (repeated; ``--env K`` takes ``K``'s value from this shell, as ``docker run
-e K`` does) and ``--env-file FILE`` (a dotenv file, read by python-dotenv: ``K=V`` lines,
quotes, ``export``, comments, ``${OTHER}``); the ``--env`` given win over the files'.
``--command 'python server.py'`` is split as a shell splits it (no shell runs it); the
service's placeholders (``{python}``, ``{port}``) are its own. ``--from-snapshot SID``
starts it with that snapshot's data. ``--preset NAME`` gives it the variables of one of
its environment presets, under ``--env``'s and the files' (a variable in both: theirs).
"""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

__all__ = ["add_launch_options", "launch_options"]


def add_launch_options(launch: argparse.ArgumentParser) -> None:
    launch.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="K=V",
        help="a variable for the app (repeatable; K alone: its value in this shell)",
    )
    launch.add_argument(
        "--env-file",
        action="append",
        default=[],
        metavar="FILE",
        help="variables for the app from a dotenv file (repeatable; --env wins)",
    )
    launch.add_argument(
        "--command",
        dest="app_command",  # (`command` is the subcommand's name)
        metavar="COMMAND",
        help="what to run instead of what the service detects, e.g. '{python} server.py'",
    )
    launch.add_argument(
        "--preset",
        metavar="NAME",
        help="the variables of one of its environment presets (--env and --env-file win)",
    )
    launch.add_argument(
        "--from-snapshot", metavar="SID", help="start with the data of one of your snapshots"
    )


def launch_options(args: argparse.Namespace) -> dict:
    """The launch's JSON body's options from the command line (none: ``{}``)."""
    body: dict = {}
    env: dict[str, str] = {}
    for name in args.env_file:
        env.update(_env_file(Path(name)))
    for item in args.env:
        key, has_value, value = item.partition("=")
        if not key:
            raise SystemExit(f"--env {item!r}: a variable's name comes first (K=V)")
        if not has_value:
            if key not in os.environ:
                raise SystemExit(f"--env {key}: not set in this shell (give it as {key}=value)")
            value = os.environ[key]
        env[key] = value
    if env:
        body["env"] = env
    if args.app_command is not None:
        try:
            argv = shlex.split(args.app_command)
        except ValueError as error:
            raise SystemExit(f"--command: {error}") from None
        if not argv:
            raise SystemExit("--command: nothing to run")
        body["command"] = argv
    if args.from_snapshot is not None:
        body["snapshot"] = args.from_snapshot
    if args.preset is not None:
        body["preset"] = args.preset
    return body


def _env_file(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values  # only for --env-file

    if not path.is_file():
        raise SystemExit(f"--env-file: no such file: {path}")
    values = dotenv_values(path, encoding="utf-8")
    empty = sorted(key for key, value in values.items() if value is None)
    if empty:  # a line with a name and no `=`: dotenv gives it no value
        raise SystemExit(f"--env-file {path}: {', '.join(empty)} has no value (write K=)")
    return {key: value for key, value in values.items() if value is not None}
