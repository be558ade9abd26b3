"""Shapes of the twenty-fourth batch of real Django and Flask apps (issue 66's training
side: the first held-out set's, once its round ended): each rule reads what the app
itself declares, tested on a fixture app of its shape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import trio

from preview.apps.configvars import OPTIONAL, required_types
from preview.apps.datainit import own_makemigrations
from preview.apps.depspec import PythonDeps
from preview.apps.detect import detect
from preview.apps.imports import import_mapping
from preview.apps.written import log_files, own_metadata
from preview.builds.configdefaults import config_defaults
from preview.builds.remedies import Remedies

from ..conftest import Service, auth
from ..launching import BUILD_WAIT, app_files, launched


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def test_a_settings_module_reading_with_getenv_alone_is_read() -> None:
    """yurinakanishi's django-rest-framework-sample-api: its settings module reads
    ``SECRET_KEY = getenv("DJANGO_SECRET_KEY")`` after ``from os import getenv`` (no
    ``environ`` anywhere in it), which went unread: no throwaway secret, and
    ``makemigrations`` died on "The SECRET_KEY setting must not be empty"."""
    files = _bytes("django_settings_getenv")
    assert required_types(files) == {"DJANGO_SECRET_KEY": OPTIONAL}
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert found.values["DJANGO_SECRET_KEY"]
    assert "DJANGO_SECRET_KEY" in found.generated


def test_a_release_lines_makemigrations_is_given_the_projects_own_apps() -> None:
    """redifo's recipe-drf-api: its Procfile's ``release: python manage.py makemigrations
    && python manage.py migrate`` made migrations for every installed app, an allauth 0.44
    beside ``DEFAULT_AUTO_FIELD = BigAutoField`` too, written into the built environment
    (read-only: "Read-only file system: …/allauth/account/migrations"). Named, only the
    upload's own apps' are made."""
    detection = detect(_bytes("django_release_makemigrations"))
    assert detection.setup[0] == (
        "sh",
        "-c",
        "python manage.py makemigrations notes && python manage.py migrate",
    )
    # A command that names its apps, or makes none, is the app's own.
    files = _bytes("django_release_makemigrations")
    named = "python manage.py makemigrations notes --noinput && python manage.py migrate"
    assert own_makemigrations(named, files) == named
    assert own_makemigrations("python manage.py migrate", files) == "python manage.py migrate"
    assert (
        own_makemigrations("python manage.py makemigrations --noinput; gunicorn x", files)
        == "python manage.py makemigrations notes --noinput; gunicorn x"
    )


def test_flask_db_loads_the_app_a_module_registers_flask_migrate_on_as_it_imports_it() -> None:
    """DenerRodrigues' flask-restful-api-example: its Flask-Script ``manage.py`` makes no
    app, it imports the one that serves and calls ``Migrate(app=app, db=db)``; ``flask db
    upgrade`` was pointed at the serving module, where no ``db`` command is registered
    ("KeyError: 'migrate'")."""
    detection = detect(_bytes("flask_migrate_imported_app"))
    assert detection.setup_steps() == [
        (("env", "FLASK_APP=manage:app", "{python}", "-m", "flask", "db", "upgrade", "heads"), "")
    ]


async def test_a_flask_migrate_registered_on_an_imported_app_is_upgraded(
    builder_service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("flask_migrate_imported_app"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.client.post(
            f"/api/generations/{body['gid']}/preview/request",
            json={"method": "GET", "path": "/posts"},
            headers={**auth(), "X-Preview-Token": body["previewToken"]},
        )
        assert answer.json()["data"] == ["migrated"]
        assert (await builder_service.stop(body["gid"])).status_code == 200


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


async def test_a_django_project_logging_to_a_folder_the_upload_lacks_starts(
    builder_service: Service,
) -> None:
    """cemre-2187's django-rest-framework-boilerplate: its ``LOGGING`` writes errors to
    ``os.path.join(BASE_DIR, 'logs/django_error.log')``, whose folder its .gitignore'd
    log files took with them; ``migrate`` died on "Unable to configure handler
    'error_file'". The file is written empty before it runs, its folder with it."""
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("django_logging_folder"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.client.post(
            f"/api/generations/{body['gid']}/preview/request",
            json={"method": "GET", "path": "/api/notes/"},
            headers={**auth(), "X-Preview-Token": body["previewToken"]},
        )
        assert answer.json()["statusCode"] == 200
        assert (await builder_service.stop(body["gid"])).status_code == 200


def test_an_unbuildable_package_a_pip_freeze_lists_and_nothing_imports_is_left_out() -> None:
    """okuzmenko31's drf-ecommerce: its requirements.txt, a ``pip freeze``, lists pycairo
    1.23 (which needs cairo's headers, not here) because rlPyCairo, reportlab's optional
    renderer, brought it; no module imports either. Listed, it was taken for the app's
    own choice, and the build failed as it was."""
    freeze = (
        "Django==4.2",
        "djangorestframework==3.14.0",
        "celery==5.2.7",
        "Pillow==9.5.0",
        "psycopg2==2.9.6",
        "pycairo==1.23.0",
        "redis==4.5.5",
        "reportlab==4.0.0",
        "rlPyCairo==0.2.0",
        "requests==2.30.0",
    )
    message = (
        "Failed to build `pycairo==1.23.0`: Call to `setuptools.build_meta.build_wheel` failed"
    )
    files = {"shop/views.py": b"from reportlab.pdfgen import canvas\n"}
    pythons = ["3.12.1", "3.11.7", "3.10.13"]

    def remedies(requirements: tuple[str, ...]) -> Remedies:
        found = Remedies()
        found.tried.deps = PythonDeps(requirements, "requirements.txt", None, None)
        found.tried.python_version = "3.11.7"
        return found

    fix = remedies(freeze).next_fix(message, [message], files, pythons)
    assert fix is not None and fix.drop == "pycairo", fix
    # Listed by hand among unpinned ones, it is the app's own choice: as before.
    chosen = ("django", "reportlab", "pycairo==1.23.0")
    fix = remedies(chosen).next_fix(message, [message], files, pythons)
    assert fix is None or fix.drop is None, fix


def test_what_the_readmes_run_commands_export_is_given_where_the_code_reads_it() -> None:
    """Farael49's flask-rest-crud: its README runs ``export PROJECT_CONFIG=development``
    before ``python manage.py create_db``; unset, ``create_app(os.getenv("PROJECT_CONFIG",
    "default"))`` took its production configuration, whose database URL nothing sets
    (``'NoneType' object has no attribute 'drivername'``)."""
    files = {
        "README.md": b"""# crud

running :
```
export PROJECT_CONFIG=development
export UNREAD_BY_THE_CODE=1

python manage.py create_db
python manage.py runserver
```
""",
        "manage.py": b"""import os
from project import create_app
app = create_app(os.getenv("PROJECT_CONFIG", "default"))
""",
    }
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert found.values == {"PROJECT_CONFIG": "development"}
    # The upload's .env, or the launch's env, is the user's: theirs stands.
    given = config_defaults(files, "manage.py", {"PROJECT_CONFIG": "testing"}, {"PORT"})
    assert "PROJECT_CONFIG" not in given.values


def test_djangos_mail_settings_read_without_a_default_get_a_backend_that_sends_nothing() -> None:
    """suwasghale's drf-api: ``EMAIL_BACKEND = env('EMAIL_BACKEND')`` and its SMTP host,
    port and TLS switch, each read by django-environ without a default: nothing set
    them, and ``makemigrations`` died on "Set the EMAIL_BACKEND environment variable"."""
    files = {
        "core/settings.py": b"""import environ
env = environ.Env()
EMAIL_BACKEND = env('EMAIL_BACKEND')
EMAIL_HOST = env('EMAIL_HOST')
EMAIL_PORT = env('EMAIL_PORT')
EMAIL_USE_TLS = env('EMAIL_USE_TLS')
CLOUDINARY_STORAGE = {'CLOUD_NAME': env('CLOUDINARY_CLOUD_NAME')}
DATABASES = {}
""",
        "manage.py": b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'core.x')\n",
    }
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert found.values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert found.values["EMAIL_HOST"] == "localhost"
    assert found.values["EMAIL_PORT"] == "587"
    assert found.values["EMAIL_USE_TLS"] == ""  # off
    assert found.values["CLOUDINARY_CLOUD_NAME"].startswith("preview-")
    assert not found.missing


