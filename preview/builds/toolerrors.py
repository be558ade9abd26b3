"""What npm and the TypeScript compiler said when they failed, in one line:
:func:`tool_failure`.

npm: "package X@Y is not in the registry" (its E404), "no version of X matches Y"
(ETARGET), its dependency-tree conflict (ERESOLVE) with the dependency it names, a lockfile
out of step with package.json (``npm ci``'s EUSAGE, with the first package it names, not
the usage text npm prints after it), a dependency from a git repository it could not fetch
(the repository's URL, not git's closing "and the repository exists."), a native module
node-gyp could not build ("the native module bcrypt 3.0.6 does not build on Node 20", with
the compiler's errors); the ``A complete log of this run can be found in …`` line, which
names a file of the build's environment and says nothing, is never the reason. tsc:
"TypeScript: 3 errors in src/app.ts" (or "in 2 files (…)") with the first error. ANSI codes
are stripped from the reason and from the lines kept to show it. Errors do not stop tsc
writing its JavaScript (unless ``noEmitOnError``): :func:`typescript_output` says where it
did, for a build whose errors say nothing of what the app's code does
(:func:`only_outside_the_code`): the tidiness checks a tsconfig can turn on
(``noUnusedLocals``, ``noUnusedParameters``, ``allowUnreachableCode: false``), the
declaration files' (a type tsc cannot name in a ``.d.ts``: TS2742), and errors in its
dependencies' declaration files (``node_modules/**/*.d.ts``, what ``skipLibCheck`` skips: a
newer release of a library written for a newer TypeScript than the app's).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..apps.node.tscout import jsonc
from ..logs import no_prisma_engine
from ..sandbox.appdir import read_no_follow

__all__ = [
    "NODE_TRAILER",
    "NPM_GIT_FETCH",
    "NPM_LOCK_OUT_OF_SYNC",
    "NPM_PEER_CONFLICT",
    "NPM_REASONS",
    "NpmReason",
    "missing_npm_version",
    "native_build_failure",
    "only_outside_the_code",
    "program_download_failure",
    "strip_ansi",
    "tool_failure",
    "typescript_output",
    "unsupported_platform",
]

NPM_PEER_CONFLICT = "npm could not resolve the dependency tree"
NPM_LOCK_OUT_OF_SYNC = "package-lock.json is out of step with package.json"
NPM_GIT_FETCH = "a dependency it takes from a git repository could not be fetched"
# node-gyp's own account of the package whose native code failed to build.
_GYP_PACKAGE = re.compile(r"gyp ERR! \$npm_package_(name|version) (\S+)")
_GYP_NODE = re.compile(r"gyp ERR! node -v v(\d+)")
_NATIVE = re.compile(
    r"^the native module (\S+?)(?: (\d\S*))? "
    r"(?:does not build on Node |could not fetch its prebuilt)"
)
# A native module's install script that could not download its prebuilt binary (sharp
# before 0.33 fetches libvips from GitHub's releases, which no build may reach here).
_BINARY_FETCH = re.compile(
    r"tunneling socket could not be established|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)"
    r"|\b(?:ECONNREFUSED|ETIMEDOUT|ECONNRESET)\b|Installation error:"
)
# npm's own account of the package whose script failed (where node-gyp's lacks it: an
# old node-gyp the package brings, 3.8, failing to find a Python 2 before it says more).
_NPM_PATH = re.compile(r"^path \S*?node_modules/((?:@[^/\s]+/)?[^/\s]+)$")
_GYP_FAILED = re.compile(r"^gyp ERR! not ok")
# Node's last line on a crash (npm repeats it in its own error's lines): no cause.
NODE_TRAILER = re.compile(r"Node\.js v\d+\.\d+\.\d+$")
# Packages whose install script downloads a program for the code that starts one: a
# browser or its driver (html-pdf-node's puppeteer 10: its Chromium r901912 gone from its
# host, "Download failed: server returned code 403"), a tunnel (ngrok's, from a host a
# build does not reach; Playwright's browsers, from its CDN: victtor01's backend-sistem-
# nestjs-gestion, artillery's playwright 1.37; Electron's own binary): the app's server
# starts without it.
_PROGRAM_DOWNLOADERS = frozenset(
    {
        "puppeteer",
        "chromedriver",
        "geckodriver",
        "cypress",
        "ngrok",
        "playwright",
        "playwright-chromium",
        "playwright-firefox",
        "playwright-webkit",
        "electron",
    }
)
_PROGRAM_REASON = re.compile(r"^(\S+)'s install script could not download its program")
_OUT_OF_SYNC = re.compile(r"can only install packages when your package\.json and \S+ .*in sync")
_LOCK_GAP = re.compile(r"^(?:Missing|Invalid): .+")
# A gap npm ci's check of the lockfile against package.json names, by its own words.
_SYNC_GAP = re.compile(
    r"^(?:Missing: \S+ from lock file|Invalid: lock file's \S+ does not satisfy)"
)
_NO_VERSION_REASON = re.compile(r"^no version of (\S+) matches (\S+)$")
# npm's EBADPLATFORM: "notsup Unsupported platform for msnodesqlv8@4.1.2: wanted
# {"os":"win32"} (current: {"os":"linux"})", a package whose package.json names the
# systems (os) or processors (cpu) it runs on.
_BAD_PLATFORM = re.compile(
    r"Unsupported platform for ((?:@[^/\s]+/)?[^@\s]+)@(\S+?):? wanted (\{.*?\})"
)
_PLATFORM_REASON = re.compile(r"^the package (\S+) \S+ runs on another system")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_NPM = re.compile(r"^npm (?:error|ERR!)\s?")
_NOT_IN_REGISTRY = re.compile(r"'([^']+)' is not in (?:this|the npm) registry")
_NOT_FOUND = re.compile(r"404 Not Found - GET \S+/(@?[^/\s]+(?:%2[fF][^/\s]+)?)")
_NO_VERSION = re.compile(r"No matching version found for (\S+?)\.?$")
_RESOLVE = re.compile(r"^(?:Could not resolve dependency|Conflicting peer dependency):?\s*$")
# npm fetching a dependency from a git repository (its own, or one of its dependencies':
# stocker's ``"secret-module": "git+ssh://git@github.com/dwallach1/stocker.git"``), the
# command it ran, after "An unknown git error occurred" and before git's own words.
_GIT_FETCH = re.compile(
    r"^command git (?:--no-replace-objects )?(?:ls-remote|clone|fetch)\b.*?(\S+://\S+)"
)
# tsc, plain (no terminal) "src/a.ts(3,7): error TS2322: …" or pretty "src/a.ts:3:7 - error"
_TSC = re.compile(
    r"^(?P<file>[^\s(:][^(:]*?)(?:\((?P<line>\d+),(?P<col>\d+)\)|:(?P<line2>\d+):(?P<col2>\d+))"
    r"\s*[:-]\s*error\s+(?P<code>TS\d+):\s*(?P<text>.*)$"
)
# Prisma's CLI fetching its engines: "Failed to fetch sha256 checksum at <url> - 403
# Forbidden" (Prisma 5.x: "<url>. 502 Bad Gateway"), "request to <url> failed, reason:
# getaddrinfo ENOTFOUND …"
_PRISMA_FETCH = re.compile(
    r"(?:Failed to fetch .*? at|request to) https?://(?P<host>[^/\s]+)\S*"
    r"(?:(?: - | (?=\d{3}\b))(?P<status>.+)| failed, reason: (?P<reason>.+))"
)
_MAX_LINES = 15
# TS6133 "'x' is declared but its value is never read" and its kin; TS7027 unreachable
# code, TS7028 an unused label; an implicit any.
_TIDINESS = {
    "TS6133",
    "TS6138",
    "TS6192",
    "TS6196",
    "TS6198",
    "TS6199",
    "TS6205",
    "TS7027",
    "TS7028",
    # noImplicitAny's: a type nobody wrote, not a use the code makes ("Could not find a
    # declaration file for module '../controllers/user.controller'", its own .js module
    # imported from TypeScript: paulurbina's typeorm-node, whose tsc wrote dist/ and
    # exited 2; "Parameter 'req' implicitly has an 'any' type").
    "TS7005",
    "TS7006",
    "TS7016",
    "TS7031",
    "TS7034",
}

# Declaration emit's (``"declaration": true``): a type tsc cannot name in the .d.ts it
# writes, "The inferred type of 'x' cannot be named without a reference to '…/node_modules/
# typeorm'. This is likely not portable" (TS2742) and its kin: the JavaScript is written
# and runs as it would. A preview's node_modules is a link to its environment, outside
# the project, which a tsconfig path mapping the root (``"@Root/*": ["./*"]``) then names
# (Makhloufhleli's Rest-Api-Nestjs-Typeorm: nest build failed on six of them).
_DECLARATION_ONLY = {"TS2742", "TS2883", "TS4023", "TS4053", "TS4058", "TS4060", "TS4078", "TS4082"}

# tsc's errors of the project itself, which name no place in a file ("error TS6059: File
# '__tests__/x.spec.ts' is not under 'rootDir' 'src'").
_TSC_PROJECT = re.compile(r"^error\s+(?P<code>TS\d+):\s*(?P<text>.*)$")
# Of those, the ones after which tsc writes the program all the same: a file its
# tsconfig includes outside its rootDir (IvanOrsh's ts-express-sequelize-auth-example
# includes its tests and package.json beside rootDir src; tsc wrote build/ and exited 2).
_LAYOUT = {"TS6059"}


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def tool_failure(lines: list[str]) -> tuple[str, list[str]] | None:
    """(reason, the lines that show it) when ``lines`` hold npm's or tsc's error; None
    when they hold neither."""
    clean = [strip_ansi(line).rstrip() for line in lines]
    return _typescript(clean) or _prisma(clean) or _npm(clean)


def only_outside_the_code(lines: list[str]) -> bool:
    """Whether tsc's errors among ``lines`` all say nothing of what the app's code does
    (the module doc), nor do those of its project's configuration (:data:`_LAYOUT`)."""
    clean = [strip_ansi(line).strip() for line in lines]
    errors = [m for line in clean if (m := _TSC.match(line))]
    project = [m.group("code") for line in clean if (m := _TSC_PROJECT.match(line))]
    return (
        bool(errors or project)
        and all(code in _LAYOUT for code in project)
        and all(
            m.group("code") in _TIDINESS
            or m.group("code") in _DECLARATION_ONLY
            or ("node_modules/" in m.group("file") and m.group("file").endswith(".d.ts"))
            for m in errors
        )
    )


