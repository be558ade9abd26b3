"""npm's and tsc's failures in one line each, ANSI stripped, with the lines that show it
(no process: their real output, as captured)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import trio

from preview.builds.installers import failure_reason
from preview.builds.remedies.pythons import installed_dists, package_sources
from preview.builds.toolerrors import (
    NPM_LOCK_OUT_OF_SYNC,
    native_build_failure,
    only_outside_the_code,
    tool_failure,
    typescript_output,
)
from preview.sandbox.appdir import read_no_follow

from ..launching import app_files

NPM_404 = """npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/left-padd-nope - Not found
npm error 404
npm error 404  'left-padd-nope@^1.0.0' is not in this registry.
npm error 404
npm error 404 Note that you can also install from a
npm error 404 tarball, folder, http url, or git url.
npm error A complete log of this run can be found in: /envs/node-1/.npm/_logs/x-debug-0.log"""

NPM_NO_VERSION = """npm error code ETARGET
npm error notarget No matching version found for express@^99.0.0.
npm error notarget In most cases you or one of your dependencies are requesting
npm error notarget a package version that doesn't exist.
npm error A complete log of this run can be found in: /envs/node-2/.npm/_logs/y.log"""

# Hamed-Ajaj's hono-tasks-api lists stocker, whose dependency secret-module is
# git+ssh://git@github.com/dwallach1/stocker.git: its launch failed on "and the repository
# exists.", git's last words.
NPM_GIT = """npm error code 128
npm error An unknown git error occurred
npm error command git --no-replace-objects ls-remote ssh://git@github.com/dwallach1/stocker.git
npm error ssh: Could not resolve hostname github.com: Temporary failure in name resolution
npm error fatal: Could not read from remote repository.
npm error
npm error Please make sure you have the correct access rights
npm error and the repository exists.
npm error A complete log of this run can be found in: /envs/node-4/.npm/_logs/g.log"""

NPM_ERESOLVE = """npm error code ERESOLVE
npm error ERESOLVE unable to resolve dependency tree
npm error
npm error While resolving: app@1.0.0
npm error Found: react@18.3.1
npm error Could not resolve dependency:
npm error peer react@"^16.8.0" from old-widget@1.0.0
npm error A complete log of this run can be found in: /envs/node-3/.npm/_logs/z.log"""

TSC_PLAIN = """> app@1.0.0 build
> tsc

