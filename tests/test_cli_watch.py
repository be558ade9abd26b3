"""``preview watch DIR GID``: saved changes of a folder become revisions."""

from __future__ import annotations

import io
import threading
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio

from preview.cli import main
from preview.client.watch import outcome_line, watch_folder

from .conftest import SERVER_COMMAND, Service, auth, eventually, server_app, token


class _Lines(io.StringIO):
    """What the watcher printed, read from the test's thread while it writes."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            return super().write(text)

    def lines(self) -> list[str]:
        with self.lock:
            return self.getvalue().splitlines()


async def _revisions(service: Service, gid: str) -> list[dict]:
    response = await service.client.get(f"/api/generations/{gid}/revisions", headers=auth())
    return response.json()["revisions"]


async def test_watch_pushes_saved_changes_and_honours_gitignore(
    service: Service, tmp_path: Path
) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "main.py").write_text("print('one')\n")
    (folder / "gone.py").write_text("x = 1\n")
    gid = await service.upload({"main.py": "print('one')\n", "gone.py": "x = 1\n", "keep.log": "k"})
    (folder / "gone.py").unlink()  # deleted while nobody watched
    (folder / ".gitignore").write_text("*.log\nsecret/\n")
    (folder / "debug.log").write_text("noise\n")

    out, stop, ready = _Lines(), threading.Event(), trio.Event()
    client = httpx.Client(base_url=service.url, headers=auth(), timeout=30, trust_env=False)

    def run() -> int:
        with client:
            return watch_folder(
                client,
                gid,
                folder,
                out=out,
                stop=stop,
                ready=lambda: trio.from_thread.run_sync(ready.set),
            )

    async def wait_for_revision(number: int) -> dict:
        while True:
            revisions = await _revisions(service, gid)
            if revisions[-1]["revision"] >= number:
                return revisions[-1]
            await trio.sleep(0.05)

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            done: list[int] = []

            async def watcher() -> None:
                done.append(await trio.to_thread.run_sync(run, abandon_on_cancel=True))

            nursery.start_soon(watcher)
            # The first push: the folder as it is (its .gitignore too), what it lacks
            # gone, unless the folder ignores it (keep.log).
            first = await wait_for_revision(2)
            assert first["changed"] == [".gitignore", "gone.py"], first
            await ready.wait()  # the watcher is set up: saves from now on are seen

            (folder / "main.py").write_text("print('two')\n")
            (folder / "secret").mkdir()
            (folder / "secret" / "key.txt").write_text("hidden\n")
            (folder / "more.log").write_text("ignored\n")
            second = await wait_for_revision(3)
            assert second["changed"] == ["main.py"], second

            (folder / "main.py").unlink()
            (folder / "new.py").write_text("y = 2\n")
            third = await wait_for_revision(4)
            assert third["changed"] == ["main.py", "new.py"], third
            stop.set()
        assert done == [0]

    shown = (await service.client.get(f"/api/generations/{gid}", headers=auth())).json()
    assert sorted(f["path"] for f in shown["files"]) == [".gitignore", "keep.log", "new.py"]
    printed = out.lines()
    assert printed[0].startswith("revision 2: 2 files changed (.gitignore, gone.py)")
    assert printed[0].endswith("no preview is running")
    assert any(line.startswith("revision 3: 1 file changed (main.py)") for line in printed)


async def test_watch_honours_every_folders_gitignore_and_reads_a_changed_one(
    service: Service, tmp_path: Path
) -> None:
    """Nested .gitignore files, as git reads them (tests/test_gitignore_tree.py compares
    with git): sub/'s ignores its *.tmp, not the top's; a deeper one re-includes."""
    folder = tmp_path / "app"
    files = {
        "main.py": "print('one')\n",
        "top.tmp": "kept\n",
        "sub/.gitignore": "*.tmp\n",
        "sub/a.tmp": "ignored\n",
        "sub/deep/.gitignore": "!keep.tmp\n",
        "sub/deep/keep.tmp": "kept\n",
        "sub/deep/b.tmp": "ignored\n",
    }
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    gid = await service.upload({"main.py": "print('one')\n"})
    out, stop, ready = _Lines(), threading.Event(), trio.Event()
    client = httpx.Client(base_url=service.url, headers=auth(), timeout=30, trust_env=False)

    def run() -> int:
        with client:
            return watch_folder(
                client,
                gid,
                folder,
                out=out,
                stop=stop,
                ready=lambda: trio.from_thread.run_sync(ready.set),
            )

    async def revision(number: int) -> dict:
        while True:  # (a revision has no event to wait for)
            last = (await _revisions(service, gid))[-1]
            if last["revision"] >= number:
                return last
            await trio.sleep(0.05)

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial(trio.to_thread.run_sync, run, abandon_on_cancel=True))
            first = await revision(2)
            assert first["changed"] == [
                "sub/.gitignore",
                "sub/deep/.gitignore",
                "sub/deep/keep.tmp",
                "top.tmp",
            ], first
            await ready.wait()
            # A changed .gitignore is read again: what it now ignores is not sent.
            (folder / "sub" / ".gitignore").write_text("*.tmp\nextra.txt\n")
            assert (await revision(3))["changed"] == ["sub/.gitignore"]
            (folder / "sub" / "extra.txt").write_text("ignored now\n")
            (folder / "sub" / "real.py").write_text("x = 1\n")
            assert (await revision(4))["changed"] == ["sub/real.py"]
            stop.set()


def test_outcome_lines_say_what_happened_to_the_running_preview() -> None:
    body = {
        "revision": 5,
        "changed": ["a.py", "b.py", "c.py", "d.py", "requirements.txt"],
        "dependenciesChanged": True,
        "applied": False,
        "preview": {"revision": 4},
    }
    assert outcome_line(body) == (
        "revision 5: 5 files changed (a.py, b.py, c.py and 2 more), dependencies too — "
        "the running preview keeps revision 4 (relaunch it to run this one)"
    )
    assert outcome_line({"revision": 2, "unchanged": True}) == (
        "nothing changed: the folder is revision 2"
    )
    applied = {"revision": 3, "changed": ["main.py"], "preview": {"revision": 3}}
    switched = {"state": "switched", "readyMs": 412, "servingRevision": 3}
    assert outcome_line(applied | {"applied": True, "apply": switched}) == (
        "revision 3: 1 file changed (main.py) — ready in 412 ms, switched"
    )
    failed = {"state": "failed", "errorMessage": "SyntaxError: invalid syntax (main.py, line 2)"}
    assert outcome_line(applied | {"apply": failed | {"servingRevision": 2}}) == (
        "revision 3: 1 file changed (main.py) — failed: SyntaxError: invalid syntax "
        "(main.py, line 2); still serving revision 2"
    )


async def test_watch_of_an_unknown_generation_is_one_line(service: Service, tmp_path: Path) -> None:
    argv = ["watch", str(tmp_path), "gen_nope", "--url", service.url, "--token", token()]
    with trio.fail_after(30), pytest.raises(SystemExit) as ended:
        await trio.to_thread.run_sync(main, argv)
    assert str(ended.value).startswith("error 404: No generation 'gen_nope'")


async def test_watch_prints_the_swap_of_the_running_preview(
    service: Service, tmp_path: Path
) -> None:
    files = server_app(**{"notes.txt": "one\n"})
    line = await _watch_one_save(service, tmp_path, files, "running", "two\n", "switched")
    assert line.startswith("revision 2: 1 file changed (notes.txt) — ready in ")
    assert line.endswith(" ms, switched")


async def _watch_one_save(
    service: Service,
    tmp_path: Path,
    files: dict[str, str],
    launched_status: str,
    notes: str,
    said: str,
) -> str:
    """``files`` watched from a folder and launched (ending ``launched_status``), then
    notes.txt saved as ``notes``: the watcher's line that says ``said``."""
    folder = tmp_path / "app"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    out, stop, ready = _Lines(), threading.Event(), trio.Event()
    client = httpx.Client(base_url=service.url, headers=auth(), timeout=60, trust_env=False)

    def run() -> int:
        with client:
            return watch_folder(
                client,
                gid,
                folder,
                out=out,
                stop=stop,
                ready=lambda: trio.from_thread.run_sync(ready.set),
            )

    with trio.fail_after(120):
        gid = await service.upload(files)
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == launched_status, launched.text
        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial(trio.to_thread.run_sync, run, abandon_on_cancel=True))
            await ready.wait()
            (folder / "notes.txt").write_text(notes)
            await eventually(lambda: any(said in line for line in out.lines()), 0.05)
            stop.set()
        assert (await service.status(gid))["status"] == "running"
        await service.stop(gid)
    return next(line for line in out.lines() if said in line)


