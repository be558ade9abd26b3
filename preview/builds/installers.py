"""What the builds need to know about installers and this machine (:mod:`.build`'s helpers).

Where interpreters are looked for, how builds reach the package indexes (the machine's CA
certificates and proxy, nothing else of the service's environment), and reading uv's
(or npm's) output: the progress it reports (:func:`with_progress`), the one-line reason a
build failed and the lines that explain it.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import trio
import uv

from ..logs import OutputTails, no_space
from .envcache import BuildFailed, Say
from .steps import Publish
from .toolerrors import (
    NODE_TRAILER,
    NPM_LOCK_OUT_OF_SYNC,
    NPM_PEER_CONFLICT,
    missing_npm_version,
    strip_ansi,
    tool_failure,
    unsupported_platform,
)

__all__ = [
    "ABSENT_FROM_THE_INDEX",
    "NEEDS_COMPILER",
    "NO_WHEEL_ANYWHERE",
    "OVERSIZED",
    "SAFE_PATH",
    "failure_reason",
    "find_interpreter",
    "for_python",
    "installed_pythons",
    "installer_failure",
    "installer_killed",
    "interpreter_path",
    "machine_network",
    "node_headers",
    "noting_failed_builds",
    "npm_environment",
    "npm_freshness",
    "npm_install",
    "progress_summary",
    "relevant_lines",
    "uv_output",
    "version_key",
    "with_progress",
]

_UV_ERROR = re.compile(r"^\s*(?:×|error:)\s*(.+)")
_UV_CAUSE = re.compile(r"^\s*(?:╰─▶|Caused by:)\s*(.+)")
# uv's error, continued on its next lines (``│ git+https://github.com/…@main` ``): a
# package from a git URL is named over two lines ("Failed to download and build `litestar @").
_UV_MORE = re.compile(r"^\s*│\s*(\S.*)")
_MAX_REASON = 300
# The line a Python traceback ends with, or setuptools' refusal of a setup() keyword.
_EXCEPTION = re.compile(r"^\s*(?:[A-Za-z_][\w.]*(?:Error|Exception)|error in \S+ setup command):")
# npm's lines on where a script failed (its code, path, command), not why: the script's
# own error above them says why (Prisma's "Error: Unknown binaryTarget …").
# An exception's line as Node prints it (``Error: ENOENT: …``, ``TypeError [ERR_X]: …``).
_THROWN = re.compile(r"^(?:[A-Z]\w*)?Error(?: \[\w+\])?: \S")
# A field of an error object Node prints after its exception (``errno: -2,``, ``code:
# 'ENOENT'``), or a frame of its stack.
_OBJECT_FIELD = re.compile(r"^(?:[\w$]+: .*,?|at .+)$")
_WORD = re.compile(r"[A-Za-z]{2}")
_NPM_WHERE = re.compile(r"^npm (?:ERR!|error) (?:code|path|errno|syscall|command|signal)\b")
# uv: "Failed to build `httptools==0.1.2`" (or "Failed to download and build `x==1`": no
# wheel, and its source distribution unreadable); then the build backend's output, in
# which a compiler's failure shows like this.
_FAILED_BUILD = re.compile(
    r"Failed to (?:download and )?build `(?P<name>[A-Za-z0-9._-]+)(?:==(?P<version>[^`\s]+))?"
)
_COMPILER = re.compile(
    r"\b(?:gcc|cc1|cc1plus|clang|x86_64-linux-gnu-gcc)\b|Python\.h|fatal error: |"
    r"error: command '[^']*' failed|unable to execute|pg_config executable not found|"
    r"mysql_config not found|Can not find valid pkg-config name|"
    r"\.(?:c|cc|cpp|h):\d+:\d+: (?:fatal )?error:"
)
NEEDS_COMPILER = "needs a C compiler and its headers (no wheel)"
# What a build from source looked for and did not find, and what provides it (Debian's).
_NEEDS = (
    (
        # mysqlclient < 2.2 runs mysql_config; 2.2 and later ask pkg-config, then say this
        re.compile(r"\b(?:mysql|mariadb)_config\b.*not found|Can not find valid pkg-config"),
        "needs MySQL's client library and headers (mysql_config, or pkg-config's "
        "mysqlclient: Debian's default-libmysqlclient-dev) and a C compiler (no wheel)",
    ),
    (
        re.compile(r"pg_config executable not found|\bpg_config\b.*not found"),
        "needs PostgreSQL's client library headers and pg_config (Debian's libpq-dev) and "
        "a C compiler (no wheel)",
    ),
)
# What no interpreter brings (a system library a build from source needs): another Python
# helps only where it has a wheel (interpreters.build_first_fitting).
MACHINE_LACKS = tuple(needs for _, needs in _NEEDS)
_BUILDING = re.compile(r"^building (.+?) needs ")
_QUERY_TIME = 60.0  # a uv query (interpreters) that takes longer has failed
# What an upload may ask uv for (.python-version, requires-python): a version or a
# specifier, an implementation with or without one (``cpython@3.12``, ``pypy3.10``,
# ``python3.11``). Never a path nor any other program's name: uv runs what it is named,
# to ask what it is, and uv runs here as the service, outside any sandbox.
_PYTHON_REQUEST = re.compile(
    r"(?:[<>=!~]=?=?\s*)?(?:\d|(?:c?python|cp|pypy|pp|graalpy|gp)(?=$|[@\d.-]))[\w.*,<>=!~@+ -]*",
    re.IGNORECASE,
)
# uv: "Resolved 12 packages in 3ms", "Installed 12 packages in 20ms" …
_UV_PROGRESS = re.compile(r"^\s*(Resolved|Prepared|Installed|Audited|Downloaded)\s+(\d+)\s+package")
# npm: "added 64 packages, removed 2 packages, changed 1 package, and audited 65 packages
# in 2s", or "up to date in 300ms" (no progress bar without a terminal: the end's summary).
_NPM_PROGRESS = re.compile(r"\b(added|removed|changed|audited)\s+(\d+)\s+packages?\b")
_NPM_UP_TO_DATE = re.compile(r"^up to date\b")
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
# How this machine reaches the package indexes (its CAs, its proxy): what builds inherit
# from the service's environment, and nothing else of it.
_NETWORK_VARS = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
)


def machine_network() -> dict[str, str]:
    return {name: os.environ[name] for name in _NETWORK_VARS if os.environ.get(name)}


def node_headers() -> dict[str, str]:
    """Where node-gyp finds the headers of the Node that runs it (a native module built
    from source: bcrypt once its prebuilt binary, on GitHub, is out of reach), instead of
    fetching them from nodejs.org, which builds do not reach: the installation's own
    ``include/node`` (Debian's ``/usr``), when it has one."""
    found = shutil.which("node", path=SAFE_PATH)
    prefix = Path(os.path.realpath(found)).parent.parent if found else None
    if prefix is None or not (prefix / "include" / "node" / "node.h").is_file():
        return {}
    return {"npm_config_nodedir": str(prefix)}


def interpreter_path() -> str:
    """Where interpreters are looked for: the service's own base installation first (the
    default when an app asks for none), the service's PATH, and pyenv's versions."""
    dirs = [str(Path(sys.base_prefix) / "bin")]
    dirs += [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and "shims" not in d]
    pyenv = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    dirs += sorted(glob.glob(f"{pyenv}/versions/*/bin"), key=version_key, reverse=True)
    return os.pathsep.join(dict.fromkeys(dirs))


def version_key(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:3])


