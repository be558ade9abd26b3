"""What the client commands print: a launch (how to call the app), a stop, a log event.

Apart from ``preview.cli`` so that what reaches the user's terminal is in one place, and
testable without a service: none of it may show the bearer token.
"""

from __future__ import annotations

import os
import re
import signal

__all__ = [
    "HealthChecks",
    "curl_line",
    "describe_stop",
    "print_event",
    "print_launch",
    "terminal_text",
]

_COLOURS = {"ERROR": "\x1b[31m", "WARN": "\x1b[33m", "DEBUG": "\x1b[2m"}
_SYSTEM_COLOUR, _RESET = "\x1b[36m", "\x1b[0m"
# What the app printed reaches the user's terminal, which obeys more than colours: a
# title, the clipboard (OSC 52), links (OSC 8), cursor moves and carriage returns that
# overwrite a line the service printed. As in the UI (static/js/ansi.js, the same
# grammar): colours (SGR) are kept, every other escape is dropped, and the other
# control characters are shown as their Unicode control pictures.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def terminal_text(text: str, colour: bool = False) -> str:
    """``text`` (the app's, or a message quoting it) as a terminal may be given it (see
    above); ``colour``: its colours kept, else dropped too."""
    if not _CONTROLS.search(text):
        return text
    parts, at = [], 0
    for escape in _ESCAPE.finditer(text):
        parts.append(_visible(text[at : escape.start()]))
        parts.append(escape[0] if colour and _SGR.fullmatch(escape[0]) else "")
        at = escape.end()
    return "".join([*parts, _visible(text[at:])])


def _visible(text: str) -> str:
    return _CONTROLS.sub(lambda m: chr(0x2421 if m[0] == "\x7f" else 0x2400 + ord(m[0])), text)


def _command() -> str:
    """How the user calls this command: ``preview``, or the ``dev`` script that ran it
    (``./dev``: its ``.venv/bin/preview`` is on no ``PATH``), so that a line it suggests
    can be pasted as it is."""
    return os.environ.get("PREVIEW_CLI") or "preview"


def print_launch(url: str, gid: str, body: dict, token_source: str) -> None:
    """How to call the app, not only that it started."""
    print(f"{body.get('previewInstanceId')}: {body.get('status')}")
    if body.get("status") == "stopped":  # stopped before it ran (by the user, say)
        print(f"  {describe_stop(body)}")
        print(f"  logs:   {_command()} logs {gid}")
        return
    if body.get("status") == "failed":
        print(f"  reason: {terminal_text(str(body.get('errorMessage')))}")
        for line in (body.get("errorLines") or [])[-8:]:  # the pinned cause, as the UI shows
            print(f"  | {terminal_text(str(line))}")
        print(f"  logs:   {_command()} logs {gid}")
        return
    proxy = f"{url.rstrip('/')}/api/generations/{gid}/preview/proxy/"
    token = body.get("previewToken", "")
    print(f"  app:    {body.get('baseUrl')}")
    print(f"  proxy:  {proxy}")
    print(f"  call:   {curl_line(proxy, token, token_source)}")
    if token_source != "$PREVIEW_TOKEN":  # pasted as printed, … is no token (a 401)
        print(f"          (… is your bearer token: {_whose(token_source)};")
        print("          exported as PREVIEW_TOKEN, this line names it and runs as printed)")
    print(f"  logs:   {_command()} logs {gid} --follow")


def _whose(token_source: str) -> str:
    """Where the user finds the bearer token this command used, in words."""
    if token_source == "--token":
        return "the one given with --token"
    if "preview serve" in token_source:  # the file `preview serve` left
        return "the one after #token= in the URL `preview serve` printed"
    return f"`{_command()} token USER` prints one"


def curl_line(proxy: str, preview_token: str, token_source: str) -> str:
    """How to call the app, without the bearer token: it is the user's (30 days, every
    generation of theirs), and a terminal's scrollback, a shared screen or a pasted log
    is no place for it. Where it came from ``$PREVIEW_TOKEN``, the line names the
    variable, so that it still works as printed in that shell."""
    if token_source == "$PREVIEW_TOKEN":
        bearer = '"Authorization: Bearer $PREVIEW_TOKEN"'
    else:
        bearer = "'Authorization: Bearer …'"  # the token of --token, or preview serve's
    return f"curl -H {bearer} -H 'X-Preview-Token: {preview_token}' {proxy}"


# The service's stop reasons, as its user reads them in their own terminal.
_REASONS = {
    "stopped by the user": "stopped by you",
    "the service is shutting down": "stopped: the service shut down",
    "the service restarted": "stopped: the service restarted",
}


def describe_stop(body: dict) -> str:
    """How a preview ended, in words: ``stopped by you``, ``stopped: the service shut
    down``, ``failed: exited with code 1``; the raw exit code is in ``--json``."""
    status, reason = body.get("status"), body.get("stopReason")
    if status == "failed":
        return terminal_text(f"failed: {body.get('errorMessage') or _exit(body.get('exitCode'))}")
    if status == "stopping":  # its teardown took longer than the answer waited
        return "stopping (by you)" if reason == "stopped by the user" else "stopping"
    if status == "stopped" and reason:
        return _REASONS.get(reason) or f"stopped: {reason}"
    return str(status)


def _exit(code: int | None) -> str:
    if code is None or code >= 0:
        return f"exited with code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def print_event(event: dict, colour: bool) -> None:
    # A worker's line says whose it is, as Heroku's log does (the web process's: nothing).
    who = f"[{terminal_text(event['process'])}] " if event.get("process") else ""
    message = terminal_text(event["message"], colour)
    text = f"{event['timestamp']} {event['level']:<5} {who}{message}"
    if colour:  # the level first (an ERROR is red whoever said it), then the source
        tint = _COLOURS.get(event["level"]) or (
            _SYSTEM_COLOUR if event["source"] == "system" else ""
        )
        text = f"{tint}{text}{_RESET}" if tint else text
    print(text, flush=True)


# A line of the text download: "<time> <LEVEL> [app/stdout] message" (api.streams).
_TEXT_APP_LINE = re.compile(r"^\S+ \S+\s+\[app[^\]]*\] (.*)$")


class HealthChecks:
    """The app's access-log lines of the service's own health checks (its health path,
    called every ``PREVIEW_HEALTH_INTERVAL``): left out of ``preview logs`` as the page
    hides them, unless asked for. The same rule as the page's (static/js/logmodel.js):
    ``GET`` or ``HEAD`` of the path, under any prefix, in a line of the app's."""

    def __init__(self, path: str | None) -> None:
        self.pattern = (
            re.compile(rf"\b(?:GET|HEAD) \S*{re.escape(path)}(?=[\s?\"]|$)") if path else None
        )
        self.left_out = 0

    def event(self, event: dict) -> bool:
        """Whether a log event (the stream's JSON) is one; counted if so."""
        return self._count(
            self.pattern is not None
            and event.get("source") == "app"
            and self.pattern.search(str(event.get("message", "")))
        )

    def text_line(self, line: str) -> bool:
        """Whether a line of the text download is one; counted if so."""
        return self._count(
            self.pattern is not None
            and (line_of_app := _TEXT_APP_LINE.match(line))
            and self.pattern.search(line_of_app.group(1))
        )

    def _count(self, found: object) -> bool:
        self.left_out += bool(found)
        return bool(found)
