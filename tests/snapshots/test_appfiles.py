"""What a snapshot takes of a preview's directory: what the app wrote, not the code of a
revision applied live (``.revisions/``), whose data is linked back to where it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from preview.runtime.swaps.codedirs import REVISIONS_DIR
from preview.snapshots.appfiles import writable_files


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
