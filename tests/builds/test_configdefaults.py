"""Configuration an upload only describes: its .env.example stands in for the .env it
lacks, the variables its settings class and os.environ require get throwaway values
where their names say what they are (listed by name in the status), and what cannot be
guessed fails with one message naming every variable. Real builds, launched as uploaded."""

from __future__ import annotations

import trio

from preview.apps.configvars import (
    OPTIONAL,
    example_env_file,
    required_types,
    required_variables,
)
from preview.builds.configdefaults import (
    GUNICORN_SHIM,
    config_defaults,
    env_files_needed,
    example_copies,
    gunicorn_settings,
    start_env_files,
    throwaway_value,
)
from preview.logs import failure_cause

from ..conftest import Service, auth
from ..launching import BUILD_WAIT, app_files, launched, messages

SETTINGS = """
import os
from decouple import config
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    name: str
    token: str = Field(validation_alias="SERVICE_TOKEN")
    level: str = "info"
    optional: str | None = None
    timeout: int = Field(10)

MAIL = config("MAIL_HOST")
PORT = config("MAIL_PORT", default=25, cast=int)
os.environ["WRITTEN"] = "x"
SALT = os.environ["HASH_SALT"]
HOME = os.getenv("HOME_DIR")

def view(request):
    return request.headers.environ["HTTP_AUTHORIZATION"]  # WSGI's, not the process's
"""


def test_required_variables_are_read_from_source() -> None:
    files = {"app/settings.py": SETTINGS.encode()}
    assert required_variables(files) == ["APP_NAME", "SERVICE_TOKEN", "MAIL_HOST", "HASH_SALT"]
    assert required_types(files) == {
        "APP_NAME": "str", "SERVICE_TOKEN": "str", "MAIL_HOST": "", "HASH_SALT": "",
        "HOME_DIR": OPTIONAL,
    }  # fmt: skip
    # Django's settings as django-on-docker writes them: a value used at once is
    # required; a secret read without a default still gets one.
    django = (
        'SECRET_KEY = os.environ.get("SECRET_KEY")\n'
        'DEBUG = bool(os.environ.get("DEBUG", default=0))\n'
        'ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS").split(" ")\n'
    )
    files = {"app/settings.py": django.encode(), "manage.py": b""}
    assert required_variables(files) == ["DJANGO_ALLOWED_HOSTS"]
    found = config_defaults(files, "manage.py", {}, set())
    assert found.generated == ["DJANGO_ALLOWED_HOSTS", "SECRET_KEY"] and not found.missing
    assert found.values["DJANGO_ALLOWED_HOSTS"] == "*"


def test_the_nearest_example_stands_in_for_a_missing_env() -> None:
    files = {
        "backend/app/main.py": b"",
        "backend/.env.sample": b"A=1\n",
        ".env.example": b"A=2\n",
    }
    assert example_env_file(files, "backend/app/main.py") == "backend/.env.sample"
    assert example_env_file({**files, ".env": b""}, "backend/app/main.py") is None
    assert example_env_file({"main.py": b"", ".env.dist": b""}, "main.py") == ".env.dist"
    others = {"main.py": b"", ".env.prod-sample": b"", ".env.dev-sample": b"", ".env.x": b""}
    assert example_env_file(others, "main.py") == ".env.dev-sample"
    # AppSeed's env.sample (no dot): api-server-django; env.py (Alembic's) is no example.
    appseed = {"manage.py": b"", "env.sample": b"DEBUG=True\n", "env.py": b""}
    assert example_env_file(appseed, "manage.py") == "env.sample"
    others = {"main.py": b"", "env.py": b"", "env.template.yaml": b"", "envs.txt": b""}
    assert example_env_file(others, "main.py") is None


