"""What the realapps runner uploads of an app past the upload's limits (``pack``): media
files go first, then the rest of asset folders, the code last, wherever it is."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from benchmarks.scenarios.realapps import MAX_TOTAL_BYTES, pack

from .gitignore_trees import write_tree


def test_code_in_a_folder_named_public_stays_and_photos_go_first(tmp_path: Path) -> None:
    """timotismjntk's express-backend keeps its anonymous callers' routes in
    src/routes/public/ beside 20 MB of product photos in assets/uploads/: the routes were
    left out as a page's assets, and the app died on "Cannot find module"."""
    files = {
        "index.js": "require('./src/routes/public/publicRoutes.js')\n",
        "src/routes/public/publicRoutes.js": "module.exports = 1\n",
        "static/editor/editor.js": "// a vendored editor\n",
        "package.json": "{}\n",
    }
    write_tree(tmp_path, files)
    photo = b"\0" * 1_000_000
    photos = MAX_TOTAL_BYTES // len(photo) + 2
    (tmp_path / "assets" / "uploads").mkdir(parents=True)
    for number in range(photos):
        (tmp_path / "assets" / "uploads" / f"{number:02}.JPG").write_bytes(photo)
    data, count, skipped = pack(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = set(tar.getnames())
    assert set(files) <= names
    assert count == len(names) < len(files) + photos
    assert skipped and all(s.startswith("assets/uploads/") for s in skipped)


def test_a_committed_virtualenv_is_left_out_whatever_its_name(tmp_path: Path) -> None:
    """briankibiku's DRF app commits its virtualenv as ``env/`` (980 files before
    ``manage.py`` in the upload's order): a folder holding pyvenv.cfg is not sent, as
    ``preview push`` leaves it; a folder of the same name without one is the app's."""
    files = {
        "manage.py": "print('django')\n",
        "env/pyvenv.cfg": "home = /usr/bin\n",
        "env/lib/python3.11/site-packages/django/__init__.py": "VERSION = 1\n",
        "config/env/__init__.py": "SETTINGS = 1\n",
    }
    write_tree(tmp_path, files)
    data, count, _ = pack(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == ["config/env/__init__.py", "manage.py"]
    assert count == 2


def test_a_committed_database_servers_files_go_before_the_code(tmp_path: Path) -> None:
    """leducthai's DRF products-and-users commits its PostgreSQL's data directory
    (``data/db/base/1/1247`` …, no extension): its 577 files filled the upload's size
    and pushed settings.py and manage.py out. Files with no extension that are no
    project's own text (Dockerfile, Procfile) go first, after media."""
    files = {
        "manage.py": "print('django')\n" + "#" * 2000 + "\n",
        "django_rest/settings.py": "DEBUG = True\n" + "#" * 2000 + "\n",
        "Dockerfile": "FROM python:3.11\n",
        "Procfile": "web: gunicorn django_rest.wsgi\n",
    }
    write_tree(tmp_path, files)
    block = b"\0" * ((MAX_TOTAL_BYTES - 1000) // 10)  # ten leave less than a module
    blocks = 12
    (tmp_path / "data" / "db" / "base" / "1").mkdir(parents=True)
    for number in range(blocks):
        (tmp_path / "data" / "db" / "base" / "1" / f"{1200 + number}").write_bytes(block)
    data, _, skipped = pack(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert set(files) <= set(tar.getnames())
    assert skipped and all(s.startswith("data/db/") for s in skipped)


def test_a_file_whose_name_an_upload_refuses_is_left_out_and_said(tmp_path: Path) -> None:
    """noemi890's api-express-address-book: ``Diagrams/Update\\Replace.png`` made the
    service refuse the whole upload (a backslash); it is left out, as ``preview push``
    leaves it out, and the runner says so."""
    write_tree(tmp_path, {"index.js": "", "Diagrams/Update\\Replace.png": ""})
    data, count, skipped = pack(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getnames() == ["index.js"]
    assert count == 1 and skipped == ["Diagrams/Update\\Replace.png (it contains a backslash)"]