def typescript_output(directory: Path, flagged: str | None = None) -> str | None:
    """The ``outDir`` of ``directory``'s tsconfig.json where tsc, failing on type errors,
    wrote JavaScript all the same (it does unless ``noEmitOnError``); else None. Blocking.
    ``flagged``: the step's own ``--outDir``, which tsc writes to whatever the tsconfig
    says, and where there is none (tsc given its files: ``tsc --outDir dist
    src/index.ts``). The upload's code ran there (the step): a tsconfig.json that is no
    plain file (a FIFO a read would wait on for ever, in a thread nothing cancels; a link
    to a host file) is none, and no link is followed to look for the JavaScript, in 2,000
    folders at most."""
    try:
        config = jsonc(read_no_follow(directory / "tsconfig.json", 1 << 20))
    except OSError:
        config = {"compilerOptions": {}} if flagged else None
    # Parsed, not searched: tsc --init's template holds `// "noEmit": true,` commented out
    # (ShawnStewart's node-koa-typescript: read as set, its build's JavaScript was not used).
    options = config.get("compilerOptions") if isinstance(config, dict) else None
    if not isinstance(options, dict) or True in map(options.get, ("noEmitOnError", "noEmit")):
        return None
    out_dir = flagged or options.get("outDir")
    if out_dir is None:  # beside its sources (tonysnickers' api-book-express: src/index.js)
        return "." if _emitted_beside(directory) else None
    if not isinstance(out_dir, str) or not out_dir.strip():
        return None
    parts = out_dir.replace("\\", "/").split("/")
    if ".." in parts or out_dir.startswith("/"):
        return None
    out = directory.joinpath(*(p for p in parts if p not in ("", ".")))
    if not out.resolve().is_relative_to(directory.resolve()):  # (a link out of it)
        return None
    for seen, (_, _, names) in enumerate(os.walk(out)):  # (links to folders not entered)
        if seen >= _MOST_FOLDERS:
            return None
        if any(name.endswith(".js") for name in names):
            return out_dir
    return None


