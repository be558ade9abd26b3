"""A Node app whose tree holds a bundler hashing with MD4 (webpack 4, or a tool built on
it: neutrino 8, react-scripts 4) runs with OpenSSL's legacy provider on
(``builds.appenv``): Node 17 and later's OpenSSL 3 refuses MD4 otherwise, at its build or
its dev server's start (ERR_OSSL_EVP_UNSUPPORTED)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from preview.apps.detect import detect
from preview.apps.node.nodedeps import md4_bundler
from preview.apps.spec import LaunchSpec

from ..launching import launch_environment

_HASHES_MD4 = "require('crypto').createHash('md4').update('x').digest('hex')"


def _environment(files: dict[str, bytes]) -> dict[str, str]:
    now = datetime.now(UTC)
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, now, now, detection=detect(files)
    )
    return launch_environment(spec)


def _package(**tables: dict[str, str]) -> bytes:
    return json.dumps({"scripts": {"start": "neutrino start --debug"}, **tables}).encode()


def test_the_bundler_of_its_lockfile_or_else_its_package_json_says_md4() -> None:
    # PyTechMike's training-koa-2: neutrino 8, whose webpack 3 no package.json names.
    assert md4_bundler({"package.json": _package(devDependencies={"neutrino": "^8.2.3"})}) == (
        "neutrino ^8.2.3"
    )
    # raphaelsoul's ts-koa-quick-start: webpack pinned at 4.10.2.
    listed = {"package.json": _package(devDependencies={"webpack": "4.10.2"})}
    assert md4_bundler(listed) == "webpack 4.10.2"
    # The lockfile's version is the one installed: a range that allows 5, locked at 4.
    lock = {"lockfileVersion": 3, "packages": {"node_modules/webpack": {"version": "4.47.0"}}}
    locked = {
        "package.json": _package(devDependencies={"webpack": ">=4"}),
        "package-lock.json": json.dumps(lock).encode(),
    }
    assert md4_bundler(locked) == "webpack 4.47.0"
    yarn = b'"webpack@^4.0.0":\n  version "4.46.0"\n'
    assert md4_bundler({"package.json": _package(), "yarn.lock": yarn}) == "webpack 4.46.0"
    # webpack 5 and Vite hash with what OpenSSL 3 has.
    modern = {"package.json": _package(devDependencies={"webpack": "^5.90.0", "vite": "^5"})}
    assert md4_bundler(modern) is None


def _hashes_md4(given: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Node, with the launch's PATH and NODE_OPTIONS, hashing with MD4."""
    return subprocess.run(
        ["node", "-e", _HASHES_MD4],
        env={"PATH": given["PATH"], "NODE_OPTIONS": given["NODE_OPTIONS"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="no node here")
def test_its_node_hashes_with_md4_with_the_environment_a_launch_gives_it() -> None:
    files = {
        "package.json": _package(devDependencies={"webpack": "4.10.2"}),
        "src/index.js": b"require('koa');\n",
    }
    given = _environment(files)
    assert "--openssl-legacy-provider" in given["NODE_OPTIONS"]
    ran = _hashes_md4(given)
    assert ran.returncode == 0, ran.stderr
    # The same app on webpack 5: no legacy provider, and this Node refuses MD4 (the
    # option is what makes the difference here).
    files["package.json"] = _package(devDependencies={"webpack": "^5.90.0"})
    modern = _environment(files)
    assert "--openssl-legacy-provider" not in modern["NODE_OPTIONS"]
    refused = _hashes_md4(modern)
    assert refused.returncode != 0 and "unsupported" in refused.stderr
