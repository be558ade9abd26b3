"""What the index says an app's requirements lack for each interpreter: read from file
names only (here a find-links directory of empty files), the version a resolver takes
on each Python (the newest its Requires-Python admits), and whether a wheel of it fits."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

import trio

from preview.apps.depspec import python_dependencies
from preview.builds.wheelindex import project_files, wheel_gaps

from ..launching import APPS
from ..thread_http import send_index_page, serving_on_a_thread

FILES = (
    "oldpin-1.0-cp39-cp39-manylinux_2_17_x86_64.whl",  # wheels up to 3.9, then source
    "oldpin-1.0-cp38-cp38-manylinux1_x86_64.whl",
    "oldpin-1.0.tar.gz",
    "sdistonly-0.1.tar.gz",
    "pure-2.0-py3-none-any.whl",
    "pure-2.0.tar.gz",
    "ranged-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    "ranged-1.1.tar.gz",  # the newest in range: what a resolver takes, no wheel
    "ranged-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
)


async def test_gaps_by_interpreter_from_file_names(tmp_path: Path) -> None:
    for name in FILES:
        (tmp_path / name).write_bytes(b"")
    requirements = [
        "oldpin==1.0",
        "sdistonly==0.1",
        "pure",
        "ranged>=1.0,<2",
        "windows-only==1.0; sys_platform == 'win32'",
        "--no-binary=:none:",
        "unknown==3.0",  # the index does not list it: counts for none
    ]
    with trio.fail_after(30):
        gaps = await wheel_gaps(requirements, ["3.11.7", "3.9.18", "3.8.18"], "none", str(tmp_path))
    assert gaps is not None
    assert gaps["3.11.7"].unbuilt == ("oldpin==1.0", "sdistonly==0.1", "ranged==1.1")
    assert gaps["3.9.18"].unbuilt == ("sdistonly==0.1", "ranged==1.1")
    assert gaps["3.8.18"].unbuilt == gaps["3.9.18"].unbuilt
    assert all(g.excluded == () for g in gaps.values())


async def test_nothing_known_without_an_index_or_with_one_interpreter(tmp_path: Path) -> None:
    with trio.fail_after(30):
        assert await wheel_gaps(["oldpin==1.0"], ["3.11.7", "3.9.18"], "none", "") is None
        (tmp_path / FILES[0]).write_bytes(b"")
        assert await wheel_gaps(["oldpin==1.0"], ["3.11.7"], "none", str(tmp_path)) is None


async def test_requires_python_from_a_local_index_page(tmp_path: Path) -> None:
    """A version whose files all exclude an interpreter: the resolver takes an older one
    there; none admitting it: excluded (it cannot be installed at all)."""
    project = tmp_path / "simple" / "newonly"
    project.mkdir(parents=True)
    (project / "index.html").write_text(
        '<a href="../../files/newonly-2.0-py3-none-any.whl#sha256=00" '
        'data-requires-python="&gt;=3.10">newonly-2.0-py3-none-any.whl</a>\n'
        '<a href="newonly-1.0.tar.gz" data-requires-python="&gt;=3.6">newonly-1.0.tar.gz</a>\n'
    )
    index = f"file://{tmp_path / 'simple'}"
    with trio.fail_after(30):
        gaps = await wheel_gaps(["newonly"], ["3.11.7", "3.9.18"], index, "")
        pinned = await wheel_gaps(["newonly==2.0"], ["3.11.7", "3.9.18"], index, "")
    assert gaps is not None and pinned is not None
    assert gaps["3.11.7"].cost == (0, 0)
    assert gaps["3.9.18"].unbuilt == ("newonly==1.0",)  # older, an sdist
    assert pinned["3.9.18"].excluded == ("newonly==2.0",)


async def test_a_locks_pins_count_at_their_versions(tmp_path: Path) -> None:
    """A 2020 poetry.lock (leosussan's fastapi-gino-arq-uvicorn): its ranges have wheels
    on every Python, the versions it locks (what uvicorn brings, too) only up to 3.8. Read
    with the lock's pins, 3.8 lacks nothing and 3.13 two compiled builds: 3.8 is tried
    first, not after 3.13 and 3.12 were compiled for minutes each."""
    app = APPS / "poetry_lock_old_wheels"
    files = {str(p.relative_to(app)): p.read_bytes() for p in app.rglob("*") if p.is_file()}
    deps = python_dependencies(files, "app/main.py")
    for name in (
        "fastapi-0.54.1-py3-none-any.whl",
        "fastapi-0.115.0-py3-none-any.whl",
        "uvicorn-0.11.5-py3-none-any.whl",
        "uvicorn-0.11.8-py3-none-any.whl",
        "httptools-0.1.1-cp38-cp38-manylinux1_x86_64.whl",
        "httptools-0.1.1.tar.gz",
        "httptools-0.6.4-cp313-cp313-manylinux_2_17_x86_64.whl",
        "uvloop-0.14.0-cp38-cp38-manylinux2010_x86_64.whl",
        "uvloop-0.14.0.tar.gz",
        "uvloop-0.21.0-cp313-cp313-manylinux_2_17_x86_64.whl",
    ):
        (tmp_path / name).write_bytes(b"")
    versions = ["3.11.7", "3.13.0", "3.8.18"]
    with trio.fail_after(30):
        gaps = await wheel_gaps(
            deps.requirements, versions, "none", str(tmp_path), pins=deps.constraints
        )
    assert gaps is not None
    assert gaps["3.8.18"].cost == (0, 0)
    assert gaps["3.13.0"].unbuilt == ("httptools==0.1.1", "uvloop==0.14.0")
    assert gaps["3.11.7"].unbuilt == gaps["3.13.0"].unbuilt


class _Index(BaseHTTPRequestHandler):
    """An index that has ``present``, has no ``absent`` (404) and fails on the rest."""

    def do_GET(self) -> None:
        name = self.path.strip("/").split("/")[-1]
        if name in ("absent", "broken"):
            self.send_response(404 if name == "absent" else 503)
            self.end_headers()
            return
        send_index_page(self, name, [{"filename": "present-1.0-py3-none-any.whl", "hashes": {}}])

    def log_message(self, *args: object) -> None:
        pass


async def test_a_project_the_index_lacks_is_told_from_one_it_did_not_answer_for() -> None:
    """A 404 is the index saying it has no such project (a freeze's apt package: its pins
    are then left out together, ``remedies.candidates``): there with no files; a page it
    failed to serve is unknown, not there at all."""
    with serving_on_a_thread(_Index) as port, trio.fail_after(30):
        index = f"http://127.0.0.1:{port}/simple/"
        found = await project_files({"present", "absent", "broken"}, index, "")
    assert [str(f.version) for f in found["present"]] == ["1.0"]
    assert found["absent"] == []
    assert "broken" not in found