_MOST_FOLDERS = 2000  # looked in for tsc's JavaScript, at most


def _emitted_beside(directory: Path) -> bool:
    """Whether a TypeScript source of ``directory`` (node_modules aside) has its
    JavaScript beside it, as tsc writes it with no ``outDir``."""
    for seen, (_, folders, names) in enumerate(os.walk(directory)):
        if seen >= _MOST_FOLDERS:
            return False
        folders[:] = [f for f in folders if f not in ("node_modules", ".git")]
        sources = {n[:-3] for n in names if n.endswith(".ts") and not n.endswith(".d.ts")}
        if any(f"{stem}.js" in names for stem in sources):
            return True
    return False


def _typescript(lines: list[str]) -> tuple[str, list[str]] | None:
    errors = [(line, m) for line in lines if (m := _TSC.match(line.strip()))]
    project = [(line, m) for line in lines if (m := _TSC_PROJECT.match(line.strip()))]
    if not errors and project:
        count, first = len(project), project[0][1]
        reason = (
            f"TypeScript: {count} error{'s' if count > 1 else ''} of its project's "
            f"configuration; first: {first.group('code')}: {first.group('text')}"
        )
        return reason, [line for line, _ in project][:_MAX_LINES]
    if not errors:
        return None
    files = list(dict.fromkeys(m.group("file") for _, m in errors))
    count = len(errors)
    where = files[0] if len(files) == 1 else f"{len(files)} files ({', '.join(files[:3])}"
    if len(files) > 1:
        where += ", …)" if len(files) > 3 else ")"
    first = errors[0][1]
    line = first.group("line") or first.group("line2")
    at = f"{line},{first.group('col') or first.group('col2')}"
    reason = (
        f"TypeScript: {count} error{'s' if count > 1 else ''} in {where}; first: "
        f"{first.group('file')}({at}) {first.group('code')}: {first.group('text')}"
    )
    return reason, [line for line, _ in errors][:_MAX_LINES]


