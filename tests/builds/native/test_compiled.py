"""Native modules compiled once a machine (real npm, real node-gyp, a registry of our own
on a real socket serving a fixture package): the second app that installs the package
gets the binary without a compile, a tampered entry is not used, a package that does
not build apart is left to the app's own install scripts, once, and one built against a
library of this machine's is built with its option, kept by that library's file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import trio

from preview.builds.envcache import BuildFailed
from preview.builds.installers import SAFE_PATH, node_headers
from preview.builds.native import NativeBuilds, SystemLibrary, native_packages

from ...thread_http import serving_on_a_thread

FIXTURE = Path(__file__).parents[2] / "fixtures" / "native" / "tiny-native"
TARGET = "./node_modules/tiny-native"
NODE = "v20-test"

needs_toolchain = pytest.mark.skipif(
    (shutil.which("npm") is None or shutil.which("make") is None)
    and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm or make is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """A registry serving tiny-native 1.0.0 (packed from the fixture), by its address."""
    packed = tmp_path / "packed"
    packed.mkdir()
    subprocess.run(
        ["npm", "pack", "--pack-destination", str(packed), str(FIXTURE)],
        cwd=tmp_path,
        env={"PATH": SAFE_PATH, "HOME": str(tmp_path), "npm_config_cache": str(tmp_path / "pc")},
        check=True,
        capture_output=True,
        timeout=60,
    )
    tarball = (packed / "tiny-native-1.0.0.tgz").read_bytes()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()

    class Registry(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/tiny-native":
                manifest = json.loads((FIXTURE / "package.json").read_text())
                manifest["dist"] = {
                    "tarball": f"{base}/tiny-native/-/tiny-native-1.0.0.tgz",
                    "integrity": integrity,
                }
                body = json.dumps(
                    {
                        "name": "tiny-native",
                        "dist-tags": {"latest": "1.0.0"},
                        "versions": {"1.0.0": manifest},
                    }
                ).encode()
            elif self.path == "/tiny-native/-/tiny-native-1.0.0.tgz":
                body = tarball
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving_on_a_thread(Registry) as port:
        yield f"http://127.0.0.1:{port}/"


def _npm_env(home: Path, registry: str) -> dict[str, str]:
    return {
        "PATH": SAFE_PATH,
        "HOME": str(home),
        "npm_config_cache": str(home / ".npm-cache"),
        "npm_config_registry": registry,
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
        **node_headers(),
    }


async def _app(root: Path, name: str, registry: str) -> Path:
    """An app listing tiny-native, installed without its install scripts (as builds do)."""
    app = root / name
    app.mkdir()
    (app / "package.json").write_text(
        json.dumps({"name": name, "version": "1.0.0", "dependencies": {"tiny-native": "1.0.0"}})
    )
    await trio.run_process(
        ["npm", "install", "--ignore-scripts", "--no-progress"],
        cwd=app,
        env=_npm_env(root, registry),
        capture_stdout=True,
        capture_stderr=True,
    )
    return app


async def _answer(app: Path) -> str:
    done = await trio.run_process(
        ["node", "-e", "process.stdout.write(String(require('tiny-native').answer()))"],
        cwd=app,
        env={"PATH": SAFE_PATH},
        capture_stdout=True,
    )
    return done.stdout.decode()


@needs_toolchain
async def test_a_native_module_compiled_once_is_copied_into_the_next_app(
    tmp_path: Path, registry: str
) -> None:
    natives = NativeBuilds(tmp_path / "natives")
    built: list[list[str]] = []
    said: list[str] = []

    async def build_apart(argv: list[str], cwd: Path, downloads: bool) -> None:
        built.append(argv)
        done = await trio.run_process(
            argv,
            cwd=cwd,
            env=_npm_env(tmp_path, registry),
            capture_stdout=True,
            check=False,
            capture_stderr=True,
        )
        if done.returncode:
            raise BuildFailed(f"{argv[1]} exited with {done.returncode}")

    async def say(text: str) -> None:
        said.append(text)

    with trio.fail_after(240):
        first = await _app(tmp_path, "first", registry)
        assert [p.name for p in native_packages(first, [TARGET])] == ["tiny-native"]
        assert await natives.provide(first, [TARGET], NODE, build_apart, say) == []
        assert ["npm", "rebuild", TARGET] in built  # built apart, in a project of its own
        assert await _answer(first) == "42"
        # Not compiled in the app's tree: node-gyp's record of a compile is not there.
        assert not (first / "node_modules" / "tiny-native" / "build" / "config.gypi").exists()

        built.clear()
        second = await _app(tmp_path, "second", registry)
        assert await natives.provide(second, [TARGET], NODE, build_apart, say) == []
        assert built == []
        assert await _answer(second) == "42"
        assert any("compiled once already, by another app" in line for line in said)

        # A kept binary changed since: not used (the app's own scripts run), and removed.
        (kept,) = (tmp_path / "natives").glob("*/files/build/Release/tiny.node")
        kept.write_bytes(b"not the compiled binary")
        third = await _app(tmp_path, "third", registry)
        assert await natives.provide(third, [TARGET], NODE, build_apart, say) == [TARGET]
        assert built == []
        assert not kept.exists()

        # Another Node: another binary, built apart; the others' scripts still to run.
        other = [TARGET, "./node_modules/not-native"]
        fourth = await _app(tmp_path, "fourth", registry)
        left = await natives.provide(fourth, other, "v22-test", build_apart, say)
        assert left == ["./node_modules/not-native"]
        assert ["npm", "rebuild", TARGET] in built
        assert await _answer(fourth) == "42"
        assert not list((tmp_path / "natives").glob(".staging-*"))


@needs_toolchain
async def test_a_package_that_does_not_build_apart_is_left_to_the_app_once(
    tmp_path: Path, registry: str
) -> None:
    natives = NativeBuilds(tmp_path / "natives")
    tries: list[list[str]] = []

    async def failing(argv: list[str], cwd: Path, downloads: bool) -> None:
        tries.append(argv)
        raise BuildFailed("gyp ERR! build error")

    async def say(text: str) -> None:
        pass

    with trio.fail_after(120):
        app = await _app(tmp_path, "app", registry)
        assert await natives.provide(app, [TARGET], NODE, failing, say) == [TARGET]
        assert len(tries) == 1
        assert await natives.provide(app, [TARGET], NODE, failing, say) == [TARGET]
        assert len(tries) == 1  # remembered: not tried again
        # Without a Node version nothing is provided, and nothing built.
        assert await natives.provide(app, [TARGET], None, failing, say) == [TARGET]
        assert len(tries) == 1


@needs_toolchain
async def test_a_package_linking_a_library_of_this_machine_is_built_so_and_kept_by_it(
    tmp_path: Path, registry: str
) -> None:
    """node-sqlite3 told ``--sqlite=/usr`` links Debian's SQLite instead of compiling its
    own copy. Here the fixture's ``answer`` variable stands for that option: the build
    apart is given it where the library's header and file are here, and its binary is
    kept by that file (another file: built anew); with no header, no option."""
    libraries = tmp_path / "usr-lib"
    (libraries / "x86_64-linux-gnu").mkdir(parents=True)
    shared = libraries / "x86_64-linux-gnu" / "libtiny.so"
    shared.write_bytes(b"a library")
    header = tmp_path / "tiny.h"
    header.write_text("/* the library's header */\n")
    linked = SystemLibrary("--answer=43", header, "libtiny.so", libraries)
    natives = NativeBuilds(tmp_path / "natives", {"tiny-native": linked})
    built: list[list[str]] = []
    said: list[str] = []

    async def build_apart(argv: list[str], cwd: Path, downloads: bool) -> None:
        built.append(argv)
        await trio.run_process(
            argv,
            cwd=cwd,
            env=_npm_env(tmp_path, registry),
            capture_stdout=True,
            capture_stderr=True,
        )

    async def say(text: str) -> None:
        said.append(text)

    with trio.fail_after(240):
        first = await _app(tmp_path, "first", registry)
        assert await natives.provide(first, [TARGET], NODE, build_apart, say) == []
        assert ["npm", "rebuild", TARGET, "--answer=43"] in built
        assert await _answer(first) == "43"
        assert any("linking this machine's library: --answer=43" in line for line in said)

        built.clear()  # the same library: the kept binary
        second = await _app(tmp_path, "second", registry)
        assert await natives.provide(second, [TARGET], NODE, build_apart, say) == []
        assert built == [] and await _answer(second) == "43"

        shared.write_bytes(b"another release of the library")  # built anew against it
        third = await _app(tmp_path, "third", registry)
        assert await natives.provide(third, [TARGET], NODE, build_apart, say) == []
        assert ["npm", "rebuild", TARGET, "--answer=43"] in built

        built.clear()
        header.unlink()  # not here: built as the package says, without the option
        fourth = await _app(tmp_path, "fourth", registry)
        assert await natives.provide(fourth, [TARGET], NODE, build_apart, say) == []
        assert built[-1] == ["npm", "rebuild", TARGET]
        assert await _answer(fourth) == "42"
