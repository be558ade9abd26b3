"""``preview watch DIR GID``: each saved change of a folder pushed as a revision.

The folder's files are those ``preview push`` sends: not in a skipped folder, not what its
``.gitignore`` files ignore (each folder's, read as git reads them: ``gitignore.py``, read
again when one changes). The first push sends every such text file (the service keeps
only what differs) and deletes what the generation has that the folder lacks and
does not ignore; then each batch of saved changes (watchfiles, debounced) is one revision
of only the changed files. Binary files are not sent (a JSON revision carries text):
push the folder for those. One line per outcome, the running preview's swap included
(followed in its status when the answer came before it: a build first); Ctrl-C ends it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

import httpx

from ..uploadpaths import UnsafePath, canonical_path
from .printing import terminal_text

__all__ = [
    "SKIPPED_FOLDER_MARKERS",
    "SKIP_DIRS",
    "UPLOAD_RULES",
    "FolderRules",
    "apply_outcome",
    "outcome_line",
    "watch_folder",
]

# The folders never sent, the UI's folder upload's too: one list, which the page reads
# from the service (preview/static/js/uploadrules.js).
UPLOAD_RULES = Path(__file__).resolve().parent.parent / "static" / "upload-rules.json"
_RULES = json.loads(UPLOAD_RULES.read_text())
SKIP_DIRS = frozenset(_RULES["skippedFolders"])
# A folder holding one of these files is never sent whatever its name: a Python
# virtualenv (``env/``, ``myenv/``: pyvenv.cfg) is thousands of files of another machine.
SKIPPED_FOLDER_MARKERS = tuple(_RULES["skippedFolderMarkers"])
_SHOWN_PATHS = 3  # paths named in an outcome line; the rest are counted
_DECIDED_WAIT = 900.0  # s a swap answered 202 (a build first) is followed in the status
_POLL = 0.5
_WATCHING_SAID = 200  # ms: ``ready`` once the watcher runs, at most this late


class FolderRules:
    """Which files of the folder are the app's: not in a skipped folder, not ignored by
    its ``.gitignore`` files (each folder's, as git reads them: ``gitignore.py``)."""

    def __init__(self, folder: Path) -> None:
        # Lazy, as watchfiles below: `preview serve` imports this module for SKIP_DIRS.
        from .gitignore import IgnoreTree

        self.folder = folder.resolve()
        self.ignores = IgnoreTree(self.folder)

    def relative(self, path: str | Path) -> str | None:
        """The app's path of ``path`` (``a/b.py``), or None when it is not one of its."""
        try:
            relative = Path(path).resolve().relative_to(self.folder).as_posix()
        except ValueError:
            return None
        parts = relative.split("/")
        if relative == "." or any(part in SKIP_DIRS for part in parts[:-1]):
            return None
        if not _sendable(relative):
            return None
        if any(_is_marked(self.folder / folder) for folder in _ancestors("/".join(parts[:-1]))):
            return None
        if self.ignores.ignored(relative, is_dir=Path(path).is_dir()):
            return None
        return relative

    def files(self) -> list[str]:
        """The app's files, as git walks the folder: into no skipped or ignored folder."""
        found = []
        for root, dirs, names in os.walk(self.folder):
            here = Path(root).relative_to(self.folder).as_posix()
            prefix = "" if here == "." else here + "/"
            folders = [""] if not prefix else ["", *_ancestors(here)]
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in SKIP_DIRS
                and not _is_marked(Path(root) / d)
                and not self.ignores.decide_in(folders, prefix + d, is_dir=True)
            )
            for name in sorted(names):
                path = Path(root) / name
                if path.is_symlink() or not path.is_file() or not _sendable(prefix + name):
                    continue
                if not self.ignores.decide_in(folders, prefix + name, is_dir=False):
                    found.append(prefix + name)
        return found


def _sendable(path: str) -> bool:
    """Whether an upload may name ``path``: a file named otherwise (a backslash in a
    diagram's name) is left out, not the whole push refused for it."""
    try:
        canonical_path(path)
    except UnsafePath:
        return False
    return True


def _is_marked(folder: Path) -> bool:
    """Whether the folder holds a file that makes it one never sent (pyvenv.cfg)."""
    return any((folder / marker).is_file() for marker in SKIPPED_FOLDER_MARKERS)


def _ancestors(folder: str) -> list[str]:
    """``a/b/c`` → ``[a, a/b, a/b/c]`` (``""`` → ``[]``)."""
    if not folder:
        return []
    parts = folder.split("/")
    return ["/".join(parts[: depth + 1]) for depth in range(len(parts))]


def _text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def outcome_line(body: dict) -> str:
    """One line for a revision's answer."""
    if body.get("unchanged"):
        return f"nothing changed: the folder is revision {body['revision']}"
    changed = body.get("changed") or []
    named = ", ".join(changed[:_SHOWN_PATHS])
    if len(changed) > _SHOWN_PATHS:
        named += f" and {len(changed) - _SHOWN_PATHS} more"
    noun = "file" if len(changed) == 1 else "files"
    line = f"revision {body['revision']}: {len(changed)} {noun} changed ({named})"
    if body.get("dependenciesChanged"):
        line += ", dependencies too"
    preview = body.get("preview")
    if body.get("relaunched"):  # its answer always holds the preview (api.revisions)
        started = _launch_outcome(body["preview"])
        return line + " — the preview had failed: relaunched on it, " + started
    if body.get("relaunch"):
        return line + f" — the preview had failed; relaunching it: {body['relaunch']['message']}"
    if preview is None:
        return line + " — no preview is running"
    apply = body.get("apply")
    if apply is None:
        return (
            line + f" — the running preview keeps revision {preview.get('revision')} "
            "(relaunch it to run this one)"
        )
    return line + " — " + apply_outcome(apply)


