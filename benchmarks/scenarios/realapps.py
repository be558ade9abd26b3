"""Scenario realapps: real public backends, uploaded as they are, launched with no options.

The corpus is ``benchmarks/realapps/manifest.json`` (repository, commit, subfolder, shape,
the real count of routes read from the source); the code itself is never committed: each
entry is taken from the local mirror of its repository (``/work/.mirror/<owner>+<name>/repo``,
or ``$REALAPPS_MIRROR``; see benchmarks/realapps/README.md for fetching) with ``git archive``
into ``benchmarks/realapps/.corpus/`` (ignored). One service runs (default settings: builds
on, sandboxed where the machine allows, its data dir under the ignored folder); for each app,
one at a time: upload (a tar.gz of the files the upload limits accept), launch with no
options, wait for ``running`` or ``failed`` (bounded), stop, launch again (the cached
time), call every discovered parameterless GET route once through the proxy (a status
below 500 is ok, but not every one 404), count the endpoints found, stop. Each app
that is not healthy gets its cause, classified as *ours* or *the app's* (:mod:`.realapps_report`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from preview.client.watch import SKIPPED_FOLDER_MARKERS
from preview.uploadpaths import UnsafePath, canonical_path

from ..harness import BENCH_DIR, ServiceServer, log
from . import realapps_report as report

REALAPPS = BENCH_DIR / "realapps"
MANIFEST = REALAPPS / "manifest.json"
CORPUS = REALAPPS / ".corpus"
MIRROR = Path(os.environ.get("REALAPPS_MIRROR", "/work/.mirror"))
# The last lines of a failed app's log kept in its result (more where one is read to fix it).
LOG_LINES = int(os.environ.get("REALAPPS_LOG_LINES", "60"))
MAX_FILE_BYTES = 1048576  # the service's defaults (PREVIEW_MAX_FILE_BYTES …)
MAX_FILES = 2000  # the service's PREVIEW_MAX_FILES
# Past the limits, what goes first: media files (images, fonts, videos, archives) wherever
# they are, then the rest of a page's assets, never the code beside them (bluelog's vendored
# editor once pushed its wsgi.py and migrations out of the upload). A folder named as an
# asset folder may hold code: timotismjntk's express-backend keeps its routes and
# controllers for anonymous callers in src/routes/public/ and src/controllers/public/,
# which 20 MB of uploaded product photos (assets/uploads/*.jpg) pushed out ("Cannot find
# module './src/routes/public/publicRoutes.js'").
_ASSET_DIRS = {"static", "assets", "public", "media", "vendor", "fonts", "images", "img"}
_MEDIA = re.compile(
    r"\.(?:png|jpe?g|gif|webp|avif|bmp|tiff?|ico|svg|psd|mp[34]|m4a|mov|webm|avi|mkv|wav|ogg"
    r"|flac|pdf|woff2?|ttf|otf|eot|zip|tar|gz|tgz|7z|rar)$",
    re.IGNORECASE,
)
MAX_TOTAL_BYTES = 10485760
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".mypy_cache"}
STAMPS = (".realapps-commit", ".realapps-absent")
PROBE_LIMIT = 40
PROBE_TIMEOUT = 15.0
_UNANSWERED_IN_A_ROW = 3  # probes that got no answer, after which the rest are not sent
# What a route's path keeps as written: its separators, and escapes it already has.
_URL_SAFE = "/%:@!$&'()*+,;="


def mirror_of(repo: str) -> Path:
    """The repository's git directory: a bare mirror at ``repo``, or, where the fetch left a
    clone with its work tree elsewhere, the ``repo/.git`` inside it (git reads a bare one only
    through ``--git-dir``)."""
    root = MIRROR / repo.replace("/", "+") / "repo"
    return root / ".git" if (root / ".git").is_dir() else root


def materialise(entry: dict[str, Any]) -> Path | str:
    """The app's folder under .corpus (its commit's ``path``), or why not."""
    git_dir = mirror_of(entry["repo"])
    if not git_dir.is_dir():
        return f"not fetched: fetch github:{entry['repo']} into {git_dir.parent}"
    target = CORPUS / entry["name"]
    stamp = target / ".realapps-commit"
    if stamp.is_file() and stamp.read_text().strip() == entry["commit"]:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    treeish = f"{entry['commit']}:{entry['path']}" if entry["path"] else entry["commit"]
    archive = subprocess.run(
        ["git", f"--git-dir={git_dir}", "archive", "--format=tar", treeish],
        capture_output=True,
    )
    if archive.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(target, filter=_data_or_skipped)
    elif not _blob_by_blob(git_dir, treeish, target):
        return f"not fetched: git archive {treeish}: {archive.stderr.decode()[-200:].strip()}"
    stamp.write_text(entry["commit"] + "\n")
    return target


def _data_or_skipped(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    """tarfile's ``data`` filter, a member it refuses left out (a committed ``.venv``'s
    ``bin/python3 -> /usr/bin/python3``: quantbj's direct-marketing-portal stopped the run)."""
    try:
        return tarfile.data_filter(member, path)
    except tarfile.FilterError:
        return None


