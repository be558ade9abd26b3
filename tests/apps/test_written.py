"""The files an app expects that its upload and this machine lack, written for it
(apps.written): the folders of its log files, its own metadata, the process manager it
tells it is ready."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from preview.apps.written import log_files, own_metadata, tells_manager


def test_the_log_files_a_logging_handler_opens_in_a_missing_folder() -> None:
    files = {
        "proj/settings.py": b"""
import os
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = BASE_DIR / "var" / "log"
LOGGING = {"handlers": {
    "a": {"class": "logging.FileHandler", "filename": os.path.join(BASE_DIR, "logs/a.log")},
    "b": {"class": "logging.handlers.RotatingFileHandler", "filename": LOG_DIR / "b.log"},
    "c": {"class": "logging.FileHandler", "filename": os.path.join(BASE_DIR, "kept", "c.log")},
    "d": {"class": "logging.FileHandler", "filename": "/var/log/d.log"},
    "e": {"class": "logging.FileHandler", "filename": "e.log"},
}}
""",
        "kept/.gitkeep": b"",
        "app.py": b"""
from logging.handlers import TimedRotatingFileHandler
handler = TimedRotatingFileHandler(f"logs/{'app'}.log", when="d")
""",
    }
    # Beside the project (BASE_DIR), in the working directory for a relative one; never
    # a folder the upload has, nor one outside it.
    assert log_files(files) == ["logs/a.log", "var/log/b.log", "logs/app.log"]
    assert log_files(files, "srv")[-1] == "srv/logs/app.log"


def test_a_project_reading_its_own_version_gets_the_metadata_pip_install_e_leaves(
    tmp_path: Path,
) -> None:
    """zobayer1's flask-restful-boilerplate: ``importlib.metadata.version(app.name)``
    (its status route, its OpenAPI document) raised PackageNotFoundError: the build
    installs what the project depends on, never the project (``pip install -e .``)."""
    files = {
        "setup.py": b"from setuptools import setup\nsetup(name='myapi', use_scm_version=True)\n",
        "myapi/__init__.py": b"",
        "myapi/utils.py": b"from importlib.metadata import version\nV = version('myapi')\n",
    }
    written = own_metadata(files)
    assert list(written) == ["myapi-0.0.0.dist-info/METADATA"]
    for path, content in {**files, **written}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(content)
    found = subprocess.run(
        [sys.executable, "-c", "import myapi.utils; print(myapi.utils.V)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.stdout.strip() == "0.0.0", found.stderr
    # A project that reads no installed metadata, or one with no name, gets none.
    assert own_metadata({**files, "myapi/utils.py": b"V = '1'\n"}) == {}
    assert own_metadata({"myapi/utils.py": files["myapi/utils.py"]}) == {}


def test_an_unchecked_ready_message_to_a_process_manager_is_told_apart() -> None:
    ready = b'app.listen(port, () => { process.send!("ready"); });'
    assert tells_manager({"src/server.ts": ready})
    assert tells_manager({"index.js": b"server.listen(3000, () => process.send('ready'));"})
    checked = (
        b"if (process.send) process.send('ready');",
        b"process.send && process.send('ready');",
        b"process.send?.('ready');",
        b"if (typeof process.send === 'function') { process.send('ready'); }",
    )
    for text in checked:
        assert not tells_manager({"index.js": text}), text
    for path in ("node_modules/x/index.js", "test/app.test.js", "dist/server.js", "notes.md"):
        assert not tells_manager({path: ready}), path