# npm's line naming the package whose install script failed, before the script's output.
_NPM_SCRIPT_PATH = re.compile(r"^npm (?:error|ERR!) path \S*node_modules/")


def noting_failed_builds(publish: Publish, noted: list[str]) -> Publish:
    """``publish``, keeping uv's "Failed to build `x==1`" lines and npm's ``path`` line of
    a failed install script in ``noted``: a compiler's output after one, or the script's
    (chromedriver's dump of the refused request for its download, hundreds of lines in
    agustinlari's hono-kanban), can be longer than the tail kept for the reason."""

    async def note(lines: list[tuple[str, str]], stream: str) -> None:
        noted.extend(
            text
            for _, text in lines
            if _FAILED_BUILD.search(text) or _NPM_SCRIPT_PATH.match(strip_ansi(text))
        )
        await publish(lines, stream)

    return note


def installer_failure(
    tails: OutputTails, tool: str, noted: list[str] | None = None
) -> tuple[str, list[str]]:
    """The installer's reason and the lines that explain it, from stderr first (where uv
    and npm write their errors; a stdout line between them is not part of them)."""
    if tool in ("npm", "prisma"):
        lines = list(tails.lines) or _both(tails)
        paths = [n for n in noted or () if _NPM_SCRIPT_PATH.match(strip_ansi(n))]
        found = tool_failure([*[p for p in paths[-1:] if p not in lines], *lines])
        if found is not None:
            return found
    compiled = _compiler_failure([*(noted or [])[-1:], *tails.lines])
    if compiled is not None:
        return compiled
    reason, lines = tails.cause(_reason)
    return reason or f"{tool} failed", relevant_lines(lines)