def _blob_by_blob(git_dir: Path, treeish: str, target: Path) -> bool:
    """The tree's files one by one: a mirror may lack its largest blobs (listed, absent);
    those are left out and named in ``.realapps-absent``."""
    listing = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z", treeish], capture_output=True
    )
    if listing.returncode != 0:
        return False
    absent = []
    for record in listing.stdout.decode().split("\0"):
        if not record or "\t" not in record:
            continue
        meta, rel = record.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind != "blob" or mode == "120000":
            continue
        blob = subprocess.run(
            ["git", f"--git-dir={git_dir}", "cat-file", "blob", sha], capture_output=True
        )
        if blob.returncode != 0:
            absent.append(rel)
            continue
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob.stdout)
    (target / ".realapps-absent").write_text("".join(f"{rel}\n" for rel in absent))
    return True


def pack(folder: Path) -> tuple[bytes, int, list[str]]:
    """A tar.gz of the files within the upload limits: (archive, file count, skipped)."""
    files: list[Path] = []
    skipped: list[str] = []
    # Folders never sent whatever their names, as `preview push` leaves them (a committed
    # virtualenv `env/`: 980 files first in the order pushed manage.py past the count).
    marked = {
        marker.parent.relative_to(folder)
        for name in SKIPPED_FOLDER_MARKERS
        for marker in folder.rglob(name)
        if marker.parent != folder
    }
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in SKIP_DIRS for part in rel.parts[:-1]) or rel.name in STAMPS:
            continue
        if marked.intersection(rel.parents):
            continue
        if path.is_symlink() or not path.is_file():
            if path.is_symlink():
                skipped.append(f"{rel} (symlink)")
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            skipped.append(f"{rel} ({path.stat().st_size} bytes)")
            continue
        try:  # as `preview push` leaves out a name an upload may not hold
            canonical_path(rel.as_posix())
        except UnsafePath as refused:
            skipped.append(f"{rel} ({refused.reason})")
            continue
        files.append(path)
    total = 0
    kept: list[Path] = []
    files.sort(key=lambda p: _drop_rank(p.relative_to(folder)))
    for path in files:
        size = path.stat().st_size
        if len(kept) >= MAX_FILES or total + size > MAX_TOTAL_BYTES:
            skipped.append(f"{path.relative_to(folder)} (over the upload's count or size)")
            continue
        kept.append(path)
        total += size
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in kept:
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue(), len(kept), skipped


def _drop_rank(rel: Path) -> tuple[bool, bool, bool, Path]:
    """Where ``rel`` comes in the upload's order (the last left out past the limits): a
    server's data files last (a committed PostgreSQL data directory, ``data/db/base/1/
    1247``: leducthai's DRF products-and-users, whose 577 of them pushed its settings.py
    and manage.py out), media files before them, the other files of asset folders before
    those, code first."""
    media = _MEDIA.search(rel.name) is not None
    data = not rel.suffix and rel.name not in _TEXT_NAMES and not rel.name.startswith(".")
    return data, media, bool(_ASSET_DIRS.intersection(rel.parts[:-1])), rel


# Files with no extension that are a project's own text, not a server's data.
_TEXT_NAMES = {
    "Dockerfile",
    "Procfile",
    "Makefile",
    "Pipfile",
    "Gemfile",
    "LICENSE",
    "README",
    "Caddyfile",
    "Vagrantfile",
    "Jenkinsfile",
}