def _prisma(lines: list[str]) -> tuple[str, list[str]] | None:
    for i, line in enumerate(lines):
        if (too_old := no_prisma_engine(line)) is not None:
            return too_old, [line]
        if (m := _PRISMA_FETCH.search(line)) is not None:
            why = (m.group("status") or m.group("reason") or "").strip()
            reason = f"Prisma's engines could not be fetched from {m.group('host')} ({why})"
            return reason, [line for line in lines[i : i + 3] if line.strip()]
    return None


def native_build_failure(reason: str) -> tuple[str, str] | None:
    """(package, version: "" when npm did not say) of a failure's reason saying its
    native code did not build (``_npm``'s "the native module X V does not build on Node
    N"), else None."""
    found = _NATIVE.match(reason)
    return (found.group(1), found.group(2) or "") if found is not None else None


def program_download_failure(reason: str) -> str | None:
    """The package of a failure's reason saying its install script could not download
    the program it fetches (a browser, a driver, a tunnel: ``_npm``'s), else None."""
    found = _PROGRAM_REASON.match(reason)
    return found.group(1) if found is not None else None


def unsupported_platform(reason: str) -> str | None:
    """The package of a failure's reason saying it runs on another system or processor
    than this one (``_npm``'s, npm's EBADPLATFORM), else None."""
    found = _PLATFORM_REASON.match(reason)
    return found.group(1) if found is not None else None


def missing_npm_version(reason: str) -> tuple[str, str] | None:
    """(package, version) of a failure's reason saying the registry has no such
    version (``_npm``'s "no version of X matches V"), else None."""
    found = _NO_VERSION_REASON.match(reason)
    return (found.group(1), found.group(2)) if found is not None else None


@dataclass(frozen=True)
class NpmReason:
    """A line of npm's error that gives its reason (``pattern``), what it means, and the
    reason in a few words (``reason``: given the match and the line after it, if any;
    None: not this rule's after all)."""

    pattern: re.Pattern[str]
    means: str
    reason: Callable[[re.Match[str], list[str]], str | None]


def _no_version(match: re.Match[str], after: list[str]) -> str:
    name, _, wanted = match.group(1).rpartition("@")
    return f"no version of {name or wanted} matches {wanted if name else '*'}"


