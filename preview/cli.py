"""The ``preview`` command: ``serve`` (the default), ``token``, ``push``, ``launch``, ``stop``,
``logs``, ``watch``, ``url``; on what a generation keeps, ``revisions``, ``snapshots`` and
``requests`` (``client/commands.py``).

The client commands find their bearer token, in this order: ``--token``, ``$PREVIEW_TOKEN``,
the token the running ``preview serve`` left for this user (one per-user file, in the
platform's state directory, keyed by the server's URL), and finally one signed with the
configured or stored JWT secret of the current settings. An error 401 says which it used.
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx  # (the service imports it too: nothing more for `preview serve`)

__all__ = ["add_serve_command", "main"]

_HELP_OPTIONS = ("-h", "--help")


def _cmd_serve(args: argparse.Namespace) -> int:
    # Imported here: the client commands import none of the service (they start in a
    # tenth of the time).
    from .serving import serve_command

    return serve_command(args)


def add_serve_command(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the service (default)")
    serve.add_argument("--config", help="hypercorn TOML file (default ./hypercorn.toml)")
    serve.add_argument("--bind", help="override the bind address, e.g. 127.0.0.1:8000")
    serve.add_argument("--help-settings", action="store_true", help="list PREVIEW_* settings")
    serve.set_defaults(run=_cmd_serve)


def _serve_args(argv: list[str]) -> argparse.Namespace | None:
    """``argv`` read as ``preview serve``'s by a parser of that command alone, when it asks
    to serve (``serve``, nothing, or options) and that parser takes all of it. The client
    commands and the whole parser are not imported for it (``client/commandline.py``: 0.4
    MiB of an idle service's RSS); anything else goes to the whole parser, which reads it
    (and says what is wrong with it) as before."""
    if argv and argv[0] != "serve" and (not argv[0].startswith("-") or argv[0] in _HELP_OPTIONS):
        return None
    parser = argparse.ArgumentParser(prog="preview", description=__doc__)
    add_serve_command(parser.add_subparsers(dest="command"))
    args, left = parser.parse_known_args(argv if argv[:1] == ["serve"] else ["serve", *argv])
    return None if left else args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _serve_args(argv)
    if args is None:
        from .client.commandline import parse

        args = parse(argv, __doc__ or "", add_serve_command)
    try:
        return args.run(args)
    except ValueError as error:  # a malformed PREVIEW_* setting
        print(f"error: {error}", file=sys.stderr)
        return 2
    except httpx.TransportError as error:
        print(f"error: cannot reach the service at {args.url}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C (`logs --follow`): the user is done, no traceback
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Whoever read our output left (`preview logs -f | head`): stop quietly, as Unix
        # tools do. Python flushes stdout once more at exit; give it /dev/null to flush to.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