def test_throwaway_values_only_where_the_name_says_what_it_is() -> None:
    assert throwaway_value("DEBUG") == "true"
    assert len(throwaway_value("JWT_SECRET_KEY") or "") >= 32
    assert throwaway_value("SECRET_KEY") != throwaway_value("SECRET_KEY")
    assert throwaway_value("SMTP_HOST") is None  # another service's: not guessable
    assert throwaway_value("SERVER_NAME") == throwaway_value("APP_DOMAIN") == "localhost"
    # Flask's, read with a default of None: unset is Flask's default (every host served).
    assert throwaway_value("SERVER_NAME", OPTIONAL) is None
    assert throwaway_value("APP_DOMAIN", OPTIONAL) == "localhost"
    assert throwaway_value("FRONTEND_URL") == "http://localhost"
    assert throwaway_value("PROJECT_NAME") == "Preview"
    assert throwaway_value("FIRST_SUPERUSER_EMAIL") == "preview@example.com"
    assert throwaway_value("POSTGRES_USER") is None
    assert throwaway_value("FIRST_SUPERUSER", "EmailStr") == "preview@example.com"
    assert len(throwaway_value("OPENAI", "SecretStr | None") or "") >= 32
    # fastapi-jwt (testdriven): decouple's config("algorithm") beside config("secret").
    assert throwaway_value("algorithm") == throwaway_value("JWT_ALGORITHM") == "HS256"
    files = {
        "main.py": SETTINGS.encode(),
        ".env.example": b"APP_NAME=x\nDATABASE_URL=sqlite:///a.db\n",
    }
    found = config_defaults(files, "main.py", {"MAIL_HOST": "m"}, {"DATABASE_URL"})
    assert found.example == ".env.example"
    assert found.values["DATABASE_URL"] == "sqlite:///a.db"  # not a server's: kept
    assert found.generated == ["SERVICE_TOKEN", "HASH_SALT"]
    assert found.missing == []


def test_the_apps_own_host_name_gets_a_throwaway_value() -> None:
    """flasky's ProductionConfig reads SERVER_NAME at import, whichever config is used."""
    files = {p: t.encode() for p, t in app_files("flask_server_name").items()}
    found = config_defaults(files, "app.py", {}, {"DATABASE_URL", "PORT"})
    assert found.values["SERVER_NAME"] == "localhost"
    assert found.values["FRONTEND_URL"] == "http://localhost"
    assert found.missing == []


async def test_an_optional_server_name_is_left_to_flask(builder_service: Service) -> None:
    """microblog on Flask 3.0: SERVER_NAME set to "localhost" made every call 404 (the
    app is called as 127.0.0.1:<port>); unset, Flask serves any host."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_optional_server_name"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.client.get(
            f"/api/generations/{body['gid']}/preview/proxy/",
            headers={**auth(), "X-Preview-Token": body["previewToken"]},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"server_name": None}
        assert (await service.stop(body["gid"])).status_code == 200


def test_variables_read_with_an_empty_default_are_unset_ones() -> None:
    """HackSoft's styleguide: OAuth settings read as env.str(…, default="") and refused
    by the view when empty; a password's "" says none and is left alone."""
    files = {p: t.encode() for p, t in app_files("django_oauth_settings").items()}
    found = config_defaults(files, "manage.py", {}, {"DATABASE_URL", "PORT"})
    assert found.generated == [
        "DJANGO_GOOGLE_OAUTH2_CLIENT_ID",
        "DJANGO_GOOGLE_OAUTH2_CLIENT_SECRET",
        "DJANGO_GOOGLE_OAUTH2_PROJECT_ID",
        "DJANGO_SECRET_KEY",
        "DJANGO_DEBUG",
    ]
    assert found.values["DJANGO_GOOGLE_OAUTH2_CLIENT_ID"].startswith("preview-")
    assert found.values["DJANGO_DEBUG"] == "true"
    assert found.missing == []
    assert "REDIS_PASSWORD" not in required_types(files)
    assert "SENTRY_DSN" not in found.values  # its name says nothing: left unset


def test_django_environ_imported_beside_another_module_is_read() -> None:
    """``import os, environ`` on one line (AppSeed's api-server-django) is django-environ's
    import as much as ``import environ``: its ``env('GITHUB_CLIENT_ID')`` is required."""
    files = {p: t.encode() for p, t in app_files("django_environ_one_line").items()}
    assert required_types(files) == {"GITHUB_CLIENT_ID": "", "GITHUB_SECRET_KEY": ""}
    for line in (b"import environ as e\n", b"from environ import Env\n"):
        assert required_variables({"s.py": line + b'X = env("NEEDED_ONE")\n'}) == ["NEEDED_ONE"]
    # Without it, an ``env(…)`` is anyone's function.
    assert required_variables({"s.py": b'import os, sys\nX = env("NO")\n'}) == []


