"""How a client command calls the service: the options every one takes (``--url``,
``--token``), its HTTP client with the bearer token found (``token``), an answer checked
(an error is one line, the API's own message; a 401 says where the token came from),
and the generation id it puts in a URL's path checked first."""

from __future__ import annotations

import argparse
import json
import os

import httpx

from .token import client_token, running_server_url

__all__ = [
    "add_json_option",
    "add_service_options",
    "check",
    "connect",
    "error_code",
    "generation_id",
    "print_json",
    "service_url",
    "snapshot_id",
]

DEFAULT_URL = "http://127.0.0.1:8000"


def add_service_options(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    """``--url`` and ``--token``; ``nested``: on a command's action (``snapshots GID take``),
    where they may come after it too, without undoing what was given before it."""
    default = argparse.SUPPRESS if nested else None
    parser.add_argument(
        "--url",
        default=default,
        help=(
            "the service (default $PREVIEW_URL, else the newest `preview serve` of this user"
            f" that answers, else {DEFAULT_URL})"
        ),
    )
    parser.add_argument(
        "--token",
        default=default,
        help="bearer token (default $PREVIEW_TOKEN, else the one `preview serve` left)",
    )


def add_json_option(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if nested else False,
        help="print the API's JSON answer as it is",
    )


def service_url(given: str | None) -> str:
    """The service a command calls: ``--url``, ``$PREVIEW_URL``, the newest local server
    this user started that accepts a connection (one started with ``--bind`` on another
    port is found without being named), else the default port."""
    return given or os.environ.get("PREVIEW_URL") or running_server_url() or DEFAULT_URL


def connect(args: argparse.Namespace) -> httpx.Client:
    args.url = service_url(args.url)
    token, args.token_source = client_token(args.url, args.token)
    return httpx.Client(
        base_url=args.url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        trust_env=False,
    )


def check(response: httpx.Response, args: argparse.Namespace | None = None) -> dict:
    """The answer's JSON; an error answer ends the command with one line (exit code 1)."""
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text}
    if response.is_error:
        message = f"error {response.status_code}: {body.get('message', body)}"
        if response.status_code == 401 and args is not None:
            message += f" (the token came from {args.token_source})"
        raise SystemExit(message)
    return body


def error_code(response: httpx.Response) -> str | None:
    try:
        return response.json().get("error")
    except (ValueError, AttributeError):
        return None


def print_json(body: object) -> None:
    print(json.dumps(body, indent=2))


def generation_id(text: str) -> str:
    """A generation id as the commands put it in their URLs' paths: one segment. A ``/``,
    ``?``, ``#``, ``%`` or dot segment made another call of it (``stop x/../b`` stopped
    ``b``'s preview; ``launch 'a?x'`` posted to ``/api/generations/a``)."""
    return _segment(text, "generation id")


def snapshot_id(text: str) -> str:
    """A snapshot's id, which goes into a URL's path too: the same rule."""
    return _segment(text, "snapshot id")


def _segment(text: str, what: str) -> str:
    if text in ("", ".", "..") or any(
        c in "/?#%\\" or not c.isprintable() or c.isspace() for c in text
    ):
        raise argparse.ArgumentTypeError(f"not a {what}: {text!r}")
    return text
