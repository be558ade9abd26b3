"""Links a sandboxed app puts in its own directory lead nowhere on the host when the
service, root, works there: a snapshot taken and restored, a revision's code written,
a settings file written after the app ran (an outside tester's escapes: a restore wrote
an app's file into a host directory and its database over a host one; a snapshot gave
host files to the app's uid; a revision was written into a host directory)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from preview.sandbox.appdir import read_no_follow, replace_file, run_as_owner, write_beneath

from ..conftest import SERVER_COMMAND, Service, auth, server_app

_APP_UID = 1_900_012_345
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the service is root only as root")

# POST /plant {"links": {name: target}, "files": {name: text}, "db": name}: what the app
# makes in its own directory (a SQLite database with one row, files, links).
_PLANTER = """
import json, sqlite3

class Planter(Handler):
    def body(self):
        if self.headers["Content-Length"]:
            return self.rfile.read(int(self.headers["Content-Length"]))
        chunks = b""  # as a proxy may stream it
        while size := int(self.rfile.readline().split(b";")[0], 16):
            chunks += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()
        return chunks
    def do_POST(self):
        data = json.loads(self.body())
        for name, text in data.get("files", {}).items():
            os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
            open(name, "w").write(text)
        if data.get("db"):
            with sqlite3.connect(data["db"]) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("CREATE TABLE IF NOT EXISTS t (v TEXT)")
                connection.execute("INSERT INTO t VALUES ('app')")
        for name, target in data.get("links", {}).items():
            if os.path.isdir(name) and not os.path.islink(name):
                import shutil; shutil.rmtree(name)
            elif os.path.lexists(name):
                os.remove(name)
            os.symlink(target, name)
        body = b"{}"
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(body)
Handler = Planter
"""


def _victims(root: Path) -> dict[str, Path]:
    """Host files only root may write (and read, the secret)."""
    root.mkdir(mode=0o755)
    folder = root / "folder"
    folder.mkdir(mode=0o755)
    secret = root / "secret"
    secret.write_text("the host's secret")
    secret.chmod(0o600)
    database = root / "host.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE host (v TEXT)")
        connection.execute("INSERT INTO host VALUES ('host')")
    database.chmod(0o644)
    sides = [root / f"side{n}" for n in range(3)]
    for side in sides:
        side.write_text("host")
    return {"folder": folder, "secret": secret, "db": database, **{s.name: s for s in sides}}


def _state(victims: dict[str, Path]) -> dict[str, Any]:
    return {
        name: (
            sorted(os.listdir(path)) if path.is_dir() else path.read_bytes(),
            os.stat(path).st_uid,
        )
        for name, path in victims.items()
    }


async def _plant(service: Service, gid: str, token: str, **what: Any) -> None:
    answer = await service.client.post(
        f"/api/generations/{gid}/preview/proxy/plant",
        json=what,
        headers={**auth(), "X-Preview-Token": token},
    )
    assert answer.status_code == 200, answer.text


async def test_snapshots_and_revisions_never_follow_the_apps_links(
    service: Service, tmp_path: Path
) -> None:
    victims = _victims(tmp_path / "host")
    before = _state(victims)
    with trio.fail_after(120):
        gid = await service.upload(server_app(_PLANTER))
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", launched["errorMessage"]
        if launched.get("isolation", "none") == "none":
            pytest.skip("previews are not sandboxed here")
        token = launched["previewToken"]
        snapshots = f"/api/generations/{gid}/preview/snapshots"
        await _plant(service, gid, token, files={"sub/pwn.txt": "app"}, db="app.db")
        taken = await service.client.post(snapshots, headers=auth())
        assert taken.status_code == 201, taken.text
        snapshot = taken.json()["snapshotId"]
        # Its folder and database become links to the host's; the secret is linked in.
        links = {
            "sub": str(victims["folder"]),
            "app.db": str(victims["db"]),
            "leak.txt": str(victims["secret"]),
        }
        await _plant(service, gid, token, links=links)
        restored = await service.client.post(f"{snapshots}/{snapshot}/restore", headers=auth())
        # The links are the app's since the snapshot: its folder and database come back
        # in their places, the links gone.
        assert restored.status_code == 200, restored.text
        # A database whose WAL, index and journal are links to host files.
        sides = {
            f"w.db{suffix}": str(victims[f"side{n}"])
            for n, suffix in enumerate(("-wal", "-shm", "-journal"))
        }
        await _plant(service, gid, token, db="w.db")
        await _plant(service, gid, token, links=sides)
        again = await service.client.post(snapshots, headers=auth())
        assert again.status_code == 201 or again.json()["error"].startswith("snapshot_"), again.text
        if again.status_code == 201:  # the secret's link is not followed into it
            files = again.json()["files"]
            assert "leak.txt" not in files, files
        # Its revisions' folder is a link to a host folder: nothing is written there.
        await _plant(service, gid, token, links={".revisions": str(victims["folder"])})
        posted = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": {"version.txt": "two"}},
            headers=auth(),
        )
        assert posted.status_code == 201, posted.text
        assert (await service.stop(gid)).status_code == 200
    assert _state(victims) == before


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A folder any uid may traverse (pytest's own are root's alone), like the previews'."""
    made = Path(tempfile.mkdtemp(prefix="app-links-"))
    made.chmod(0o755)
    yield made
    shutil.rmtree(made)


