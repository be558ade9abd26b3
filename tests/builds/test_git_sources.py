"""A dependency from a git repository that cannot be fetched: the failure names it whole
(uv writes ``litestar @`` and its URL on two lines), and no older Python is tried for it
(no Python fetches it either). litestar-pg-redis-docker's failure was "no Python
interpreter here fits '>=3.11.0,<4.0,<3.11'", after "litestar has no wheel for Python 3.11"."""

from __future__ import annotations

import trio

from preview.apps.depspec import PythonDeps
from preview.builds.installers import failure_reason
from preview.builds.remedies import Remedies

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages

UV_GIT = """\
  × Failed to download and build `litestar @
  │ git+https://github.com/litestar-org/litestar@main`
  ├─▶ Git operation failed
  ├─▶ failed to fetch into:
  │   <environment>/git-v0/db/74738451b60a34e5
  ├─▶ failed to fetch branch or tag `main`
  ╰─▶ process didn't exit successfully: `/usr/bin/git fetch --force"""
PYTHONS = ["3.13.0", "3.12.1", "3.11.7", "3.10.13", "3.9.18", "3.8.18"]


def _remedies() -> Remedies:
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("litestar",), "pyproject.toml", ">=3.11", "pyproject")
    remedies.tried.python_version = "3.11.7"
    return remedies


def test_the_reason_names_the_git_source_whole() -> None:
    reason = failure_reason(UV_GIT.splitlines(), "uv")
    assert reason == (
        "Failed to download and build `litestar @ git+https://github.com/litestar-org/litestar@main`"
    )


def test_no_older_python_for_a_source_that_cannot_be_fetched() -> None:
    lines = UV_GIT.splitlines()
    assert _remedies().next_fix(lines[0], lines, {}, PYTHONS) is None
    # A build from source that fails (no git in it) still tries an older Python.
    built = ["  × Failed to build `httptools==0.1.2`", "  ╰─▶ Call to `build_wheel` failed"]
    fix = _remedies().next_fix(built[0], built, {}, PYTHONS)
    assert fix is not None and fix.python_below == "3.11", fix


async def test_an_unreachable_git_dependency_fails_saying_so(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("python_git_unreachable"))
        assert body["status"] == "failed", body
        assert "gitonly @ git+https://127.0.0.1:9/nowhere/gitonly.git@main" in body["errorMessage"]
        said = messages(await service.history(body["gid"]), "system")
        assert not any("relaunching with Python" in m for m in said), said