# What :func:`installer_killed` says of a download past the size a build may write: the
# same on every Python (a package's size is its own).
OVERSIZED = "was stopped writing a file larger than the"
# uv's resolution failing on a name its index does not have at all (in its reason, whose
# wrapped cause is joined): what no other Python finds either.
ABSENT_FROM_THE_INDEX = "was not found in the package registry"
# An install with wheels only refused for an older major it took, where the package the
# newer release needs has no wheel at all: built from source on every Python.
NO_WHEEL_ANYWHERE = "has no wheel for any Python"
# uv's line on each large download: "Downloading tensorflow (545.7MiB)".
_DOWNLOADING = re.compile(r"^\s*Downloading (\S+) \(([\d.]+)MiB\)")


def installer_killed(
    returncode: int | None, tool: str, tail: list[str], file_bytes: int
) -> str | None:
    """Why the installer ended without a word, where a signal ended it: a file larger than
    a build may write (``file_bytes``: RLIMIT_FSIZE's SIGXFSZ) with the downloads past that
    size uv named (Harshith24's Flask-music lists tensorflow, a wheel of 546 MiB: "uv
    failed", and nothing said why), else the signal, else its exit code; None where it
    exited with 0."""
    if returncode is None or returncode == 0:
        return None
    if returncode > 0:
        return f"{tool} exited with code {returncode} without saying why"
    if -returncode == signal.SIGXFSZ:
        limit = file_bytes / (1024 * 1024)
        large = [
            f"{m.group(1)} {float(m.group(2)):g} MiB"
            for line in tail
            if (m := _DOWNLOADING.match(line)) and float(m.group(2)) > limit
        ]
        which = f" ({', '.join(dict.fromkeys(large))})" if large else ""
        return f"{tool} {OVERSIZED} {limit:g} MiB a build may write{which}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    return f"{tool} was ended by {name}"


def _compiler_failure(lines: list[str]) -> tuple[str, list[str]] | None:
    """ "building X Y needs a C compiler and its headers (no wheel)" when a package built
    from source failed to compile (the build adds "for Python Z"), with the lines that
    show it."""
    failed = next((m for line in lines if (m := _FAILED_BUILD.search(line))), None)
    shown = [line.strip() for line in lines if _COMPILER.search(line)]
    if failed is None or not shown:
        return None
    what = failed.group("name") + (f" {failed.group('version')}" if failed.group("version") else "")
    needs = next((n for pattern, n in _NEEDS for line in shown if pattern.search(line)), None)
    kept = [*shown[-10:], _clip(failed.group(0)), *_why_included(lines)]
    return f"building {what} {needs or NEEDS_COMPILER}", kept


def for_python(reason: str, minor: str) -> str:
    """A build's reason ("building X 1.0 needs …") with the Python it was built for."""
    if " for Python " in reason:
        return reason
    return _BUILDING.sub(lambda m: f"building {m.group(1)} for Python {minor} needs ", reason, 1)


def _both(tails: OutputTails) -> list[str]:
    return [*tails.streams["stdout"].lines, *tails.streams["stderr"].lines]