# Each line of npm's error, in order, by each rule, the first reason found being npm's.
NPM_REASONS: tuple[NpmReason, ...] = (
    NpmReason(
        _NOT_IN_REGISTRY,
        "a package is not in the registry (E404)",
        lambda m, after: f"package {m.group(1)} is not in the registry",
    ),
    NpmReason(_NO_VERSION, "no version of a package matches its range (ETARGET)", _no_version),
    NpmReason(
        _BAD_PLATFORM,
        "a package runs on another system or processor (EBADPLATFORM)",
        lambda m, after: (
            f"the package {m.group(1)} {m.group(2)} runs on another system or processor "
            f"than this Linux's: it wants {m.group(3)}"
        ),
    ),
    NpmReason(
        _GIT_FETCH,
        "a dependency from a git repository could not be fetched (its git command)",
        lambda m, after: (
            f"{NPM_GIT_FETCH}: {m.group(1)} (a build reaches the package registries only)"
        ),
    ),
    NpmReason(
        _RESOLVE,
        "the dependency tree has a conflict (ERESOLVE), the next line naming it",
        lambda m, after: f"{NPM_PEER_CONFLICT}: {after[0].strip()}" if after else None,
    ),
)


def _reason_in(line: str, after: list[str]) -> str | None:
    """The reason the first rule of :data:`NPM_REASONS` reading ``line`` gives."""
    for rule in NPM_REASONS:
        if (found := rule.pattern.search(line)) is not None:
            reason = rule.reason(found, after)
            if reason is not None:
                return reason
    return None


def _npm(lines: list[str]) -> tuple[str, list[str]] | None:
    said = [_NPM.sub("", line) for line in lines if _NPM.match(line)]
    said = [line for line in said if not line.startswith("A complete log of this run")]
    if not said:
        return None
    reason = None
    for i, line in enumerate(said):
        reason = _reason_in(line, said[i + 1 : i + 2])
        if reason is None and (
            _OUT_OF_SYNC.search(line) or (i == 0 and _SYNC_GAP.match(line.strip()))
        ):
            # (its first line gone from the tail: npm 11 prints its whole usage after a
            # long list of gaps, japananh's 544 "Missing: … from lock file")
            gaps = [g.strip() for g in said[i:] if _LOCK_GAP.match(g.strip())]
            first = f" ({gaps[0]}{', …' if len(gaps) > 1 else ''})" if gaps else ""
            shown = gaps if _LOCK_GAP.match(line.strip()) else [line, *gaps]
            return f"{NPM_LOCK_OUT_OF_SYNC}{first}", shown[:_MAX_LINES]
        if reason is not None:
            break
    gyp = {m[1]: m[2] for line in said if (m := _GYP_PACKAGE.search(line)) is not None}
    path = next((m.group(1) for line in said if (m := _NPM_PATH.match(line))), None)
    if reason is None and path is not None and any(_GYP_FAILED.match(line) for line in said):
        gyp.setdefault("name", path)  # npm's path: the package, not its version
    if reason is None and "name" in gyp:
        node = next((m.group(1) for line in said if (m := _GYP_NODE.search(line))), "?")
        version = f" {gyp['version']}" if "version" in gyp else ""
        reason = f"the native module {gyp['name']}{version} does not build on Node {node}"
        errors = [line for line in said if re.search(r"\berror\b", line)]
        return reason, errors[:_MAX_LINES]
    if reason is None and path in _PROGRAM_DOWNLOADERS:
        reason = f"{path}'s install script could not download its program"
        return reason, [line for line in said if line.strip()][:_MAX_LINES]
    fetch = next((line for line in said if _BINARY_FETCH.search(line)), None)
    if reason is None and path is not None and fetch is not None:
        # Its newest release may bring its binary from the registry itself (sharp 0.33's
        # @img packages): npm_rebuild replaces it as one that does not build (cristianA123's
        # Nest-TypeOrm-Docker: sharp 0.32, "tunneling socket could not be established,
        # statusCode=502" from GitHub, out of reach).
        reason = f"the native module {path} could not fetch its prebuilt binary: {fetch.strip()}"
        return reason, [line for line in said if line.strip()][:_MAX_LINES]
    if reason is None:
        for line in said:
            if (m := _NOT_FOUND.search(line)) is not None:
                name = m.group(1).replace("%2f", "/").replace("%2F", "/")
                reason = f"package {name} is not in the registry"
                break
    if reason is None:
        return None
    shown = [line for line in said if line.strip() and line.strip() != "404"]
    return reason, shown[:_MAX_LINES]