def test_outcome_lines_say_what_became_of_a_relaunch() -> None:
    fixed = {"revision": 4, "changed": ["main.py"], "applied": False, "relaunched": True}
    running = {"previewInstanceId": "p", "status": "running"}
    assert outcome_line(fixed | {"preview": running}) == (
        "revision 4: 1 file changed (main.py) — the preview had failed: relaunched on it, running"
    )
    failed = {"status": "failed", "errorMessage": "NameError: name 'x' is not defined"}
    assert outcome_line(fixed | {"preview": failed}).endswith(
        "relaunched on it, failed: NameError: name 'x' is not defined"
    )
    refused = {"revision": 4, "changed": ["main.py"], "preview": None}
    refused["relaunch"] = {"code": "preview_limit_reached", "message": "Your free tier …"}
    assert outcome_line(refused) == (
        "revision 4: 1 file changed (main.py) — the preview had failed; relaunching it: "
        "Your free tier …"
    )


async def test_watch_brings_back_a_preview_its_fix_mends(service: Service, tmp_path: Path) -> None:
    """The preview failed at its start; saving the fix relaunches it, and the line says
    it runs (followed in its status)."""
    broken = 'if open("notes.txt").read() == "broken\\n":\n    raise SystemExit("broken")\n'
    files = server_app(broken, **{"notes.txt": "broken\n"})
    line = await _watch_one_save(service, tmp_path, files, "failed", "fixed\n", "relaunched")
    assert line == (
        "revision 2: 1 file changed (notes.txt) — the preview had failed: relaunched on it, running"
    )