def failure_reason(tail: list[str], tool: str) -> str:
    """The installer's one-line reason: uv's ``× …`` / ``error: …`` with its cause."""
    return _reason(tail) or f"{tool} failed"


def _reason(tail: list[str]) -> str | None:
    for i, line in enumerate(tail):
        m = _UV_ERROR.match(line)
        if m is None:
            continue
        reason, joining = m.group(1).strip(), True
        for at, follow in enumerate(tail[i + 1 : i + 6], start=i + 1):
            joining = joining and (more := _UV_MORE.match(follow)) is not None
            if joining and more is not None:  # the error's own next lines, only those
                reason += " " + more.group(1).strip()
                continue
            if (cause := _UV_CAUSE.match(follow)) is not None:
                reason = reason.rstrip(":")
                reason += ": " + " ".join([cause.group(1).strip(), *_wrapped(tail, at + 1)])
                break
        return _clip(reason.rstrip(":"))
    said = None  # npm's own lines say where it failed; the script's own error says why
    errors = [  # (npm's line, what it says), npm's log file's line aside: it says nothing
        (line, _clip(line.replace("npm ERR!", "").replace("npm error", "").strip()))
        for line in tail
        if ("ERR!" in line or "error" in line.lower()) and "A complete log of this run" not in line
    ]
    # A script's exception, where its crash printed the error object after it (its
    # fields, its closing brace): what says why (Rush's link-module-alias, run by
    # seyedmohamadhadihoseini's expressBlog: "Error: ENOENT: … stat 'app/models'", not "}").
    thrown = next((text for _, text in reversed(errors) if _THROWN.match(text)), None)
    for line, text in reversed(errors):
        if not text or NODE_TRAILER.match(text) or not _WORD.search(text):
            continue  # a script's crash ends with Node's version: it says no cause
        if thrown is not None and (_OBJECT_FIELD.match(text) or text.endswith("{")):
            return thrown  # (an error object's dump, below its exception's line)
        if _NPM_WHERE.match(line.strip()) is None:
            return text
        said = said or text
    return said


def _wrapped(tail: list[str], start: int) -> list[str]:
    """The lines from ``start`` that continue a cause uv wrapped at its width (indented, no
    mark of their own; up to a blank line or a hint): without them the reason stopped
    mid-sentence ("Because no-such-package was", its "not found in the package registry"
    on the next line)."""
    lines: list[str] = []
    for line in tail[start:]:
        if not line.startswith(" ") or not line.strip() or line.lstrip().startswith("hint:"):
            break
        if _UV_ERROR.match(line) or _UV_CAUSE.match(line) or _UV_MORE.match(line):
            break
        lines.append(line.strip())
        if sum(map(len, lines)) > _MAX_REASON:
            break
    return lines


def relevant_lines(tail: list[str]) -> list[str]:
    """The failure's first lines, and the exception its traceback ended with (a build
    backend's ``ImportError: cannot import name 'convert_path' from 'setuptools'``, past
    the first lines: what says why, for the user and the remedies)."""
    start = next((i for i, line in enumerate(tail) if _UV_ERROR.match(line)), None)
    lines = tail[start:] if start is not None else tail
    shown = [line for line in lines if line.strip()][:15]
    ended = next((line for line in reversed(lines) if _EXCEPTION.match(line)), None)
    shown = [*shown, ended] if ended is not None and ended not in shown else shown
    return [*shown, *(line for line in _why_included(lines) if line not in shown)]


def _why_included(lines: list[str]) -> list[str]:
    """uv's hint of what brought a package that failed ("`pygraphviz` (v1.11) was
    included because `eralchemy2` (v1.4.1) depends on …"), for the remedies."""
    return [line.strip() for line in lines if "was included because" in line][:2]


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


