"""What a snapshot takes of a preview's directory: what the app wrote, not the code of a
revision applied live (``.revisions/``), whose data is linked back to where it was."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import trio

from preview.runtime.swaps.codedirs import REVISIONS_DIR
from preview.snapshots.appfiles import copy_files, remove_databases, writable_files
from preview.snapshots.sqlitedata import is_sqlite


def test_code_of_revisions_applied_live_is_not_data(tmp_path: Path) -> None:
    uploaded = {"main.py": b"print('v1')\n"}
    (tmp_path / "main.py").write_bytes(uploaded["main.py"])
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("CREATE TABLE t (x)")
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "a.txt").write_text("written by the app")
    revision = tmp_path / REVISIONS_DIR / "2.1"
    revision.mkdir(parents=True)
    (revision / "main.py").write_text("print('v2')\n")
    (revision / "app.db").symlink_to(tmp_path / "app.db")

    databases, others = writable_files(tmp_path, uploaded)

    assert databases == ["app.db"]
    assert others == ["uploads/a.txt"]


def test_a_revisions_view_follows_its_links_only_inside_the_preview(tmp_path: Path) -> None:
    """Seen from the serving revision's directory (as a snapshot after a swap reads it):
    its data through the links to the preview's own directory and to an earlier
    revision's, what it wrote since, none of its code; never a link leading outside."""
    home, outside = tmp_path / "home", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not the preview's")
    (home / "data").mkdir(parents=True)
    (home / "main.py").write_text("print('v1')\n")  # revision 1's code: not seen from 3
    with sqlite3.connect(home / "data" / "app.db") as db:
        db.execute("CREATE TABLE t (x)")
    second, third = home / REVISIONS_DIR / "2.1", home / REVISIONS_DIR / "3.1"
    (second / "notes").mkdir(parents=True)
    (second / "notes" / "n.txt").write_text("written under revision 2")
    third.mkdir()
    (third / "main.py").write_text("print('v3')\n")
    (third / "data").symlink_to(home / "data")
    (third / "notes").symlink_to(second / "notes")
    (third / "new.txt").write_text("written under revision 3")
    (third / "leak").symlink_to(outside)
    (third / "leak.txt").symlink_to(outside / "secret.txt")
    (third / "loop").symlink_to(third)

    databases, others = writable_files(third, {"main.py": b"print('v3')\n"}, home)

    assert databases == ["data/app.db"]
    assert others == ["new.txt", "notes/n.txt"]


async def test_a_fifo_put_in_a_files_place_since_the_walk_is_left_out(tmp_path: Path) -> None:
    """The app runs while its snapshot is taken: a file listed, then renamed over by a
    FIFO, was opened by the service's thread (one of the two every preview's snapshots
    share), which waited for a writer for ever. It is left out."""
    root, target = tmp_path / "app", tmp_path / "snapshot"
    root.mkdir()
    (root / "notes.txt").write_text("written by the app")
    os.mkfifo(root / "raced.db")  # (listed as a file, a FIFO by the time it is read)
    with trio.fail_after(10):
        assert not await trio.to_thread.run_sync(
            is_sqlite, root / "raced.db", abandon_on_cancel=True
        )
        copied = await trio.to_thread.run_sync(
            copy_files,
            root,
            ["raced.db", "notes.txt"],
            target,
            1 << 20,
            1 << 20,
            abandon_on_cancel=True,
        )
    assert copied == len("written by the app")
    assert (target / "notes.txt").read_text() == "written by the app"
    assert not (target / "raced.db").exists()


def test_a_failed_attempts_databases_are_removed_with_their_journals(tmp_path: Path) -> None:
    """Between a launch's attempts (``Snapshots.clear_data``): never through a link."""
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("CREATE TABLE t (x)")
    (tmp_path / "app.db-journal").write_bytes(b"")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.db"
    with sqlite3.connect(outside) as db:
        db.execute("CREATE TABLE t (x)")
    (tmp_path / "linked.db").symlink_to(outside)
    remove_databases(tmp_path, ["app.db", "linked.db", "gone.db"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["linked.db"]
    assert outside.is_file()
    outside.unlink()