def _launch_outcome(preview: dict) -> str:
    """A relaunched preview's status (as followed: ``_post``), in words."""
    status = preview.get("status")
    if status == "failed":
        return f"failed: {preview.get('errorMessage')}"
    return status if status == "running" else "still starting (its log tells)"


def apply_outcome(apply: dict) -> str:
    """What became of a revision applied to the running preview (its answer's or its
    status's ``apply``): ``ready in 412 ms, switched``, ``failed: …; still serving …``."""
    state = apply.get("state")
    if state == "switched":
        return f"ready in {apply.get('readyMs')} ms, switched"
    if state == "failed":
        serving = apply.get("servingRevision")
        return f"failed: {apply.get('errorMessage')}; still serving revision {serving}"
    if state == "applying":
        return "still starting (its log tells when it switches)"
    return apply.get("message") or str(state)


def _post(client: httpx.Client, gid: str, files: dict[str, str | None], out: TextIO) -> None:
    response = client.post(f"/api/generations/{gid}/revisions", json={"files": files})
    body: dict[str, Any]  # the answer's JSON object
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text}
    if response.is_error:
        print(f"error {response.status_code}: {body.get('message', body)}", file=out, flush=True)
        return
    if response.status_code == 202:  # a build first: its outcome is the status's, later
        body["apply"] = _outcome_when_decided(client, gid, body["revision"]) or body["apply"]
    if body.get("relaunched"):  # its build and start: the status tells how they went
        body["preview"] = _started(client, gid, body["preview"])
    print(terminal_text(outcome_line(body)), file=out, flush=True)


def _outcome_when_decided(client: httpx.Client, gid: str, revision: int) -> dict | None:
    """The status's ``lastApply`` once revision ``revision``'s swap is decided (None:
    the status no longer tells it: the preview ended, or a newer one is applied)."""
    deadline = time.monotonic() + _DECIDED_WAIT
    while time.monotonic() < deadline:
        response = client.get(f"/api/generations/{gid}/preview/status")
        last = response.json().get("lastApply") if response.is_success else None
        if last is None or last.get("revision") != revision:
            return None
        if last.get("state") != "applying":
            return last
        time.sleep(_POLL)
    return None


def _started(client: httpx.Client, gid: str, preview: dict) -> dict:
    """The status of the relaunched ``preview`` once it runs or has ended (its answer's
    while it starts, past ``_DECIDED_WAIT``)."""
    deadline = time.monotonic() + _DECIDED_WAIT
    url = f"/api/generations/{gid}/preview/status"
    while time.monotonic() < deadline:
        response = client.get(url, params={"previewId": preview["previewInstanceId"]})
        status = response.json() if response.is_success else {}
        if status.get("status") in ("running", "failed", "stopped"):
            return status
        time.sleep(_POLL)
    return preview


def _first_push(client: httpx.Client, gid: str, rules: FolderRules, out: TextIO) -> None:
    """The folder as it is now: its text files, and deletes of what it no longer has."""
    shown = client.get(f"/api/generations/{gid}")
    if shown.is_error:
        raise SystemExit(f"error {shown.status_code}: {shown.json().get('message')}")
    local = rules.files()
    files: dict[str, str | None] = {}
    for relative in local:
        text = _text(rules.folder / relative)
        if text is None:
            print(f"skipped {relative}: not UTF-8 text (push the folder for it)", file=out)
        else:
            files[relative] = text
    present = set(local)
    for entry in shown.json().get("files", []):
        path = entry["path"]
        if path not in present and rules.relative(rules.folder / path) is not None:
            files[path] = None
    if files:
        _post(client, gid, files, out)


def _changes(rules: FolderRules, batch: Iterable[tuple[object, str]]) -> dict[str, str | None]:
    batch = list(batch)
    if any(Path(raw).name == ".gitignore" for _, raw in batch):
        rules.ignores.forget()  # read them again: what they ignore may have changed
    files: dict[str, str | None] = {}
    for _, raw in batch:
        relative = rules.relative(raw)
        if relative is None:
            continue
        path = rules.folder / relative
        if path.is_file() and not path.is_symlink():
            text = _text(path)
            if text is not None:
                files[relative] = text
        elif not path.exists():
            files[relative] = None
    return files


def watch_folder(
    client: httpx.Client,
    gid: str,
    folder: Path,
    *,
    out: TextIO,
    stop: threading.Event | None = None,
    debounce_ms: int = 300,
    ready: Callable[[], None] | None = None,
) -> int:
    """Push the folder, then each batch of saved changes, until ``stop`` (or Ctrl-C)."""
    import watchfiles  # lazy: only this command watches

    rules = FolderRules(folder)
    _first_push(client, gid, rules, out)
    print(f"watching {folder} (Ctrl-C ends)", file=out, flush=True)
    for batch in watchfiles.watch(
        rules.folder,
        debounce=debounce_ms,
        step=50,
        stop_event=stop,
        watch_filter=lambda _change, path: rules.relative(path) is not None,
        raise_interrupt=True,
        rust_timeout=_WATCHING_SAID,
        yield_on_timeout=True,  # an empty batch: the watcher runs (``ready``)
    ):
        if ready is not None:
            ready()
            ready = None
        files = _changes(rules, batch)
        if files:
            _post(client, gid, files, out)
    return 0