def _app_dir(host_dir: Path) -> Path:
    """A preview's directory, its app's uid's."""
    app = host_dir / "app"
    app.mkdir()
    os.chown(app, _APP_UID, _APP_UID)
    return app


def test_the_apps_rights_are_the_working_threads_alone(host_dir: Path) -> None:
    tmp_path = host_dir
    app = _app_dir(host_dir)
    secret = tmp_path / "secret"
    secret.write_text("root's")
    secret.chmod(0o600)
    (app / "leak").symlink_to(secret)
    (app / "out").symlink_to(tmp_path)

    def as_app() -> tuple[str, str, int, int]:
        made = app / "made"
        made.write_text("app's")
        # Meanwhile another thread of the service keeps its own rights.
        other: list[int] = []
        thread = threading.Thread(target=lambda: other.append(os.stat(secret).st_mode))
        errors = []
        for path in (app / "leak", app / "out" / "pwn"):
            try:
                path.read_text() if path.name == "leak" else path.write_text("x")
            except PermissionError as error:
                errors.append(type(error).__name__)
        thread.start()
        thread.join()
        return errors[0], errors[1], os.stat(made).st_uid, len(other)

    assert run_as_owner(app, as_app) == ("PermissionError", "PermissionError", _APP_UID, 1)
    assert not (tmp_path / "pwn").exists()
    assert secret.read_text() == "root's"  # and this thread's rights came back


def test_a_file_written_after_the_app_ran_replaces_a_link_in_its_place(host_dir: Path) -> None:
    tmp_path = host_dir
    app = _app_dir(host_dir)
    victim = tmp_path / "victim"
    victim.write_text("host")
    (app / ".preview-gunicorn.conf.py").symlink_to(victim)
    write_beneath(app, ".preview-gunicorn.conf.py", b"shim")
    written = app / ".preview-gunicorn.conf.py"
    assert stat.S_ISREG(os.lstat(written).st_mode) and written.read_bytes() == b"shim"
    assert os.stat(written).st_uid == _APP_UID
    assert victim.read_text() == "host"
    (app / "config").symlink_to(tmp_path)  # a folder on the way: refused, not followed
    with pytest.raises(OSError):
        write_beneath(app, "config/settings.py", b"x")
    assert not (tmp_path / "settings.py").exists()


def test_a_file_the_service_writes_where_sandboxed_code_ran_replaces_a_link(
    host_dir: Path,
) -> None:
    """A build's folder (its install scripts ran with it writable): the environment's
    marker and an npm project's package.json are written over a link, not through it."""
    build = host_dir / "build"
    build.mkdir()
    victim = host_dir / "victim"
    victim.write_text("host")
    for name in ("preview-env.json", "package.json"):
        (build / name).symlink_to(victim)
        replace_file(build / name, b"{}")
        assert stat.S_ISREG(os.lstat(build / name).st_mode)
        assert (build / name).read_bytes() == b"{}"
    assert victim.read_text() == "host"
    (build / "linked.json").symlink_to(victim)
    with pytest.raises(OSError):
        read_no_follow(build / "linked.json")