def progress_summary(lines: list[tuple[str, str]]) -> str | None:
    """``progress: …`` for the counts uv's or npm's lines in a batch report, if any."""
    counts: dict[str, str] = {}
    up_to_date = False
    for _, text in lines:
        if (m := _UV_PROGRESS.match(text)) is not None:
            counts[m.group(1).lower()] = m.group(2)
        elif text.startswith(("added ", "removed ", "changed ", "audited ")):
            counts.update((verb, n) for verb, n in _NPM_PROGRESS.findall(text))
        elif _NPM_UP_TO_DATE.match(text):
            up_to_date = True
    if counts:
        return "progress: " + " · ".join(f"{k} {v}" for k, v in counts.items()) + " packages"
    return "progress: up to date" if up_to_date else None


def with_progress(publish: Publish) -> Publish:
    """``publish``, followed by a progress line for each batch that reports one."""

    async def watch(lines: list[tuple[str, str]], stream: str) -> None:
        await publish(lines, stream)
        summary = progress_summary(lines)
        if summary is not None:
            await publish([("INFO", summary)], "stdout")

    return watch


async def find_interpreter(request: str | None, env: dict[str, str]) -> tuple[str, str] | list[str]:
    """(path, version) of the interpreter uv picks for ``request`` (None: the default);
    when none fits, the versions present instead. No code of the upload runs.

    ``BuildFailed`` when uv could not look because the disk is full (its cache cannot be
    made): that is the build's cause, not "no interpreter fits None; present: none"."""
    find = ["python", "find", "--python-preference", "only-system"]
    asked = [request] if request else []
    if not request or _PYTHON_REQUEST.fullmatch(request.strip()):  # else none fits
        found = await uv_output([*find, *asked], env, full_disk_fails=True)
        version = await uv_output([*find, "--show-version", *asked], env)
        if found is not None and version is not None:
            return found, version
    versions = {e.get("version") for e in await installed_pythons(env)}
    return sorted((v for v in versions if v), key=version_key, reverse=True)


async def installed_pythons(env: dict[str, str]) -> list[dict]:
    """uv's entries for the interpreters present (``version``, ``path``,
    ``implementation`` …); [] when it cannot tell."""
    listed = await uv_output(
        [
            "python",
            "list",
            "--only-installed",
            "--python-preference",
            "only-system",
            "--output-format",
            "json",
        ],
        env,
    )
    try:
        entries = json.loads(listed or "[]")
    except ValueError:
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


async def uv_output(
    args: list[str], env: dict[str, str], *, full_disk_fails: bool = False
) -> str | None:
    """A quick uv query: its stdout, None if it failed (or took over _QUERY_TIME);
    ``full_disk_fails``: ``BuildFailed`` saying so when it failed for want of space."""
    result = None
    with trio.move_on_after(_QUERY_TIME):  # then it is killed, and counts as failed
        result = await trio.run_process(
            [uv.find_uv_bin(), *args],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env=env,
        )
    if result is None:
        return None
    if result.returncode != 0 and full_disk_fails:
        lines = result.stderr.decode("utf-8", "replace").splitlines()
        if (full := no_space(lines, "the environments")) is not None:
            raise BuildFailed(full)
    text = result.stdout.decode("utf-8", "replace").strip()
    return text if result.returncode == 0 and text else None


def npm_freshness(before: str | None) -> dict[str, str]:
    """How current npm's view of the registry must be, as npm settings: as of the app's
    era where a remedy gave one (``before``: npm's --before, every step resolving as of
    it), which needs the registry's full indexes; else what the machine's cache holds,
    taken as it is rather than revalidated with the registry package by package (a warm
    ``npm ci`` of an Express app's 200 packages in 4.6-6.5 s instead of 8.2 here; see
    :func:`npm_install`'s ``offline_first`` for a range the cached index cannot meet)."""
    if before:
        return {"npm_config_before": before}
    return {"npm_config_prefer_offline": "true"}


def npm_environment(home: Path, cache: Path, extra: dict[str, str]) -> dict[str, str]:
    """What npm runs with in a build (``home`` its project's folder): its ``cache``, no
    update notifier, fund, audit nor colours, the machine's Node headers and network."""
    return {
        "PATH": SAFE_PATH,
        "HOME": str(home),
        "npm_config_cache": str(cache),
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
        "npm_config_color": "false",
        **node_headers(),
        **machine_network(),
        **extra,
    }