src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.
src/app.ts(9,1): error TS2304: Cannot find name 'nope'.
src/app.ts(12,5): error TS2554: Expected 1 arguments, but got 0.
npm error Lifecycle script `build` failed with error:
npm error code 2"""

TSC_PRETTY = (
    "\x1b[96msrc/a.ts\x1b[0m:\x1b[93m3\x1b[0m:\x1b[93m7\x1b[0m - \x1b[91merror\x1b[0m"
    "\x1b[90m TS2322: \x1b[0mType 'string' is not assignable to type 'number'.\n"
    "\x1b[96msrc/b.ts\x1b[0m:\x1b[93m1\x1b[0m:\x1b[93m1\x1b[0m - \x1b[91merror\x1b[0m"
    "\x1b[90m TS2304: \x1b[0mCannot find name 'x'.\n"
    "Found 2 errors in 2 files."
)


def test_npm_404_names_the_package_not_the_log_file() -> None:
    reason, lines = tool_failure(NPM_404.splitlines())
    assert reason == "package left-padd-nope@^1.0.0 is not in the registry"
    assert not any("complete log" in line for line in lines)
    assert "_logs" not in failure_reason(NPM_404.splitlines(), "npm")


def test_npm_no_matching_version_and_eresolve() -> None:
    assert tool_failure(NPM_NO_VERSION.splitlines())[0] == "no version of express matches ^99.0.0"
    reason, _ = tool_failure(NPM_ERESOLVE.splitlines())
    assert reason == (
        'npm could not resolve the dependency tree: peer react@"^16.8.0" from old-widget@1.0.0'
    )


def test_npm_failing_to_fetch_a_git_dependency_names_its_repository() -> None:
    reason, lines = tool_failure(NPM_GIT.splitlines())
    assert reason == (
        "a dependency it takes from a git repository could not be fetched: "
        "ssh://git@github.com/dwallach1/stocker.git (a build reaches the package registries only)"
    )
    assert "and the repository exists." in lines


def test_typescript_errors_are_counted_per_file() -> None:
    reason, lines = tool_failure(TSC_PLAIN.splitlines())
    assert reason.startswith("TypeScript: 3 errors in src/app.ts; first: src/app.ts(3,7) TS2322")
    assert len(lines) == 3 and all("error TS" in line for line in lines)


def test_pretty_typescript_errors_lose_their_colours() -> None:
    reason, lines = tool_failure(TSC_PRETTY.splitlines())
    assert reason.startswith("TypeScript: 2 errors in 2 files (src/a.ts, src/b.ts); first:")
    assert "\x1b" not in reason and not any("\x1b" in line for line in lines)


def test_prisma_engines_out_of_reach() -> None:
    lines = [
        "Error: Failed to fetch sha256 checksum at https://binaries.prisma.sh/all_commits/c29"
        "/debian-openssl-3.0.x/schema-engine.sha256 - 403 Forbidden",
        "If you need to ignore this error (e.g. in an offline environment), set the …",
    ]
    reason, shown = tool_failure(lines)
    assert reason == "Prisma's engines could not be fetched from binaries.prisma.sh (403 Forbidden)"
    assert shown[0].startswith("Error: Failed to fetch")
    offline = [
        "Error: request to https://binaries.prisma.sh/x failed, reason: getaddrinfo ENOTFOUND"
    ]
    assert tool_failure(offline)[0].endswith("(getaddrinfo ENOTFOUND)")
    # Prisma 5's words (dedaldinodev4's nest-prisma-SQlite): the hint after it was the
    # reason given, the failure's own line not recognised.
    dotted = [
        "Error: Failed to fetch sha256 checksum at https://binaries.prisma.sh/all_commits/61e"
        "/debian-openssl-3.0.x/schema-engine.gz.sha256. 502 Bad Gateway",
        "",
        "If you need to ignore this error (e.g. in an offline environment), set the …",
    ]
    assert tool_failure(dotted)[0] == (
        "Prisma's engines could not be fetched from binaries.prisma.sh (502 Bad Gateway)"
    )


def test_other_output_is_left_to_the_usual_reading() -> None:
    assert tool_failure(["Traceback (most recent call last):", "ValueError: x"]) is None


NPM_SCRIPT = """> nest-hackathon-starter@0.0.1 postinstall
> npm run prisma:generate
Error: Unknown binaryTarget debian-openssl-3.0.x and no custom engine files were provided
npm error code 1
npm error path /app
npm error command failed
npm error command sh -c npm run prisma:generate
npm error A complete log of this run can be found in: /envs/node-3/.npm/_logs/z.log"""


def test_a_failed_scripts_own_error_is_the_reason_not_npms_command_line() -> None:
    """nest-hackathon-starter: the reason was ``command sh -c npm run prisma:generate``;
    npm's lines say where the script failed, the script's own line says why."""
    reason = failure_reason(NPM_SCRIPT.splitlines(), "npm")
    assert reason.startswith("Error: Unknown binaryTarget debian-openssl-3.0.x")
    only_npm = [line for line in NPM_SCRIPT.splitlines() if line.startswith("npm")]
    assert failure_reason(only_npm, "npm") == "command sh -c npm run prisma:generate"


NPM_SCRIPT_OBJECT = """npm error code 1
npm error path /envs/node-4
npm error command failed
npm error command sh -c link-module-alias
npm error node:fs:1681
npm error   const stats = binding.stat(
npm error                         ^
npm error
npm error Error: ENOENT: no such file or directory, stat 'app/models'
npm error     at Object.statSync (node:fs:1681:25)
npm error     at linkModule (/envs/node-4/node_modules/link-module-alias/index.js:168:21) {
npm error   errno: -2,
npm error   code: 'ENOENT',
npm error   syscall: 'stat',
npm error   path: 'app/models'
npm error }
npm error
npm error Node.js v20.20.2
npm error A complete log of this run can be found in: /envs/node-4/.npm/_logs/w.log"""


def test_a_scripts_exception_is_the_reason_not_its_error_objects_dump() -> None:
    """seyedmohamadhadihoseini's expressBlog: link-module-alias (its postinstall) threw,
    Node printing the error object after the exception's line; the launch failed saying
    only "}". The exception's own line is the reason."""
    reason = failure_reason(NPM_SCRIPT_OBJECT.splitlines(), "npm")
    assert reason == "Error: ENOENT: no such file or directory, stat 'app/models'", reason


NPM_CI_OUT_OF_SYNC = """npm error code EUSAGE
npm error
npm error `npm ci` can only install packages when your package.json and package-lock.json \
or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before \
continuing.
npm error
npm error Missing: fsevents@2.3.3 from lock file
npm error Invalid: lock file's ms@2.0.0 does not satisfy ms@^2.1.0
npm error
npm error Clean install a project
npm error
npm error Usage:
npm error npm ci
npm error
npm error Run "npm help ci" for more info"""


def test_npm_ci_refusing_a_lockfile_out_of_step_says_so_not_its_usage() -> None:
    reason, shown = tool_failure(NPM_CI_OUT_OF_SYNC.splitlines())
    assert reason == (
        "package-lock.json is out of step with package.json (Missing: fsevents@2.3.3 from "
        "lock file, …)"
    )
    assert shown[1:] == [
        "Missing: fsevents@2.3.3 from lock file",
        "Invalid: lock file's ms@2.0.0 does not satisfy ms@^2.1.0",
    ]


def test_tsc_errors_outside_what_the_code_does(tmp_path: Path) -> None:
    """Tidiness checks and dependencies' declaration files: tsc's output still runs."""
    unused = "src/app.ts(11,1): error TS6133: 'redisClient' is declared but never read."
    library = (
        "../../node_modules/@mikro-orm/knex/query/raw.d.ts(59,120): error TS2304: "
        "Cannot find name 'NoInfer'."
    )
    typed = "src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'."
    assert only_outside_the_code([unused, library, "Found 2 errors."])
    assert not only_outside_the_code([unused, typed])
    assert not only_outside_the_code(["npm error code E404"])
    untyped = (
        "src/routes/index.routes.ts(10,8): error TS7016: Could not find a declaration file for "
        "module '../controllers/user.controller'. 'src/controllers/user.controller.js' "
        "implicitly has an 'any' type."
    )
    anyparam = "src/app.ts(4,20): error TS7006: Parameter 'req' implicitly has an 'any' type."
    assert only_outside_the_code([untyped, anyparam, "Found 2 errors."])
    (tmp_path / "tsconfig.json").write_text('{"compilerOptions": {"outDir": "./build"}}')
    assert typescript_output(tmp_path) is None  # nothing written
    (tmp_path / "build" / "bin").mkdir(parents=True)
    (tmp_path / "build" / "bin" / "server.js").write_text("")
    assert typescript_output(tmp_path) == "./build"
    (tmp_path / "tsconfig.json").write_text(
        '{"compilerOptions": {"outDir": "./build", "noEmitOnError": true}}'
    )
    assert typescript_output(tmp_path) is None
    (tmp_path / "tsconfig.json").write_text('{"compilerOptions": {"outDir": "../elsewhere"}}')
    assert typescript_output(tmp_path) is None
    # tsc --init's template: the options it leaves off are commented out, noEmit among
    # them (ShawnStewart's node-koa-typescript: read as set, its build's output unused).
    (tmp_path / "tsconfig.json").write_text(
        '{\n  "compilerOptions": {\n    /* Basic Options */\n    "target": "es5",\n'
        '    // "noEmit": true,  /* Do not emit outputs. */\n    "outDir": "./build",\n  },\n}\n'
    )
    assert typescript_output(tmp_path) == "./build"
    # No outDir: its JavaScript beside its sources (tonysnickers' api-book-express, whose
    # start runs src/index.js), where tsc wrote one.
    (tmp_path / "tsconfig.json").write_text('{"compilerOptions": {"strict": true}}')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.ts").write_text("")
    assert typescript_output(tmp_path) is None
    (tmp_path / "src" / "index.js").write_text("")
    assert typescript_output(tmp_path) == "."


async def test_what_the_uploads_code_left_is_read_without_waiting_or_following(
    tmp_path: Path,
) -> None:
    """A set-up step's directory, or an environment a build from source ran the upload's
    code in, read by the service: a FIFO in a file's place (a read waits on it for a
    writer that never comes, in a thread nothing cancels) is not read, a link to a
    folder (``/``) not walked, a link to a host file not read."""
    (tmp_path / "step").mkdir()
    os.mkfifo(tmp_path / "step" / "tsconfig.json")
    os.mkfifo(tmp_path / "fifo")
    package = tmp_path / "site-packages" / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("class Found: pass\n")
    os.mkfifo(package / "sub" / "b.py")
    (package / "host.py").symlink_to("/etc/hostname")
    (package / "root").symlink_to("/")
    with trio.fail_after(10):
        for directory in (tmp_path / "step", tmp_path / "linked"):
            found = await trio.to_thread.run_sync(
                typescript_output, directory, abandon_on_cancel=True
            )
            assert found is None
            (tmp_path / "linked").mkdir(exist_ok=True)
            (tmp_path / "linked" / "tsconfig.json").write_text(
                '{"compilerOptions": {"outDir": "lib"}}'
            )
            (tmp_path / "linked" / "lib").unlink(missing_ok=True)
            (tmp_path / "linked" / "lib").symlink_to("/usr/lib")  # (JavaScript there?)
        with pytest.raises(OSError) as refused:
            await trio.to_thread.run_sync(read_no_follow, tmp_path / "fifo", abandon_on_cancel=True)
        assert refused.value.errno == errno.EINVAL
        sources = await trio.to_thread.run_sync(
            lambda: list(package_sources(package)), abandon_on_cancel=True
        )
    assert sources == ["class Found: pass\n"]


async def test_a_distributions_record_that_is_no_plain_file_is_left_out(tmp_path: Path) -> None:
    """The environment's distributions, read by the service for remedies after a build
    from source ran the upload's code there: one whose METADATA is a FIFO is left out,
    not waited on."""
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    for name, top in (("good", "good"), ("bad", "bad")):
        record = site / f"{name}-1.0.dist-info"
        record.mkdir(parents=True)
        (record / "top_level.txt").write_text(top + "\n")
        if name == "bad":
            os.mkfifo(record / "METADATA")
        else:
            (record / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    with trio.fail_after(10):
        found = await trio.to_thread.run_sync(installed_dists, tmp_path, abandon_on_cancel=True)
    assert found == {"good": ("good", "1.0", None)}


def test_tsc_declaration_emit_errors_leave_the_javascript_to_run(tmp_path: Path) -> None:
    """Makhloufhleli's Rest-Api-Nestjs-Typeorm: ``"declaration": true`` and a path mapping
    the project's root (``"@Root/*": ["./*"]``); with node_modules a link out of the project
    (a preview's environment), tsc cannot name an inferred type in its .d.ts (TS2742) and
    exits 2, its JavaScript written: nest build failed the launch on six of them."""
    files = app_files("ts_declaration_root_paths")
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    declaration = (
        "\x1b[96msrc/config/config.ts\x1b[0m:\x1b[93m4\x1b[0m:\x1b[93m14\x1b[0m - "
        "\x1b[91merror\x1b[0m\x1b[90m TS2742: \x1b[0mThe inferred type of 'router' "
        "cannot be named without a reference to '@Root/../../../envs/node_modules/@types/"
        "express-serve-"
        "static-core'. This is likely not portable. A type annotation is necessary."
    )
    private = (
        "src/config/config.ts(6,14): error TS4023: Exported variable 'port' has or is "
        "using name 'Port' from external module but cannot be named."
    )
    typed = "src/main.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'."
    assert only_outside_the_code([declaration, private, "Found 2 errors."])
    assert not only_outside_the_code([declaration, typed])
    assert typescript_output(tmp_path) is None  # tsc wrote nothing yet
    (tmp_path / "dist" / "config").mkdir(parents=True)
    (tmp_path / "dist" / "main.js").write_text("")
    assert typescript_output(tmp_path) == "./dist"


TSC_LAYOUT = """> app@1.0.0 clean
> rimraf ./build

error TS6059: File '__tests__/e2e/login.spec.ts' is not under 'rootDir' 'src'. 'rootDir' \
is expected to contain all source files.
  The file is in the program because:
    Matched by include pattern '__tests__/e2e' in 'tsconfig.json'
error TS6059: File 'package.json' is not under 'rootDir' 'src'. 'rootDir' is expected to \
contain all source files.
  The file is in the program because:
    Matched by include pattern 'package.json' in 'tsconfig.json'"""


def test_npm_ci_out_of_step_known_by_its_gaps_alone() -> None:
    """npm 11 prints its whole usage after the gaps it found; japananh's lockfile lacked
    all 544 packages, and the tail kept neither npm's first line nor the reason, only
    "Run "npm help ci" for more info" (so npm install was never tried)."""
    gaps = [f"npm error Missing: package-{n}@1.0.{n} from lock file" for n in range(100)]
    usage = ["npm error", "npm error Clean install a project", "npm error Usage:"]
    usage += ["npm error   --flag", "npm error     what it does"] * 40
    usage += ['npm error Run "npm help ci" for more info']
    found = tool_failure(gaps + usage)
    assert found is not None
    reason, shown = found
    assert reason == f"{NPM_LOCK_OUT_OF_SYNC} (Missing: package-0@1.0.0 from lock file, …)"
    assert shown[0] == "Missing: package-0@1.0.0 from lock file"
    assert tool_failure(["npm error Missing: script name", *usage]) is None


def test_tsc_refusing_files_outside_its_root_dir_still_wrote_the_program() -> None:
    """IvanOrsh's tsconfig includes its tests and package.json beside ``rootDir: src``:
    tsc says TS6059 for each, with no place in a file (the reason read "Matched by
    include pattern 'package.json'"), writes build/ all the same and exits 2."""
    lines = TSC_LAYOUT.splitlines()
    found = tool_failure(lines)
    assert found is not None and found[0].startswith(
        "TypeScript: 2 errors of its project's configuration; first: TS6059: File "
        "'__tests__/e2e/login.spec.ts' is not under 'rootDir' 'src'."
    )
    assert only_outside_the_code(lines)
    # Another error of the project's (a tsconfig option tsc does not know) is not so.
    assert not only_outside_the_code([*lines, "error TS5023: Unknown compiler option 'x'."])
    typed = "src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'."
    assert not only_outside_the_code([*lines, typed])


def test_a_native_module_that_could_not_fetch_its_binary_is_one_to_replace() -> None:
    """cristianA123's Nest-TypeOrm-Docker: sharp 0.32's install script fetches libvips from
    GitHub, out of reach of a build here ("tunneling socket could not be established,
    statusCode=502"); its newest release brings it from the registry. Said as a native
    module's failure npm_rebuild replaces (no version: npm's path does not say one)."""
    lines = [
        "npm error code 1",
        "npm error path /envs/x/node_modules/sharp",
        "npm error command failed",
        "npm error sharp: Downloading https://github.com/lovell/sharp-libvips/releases/x.tar.br",
        "npm error sharp: Installation error: tunneling socket could not be established, "
        "statusCode=502",
        "npm error A complete log of this run can be found in: /x/_logs/debug-0.log",
    ]
    found = tool_failure(lines)
    assert found is not None
    assert found[0].startswith("the native module sharp could not fetch its prebuilt binary: ")
    assert native_build_failure(found[0]) == ("sharp", "")
    # A script failing otherwise (its own error, no download): not this.
    assert tool_failure([*lines[:3], "npm error TypeError: x is not a function"]) is None


def test_tscs_own_out_dir_flag_is_where_its_javascript_is_looked_for(tmp_path: Path) -> None:
    """``tsc --outDir dist src/index.ts`` where the project has no tsconfig (shabith's
    typescript-node-api): its errors all in its dependencies' declarations, tsc wrote
    dist/ all the same; the flag outranks a tsconfig's outDir, as it does for tsc."""
    assert typescript_output(tmp_path, "dist") is None  # nothing written
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.js").write_text("")
    assert typescript_output(tmp_path) is None  # no tsconfig, no flag: nowhere known
    assert typescript_output(tmp_path, "dist") == "dist"
    (tmp_path / "tsconfig.json").write_text('{"compilerOptions": {"outDir": "./build"}}')
    assert typescript_output(tmp_path, "dist") == "dist"
    assert typescript_output(tmp_path, "../elsewhere") is None


def test_uvs_wrapped_cause_is_read_whole_up_to_its_hint() -> None:
    """uv wraps its explanation at its width: the reason stopped mid-sentence ("Because
    no-such-distribution-of-an-apt-package was"), which said nothing of why."""
    tail = [
        "Using Python 3.11.7 environment at: .",
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because no-such-distribution-of-an-apt-package was",
        "      not found in the package registry and you require",
        "      no-such-distribution-of-an-apt-package==1.0.6, we can conclude that your",
        "      requirements are unsatisfiable.",
        "",
        "      hint: Wheels are required for `x` because building from source is disabled",
    ]
    assert failure_reason(tail, "uv") == (
        "No solution found when resolving dependencies: Because "
        "no-such-distribution-of-an-apt-package was not found in the package registry and "
        "you require no-such-distribution-of-an-apt-package==1.0.6, we can conclude that "
        "your requirements are unsatisfiable."
    )