async def test_django_environ_required_variables_get_throwaways_before_migrate(
    builder_service: Service,
) -> None:
    """AppSeed's api-server-django: ``import os, environ`` then ``env('GITHUB_CLIENT_ID')``,
    unread, so ``migrate`` (its set-up step) died on ImproperlyConfigured."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("django_environ_one_line"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["generatedEnv"] == ["GITHUB_CLIENT_ID", "GITHUB_SECRET_KEY"]
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"client_id": True, "secret": True}
        assert (await service.stop(body["gid"])).status_code == 200


def test_failures_name_every_variable_needed() -> None:
    validation = [
        "Traceback (most recent call last):",
        '  File "/app/config.py", line 9, in <module>',
        "    settings = Settings()",
        "pydantic_core._pydantic_core.ValidationError: 2 validation errors for Settings",
        "project_name",
        "  Field required [type=missing, input_value={}, input_type=dict]",
        "    For further information visit https://errors.pydantic.dev/2.9/v/missing",
        "admin_email",
        "  Field required [type=missing, input_value={}, input_type=dict]",
    ]
    assert failure_cause(validation) == (
        "these 2 variables are needed: PROJECT_NAME, ADMIN_EMAIL (by the settings class "
        "Settings): give them with the launch option env"
    )
    invalid = [
        *validation[:3],
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Config",
        "DATABASE_URL",
        "  URL scheme should be 'postgres' or 'postgresql' [type=url_scheme, input_value=…]",
    ]
    assert failure_cause(invalid) == (
        "the settings class Config rejects DATABASE_URL (URL scheme should be 'postgres' or "
        "'postgresql')"
    )
    environ = [
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 3, in <module>',
        '    TOKEN = os.environ["API_TOKEN"]',
        '  File "<frozen os>", line 714, in __getitem__',
        "KeyError: 'API_TOKEN'",
    ]
    assert failure_cause(environ) == (
        "the variable API_TOKEN is needed: give it with the launch option env"
    )
    # The others the source requires and nothing sets are named with it.
    assert failure_cause(environ, needed=["SMTP_HOST", "API_TOKEN"]) == (
        "these 2 variables are needed: API_TOKEN, SMTP_HOST: give them with the launch option env"
    )
    decouple = ["decouple.UndefinedValueError: SMTP_HOST not found. Declare it as envvar"]
    assert failure_cause(["Traceback (most recent call last):", *decouple]).startswith(
        "the variable SMTP_HOST is needed"
    )


async def test_env_example_and_generated_secrets_make_it_healthy(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("env_example"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        generated = ["SECRET_KEY", "JWT_SECRET", "DEBUG", "API_TOKEN"]
        assert body["runtime"]["generatedEnv"] == generated
        headers = {**auth(), "X-Preview-Token": body["previewToken"]}
        url = f"/api/generations/{body['gid']}/preview/request"
        for path in ("/items", "/about"):
            answer = await service.client.post(
                url, json={"method": "GET", "path": path}, headers=headers
            )
            assert answer.json()["statusCode"] == 200, answer.text
        about = answer.json()["data"]
        assert about["project"] == "Inventory" and about["debug"] is True
        assert about["database"] == "sqlite"  # the preview's own, not the example's server
        assert min(about["secrets"]) >= 32
        system = messages(await service.history(body["gid"]), "system")
        assert "no .env: using .env.example (5 variables)" in system
        assert any(m.startswith("generated throwaway values for SECRET_KEY") for m in system)
        assert (await service.stop(body["gid"])).status_code == 200
        stopped = await service.status(body["gid"])
        assert stopped["runtime"]["generatedEnv"] == generated  # from the stored row too


async def test_what_cannot_be_guessed_fails_naming_every_variable(
    builder_service: Service,
) -> None:
    service = builder_service
    files = app_files("env_example")
    del files[".env.example"]
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "failed"
        assert body["errorMessage"] == (
            "these 2 variables are needed: SMTP_HOST, STORAGE_BUCKET (by the settings class "
            "Settings): give them with the launch option env"
        )
        system = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith("the app requires SMTP_HOST, STORAGE_BUCKET") for m in system)
        assert body["runtime"]["generatedEnv"] == [
            "PROJECT_NAME", "ADMIN_EMAIL", "SECRET_KEY", "JWT_SECRET", "DEBUG", "API_TOKEN"
        ]  # fmt: skip
        # Given them, it runs.
        env = {"SMTP_HOST": "mail.example.com", "STORAGE_BUCKET": "b"}
        again = await service.launch(body["gid"], tier="pro", env=env)
        assert again.json()["status"] == "running", again.text
        assert (await service.stop(body["gid"])).status_code == 200


def test_configuration_files_the_upload_has_only_as_examples_are_copied() -> None:
    files = {
        p: b""
        for p in (
            "src/config.ts.example",
            "ormconfig.json.example",
            "settings.py.sample",
            "app.yaml.dist",
            "present.json",
            "present.json.example",  # the file itself is there
            ".env.example",  # read as variables, not copied
            "tsconfig.json.template",
            "README.md.example",
            "node_modules/x/config.js.example",
        )
    }
    assert example_copies(files) == {
        "src/config.ts": "src/config.ts.example",
        "ormconfig.json": "ormconfig.json.example",
        "settings.py": "settings.py.sample",
        "app.yaml": "app.yaml.dist",
    }


async def test_a_config_file_given_only_as_an_example_is_copied_and_said(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("config_example"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"secret": "secret-key", "root": True}
        system = messages(await service.history(body["gid"]), "system")
        assert "no src/config.js: using src/config.js.example (copied)" in system, system
        assert (await service.stop(body["gid"])).status_code == 200


def test_an_example_sqlite_file_on_its_authors_machine_is_the_apps_own() -> None:
    example = (
        b"DATABASE_URI=sqlite:////path/to/my/code/fastapi-sqlmodel/database.db\n"
        b"ASYNC_URL=sqlite+aiosqlite:////Users/ann/dev/app.db?mode=rwc\n"
        b"TMP_URL=sqlite:////tmp/scratch.db\n"
        b"RELATIVE_URL=sqlite:///./here.db\n"
    )
    found = config_defaults({"main.py": b"", ".env.example": example}, "main.py", {}, set())
    assert found.values == {
        "DATABASE_URI": "sqlite:///./database.db",
        "ASYNC_URL": "sqlite+aiosqlite:///./app.db?mode=rwc",
        "TMP_URL": "sqlite:////tmp/scratch.db",
        "RELATIVE_URL": "sqlite:///./here.db",
    }
    assert any(
        n.startswith("its DATABASE_URI is a SQLite file on another machine") for n in found.notes
    )


def test_numbers_and_reads_with_their_own_default_get_no_secret() -> None:
    """flask-microblog-api (miguelgrinberg): ``int(os.environ.get('ACCESS_TOKEN_MINUTES')
    or '15')`` was given a random token (its name has TOKEN), and its migration failed on
    ``int()``; ``… or 'yes'`` settings were overwritten. A read with its own fallback is
    left to it; one read as a number gets a number (a duration's name: 60)."""
    config = """
import os
from pydantic_settings import BaseSettings

class Config:
    ACCESS_TOKEN_MINUTES = int(os.environ.get('ACCESS_TOKEN_MINUTES') or '15')
    REFRESH_TOKEN_IN_COOKIE = os.environ.get('REFRESH_TOKEN_IN_COOKIE') or 'yes'
    RESET_URL = os.environ.get('PASSWORD_RESET_URL') if os.environ.get('X') else '/r'
    WORKERS = int(os.environ['WORKERS'])
    TOKEN_BYTES = int(os.environ.get('TOKEN_BYTES'))
    SECRET_KEY = os.environ.get('SECRET_KEY')

class Settings(BaseSettings):
    ACCESS_TOKEN_EXPIRE_MINUTES: int
    API_TOKEN: str
"""
    files = {"config.py": config.encode(), "main.py": b"from config import Config\n"}
    kinds = required_types(files)
    assert "ACCESS_TOKEN_MINUTES" not in kinds and "REFRESH_TOKEN_IN_COOKIE" not in kinds
    assert "PASSWORD_RESET_URL" not in kinds
    assert kinds["WORKERS"] == kinds["TOKEN_BYTES"] == "int"
    found = config_defaults(files, "main.py", {}, {"PORT"})
    values = found.values
    assert values["WORKERS"] == values["TOKEN_BYTES"] == "1"
    assert values["ACCESS_TOKEN_EXPIRE_MINUTES"] == "60"
    assert len(values["API_TOKEN"]) >= 32 and len(values["SECRET_KEY"]) >= 32  # secrets
    assert throwaway_value("APP_PORT", "int") is None  # the service's to give


def test_another_services_port_left_empty_by_the_example_gets_its_well_known_one() -> None:
    """fastapi-beyond-CRUD (jod35): its .env.example's ``MAIL_PORT=`` was kept empty for
    ``MAIL_PORT: int``, and the settings class refused '' before alembic could run. An
    int port of another service gets that service's port; the app's own stays unset; an
    empty placeholder of what the service gives (DATABASE_URL) is dropped."""
    settings = b"""
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    MAIL_PORT: int
    SMTP_PORT: int
    REDIS_PORT: int
    SERVER_PORT: int
    MAIL_SERVER: str
    MAIL_FROM: str
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

Config = Settings()
"""
    # its DATABASE_URL= likewise replaced the preview's database with ''
    example = b"DATABASE_URL= \nDATABASE_URL=\nMAIL_PORT=\nMAIL_SERVER=\nMAIL_FROM=\nSERVER_PORT=\n"
    files = {"src/config.py": settings, "src/__init__.py": b"from src.config import Config\n",
             ".env.example": example}  # fmt: skip
    found = config_defaults(files, "src/__init__.py", {}, {"PORT", "DATABASE_URL"})
    assert "DATABASE_URL" not in found.values  # the service's stands
    assert found.values["MAIL_PORT"] == found.values["SMTP_PORT"] == "587"
    assert found.values["REDIS_PORT"] == "6379"
    assert not found.values["SERVER_PORT"] and "SERVER_PORT" in found.missing
    assert throwaway_value("PORT", "int") is None and throwaway_value("HTTP_PORT", "int") is None
    assert throwaway_value("MAIL_PORT", OPTIONAL) is None  # its own default
    # fastapi-mail's ConnectionConfig then refused MAIL_FROM='' (an EmailStr)
    assert found.values["MAIL_FROM"] == "preview@example.com"
    assert throwaway_value("MAIL_FROM_NAME") is None  # a name, not an address


def test_a_node_apps_envalid_requirements_and_reads() -> None:
    files = {p: t.encode() for p, t in app_files("node_envalid").items()}
    files["src/env.test.js"] = b"process.env.ONLY_IN_TESTS"
    files["node_modules/x/index.js"] = b"cleanEnv(process.env, { THEIRS: str() })"
    assert required_types(files) == {
        "ACCESS_TOKEN_SECRET": "", "PORT": "int", "JWT_SECRET": OPTIONAL, "HOST": OPTIONAL,
    }  # fmt: skip
    found = config_defaults(files, "package.json", {}, {"PORT", "HOST"})
    assert sorted(found.generated) == ["ACCESS_TOKEN_SECRET", "JWT_SECRET"]
    assert not found.missing and "S3_BUCKET" not in found.values  # its default


def test_a_zod_schema_parsing_process_env_requires_its_plain_keys() -> None:
    """A Hono auth API (ronsj's): ``envSchema.safeParse(process.env)`` throws "Invalid
    environment variables" naming JWT_SECRET, ``z.string().min(1)``, with no example
    file; a key with ``.default(…)`` or ``.optional()`` is the app's to do without."""
    env = b"""import 'dotenv/config'
import z from 'zod'
export const envSchema = z.object({
  PORT: z.coerce.number().int().positive().default(3000),
  DB_HOST: z.string().min(1),
  DB_PORT: z.coerce.number().int().positive(),
  JWT_SECRET: z.string().min(1),
  LOG_LEVEL: z.enum(['debug', 'info']).optional(),
  MODE: z.enum(["a", "b"]).catch("a"),
})
const parsed = envSchema.safeParse(process.env)
"""
    files = {"package.json": b"{}", "src/data/env.ts": env}
    assert required_types(files) == {
        "DB_HOST": "", "DB_PORT": "int", "JWT_SECRET": "", "PORT": OPTIONAL,
        "LOG_LEVEL": OPTIONAL, "MODE": OPTIONAL,
    }  # fmt: skip
    found = config_defaults(files, "package.json", {}, {"PORT", "DB_HOST", "DB_PORT"})
    assert found.generated == ["JWT_SECRET"] and not found.missing, found


def test_a_fastapi_apps_title_and_version_read_without_a_default() -> None:
    """reinhud's template: ``title: str = os.getenv("APP_TITLE")`` handed to FastAPI, its
    compose file (which sets it) outside the app's folder: "A title must be provided for
    OpenAPI" at start."""
    settings = b"""import os
class AppSettings:
    title: str = os.getenv("APP_TITLE")
    version: str = os.getenv("APP_VERSION")
    prefix: str = os.getenv("API_VERSION")
"""
    found = config_defaults({"app/core/settings.py": settings}, "app/main.py", {}, set())
    assert (found.values["APP_TITLE"], found.values["APP_VERSION"]) == ("Preview", "0.1.0")
    assert "API_VERSION" not in found.values  # a URL's part as often: left to the app


def test_a_nestjs_apps_config_service_and_joi_requirements() -> None:
    """umairansariii's nestjs-typeorm: ``configService.getOrThrow('POSTGRES_SYNC')``, no
    .env, nothing read it: "Configuration key "POSTGRES_SYNC" does not exist" at start."""
    module = b"""import { ConfigService } from '@nestjs/config';
useFactory: (configService: ConfigService) => ({
  host: configService.getOrThrow<string>('POSTGRES_HOST'),
  synchronize: configService.getOrThrow('POSTGRES_SYNC'),
  logging: configService.get<boolean>('DB_LOGGING'),
  prefix: configService.getOrThrow('API_PREFIX', 'api'),
  secret: configService.getOrThrow('JWT_SECRET'),
})"""
    schema = b"""ConfigModule.forRoot({ validationSchema: Joi.object({
  SESSION_SECRET: Joi.string().required(),
  PORT: Joi.number().default(3000),
  WORKERS: Joi.number().integer().min(1).required(),
  NODE_ENV: Joi.string().valid('development', 'production').default('development'),
}) })"""
    files = {
        "package.json": b"{}",
        "src/database/database.module.ts": module,
        "src/app.module.ts": schema,
        "src/app.module.spec.ts": b"configService.getOrThrow('ONLY_IN_TESTS') // ConfigService",
    }
    assert required_types(files) == {
        "SESSION_SECRET": "", "WORKERS": "int", "POSTGRES_HOST": "", "POSTGRES_SYNC": "",
        "JWT_SECRET": "", "PORT": OPTIONAL, "NODE_ENV": OPTIONAL, "DB_LOGGING": OPTIONAL,
        "API_PREFIX": OPTIONAL,
    }  # fmt: skip
    found = config_defaults(files, "package.json", {}, {"PORT", "POSTGRES_HOST"})
    assert found.values["POSTGRES_SYNC"] == "true"  # TypeORM makes its tables at start
    assert found.values["WORKERS"] == "1"
    assert sorted(found.generated) == ["JWT_SECRET", "POSTGRES_SYNC", "SESSION_SECRET", "WORKERS"]
    assert not found.missing, found.missing


def test_an_env_file_a_loader_fails_without_is_written_empty() -> None:
    """FastAPI-boilerplate (igorbenav): ``Config(os.path.join(<its dir>, "..", "..",
    ".env"))`` raised FileNotFoundError for the src/.env its README asks to create."""
    starlette = b"""
import os
from starlette.config import Config
current_file_dir = os.path.dirname(os.path.realpath(__file__))
env_path = os.path.join(current_file_dir, "..", "..", ".env")
config = Config(env_path)
"""
    decoupled = b"""
from pathlib import Path
from decouple import Config, RepositoryEnv
config = Config(RepositoryEnv(Path(__file__).resolve().parents[1] / "settings" / ".env"))
"""
    files = {
        "src/app/core/config.py": starlette,
        "api/conf/load.py": decoupled,
        "other.py": b"from starlette.config import Config\nconfig = Config('/etc/x/.env')\n",
        "outside.py": b"from starlette.config import Config\nconfig = Config('../.env')\n",
    }
    assert env_files_needed(files) == ["api/settings/.env", "src/.env"]
    assert env_files_needed({**files, "src/.env": b"X=1\n"}) == ["api/settings/.env"]
    # django-dotenv's read_dotenv(<the project's root>) opens the directory itself when
    # it holds no .env (IsADirectoryError): a Vivify boilerplate's settings package.
    django_dotenv = b"""
import os
import dotenv
ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if not TESTING:
    dotenv.read_dotenv(ROOT_DIR)
"""
    assert env_files_needed({"src/config/common.py": django_dotenv, ".env.dist": b"A=1\n"}) == [
        ".env"
    ]


GUNICORN_CONF = """
import os
workers = 2
if os.environ.get("ENVIRONMENT") == "production":  # a server's settings
    daemon = True
    accesslog = "/var/log/flaskblueprint/info.log"
    errorlog = "/var/log/flaskblueprint/error.log"
    pidfile = "/var/run/app.pid"
"""


async def test_gunicorns_settings_for_a_server_keep_it_in_the_foreground(
    builder_service: Service,
) -> None:
    """flask-blueprint-tutorial: its gunicorn.conf.py (read by gunicorn unasked) set
    daemon = True and logs under /var/log; the start exited 0 at once, printing nothing."""
    files = {
        "wsgi.py": "from flask import Flask\napp = Flask(__name__)\n\n"
        "@app.get('/')\ndef index():\n    return 'hello'\n",
        "requirements.txt": "flask\n",
        "gunicorn.conf.py": GUNICORN_CONF,
        ".env": "ENVIRONMENT=production\n",
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        headers = {**auth(), "X-Preview-Token": body["previewToken"]}
        answer = await builder_service.client.post(
            f"/api/generations/{body['gid']}/preview/request",
            json={"method": "GET", "path": "/"}, headers=headers,
        )  # fmt: skip
        assert answer.json()["statusCode"] == 200, answer.text
        system = messages(await builder_service.history(body["gid"]), "system")
        assert any(m.startswith("gunicorn reads the app's settings file through") for m in system)
        assert (await builder_service.stop(body["gid"])).status_code == 200
    # A Procfile's own -c is read through ours too; no settings file, nothing changes.
    procfile = ("sh", "-c", "gunicorn --config=conf/gun.py wsgi:app --bind 0.0.0.0:$PORT")
    argv, shim = gunicorn_settings(procfile, {})
    assert argv[2] == f"gunicorn --config={GUNICORN_SHIM} wsgi:app --bind 0.0.0.0:$PORT"
    assert shim is not None and b"run_path('conf/gun.py')" in shim
    plain = ("sh", "-c", "gunicorn wsgi:app")
    assert gunicorn_settings(plain, {}) == (plain, None)
    assert gunicorn_settings(plain, {"gunicorn.conf.py": b""})[0][2] == (
        f"gunicorn -c {GUNICORN_SHIM} wsgi:app"
    )


def test_heroku_app_json_env_is_a_default() -> None:
    """django-vue-template: app.json sets DJANGO_SETTINGS_MODULE=backend.settings.prod for
    its release (migrate) and its web process; manage.py defaults to .dev (SQLite), so the
    migrations went to SQLite while the app read PostgreSQL."""
    app_json = b"""{"name": "x", "env": {
        "DJANGO_SETTINGS_MODULE": {"description": "d", "value": "backend.settings.prod"},
        "SECRET_KEY": {"generator": "secret"},
        "ALLOWED_HOSTS": {"value": "myapp.herokuapp.com"},
        "DATABASE_URL": {"value": "postgres://heroku"},
        "WEB_CONCURRENCY": "2"}}"""
    files = {"app.json": app_json, "manage.py": b""}
    found = config_defaults(files, "manage.py", {"WEB_CONCURRENCY": "1"}, {"DATABASE_URL"})
    assert found.values["DJANGO_SETTINGS_MODULE"] == "backend.settings.prod"
    assert len(found.values["SECRET_KEY"]) >= 32
    assert "ALLOWED_HOSTS" not in found.values  # its deployment's host, not the preview's
    assert "DATABASE_URL" not in found.values  # the service's own
    assert "WEB_CONCURRENCY" not in found.values  # the .env's wins
    assert any(n.startswith("app.json: DJANGO_SETTINGS_MODULE") for n in found.notes)
    assert config_defaults({**files, "app.json": b"[1"}, "manage.py", {}, set()).values == {}


def test_an_examples_deployment_values_are_not_the_previews() -> None:
    """drf-jwt-httponly-cookie: its .env.example named core.settings.prod (not in the
    upload: manage.py's .local is) and DJANGO_ALLOWED_HOSTS=example.com (400 to every
    call); both left to what the app does without them."""
    files = {
        "backend/manage.py": b"",
        "backend/core/settings/local.py": b"",
        ".env.example": b'DJANGO_SETTINGS_MODULE="core.settings.prod"\n'
        b"DJANGO_ALLOWED_HOSTS=example.com,api.example.com\nSESSION_COOKIE_DOMAIN=.example.com\n"
        b"CSRF_TRUSTED_ORIGINS=https://example.com\nOTHER=1\n",
        "backend/core/settings/base.py": b"from decouple import config\n"
        b"ALLOWED_HOSTS = config('DJANGO_ALLOWED_HOSTS')\n",
    }
    found = config_defaults(files, "backend/manage.py", {}, set())
    assert "DJANGO_SETTINGS_MODULE" not in found.values
    assert found.values["DJANGO_ALLOWED_HOSTS"] == "*"  # required: the throwaway
    assert "SESSION_COOKIE_DOMAIN" not in found.values
    assert found.values["OTHER"] == "1" and "CSRF_TRUSTED_ORIGINS" in found.values
    assert "its DJANGO_SETTINGS_MODULE names its deployment (core.settings.prod): unset" in (
        found.notes
    )
    there = {**files, "backend/core/settings/prod.py": b""}
    assert config_defaults(there, "backend/manage.py", {}, set()).values[
        "DJANGO_SETTINGS_MODULE"
    ] == "core.settings.prod"  # fmt: skip


def test_a_node_apps_compose_service_environment_is_its_configuration() -> None:
    """kyhsa93's nestjs-rest-cqrs-example: AWS_REGION, EMAIL … are set only by its
    compose service's environment (a list of K=V); its config validation exited on them."""
    files = {p: t.encode() for p, t in app_files("node_compose_app_env").items()}
    found = config_defaults(files, "package.json", {}, {"PORT", "DATABASE_URL"})
    assert found.values == {
        "QUEUE_REGION": "eu-west-1",
        "SENDER_EMAIL": "no-reply@example.com",
        "FEATURE_SYNC": "true",
    }  # not its container's mode, nor another service's endpoint, nor the worker's
    assert "its compose service api: FEATURE_SYNC, QUEUE_REGION, SENDER_EMAIL" in found.notes[0]
    # Its own .env (given) wins; a Python app's compose is not read so.
    given = config_defaults(files, "package.json", {"QUEUE_REGION": "x"}, {"PORT"})
    assert "QUEUE_REGION" not in given.values
    python = {**files, "main.py": b"import os\n"}
    assert "QUEUE_REGION" not in config_defaults(python, "main.py", {}, {"PORT"}).values


async def test_a_node_app_configured_by_its_compose_service_starts(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_compose_app_env"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.client.post(
            f"/api/generations/{body['gid']}/preview/request",
            json={"method": "GET", "path": "/"},
            headers={**auth(), "X-Preview-Token": body["previewToken"]},
        )
        assert answer.json()["data"] == {
            "region": "eu-west-1",
            "sender": "no-reply@example.com",
            "endpoint": None,
            "env": "development",
        }
        assert (await service.stop(body["gid"])).status_code == 200


def test_an_env_file_a_script_copies_is_one_the_service_writes() -> None:
    """bugoverfl0w's fastify-sequelize-basic builds with ``babel ./src --out-dir build; cp
    ./src/.env ./build/``, its upload holding src/.env.example: "cp: cannot stat"."""
    files = {p: t.encode() for p, t in app_files("node_build_copies_env").items()}
    assert start_env_files(files, "package.json", ("npm", "start")) == ["src/.env"]
    present = {**files, "src/.env": b"GREETING=mine\n"}
    assert start_env_files(present, "package.json", ("npm", "start")) == []


async def test_an_app_whose_build_copies_its_env_file_builds(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_build_copies_env"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.client.post(
            f"/api/generations/{body['gid']}/preview/request",
            json={"method": "GET", "path": "/"},
            headers={**auth(), "X-Preview-Token": body["previewToken"]},
        )
        assert answer.json()["data"] == {"greeting": "hello from the example"}
        assert (await service.stop(body["gid"])).status_code == 200