async def npm_install(
    run: Callable[[list[str]], Awaitable[None]],
    command: str,
    tools: Sequence[str],
    say: Say,
    unpin: Callable[[str], Awaitable[str | None]] | None = None,
    optional: Callable[[str], Awaitable[bool]] | None = None,
    *,
    legacy: bool = False,
    offline_first: bool = False,
) -> bool:
    """``npm <command>`` (``ci`` or ``install``) by ``run``, then the ``tools`` the app
    needs but does not list, beside its own (its lockfile and package.json untouched);
    no package's install scripts (the caller runs them apart).
    Where npm refuses the dependency tree for a peer conflict (ERESOLVE), a step runs
    once more with ``--legacy-peer-deps``, saying so: what pnpm and yarn install without
    a word (a project resolved by either, like the Hono starter whose stoker wants
    another zod-to-openapi than @hono/zod-openapi brings), and what npm advises. Where
    the registry has no such version of a package pinned for the build (``unpin``: gives
    it back the app's own range, and returns it; None if it was not pinned), the step
    runs again with that range, saying so: a version unpublished since, or one a
    registry mirror lacks. Where ``npm ci`` refuses a lockfile out of step with
    package.json (a dependency added, or an optional one of another platform, never
    written to it), ``npm install`` runs instead, from that lockfile, saying so. Where a
    dependency of the app's own runs on another system or processor (EBADPLATFORM),
    ``optional`` makes it an optional one, which npm skips here, and the step runs again,
    saying so. ``legacy``: every step has the flag from the start (a tree yarn resolved, which
    checks no peer dependency: ``NodeDeps.legacy_peers``). ``offline_first``: ``run``'s
    npm takes what the machine's cache has without asking the registry whether it is
    current (``npm_config_prefer_offline``); where a cached index of a package has no
    version its range wants (published since it was cached: npm does not ask again by
    itself), the step runs again asking the registry (``--prefer-online``), saying so,
    before any pin is given up.
    Returns whether the tree needed ``--legacy-peer-deps``: every later install in it
    does too, from the start (npm resolving it with its peers again conflicts again, or
    churns: sebapoole's fastify-typescript-knex-boilerplate, its pg replaced beside the
    tree, printed "ERESOLVE overriding peer dependency" 30,000 times in 95 s)."""
    # No package's scripts: they run after (``npm rebuild``), once the shared download
    # cache is no longer writable (``EnvBuilder.node_modules``).
    steps = [["npm", command, "--no-progress", "--ignore-scripts"]]
    if tools:
        steps.append(["npm", "install", "--no-save", "--no-progress", "--ignore-scripts", *tools])
    for argv in steps:
        while True:
            try:
                await run([*argv, "--legacy-peer-deps"] if legacy else argv)
                break
            except BuildFailed as failure:
                missing = missing_npm_version(failure.message)
                if argv[1] == "ci" and failure.message.startswith(NPM_LOCK_OUT_OF_SYNC):
                    await say(f"{failure.message}: npm install instead of npm ci")
                    argv = ["npm", "install", *argv[2:]]
                    continue
                if not legacy and failure.message.startswith(NPM_PEER_CONFLICT):
                    await say(f"{failure.message}; installing again with --legacy-peer-deps")
                    legacy = True
                    continue
                if missing and offline_first and "--prefer-online" not in argv:
                    await say(
                        f"npm's cached index of {missing[0]} has no version matching "
                        f"{missing[1]}: asking the registry for a newer one"
                    )
                    argv = [*argv, "--prefer-online"]
                    continue
                elsewhere = unsupported_platform(failure.message)
                if elsewhere is not None and optional is not None and await optional(elsewhere):
                    await say(
                        f"{failure.message}: made an optional dependency, which npm skips on "
                        "this machine (what loads it fails)"
                    )
                    continue
                wanted = await unpin(missing[0]) if missing and unpin is not None else None
                if wanted is None:
                    raise
                name, version = missing  # type: ignore[misc]
                await say(f"the registry has no {name} {version} (its lockfile's): {wanted}")
    return legacy