class Runner:
    def __init__(self, service: ServiceServer, timeout: float, cached: bool) -> None:
        self.service = service
        self.http = service.http
        self.timeout = timeout
        self.cached = cached

    def upload(self, name: str, data: bytes) -> str:
        response = self.http.post(
            "/api/generations",
            params={"projectId": f"realapps-{name}"[:60]},
            content=data,
            headers={"Content-Type": "application/gzip"},
        )
        if response.status_code >= 300:
            raise report.Refused(f"upload refused {response.status_code}: {response.text[:300]}")
        return response.json()["generationId"]

    def launch(self, gid: str) -> tuple[dict[str, Any], float, dict[str, Any], float | None]:
        """(launch answer, seconds to running and its smoke check done / failed, last
        status, seconds to running: what a user waits for before calling it; the smoke
        check runs beside their first calls)."""
        began = time.perf_counter()
        response = self.http.post(f"/api/generations/{gid}/preview/launch")
        answer = response.json() if response.content else {}
        if response.status_code >= 300:
            refused = {"refused": response.status_code, **answer}
            if response.status_code >= 500:  # the service's own failure: keep its traceback
                refused["serviceLogTail"] = self.service.log_tail()
            return refused, time.perf_counter() - began, {}, None
        deadline = time.monotonic() + self.timeout
        status: dict[str, Any] = {}
        running_since = None
        running_after: float | None = None
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                status = self.http.get(f"/api/generations/{gid}/preview/status").json()
            if status.get("status") in ("failed", "stopped"):
                break
            # Running once its smoke check is done (``health``), which may relaunch it
            # with a fix for its routes' 500s (then: starting again).
            running = status.get("status") == "running"
            running_since = (running_since or time.monotonic()) if running else None
            if running and running_after is None:
                running_after = time.perf_counter() - began
            settled = running_since is not None and time.monotonic() - running_since > 60
            if running and (status.get("health") is not None or settled):
                break
            time.sleep(0.5)
        else:
            status = {**status, "timedOut": True}
        return answer, time.perf_counter() - began, status, running_after

    def stop(self, gid: str) -> None:
        with contextlib.suppress(httpx.HTTPError):
            self.http.delete(f"/api/generations/{gid}/preview")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                state = self.http.get(f"/api/generations/{gid}/preview/status").json()
                if state.get("status") not in ("starting", "running", "stopping"):
                    return
            time.sleep(0.3)

    def endpoints(self, gid: str) -> list[dict[str, Any]]:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            response = self.http.get(f"/api/generations/{gid}/endpoints")
            if response.status_code == 200:
                body = response.json()
                return body.get("endpoints", []) if isinstance(body, dict) else body
        return []

    def probe(self, gid: str, token: str, endpoints: list[dict[str, Any]]) -> list[dict]:
        paths = sorted(
            {
                e["path"]
                for e in endpoints
                if str(e.get("method", "")).upper() in ("GET", "ANY")
                and not re.search(r"[{<:*(]", e.get("path", ""))
            }
        )[:PROBE_LIMIT] or ["/"]
        results: list[dict] = []
        for path in paths:
            unanswered = results[-_UNANSWERED_IN_A_ROW:]
            if len(unanswered) == _UNANSWERED_IN_A_ROW and all(
                r["status"] is None for r in unanswered
            ):
                # An app answering nothing: each further probe would wait its whole time
                # (icheater's expressserver, 40 routes: 20 min of a corpus run).
                said = f"not probed: the app answered none of the {_UNANSWERED_IN_A_ROW} before"
                results.append({"path": path, "status": None, "body": said, "began": time.time()})
                continue
            url = proxy_url(gid, path)
            began = time.time()  # its log lines are those stamped from here to the next
            try:
                headers = {"X-Preview-Token": token}
                with self.http.stream("GET", url, headers=headers, timeout=PROBE_TIMEOUT) as answer:
                    # An event stream's answer never ends: its status is the answer.
                    kind = answer.headers.get("content-type", "")
                    body = b"" if kind.startswith("text/event-stream") else answer.read()
                text = body.decode("utf-8", "replace")
                probe = {"path": path, "status": answer.status_code, "body": text[:200]}
                probe["began"] = began
                with contextlib.suppress(ValueError, AttributeError, TypeError, KeyError):
                    app_error = json.loads(text)["details"]["appError"]  # ours: a 502's
                    probe["appError"] = str(app_error)[:400]
                results.append(probe)
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                results.append(
                    {"path": path, "status": None, "body": repr(error)[:200], "began": began}
                )
        return results

    def events(self, gid: str) -> list[dict[str, Any]]:
        """The preview's log events, the last 5,000 (none if the service does not answer)."""
        with contextlib.suppress(httpx.HTTPError, ValueError):
            response = self.http.get(f"/api/generations/{gid}/preview/logs", params={"limit": 5000})
            body = response.json()
            events = body.get("events", []) if isinstance(body, dict) else body
            return [e if isinstance(e, dict) else {"message": e} for e in events]
        return []

    def logs(self, gid: str, limit: int = LOG_LINES) -> list[str]:
        return log_tail(self.events(gid), limit)

    def run_app(self, entry: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {
            "name": entry["name"],
            "shape": entry["shape"],
            "expected": entry.get("expectedEndpoints"),
        }
        folder = materialise(entry)
        if isinstance(folder, str):
            return {**result, "fetched": False, "rawCause": folder, "cause": folder}
        data, count, skipped = pack(folder)
        absent = folder / ".realapps-absent"
        if absent.is_file():
            skipped += [f"{rel} (absent from the mirror)" for rel in absent.read_text().split()]
        result.update(files=count, skipped=skipped)
        try:
            gid = self.upload(entry["name"], data)
        except report.Refused as refused:
            return {**result, "launched": False, "healthy": False, "rawCause": str(refused)}
        result["gid"] = gid
        answer, seconds, status, running_after = self.launch(gid)
        result.update(launchAnswer=report.trim(answer), cold_s=round(seconds, 1))
        result["cold_running_s"] = running_after and round(running_after, 1)
        result["cold_phases"] = status.get("phases")  # where its time went (issue 68)
        result["runtime"] = status.get("runtime") or answer.get("runtime")
        result["status"] = report.trim(status)
        result["launched"] = status.get("status") == "running"
        if not result["launched"]:
            result["logTail"] = self.logs(gid)
            self.stop(gid)
            result["endpointsFound"] = len(self.endpoints(gid))
            return result
        if self.cached:
            self.stop(gid)
            answer, seconds, status, running_after = self.launch(gid)
            result["cached_s"] = round(seconds, 1)
            result["cached_running_s"] = running_after and round(running_after, 1)
            result["cached_phases"] = status.get("phases")
            if status.get("status") != "running":
                result.update(launched_again=False, status=report.trim(status))
                result["logTail"] = self.logs(gid)
                self.stop(gid)
                return result
        time.sleep(1.0)
        found = self.endpoints(gid)
        result["endpointsFound"] = len(found)
        result["probes"] = self.probe(gid, answer.get("previewToken", ""), found)
        on_purpose = entry.get("failsOnPurpose") or {}  # routes that raise to show it
        for probe in result["probes"]:
            if probe["path"] in on_purpose:
                probe["onPurpose"] = on_purpose[probe["path"]]
        result["healthy"] = report.healthy(result["probes"])
        if not result["healthy"]:
            events = self.events(gid)
            result["logTail"] = log_tail(events)
            report.attribute_lines(result["probes"], events)
        self.stop(gid)
        return result


def log_tail(events: list[dict[str, Any]], limit: int = LOG_LINES) -> list[str]:
    """The last ``limit`` lines of a preview's log events, after the service's diagnoses
    (said once, maybe long before the end: they explain it)."""
    lines = [str(e.get("message", "")) for e in events]
    said = [line for line in lines[:-limit] if line.startswith("diagnosis: ")]
    return [line[:300] for line in [*said, *lines[-limit:]]]


def proxy_url(gid: str, path: str) -> str:
    """The preview proxy's URL of an app's route, its characters a URL cannot carry
    (a control character from a route written '\\view', a space) percent-encoded: the app
    decodes them back, and httpx refuses them raw (InvalidURL)."""
    return f"/api/generations/{gid}/preview/proxy/" + quote(path.lstrip("/"), safe=_URL_SAFE)


def _service(data_dir: Path) -> ServiceServer:
    _remove_aside(data_dir)
    # The previews' ports: the harness picks a free block, or REALAPPS_PORT_MIN..MAX (a
    # range the tests running beside it never use).
    ports = {
        f"PREVIEW_PORT_{end}": os.environ[f"REALAPPS_PORT_{end}"]
        for end in ("MIN", "MAX")
        if os.environ.get(f"REALAPPS_PORT_{end}")
    }
    return ServiceServer(
        extra_env={
            "PREVIEW_DATA_DIR": str(data_dir),
            "PREVIEW_BUILD": "on",
            "PREVIEW_SANDBOX": "auto",
            "PREVIEW_STOP_GRACE": "5",
            **ports,
        }
    )


def _remove_aside(data_dir: Path) -> None:
    """The last run's data dir (gigabytes of environments and node_modules) renamed aside
    and removed by a thread meanwhile: removed in place, a busy machine held the next
    app's start for minutes. Asides a killed run left are removed too."""
    if data_dir.exists():
        aside = f"{data_dir.name}.old-{os.getpid()}-{time.monotonic_ns()}"
        data_dir.rename(data_dir.with_name(aside))
    asides = sorted(data_dir.parent.glob(f"{data_dir.name}.old-*"))
    if asides:
        threading.Thread(
            target=lambda: [shutil.rmtree(aside, ignore_errors=True) for aside in asides],
            name="realapps-remove-aside",
        ).start()  # not a daemon: the benchmark's exit waits for it


def run(
    *,
    apps: list[str] | None = None,
    cached: bool = True,
    app_timeout: float = 240.0,
    manifest: Path | None = None,
    **_: Any,
) -> dict[str, Any]:
    """``manifest``: another corpus of the same schema (the held-out set, heldout.json):
    its results go beside it as ``<stem>-results.json`` / ``.md``, its service's data dir
    is its own (``.corpus/.service-data-<stem>``)."""
    other = manifest is not None and manifest.resolve() != MANIFEST.resolve()
    manifest = manifest or MANIFEST
    entries = json.loads(manifest.read_text())
    order = {e["name"]: i for i, e in enumerate(entries)}
    out_json = (
        manifest.with_name(f"{manifest.stem}-results.json") if other else REALAPPS / "results.json"
    )
    command = "python -m benchmarks realapps" + (f" --manifest {manifest.name}" if other else "")
    # A run of some apps replaces theirs in the last full run's results.
    kept: list[dict[str, Any]] = []
    # Said again, followed by this run's, by a run of some apps: where the others come from.
    earlier_heading = report.table_heading(out_json.with_suffix(".md")) if apps else ""
    if apps and out_json.is_file():
        kept = [r for r in json.loads(out_json.read_text())["results"] if r["name"] not in apps]
    elif apps and out_json.with_suffix(".md").is_file():  # a new clone: the committed table's
        table = report.results_from_table(out_json.with_suffix(".md"))
        kept = [r for r in table if r["name"] not in apps]
    # An app never to run (a malicious install script found in it): not even with --only.
    refused = {e["name"] for e in entries if e.get("doNotRun")}
    if refused:
        log(f"realapps: not run (doNotRun in {manifest.name}): {', '.join(sorted(refused))}")
    named = {e["name"] for e in entries}
    entries = [e for e in entries if e["name"] not in refused]
    planned = len(entries)
    if apps:
        unknown = set(apps) - named
        if unknown:
            raise ValueError(f"not in {manifest.name}: {', '.join(sorted(unknown))}")
        entries = [e for e in entries if e["name"] in apps]
    CORPUS.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []

    def save(partial: bool) -> dict[str, Any]:
        every = sorted(results + kept, key=lambda r: order.get(r["name"], len(order)))
        return report.write(
            every,
            planned,
            out_json,
            partial=partial,
            kept=len(kept),
            earlier_heading=earlier_heading,
            again=[r["name"] for r in results],
            command=command,
        )

    service = _service(CORPUS / (f".service-data-{manifest.stem}" if other else ".service-data"))
    try:
        runner = Runner(service, app_timeout, cached)
        for i, entry in enumerate(entries, 1):
            log(f"realapps {i}/{len(entries)} {entry['name']}")
            began = time.perf_counter()
            try:
                result = runner.run_app(entry)
            except Exception as error:  # one app must not lose the others
                result = {
                    "name": entry["name"],
                    "shape": entry["shape"],
                    "expected": entry.get("expectedEndpoints"),
                    "launched": False,
                    "healthy": False,
                    "rawCause": f"runner error: {error!r}",
                }
            report.classify(result, entry)
            result["seconds"] = round(time.perf_counter() - began, 1)
            log(f"  → {report.one_line(result)}")
            results.append(result)
            try:
                save(partial=i < len(entries))
            except OSError as error:  # e.g. a full disk: the next app's save may work
                log(f"  could not save the results: {error!r}")
    finally:
        service.close()
    summary = save(partial=len(results) + len(kept) < planned)
    return {"scenario": "realapps", **summary}
