"""The files an app expects that its upload and this machine lack, written for it
(apps.written): the folders of its log files, its own metadata, the process manager it
tells it is ready."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import trio

from preview.apps.configvars import ServedDatabase
from preview.apps.written import (
    LOCAL_DATABASES,
    PREVIEW_SETTINGS,
    PreviewSettings,
    author_folders,
    case_named_folders,
    code_folders,
    container_folders,
    django_local_names,
    django_local_settings,
    django_missing_settings,
    django_preview_settings,
    env_absolute_folders,
    example_fill_ins,
    image_app_folder,
    image_folders,
    instance_files,
    instance_names,
    kept_out_module_names,
    lfs_pointer_databases,
    local_names_text,
    log_files,
    module_named_folders,
    node_settings_modules,
    npm_bin_scripts,
    own_metadata,
    python_case_copies,
    readme_files,
    root_named_folders,
    run_folders,
    scripted_files,
    sequelize_config_text,
    sequelize_configs,
    settings_files,
    settings_text,
    tells_manager,
    windows_only_imports,
)
from preview.apps.written.logfiles import absolute_log_folders
from preview.apps.written.rundirs import dirname_paths
from preview.builds.configdefaults import config_defaults, example_copies, named_values
from preview.builds.preparation import MissingFiles

from ..conftest import SERVER_COMMAND, Service, server_app
from ..launching import APPS, BUILD_WAIT, app_files, called, launched, messages
from ..sandbox.test_sandbox import require_sandbox


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


def test_the_folders_an_app_writes_in_that_its_repository_lacks() -> None:
    """What its checkout and its image had (rundirs): a folder its .gitignore lists that
    its code or configuration names as a path, one its Dockerfile makes under the app's
    folder, the folder of a relative SQLite file; never one the upload has, one outside
    the app's folder, a variable's, nor a name no file of it uses as a path."""
    files = {
        ".gitignore": b"__pycache__/\nnode_modules\nlogs/*\n/data/\nmedia\ncache/\nnotes.txt\n",
        "app/__init__.py": b"logging.basicConfig(filename=f'logs/{day()}.log')\n",
        "app/config.py": b"CACHE = {'cache': 1}\n",  # a key, no path: no cache/
        ".env.example": (
            b"DATABASE_URL=sqlite+aiosqlite:///data/app.db\nMEDIA=media\n"
            b'LOCAL_STORAGE_PATH="data/uploads"\nLOG_FILE_PATH=var/app.log\n'
            b"API_PATH=api/v1\nSTATIC_ROOT=/srv/static\nUPLOAD_DIR=../up\n"
        ),
        "Dockerfile": (
            b"FROM python:3.12 AS build\nWORKDIR /src\nRUN mkdir -p out\n"
            b"FROM python:3.12\nWORKDIR /srv\nCOPY . /srv/api\n"
            b"RUN mkdir -p /srv/api/uploads/img /var/log/api $HOME/x && \\\n  mkdir static\n"
            # what an install makes (koa-typescript-rest: a node_modules folder written
            # there kept the environment's link out, "Is a directory")
            b"RUN mkdir -p /srv/api/node_modules\n"
        ),
        "api/alembic.ini": b"sqlalchemy.url = sqlite:///./db/dev.sqlite3\n",
        "web/db.py": b'engine = create_engine("sqlite:////tmp/abs.db")\n',
        "web/other.py": b'engine = create_engine("sqlite:///kept/x.db")\n',
        "kept/README": b"",
    }
    found = run_folders(files)
    assert list(found) == [
        "logs/.gitkeep",
        "data/.gitkeep",
        "media/.gitkeep",
        "out/.gitkeep",  # the build stage's own folder (its WORKDIR: nothing copied)
        "uploads/img/.gitkeep",
        "db/.gitkeep",  # where the app runs, and beside the file that names it
        "api/db/.gitkeep",
        "data/uploads/.gitkeep",  # a folder's variable; a file's: its folder
        "var/.gitkeep",
    ]
    assert found["data/.gitkeep"] == ".gitignore lists it, .env.example names it as a path"
    assert found["uploads/img/.gitkeep"] == "Dockerfile makes it"
    assert found["var/.gitkeep"] == ".env.example gives it as LOG_FILE_PATH"


def _write_missing(folder: Path, files: dict[str, bytes], anchor: str) -> None:
    """What the preview writes of what the upload lacks (MissingFiles' plain contents),
    written under ``folder``."""
    for path, data in MissingFiles.read(files, anchor, (), None).plain_contents(files).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)


def test_folders_a_node_app_builds_from_its_own_folder_are_made() -> None:
    """akex4396's koa-juejin-api: ``fs.createWriteStream(__dirname + '/log/access.log')``
    ("ENOENT … open 'log/access.log'"); BerraUgur's book-express-api writes
    ``path.join(__dirname, "..", "data", "refreshTokens.json")`` from ``src/models/``, its
    .gitignore listing ``src/data/``. A path leaving the upload, or made of a variable,
    is none."""
    files = {
        ".gitignore": b"node_modules/\nsrc/data/\n",
        "app.js": b"const s = fs.createWriteStream(__dirname + '/log/access.log')\n",
        "src/models/RefreshToken.js": b'this.filePath = path.join(__dirname, "..", "data",'
        b' "refreshTokens.json");\n',
        "src/server.js": b"const up = path.join(__dirname, '..', '..', 'logs', 'x.log')\n"
        b"const out = `${__dirname}/${name}/x.log`\n",
    }
    assert list(run_folders(files)) == ["src/data/.gitkeep", "log/.gitkeep"]
    assert dirname_paths("src/a.js", "resolve(__dirname, `tmp`, 'x')") == ["src/tmp/x"]
    # jun0222's fastifyZod writes its spec by a relative path once it listens, its docs/
    # never committed ("ENOENT … open 'docs/openapi.yaml'"); a file at the root, none.
    written = {
        "src/app.ts": b'fs.writeFileSync("docs/openapi.yaml", yaml);\n'
        b"await fs.promises.writeFile('./out/report/x.json', data);\n"
        b'fs.writeFileSync("spec.yaml", yaml);\n',
    }
    assert list(run_folders(written)) == ["docs/.gitkeep", "out/report/.gitkeep"]
    appended = {"src/audit.js": b"fs.appendFileSync('audit/trail.txt', line)\n"}
    assert list(run_folders(appended)) == ["audit/.gitkeep"]


def test_a_folder_its_code_reads_spelled_in_another_case_is_copied_as_named(
    tmp_path: Path,
) -> None:
    """ayoubgeek's blind-auction-flask-app keeps its templates in ``Templates/``, which
    Flask's default ``templates`` found on its author's file system and not here
    ("TemplateNotFound: index.html"). Its files are copied under the name read, Flask's
    beside its module, Starlette's from where the app runs; a folder the upload has, or
    two spellings, get none."""
    flask = b"from flask import Flask\napp = Flask(__name__)\n"
    files = {
        "web/app.py": flask,
        "web/Templates/index.html": b"<p>{{ bid }}</p>",
        "web/Templates/parts/row.html": b"",
        "api.py": b'templates = Jinja2Templates(directory="Views")\n',
        "views/page.html": b"",
    }
    assert case_named_folders(files) == {
        "web/templates/index.html": "web/Templates/index.html",
        "web/templates/parts/row.html": "web/Templates/parts/row.html",
        "Views/page.html": "views/page.html",
    }
    _write_missing(tmp_path, files, "web/app.py")
    loader = jinja2.FileSystemLoader(str(tmp_path / "web/templates"))
    assert jinja2.Environment(loader=loader).get_template("index.html").render(bid=5) == "<p>5</p>"
    both = {**files, "web/TEMPLATES/index.html": b""}
    assert "web/templates/index.html" not in case_named_folders(both)
    own = {**files, "web/templates/other.html": b""}
    assert "web/templates/index.html" not in case_named_folders(own)


def test_a_module_imported_in_another_case_is_copied_under_the_name_imported(
    tmp_path: Path,
) -> None:
    """KRAN22's TodoFastApi: ``from routers import auth_router`` beside
    ``routers/Auth_router.py``, which its author's file system found ("cannot import name
    'auth_router' from 'routers'" here). The module is copied under the name imported,
    and the app imports; a module the upload has, two spellings, or none, get none."""
    files = {
        "main.py": b"from routers import auth_router, todo_router\nprint(auth_router.NAME)\n",
        "routers/Auth_router.py": b"from services import Auth_services\nNAME = 'auth'\n",
        "routers/todo_router.py": b"",
        "services/Auth_services.py": b"",
        "tools/run.py": b"import helpers\nimport json\nfrom . import Missing\n",
        "tools/Helpers.py": b"",
    }
    assert python_case_copies(files) == {
        "routers/auth_router.py": "routers/Auth_router.py",
        "tools/helpers.py": "tools/Helpers.py",  # (a script run there finds it beside it)
    }
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    _write_missing(tmp_path, files, "main.py")
    ran = subprocess.run(
        [sys.executable, "main.py"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert ran.stdout == "auth\n", ran.stderr
    both = {**files, "routers/AUTH_ROUTER.py": b""}
    assert "routers/auth_router.py" not in python_case_copies(both)


def test_an_editors_import_of_a_windows_only_module_is_left_out_where_unused(
    tmp_path: Path,
) -> None:
    """Iain-Donald's FlaskTravelApp: ``from asyncio.windows_events import NULL`` atop its
    controller, an editor's auto-import, NULL never used: "ImportError: win32 only" here.
    The line is left out and the module imports; one whose name it uses is kept."""
    controller = (
        b"from asyncio.windows_events import NULL\n"
        b"try:\n    import msvcrt\nexcept ImportError:\n    pass\n"
        b"NAME = 'travel'\n"
    )
    files = {"main.py": b"from controller import NAME\nprint(NAME)\n", "controller.py": controller}
    written = windows_only_imports(files)
    assert set(written) == {"controller.py"}
    for path, data in files.items():
        (tmp_path / path).write_bytes(data)
    _write_missing(tmp_path, files, "main.py")
    ran = subprocess.run(
        [sys.executable, "main.py"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert ran.stdout == "travel\n", ran.stderr
    used = {"controller.py": b"import msvcrt\nmsvcrt.getch()\n"}
    assert windows_only_imports(used) == {}


def test_a_flask_sqlalchemy_apps_sqlite_folder_is_made_where_it_reads_the_path_from() -> None:
    """avegap23's crud-flask: ``DATABASE_URL=sqlite:///instance/bbdd.sqlite`` for its
    ``Flask(__name__, instance_relative_config=True)`` in ``app/__init__.py``;
    Flask-SQLAlchemy 3 opened it under the instance folder, ``instance/instance/``, which
    nobody made ("unable to open database file"); before 3.0, under the app's package."""
    files = {
        ".env.example": b"DATABASE_URL=sqlite:///instance/bbdd.sqlite\n",
        "app/__init__.py": b"from flask import Flask\nfrom .extensions import db\n"
        b"app = Flask(__name__, instance_relative_config=True)\n",
        "app/extensions.py": b"from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n",
        "run.py": b"from app import app\n",
    }
    found = run_folders(files)
    assert {"instance/.gitkeep", "instance/instance/.gitkeep", "app/instance/.gitkeep"} <= set(
        found
    )
    plain = {**files, "app/extensions.py": b"import sqlite3\n"}  # no Flask-SQLAlchemy
    assert "instance/instance/.gitkeep" not in run_folders(plain)


def test_a_gitignored_name_the_code_opens_as_a_file_is_no_folder() -> None:
    """RamiroPintos' Flask-EventPage: its .gitignore lists logfile and mail_logfile, which
    exceptions.py opens (``open('logfile', 'a')``); made as folders, open() refused them
    ("IsADirectoryError: … 'logfile'"). A name opened as a file is none; one the code
    writes in (``logs/app.log``) still is."""
    files = {
        ".gitignore": b"logfile\nmail_logfile\nlogs/\n",
        "exceptions.py": b"def log(e):\n    with open('logfile', 'a') as file:\n"
        b"        file.write(str(e))\n"
        b"logging.basicConfig(filename='mail_logfile')\n"
        b"handler = logging.FileHandler('logs/app.log')\n",
    }
    assert list(run_folders(files)) == ["logs/.gitkeep"]


def test_the_folders_its_code_hands_to_what_refuses_a_missing_one() -> None:
    """Starlette's StaticFiles and fastapi-mail's TEMPLATE_FOLDER refuse a folder that is
    not there; git keeps no empty one (yanliu1111's fastapi-crud-app: "Path does not point
    to a directory"). Not where StaticFiles is told not to check, nor one the upload has."""
    files = {
        "src/mail.py": b"""
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent
mail_config = ConnectionConfig(MAIL_PORT=587, TEMPLATE_FOLDER=Path(BASE_DIR, "templates"))
""",
        "main.py": b"""
import os
app.mount("/static", StaticFiles(directory="static"), name="static")
app.mount("/media", StaticFiles(directory=os.path.join("data", "media")))
app.mount("/cache", StaticFiles(directory="cache", check_dir=False))
app.mount("/kept", StaticFiles(directory="kept"))
app.mount("/", StaticFiles(directory="frontend/dist", html=True))  # its build makes it
""",
        "kept/index.html": b"",
        # beside the module: its author ran it in api/ (an empty one at the root would hide it)
        "api/main.py": b'app.mount("/assets", StaticFiles(directory="assets"))\n',
        "api/assets/home.html": b"",
    }
    assert run_folders(files) == {
        "src/templates/.gitkeep": "src/mail.py gives it as TEMPLATE_FOLDER",
        "static/.gitkeep": "main.py serves it with StaticFiles",
        "data/media/.gitkeep": "main.py serves it with StaticFiles",
    }


def test_a_folder_named_from_the_repositorys_root_gets_the_uploads_files(
    tmp_path: Path,
) -> None:
    """Halliday27's fastapi-coffee-shop runs as ``uvicorn backend.app.main:app`` from its
    repository's root, its code naming ``backend/templates`` and ``backend/static``; the
    upload is ``backend/`` alone: "TemplateNotFound: 'kitchen.html' not found in search
    path: 'backend/templates'". The folders it names get the files of the upload's own
    ``templates/`` and ``static/``; a folder the upload has, or whose first name is one of
    the upload's, or whose rest it lacks, gets none."""
    main = b"""from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
app.mount("/static", StaticFiles(directory="backend/static"), name="static")
templates = Jinja2Templates(directory="backend/templates")
other = Jinja2Templates(directory="app/templates")
missing = Jinja2Templates("frontend/views")
"""
    files = {
        "app/main.py": main,
        "templates/kitchen.html": b"<h1>{{ orders }} orders</h1>",
        "static/coffee.css": b"h1 {}",
        "requirements.txt": b"fastapi\njinja2\n",
    }
    assert root_named_folders(files) == {
        "backend/templates/kitchen.html": "templates/kitchen.html",
        "backend/static/coffee.css": "static/coffee.css",
    }
    _write_missing(tmp_path, files, "app/main.py")
    loader = jinja2.FileSystemLoader(str(tmp_path / "backend/templates"))
    page = jinja2.Environment(loader=loader).get_template("kitchen.html").render(orders=3)
    assert page == "<h1>3 orders</h1>"
    assert root_named_folders({**files, "backend/templates/kitchen.html": b""}) == {}


def test_the_folders_of_the_fixture_app_are_read() -> None:
    root = APPS / "fastapi_run_folders"
    files = {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert set(run_folders(files)) == {
        "logs/.gitkeep",
        "data/.gitkeep",
        "uploads/.gitkeep",
        "uploads/avatars/.gitkeep",
        "static/.gitkeep",  # its StaticFiles' folder
    }


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
    # Poetry's own table names it too (tianananta's exercise-fastapi: ``[tool.poetry]
    # name = "exercise"``, ``metadata.version("exercise")`` for its OpenAPI document).
    poetry = b'[tool.poetry]\nname = "exercise"\nversion = "0.1.0"\n'
    reads = b"from importlib import metadata\nV = metadata.version('exercise')\n"
    found_poetry = own_metadata({"pyproject.toml": poetry, "exercise/web/app.py": reads})
    assert list(found_poetry) == ["exercise-0.1.0.dist-info/METADATA"]


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


def test_the_settings_file_a_flask_app_loads_from_its_ignored_instance_folder(
    tmp_path: Path,
) -> None:
    """huudy's flask-rest-api: ``Flask(__name__, instance_relative_config=True)``, then
    ``from_pyfile("config.py")`` of its .gitignored instance/: every import failed. Written
    empty, the app loads (its defaults are those ``from_object`` gave)."""
    files = {path: text.encode() for path, text in app_files("flask_instance_config").items()}
    assert instance_files(files) == ["instance/config.py"]
    for path, data in files.items():
        (tmp_path / path).write_bytes(data)
    load = [sys.executable, "-c", "from app import app; print(app.config['DEBUG'])"]
    refused = subprocess.run(load, cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode != 0 and "instance" in refused.stderr
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_bytes(b"")
    loaded = subprocess.run(load, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "True"
    # A package's instance folder is beside the package; a module's own folder without
    # instance_relative_config; none loaded silently, nor one the upload has.
    package = b"from flask import Flask\napp = Flask(__name__, instance_relative_config=True)\n"
    made = {
        "pkg/__init__.py": package + b"app.config.from_pyfile('settings.cfg')\n",
        "web/app.py": b"from flask import Flask\napp = Flask(__name__)\n"
        b"app.config.from_pyfile('local.py')\napp.config.from_pyfile('x.py', silent=True)\n",
        "kept/app.py": b"from flask import Flask\napp = Flask(__name__)\n"
        b"app.config.from_pyfile('config.py')\n",
        "kept/config.py": b"",
    }
    assert instance_files(made) == ["instance/settings.cfg", "web/local.py"]


async def test_the_names_its_code_imports_from_its_instance_settings_are_written(
    builder_service: Service,
) -> None:
    """luke-grammer's secure-login-flask-site: ``from instance.config import PASSWORD_SALT,
    MAIL_PASSWORD`` of its .gitignored instance/config.py, which it also loads with
    ``from_pyfile``; written empty: "cannot import name 'PASSWORD_SALT'". Its SECRET_KEY,
    which no module of it names, the file's too (its CSRF: "A secret key is required")."""
    files = app_files("flask_instance_config")
    imported = "from instance.config import MAIL_PASSWORD, PASSWORD_SALT  # noqa: E402\n\n\n"
    answer = '{"salt": bool(PASSWORD_SALT), "mail": MAIL_PASSWORD, "secret": bool(app.secret_key)}'
    app = files["app.py"].replace('@app.route("/")', imported + '@app.route("/")')
    files["app.py"] = app.replace('{"debug": app.config["DEBUG"]}', answer)
    encoded = {path: text.encode() for path, text in files.items()}
    assert instance_names(encoded, instance_files(encoded)) == {
        "instance/config.py": ("MAIL_PASSWORD", "PASSWORD_SALT", "SECRET_KEY")
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await builder_service.app_get(body, "/")).json()
        assert answer["salt"] is True and isinstance(answer["mail"], str)
        assert answer["secret"] is True
        assert (await builder_service.stop(body["gid"])).status_code == 200


def test_a_django_settings_local_module_it_lacks_is_written_with_databases(
    tmp_path: Path,
) -> None:
    """aamishbaloch's django-rest-jwt sets no DATABASES: its settings end with ``try: from
    django_rest_jwt.local_settings import *`` (.gitignored; its README has its reader
    write DATABASES there): "settings.DATABASES is improperly configured" at migrate. The
    module is written with DATABASES from the preview's URL; the settings load them."""
    settings = (
        b"import os\nDEBUG = True\ntry:\n    from proj.local_settings import *\n"
        b"except ImportError:\n    pass\n"
    )
    manage = b"os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n"
    files = {"manage.py": manage, "proj/__init__.py": b"", "proj/settings.py": settings}
    assert django_local_settings(files) == {"proj/local_settings.py": "proj/settings.py"}
    for path, data in {**files, "proj/local_settings.py": LOCAL_DATABASES}.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(data)
    show = [sys.executable, "-c", "from proj import settings; print(settings.DATABASES)"]
    for url, expected in (
        ("postgresql://u:p%40ss@db:5433/app", "'ENGINE': 'django.db.backends.postgresql'"),
        ("postgresql://u:p%40ss@db:5433/app", "'PASSWORD': 'p@ss', 'HOST': 'db', 'PORT': '5433'"),
        (f"sqlite:///{tmp_path}/app.db", f"'NAME': '{tmp_path}/app.db'"),
    ):
        env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url}
        shown = subprocess.run(show, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert expected in shown.stdout, shown.stderr
    # Settings that set DATABASES themselves, or a module the upload has: nothing written.
    own = settings + b"DATABASES = {}\n"
    assert django_local_settings({**files, "proj/settings.py": own}) == {}
    assert django_local_settings({**files, "proj/local_settings.py": b"X = 1\n"}) == {}


def test_settings_that_allow_no_host_run_under_the_previews_module() -> None:
    """mari8i's drf-file-upload runs its test settings, which set neither DEBUG nor
    ALLOWED_HOSTS: under Django's defaults runserver refused to start ("You must set
    settings.ALLOWED_HOSTS if DEBUG is False"). The preview's module imports them whole
    and allows every host; settings that set either (or a module they star-import that
    the upload lacks, which may) are left as they are."""
    files = {p: t.encode() for p, t in app_files("django_no_hosts").items()}
    mended = django_preview_settings(files)
    assert mended is not None
    path, module, text = mended.path, mended.module, mended.text
    assert (path, module) == (f"{PREVIEW_SETTINGS}.py", PREVIEW_SETTINGS)
    assert b"from checks.settings import *" in text and b'ALLOWED_HOSTS = ["*"]' in text
    assert b"SECRET_KEY" not in text  # its own is set
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert found.values["DJANGO_SETTINGS_MODULE"] == PREVIEW_SETTINGS
    given = config_defaults(files, "manage.py", {"DJANGO_SETTINGS_MODULE": "x"}, {"PORT"})
    assert "DJANGO_SETTINGS_MODULE" not in given.values
    assert MissingFiles.read(files, "manage.py", (), None).plain_contents(files)[path] == text
    settings = files["checks/settings.py"]
    for more in (b"DEBUG = True\n", b"ALLOWED_HOSTS = ['x']\n", b"from .local import *\n"):
        more_set = {**files, "checks/settings.py": settings + more}
        assert _hosts_kept(django_preview_settings(more_set)), more
    off = {**files, "checks/settings.py": settings + b"DEBUG = False\n"}
    assert django_preview_settings(off) is not None


def _hosts_kept(mended: PreviewSettings | None) -> bool:
    """Whether the preview's module leaves the app's hosts as they are (or is not written)."""
    return mended is None or b"ALLOWED_HOSTS" not in mended.text


def test_hosts_read_as_a_variables_string_are_every_host() -> None:
    """Rissap's djangorest-shop: ``ALLOWED_HOSTS = os.getenv("ALLOWED_HOST")``, a string
    (or None unset) however it is given, which Django refuses at every command ("The
    ALLOWED_HOSTS setting must be a list or a tuple"). The preview's module allows every
    host; a split, a list, or a read whose default is a list are the app's."""
    manage = b'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n'
    settings = b'import os\nDEBUG = os.getenv("DEBUG")\nSECRET_KEY = "k"\n'
    files = {"manage.py": manage, "shop/__init__.py": b""}
    for read in (
        b'os.getenv("ALLOWED_HOST")',
        b'os.environ.get("ALLOWED_HOST", "localhost")',
        b'os.environ["ALLOWED_HOST"]',
    ):
        files["shop/settings.py"] = settings + b"ALLOWED_HOSTS = " + read + b"\n"
        mended = django_preview_settings(files)
        assert mended is not None and b'ALLOWED_HOSTS = ["*"]' in mended.text, read
        assert any("ALLOWED_HOST's string as read" in why for why in mended.why)
    for kept in (
        b'os.getenv("ALLOWED_HOST", "").split(",")',
        b'["localhost"]',
        b'os.environ.get("ALLOWED_HOST", ["*"])',
    ):
        files["shop/settings.py"] = settings + b"ALLOWED_HOSTS = " + kept + b"\n"
        assert _hosts_kept(django_preview_settings(files)), kept


def test_hosts_left_empty_beside_a_debug_not_literally_on_are_every_host() -> None:
    """umirzakovozodbek's django-cinema-API: ``ALLOWED_HOSTS = []`` (startproject's) and
    ``DEBUG = env('DEBUG')``, its example ``DEBUG=debug``, read as off: Django answered
    every call 400 (DisallowedHost). The preview's module allows every host; a literal
    ``DEBUG = True`` (which serves localhost), a host listed or one added are the app's."""
    manage = b'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "movie.settings")\n'
    settings = b'import environ\nenv = environ.Env()\nSECRET_KEY = "k"\nALLOWED_HOSTS = []\n'
    files = {"manage.py": manage, "movie/__init__.py": b""}
    files["movie/settings.py"] = settings + b'DEBUG = env("DEBUG")\n'
    mended = django_preview_settings(files)
    assert mended is not None and b'ALLOWED_HOSTS = ["*"]' in mended.text
    assert any("its ALLOWED_HOSTS is empty" in why for why in mended.why), mended.why
    for kept in (
        b"DEBUG = True\n",
        b'DEBUG = env("DEBUG")\nALLOWED_HOSTS = ["api.example.com"]\n',
        b'DEBUG = env("DEBUG")\nALLOWED_HOSTS += ["x"]\n',
    ):
        files["movie/settings.py"] = settings + kept
        assert _hosts_kept(django_preview_settings(files)), kept


def test_a_time_zone_named_in_another_case_is_set_in_the_zone_databases() -> None:
    """varunrele's django-assignment-arcitech: ``TIME_ZONE = 'Asia/kolkata'``, which its
    author's case-insensitive file system found; here Django refused every command
    ("Incorrect timezone setting: Asia/kolkata"). The preview's module sets
    ``Asia/Kolkata``; a zone named as it is, or no zone at all, is left as it is."""
    settings = (
        b'ALLOWED_HOSTS = ["*"]\nDEBUG = True\nSECRET_KEY = "k"\nTIME_ZONE = "Asia/kolkata"\n'
    )
    manage = b'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n'
    files = {"manage.py": manage, "shop/__init__.py": b"", "shop/settings.py": settings}
    mended = django_preview_settings(files)
    assert mended is not None
    assert b"TIME_ZONE = 'Asia/Kolkata'" in mended.text
    assert mended.why[0].startswith("its TIME_ZONE 'Asia/kolkata' names a zone in another case")
    for zone in (b'"Asia/Kolkata"', b'"Mars/Olympus"'):
        named = settings.replace(b'"Asia/kolkata"', zone)
        assert django_preview_settings({**files, "shop/settings.py": named}) is None


def test_settings_whose_secret_key_is_empty_run_with_a_throwaway_one(tmp_path: Path) -> None:
    """Ritvik-2002's Payment-DRF ships ``SECRET_KEY = ""``: Django refused every command
    ("The SECRET_KEY setting must not be empty"). The preview's module imports the settings
    whole (its hosts as they are) and sets a throwaway key; a key the settings read or
    import, or an empty one a star-imported module replaces, is left as it is."""
    settings = b'ALLOWED_HOSTS = ["example.org"]\nDEBUG = True\nSECRET_KEY = ""\nNAME = "pay"\n'
    manage = b'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pay.settings")\n'
    files = {"manage.py": manage, "pay/__init__.py": b"", "pay/settings.py": settings}
    mended = django_preview_settings(files)
    assert mended is not None and mended.path == f"{PREVIEW_SETTINGS}.py"
    assert [why.split(",")[0] for why in mended.why] == ["its settings leave SECRET_KEY empty"]
    for path, data in {**files, mended.path: mended.text}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    show = f"import {PREVIEW_SETTINGS} as s; print(bool(s.SECRET_KEY), s.ALLOWED_HOSTS, s.NAME)"
    shown = subprocess.run(
        [sys.executable, "-c", show], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert shown.stdout.split() == ["True", "['example.org']", "pay"], shown.stderr
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert found.values["DJANGO_SETTINGS_MODULE"] == PREVIEW_SETTINGS
    for own in (
        b'SECRET_KEY = os.environ.get("SECRET_KEY", "")\n',
        b"from .secrets import SECRET_KEY\n",
    ):
        kept = {**files, "pay/settings.py": settings + own, "pay/secrets.py": b"SECRET_KEY = 'x'"}
        assert django_preview_settings(kept) is None
    starred = {**files, "pay/settings.py": settings + b"from .local import *\n"}
    assert django_preview_settings({**starred, "pay/local.py": b"SECRET_KEY = 'k'\n"}) is None


async def test_an_app_whose_settings_allow_no_host_is_served(builder_service: Service) -> None:
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("django_no_hosts"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(builder_service, body, "/books/")
        assert answer["statusCode"] == 200 and answer["data"] == {"books": ["dune"], "debug": False}
        # DEBUG off and no logging of its own: a server error's traceback is printed
        # (jonwillcode's menjls-ecommerce-backend: three routes' 500s, not a line why).
        assert (await called(builder_service, body, "/shelves/"))["statusCode"] == 500
        said = messages(await builder_service.history(body["gid"]))
        assert any("LookupError: no such shelf" in m for m in said), said[-10:]
        assert (await builder_service.stop(body["gid"])).status_code == 200


def test_a_settings_module_left_out_is_written_as_startproject_writes_it() -> None:
    """davidvillard's drfbackendcheck ``.gitignore``s ``drf/settings.py``: every command died
    of "No module named 'drf.settings'". Written with its apps, the packages it uses, its
    user model; not where it has settings of its own, nor where no project's urls.py says
    what the settings would route."""
    files = {path: text.encode() for path, text in app_files("django_settings_left_out").items()}
    files["accounts/apps.py"] = b"from django.apps import AppConfig\n"
    files["accounts/models.py"] = (
        b"from django.contrib.auth.models import AbstractUser\n"
        b"class Member(AbstractUser):\n    pass\n"
    )
    files["shelf/filters.py"] = b"import django_filters\n"
    written = django_missing_settings(files)
    assert list(written) == ["shop/settings.py"]
    settings: dict[str, object] = {"__file__": "/srv/app/shop/settings.py"}
    exec(written["shop/settings.py"], settings)  # the text written, run as Django would
    assert settings["INSTALLED_APPS"] == [
        *(f"django.contrib.{name}" for name in ("admin", "auth", "contenttypes")),
        *(f"django.contrib.{name}" for name in ("sessions", "messages", "staticfiles")),
        "rest_framework",
        "django_filters",
        "accounts",
        "shelf",
    ]
    assert settings["AUTH_USER_MODEL"] == "accounts.Member"
    assert settings["ROOT_URLCONF"] == "shop.urls"
    assert settings["WSGI_APPLICATION"] == "shop.wsgi.application"
    assert str(settings["BASE_DIR"]) == "/srv/app"
    assert settings["ALLOWED_HOSTS"] == ["*"]
    own = {**files, "shop/settings.py": b"INSTALLED_APPS = []\n"}
    assert django_missing_settings(own) == {}
    renamed = {**files, "shop/settings_dev.py": b"INSTALLED_APPS = []\n"}
    assert django_missing_settings(renamed) == {}
    assert django_missing_settings({p: t for p, t in files.items() if p != "shop/urls.py"}) == {}


async def test_an_app_whose_settings_module_is_left_out_is_served(
    builder_service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("django_settings_left_out"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(builder_service, body, "/books/")
        # (its migrations ran on the preview's database: the table is there)
        assert answer["statusCode"] == 200 and answer["data"] == {"books": []}, answer
        said = messages(await builder_service.history(body["gid"]))
        assert any("no shop/settings.py, the Django settings module" in m for m in said)
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_static_files_under_a_manifest_never_collected_are_stored_plainly(
    builder_service: Service,
) -> None:
    """stevensimba's drfSwagger (django-heroku's whitenoise manifest storage, DEBUG off,
    no collectstatic run) answered 500 on each page naming a static file: "Missing
    staticfiles manifest entry". The preview's module stores them plainly."""
    files = app_files("django_manifest_static")
    mended = django_preview_settings({p: t.encode() for p, t in files.items()})
    assert mended is not None and b"StaticFilesStorage'" in mended.text
    heroku = b"import django_heroku\nDEBUG = False\ndjango_heroku.settings(locals())\n"
    assert b"STATICFILES_STORAGE" in _mended_text({"front/settings.py": heroku})
    storages = (
        b"STORAGES = {'staticfiles': {'BACKEND': 'x.CompressedManifestStaticFilesStorage'}}\n"
    )
    assert b"STORAGES = {**STORAGES" in _mended_text({"front/settings.py": storages})
    debugging = files["front/settings.py"].replace("DEBUG = False", "DEBUG = True")
    assert b"Storage" not in _mended_text({"front/settings.py": debugging.encode()})
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(builder_service, body, "/")
        assert answer["statusCode"] == 200, answer
        assert "/static/pages/app.css" in str(answer["data"])
        assert (await builder_service.stop(body["gid"])).status_code == 200


def _mended_text(settings: dict[str, bytes]) -> bytes:
    """The preview's settings module's text for the fixture's manage.py and ``settings``."""
    manage = b'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "front.settings")\n'
    mended = django_preview_settings({"manage.py": manage, **settings})
    return mended.text if mended is not None else b""


# Answers GET /secrets with the Docker secrets it read at start (yeisonipia48's ApiFastApi
# reads its database's account so, at import).
_SECRETS_READ = """
SECRETS = {"secret_key": open("/run/secrets/secret_key").read()}
SECRETS["api_token"] = open("/run/secrets/api_token").read()
class Secrets(Handler):
    def do_GET(self):
        body = json.dumps({name: len(value) for name, value in SECRETS.items()}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Secrets
"""


async def test_docker_secrets_it_reads_are_in_run_secrets(builder_service: Service) -> None:
    """yeisonipia48's ApiFastApi opens ``/run/secrets/postgres_user`` … at import (a swarm
    stack's external secrets): "No such file or directory". Each secret it reads is there,
    given as a variable of its name would be (a throwaway where nothing gives one)."""
    require_sandbox(builder_service)
    files = server_app(before_serving="import json\n" + _SECRETS_READ)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files, command=SERVER_COMMAND)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(builder_service, body, "/secrets")
        assert answer["statusCode"] == 200, answer
        lengths = json.loads(answer["data"]) if isinstance(answer["data"], str) else answer["data"]
        assert sorted(lengths) == ["api_token", "secret_key"], answer
        assert all(length >= 16 for length in lengths.values()), lengths
        said = messages(await builder_service.history(body["gid"]))
        assert any("its Docker secrets api_token, secret_key" in m for m in said), said[-5:]
        assert (await builder_service.stop(body["gid"])).status_code == 200


def test_a_local_settings_module_gives_the_names_the_settings_read_and_never_set(
    tmp_path: Path,
) -> None:
    """PeymanNr's Drf-Blog: its settings star-import ``Blog/local_settings.py``
    (.gitignored) and build DATABASES from DB_NAME, DB_USER … and never set SECRET_KEY;
    migrate died on "No module named 'Blog.local_settings'". The module is written with
    what the service gives variables of those names; a name another module they
    star-import sets is that module's."""
    settings = (
        b"from pathlib import Path\nfrom .base import *\nfrom .local_settings import *\n"
        b"BASE_DIR = Path(__file__).resolve().parent.parent\n"
        b"DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': DB_NAME,"
        b" 'USER': DB_USER, 'HOST': DB_HOST, 'PORT': DB_PORT}}\n"
        b"if DEBUG:\n    INSTALLED_APPS = [a for a in APPS]\n"
    )
    manage = b"os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'Blog.settings')\n"
    files = {
        "manage.py": manage,
        "Blog/__init__.py": b"",
        "Blog/settings.py": settings,
        "Blog/base.py": b"APPS = ['blog']\n",
    }
    assert django_local_settings(files) == {}  # it sets DATABASES itself
    names = ("DB_HOST", "DB_NAME", "DB_PORT", "DB_USER", "DEBUG", "SECRET_KEY")
    assert django_local_names(files) == {"Blog/local_settings.py": names}
    served = {"DB_HOST": "127.0.0.1", "DB_PORT": "5432", "DB_NAME": "d", "DB_USER": "u"}
    values = named_values(files, "manage.py", {}, served, list(names))
    written = {**files, "Blog/local_settings.py": local_names_text(names, values)}
    for path, data in written.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(data)
    show = "from Blog import settings as s; print(s.DATABASES['default'], len(s.SECRET_KEY))"
    shown = subprocess.run(
        [sys.executable, "-c", show], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert "'NAME': 'd', 'USER': 'u', 'HOST': '127.0.0.1', 'PORT': 5432}" in shown.stdout, shown
    assert int(shown.stdout.split()[-1]) >= 32  # a throwaway secret
    # The module itself in the upload: nothing to write.
    assert django_local_names({**files, "Blog/local_settings.py": b"DB_NAME = 'x'\n"}) == {}


def test_a_module_the_settings_import_by_name_and_lack_gives_what_they_read(
    tmp_path: Path,
) -> None:
    """DRF-News' DRF-SpartaNews: ``from . import config`` in its settings, then
    ``config.OPENAI_API_KEY``; its ``DRF_SpartarNews/config.py`` is .gitignored, and
    migrate died on "cannot import name 'config' from 'DRF_SpartarNews'". The module is
    written giving what they read (``from .keys import SECRET_KEY``: that name)."""
    settings = (
        b"from . import config\nfrom .keys import SECRET_KEY\n"
        b"OPENAI_API_KEY = config.OPENAI_API_KEY\nDEBUG = True\n"
    )
    manage = b"os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'News.settings')\n"
    files = {"manage.py": manage, "News/__init__.py": b"", "News/settings.py": settings}
    found = django_local_names(files)
    assert found == {"News/config.py": ("OPENAI_API_KEY",), "News/keys.py": ("SECRET_KEY",)}
    values = named_values(files, "manage.py", {}, {}, ["OPENAI_API_KEY", "SECRET_KEY"])
    written = {**files, **{t: local_names_text(n, values) for t, n in found.items()}}
    for path, data in written.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(data)
    show = "from News import settings as s; print(type(s.OPENAI_API_KEY).__name__, s.DEBUG)"
    shown = subprocess.run(
        [sys.executable, "-c", show], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert shown.stdout.split() == ["str", "True"], shown
    # The module itself in the upload: nothing to write.
    own = {**files, "News/config.py": b"OPENAI_API_KEY = 'k'\n", "News/keys.py": b""}
    assert django_local_names(own) == {}


def test_a_database_uri_left_as_a_placeholder_is_the_silently_loaded_files_to_give() -> None:
    """darkr4m's flask-pg-school: ``SQLALCHEMY_DATABASE_URI = 'REDACTED'`` in its
    ``from_mapping``, then ``from_pyfile('config.py', silent=True)`` from its instance
    folder, kept out of its repository: "Could not parse SQLAlchemy URL from string
    'REDACTED'". That file is written, giving the URI; a real URL in the code, or a silent
    load beside none, writes nothing."""
    factory = (
        b"from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
        b"def create_app(test_config=None):\n"
        b"    app = Flask(__name__, instance_relative_config=True)\n"
        b"    app.config.from_mapping(SECRET_KEY='dev', SQLALCHEMY_DATABASE_URI = 'REDACTED')\n"
        b"    app.config.from_pyfile('config.py', silent=True)\n    return app\n"
    )
    files = {"flaskr/__init__.py": factory, "app.py": b"from flaskr import create_app\n"}
    assert instance_files(files) == ["instance/config.py"]
    assert instance_names(files, ["instance/config.py"]) == {
        "instance/config.py": ("SQLALCHEMY_DATABASE_URI",)
    }
    real = factory.replace(b"'REDACTED'", b"'postgresql://u:p@db/school'")
    assert instance_files({**files, "flaskr/__init__.py": real}) == []


def test_databases_a_lacking_module_gives_the_settings_are_the_served_databases(
    tmp_path: Path,
) -> None:
    """kim-hoontae's drf-assignment7: ``from env import SECRET_KEY, DATABASES, ALGORITHM``
    in its settings, env.py left out of its repository; its DATABASES written as a string,
    Django died on "You must define a 'default' database". The served database's instead
    (DATABASE_URL), the other names as before."""
    settings = b"from env import SECRET_KEY, DATABASES, ALGORITHM\nDEBUG = True\n"
    manage = b"os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
    files = {"manage.py": manage, "config/__init__.py": b"", "config/settings.py": settings}
    files[".gitignore"] = b".env\nenv/\nenv.py\n"
    found = kept_out_module_names(files)
    assert found == {"env.py": ("ALGORITHM", "DATABASES", "SECRET_KEY")}
    # A module of the standard library is none of the app's (LeoFernanndes's django-tests:
    # a uuid.py written for ``from uuid import UUID`` shadowed it, opentelemetry's
    # ``from uuid import uuid4`` failing).
    stdlib = {**files, "users/models.py": b"from uuid import UUID\n", ".gitignore": b"*.py\n"}
    assert "uuid.py" not in kept_out_module_names(stdlib)
    names = found["env.py"]
    values = named_values(files, "manage.py", {}, {}, list(names))
    written = {**files, "env.py": local_names_text(names, values)}
    for path, data in written.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(data)
    show = "from config import settings as s; print(s.DATABASES['default']['ENGINE'], s.DEBUG)"
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": "mysql://u:p@127.0.0.1:3306/shop"}
    shown = subprocess.run(
        [sys.executable, "-c", show],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert shown.stdout.split() == ["django.db.backends.mysql", "True"], shown


def test_a_settings_module_a_flask_app_loads_by_name_and_lacks_is_written() -> None:
    """yujunje11526061's LearnFlask loads ``app.config.from_object("app.secure_setting")``,
    never committed (its database and secret): "import_string() failed for
    'app.secure_setting'". Written with what Flask and Flask-SQLAlchemy need and the
    settings its code reads that nothing sets; a class of a module, or of its own package,
    and a module it has, are no such module."""
    factory = (
        b"from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n"
        b"def create_app():\n    app = Flask(__name__)\n"
        b"    app.config.from_object('app.config')\n"
        b"    app.config.from_object('app.secure_setting')\n"
        b"    app.config['JSON_SORT_KEYS'] = False\n    return app\n"
    )
    view = b"from flask import current_app\nn = current_app.config['PER_PAGE']\n"
    view += b"m = current_app.config.get('MAIL_SENDER')\nk = current_app.config['JSON_SORT_KEYS']\n"
    files = {
        "app/__init__.py": factory,
        "app/config.py": b"PER_PAGE = 15\n",
        "app/web/book.py": view,
    }
    assert kept_out_module_names(files) == {
        "app/secure_setting.py": ("MAIL_SENDER", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI")
    }
    classes = factory.replace(b"'app.secure_setting'", b"'config.DevelopmentConfig'")
    assert kept_out_module_names({**files, "app/__init__.py": classes}) == {}
    files["config/__init__.py"] = b"class DevelopmentConfig:\n    DEBUG = True\n"
    assert kept_out_module_names({**files, "app/__init__.py": classes}) == {}
    # A switch the service gives as "true" is a bool there (Flask-Mail's int(app.debug)
    # refused the string).
    text = local_names_text(("DEBUG", "PER_PAGE"), {"DEBUG": "true", "PER_PAGE": "15"})
    assert b"DEBUG = True\n" in text and b"PER_PAGE = 15\n" in text


def test_a_settings_file_the_code_loads_and_lacks_is_written_from_its_keys_read() -> None:
    """qudwn1114's drf-jwt: every setting read from ./config/conf.yaml, .gitignored, no
    example of it; migrate died on FileNotFoundError. The keys read say what it holds:
    the served database's parts under DATABASE, a throwaway secret, DEBUG on, every host."""
    import yaml

    files = {p: t.encode() for p, t in app_files("django_yaml_settings_file").items()}
    found = settings_files(files)
    assert list(found) == ["config/conf.yaml"]
    keys = found["config/conf.yaml"]
    assert keys["DATABASE_HOST"] == ("DATABASE", "HOST") and keys["SECRET_KEY"] == ("SECRET_KEY",)
    assert keys["EMAIL_HOST_USER"] == ("EMAILS", "EMAIL_HOST_USER")  # a key of its own name
    served = {"DB_HOST": "127.0.0.1", "DB_PORT": "5432", "DB_NAME": "d", "DB_USER": "u"}
    served |= {"DB_PASSWORD": "p", "PGHOST": "127.0.0.1", "PGPORT": "5432", "PORT": "8000"}
    values = named_values(files, "manage.py", {}, served, list(keys))
    written = yaml.safe_load(settings_text(keys, values))
    database = written["DATABASE"]
    assert database["ENGINE"] == "django.db.backends.postgresql" and database["PORT"] == 5432
    assert (database["HOST"], database["USER"], database["PASSWORD"]) == ("127.0.0.1", "u", "p")
    assert written["DEBUG"] is True and written["ALLOWED_HOSTS"] == "*"
    assert len(written["SECRET_KEY"]) >= 32 and written["BROKER"] == ""
    # Its example (copied instead), or the file itself, in the upload: nothing to write.
    assert settings_files({**files, "config/conf.yaml.example": b""}) == {}
    assert settings_files({**files, "config/conf.yaml": b"DEBUG: true"}) == {}


def test_a_settings_files_keys_read_through_a_name_bound_to_its_part_are_its() -> None:
    """gangjoohyeong's board-restapi-fastapi: ``DB = conf['DATABASE']`` then ``DB['USER']``,
    ``DB['HOST']`` …, env.yaml git-ignored; DATABASE was written as a string ("string
    indices must be integers")."""
    app = b"""import yaml
with open('env.yaml', 'r') as yaml_conf:
    conf = yaml.safe_load(yaml_conf)
DB = conf['DATABASE']
db_user = DB['USER']
db_port = DB['PORT']
secret = conf['SECRET']
"""
    found = settings_files({"database.py": app, ".gitignore": b"env.yaml\n"})
    assert found == {
        "env.yaml": {
            "DATABASE_USER": ("DATABASE", "USER"),
            "DATABASE_PORT": ("DATABASE", "PORT"),
            "SECRET": ("SECRET",),
        }
    }


def test_an_ini_file_a_django_setting_names_is_written_from_its_keys_read() -> None:
    """asifpy's django-quickstart: its base settings name ``CONFIG_PATH =
    os.path.join(BASE_DIR, 'config.ini')`` (git-ignored), its social-auth settings read
    ``parser.read(settings.CONFIG_PATH)`` then ``parser.get('GITHUB_SOCIAL_AUTH',
    'GITHUB_KEY')``: configparser.NoSectionError at migrate."""
    base = b"""import os
BASE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG_PATH = os.path.join(BASE_DIR, 'config.ini')
"""
    social = b"""from configparser import SafeConfigParser
from django.conf import settings
parser = SafeConfigParser()
parser.read(settings.CONFIG_PATH)
SOCIAL_AUTH_GITHUB_KEY = parser.get('GITHUB_SOCIAL_AUTH', 'GITHUB_KEY')
"""
    files = {
        "site_quick/settings/base.py": base,
        "site_quick/settings/socialauth_settings.py": social,
        ".gitignore": b"config.ini\n",
    }
    found = settings_files(files)
    assert found == {"config.ini": {"GITHUB_KEY": ("GITHUB_SOCIAL_AUTH", "GITHUB_KEY")}}, found


def test_a_settings_file_loaded_into_an_annotated_name_is_written_from_its_keys_read() -> None:
    """Bars-377's schedule-fastapi: ``CONFIG: dict[str, Any] = json.load(f)`` and then
    ``CONFIG["mysql"]["host"]``; its config.json was written without them ("KeyError:
    'mysql'")."""
    app = b"""
import json
from typing import Any
with open("config.json", encoding="utf-8") as f:
    CONFIG: dict[str, Any] = json.load(f)
MYSQL = {"host": CONFIG["mysql"]["host"], "db": CONFIG["mysql"]["database"]}
"""
    found = settings_files({"lifespan_manager.py": app, ".gitignore": b"config.json\n"})
    assert found == {
        "config.json": {
            "MYSQL_HOST": ("mysql", "host"),
            "MYSQL_DATABASE": ("mysql", "database"),
        }
    }


def test_a_settings_file_opened_in_the_loading_call_is_written_from_its_keys_read() -> None:
    """PIN-devel's drf-mariadb-CRUDexample: ``secrets = json.loads(open('secrets.json',
    'r').read())`` in its settings, then ``secrets['SECRET_KEY']`` and
    ``secrets['DATABASE_PASSWORD']``; the file .gitignored, migrate died on
    FileNotFoundError. ``json.load(open(…))`` alike."""
    settings = b"""
import os, json
secrets = json.loads(open('secrets.json','r').read())
SECRET_KEY = secrets['SECRET_KEY']
DATABASES = {'default': {'PASSWORD': secrets['DATABASE_PASSWORD']}}
"""
    files = {"site/settings.py": settings, ".gitignore": b"venv\nsecrets.json\n"}
    expected = {
        "secrets.json": {
            "DATABASE_PASSWORD": ("DATABASE_PASSWORD",),
            "SECRET_KEY": ("SECRET_KEY",),
        }
    }
    assert settings_files(files) == expected
    loaded = settings.replace(
        b"json.loads(open('secrets.json','r').read())", b"json.load(open('secrets.json'))"
    )
    assert settings_files({**files, "site/settings.py": loaded}) == expected


def test_an_ini_file_configparser_reads_and_the_upload_lacks_is_written() -> None:
    """TMCreme's drf-image-uploader: settings.py reads ``config.ini`` beside it with
    ``configparser`` (which skips a missing file) and then ``config["MAIN_SETTINGS"]
    ["secret_key"]``; the file is .gitignored, so ``migrate`` died on KeyError. Its
    sections and keys read (``.get("S", "k")`` too, in any module reading it) are written
    as INI, each filled in as the variable its name spells."""
    import configparser

    settings = b"""
import configparser
import os
config = configparser.ConfigParser()
config.read(os.path.join(os.path.dirname(os.path.abspath(__file__)), "config.ini"))
SECRET_KEY = config["MAIN_SETTINGS"]['secret_key']
DEBUG = config.getboolean("MAIN_SETTINGS", "debug")
"""
    utils = b"""
import configparser, os
def bucket():
    config = configparser.ConfigParser()
    config.read(os.path.join(os.path.dirname(__file__), "../proj/config.ini"))
    return config["AWS_CREDENTIALS"]["AWS_STORAGE_BUCKET_NAME"], config.get("a")
"""
    files = {"manage.py": b"", "proj/settings.py": settings, "home/utils.py": utils}
    found = settings_files(files)
    assert found == {
        "proj/config.ini": {
            "SECRET_KEY": ("MAIN_SETTINGS", "secret_key"),
            "DEBUG": ("MAIN_SETTINGS", "debug"),
            "AWS_STORAGE_BUCKET_NAME": ("AWS_CREDENTIALS", "AWS_STORAGE_BUCKET_NAME"),
        }
    }
    keys = found["proj/config.ini"]
    values = named_values(files, "manage.py", {}, {}, list(keys))
    parser = configparser.ConfigParser()
    parser.read_string(settings_text(keys, values, "proj/config.ini").decode())
    assert len(parser["MAIN_SETTINGS"]["secret_key"]) >= 32
    assert parser.getboolean("MAIN_SETTINGS", "debug") is True
    assert parser["AWS_CREDENTIALS"]["AWS_STORAGE_BUCKET_NAME"] == ""
    # In the upload, or read with no key of it: nothing to write.
    assert settings_files({**files, "proj/config.ini": b"[MAIN_SETTINGS]\n"}) == {}
    assert settings_files({"proj/settings.py": settings.split(b"SECRET_KEY")[0]}) == {}


def test_a_properties_file_configparser_reads_is_ini_its_database_section_the_served() -> None:
    """hdupre's auto-auction-flask-api reads ``application.properties`` (its .gitignore
    keeps it out) with ``configparser``: ``config.get('db', 'host')``, ``'passwd'``,
    ``'auto_db'`` (its database's name) at import: "NoSectionError: No section: 'db'". It
    is written as INI, each key of its ``[db]`` section the served database's part."""
    import configparser

    app = b"""
import configparser, os
script_dir = os.path.dirname(os.path.realpath(__file__))
config = configparser.ConfigParser()
config.read(os.path.join(script_dir, 'application.properties'))
host = config.get('db', 'host')
passwd = config.get('db', 'passwd')
auto_db = config.get('db', 'auto_db')
secret = config.get('app', 'secret_key')
"""
    files = {"app.py": app, ".gitignore": b"/application.properties\n"}
    keys = settings_files(files)["application.properties"]
    assert set(keys) == {"DB_HOST", "DB_PASSWD", "DB_AUTO_DB", "SECRET_KEY"}
    served = "postgresql://preview:pw@localhost:5432/appdb"
    provided = {"DATABASE_URL": served, "PGHOST": "localhost", "PGPORT": "5432"}
    provided |= {"PGUSER": "preview", "PGPASSWORD": "pw", "PGDATABASE": "appdb"}
    values = named_values(files, "app.py", {}, provided, list(keys))
    parser = configparser.ConfigParser()
    parser.read_string(settings_text(keys, values, "application.properties").decode())
    assert dict(parser["db"]) == {"host": "localhost", "passwd": "pw", "auto_db": "appdb"}
    assert len(parser["app"]["secret_key"]) >= 32


def test_a_git_ignored_settings_file_loaded_whole_is_written_empty() -> None:
    """burkee75's flask-weather-app opens ``config.yaml`` at import (``yaml.load``),
    reads no key of it any more (its reads are comments), and its .gitignore names it:
    FileNotFoundError. A file its .gitignore keeps out is written as an empty mapping;
    one it does not name (data the app may make itself) is left alone."""
    import yaml

    app = b"""
import yaml
with open('config.yaml', 'r') as file:
    config = yaml.load(file, Loader=yaml.FullLoader)
"""
    files = {"weather_app.py": app, ".gitignore": b"#config file\nconfig.yaml\n"}
    assert settings_files(files) == {"config.yaml": {}}
    assert yaml.safe_load(settings_text({}, {}, "config.yaml")) == {}
    assert settings_files({**files, ".gitignore": b"__pycache__/\n"}) == {}


def test_a_settings_module_node_code_requires_and_git_ignores_is_written_as_json(
    tmp_path: Path,
) -> None:
    """myxtl's koa-mall: ``const config = require('../config/oss')`` in a controller, its
    .gitignore naming ``/config/oss.js``, no example: "Cannot find module '../config/oss'"
    as the app started. What the code reads of it are its keys; require finds the JSON."""
    controller = (
        b"const config = require('../config/oss');\n"
        b"const { region } = require('../config/oss');\n"
        b"exports.sign = () => config.accessKeySecret + config.bucket + region;\n"
    )
    files = {
        ".gitignore": b"/node_modules\n/config/oss.js\n",
        "controllers/common.js": controller,
        "config/default.js": b"module.exports = {};\n",
    }
    found = node_settings_modules(files)
    assert found == {
        "config/oss.json": {
            "ACCESS_KEY_SECRET": ("accessKeySecret",),
            "BUCKET": ("bucket",),
            "REGION": ("region",),
        }
    }
    values = named_values(files, "package.json", {}, {}, list(found["config/oss.json"]))
    (tmp_path / "config").mkdir()
    (tmp_path / "controllers").mkdir()
    (tmp_path / "config/oss.json").write_bytes(settings_text(found["config/oss.json"], values))
    (tmp_path / "controllers/common.js").write_bytes(controller)
    run = ["node", "-e", "console.log(typeof require('./controllers/common').sign())"]
    shown = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert shown.stdout.strip() == "string", shown.stderr
    # Not ignored, in the upload, or with an example beside it: nothing written.
    assert node_settings_modules({**files, ".gitignore": b"/node_modules\n"}) == {}
    assert node_settings_modules({**files, "config/oss.js": b""}) == {}
    assert node_settings_modules({**files, "config/oss.example.js": b""}) == {}
    # jangjy0105's undergroundClientBackend ignores /db.js, its mysql2 connection, whose
    # members it calls (``connection.connect(…)``): code, which no settings file is.
    connection = b"const connection = require('./db')\nconnection.connect(() => {})\n"
    routes = b"const connection = require('../db')\nconst host = connection.host\n"
    ignored = {".gitignore": b"/node_modules\n/db.js\n", "routes/api.js": routes}
    assert node_settings_modules({**ignored, "index.js": connection}) == {}
    assert node_settings_modules(ignored) == {"db.json": {"HOST": ("host",)}}
    # Its name alone in the .gitignore names it in any folder.
    assert list(node_settings_modules({**files, ".gitignore": b"oss.js\n"})) == ["config/oss.json"]


def test_a_settings_module_never_committed_read_by_its_members_is_written() -> None:
    """HellMenDos' ExpressGraphql: ``const config = require('../config')`` in a dozen
    modules, then ``config.DB_NAME`` …, and no config.js committed, though its .gitignore
    does not name one: "Cannot find module '../config'". A module by a settings name,
    read by its members alone, is written; not one of another name, nor one only passed
    on whole."""
    files = {
        "utils/db.js": (
            b"const config = require('../config')\nconnect(config.DB_NAME, config.DB_HOST)\n"
        ),
        "index.js": b"const config = require('./config')\nlisten(config.PORT)\n",
    }
    assert node_settings_modules(files) == {
        "config.json": {"DB_NAME": ("DB_NAME",), "DB_HOST": ("DB_HOST",), "PORT": ("PORT",)}
    }
    other = {"utils/db.js": b"const db = require('../database')\nconnect(db.NAME)\n"}
    assert node_settings_modules(other) == {}
    whole = {"app.js": b"const config = require('./config')\nsetup(config)\n"}
    assert node_settings_modules(whole) == {}


def test_a_settings_module_a_gitignore_pattern_keeps_out_is_written_as_required() -> None:
    """RomainVandemaele's ExpressHeroku: ``const { SENDGRID_API_KEY2 } =
    require('./sendGrid.js')``, its .gitignore's ``sendgrid.*`` (its author's file system
    ignoring case): "Cannot find module './sendGrid.js'". Matched as git matched it there,
    and written as the module required by its name with the extension, not JSON beside."""
    files = {
        ".gitignore": b"node_modules/*\nsendgrid.*\n",
        "queries.js": b"const { SENDGRID_API_KEY2 } = require('./sendGrid.js')\n",
    }
    found = node_settings_modules(files)
    assert found == {"sendGrid.js": {"SENDGRID_API_KEY2": ("SENDGRID_API_KEY2",)}}
    text = settings_text(found["sendGrid.js"], {"SENDGRID_API_KEY2": "SG.key"}, "sendGrid.js")
    assert text == b'module.exports = {\n  "SENDGRID_API_KEY2": "SG.key"\n};\n'
    assert node_settings_modules({**files, ".gitignore": b"node_modules/*\n"}) == {}


def test_a_constants_module_typescript_imports_and_git_ignores_is_written() -> None:
    """sumitpore's articles-api-using-nestjs: ``import { SECRET } from '../config'`` in its
    middleware, ``import { BASEURL } from '../config'`` in a service, its .gitignore naming
    ``src/config.ts``, no example: "Cannot find module '../config'" as it started. Written
    as the TypeScript module of those constants, the service's values in it; not where a
    name is no constant's (a function of it cannot be made up)."""
    files = {
        ".gitignore": b"node_modules\nsrc/config.ts\n",
        "src/user/auth.middleware.ts": b"import { SECRET } from '../config';\n",
        "src/article/article.service.ts": b"import { BASEURL, SECRET as KEY } from '../config';\n",
    }
    found = node_settings_modules(files)
    assert found == {"src/config.ts": {"SECRET": ("SECRET",), "BASEURL": ("BASEURL",)}}
    values = named_values(files, "package.json", {}, {}, list(found["src/config.ts"]))
    text = settings_text(found["src/config.ts"], values, "src/config.ts").decode()
    assert 'export const BASEURL = "";\n' in text
    assert re.search(r'^export const SECRET = "[\w-]{32,}";$', text, re.M), text
    assert node_settings_modules({**files, "src/config.example.ts": b""}) == {}
    assert node_settings_modules({**files, "src/config.ts": b""}) == {}
    helper = {**files, "src/app.ts": b"import { makeConfig } from './config';\n"}
    assert node_settings_modules(helper) == {}


def test_an_object_of_settings_read_by_its_members_is_written_too() -> None:
    """Alexkalbitz's myserverNestJS: ``import { jwtConstants } from './constants'``, then
    ``jwtConstants.secret`` alone, its .gitignore naming ``constants.ts``: "Cannot find
    module '../modules/auth/constants'". Written as that object, its members the service's
    values; not where the object is used otherwise (passed on whole)."""
    module = b"import { jwtConstants } from './constants';\nconst key = jwtConstants.secret;\n"
    files = {
        ".gitignore": b"node_modules\nconstants.ts\n",
        "src/modules/auth/auth.module.ts": module,
        "src/helper.ts": b"import { jwtConstants as c } from './modules/auth/constants';\n"
        b"sign(payload, c.secret, { expiresIn: c.expiresIn });\n",
    }
    found = node_settings_modules(files)
    target = "src/modules/auth/constants.ts"
    assert found == {
        target: {"SECRET": ("jwtConstants", "secret"), "EXPIRES_IN": ("jwtConstants", "expiresIn")}
    }
    text = settings_text(found[target], {"SECRET": "s3", "EXPIRES_IN": "60"}, target).decode()
    assert text == 'export const jwtConstants = {"secret": "s3", "expiresIn": 60};\n'
    whole = {
        **files,
        "src/guard.ts": b"import { jwtConstants } from './modules/auth/constants';\n"
        b"register(jwtConstants);\n",
    }
    assert node_settings_modules(whole) == {}
    # A module importing it and never using it says nothing against it (its
    # list.controller.ts there).
    unused = {**files, "src/list.ts": b"import { jwtConstants } from './modules/auth/constants';\n"}
    assert node_settings_modules(unused) == found


def test_the_folders_of_the_log_files_node_code_opens_are_made() -> None:
    """lc-brito's node-express-api: ``pino.destination(`${__dirname}/../../logs/${level}.log`)``
    in adapters/log/Pino.mjs, no logs folder in the repository (nor in its .gitignore):
    "ENOENT: no such file or directory, open 'adapters/log/../../logs/emergency.log'", and
    the app never answered. So is a stream's ``createWriteStream('var/access.log')``."""
    root = APPS / "node_log_destination"
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    found = run_folders(files)
    assert sorted(found) == ["logs/.gitkeep", "var/.gitkeep"]
    assert found["logs/.gitkeep"].startswith("adapters/log/Pino.mjs opens a log file in it")
    assert run_folders({**files, "logs/.gitkeep": b""}) == {"var/.gitkeep": found["var/.gitkeep"]}


def test_the_folders_of_a_loggers_file_options_are_made() -> None:
    """blss-tico's fastify-webserver: ``require('./src/app')({logger: {file:
    './src/logs/server.log'}})``, its .gitignore keeping every ``*.log`` (and so the folder)
    out: pino's stream died on "ENOENT … open './src/logs/server.log'" before the app
    listened. So does pino's ``destination({dest: 'audit/trail.log'})``."""
    root = APPS / "node_logger_file_option"
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    found = run_folders(files)
    assert sorted(found) == ["audit/.gitkeep", "src/logs/.gitkeep"]
    assert found["src/logs/.gitkeep"] == (
        "server.js opens a log file in it (./src/logs/server.log)"
    )
    assert "src/logs/.gitkeep" not in run_folders({**files, "src/logs/server.log": b""})


def test_the_folders_of_absolute_sqlite_files_its_authors_checkout_had() -> None:
    """Sunikka's nestjs-photo-service: TypeORM's ``database: '/home/sunikka/…/
    02-photo-service/database/photo-service.sq3'``, the folder of its committed
    database/photo-service.sq3 on its author's machine ("EROFS: read-only file system,
    mkdir '/home'" on every retry). That folder is the upload's database/; a path whose
    names are no file of the upload gets a folder of its own; a relative one, a system
    folder's or one at the root is none of these."""
    root = APPS / "node_author_sqlite_path"
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert author_folders(files) == [
        ("/home/someone/projects/notes-service/database", "database"),
        ("/home/someone/.cache/notes", None),
    ]
    python = b'engine = create_engine("sqlite:////srv/app/notes.sqlite")\nOTHER = "./db/x.db"\n'
    assert author_folders({"main.py": python, "notes.sqlite": b""}) == [("/srv/app", "")]
    assert author_folders({"main.py": b'db = connect("/x.db")\n'}) == []
    # /tmp is a sandbox's own: no folder is bound there (not over the service's data dir)
    assert author_folders({"targets.json": b'{"db": "/tmp/pytest-0/data/preview.db"}'}) == []


def test_the_folders_its_image_has_beside_its_own() -> None:
    """The Dockerfile beside the app: its VOLUME folders and those it makes outside the
    folder it holds the app in (WORKDIR /app, COPY . .), not a variable's nor its own."""
    dockerfile = b"""FROM python:3.11
WORKDIR /app
COPY . .
RUN mkdir -p /data /app/logs && mkdir /var/log/app
VOLUME ["/data", "/uploads"]
VOLUME /cache $OTHER
"""
    files = {"api/Dockerfile": dockerfile, "api/main.py": b""}
    assert image_folders(files, "api/main.py") == ["/data", "/var/log/app", "/uploads", "/cache"]
    assert image_folders({"api/main.py": b""}, "api/main.py") == []


def test_its_container_has_its_own_folder_where_its_image_holds_it() -> None:
    """tecteluy's docker-fastapi-auth writes ``/app/logs/requests.log``, its Dockerfile's
    ``WORKDIR /app``: the upload's folder is given there, before what is below it; a
    folder of its own below it (an absolute SQLite file's) is the upload's folder there;
    the last stage's folder counts; none at the root, nor without a Dockerfile."""
    dockerfile = b"""FROM node:20 AS build
WORKDIR /build
COPY . .
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
COPY app/ ./app/
VOLUME /data
"""
    files = {
        "Dockerfile": dockerfile,
        "app/main.py": b'engine = create_engine("sqlite:////app/db/notes.db")\n',
        "docker-compose.yml": b"services:\n  api:\n    build: .\n    volumes: [./logs:/app/logs]\n",
    }
    assert image_app_folder(files, "app/main.py") == "/app"
    assert container_folders(files, "app/main.py") == [
        ("", "/app"),
        (None, "/data"),
        ("logs", "/app/logs"),
        ("db", "/app/db"),
    ]
    # The folder of a file named under it is made in the upload (its compose file's
    # volume made it: tecteluy's middleware opens /app/logs/requests.log at import).
    logged = {**files, "app/log.py": b'handler = FileHandler("/app/logs/requests.log")\n'}
    assert "logs/.gitkeep" in run_folders(logged)
    # Its compose file's volumes keeping its image's install and build from a bind of
    # its sources (deger4beger's clean-fastify: ``/app/node_modules``, ``/app/dist``): the
    # preview's own install and build are in its folder already.
    kept = b"services:\n  api:\n    build: .\n"
    kept += b"    volumes: [./src:/app/src, /app/node_modules, /app/dist]\n"
    node = {**files, "docker-compose.yml": kept, "package.json": b"{}", "src/index.js": b""}
    assert [t for _, t in container_folders(node, "package.json")][:2] == ["/app", "/data"]
    assert ("src", "/app/src") in container_folders(node, "package.json")
    assert not {"/app/node_modules", "/app/dist"} & {t for _, t in container_folders(node, "")}
    # A volume of one file (banmkh's flask-tiny-app: ``./blog.db:/app/blog.db``, made a
    # folder and bound over the app's file: "unable to open database file") is no folder.
    one = b"services:\n  api:\n    build: .\n    volumes: [./blog.db:/app/blog.db]\n"
    assert container_folders({**files, "docker-compose.yml": one}, "app/main.py") == [
        ("", "/app"),
        (None, "/data"),
        ("db", "/app/db"),
    ]
    at_root = {"Dockerfile": b"FROM python:3.11\nCOPY . .\n", "main.py": b""}
    assert image_app_folder(at_root, "main.py") is None
    assert container_folders({"main.py": b""}, "main.py") == []


def test_the_absolute_folders_its_node_code_makes_are_given_it() -> None:
    """Sanji-IO's express-filebin: server.js hands multer ``dest: '/uploads'``, which multer
    makes at start-up, as a container's root lets it: "EROFS: read-only file system, mkdir
    '/uploads'" on a preview's. Those folders, and an ``fs.mkdirSync`` of one, are given it
    as its image's are; not /tmp's (its own already), a relative one's, nor its tests'."""
    server = b"""const multer = require('multer');
const upload = multer({ dest: '/uploads', limits: { fileSize: 1024 } });
fs.mkdirSync("/data/files/", { recursive: true });
const scratch = multer({ dest: '/tmp/parts' });
const local = multer({ dest: 'uploads/' });
"""
    files = {
        "package.json": b'{"dependencies": {"multer": "^1"}}',
        "server.js": server,
        "routes/files.js": b"const upload = multer({dest: '/uploads'});\n",
        "test/api.js": b"fs.mkdirSync('/fixtures');\n",
    }
    assert code_folders(files) == ["/uploads", "/data/files"]
    assert code_folders({"server.js": b"const upload = multer({ dest: 'uploads' });"}) == []
    # Its diskStorage's destination by name (jwlee-bit's nestjs-seminar: "ENOENT: no such
    # file or directory, mkdir '/temp'"), which multer makes too.
    storage = b"storage: multer.diskStorage({\n  destination: '/temp',\n  filename: name,\n})"
    assert code_folders({"src/common/common.module.ts": storage}) == ["/temp"]


def test_the_absolute_folders_of_its_node_log_files_and_env_folders_are_given_it() -> None:
    """afranioce's fastify-skeleton logs to ``pino.destination(`/var/log/app/${appEnv}.log`)``
    (its image's ``mkdir -p /var/log/app``; "ENOENT … open '/var/log/app/dev.log'", pino
    making no folder); quantran1229's be-template-koa's env_example gives ``LOGS_PATH =
    /home/logs`` ("ENOENT … mkdir '/home/logs'"). Each folder is given it as its image's
    are; not a system folder's, /tmp's, a relative one's, nor a URL's."""
    server = b"""const logger = pino(pino.destination(`/var/log/app/${appEnv}.log`));
const errors = winston.transports.File({ filename: '/srv/logs/error.log' });
const local = pino.destination('logs/app.log');
const scratch = fs.createWriteStream('/tmp/x.log');
"""
    files = {"package.json": b"{}", "src/core/server.ts": server}
    assert code_folders(files) == ["/var/log/app", "/srv/logs"]
    env = b"LOGS_PATH = /home/logs\nUPLOAD_DIR=/data/uploads/\nCERT_PATH=/etc/ssl/certs\n"
    env += b"API_PATH=/v1\nTMP_DIR=/tmp/x\nREPORT_PATH=/srv/reports/daily.csv\n"
    files = {"package.json": b"{}", "env_example": env, "app.js": b""}
    assert env_absolute_folders(files) == ["/home/logs", "/data/uploads", "/srv/reports"]
    assert "/home/logs" in [t for _, t in container_folders(files, "package.json")]


def test_the_absolute_folders_of_its_python_log_files_are_given_it() -> None:
    """quangnh-ai's fastapi-assignment: ``TimedRotatingFileHandler('/logs/{}-{}.log'
    .format(…))``, its compose file (not in the uploaded folder) binding ``./logs/api:
    /logs/``: "No such file or directory: '/logs/…'" at import. The folder of a log file
    opened by absolute path (a constant, ``.format``, an f-string, ``%``) is given it as
    its Node code's are; not /tmp's, nor a relative one's."""
    main = b"""import logging, time
from logging.handlers import TimedRotatingFileHandler
handler = TimedRotatingFileHandler('/logs/{}-{}.log'.format(time.localtime().tm_year, 1))
audit = logging.FileHandler(f"/var/app/audit/{time.time()}.log")
old = logging.FileHandler("/srv/old/%s.log" % "x")
scratch = logging.FileHandler('/tmp/scratch.log')
local = logging.FileHandler('logs/app.log')
LOGGING = {"handlers": {"file": {"class": "logging.FileHandler", "filename": "/logs/x.log"}}}
"""
    files = {"requirements.txt": b"fastapi\n", "app/main.py": main}
    assert absolute_log_folders(files) == ["/logs", "/var/app/audit", "/srv/old"]
    assert "/logs" in [t for _, t in container_folders(files, "app/main.py")]
    assert absolute_log_folders({"app/main.py": b"import logging\n"}) == []


def test_a_folder_a_module_binds_by_name_is_made() -> None:
    """nahlaerrakik's tweets-flask-final: ``db_dir = os.path.join(os.path.abspath(
    os.path.dirname(__file__)), 'database')``, its SQLite files there, the folder not in
    its repository: "unable to open database file" on every route. A folder bound at a
    module's top level under a folder's name is made (from ``__file__``, from a bound
    base, or where the app runs); not one the upload has, a file's path, nor a name that
    says no folder."""
    config = b"""import os
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent
db_dir = os.path.join(os.path.abspath(os.path.dirname(__file__)), 'database')
UPLOAD_FOLDER = BASE_DIR / 'media' / 'uploads'
STATIC_DIR = os.path.join(BASE_DIR, 'static')
LOG_FILE_DIR = 'var/log'
DB_PATH = os.path.join(db_dir, 'prod.db')
cache = os.path.join(BASE_DIR, 'cache')
SQUAD_DATA_PATH = 'gs://tf-perfzero-data/xlnet/squadv2_cased'
"""
    # (a bucket's URL, made "gs:/tf-perfzero-data/…" folders in dentalFlaskApp's copy of
    # TensorFlow's models: a place elsewhere, no folder)
    files = {"api/config.py": config, "api/static/app.css": b"", "api/app.py": b""}
    made = run_folders(files)
    assert list(made) == [
        "api/database/.gitkeep",
        "api/media/uploads/.gitkeep",
        "var/log/.gitkeep",
    ], made
    assert "api/config.py binds db_dir to it" in made["api/database/.gitkeep"]


def test_an_env_files_path_is_never_made_a_folder() -> None:
    """buxuele's flask-one-post: ``ENV_PATH = Path(__file__).resolve().parent.parent /
    '.env'`` (a path's name, a dot-name without an extension) was made a folder, where
    the launch then wrote the .env its README's example gave: "IsADirectoryError: Is a
    directory: '.env'", an incident. A dot-name bound as a path is a file's; an env
    file's name is never a folder, however declared."""
    publisher = b"""from pathlib import Path
ENV_PATH = Path(__file__).resolve().parent.parent / '.env'
CACHE_PATH = Path(__file__).resolve().parent.parent / '.cache'
UPLOAD_DIR = Path(__file__).resolve().parent.parent / 'uploads'
"""
    files = {"services/publisher.py": publisher, "app.py": b"", ".gitignore": b".env\n"}
    assert list(run_folders(files)) == ["uploads/.gitkeep"]
    # Named as a folder (a _DIR), an env file's name still is none.
    folder = b"from pathlib import Path\nENV_DIR = Path(__file__).parent / '.env.local'\n"
    assert run_folders({"settings.py": folder}) == {}


def test_the_constants_a_python_example_leaves_to_fill_in_are_given() -> None:
    """bku4erov's django-drf-hw-smart-home: measurement/config.py left out of git, its
    config_example.py copied in its place, ``DB_PORT = '<database port>'`` then Django's
    "invalid integer value "<database port>" for connection option "port"". The example's
    fill-ins are named (its other constants and code are its own), and the copy is read
    with them; not a module that fills nothing in."""
    example = (
        b"DB_HOST = '<database host name or ip-address>'\nDB_PORT = '<database port>'\n"
        b"DB_NAME = 'smart_home'\nDEBUG = True\nlower = '<x>'\n"
        b"def f():\n    X = '<y>'\n"
    )
    assert example_fill_ins(example) == ("DB_HOST", "DB_PORT")
    assert example_fill_ins(b"DB_NAME = 'smart_home'\n") == ()
    files = {
        "manage.py": b"",
        "measurement/config_example.py": example,
        "smart_home/settings.py": b"from measurement import config\nHOST = config.DB_HOST\n",
    }
    missing = MissingFiles.read(files, "manage.py", ("python", "manage.py"), None)
    assert missing.copies == {"measurement/config.py": "measurement/config_example.py"}
    assert missing.filled == {"measurement/config.py": ("DB_HOST", "DB_PORT")}


def test_a_settings_class_of_a_packages_ignored_config_module_is_written() -> None:
    """jewoodev's flask-practice: ``from dhl.config import TestConfig`` in its package,
    ``/dhl/config.py`` in its .gitignore, then ``app.config.from_object(TestConfig)``: "No
    module named 'dhl.config'" at every start. The module is written with a settings class
    of that name (the served database's URI, a secret); not where it imports a function
    from it, nor where its .gitignore leaves it in."""
    files = {
        ".gitignore": b"### ETC\n.venv\n/dhl/config.py\n",
        "dhl/__init__.py": (
            b"from dhl.config import TestConfig\napp.config.from_object(TestConfig)\n"
        ),
        "dhl/models.py": b"",
    }
    assert kept_out_module_names(files) == {"dhl/config.py": ("TestConfig",)}
    text = local_names_text(("TestConfig",), {"SQLALCHEMY_DATABASE_URI": "sqlite:///a.db"})
    namespace: dict[str, object] = {}
    exec(compile(text, "config.py", "exec"), namespace)
    made = namespace["TestConfig"]
    assert made.SQLALCHEMY_DATABASE_URI == "sqlite:///a.db"  # type: ignore[attr-defined]
    assert made.SQLALCHEMY_TRACK_MODIFICATIONS is False  # type: ignore[attr-defined]
    helper = {**files, "dhl/__init__.py": b"from dhl.config import TestConfig, make_app\n"}
    assert kept_out_module_names(helper) == {}
    kept = {**files, ".gitignore": b".venv\n"}
    assert kept_out_module_names(kept) == {}


def test_sequelize_clis_config_file_kept_out_of_the_repository_is_written() -> None:
    """FabCode67's nodejs-express-sequelize-postgres: ``sequelize init``'s models/index.js
    requires ``__dirname + '/../config/config.json'``, which its .gitignore keeps out:
    its migrations failed on 'Cannot find "config/config.json"'. Written with the served
    database for each environment; not where it is there, has an example, or is code."""
    index = b"const Sequelize = require('sequelize');\n" + (
        b"const config = require(__dirname + '/../config/config.json')[env];\n"
    )

    def lacked(files: dict[str, bytes]) -> list[str]:  # an example is copied instead
        return sequelize_configs(files, example_copies(files))

    files = {"package.json": b"{}", "models/index.js": index}
    assert lacked(files) == ["config/config.json"]
    assert lacked({**files, "config/config.json": b"{}"}) == []
    assert lacked({**files, "config/config.example.json": b"{}"}) == []
    # afrijaldz's express-sequelize-starter: the copier's example.config.json, not overwritten.
    assert lacked({**files, "config/example.config.json": b"{}"}) == []
    assert lacked({**files, "models/index.js": index.replace(b"equelize", b"x")}) == []
    # Required without its extension (yegyeom's my-instagram-express-server:
    # ``require('../config/config')[env]``); not where the upload has config/config.js.
    bare = index.replace(b"__dirname + '/../config/config.json'", b"'../config/config'")
    assert lacked({**files, "models/index.js": bare}) == ["config/config.json"]
    assert lacked({**files, "models/index.js": bare, "config/config.js": b""}) == []
    rc = b"const path = require('path');\nmodule.exports = {\n"
    rc += b"  config: path.resolve('src', 'db', 'config.json'),\n};\n"
    assert lacked({"package.json": b"{}", ".sequelizerc": rc}) == ["src/db/config.json"]
    code = rc.replace(b"config.json", b"config.js")
    assert lacked({"package.json": b"{}", ".sequelizerc": code}) == []
    served = ServedDatabase("postgresql", "127.0.0.1", "5433", "app", "app", "pw")
    written = json.loads(sequelize_config_text(served))
    assert set(written) == {"development", "test", "production"}
    assert written["development"] == {
        "username": "app",
        "password": "pw",
        "database": "app",
        "host": "127.0.0.1",
        "port": 5433,
        "dialect": "postgres",
    }
    assert json.loads(sequelize_config_text(None))["development"]["dialect"] == "sqlite"


def test_the_folders_of_the_sqlite_files_node_code_names_are_made() -> None:
    """HelloSkull's koa-sqlite3-demo: ``new adminSQLiteStore('./db/admin.db')``, which
    hands it to sqlite3's Database (SQLITE_CANTOPEN: no db/ in the upload); only where the
    app lists a SQLite client."""
    files = {
        "package.json": b'{"dependencies": {"sqlite3": "^3.1.8"}}',
        "controllers/admin.js": b"const store = new adminSQLiteStore('./db/admin.db');\n",
        "lib/cache.js": b"const other = 'data/cache.sqlite3';\n",
        "app.js": b"const here = 'app.db';\n",  # in the root: nothing to make
    }
    assert run_folders(files) == {
        "db/.gitkeep": "controllers/admin.js names a SQLite file in it (db/admin.db)",
        "data/.gitkeep": "lib/cache.js names a SQLite file in it (data/cache.sqlite3)",
    }
    assert run_folders({**files, "package.json": b'{"dependencies": {"pg": "^8"}}'}) == {}


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_a_script_calling_npm_bin_runs_its_own_tool_after_npm_9(tmp_path: Path) -> None:
    """b0ntenmaru's express-ddd: ``"migration:up": "npm run ts-node $(npm bin)/typeorm
    migration:run"``; npm 9 and later have no ``bin`` and print ``Unknown command: "bin"``,
    which became ts-node's argument ("Cannot find module 'Unknown'"). Its package.json is
    written again with what npm bin printed; the real npm runs the script's own tool."""
    package = {
        "name": "express-ddd",
        "scripts": {"migrate": "$(npm bin)/tool up && `npm bin`/tool down", "test": "jest"},
    }
    files = {"package.json": json.dumps(package).encode()}
    written = npm_bin_scripts(files)
    assert npm_bin_scripts({"package.json": b'{"scripts": {"x": "npm bin -g"}}'}) == {}
    assert set(written) == {"package.json"}
    assert json.loads(written["package.json"])["scripts"]["test"] == "jest"
    (tmp_path / "package.json").write_bytes(written["package.json"])
    tool = tmp_path / "node_modules" / ".bin" / "tool"
    tool.parent.mkdir(parents=True)
    tool.write_text('#!/bin/sh\necho "tool $1"\n')
    tool.chmod(0o755)
    (tmp_path / "src").mkdir()
    run = subprocess.run(
        ["npm", "run", "--silent", "migrate"],
        cwd=tmp_path / "src",  # found from below, as npm bin found it
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert run.stdout.split("\n")[:2] == ["tool up", "tool down"]
    missing = MissingFiles.read(files, "package.json", ("npm", "start"), None)
    assert missing.plain_contents(files)["package.json"] == written["package.json"]


async def test_a_module_its_gitignore_leaves_out_is_written_with_the_constants_imported(
    builder_service: Service,
) -> None:
    """fawazk's jwt-login-fastapi: its .gitignore lists ``config.py``, and its code does
    ``from config import ACCESS_TOKEN_EXPIRE_MINUTES, ALGORITHM, SECRET_KEY``: "No module
    named 'config'" at every start. Written with what the service gives those names; not
    where a function is imported from it, nor a module the upload has."""
    files = {
        ".gitignore": "config.py\n__pycache__/\n",
        "requirements.txt": "fastapi\nuvicorn\n",
        "main.py": (
            "from fastapi import FastAPI\n"
            "from config import ACCESS_TOKEN_EXPIRE_MINUTES, ALGORITHM, SECRET_KEY\n\n"
            "app = FastAPI()\n\n\n"
            "@app.get('/')\n"
            "def index():\n"
            "    return {'algorithm': ALGORITHM, 'minutes': int(ACCESS_TOKEN_EXPIRE_MINUTES),"
            " 'secret': bool(SECRET_KEY)}\n"
        ),
    }
    encoded = {path: text.encode() for path, text in files.items()}
    assert kept_out_module_names(encoded) == {
        "config.py": ("ACCESS_TOKEN_EXPIRE_MINUTES", "ALGORITHM", "SECRET_KEY")
    }
    function = encoded["main.py"].replace(b"SECRET_KEY\n", b"SECRET_KEY, get_settings\n", 1)
    assert kept_out_module_names({**encoded, "main.py": function}) == {}
    assert kept_out_module_names({**encoded, "config.py": b"SECRET_KEY = 'x'\n"}) == {}
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await builder_service.app_get(body, "/")).json()
        assert answer == {"algorithm": "HS256", "minutes": answer["minutes"], "secret": True}
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_a_folder_read_from_where_it_runs_and_kept_beside_its_module_is_copied(
    builder_service: Service,
) -> None:
    """Winchestor2001's HLB-Platform-FastApi mounts ``StaticFiles(directory="static")`` in
    ``src/main.py``, keeps ``src/static/`` and imports ``from src import …``: run from
    its root (``uvicorn src.main:app``), "RuntimeError: Directory 'static' does not
    exist". The folder's files are copied where it runs; not for a module at the root,
    a folder the root has, or Flask's own (read from its module's folder)."""
    files = {
        "requirements.txt": b"fastapi\nuvicorn\n",
        "src/__init__.py": b"GREETING = 'hello'\n",
        "src/main.py": b"""from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from src import GREETING

app = FastAPI()
app.mount("/static", StaticFiles(directory="static"), name="static")


@app.get("/")
def index():
    return {"greeting": GREETING}
""",
        "src/static/site.css": b"h1 { color: teal }\n",
        "src/static/docs/app.js": b"console.log(1)\n",
    }
    assert module_named_folders(files) == {
        "static/site.css": "src/static/site.css",
        "static/docs/app.js": "src/static/docs/app.js",
    }
    assert module_named_folders({**files, "static/other.css": b""}) == {}
    flask = b"from flask import Flask\napp = Flask(__name__, static_folder='static')\n"
    assert module_named_folders({**files, "src/main.py": flask}) == {}
    assert module_named_folders({"main.py": files["src/main.py"], "x/static/a": b""}) == {}
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, {p: t.decode() for p, t in files.items()})
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.app_get(body, "/static/site.css")
        assert answer.status_code == 200 and answer.text == "h1 { color: teal }\n"
        history = await builder_service.history(body["gid"])
        said = [e["message"] for e in history if e["source"] == "system"]
        assert any("static/ from where it runs" in m and "(in src/)" in m for m in said), said
        assert (await builder_service.stop(body["gid"])).status_code == 200


_LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:24f32e73b4ad6be10fc40390de9c1cb34ab02d5f6d5a7a1bd5c7241dc847a5c7\n"
    "size 45056\n"
)


async def test_a_sqlite_database_kept_in_git_lfs_is_written_empty(
    builder_service: Service,
) -> None:
    """OleksiiRastorhuiev's SaaS-Shop-mit-FastAPI keeps ``saas_shop.db`` in Git LFS: its
    upload holds the 130-byte pointer, which SQLite refuses ("file is not a database")
    where its ``create_all`` would make every table of a new one. The pointer is written
    empty (a new database); a pointer of another kind of file, or a real database, is
    left as it is."""
    files = {
        "requirements.txt": "fastapi\nuvicorn\n",
        "main.py": """import sqlite3

from fastapi import FastAPI

db = sqlite3.connect("data/shop.sqlite3", check_same_thread=False)
db.execute("CREATE TABLE IF NOT EXISTS product (name TEXT)")
db.execute("INSERT INTO product VALUES ('ski')")
db.commit()
app = FastAPI()


@app.get("/products")
def products():
    return [name for (name,) in db.execute("SELECT name FROM product")]
""",
        "data/shop.sqlite3": _LFS_POINTER,
        "model.pkl": _LFS_POINTER,
    }
    assert lfs_pointer_databases({p: t.encode() for p, t in files.items()}) == ["data/shop.sqlite3"]
    assert lfs_pointer_databases({"app.db": b"SQLite format 3\x00" + _LFS_POINTER.encode()}) == []
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.app_get(body, "/products")
        assert answer.status_code == 200 and answer.json() == ["ski"]
        history = await builder_service.history(body["gid"])
        said = [e["message"] for e in history if e["source"] == "system"]
        assert any("data/shop.sqlite3: a Git LFS pointer" in m for m in said), said
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_a_file_its_set_up_script_writes_from_a_here_document_is_written(
    builder_service: Service,
) -> None:
    """lupusmagist's Basic-Flask-with-auth loads ``settings.DevConfig``; its init.sh (its
    README's set-up) writes ``settings.py`` with ``cat <<EOF > settings.py``, the file
    .gitignored: "import_string() failed for 'settings'". The file is written as the
    script writes it, its variables as the shell expands them (nothing runs); one holding
    a command's output, or one the code never names, is not."""
    init = (
        "#!/bin/sh\npip install -r requirements.txt\n"
        "if [ ! -f settings.py ]; then\n    cat <<EOF > settings.py\n"
        "class DevConfig:\n    GREETING = 'from init.sh'  # `quoted` in a comment\nEOF\nfi\n"
    )
    main = (
        "import os\n\nfrom flask import Flask\n\napp = Flask(__name__)\n"
        "env = os.environ.get('APP_ENV', 'dev')\n"
        "app.config.from_object('settings.%sConfig' % env.capitalize())\n\n\n"
        "@app.get('/greeting')\ndef greeting():\n"
        "    return {'greeting': app.config['GREETING']}\n"
    )
    files = {"requirements.txt": "flask\n", ".gitignore": "settings.py\n", "init.sh": init}
    files["main.py"] = main
    encoded = {p: t.encode() for p, t in files.items()}
    assert scripted_files(encoded) == {
        "settings.py": (
            "init.sh",
            b"class DevConfig:\n    GREETING = 'from init.sh'  # `quoted` in a comment\n",
        )
    }
    command = {**encoded, "init.sh": init.replace("'from init.sh'", "'$(whoami)'").encode()}
    assert scripted_files(command) == {}
    variable = init.replace("'from init.sh'", "'from $WHO$UNSET'").replace("pip", "WHO=init\npip")
    written = scripted_files({**encoded, "init.sh": variable.encode()})
    assert b"'from init'" in written["settings.py"][1]
    tabbed = init.replace("cat <<EOF", "cat <<-EOF").replace("class DevConfig", "\tclass DevConfig")
    written = scripted_files({**encoded, "init.sh": tabbed.encode()})
    assert written["settings.py"][1].startswith(b"class DevConfig:\n")  # <<- strips tabs
    unnamed = {**encoded, "main.py": main.replace("settings.%s", "config.%s").encode()}
    assert scripted_files(unnamed) == {}
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.app_get(body, "/greeting")
        assert answer.json() == {"greeting": "from init.sh"}
        history = await builder_service.history(body["gid"])
        said = [e["message"] for e in history if e["source"] == "system"]
        assert any("written as init.sh writes it" in m for m in said), said
        assert (await builder_service.stop(body["gid"])).status_code == 200


def test_a_module_its_readme_gives_whole_in_a_list_item_is_written() -> None:
    """Mat0wa3's Express-ejemplo: five modules import ``./config.js`` (.gitignored); its
    README's set-up list says "Crea un archivo de configuración llamado `config.js`" over
    its text, the block indented under the item, after a ``bash`` block never closed:
    "Cannot find module 'config.js'". Its lines are written dedented."""
    readme = (
        "## Instalación\n1. Clona el repositorio:\n   ```bash\n   git clone x\n"  # (unclosed)
        "2. Crea un archivo de configuración llamado `config.js`\\\n"
        "   ejemplo de config.js:\n    ```javascript\n    export const {\n"
        "      PORT = 3000,\n    } = process.env\n    ```\n"
        "3. Crear la base de datos:\n   ```mysql\n   CREATE DATABASE agendaDB;\n   ```\n"
    )
    code = b"import { PORT } from './config.js'\n"
    files = {"README.md": readme.encode(), "index.js": code, ".gitignore": b"config.js\n"}
    assert readme_files(files) == {
        "config.js": ("README.md", b"export const {\n  PORT = 3000,\n} = process.env\n")
    }


def test_a_data_file_its_readme_gives_whole_is_written() -> None:
    """panjidwisatrio's fastapi-clean-architecture loads ``app/data/permissions.json`` at
    start, its ``data/`` folder .gitignored; its README says "Create
    ``app/data/permissions.json``" over the JSON (FileNotFoundError). A block that is no
    JSON, a file the upload has, or one its code never names is not written."""
    readme = (
        "### Create `permissions.json`\n\n**File:** `app/data/permissions.json`\n\n"
        '```json\n{"roles": {"Admin": ["read"]}}\n```\n\n'
        "Then `app/data/notes.json`:\n\n```json\n{not json\n```\n\n"
        "And `app/data/unused.json`:\n\n```json\n{}\n```\n"
    )
    code = b'PERMISSIONS = Path("app/data/permissions.json")\nNOTES = "notes.json"\n'
    files = {"README.md": readme.encode(), "app/core/config.py": code}
    assert readme_files(files) == {
        "app/data/permissions.json": ("README.md", b'{"roles": {"Admin": ["read"]}}\n')
    }
    assert readme_files({**files, "app/data/permissions.json": b"{}"}) == {}


def test_a_name_the_app_opens_its_log_file_by_is_given_a_file(tmp_path: Path) -> None:
    """badrievad's FlaskCRM: ``RotatingFileHandler(PATH_FOR_LOG)`` of its git-ignored
    app/config.py, written with PATH_FOR_LOG = '' (no meaning in its name), opened the
    working directory ("IsADirectoryError: [Errno 21] Is a directory: '.'"). A name a file
    handler opens as it is gets a log file; the handler then opens it."""
    log_conf = (
        b"import logging\nfrom logging.handlers import RotatingFileHandler\n"
        b"from app.config import PATH_FOR_LOG, SECRET_KEY\n"
        b"handler = RotatingFileHandler(PATH_FOR_LOG, maxBytes=1000)\n"
    )
    files = {
        "app/__init__.py": b"",
        "app/log_conf.py": log_conf,
        ".gitignore": b"app/config.py\n",
        "run.py": b"from app import log_conf\n",
    }
    values = named_values(files, "run.py", {}, {}, ["PATH_FOR_LOG", "SECRET_KEY"])
    assert values["PATH_FOR_LOG"] == "path_for_log.log"
    written = {**files, "app/config.py": local_names_text(("PATH_FOR_LOG", "SECRET_KEY"), values)}
    for path, data in written.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(data)
    ran = subprocess.run(
        [sys.executable, "-c", "import app.log_conf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "path_for_log.log").is_file()