def test_an_unset_cloudinary_url_is_a_throwaway_cloud_the_sdk_builds_urls_with() -> None:
    """oisintohak's drf-api-project (Code Institute's drf-api template): its settings read
    ``CLOUDINARY_STORAGE = {"CLOUDINARY_URL": os.environ.get("CLOUDINARY_URL")}``, and
    every route serialising a profile's image answered 500 ("Must supply cloud_name"):
    the SDK builds the URL from the cloud's name without calling the cloud."""
    files = {
        "main/settings.py": b"""import os
CLOUDINARY_STORAGE = {"CLOUDINARY_URL": os.environ.get("CLOUDINARY_URL")}
DATABASES = {}
""",
        "manage.py": b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'main.x')\n",
    }
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    url = urlsplit(found.values["CLOUDINARY_URL"])
    assert url.scheme == "cloudinary" and url.username and url.password
    assert (url.hostname or "").startswith("preview-")
    given = config_defaults(files, "manage.py", {"CLOUDINARY_URL": "cloudinary://a:b@c"}, {"PORT"})
    assert "CLOUDINARY_URL" not in given.values


def test_a_missing_cloudinary_storage_module_is_named_by_its_distribution() -> None:
    """suwasghale's drf-api: its settings list ``cloudinary_storage`` (an app of
    django-cloudinary-storage) in INSTALLED_APPS, which its requirements.txt lacks; the
    relaunch that adds a missing module did not know its distribution."""
    assert (import_mapping() or {})["cloudinary_storage"] == "django-cloudinary-storage"
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("django",), "requirements.txt", None, None)
    remedies.tried.python_version = "3.11.7"
    message = "ModuleNotFoundError: No module named 'cloudinary_storage'"
    fix = remedies.next_fix(message, [message], {"core/settings.py": b""}, ["3.11.7"])
    assert fix is not None and fix.add == "django-cloudinary-storage", fix


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
