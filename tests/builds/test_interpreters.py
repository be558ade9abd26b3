"""Which interpreter an app's environment is built with: among those present that fit
its request, the first with wheels for every pinned package (a try's lines streamed as
they come, a failed one's errors as warnings, followed by a line saying it ended), and
a .python-version naming another patch of an installed minor version taken as that
version, said so. Real interpreters, real builds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from preview.apps.depspec import python_dependencies
from preview.builds.build import EnvBuilder
from preview.builds.envcache import BuildFailed, patch_floor
from preview.builds.installers import version_key
from preview.builds.interpreters import (
    Choices,
    Interpreter,
    build_first_fitting,
    interpreter_choices,
)
from preview.builds.wheelindex import Gaps

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages


async def _choices(service: Service, request: str):
    builder: EnvBuilder = await service.supervisor.env_builder()  # made at a first launch
    return await interpreter_choices(request, "pyproject.toml", builder._uv_env(discovery=True))


async def test_a_range_lists_every_fitting_minor_version_uvs_pick_first(
    builder_service: Service,
) -> None:
    with trio.fail_after(60):
        found = await _choices(builder_service, ">=3.8")
        versions = [i.minor for i in found.interpreters]
        assert len(versions) == len(set(versions)) and len(versions) <= 8
        exact = await _choices(builder_service, "3.11")
        assert len(exact.interpreters) == 1  # not a range: uv's pick alone


async def test_python_version_naming_another_patch_takes_the_installed_one(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        found = await _choices(service, "3.10.4")
        if isinstance(found, list):
            assert not any(v.startswith("3.10.") for v in found)
            return  # no 3.10 here: refused, naming what exists (test_build's case)
        body = await launched(service, app_files("python_patch"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        own = (await service.app_get(body, "/")).json()["python"]
        assert own.startswith("3.10.") and own != "3.10.4"
        system = messages(await service.history(body["gid"]), "system")
        said = f"asks for Python 3.10.4, which is not installed: using {own}, another patch of 3.10"
        assert any(said in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_uv_project_requiring_a_later_patch_builds_on_the_installed_one(
    builder_service: Service,
) -> None:
    """deight93's fastapi-boilerplate: .python-version 3.12.9 and requires-python
    ">=3.12.9" (its Dockerfile's image), 3.12.1 here: the pin is taken as 3.12, and the
    project's requires-python (pyproject.toml's and uv.lock's) held to that patch, where
    ``uv sync`` refused the interpreter ("incompatible with the project's Python
    requirement"). Another minor version's clause is kept."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        found = await _choices(service, "3.11")
        if isinstance(found, list):
            return  # no 3.11 here: nothing to hold the floor to
        files = app_files("uv_locked")
        for name in ("pyproject.toml", "uv.lock"):
            later = 'requires-python = ">=3.11.99"'
            files[name] = files[name].replace('requires-python = ">=3.11"', later)
            assert later in files[name]
        files[".python-version"] = "3.11.99\n"
        files["main.py"] += (
            "\nimport sys\n\n\nasync def python(request):\n"
            '    return JSONResponse({"python": sys.version.split()[0]})\n\n\n'
            'app.add_route("/python", python)\n'
        )
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        own = (await service.app_get(body, "/python")).json()["python"]
        assert own.startswith("3.11.") and own != "3.11.99"
        assert (await service.stop(body["gid"])).status_code == 200
    assert patch_floor('requires-python = ">=3.10.9, <3.11.5"', "3.11.2") == (
        'requires-python = ">=3.10.9, <3.11.5"'
    )
    assert patch_floor('requires-python = "==3.11.9"', "3.11.2") == 'requires-python = "==3.11.2"'
    # A floor of a later minor version within two, where the build took the nearest.
    for asked in (">=3.14", "~=3.14", ">=3.15.2"):
        floor = f'requires-python = "{asked}, <4"'
        assert patch_floor(floor, "3.13.0") == 'requires-python = ">=3.13.0, <4"'
    far = 'requires-python = ">=3.16"'
    assert patch_floor(far, "3.13.0") == far


async def test_the_interpreter_with_wheels_for_every_pin_is_chosen(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        found = await _choices(service, ">=3.12")
        minors = [i.minor for i in found.interpreters]
        if "3.12" not in minors or minors[0] == "3.12":
            return  # needs 3.12 present beside a newer one uv picks first
        body = await launched(service, app_files("wheels_by_python"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["python"].startswith("3.12")
        assert (await service.app_get(body, "/")).json()["python"].startswith("3.12")
        events = await service.history(body["gid"])
        system = messages(events, "system")
        chose = [m for m in system if m.startswith("Python 3.12") and "wheels for every" in m]
        assert chose and f"not on Python {found.interpreters[0].version}" in chose[0], system
        # The failed try on the newer one was streamed, its errors as warnings, and
        # said to have ended before the next began.
        newer = found.interpreters[0].version
        said = f"the try with prebuilt wheels only on Python {newer} ended"
        ended = [m for m in system if m.startswith(said)]
        assert ended and ended[0].endswith("the build goes on"), system
        assert not [e for e in events if e["source"] == "build" and e["level"] == "ERROR"]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_with_no_request_old_pins_take_the_newest_python_with_their_wheels(
    builder_service: Service,
) -> None:
    """No Python asked for, MarkupSafe==1.1.1 pinned: its wheels stop at 3.9, so 3.9 is
    taken rather than building it from source on uv's pick (3.11)."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        found = await _choices(service, "")
        minors = [i.minor for i in found.interpreters]
        # uv's pick, the older ones newest first, then the newer ones oldest first.
        first = int(minors[0].split(".")[1])
        older = [m for m in minors if int(m.split(".")[1]) < first]
        newer = [m for m in minors if int(m.split(".")[1]) > first]
        assert len(minors) == len(set(minors)) and minors == [minors[0], *older, *newer]
        assert older == sorted(older, key=lambda m: -int(m.split(".")[1]))
        assert newer == sorted(newer, key=lambda m: int(m.split(".")[1]))
        if "3.9" not in minors or minors[0] in ("3.9", "3.8", "3.7", "3.6"):
            return  # needs 3.9 present below uv's pick
        body = await launched(service, app_files("old_pins_wheels"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {
            "python": "3.9",
            "markupsafe": "1.1.1",
        }
        system = messages(await service.history(body["gid"]), "system")
        chose = [m for m in system if m.startswith("Python 3.9")]
        assert chose and f"not {found.interpreters[0].version}" in chose[0], system
        assert "markupsafe==1.1.1" in chose[0]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_with_no_request_a_pin_requiring_a_newer_python_takes_one(
    builder_service: Service,
) -> None:
    """AmnaAshraf-2's drf-university-management-system pins Django==6.0 (Python>=3.12)
    and asks for no Python: tried on uv's pick, 3.10 and 3.9, refused on each ("the
    current Python version does not satisfy"). The newer ones are tried too."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        found = await _choices(service, "")
        newer = await _choices(service, ">=3.12")
        if isinstance(newer, list) or found.interpreters[0].minor in ("3.12", "3.13"):
            return  # needs a 3.12 or newer present beside uv's pick below it
        files = {
            "requirements.txt": "Django==6.0\nflask>=3\n",
            "app.py": "import sys\n\nimport django\nfrom flask import Flask\n\n"
            "app = Flask(__name__)\n\n\n@app.get('/')\ndef about():\n"
            "    return {'django': django.get_version(), 'python': sys.version_info[:2]}\n",
        }
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        about = (await service.app_get(body, "/")).json()
        assert about["django"] == "6.0" and tuple(about["python"]) >= (3, 12)
        assert (await service.stop(body["gid"])).status_code == 200


async def test_with_an_sdist_pinned_the_python_with_wheels_for_the_rest_is_built_at_once(
    builder_service: Service,
) -> None:
    """MarkupSafe==1.1.1 (wheels up to 3.9) beside an sdist-only pin: no interpreter has
    every package as a wheel, so none but uv's pick is tried with wheels only; 3.9 has
    the rest, so it is built there first (not on uv's pick, compiling MarkupSafe), said
    in one line naming what made the difference and what is built from source."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        found = await _choices(service, "")
        minors = [i.minor for i in found.interpreters]
        if "3.9" not in minors or minors[0] in ("3.9", "3.8", "3.7", "3.6"):
            return  # needs 3.9 present below uv's pick
        body = await launched(service, app_files("old_pins_sdist"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {
            "python": "3.9",
            "markupsafe": "1.1.1",
            "visitor": "visitor",
        }
        events = await service.history(body["gid"])
        system = messages(events, "system")
        chose = [m for m in system if m.startswith("Python 3.9")]
        assert len(chose) == 1, system
        assert f"not {found.interpreters[0].version}" in chose[0]
        assert "(markupsafe==1.1.1)" in chose[0]
        assert chose[0].endswith("built from source either way: visitor==0.1.3")
        # uv's pick tried with wheels only (while the index is asked), then 3.9 at once.
        tries = [m for m in system if m.startswith("installing dependencies (Python")]
        assert len(tries) == 2, system
        assert f"Python {found.interpreters[0].version}," in tries[0]
        assert "Python 3.9" in tries[1]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_pin_not_installed_falls_back_to_what_requires_python_allows(
    builder_service: Service,
) -> None:
    """fastapi-nano: .python-version pins 3.14 (not installed), pyproject.toml requires
    >=3.13: the build takes an installed Python the latter allows, and says why."""
    files = {
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
        ".python-version": b"3.99\n",
        "pyproject.toml": b'[project]\nname = "x"\nversion = "0"\nrequires-python = ">=3.8"\n'
        b'dependencies = ["fastapi"]\n',
    }
    deps = python_dependencies(files, "main.py")
    assert deps.python_request == "3.99" and deps.python_fallback == (">=3.8", "pyproject.toml")
    with trio.fail_after(60):
        builder = await builder_service.supervisor.env_builder()
        choices = await builder._interpreter(deps)
    assert choices.interpreters and choices.interpreters[0].version.startswith("3.")
    assert choices.note is not None
    assert choices.note.startswith(".python-version asks for Python 3.99, which is not installed")
    assert "requires-python '>=3.8' allows" in choices.note
    # Without a requires-python, the pin's failure stands (what is installed is listed).
    bare = python_dependencies({k: v for k, v in files.items() if k != "pyproject.toml"})
    assert bare.python_fallback is None


async def test_a_minor_version_not_installed_takes_the_nearest_installed_within_two(
    builder_service: Service,
) -> None:
    """fastapi-marketplace: .python-version asks for 3.14, the newest here 3.13, and no
    requires-python bounds it: the build takes the nearest installed, said; a version
    far from any installed (3.99) is still refused, naming what is."""
    with trio.fail_after(60):
        builder = await builder_service.supervisor.env_builder()
        versions = [v for v in await builder.python_versions() if v.startswith("3.")]
        newest = max(versions, key=version_key)
        minor = int(newest.split(".")[1])
        for asked in (f"3.{minor + 1}", f"3.{minor + 2}.1"):
            files = {"main.py": b"print()\n", ".python-version": asked.encode() + b"\n"}
            choices = await builder._interpreter(python_dependencies(files, "main.py"))
            assert [i.version for i in choices.interpreters] == [newest]
            assert choices.note == (
                f".python-version asks for Python {asked}, which is not installed: "
                f"using {newest}, the nearest installed"
            )
        far = {"main.py": b"print()\n", ".python-version": f"3.{minor + 3}\n".encode()}
        with pytest.raises(BuildFailed, match="no Python interpreter here fits"):
            await builder._interpreter(python_dependencies(far, "main.py"))
        # Its pyproject's requires-python too: ">=3.14" where 3.13 is the newest here.
        project = f'[project]\nname = "x"\nversion = "0"\nrequires-python = ">=3.{minor + 1}"\n'
        both = {"main.py": b"print()\n", "pyproject.toml": project.encode()}
        alone = await builder._interpreter(python_dependencies(both, "main.py"))
        assert [i.version for i in alone.interpreters] == [newest]
        both[".python-version"] = f"3.{minor + 1}\n".encode()
        pinned = await builder._interpreter(python_dependencies(both, "main.py"))
        assert [i.version for i in pinned.interpreters] == [newest]
        assert pinned.note is not None and "neither installed" in pinned.note


async def test_a_python_version_naming_a_program_never_runs_it(
    builder_service: Service, tmp_path: Path
) -> None:
    """uv runs what a request names to ask what it is, and it runs here as the service,
    outside any sandbox: ``.python-version`` naming a path (an executable the app's own
    build left in its environment, whose host path the app reads in its mounts) had the
    service run it as root. Only versions, specifiers and implementations are asked."""
    ran = tmp_path / "ran"
    program = tmp_path / "python-lookalike"
    program.write_text(f'#!/bin/sh\necho "$(id -u)" > {ran}\nexit 1\n')
    program.chmod(0o755)
    service = builder_service
    with trio.fail_after(60):
        for asked in (str(program), f"--python={program}"):
            files = {"server.py": "print('never')\n", ".python-version": asked + "\n"}
            gid = await service.upload(files)
            body = (await service.launch(gid, command=["{python}", "server.py"])).json()
            assert body["status"] == "failed"
            assert "no Python interpreter here fits" in body["errorMessage"]
    assert not await trio.Path(ran).exists()


async def _built_with_wheels_first(
    service: Service, monkeypatch: pytest.MonkeyPatch, requirements: bytes
) -> tuple[list[tuple[str, str, str]], str]:
    """The build of ``requirements`` where two interpreters fit (uv's pick, then another:
    here the same one again when only one is present), as the log gets it: (source,
    level, text) in order, and the version built for."""
    builder: EnvBuilder = await service.supervisor.env_builder()
    found = await interpreter_choices("", None, builder._uv_env(discovery=True))
    assert not isinstance(found, list), found
    first, *others = found.interpreters
    two = Choices((first, others[0] if others else first))

    async def two_fitting(_deps: object) -> Choices:
        return two

    monkeypatch.setattr(builder, "_interpreter", two_fitting)
    log: list[tuple[str, str, str]] = []

    async def publish(lines: list[tuple[str, str]], stream: str) -> None:
        log.extend(("build", level, text) for level, text in lines)

    async def say(text: str) -> None:
        log.append(("system", "INFO", text))

    deps = python_dependencies({"requirements.txt": requirements})
    lease, env = await builder.python_env(deps, None, publish, say)
    lease.release()
    return log, env.version


def _index(log: list[tuple[str, str, str]], start: str, after: int = -1) -> int:
    return next(
        i
        for i, (source, _, text) in enumerate(log)
        if i > after and source == "system" and text.startswith(start)
    )


async def test_a_try_with_wheels_only_streams_its_lines_as_they_come(
    builder_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its lines reach the log while it runs (before it says it is built), not once
    it ended."""
    with trio.fail_after(BUILD_WAIT):
        log, version = await _built_with_wheels_first(
            builder_service, monkeypatch, b"six==1.16.0\nidna==3.7\n"
        )
    began = _index(log, f"installing dependencies (Python {version}, requirements.txt")
    built = _index(log, "environment built in", began)
    between = [text for source, _, text in log[began:built] if source == "build"]
    assert not [text for source, _, text in log[built:] if source == "build"], log
    assert any("six==1.16.0" in text for text in between), log
    assert log[began][2].endswith("; prebuilt wheels only, first)"), log  # the try says so


async def test_a_failed_try_with_wheels_only_is_said_and_the_build_goes_on(
    builder_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """visitor 0.1.3 has no wheel: the try's lines (streamed, its errors as warnings)
    are followed by a line saying it ended and why, then one saying the build from
    source starts, which then succeeds without refusing it again."""
    with trio.fail_after(BUILD_WAIT):
        log, version = await _built_with_wheels_first(
            builder_service, monkeypatch, b"visitor==0.1.3\n"
        )
    began = _index(log, "installing dependencies (Python")
    assert log[began][2].endswith("; prebuilt wheels only, first)"), log
    ended = _index(log, f"the try with prebuilt wheels only on Python {version} ended", began)
    assert "visitor" in log[ended][2] and log[ended][2].endswith("; the build goes on"), log
    tried = [(level, text) for source, level, text in log[began:ended] if source == "build"]
    assert any("visitor" in text for _, text in tried), log
    assert all(level != "ERROR" for level, _ in tried), tried
    source_build = _index(log, f"building from source on Python {version}: no Python", ended)
    again = _index(
        log, f"installing dependencies (Python {version}, requirements.txt)", source_build
    )
    _index(log, "environment built in", again)
    # Its wheels-only pass is not run again (its refusal's lines said twice).
    assert not [t for _, _, t in log[again:] if "no usable wheels" in t], log[again:]


async def test_a_set_built_on_a_later_python_is_reused_there_with_no_try_first(
    builder_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MarkupSafe 2.1.1 has wheels up to Python 3.10: its first build tries 3.11 with
    wheels only, is refused, and builds on 3.10. A later launch of the set takes the
    environment built on 3.10 at once: no try on 3.11 again (five apps' cached launches
    spent 1.4-12 s in it each time, one of them waiting on blocked network)."""
    builder: EnvBuilder = await builder_service.supervisor.env_builder()
    found = await interpreter_choices("", None, builder._uv_env(discovery=True))
    assert not isinstance(found, list), found
    by_minor = {i.version.rsplit(".", 1)[0]: i for i in found.interpreters}
    if "3.11" not in by_minor or "3.10" not in by_minor:
        pytest.skip("needs Python 3.11 and 3.10 on the machine")
    two = Choices((by_minor["3.11"], by_minor["3.10"]))

    async def two_fitting(_deps: object) -> Choices:
        return two

    monkeypatch.setattr(builder, "_interpreter", two_fitting)
    deps = python_dependencies({"requirements.txt": b"markupsafe==2.1.1\n"})
    for launch in ("first", "again"):
        said: list[str] = []

        async def publish(lines: list[tuple[str, str]], stream: str) -> None:
            pass

        async def say(text: str, said: list[str] = said) -> None:
            said.append(text)

        with trio.fail_after(BUILD_WAIT):
            lease, env = await builder.python_env(deps, None, publish, say)
        lease.release()
        assert env.version.startswith("3.10"), (launch, said)
        tries = [line for line in said if "prebuilt wheels only" in line]
        if launch == "first":
            assert tries and "Python 3.11" in tries[0], said
        else:
            assert tries == [], said
            assert len(said) == 1 and said[0].startswith("environment ready (Python 3.10"), said


async def test_a_build_lacking_a_system_library_is_not_tried_where_no_wheel_is_either() -> None:
    """GlazovDaniil's DRF-events-website-API: mysqlclient, which has no wheel for any
    Python and needs MySQL's client library to build, was built on 3.11, 3.10 and 3.9 in
    turn, each failing the same, before its remedy. A Python whose index has no wheel of
    the failed package either is not tried; one that has a wheel of it still is."""
    mysql = (
        "building mysqlclient 2.2.4 for Python 3.11 needs MySQL's client library and headers "
        "(mysql_config, or pkg-config's mysqlclient: Debian's default-libmysqlclient-dev) and "
        "a C compiler (no wheel)"
    )
    pythons = tuple(Interpreter(f"/py/{v}", v) for v in ("3.11.7", "3.10.13", "3.9.18"))
    gaps = {
        "3.11.7": Gaps(unbuilt=("mysqlclient==2.2.4", "autobahn==23.6.2")),
        "3.10.13": Gaps(unbuilt=("mysqlclient==2.2.4",)),
        "3.9.18": Gaps(unbuilt=("autobahn==23.6.2", "mysqlclient==2.2.4")),
    }
    tried: list[tuple[str, bool | None]] = []
    said: list[str] = []

    async def attempt(interpreter: Interpreter, publish: object, wheels: bool | None) -> str:
        tried.append((interpreter.version, wheels))
        raise BuildFailed(mysql if wheels is not True else "no usable wheels")

    async def say(text: str) -> None:
        said.append(text)

    async def publish(*args: object) -> None:
        return None

    async def found() -> dict[str, Gaps]:
        return gaps

    with pytest.raises(BuildFailed, match="mysqlclient"):
        await build_first_fitting(pythons, found, attempt, publish, say)
    assert len([t for t in tried if t[1] is not True]) == 1, tried  # one build from source
    assert sum("which has no wheel of it either" in line for line in said) == 2, said
    gaps["3.9.18"] = Gaps(unbuilt=("autobahn==23.6.2",))  # a wheel of mysqlclient there
    tried.clear()
    with pytest.raises(BuildFailed):
        await build_first_fitting(pythons, found, attempt, publish, say)
    assert ("3.9.18", True) in tried or ("3.9.18", False) in tried, tried


class _FailingBuilds:
    """Builds that each fail with ``failure(wheels)`` (``wheels``: True for a try with
    wheels only), recording each try and each line said."""

    def __init__(self, failure: Callable[[bool | None], str]) -> None:
        self.failure = failure
        self.tried: list[tuple[str, bool | None]] = []
        self.said: list[str] = []

    async def attempt(self, interpreter: Interpreter, publish: object, wheels: bool | None) -> str:
        self.tried.append((interpreter.version, wheels))
        raise BuildFailed(self.failure(wheels))

    async def say(self, text: str) -> None:
        self.said.append(text)

    async def publish(self, *args: object) -> None:
        return None


_THREE_PYTHONS = tuple(Interpreter(f"/py/{v}", v) for v in ("3.11.7", "3.12.1", "3.10.13"))


async def test_a_download_past_the_size_a_build_may_write_is_not_tried_on_another_python() -> None:
    """yaswanthkumarch's fastapi-email-tracker: torch's 783 MiB stopped the build on 3.11,
    and 3.12 downloaded it and CUDA's wheels again until the launch's time ran out, its
    remedy (torch left out, never imported) never reached. A package's size is the same
    on every Python: the failure is the build's at once."""
    oversized = (
        "uv was stopped writing a file larger than the 256 MiB a build may write (torch 783.1 MiB)"
    )
    builds = _FailingBuilds(lambda wheels: oversized if wheels is not True else "no usable wheels")

    async def found() -> dict[str, Gaps]:
        return {v: Gaps(unbuilt=("fpdf==1.7.2",)) for v in ("3.11.7", "3.12.1", "3.10.13")}

    with trio.fail_after(5), pytest.raises(BuildFailed, match=r"torch 783\.1 MiB"):
        await build_first_fitting(_THREE_PYTHONS, found, builds.attempt, builds.publish, builds.say)
    from_source = [t for t in builds.tried if t[1] is not True]
    assert len(from_source) == 1, builds.tried  # one build from source
    assert any("not tried on another Python" in line for line in builds.said), builds.said


async def test_a_try_with_wheels_only_past_the_size_is_the_builds_failure_at_once() -> None:
    """12345zq's FastapiService: torch's wheels (514 MiB, and CUDA's) stopped the try with
    wheels only on 3.11, then 3.13, 3.12 and 3.10 downloaded them again, then the build
    from source once more: the launch's 240 s ran out before torch's remedy. The size is
    the same on every Python and from source: the first try's failure is the build's."""
    oversized = (
        "uv was stopped writing a file larger than the 256 MiB a build may write (torch 514.2 MiB)"
    )
    builds = _FailingBuilds(lambda wheels: oversized)

    async def found() -> dict[str, Gaps]:
        return {}

    with trio.fail_after(5), pytest.raises(BuildFailed, match=r"torch 514\.2 MiB"):
        await build_first_fitting(_THREE_PYTHONS, found, builds.attempt, builds.publish, builds.say)
    assert builds.tried == [("3.11.7", True)], builds.tried
    assert any("not tried on another Python" in line for line in builds.said), builds.said


async def test_a_name_the_index_lacks_is_not_tried_on_another_python() -> None:
    """A pip freeze's apt package (no index has it) was tried with wheels only on five
    Pythons and from source on three before its remedy: no Python finds a name the index
    lacks, so the first try's failure is the build's."""
    absent = (
        "No solution found when resolving dependencies: Because python-apt-only was not found "
        "in the package registry and you require python-apt-only==2.4.0"
    )
    builds = _FailingBuilds(lambda wheels: absent)

    async def found() -> dict[str, Gaps]:
        await trio.sleep_forever()  # the index's answer is not awaited
        raise AssertionError

    with trio.fail_after(5), pytest.raises(BuildFailed, match="python-apt-only was not found"):
        await build_first_fitting(_THREE_PYTHONS, found, builds.attempt, builds.publish, builds.say)
    assert builds.tried == [("3.11.7", True)], builds.tried
    assert any("not tried on another Python" in line for line in builds.said), builds.said


async def test_a_name_the_index_lacks_from_source_is_not_tried_on_another_python() -> None:
    """poornaonline's FlaskHospitalManagementSystem: a Raspberry Pi's freeze, its wheels
    found on no Python, then each pin the index lacks (``get==…``) built from source on
    three Pythons at every fix: its launch ran out of time by the fifth. The first build
    from source that names one is the build's failure."""
    absent = "Because get was not found in the package registry and you require get==2019.4.13"
    builds = _FailingBuilds(lambda wheels: "no usable wheels" if wheels is True else absent)

    async def found() -> dict[str, Gaps]:
        return {v: Gaps(unbuilt=("RPi.GPIO==0.7.0",)) for v in ("3.11.7", "3.12.1", "3.10.13")}

    with trio.fail_after(5), pytest.raises(BuildFailed, match="get was not found"):
        await build_first_fitting(_THREE_PYTHONS, found, builds.attempt, builds.publish, builds.say)
    from_source = [t for t in builds.tried if t[1] is not True]
    assert len(from_source) == 1, builds.tried
    assert any("no index has it" in line for line in builds.said), builds.said


async def test_pythons_a_builds_error_says_are_too_new_are_not_tried_from_source() -> None:
    """jplusplus' arte-world-of-work pins Markdown 2.3.1, whose build calls ElementTree's
    ``getchildren()`` (gone in 3.9): built from source on 3.11, then 3.10, each failing the
    same, the launch's time ran out. Pythons from 3.9 on are not tried; 3.8 is, and builds
    it (and a Python known too new costs none of the builds from source it may try)."""
    pythons = tuple(Interpreter(f"/py/{v}", v) for v in ("3.11.7", "3.10.13", "3.9.18", "3.8.18"))
    removed = "AttributeError: 'xml.etree.ElementTree.Element' object has no attribute"
    tried: list[tuple[str, bool | None]] = []
    said: list[str] = []

    async def attempt(interpreter: Interpreter, publish: object, wheels: bool | None) -> str:
        tried.append((interpreter.version, wheels))
        if wheels is True:
            raise BuildFailed("no usable wheels")
        if tuple(map(int, interpreter.version.split("."))) >= (3, 9):
            raise BuildFailed("Failed to build `markdown==2.3.1`", [f"{removed} 'getchildren'"])
        return "built"

    async def found() -> dict[str, Gaps]:
        return {i.version: Gaps(unbuilt=("markdown==2.3.1",)) for i in pythons}

    async def say(text: str) -> None:
        said.append(text)

    async def publish(*args: object) -> None:
        return None

    with trio.fail_after(5):
        assert await build_first_fitting(pythons, found, attempt, publish, say) == "built"
    from_source = [version for version, wheels in tried if wheels is not True]
    assert from_source == ["3.11.7", "3.8.18"], (tried, said)
    assert any("not tried on Python 3.10.13, which its build's error" in s for s in said), said


async def test_a_build_failing_on_python_2_code_is_not_tried_on_another_python() -> None:
    """jplusplus' arte-world-of-work pins boto 2.9.6, whose setup imports its Python 2 code
    (``print s.getvalue()``): built from source on 3.11, 3.10 and 3.9 in turn, the launch's
    time ran out. No Python 3 builds it: the first failure is the build's, saying so."""
    pythons = tuple(Interpreter(f"/py/{v}", v) for v in ("3.11.7", "3.10.13", "3.9.18"))
    printed = "SyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?"
    builds = _FailingBuilds(
        lambda wheels: "no usable wheels" if wheels is True else "Failed to build `boto==2.9.6`"
    )

    async def attempt(interpreter: Interpreter, publish: object, wheels: bool | None) -> str:
        try:
            return await builds.attempt(interpreter, publish, wheels)
        except BuildFailed as failed:
            raise BuildFailed(failed.message, [printed]) from None

    async def found() -> dict[str, Gaps]:
        return {i.version: Gaps(unbuilt=("boto==2.9.6",)) for i in pythons}

    with trio.fail_after(5), pytest.raises(BuildFailed, match="Python 2's") as caught:
        await build_first_fitting(pythons, found, attempt, builds.publish, builds.say)
    assert "no Python 3 builds or runs" in caught.value.message
    from_source = [version for version, wheels in builds.tried if wheels is not True]
    assert from_source == ["3.11.7"], builds.tried
