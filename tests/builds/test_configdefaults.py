"""Configuration an upload only describes: its .env.example stands in for the .env it
lacks, the variables its settings class and os.environ require get throwaway values
where their names say what they are (listed by name in the status), and what cannot be
guessed fails with one message naming every variable. Real builds, launched as uploaded."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import trio

from preview.apps.configvars import (
    OPTIONAL,
    config_selectors,
    example_env_file,
    json_settings_fields,
    meaning,
    readme_copied_env,
    required_types,
    required_variables,
    router_prefix_defaults,
    served_database,
    typed_reads,
)
from preview.apps.configvars.readmeenv import with_readme_example
from preview.apps.detect import detect
from preview.apps.node.envreads import (
    database_option_reads,
    node_env_reads,
    schema_choices,
    sqlite_file_reads,
    unset_when_empty,
)
from preview.apps.spec import LaunchSpec
from preview.backing.postgres import postgres_variables
from preview.backing.servers.mongo import mongo_environment
from preview.backing.servers.mysql import STAND_IN_PASSWORD, mysql_environment
from preview.backing.wanted import MysqlWanted, wanted_servers
from preview.backing.wants import postgres_wants
from preview.builds.appenv import app_environment, database_urls_by_meaning, dotenv_file
from preview.builds.configdefaults import (
    GUNICORN_SHIM,
    STAND_IN,
    config_defaults,
    env_files_needed,
    env_files_read_only,
    example_copies,
    gunicorn_settings,
    ini_database_fills,
    lan_host_files,
    lan_hosts_mended,
    node_dotenv_result_files,
    node_env_named_files,
    settings_misfits,
    stand_in_value,
    start_env_files,
    throwaway_value,
)
from preview.builds.preparation import MissingFiles
from preview.logs import failure_cause

from ..conftest import Service, auth
from ..launching import (
    APPS,
    BUILD_WAIT,
    app_files,
    called,
    launch_environment,
    launched,
    messages,
)

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
        "APP_NAME": "str",
        "SERVICE_TOKEN": "str",
        "MAIL_HOST": "",
        "HASH_SALT": "",
        "HOME_DIR": OPTIONAL,
    }
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
    # DrMinh's FastifyMinimalProject: its .env.dev alone, its @fastify/env schema requiring
    # the TEST it sets ("env must have required property 'TEST'"); after any example.
    own = {"package.json": b"{}", ".env.dev": b"TEST = 123\n"}
    assert example_env_file(own, "package.json") == ".env.dev"
    assert config_defaults(own, "package.json", {}, {"PORT": "1"}).values == {"TEST": "123"}
    assert example_env_file({**own, ".env.sample": b""}, "package.json") == ".env.sample"
    assert example_env_file({"package.json": b"{}", "env": b"", "bin/env": b""}, "x") is None


def test_throwaway_values_only_where_the_name_says_what_it_is() -> None:
    assert throwaway_value("DEBUG") == "true"
    assert len(throwaway_value("JWT_SECRET_KEY") or "") >= 32
    assert throwaway_value("SECRET_KEY") != throwaway_value("SECRET_KEY")
    assert throwaway_value("WEBHOOK_HOST") is None  # another service's: not guessable
    # The mail server it sends through: none is reached from a preview (its egress), and a
    # local one refusing the connection lets it start, as Django's console backend does.
    assert throwaway_value("SMTP_HOST") == throwaway_value("MAIL_SERVER") == "localhost"
    assert throwaway_value("TIME_ZONE") == throwaway_value("TZ") == "UTC"
    assert throwaway_value("API_URL") == "http://localhost"  # its own API's address
    assert throwaway_value("SERVER_NAME") == throwaway_value("APP_DOMAIN") == "localhost"
    # Flask's, read with a default of None: unset is Flask's default (every host served).
    assert throwaway_value("SERVER_NAME", OPTIONAL) is None
    assert throwaway_value("APP_DOMAIN", OPTIONAL) == "localhost"
    assert throwaway_value("WIFI_DOMAIN", "str") == "localhost"  # its machine's, on its wifi
    assert throwaway_value("FRONTEND_URL") == "http://localhost"
    assert (
        throwaway_value("FRONTEND_SITE_URL")
        == throwaway_value("PUBLIC_API_URL")
        == ("http://localhost")
    )
    assert throwaway_value("SENTRY_API_URL") is None  # another service's
    assert throwaway_value("PROJECT_NAME") == "Preview"
    # Anasothman55's FastAPI-Gym-api requires the full-stack FastAPI template's STACK_NAME,
    # its sender's EMAILS_NAME and SMTP_TLS / SMTP_SSL (typed str): its name, the name, off.
    assert throwaway_value("STACK_NAME", "str") == throwaway_value("EMAILS_NAME") == "Preview"
    assert throwaway_value("SMTP_TLS", "str") == throwaway_value("SMTP_SSL") == "false"
    assert throwaway_value("SMTP_USERNAME") != "Preview"
    assert throwaway_value("FIRST_SUPERUSER_EMAIL") == "preview@example.com"
    assert throwaway_value("POSTGRES_USER") is None
    assert throwaway_value("FIRST_SUPERUSER", "EmailStr") == "preview@example.com"
    assert len(throwaway_value("OPENAI", "SecretStr | None") or "") >= 32
    # fastapi-jwt (testdriven): decouple's config("algorithm") beside config("secret").
    assert throwaway_value("algorithm") == throwaway_value("JWT_ALGORITHM") == "HS256"
    # fastapi-delivery-project (khudoteplov): a settings field ``algo: str``.
    assert throwaway_value("algo", "str") == throwaway_value("JWT_ALG") == "HS256"
    assert throwaway_value("ALGOLIA_APP_ID") != "HS256"
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


async def test_a_client_host_read_by_destructuring_gets_the_previews_address(
    builder_service: Service,
) -> None:
    """minjman2659's Koa-rest-api: ``const { CLIENT_HOST } = process.env`` (its CORS origin),
    empty in its .env.example, and ``throw new Error('MISSING_ENVAR')`` without it. A
    destructured read is a read (FRONTEND_URL here, in no example), and a client's host
    is an address of the app's own."""
    files = app_files("node_client_host_destructured")
    found = config_defaults({p: t.encode() for p, t in files.items()}, "package.json", {}, {"PORT"})
    assert found.values["CLIENT_HOST"] == found.values["FRONTEND_URL"] == "http://localhost"
    assert throwaway_value("FRONTEND_HOST") == "http://localhost"
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.client.get(
            f"/api/generations/{body['gid']}/preview/proxy/",
            headers={**auth(), "X-Preview-Token": body["previewToken"]},
        )
        assert answer.json() == {"client": "http://localhost", "frontend": "http://localhost"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_an_examples_value_its_schema_does_not_allow_is_its_first_allowed() -> None:
    """kirilldevm's nestjs-postgres-tasks-api: ``DB_SYNC: Joi.number().valid(0, 1)`` beside
    ``DB_SYNC=0_or_1_for_true_or_false`` in its .env.example ("Config validation error");
    an allowed value of the example's (MODE=dev) and the app's own .env's are kept."""
    files = {p: t.encode() for p, t in app_files("node_joi_valid_choices").items()}
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["DB_SYNC"] == "0"
    assert found.values["LOG_FORMAT"] == "json"
    assert found.values["MODE"] == "dev"
    assert any("DB_SYNC" in note and "(0, 1)" in note for note in found.notes)
    own = config_defaults(files, "package.json", {"DB_SYNC": "1"}, set())
    assert not any("DB_SYNC" in note for note in own.notes)  # the app's own .env's: kept
    zod = b'const env = z.object({ MODE: z.enum(["a", "b"]) }).parse(process.env)\n'
    assert schema_choices({"env.ts": zod}) == {"MODE": ["a", "b"]}


def test_an_examples_empty_value_node_code_reads_with_its_own_fallback_stays_empty() -> None:
    """hungvt639's express-2023: ``CORS_ORIGIN=`` in its .env.example, read as
    ``(process.env.CORS_ORIGIN || "").split(" ").map((o) => new RegExp(o))``; given "*",
    every start died on "Invalid regular expression: /*/". A secret read so is still
    given one (an empty JWT secret signs nothing), and one read bare still gets "*"."""
    env = (
        b'export const CORS = (process.env.CORS_ORIGIN || "").split(" ").map((o) => '
        b"new RegExp(o));\nexport const SECRET = process.env.JWT_SECRET ?? '';\n"
    )
    files = {
        "package.json": b'{"name": "x", "scripts": {"start": "node src/index.js"}}',
        ".env.example": b"CORS_ORIGIN=\nJWT_SECRET=\n",
        "src/config/env.js": env,
    }
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["CORS_ORIGIN"] == ""
    assert found.values["JWT_SECRET"] and "JWT_SECRET" in found.generated
    bare = env.replace(b'(process.env.CORS_ORIGIN || "")', b"process.env.CORS_ORIGIN")
    found = config_defaults({**files, "src/config/env.js": bare}, "package.json", {}, {"PORT"})
    assert found.values["CORS_ORIGIN"] == "*"


def test_the_services_node_env_its_schema_does_not_allow_is_its_development_one() -> None:
    """mateuschaves's weather-fastify: ``NODE_ENV: z.enum(['dev', 'test', 'production'])``
    parsed from process.env; the preview's NODE_ENV=development, "Invalid environment
    variables" at every start. A schema that allows development keeps it."""
    schema = b"""import { z } from 'zod'
const envSchema = z.object({
  NODE_ENV: z.enum(['test', 'dev', 'production']).default('dev'),
  PORT: z.coerce.number().default(3000),
})
const _env = envSchema.safeParse(process.env)
"""
    package = b'{"scripts": {"start": "node src/env/index.ts"}, "dependencies": {"zod": "^3"}}'
    files = {"package.json": package, "src/env/index.ts": schema}
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW, detection=detect(files)
    )
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert launch_environment(spec, found.values)["NODE_ENV"] == "dev"
    allowed = {**files, "src/env/index.ts": schema.replace(b"'dev'", b"'development'")}
    assert "NODE_ENV" not in config_defaults(allowed, "package.json", {}, {"PORT"}).values
    neither = {**files, "src/env/index.ts": schema.replace(b"'dev', ", b"")}
    assert config_defaults(neither, "package.json", {}, {"PORT"}).values["NODE_ENV"] == "test"


def test_the_environment_db_migrate_runs_on_is_one_its_database_json_defines() -> None:
    """OmarMAttia7's express-storefront-backend: ``dbmigrate.getInstance(true, { env:
    env("ENV") })``, its database.json defining ``dev`` and ``test``, its example's ENV=
    empty: given "development", "Environment(s) 'development' not found"."""
    server = b"app.listen(port, async () => {\n  await dbmigrate\n"
    server += b'    .getInstance(true, { env: env("ENV") })\n    .up()\n})\n'
    database = b'{"test": {"driver": "pg"}, "dev": {"driver": "pg"}}'
    files = {
        "package.json": b'{"dependencies": {"db-migrate": "^0.11"}}',
        "src/server.ts": server,
        "database.json": database,
        ".env.example": b"ENV=\nJWT_SECRET=\n",
    }
    assert schema_choices(files) == {"ENV": ["dev", "test"]}
    assert config_defaults(files, "package.json", {}, {"PORT"}).values["ENV"] == "dev"
    process = server.replace(b'env("ENV")', b"process.env.NODE_ENV")
    assert schema_choices({**files, "src/server.ts": process}) == {"NODE_ENV": ["dev", "test"]}


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
    assert "SENTRY_DSN" not in found.values  # read with a default: left unset


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


async def test_django_environ_prefixed_reads_get_their_values_under_the_prefix(
    builder_service: Service,
) -> None:
    """billy0402's django-rest-project-template: ``env.prefix = "DJANGO_"``, then
    ``env.str("SECRET_KEY")`` reads DJANGO_SECRET_KEY; SECRET_KEY given, migrate died on
    ImproperlyConfigured ("Set the DJANGO_SECRET_KEY environment variable"). Its
    ``env.list("ALLOWED_HOSTS", default=[])`` is DJANGO_ALLOWED_HOSTS, a host list."""
    files = {p: t.encode() for p, t in app_files("django_environ_prefixed").items()}
    assert required_types(files) == {"DJANGO_SECRET_KEY": ""}
    assert required_variables(
        {"s.py": b'import environ\nenv = environ.Env(prefix="APP_")\nX = env("KEY")\n'}
    ) == ["APP_KEY"]
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("django_environ_prefixed"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["generatedEnv"] == ["DJANGO_ALLOWED_HOSTS", "DJANGO_SECRET_KEY"]
        assert (await service.app_get(body, "/")).json() == {"secret": True}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_development_environments_env_file_stands_in_for_an_example(
    builder_service: Service,
) -> None:
    """qlawmarq's fastapi-mysql-docker: api/local.env (its compose file's env_file) and
    no example, so DATABASE_HOST & co. were never given. A development environment's own
    file is read as an example, after any example file of the folder."""
    files = app_files("fastapi_local_env")
    encoded = {p: t.encode() for p, t in files.items()}
    assert example_env_file(encoded, "main.py") == "local.env"
    beside = {**encoded, ".env.example": b"APP_GREETING=x\n"}
    assert example_env_file(beside, "main.py") == ".env.example"
    assert example_env_file({"main.py": b"", "prod.env": b"A=1\n"}, "main.py") is None
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"greeting": "hello from local.env"}
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
    cause = failure_cause(["Traceback (most recent call last):", *decouple])
    assert cause is not None and cause.startswith("the variable SMTP_HOST is needed")


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


async def test_the_env_its_ci_workflow_writes_makes_it_start(builder_service: Service) -> None:
    """deight93's fastapi-boilerplate: its settings read ENV_STATE from a .env, then every
    other value under the prefix it names (DEV_DEBUG as DEBUG); no example file says any
    of them, its CI workflow writes them (``cat <<EOF > .env``): "these 4 variables are
    needed: ENV_STATE, ADMIN_ID, ..." until that .env was read as the example."""
    files = with_readme_example(_bytes("fastapi_ci_written_env"))
    found = config_defaults(files, "app/main.py", {}, {"PORT": "8000"})
    assert found.values["ALLOWED_ORIGINS"] == "*" and not found.missing
    assert any("ALLOWED_ORIGINS as DEV_ALLOWED_ORIGINS" in n for n in found.notes)
    # Under a prefix no variable's value names, nothing is taken.
    files[".env.ci-example"] = files[".env.ci-example"].replace(b"ENV_STATE=dev", b"ENV_STATE=x")
    unprefixed = config_defaults(files, "app/main.py", {}, {"PORT": "1"})
    assert not any("as DEV_" in n for n in unprefixed.notes), unprefixed.notes
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_ci_written_env"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        about = (await service.app_get(body, "/about")).json()
        assert about == {"state": "dev", "admin": "admin", "debug": True, "origins": "*"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_what_its_example_lacks_comes_from_its_other_env_files(
    builder_service: Service,
) -> None:
    """noman13bd's fastapi-mysql-async-boilerplate: its settings require CELERY_BROKER_URL
    and ES_URL, which its example.env lacks and its .env.local sets ("these 2 variables
    are needed"). The example's values stay; what it lacks comes from the other file."""
    files = _bytes("fastapi_env_local_beside_example")
    found = config_defaults(files, "main.py", {}, {"PORT": "8000"})
    assert found.example == "example.env" and not found.missing
    assert found.values["PROJECT_NAME"] == "Heroes (example)"
    assert found.values["SEARCH_URL"] == "http://search:9200"  # its last, as dotenv reads
    assert "SEARCH_URL as .env.local gives them (its example has none)" in found.notes
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_env_local_beside_example"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        about = (await service.app_get(body, "/about")).json()
        assert about == {"project": "Heroes (example)", "search": "http://search:9200"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_field_typed_an_ip_address_gets_the_loopbacks(builder_service: Service) -> None:
    """ctrl-kitty's fastapi-sqlmodel types BACKEND_HOST as IPvAnyAddress and its README's
    .env leaves it to fill in: "the settings class Settings rejects BACKEND_HOST (value is
    not a valid IPv4 or IPv6 address)". Given 127.0.0.1; a host name is given it too."""
    files = _bytes("fastapi_settings_ip_host")
    found = config_defaults(files, "main.py", {}, {"PORT": "8000"})
    assert found.values["BACKEND_HOST"] == "127.0.0.1" and not found.missing
    named = {**files, ".env.example": b"PROJECT_NAME=Kitty\nBACKEND_HOST=api.local\n"}
    assert (
        config_defaults(named, "main.py", {}, {"PORT": "1"}).values["BACKEND_HOST"] == "127.0.0.1"
    )
    ip = {**files, ".env.example": b"PROJECT_NAME=Kitty\nBACKEND_HOST=10.0.0.5\n"}
    assert config_defaults(ip, "main.py", {}, {"PORT": "1"}).values["BACKEND_HOST"] == "10.0.0.5"
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_settings_ip_host"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        about = (await service.app_get(body, "/about")).json()
        assert about == {"project": "Kitty", "host": "127.0.0.1"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_settings_field_of_a_nested_model_is_read_from_its_own_variables(
    builder_service: Service,
) -> None:
    """dgucik's fastapi-auth-boilerplate: ``mail: MailSettings`` (a BaseModel) is read from
    MAIL__SERVER … (env_nested_delimiter), which its example gives; a throwaway address
    was given as MAIL, and pydantic-settings refused it ('error parsing value for field
    "mail"'). Such a field is no variable to make up."""
    files = _bytes("fastapi_nested_settings")
    nested = dict.fromkeys(("MAIL__USERNAME", "MAIL__FROM", "MAIL__SERVER"), "str")
    assert required_types(files) == {"APP_BASE_URL": "str", **nested}
    found = config_defaults(files, "main.py", {}, {"PORT": "8000"})
    assert "MAIL" not in found.values and not found.missing
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_nested_settings"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/mail")).json() == {
            "server": "smtp.example.com",
            "port": 587,
        }
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_nested_models_required_fields_are_its_variables() -> None:
    """Nikolailavr's FastapiUsersTemplate: ``db: DatabaseConfig`` (a required ``url:
    PostgresDsn``) and ``access_token: AccessToken`` (two secrets) under
    ``env_prefix="APP_CONFIG__"`` and ``env_nested_delimiter="__"``, no example: its start
    died on "Field required" for both. Each required field of a nested model is a variable
    of its own, its database URL the served one's, its secrets throwaways."""
    config = b"""from pydantic import BaseModel, PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class RunConfig(BaseModel):
    port: int = 8000


class DatabaseConfig(BaseModel):
    url: PostgresDsn
    echo: bool = False


class AccessToken(BaseModel):
    lifetime_seconds: int = 3600
    reset_password_token_secret: str
    verification_token_secret: str


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_nested_delimiter="__", env_prefix="APP_CONFIG__")
    run: RunConfig = RunConfig()
    db: DatabaseConfig
    access_token: AccessToken


settings = Settings()
"""
    files = {"pyproject.toml": b"[project]\nname = 'x'\n", "src/core/config.py": config}
    assert required_types(files) == {
        "APP_CONFIG__DB__URL": "PostgresDsn",
        "APP_CONFIG__ACCESS_TOKEN__RESET_PASSWORD_TOKEN_SECRET": "str",
        "APP_CONFIG__ACCESS_TOKEN__VERIFICATION_TOKEN_SECRET": "str",
    }
    served = "postgresql://preview:pw@127.0.0.1:5432/app"
    found = config_defaults(files, "src/main.py", {}, {"PORT": "8000", "DATABASE_URL": served})
    assert found.values["APP_CONFIG__DB__URL"].startswith("postgresql"), found.values
    assert not found.missing, found.missing
    secrets = ("RESET_PASSWORD_TOKEN_SECRET", "VERIFICATION_TOKEN_SECRET")
    assert {f"APP_CONFIG__ACCESS_TOKEN__{name}" for name in secrets} <= set(found.generated)
    # Without the delimiter, a nested model is read as JSON: no variable of its fields.
    plain = config.replace(b'env_nested_delimiter="__", ', b"")
    assert required_types({**files, "src/core/config.py": plain}) == {}


async def test_an_examples_secret_to_change_is_a_throwaway(builder_service: Service) -> None:
    """moisesneivert's flask-jwt-auth-api refuses its example's SECRET_KEY
    (change-this-flask-secret) at start: "Production secrets must be configured with
    strong environment values". A secret the example asks its reader to change is given
    a throwaway value, as an empty one is; another of its values is kept."""
    files = _bytes("flask_refuses_example_secrets")
    found = config_defaults(files, "app.py", {}, {"PORT": "8000"})
    assert {"SECRET_KEY", "JWT_SECRET_KEY"} <= set(found.generated)
    assert found.values["APP_NAME"] == "Auth"
    kept = {**files, ".env.example": b"SECRET_KEY=s3cr3t-of-its-own\nJWT_SECRET_KEY=x\n"}
    assert config_defaults(kept, "app.py", {}, {"PORT": "1"}).values["SECRET_KEY"] == (
        "s3cr3t-of-its-own"
    )
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_refuses_example_secrets"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        about = (await service.app_get(body, "/about")).json()
        assert about["app"] == "Auth" and min(about["secrets"]) >= 32
        assert (await service.stop(body["gid"])).status_code == 200


async def test_what_cannot_be_guessed_starts_with_stand_ins_named(
    builder_service: Service,
) -> None:
    """Two fields no rule can fill (WEBHOOK_HOST, STORAGE_BUCKET): the app starts on
    stand-ins, which the status and a system line name; given real ones, it takes them."""
    service = builder_service
    files = app_files("env_example")
    del files[".env.example"]
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["standInEnv"] == ["WEBHOOK_HOST", "STORAGE_BUCKET"]
        system = messages(await service.history(body["gid"]), "system")
        said = [m for m in system if m.startswith("the app requires WEBHOOK_HOST, STORAGE_BUCKET")]
        assert said and "given stand-in values so that it starts" in said[0]
        assert "give the real ones with the launch option env" in said[0]
        assert body["runtime"]["generatedEnv"] == [
            "PROJECT_NAME",
            "ADMIN_EMAIL",
            "SECRET_KEY",
            "JWT_SECRET",
            "DEBUG",
            "API_TOKEN",
        ]
        hooks = await service.app_get(body, "/hooks")
        assert hooks.json() == {"webhook": "localhost", "bucket": STAND_IN}
        # Given them, it runs on them, and nothing stands in.
        assert (await service.stop(body["gid"])).status_code == 200
        env = {"WEBHOOK_HOST": "hooks.example.com", "STORAGE_BUCKET": "b"}
        again = (await service.launch(body["gid"], tier="pro", env=env)).json()
        assert again["status"] == "running", again
        assert again["runtime"]["standInEnv"] == []
        hooks = await service.app_get(again, "/hooks")
        assert hooks.json() == {"webhook": "hooks.example.com", "bucket": "b"}
        assert (await service.stop(body["gid"])).status_code == 200
        stopped = await service.status(body["gid"])
        assert stopped["runtime"]["standInEnv"] == []  # from the stored row too


def test_stand_ins_take_a_value_the_code_compares_with_else_their_shape() -> None:
    """michelcodeur's drf-restaurants: ``os.environ['MODE'] == 'dev'`` in its settings,
    MODE set by nobody: the development value it tells apart; the others by their type
    and name's shape."""
    settings = b"""import os
from pydantic_settings import BaseSettings
DEBUG = True if os.environ['MODE'] == 'dev' else False
STAGE = os.environ["STAGE"]
if STAGE.lower() in ("production", "local"):
    pass
class Settings(BaseSettings):
    s3_endpoint: str
    cdn_host: str
    redis_db: str
    redis_username: str
    tags: list[str]
    flags: dict[str, bool]
    use_cache: bool
    bucket: str
settings = Settings()
if settings.BUCKET == "uploads":
    pass
"""
    found = config_defaults({"settings.py": settings}, "", {}, {})
    stood = {name: found.values[name] for name in found.stand_ins}
    assert stood == {
        "MODE": "dev",
        "STAGE": "local",
        "S3_ENDPOINT": "http://localhost:9",
        "CDN_HOST": "localhost",
        "REDIS_DB": "0",
        "REDIS_USERNAME": "default",
        "TAGS": "[]",
        "FLAGS": "{}",
        "BUCKET": "uploads",
    }
    assert found.missing == list(stood)  # still named: a failure says every one
    assert stand_in_value("USE_CACHE", "bool") == "false"
    assert stand_in_value("WHATEVER", "str") == STAND_IN
    # A server's URL typed by its scheme (hyoseok0604's fastapi-deploy: ``rabbitmq_uri:
    # AmqpDsn``, "URL scheme should be 'amqp' or 'amqps'" on an http stand-in): that scheme.
    assert stand_in_value("RABBITMQ_URI", "AmqpDsn") == "amqp://localhost:9/"
    # MinIO's SDK takes its endpoint as a host alone (NovikovaAleAle's nestCRUD: "Invalid
    # endPoint : http://localhost:9"); another service's endpoint is a URL.
    assert stand_in_value("MINIO_ENDPOINT") == "localhost"
    assert stand_in_value("S3_ENDPOINT") == "http://localhost:9"
    assert stand_in_value("BROKER", "pydantic.KafkaDsn") == "kafka://localhost:9/"
    assert stand_in_value("CALLBACK_URL", "HttpUrl") == "http://localhost:9"


def test_django_settings_naming_its_own_modules_get_its_layouts() -> None:
    """ruslankrivoshein's DRFExample: ``ROOT_URLCONF = env.str('ROOT_URLCONF')`` in a
    settings package under src/, no example of it: a stand-in string answered every
    route "No module named 'preview-stand-in'". What startproject would have written for
    its layout, as imported from manage.py's folder; a setting with no such module left
    a stand-in; one read with a default of its own keeps it."""
    settings = b"""import environ
env = environ.Env()
INSTALLED_APPS = ['account']
ROOT_URLCONF = env.str('ROOT_URLCONF')
WSGI_APPLICATION = env('WSGI_APP')
ASGI_APPLICATION = env('ASGI_APP')
STATIC_URL = env.str('STATIC_URL')
MEDIA_URL = env.str('MEDIA_URL', default='/uploads/')
"""
    files = {
        "src/manage.py": b"import os\n",
        "src/social_network/__init__.py": b"",
        "src/social_network/settings/__init__.py": b"from .django import *\n",
        "src/social_network/settings/django.py": settings,
        "src/social_network/urls.py": b"urlpatterns = []\n",
        "src/social_network/wsgi.py": b"application = None\n",
    }
    found = config_defaults(files, "src/manage.py", {}, {})
    assert found.values["ROOT_URLCONF"] == "social_network.urls"
    assert found.values["WSGI_APP"] == "social_network.wsgi.application"
    assert found.values["STATIC_URL"] == "/static/"
    assert "MEDIA_URL" not in found.values
    assert found.stand_ins == ["ASGI_APP"]  # no asgi.py: nothing of its own to name


def test_a_settings_field_another_read_defaults_takes_that_default() -> None:
    """topgun312's fastapi-business-management-and-control-app: ``MODE: str`` required by
    its Settings, ``os.getenv("MODE", "DEV")`` in its main.py: MODE was taken as defaulted,
    given nothing, and pydantic's "Field required" killed its start. The read's default
    is given; a read without a constant default leaves a stand-in of its shape."""
    settings = b"""import os
from pydantic_settings import BaseSettings
class Settings(BaseSettings):
    MODE: str
    LEVEL: str
    CACHE_HOST: str
settings = Settings()
"""
    main = b"""import os
env_name = os.getenv("MODE", "DEV")
level = os.getenv("LEVEL", "info") if os.getenv("LEVEL", "warn") else None
host = os.getenv("CACHE_HOST")
"""
    found = config_defaults({"config.py": settings, "main.py": main}, "main.py", {}, {})
    stood = {name: found.values.get(name) for name in found.stand_ins}
    assert stood == {"MODE": "DEV", "CACHE_HOST": "localhost"}
    assert any("MODE=DEV: its code's own default" in note for note in found.notes)


def test_a_settings_class_made_of_other_settings_classes_is_read() -> None:
    """mhavshyn's FastApi-pet: ``class Settings(CoreSettings, …, PaymentSettings)`` with
    fields of its own, in a module apart from its parts: they were unseen, given nothing,
    and its Alembic step died of pydantic's "Field required"."""
    parts = b"""from pydantic_settings import BaseSettings
class CoreSettings(BaseSettings):
    APP_NAME: str = "Shop"
class S3Settings(BaseSettings):
    S3_BUCKET: str
"""
    whole = b"""from app.parts import CoreSettings, S3Settings
class Settings(CoreSettings, S3Settings):
    SENTRY_DNS: str
    BETTER_STACK_URL: str
class Local(Settings):
    LOCAL_ONLY: str
settings = Settings()
"""
    found = config_defaults({"app/parts.py": parts, "app/settings.py": whole}, "", {}, {})
    assert found.values["SENTRY_DNS"] == ""  # no error tracker's project: none
    assert found.values["BETTER_STACK_URL"] == "http://localhost:9"
    assert found.missing == ["S3_BUCKET", "BETTER_STACK_URL", "LOCAL_ONLY"]


def test_a_settings_class_on_base_settings_imported_under_another_name_is_read() -> None:
    """francomz92's e-commerce-fastapi: ``from pydantic_settings import BaseSettings as
    BaseConfig``, ``class Settings(BaseConfig)`` requiring ENVIRONMENT and TIME_ZONE:
    unseen, nothing was given and both were "needed"."""
    settings = b"""from pydantic_settings import (
    SettingsConfigDict,
    BaseSettings as BaseConfig,
)
class Settings(BaseConfig):
    ENVIRONMENT: str
    TIME_ZONE: str
settings = Settings()
"""
    found = config_defaults({"src/config.py": settings}, "", {}, {})
    assert found.values["TIME_ZONE"] == "UTC"
    assert found.values["ENVIRONMENT"] == "development"
    # Another library's class imported so is none (its fields are no settings).
    other = settings.replace(b"pydantic_settings", b"mylib.settings")
    assert "TIME_ZONE" not in config_defaults({"src/config.py": other}, "", {}, {}).values


def test_a_librarys_settings_read_with_no_default_are_given_as_it_types_them() -> None:
    """serhiil06's fastAPI-cinema builds fastapi-mail's ConnectionConfig from
    ``os.getenv("MAIL_PORT")`` and the like: None for its port ("Input should be a valid
    integer"), and its Alembic step died. Read so beside fastapi-mail, each is that
    library's field, typed; beside none, the port read with no default stays unset."""
    settings = b"""import os
from fastapi_mail import ConnectionConfig
class Config:
    _MAIL_PORT = os.getenv("MAIL_PORT")
    _MAIL_SERVER = os.getenv("MAIL_SERVER")
    def mail(self):
        return ConnectionConfig(MAIL_PORT=self._MAIL_PORT, MAIL_SERVER=self._MAIL_SERVER)
"""
    found = config_defaults({"src/settings.py": settings}, "", {}, {})
    assert found.values["MAIL_PORT"] == "587" and found.values["MAIL_SERVER"] == "localhost"
    plain = settings.replace(b"from fastapi_mail import ConnectionConfig\n", b"")
    plain = plain.replace(b"ConnectionConfig", b"dict")
    found = config_defaults({"src/settings.py": plain}, "", {}, {})
    assert "MAIL_PORT" not in found.values
    # flask-smorest's: tarikibrahimovic's Instagram-Flask-Backend ("API title must be
    # specified either as "API_TITLE" app parameter", its migrations' step died).
    smorest = (
        b"import os\nfrom flask import Flask\nfrom flask_smorest import Api\n"
        b"def create_app():\n    app = Flask(__name__)\n"
        b"    app.config['API_TITLE'] = os.getenv('API_TITLE')\n"
        b"    app.config['API_VERSION'] = os.getenv('API_VERSION')\n"
        b"    app.config['OPENAPI_VERSION'] = '3.0.2'\n    Api(app)\n    return app\n"
    )
    found = config_defaults({"app.py": smorest}, "app.py", {}, {})
    assert found.values["API_TITLE"] and found.values["API_VERSION"], found.values


def test_a_database_url_is_known_by_its_use_whatever_its_name() -> None:
    """fl1p92's DRF-chat reads ``env.db('CH_DATABASE_URL')`` (django-environ's parser of
    a database URL), unseen: its migrate died asking for it. rollingsxshi's fastapi-lms
    gives its settings' SUPABASE_CONN_STRING to ``create_engine`` through a module's name:
    it was "needed"."""
    django = b"""import environ
env = environ.Env()
SECRET_KEY = env('CH_SECRET_KEY')
DATABASES = {'default': env.db('CH_DATABASE_URL')}
CACHES = {'default': env.cache('CH_CACHE_URL')}
"""
    found = config_defaults({"chat/settings.py": django}, "manage.py", {}, _SERVED)
    assert found.values["CH_DATABASE_URL"] == _SERVED["DATABASE_URL"]
    assert found.values["CH_CACHE_URL"] == "locmemcache://"  # a cache Django has built in
    assert "CH_DATABASE_URL" not in found.missing
    config = b"""from pydantic import BaseSettings
class Settings(BaseSettings):
    SUPABASE_CONN_STRING: str
    ASYNC_URL: str
    OWN_URL: str = "sqlite:///own.db"
settings = Settings()
"""
    setup = b"""from sqlalchemy import create_engine
from config import settings
SQLALCHEMY_DATABASE_URL = settings.SUPABASE_CONN_STRING
engine = create_engine(SQLALCHEMY_DATABASE_URL)
other = create_engine(settings.OWN_URL)
later = create_async_engine(url=get_settings().ASYNC_URL)
"""
    files = {"config.py": config, "db/setup.py": setup}
    found = config_defaults(files, "main.py", {}, _SERVED)
    assert found.values["SUPABASE_CONN_STRING"] == _SERVED["DATABASE_URL"]
    assert found.values["ASYNC_URL"] == _SERVED["DATABASE_URL"]
    assert "OWN_URL" not in found.values  # its own default stands
    assert found.missing == []
    # A pair, one named for async clients: the plain one is the sync driver's.
    pair = config.replace(b"ASYNC_URL", b"ASYNC_SUPABASE_CONN_STRING")
    setup = setup.replace(b"ASYNC_URL", b"ASYNC_SUPABASE_CONN_STRING")
    served = {**_SERVED, "DATABASE_URL": "postgresql+asyncpg://u:p@127.0.0.1:5432/d"}
    found = config_defaults({"config.py": pair, "db/setup.py": setup}, "main.py", {}, served)
    assert found.values["ASYNC_SUPABASE_CONN_STRING"] == served["DATABASE_URL"]
    assert found.values["SUPABASE_CONN_STRING"].startswith("postgresql+psycopg2://u:p@")


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
            # joined by _ or - (bku4erov's django-drf-hw-smart-home: config_example.py)
            "measurement/config_example.py",
            "db-sample.json",
            "kept_example.py",
            "kept.py",
            "_example.py",
        )
    }
    assert example_copies(files) == {
        "src/config.ts": "src/config.ts.example",
        "ormconfig.json": "ormconfig.json.example",
        "settings.py": "settings.py.sample",
        "app.yaml": "app.yaml.dist",
        "measurement/config.py": "measurement/config_example.py",
        "db.json": "db-sample.json",
    }
    # A file's kept form by a suffix alone (you21979's node-koa-skeleton ships
    # config/log.json.org, which its app.js loads as config/log.json: ENOENT); a word
    # within a name is no such form (``schema.org.json``).
    kept = {"config/log.json.org": b"{}", "config/db.js.default": b"", "schema.org.json": b""}
    assert example_copies(kept) == {
        "config/log.json": "config/log.json.org",
        "config/db.js": "config/db.js.default",
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


def test_an_example_sqlite_file_by_absolute_path_is_said() -> None:
    """Its file is put in the app's directory where the environment is made (appenv's
    test: an env file's, an example's alike); the example's is said here."""
    example = (
        b"DATABASE_URI=sqlite:////path/to/my/code/fastapi-sqlmodel/database.db\n"
        b"ASYNC_URL=sqlite+aiosqlite:////Users/ann/dev/app.db?mode=rwc\n"
        b"RELATIVE_URL=sqlite:///./here.db\n"
    )
    found = config_defaults({"main.py": b"", ".env.example": example}, "main.py", {}, set())
    said = [n for n in found.notes if "names a SQLite file by its absolute path" in n]
    assert [n.split()[1] for n in said] == ["DATABASE_URI", "ASYNC_URL"], found.notes


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
    # deaxparadox's task-flask-user-api: read into a settings module's name, which its
    # factory turns into a number (``int(settings.JWT_ACCESS_TOKEN_EXPIRES)``).
    settings = b"import os\nEXPIRES = os.environ.get('JWT_ACCESS_TOKEN_EXPIRES')\n"
    factory = b"from . import settings\nminutes = int(settings.EXPIRES)\n"
    files = {"app/settings.py": settings, "app/__init__.py": factory}
    assert required_types(files) == {"JWT_ACCESS_TOKEN_EXPIRES": "int"}
    assert config_defaults(files, "app/__init__.py", {}, {"PORT"}).values == {
        "JWT_ACCESS_TOKEN_EXPIRES": "60"
    }
    # Read with no default by decouple and imported by name (osamaaslam86004's
    # session-auth-fastapi: ``repeat_every(seconds=int(DATABASE_PING))``).
    config = b"from decouple import config\nDATABASE_PING = config('DATABASE_PING')\n"
    main = b"from config import DATABASE_PING\nseconds = int(DATABASE_PING)\n"
    files = {"config.py": config, "main.py": main}
    assert required_types(files) == {"DATABASE_PING": "int"}
    assert config_defaults(files, "main.py", {}, {"PORT"}).values["DATABASE_PING"].isdigit()
    # A duration's word before a short unit, read as int() by jin-wk's fastapi-api; not a
    # bound that merely ends in one (POOL_MIN).
    assert throwaway_value("JWT_EXPIRES_MIN") == throwaway_value("TOKEN_TTL_SECS") == "60"
    assert throwaway_value("POOL_MIN") is None and throwaway_value("ADMIN") is None
    # Flask-Caching's backend read with no default (deaxparadox's task-flask-user-api).
    assert throwaway_value("CACHE_TYPE", OPTIONAL) == "SimpleCache"
    # A broker's host none runs here, required for a Celery app's broker URL (connected
    # at its first task only): rafawildfire42's python-fastapi-user-management.
    assert throwaway_value("RABBIT_MQ_HOST") == throwaway_value("AMQP_HOST") == "localhost"
    # A JWT's audience read with "" (unset), which its library refuses empty
    # (stepan-fedorovv's fastapi-user-service's AUD).
    assert throwaway_value("AUD", OPTIONAL) == throwaway_value("JWT_AUDIENCE") == "preview"
    assert throwaway_value("AUDIT_LOG") is None
    # A field typed Literal[...]: a value among its choices, development's where it has
    # one (alonovg's FastAPI-CRM's MODE, its example's value empty).
    assert throwaway_value("MODE", "Literal['DEV', 'TEST', 'PROD']") == "DEV"
    assert throwaway_value("LEVEL", "Literal['INFO', 'DEBUG']") == "INFO"
    # A switch whatever its name: Uzair-Organization's express-objection requires
    # JWT_IGNORE_EXPIRATION: Joi.boolean() (a duration's word: it was given "60").
    assert throwaway_value("JWT_IGNORE_EXPIRATION", "bool") == "false"
    assert throwaway_value("SESSION_TOKEN_SECURE", "bool") == "false"
    assert throwaway_value("DEBUG", "bool") == "true"


def test_a_variable_given_to_a_cron_schedule_is_a_field_of_it() -> None:
    """A setting handed to Celery's ``crontab(minute=…)`` is a schedule's field, whatever
    its name's last word says (``…_EMAIL``: an address, "Invalid weekday literal" at every
    start); read in place too. One read elsewhere keeps its name's value."""
    settings = b"""from decouple import config
RETRY_FOR_FAILED_EMAIL = config("RETRY_FOR_FAILED_EMAIL")
ADMIN_EMAIL = config("ADMIN_EMAIL")
"""
    beat = b"""from celery import Celery
from celery.schedules import crontab
from django.conf import settings
from decouple import config
app = Celery("site")
app.conf.beat_schedule = {
    "retry": {"task": "t.retry", "schedule": crontab(minute=settings.RETRY_FOR_FAILED_EMAIL)},
    "digest": {"task": "t.digest", "schedule": crontab(hour=config("DIGEST_HOUR"))},
}
"""
    files = {"site/settings.py": settings, "site/celery.py": beat}
    values = config_defaults(files, "manage.py", {}, {"PORT"}).values
    assert values["RETRY_FOR_FAILED_EMAIL"] == values["DIGEST_HOUR"] == "*"
    assert values["ADMIN_EMAIL"] == "preview@example.com"


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
    files = {
        "src/config.py": settings,
        "src/__init__.py": b"from src.config import Config\n",
        ".env.example": example,
    }
    found = config_defaults(files, "src/__init__.py", {}, {"PORT", "DATABASE_URL"})
    assert "DATABASE_URL" not in found.values  # the service's stands
    assert found.values["MAIL_PORT"] == found.values["SMTP_PORT"] == "587"
    assert found.values["REDIS_PORT"] == "6379"
    assert not found.values["SERVER_PORT"] and "SERVER_PORT" in found.missing
    assert throwaway_value("PORT", "int") is None and throwaway_value("HTTP_PORT", "int") is None
    assert throwaway_value("MAIL_PORT", OPTIONAL) is None  # its own default
    # fastapi-mail's ConnectionConfig then refused MAIL_FROM='' (an EmailStr)
    assert found.values["MAIL_FROM"] == "preview@example.com"
    assert throwaway_value("MAIL_FROM_NAME") == "Preview"  # a name, not an address


def test_a_node_apps_envalid_requirements_and_reads() -> None:
    files = {p: t.encode() for p, t in app_files("node_envalid").items()}
    files["src/env.test.js"] = b"process.env.ONLY_IN_TESTS"
    files["node_modules/x/index.js"] = b"cleanEnv(process.env, { THEIRS: str() })"
    assert required_types(files) == {
        "ACCESS_TOKEN_SECRET": "",
        "PORT": "int",
        "JWT_SECRET": OPTIONAL,
        "HOST": OPTIONAL,
    }
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
        "DB_HOST": "",
        "DB_PORT": "int",
        "JWT_SECRET": "",
        "PORT": OPTIONAL,
        "LOG_LEVEL": OPTIONAL,
        "MODE": OPTIONAL,
    }
    found = config_defaults(files, "package.json", {}, {"PORT", "DB_HOST", "DB_PORT"})
    assert found.generated == ["JWT_SECRET", "LOG_LEVEL"] and not found.missing, found
    assert found.values["LOG_LEVEL"] == "info"  # a Node logger's level, one of its enum's


def test_an_env_schema_json_schema_requires_what_it_lists_without_a_default() -> None:
    """myoxine's learn-fastify-restful-api checks its environment with env-schema's JSON
    schema (``required: ["SECRET_TOKEN", …]``, ``properties: { SALT_ROUNDS: { type:
    "number", default: "info" } }``), no example file: its knex migration and its start
    died on "env must have required property 'SECRET_TOKEN'". Each listed name whose
    property gives no default of its type is required; its ``enum`` its choices."""
    config = b"""import envSchema from "env-schema";
const schema = {
  type: "object",
  required: ["PORT", "NODE_ENV", "SALT_ROUNDS", "SECRET_TOKEN", "REDIS_PORT"],
  properties: {
    PORT: { type: "string", default: 3000 },
    NODE_ENV: { type: "string", enum: ["development", "production"], default: "x" },
    SALT_ROUNDS: { type: "number", minimum: 1, maximum: 10, default: "info" },
    SECRET_TOKEN: { type: "string" },
    REDIS_PORT: { type: "string", default: 6379 },
    OPTIONAL_KEY: { type: "string" },
  },
} as const;
const config = envSchema({ schema: schema, dotenv: true });
export default config;
"""
    files = {"package.json": b"{}", "src/utils/config.ts": config}
    required, _ = node_env_reads(files)
    assert required == {"SALT_ROUNDS": "int", "SECRET_TOKEN": ""}
    assert schema_choices(files)["NODE_ENV"] == ["development", "production"]
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert "SECRET_TOKEN" in found.generated and found.values["SALT_ROUNDS"].isdigit(), found
    plain = {**files, "src/utils/config.ts": config.replace(b'"env-schema"', b'"./schema"')}
    assert node_env_reads(plain)[0] == {}


def test_envalids_validators_called_on_its_module_are_read() -> None:
    """eraldoabedini's fastifyCrudApp: ``envalid.cleanEnv(process.env, { X: envalid.str({})
    })``, the validators called on the module: read as none, its Postgres URL was not
    given under its name and the app exited naming it."""
    config = b"""const envalid = require('envalid')
module.exports = envalid.cleanEnv(process.env, {
    POSTGRES_DB_CONNECTION_STRING: envalid.str({}),
    WEB_APP_HOST_PORT: envalid.num({ default: 8080 })
})
"""
    required, _ = node_env_reads({"package.json": b"{}", "src/config/env.js": config})
    assert required == {"POSTGRES_DB_CONNECTION_STRING": ""}


def test_a_zod_schema_given_to_an_env_package_requires_its_plain_keys() -> None:
    """tobiaswutz's fastify-server: ``zennv({ dotenv: true, schema: z.object({...}) })``
    reads the environment itself, its sources never spelling process.env: a ZodError
    naming DATABASE_CONNECTION and JWT_SECRET at every start. A schema of another
    purpose (a route's body) in a module named for neither is no environment's."""
    env = b"""import zennv from "zennv";
import { z } from "zod";
export const env = zennv({
  dotenv: true,
  schema: z.object({
    PORT: z.number().default(3000),
    DATABASE_CONNECTION: z.string(),
    JWT_SECRET: z.string(),
  }),
});
"""
    body = b'import { z } from "zod";\nexport const Body = z.object({ NAME: z.string() });\n'
    files = {"package.json": b"{}", "src/config/env.ts": env, "src/schemas.ts": body}
    assert required_types(files) == {
        "DATABASE_CONNECTION": "",
        "JWT_SECRET": "",
        "PORT": OPTIONAL,
    }
    # Its DATABASE_CONNECTION is pg's connection string (a name that says an engine, as
    # Laravel's DB_CONNECTION=mysql does): the served database's URL.
    pool = b"const pool = new Pool({\n  connectionString: env.DATABASE_CONNECTION,\n});\n"
    files["src/db/index.ts"] = b'import { Pool } from "pg";\n' + pool
    assert database_option_reads(files) == {"DATABASE_CONNECTION": "DATABASE_URL"}
    found = config_defaults(files, "package.json", {}, _SERVED)
    assert found.values.get("DATABASE_CONNECTION") != "postgres", found.values
    urls = database_urls_by_meaning(files, _SERVED, {}, "node")
    assert urls == {"DATABASE_CONNECTION": _SERVED["DATABASE_URL"]}


def test_a_url_name_given_to_another_option_is_no_url() -> None:
    """selmanjir's blog-with-express.js gives ``port: process.env.MYSQL_CONNECTION_STRING``
    to Sequelize: a name that says a URL, given the served MariaDB's, which mysql2 took for
    a socket's path (connect ENOENT mysql://…). The option it is given to says what it is."""
    db = b"""const connection = new Sequelize(config.database, config.username, config.password, {
  host: config.host,
  dialect: 'mysql',
  port: process.env.MYSQL_CONNECTION_STRING,
})"""
    files = {"package.json": b'{"dependencies": {"sequelize": "^6", "mysql2": "^3"}}'}
    files["src/config/db.js"] = db
    env = {"DATABASE_URL": "mysql://root:x@127.0.0.1:3306/app", "DB_PORT": "3306"}
    assert database_option_reads(files) == {"MYSQL_CONNECTION_STRING": "DB_PORT"}
    assert database_urls_by_meaning(files, env, {}, "node") == {}
    files["src/config/db.js"] = db.replace(b"port:", b"url:")
    assert database_urls_by_meaning(files, env, {}, "node") == {
        "MYSQL_CONNECTION_STRING": env["DATABASE_URL"]
    }


def test_drizzles_url_read_under_any_name_is_the_database_url() -> None:
    """golaughlin's north-pole-api-hono: drizzle.config's ``url: process.env.DB_FILE_NAME!``
    and ``drizzle(process.env.DB_FILE_NAME!)``, which nothing set: drizzle opened a
    database in memory, not the file its schema was pushed to ("no such table")."""
    config = b"""export default defineConfig({
  dialect: 'sqlite',
  dbCredentials: {
    url: process.env.DB_FILE_NAME!,
  },
})"""
    index = b"import { drizzle } from 'drizzle-orm/bun-sqlite'\n"
    index += b"const db = drizzle(process.env.DB_FILE_NAME!)\n"
    for files in ({"drizzle.config.ts": config}, {"src/index.ts": index}):
        assert database_option_reads({"package.json": b"{}", **files}) == {
            "DB_FILE_NAME": "DATABASE_URL"
        }
    env = {"DATABASE_URL": "/app/db.sqlite3"}
    files = {"package.json": b"{}", "drizzle.config.ts": config, "src/index.ts": index}
    assert database_urls_by_meaning(files, env, {}, "node") == {"DB_FILE_NAME": "/app/db.sqlite3"}
    # A drizzle() given a variable that is no URL's (its client, made elsewhere): nothing.
    client = b"const db = drizzle(pool)\nconst pool = new Pool({ max: process.env.MAX })\n"
    assert database_option_reads({"src/db.ts": client}) == {}


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


def test_a_yup_schema_validating_the_environment_says_what_is_required() -> None:
    """fausantosdev's ts-node-api: ``envSchema.validateSync(process.env)`` on a yup schema
    whose EMAIL_* keys its .env.example lacks: "EMAIL_PORT is a required field", exit 1.
    A required key is required (a number an int); one with a default, or optional, is not."""
    schema = b"""import * as yup from 'yup'
const envSchema = yup.object({
  EMAIL_HOST: yup.string().required(),
  EMAIL_PORT: yup.number().required(),
  PORT: yup.number().default(4004),
  JWT_EXPIRATION: yup.mixed<number | string>().default('1d'),
  ENABLED_CORS: yup.string(),
})
const validated = envSchema.validateSync(process.env, { abortEarly: false })
"""
    files = {"package.json": b"{}", "src/config/env.ts": schema}
    assert required_types(files) == {
        "EMAIL_HOST": "",
        "EMAIL_PORT": "int",
        "PORT": OPTIONAL,
        "JWT_EXPIRATION": OPTIONAL,
        "ENABLED_CORS": OPTIONAL,
    }
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["EMAIL_PORT"].isdigit() and found.values["EMAIL_HOST"], found.values
    # Its defaults stand: a key left empty by its example is unset (JWT_ALGORITHM= beside
    # .default('HS256')), and a hash's cost is a number, not the secret its SALT says.
    schema = schema.replace(
        b"  ENABLED_CORS", b"  SALT_ROUNDS: yup.number().default(13),\n  ENABLED_CORS"
    )
    files = {**files, "src/config/env.ts": schema, ".env.example": b"JWT_EXPIRATION=\n"}
    assert {"JWT_EXPIRATION", "EMAIL_HOST"} <= unset_when_empty(files)
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert "SALT_ROUNDS" not in found.values and "JWT_EXPIRATION" not in found.generated
    assert throwaway_value("SALT_ROUNDS") == "10" and throwaway_value("BCRYPT_ROUNDS") == "10"
    assert throwaway_value("SALT_ROUND") == "10"  # haileyjpark's books-koa-backend


def test_a_fill_in_the_schema_defaults_is_unset() -> None:
    """PsydoV2's TypescriptExpressTemplate: ``HTTPPORT=_PLACEHOLDER_`` and
    ``SMTP_SECURE=_PLACEHOLDER_`` in its example, its zod schema defaulting both (the second
    through a schema it made before, ``booleanFromString``): "HTTPPORT: expected number,
    received NaN". A fill-in no throwaway value stands in for is unset where the schema
    has a default; one it has none for stays, and a secret's fill-in gets its throwaway."""
    schema = b"""import { z } from "zod";
const booleanFromString = z
  .enum(["true", "false"])
  .default("false")
  .transform((v) => v === "true");
const envSchema = z.object({
  HTTPPORT: z.coerce.number().int().positive().default(9080),
  SMTP_SECURE: booleanFromString,
  APP_FLAVOUR: z.string().min(1),
  SECRETKEYJWT: z.string().min(1),
});
const parsed = envSchema.safeParse(process.env);
"""
    example = (
        b"HTTPPORT=_PLACEHOLDER_\nSMTP_SECURE=_PLACEHOLDER_\nAPP_FLAVOUR=_PLACEHOLDER_\n"
        b"SECRETKEYJWT=_PLACEHOLDER_\n"
    )
    files = {"package.json": b"{}", "src/config/env.ts": schema, ".env.example": example}
    assert {"HTTPPORT", "SMTP_SECURE"} <= unset_when_empty(files)
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert "HTTPPORT" not in found.values and "SMTP_SECURE" not in found.values, found.values
    assert found.values["APP_FLAVOUR"] == "_PLACEHOLDER_"
    assert "SECRETKEYJWT" in found.generated


def test_a_config_services_get_of_an_enums_member_reads_its_variable() -> None:
    """jeiDev's vehicle-entity-crud-nestjs reads ``config.get(Configuration.JWT_SECRET)``,
    its enum's member naming the variable: no read spelt JWT_SECRET, none was given, and
    its JWT strategy refused to start ("requires a secret or key")."""
    keys = b'export enum Configuration {\n  PORT = "PORT",\n  JWT_SECRET = "JWT_SECRET"\n}\n'
    strategy = b"""import { ConfigService } from 'src/config/config.service'
super({ secretOrKey: config.get(Configuration.JWT_SECRET) })
"""
    files = {"package.json": b"{}", "src/config/keys.ts": keys, "src/auth/jwt.ts": strategy}
    assert "JWT_SECRET" in node_env_reads(files)[1]
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert "JWT_SECRET" in found.generated
    # A member of an enum of other values names no variable.
    other = keys.replace(b'"JWT_SECRET"', b'"jwt.secret"')
    assert "JWT_SECRET" not in node_env_reads({**files, "src/config/keys.ts": other})[1]


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
  JWT_IGNORE_EXPIRATION: Joi.boolean().required(),
  NODE_ENV: Joi.string().valid('development', 'production').default('development'),
}) })"""
    files = {
        "package.json": b"{}",
        "src/database/database.module.ts": module,
        "src/app.module.ts": schema,
        "src/app.module.spec.ts": b"configService.getOrThrow('ONLY_IN_TESTS') // ConfigService",
    }
    assert required_types(files) == {
        "SESSION_SECRET": "",
        "WORKERS": "int",
        "JWT_IGNORE_EXPIRATION": "bool",
        "POSTGRES_HOST": "",
        "POSTGRES_SYNC": "",
        "JWT_SECRET": "",
        "PORT": OPTIONAL,
        "NODE_ENV": OPTIONAL,
        "DB_LOGGING": OPTIONAL,
        "API_PREFIX": OPTIONAL,
    }
    found = config_defaults(files, "package.json", {}, {"PORT", "POSTGRES_HOST"})
    assert found.values["POSTGRES_SYNC"] == "true"  # TypeORM makes its tables at start
    assert found.values["WORKERS"] == "1"
    assert found.values["JWT_IGNORE_EXPIRATION"] == "false"  # a switch, not a duration
    generated = ["JWT_SECRET", "POSTGRES_SYNC", "SESSION_SECRET", "WORKERS"]
    assert sorted(found.generated) == ["JWT_IGNORE_EXPIRATION", *generated]
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


async def test_an_env_file_read_as_a_dict_holds_what_the_service_gives(
    builder_service: Service,
) -> None:
    """BlackStarCodes' fastapi-jwt-auth-api: ``v = dotenv_values(".env")`` then
    ``v["SECRET_KEY"]``, a file read alone, never the environment, from the directory it
    runs in; its own .env, in src/, left every value empty (a form): KeyError at start-up.
    The root's .env is written with what the service gives under each name it reads, and
    the empty DATABASE_URL of its own .env is the preview's database, not ``""``."""
    files = _bytes("fastapi_dotenv_values")
    assert env_files_read_only(files) == [".env"]
    assert env_files_read_only({**files, ".env": b"SECRET_KEY=x\n"}) == []
    assert env_files_needed(files) == []  # not written empty: its values are all it reads
    assert list(required_types(files)) == ["SECRET_KEY", "ALGORITHM", "DATABASE_URL"]
    keyword = {"config.py": b"import dotenv\nv = dotenv.dotenv_values(dotenv_path='conf/.env')\n"}
    assert env_files_read_only(keyword) == ["conf/.env"]
    # Given no path, python-dotenv finds the nearest .env above the module: the root's is
    # on its way (gustavomotadev's fastapi-sqlite-food-menu: AMBIENTE['ALGORITMO']).
    found = {"app/deps.py": b"from dotenv import dotenv_values\nAMBIENTE = dotenv_values()\n"}
    assert env_files_read_only(found) == [".env"]
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_dotenv_values"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        about = (await service.app_get(body, "/about")).json()
        assert about["algorithm"] == "HS256" and about["secret"] > 0, about
        assert about["database"].startswith("sqlite")  # the preview's own
        system = messages(await service.history(body["gid"]), "system")
        said = "no .env, whose values its code reads from the file alone: written from"
        assert any(m.startswith(said) for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


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
        answer = await called(builder_service, body)
        assert answer["statusCode"] == 200, answer
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
    assert (
        config_defaults(there, "backend/manage.py", {}, set()).values["DJANGO_SETTINGS_MODULE"]
        == "core.settings.prod"
    )


def test_a_node_apps_compose_service_environment_is_its_configuration() -> None:
    """kyhsa93's nestjs-rest-cqrs-example: AWS_REGION, EMAIL … are set only by its
    compose service's environment (a list of K=V); its config validation exited on them."""
    files = {p: t.encode() for p, t in app_files("node_compose_app_env").items()}
    found = config_defaults(files, "package.json", {}, {"PORT", "DATABASE_URL"})
    assert found.values == {
        "QUEUE_REGION": "eu-west-1",
        "SENDER_EMAIL": "no-reply@example.com",
        "FEATURE_SYNC": "true",
    }  # not its container's mode or thread budget, nor another service's endpoint, nor the worker's
    assert "its compose service api: FEATURE_SYNC, QUEUE_REGION, SENDER_EMAIL" in found.notes[0]
    # Its own .env (given) wins; a Python app's compose is not read so.
    given = config_defaults(files, "package.json", {"QUEUE_REGION": "x"}, {"PORT"})
    assert "QUEUE_REGION" not in given.values
    python = {**files, "main.py": b"import os\n"}
    assert "QUEUE_REGION" not in config_defaults(python, "main.py", {}, {"PORT"}).values


def test_a_flask_settings_file_its_image_names_by_a_build_argument_is_given() -> None:
    """evelynting610's library-flask: ``app.config.from_envvar('APP_CONFIG_FILE')``, which
    its Dockerfile sets to ``/app/config/${config_type}.py`` (``ARG
    config_type=production``), its compose file building it with ``config_type:
    development`` and mounting the app at /app: "The environment variable
    'APP_CONFIG_FILE' is not set". The value as the image was built; not one naming what
    nothing gives, nor a read told to be silent."""
    dockerfile = (
        "FROM python:3.7\nCOPY ./ /app\nWORKDIR /app\nARG config_type=production\n"
        "ENV APP_CONFIG_FILE=/app/config/${config_type}.py\nENV FLASK_APP=library\n"
        "ENV OTHER=${unknown}/x\n"
    )
    compose = (
        "services:\n  web:\n    build:\n      context: .\n      args:\n"
        "        config_type: development\n    volumes:\n      - .:/app\n"
    )
    factory = (
        "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n"
        "    app.config.from_envvar('APP_CONFIG_FILE')\n"
        "    app.config.from_envvar('EXTRA_SETTINGS', silent=True)\n"
        "    app.config.from_envvar('OTHER')\n    return app\n"
    )
    files = {
        "library/__init__.py": factory.encode(),
        "config/development.py": b"DEBUG = True\n",
        "Dockerfile": dockerfile.encode(),
        "docker-compose.yml": compose.encode(),
        "requirements.txt": b"flask\n",
    }
    assert required_types(files)["APP_CONFIG_FILE"] == ""
    assert "EXTRA_SETTINGS" not in required_types(files)
    found = config_defaults(files, "library/__init__.py", {}, {"PORT"})
    assert found.values["APP_CONFIG_FILE"] == "/app/config/development.py"
    assert found.values.get("OTHER") != "${unknown}/x"
    # without the compose file's argument: its default
    del files["docker-compose.yml"]
    found = config_defaults(files, "library/__init__.py", {}, {"PORT"})
    assert found.values["APP_CONFIG_FILE"] == "/app/config/production.py"


def test_what_its_dockerfile_sets_for_a_variable_it_cannot_start_without_is_given() -> None:
    """sr-vazkez's FastApi-RBAC reads docs_url, openapi_url and redoc_url by decouple with
    no default; its Dockerfile sets them (``ENV docs_url='/docs'``), which the preview's
    stand-ins were not: FastAPI's "Routed paths must start with '/'". Not its modes, nor a
    variable its code reads with a default, nor an empty ENV, nor one its own .env gives."""
    settings = (
        "from decouple import config\n"
        "docs_url = config('docs_url')\nredoc_url = config('redoc_url')\n"
        "secret = config('secret')\nlevel = config('LOG_LEVEL', default='info')\n"
    )
    dockerfile = (
        "FROM python:3.9.16-slim-buster\nENV secret=\nENV docs_url='/docs'\n"
        "ENV redoc_url='/redoc'\nENV LOG_LEVEL=warning\nENV DEBUG 0\n"
        'CMD ["uvicorn", "app.main:app"]\n'
    )
    files = {
        "app/main.py": b"from app.settings import docs_url\n",
        "app/settings.py": settings.encode(),
        "Dockerfile": dockerfile.encode(),
        "requirements.txt": b"fastapi\npython-decouple\n",
    }
    found = config_defaults(files, "app/main.py", {}, {"PORT"})
    assert found.values["docs_url"] == "/docs" and found.values["redoc_url"] == "/redoc"
    assert found.values.get("LOG_LEVEL") != "warning" and "DEBUG" not in found.values
    assert found.values.get("secret"), found.values  # a stand-in: its ENV gives it empty
    assert "Dockerfile: docs_url, redoc_url as its ENV gives them" in found.notes
    own = config_defaults(files, "app/main.py", {"docs_url": "/api-docs"}, {"PORT"})
    assert "docs_url" not in own.values


async def test_a_node_app_configured_by_its_compose_service_starts(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_compose_app_env"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(service, body)
        assert answer["data"] == {
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


def test_a_node_app_that_refuses_to_start_without_its_env_file_is_given_one() -> None:
    """Uzair-Organization's express-objection throws "Couldn't find .env file" where
    dotenv's result has an error; M-erb's koa-knex-starter throws where ``fse.pathExists(
    `${appRootPath}.env`)`` is false. Both are given the .env the service writes; an app
    that only loads one, or checks another file, is not."""
    package = b'{"scripts": {"start": "node src/index.js"}}'
    checked = b'import dotenv from "dotenv";\nconst envFound = dotenv.config();\n' + (
        b'if (envFound.error) {\n  throw new Error("no .env");\n}\n'
    )
    files = {"package.json": package, "src/config/index.js": checked}
    assert start_env_files(files, "package.json", ("npm", "start")) == [".env"]
    exists = b"const exists = await fse.pathExists(`${root}.env`)\nif (!exists) throw new Error()\n"
    assert start_env_files({**files, "src/config/index.js": exists}, "package.json", ()) == [".env"]
    assert start_env_files({**files, ".env": b"A=1\n"}, "package.json", ()) == []
    said = b'import * as dotenv from "dotenv";\nconst result = dotenv.config();\n' + (
        b"if (result.error){\n    console.log(`Error loading env, aborting.`);\n"
        b"    process.exit(1)\n}\n"
    )  # ghassenjridi8's typescript-rest-api: the block says why before it exits
    assert start_env_files({**files, "src/config/index.js": said}, "package.json", ()) == [".env"]
    logged = b'const r = require("dotenv").config();\nif (r.error) { console.log(r.error) }\n'
    assert start_env_files({**files, "src/config/index.js": logged}, "package.json", ()) == []
    loads = b'require("dotenv").config();\nif (!process.env.X) throw new Error("X")\n'
    assert start_env_files({**files, "src/config/index.js": loads}, "package.json", ()) == []
    other = b"if (!fs.existsSync('.env.local')) process.exit(1)\n"
    assert start_env_files({**files, "src/config/index.js": other}, "package.json", ()) == []
    # Checked through a name bound to its path (jeiDev's vehicle-entity-crud-nestjs:
    # ".env file does not exist", exit 0); another file so named is not one.
    bound = b"const envFilePath = `${__dirname}/../../.env`;\n"
    bound += b"if (!fs.existsSync(envFilePath)) { return process.exit(0); }\n"
    assert start_env_files({**files, "src/config/index.js": bound}, "package.json", ()) == [".env"]
    local = bound.replace(b"/.env`", b"/.env.local`")
    assert start_env_files({**files, "src/config/index.js": local}, "package.json", ()) == []
    nested = {"api/package.json": package, "api/src/config/index.js": checked}
    assert start_env_files(nested, "api/package.json", ()) == ["api/.env"]


async def test_an_app_whose_build_copies_its_env_file_builds(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_build_copies_env"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(service, body)
        assert answer["data"] == {"greeting": "hello from the example"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_dotenv_whose_result_the_node_app_uses_is_one_the_service_writes() -> None:
    """AndriiZil's nodejs-sequelize-posgresql throws '".env" file should be provided.' on
    dotenv's ``config()`` error; T-travis's fastify-tasks-list destructures its
    variables from ``config().parsed``, undefined without a .env: each gets a .env where
    npm runs it. One that only loads it (``require('dotenv').config()``) gets none."""
    error = b"const { error } = require('dotenv').config();\nif (error) throw new Error('x');\n"
    parsed = b'const dotenv = require("dotenv").config();\nconst { DB_HOST } = dotenv.parsed;\n'
    chained = b"import dotenv from 'dotenv';\nconst { PORT } = dotenv.config().parsed;\n"
    # ivan-yuldashev's hono-quickstart: config imported by name, given options, expanded.
    expanded = (
        b"import { config } from 'dotenv';\nimport { expand } from 'dotenv-expand';\n"
        b"const { parsed } = expand(\n  config({\n    override: true,\n"
        b"    path: '.env',\n  }),\n);\n"
    )
    named = b"import { config } from 'dotenv';\nconst { error } = config({ path: '.env' });\n"
    for text in (error, parsed, chained, expanded, named):
        assert node_dotenv_result_files({"app/config/db.js": text}, "") == [".env"]
        assert node_dotenv_result_files(
            {"api/db.js": text, "api/package.json": b"{}"}, "api/package.json"
        ) == ["api/.env"]
        assert node_dotenv_result_files({"db.js": text, ".env": b"A=1\n"}, "") == []
    loads = b"require('dotenv').config();\nconst host = process.env.DB_HOST;\n"
    assert node_dotenv_result_files({"db.js": loads}, "") == []


def test_an_env_file_named_for_node_env_and_read_whole_is_one_the_service_writes() -> None:
    """miyachew's nestjs-sqlite-user-photo-tags (NestJS's documented ConfigService):
    ``dotenv.parse(fs.readFileSync(path.resolve(__dirname, '../../', options.folder,
    `${process.env.NODE_ENV || 'development'}.env`)))``, its module registered with
    ``{ folder: './config' }``, the upload holding config/.env.example only: ENOENT at
    every start. A name read only to load it (dotenv.config) is not written."""
    files = _bytes("node_env_named_config")
    assert node_env_named_files(files, "package.json") == ["config/development.env"]
    present = {**files, "config/development.env": b"GREETING=mine\n"}
    assert node_env_named_files(present, "package.json") == []
    plain = b"const f = `${process.env.NODE_ENV || 'development'}.env`;\nfs.readFileSync(f);\n"
    assert node_env_named_files({"src/config.js": plain}, "") == ["development.env"]
    loaded = b"require('dotenv').config({ path: `${process.env.NODE_ENV}.env` });\n"
    assert node_env_named_files({"src/config.js": loaded}, "") == []


async def test_an_app_reading_its_node_env_named_file_starts(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_env_named_config"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(service, body)
        assert answer["data"]["greeting"] == "hello from the example", answer
        system = messages(await service.history(body["gid"]), "system")
        said = "no config/development.env, whose values its code reads from the file alone"
        assert any(m.startswith(said) for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


PACKAGE = json.dumps(
    {"scripts": {"start": "node app.js"}, "dependencies": {"mysql2": "^2", "sequelize": "^6"}}
).encode()


BLOG_CONFIG = b"""module.exports = {
  development: {
    username: process.env.DB_USERNAME_DEV,
    password: process.env.DB_PASSWORD_DEV,
    database: process.env.DB_DATABASE_DEV,
    host: process.env.DB_HOST,
    dialect: process.env.DB_DIALECT_DEV,
  },
};
"""


JOI_CONFIG = b"""const schema = Joi.object({
    NODE_ENV: Joi.string().allow('development', 'production').default('development'),
    API_VERSION: Joi.string().default('1.0').description('API Version'),
    CLIENT_WEB_URL: Joi.string().description('URL of web client'),
    JWT_SECRET: Joi.string().required().description('JWT Secret required to sign'),
}).unknown().required();
const { error, value: envVars } = schema.validate(process.env);
"""


_NOW = datetime(2026, 11, 28, tzinfo=UTC)


_SERVED = {  # what the service gives beside its PostgreSQL (backing.postgres)
    "DATABASE_URL": "postgresql://u:p@127.0.0.1:5432/d",
    "PGHOST": "127.0.0.1",
    "PGPORT": "5432",
    "PGDATABASE": "d",
    "DB_HOST": "127.0.0.1",
    "DB_PORT": "5432",
    "DB_NAME": "d",
    "PORT": "8000",
}


def test_example_env_names_and_url_typed_settings() -> None:
    for name in ("dot-env-template", "dotenv.example", "example.env", "sample.env"):
        assert example_env_file({"main.py": b"", name: b"A=1\n"}, "main.py") == name
    for name in ("env.py", "test.env", "env.template.yaml", "dotenv.py"):
        assert example_env_file({"main.py": b"", name: b""}, "main.py") is None, name
    files = {p: t.encode() for p, t in app_files("fastapi_dot_env_template").items()}
    assert required_types(files)["SERVER_HOST"] == "AnyHttpUrl"
    assert throwaway_value("SERVER_HOST", "AnyHttpUrl") == "http://localhost"
    assert throwaway_value("CALLBACK", "HttpUrl") == "http://localhost"
    assert throwaway_value("SERVER_HOST") is None  # untyped: not known to be a URL


def test_list_settings_are_given_as_the_json_pydantic_settings_reads() -> None:
    """Prashanti355's fastapi-users-products-jwt-api (its .env.example's
    ``BACKEND_CORS_ORIGINS=a,b`` for a ``list[str]``) and Jeihunn's
    fastapi-blog-best-practices (a required ``ALLOWED_HOSTS: List[str]``, given ``*``)
    died on pydantic-settings' SettingsError before their code ran: the environment's
    value of a list field is decoded as JSON first."""
    files = _bytes("fastapi_settings_json_list")
    assert json_settings_fields(files) == {"ALLOWED_HOSTS": "list", "BACKEND_CORS_ORIGINS": "list"}
    found = config_defaults(files, "app/main.py", {}, {"PORT"})
    assert json.loads(found.values["BACKEND_CORS_ORIGINS"]) == [
        "http://localhost:3000",
        "http://localhost:8000",
    ]
    assert json.loads(found.values["ALLOWED_HOSTS"]) == ["*"]
    assert any("as JSON" in note for note in found.notes)
    # Where the upload's .env or the launch sets it, theirs is the app's own: not ours.
    given = config_defaults(files, "app/main.py", {"BACKEND_CORS_ORIGINS": "a,b"}, {"PORT"})
    assert given.values["BACKEND_CORS_ORIGINS"] == "http://localhost:3000,http://localhost:8000"


def test_the_file_the_readme_says_to_copy_to_env_is_the_example() -> None:
    """Jeihunn's fastapi-blog-best-practices: its README says "Copy the sample
    `.env.local` file to `.env`", a name no example's word says; its settings' MAIL_*
    were then "needed". Its ``MAIL_FROM='your_email'`` is no address for an EmailStr."""
    files = _bytes("fastapi_readme_copied_env")
    assert readme_copied_env(files) == ".env.local"
    found = config_defaults(files, "app/main.py", {}, {"PORT"})
    assert found.example == ".env.local" and not found.missing
    assert found.values["MAIL_SERVER"] == "smtp.example.com"
    assert found.values["MAIL_FROM"] == "preview@example.com"
    for said in (
        "```sh\ncp .env.local .env\n```",
        "copy env/dev.env into .env",
        "Copy .env.local to a new file named .env",
    ):
        named = {"README.md": said.encode(), ".env.local": b"", "env/dev.env": b""}
        assert readme_copied_env(named) in (".env.local", "env/dev.env"), said
    # A file the upload does not have, or a .env it has: nothing to copy.
    assert readme_copied_env({"README.md": b"cp .env.dev .env"}) is None
    present = {**files, ".env": b"SECRET_KEY=x\n"}
    assert config_defaults(present, "app/main.py", {}, {"PORT"}).example is None


def test_another_database_url_and_an_expiry_time_the_app_requires_are_given() -> None:
    """kiyoshisama's fastapi-blog-sqlalchemy-v2 reads ``config("TEST_DATABASE_URL")`` and
    ``int(config("ACCESS_EXPIRE_TIME"))`` at import, with no default: both were
    "needed", though one is a database URL and the other a duration."""
    source = (
        b"from decouple import config\n"
        b"DB = config('DATABASE_URL')\nTEST_DB = config('TEST_DATABASE_URL')\n"
        b"ACCESS = int(config('ACCESS_EXPIRE_TIME'))\n"
    )
    url = "postgresql://preview:secret@127.0.0.1:5432/app"
    provided = {**postgres_variables({}, "127.0.0.1", 5432), "DATABASE_URL": url, "PORT": "1"}
    found = config_defaults({"app/config.py": source}, "app/config.py", {}, provided)
    assert not found.missing, found.missing
    assert found.values["TEST_DATABASE_URL"] == url
    assert found.values["ACCESS_EXPIRE_TIME"] == "60"


def test_a_test_databases_parts_and_a_bare_name_the_settings_require_are_given() -> None:
    """likeThatDude's FastAPI-JWT-auth-async-version's settings class requires its test
    database's parts (``DB_HOST_TEST`` … ``DB_NAME_TEST``) beside its own, and
    dev-hans-programmer's todo app's a bare ``NAME``: each was "needed" at start."""
    source = (
        b"from pydantic_settings import BaseSettings\n"
        b"class Settings(BaseSettings):\n"
        b"    DB_HOST: str\n    DB_USER: str\n    DB_NAME: str\n"
        b"    DB_HOST_TEST: str\n    DB_PORT_TEST: str\n    TEST_DB_USER: str\n"
        b"    DB_PASS_TEST: str\n    DB_NAME_TEST: str\n    MONGO_HOST_TEST: str\n"
        b"    NAME: str\n"
        b"settings = Settings()\n"
    )
    url = "postgresql://preview:secret@127.0.0.1:5432/app"
    provided = {**postgres_variables({}, "127.0.0.1", 5432), "DATABASE_URL": url, "PORT": "1"}
    found = config_defaults({"config.py": source}, "config.py", {}, provided)
    assert found.missing == ["MONGO_HOST_TEST"], found.missing  # another store's: no guess
    host, port = urlsplit(url).hostname, str(urlsplit(url).port)
    assert (found.values["DB_HOST_TEST"], found.values["DB_PORT_TEST"]) == (host, port)
    assert found.values["DB_NAME_TEST"] == provided["DB_NAME"]
    assert found.values["TEST_DB_USER"] == provided["DB_USER"]
    assert found.values["DB_PASS_TEST"] == provided["DB_PASSWORD"]
    assert found.values["NAME"] == "Preview"
    assert "DB_HOST_TEST" not in found.generated  # the served database's, not a throwaway


def test_a_credential_whose_issuers_sdk_checks_its_shape_gets_that_shape() -> None:
    """adjeim's express-video-api makes its Twilio client as it starts, which refuses an
    account SID not starting with AC: each such credential takes its issuer's shape."""
    sid, key = throwaway_value("TWILIO_ACCOUNT_SID") or "", throwaway_value("TWILIO_API_KEY") or ""
    assert re.fullmatch(r"AC[0-9a-f]{32}", sid) and re.fullmatch(r"SK[0-9a-f]{32}", key)
    assert re.fullmatch(r"[0-9a-f]{32}", throwaway_value("TWILIO_AUTH_TOKEN") or "")
    for name in ("ACCOUNTSID", "ACCOUNT_SID", "SMS_ACCOUNT_SID"):  # Twilio's word alone
        assert re.fullmatch(r"AC[0-9a-f]{32}", throwaway_value(name) or ""), name
    assert (throwaway_value("STRIPE_SECRET_KEY") or "").startswith("sk_test_")
    assert (throwaway_value("STRIPE_PUBLISHABLE_KEY") or "").startswith("pk_test_")
    assert (throwaway_value("STRIPE_WEBHOOK_SECRET") or "").startswith("whsec_")
    assert (throwaway_value("SENDGRID_API_KEY") or "").startswith("SG.")
    assert (throwaway_value("OPENAI_API_KEY") or "").startswith("sk-")
    for name in ("BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "TG_TOKEN", "TELEGRAM_TOKEN"):
        token = throwaway_value(name) or ""  # aiogram's Bot(): "<bot id>:<35 letters>"
        assert re.fullmatch(r"\d{10}:[A-Za-z0-9]{35}", token), (name, token)
    assert throwaway_value("TWILIO_API_SECRET") != throwaway_value("TWILIO_API_SECRET")


def test_a_secret_the_code_hands_to_fernet_has_the_shape_fernet_takes() -> None:
    """aykut-canturk's fastapi-jwt-auth-starter: ``Fernet(urlsafe_b64encode(bytes(
    settings.crypto_secret, "utf-8")))`` at import; a throwaway of any length but 32 was
    "Fernet key must be 32 url-safe base64-encoded bytes". One given to ``Fernet(…)`` as it
    is must be such a key itself (``Fernet.generate_key()``'s shape)."""
    settings = (
        b"from pydantic_settings import BaseSettings\n"
        b"class Settings(BaseSettings):\n"
        b"    jwt_secret_key: str\n    crypto_secret: str\n    cipher_key: str\n"
        b"settings = Settings()\n"
    )
    encoded = (
        b"from base64 import urlsafe_b64encode\nfrom cryptography.fernet import Fernet\n"
        b"from app.config import settings\n"
        b"fernet = Fernet(urlsafe_b64encode(bytes(settings.crypto_secret, 'utf-8')))\n"
    )
    given = (
        b"from cryptography.fernet import Fernet\nfrom app.config import settings\n"
        b"cipher = Fernet(settings.CIPHER_KEY)\n"
    )
    files = {"app/config.py": settings, "app/crypto.py": encoded, "app/cipher.py": given}
    found = config_defaults(files, "app/main.py", {}, {"PORT"})
    assert not found.missing, found.missing
    assert len(found.values["CRYPTO_SECRET"].encode()) == 32
    assert len(base64.urlsafe_b64decode(found.values["CIPHER_KEY"])) == 32
    assert len(found.values["JWT_SECRET_KEY"]) >= 32  # no Fernet's: a secret as before
    assert {"CRYPTO_SECRET", "CIPHER_KEY"} <= set(found.generated)


def test_a_password_the_code_asks_for_at_a_terminal_when_unset_is_a_throwaway() -> None:
    """aykut-canturk's fastapi-jwt-auth-starter: ``root_user_password: str = ""``, and at
    start ``getpass.getpass("Enter a password for the admin user: ")`` when it is empty:
    "Aborted!" with no terminal. A setting read where nothing asks is left as it is."""
    settings = (
        b"from pydantic_settings import BaseSettings\n"
        b"class Settings(BaseSettings):\n"
        b"    root_user_password: str = ''\n    redis_password: str = ''\n"
        b"settings = Settings()\n"
    )
    starter = (
        b"import getpass\nfrom app.config import settings\n"
        b"password = settings.root_user_password or getpass.getpass('Password: ')\n"
        b"title = settings.project_title\n"
    )
    files = {"app/config.py": settings, "app/starter.py": starter}
    found = config_defaults(files, "app/main.py", {}, {"PORT"})
    assert len(found.values["ROOT_USER_PASSWORD"]) >= 32
    assert "REDIS_PASSWORD" not in found.values  # read where nothing asks: none, as it says
    assert "PROJECT_TITLE" not in found.values  # no secret's name: not asked for here
    given = config_defaults(files, "app/main.py", {"ROOT_USER_PASSWORD": "mine"}, {"PORT"})
    assert "ROOT_USER_PASSWORD" not in given.values  # the app's own value stands


def test_an_ini_files_empty_database_keys_its_code_reads_are_the_served_databases() -> None:
    """vineetpatel725's fastapi-crud-app reads ``.ini`` with configparser: its
    ``[database]`` leaves ``host =``, ``port =`` … empty, to be filled in (its README);
    Alembic's env.py died on ``getint('database', 'port')``: "invalid literal for int()"."""
    ini = (
        b"[uvicorn]\nhost = 0.0.0.0\nport = 8000\n\n[database]\nhost = \nport = \n"
        b"name = \nusername = \npassword = \n\n[logs]\nrotation = 100 MB\n"
    )
    code = b"from configparser import ConfigParser\nc = ConfigParser()\nc.read('.ini')\n"
    files = {".ini": ini, "app/config.py": code, "pytest.ini": b"[pytest]\nkey =\n"}
    provided = postgres_variables({}, "127.0.0.1", 5432)
    filled = ini_database_fills(files, served_database(provided))
    assert list(filled) == [".ini"]
    text = filled[".ini"].decode()
    assert "[database]\nhost = 127.0.0.1\nport = 5432\n" in text
    assert f"name = {provided['DB_NAME']}\nusername = {provided['DB_USER']}\n" in text
    assert "[uvicorn]\nhost = 0.0.0.0\nport = 8000\n" in text  # not a database's: as it is
    # A file its code does not name, or no database served: nothing written.
    assert ini_database_fills({**files, "app/config.py": b"import os\n"}, None) == {}
    assert ini_database_fills({".ini": ini}, served_database(provided)) == {}


def test_a_host_at_the_authors_private_network_address_is_the_sandboxs_loopback() -> None:
    """lpmatiutis's crud-app-nestjs (``host: '192.168.30.80'``) and callmewayne's
    note-express-server (``host:'10.0.32.106'``) name their databases by their authors'
    home network addresses. Each such host (quoted on a line naming a host, a URL's, an
    env file's) is 127.0.0.1; a public address, a version number, an address on a line
    naming no host and a dependency's files are left."""
    files = {
        "src/app.module.ts": b"TypeOrmModule.forRoot({\n  host: '192.168.30.80',\n  port: 5432\n})",
        "conf/db.js": b"MYSQL_CONF = {\n  host:'10.0.32.106',\n  user:'root'\n}",
        "settings.py": b'DATABASES = {"default": {"HOST": os.getenv("DB_HOST", "172.20.0.5")}}\n',
        ".env": b"DB_HOST=192.168.1.7\nREDIS_URL=redis://:pw@10.1.2.3:6379/0\nNAME=x\n",
        "config.json": b'{"db": {"host": "8.8.8.8"}, "version": "10.0.32.106.1"}',
        "docs.py": b"SUBNET = '192.168.0.0'  # the office's\n",
        "node_modules/pg/index.js": b"host: '192.168.1.1'",
        "README.md": b"host: '192.168.1.1'",
    }
    assert sorted(lan_host_files(files)) == [
        ".env",
        "conf/db.js",
        "settings.py",
        "src/app.module.ts",
    ]
    assert lan_hosts_mended(files["src/app.module.ts"]) == files["src/app.module.ts"].replace(
        b"192.168.30.80", b"127.0.0.1"
    )
    assert b"host:'127.0.0.1'," in lan_hosts_mended(files["conf/db.js"])
    assert b'"DB_HOST", "127.0.0.1"' in lan_hosts_mended(files["settings.py"])
    assert lan_hosts_mended(files[".env"]) == (
        b"DB_HOST=127.0.0.1\nREDIS_URL=redis://:pw@127.0.0.1:6379/0\nNAME=x\n"
    )


def test_a_database_server_at_a_public_address_is_the_sandboxs_loopback() -> None:
    """2384830985's nodeProjectKoa2 connects its MySQL to ``host: '39.107.42.37'``, its
    author's server, which no preview reaches (its egress is HTTP(S) alone): "ENETUNREACH"
    at start. A public address is mended where it is a database server's: a quoted host
    beside its account, a database URL's host, an env file's database host; not an API's
    host, nor a host with no account near it."""
    files = {
        "conf/db.js": b"MYSQL_CONF = {\n  host: '39.107.42.37',\n  user: 'jin',\n  port: '3306'\n}",
        "db.py": b'engine = create_engine("mysql+pymysql://u:p@47.98.1.2:3306/shop")\n',
        ".env": b"DB_HOST=47.98.1.2\nAPI_HOST=93.184.216.34\n",
        "config.json": b'{"api": {"host": "93.184.216.34"}, "timeout": 3}',
        "local.js": b"const db = { host: '127.0.0.1', user: 'root' };\n",
    }
    assert sorted(lan_host_files(files)) == [".env", "conf/db.js", "db.py"]
    assert b"host: '127.0.0.1'," in lan_hosts_mended(files["conf/db.js"])
    assert b"@127.0.0.1:3306/shop" in lan_hosts_mended(files["db.py"])
    assert lan_hosts_mended(files[".env"]) == b"DB_HOST=127.0.0.1\nAPI_HOST=93.184.216.34\n"
    # In a module written from its copy (wangYalun's myExpress: config/database.default.js,
    # its config/database.js git-ignored): the copy is mended (a KeyError of the service's
    # own before, where the module was not the upload's).
    kept = {
        "package.json": b"{}",
        "config/database.default.js": files["conf/db.js"],
        "utils/db.js": b"const options = require('../config/database');\n",
    }
    written = MissingFiles.read(kept, "package.json", (), None).plain_contents(kept)
    assert b"host: '127.0.0.1'," in written["config/database.js"]


def test_a_key_pair_read_from_two_variables_is_one_pair_base64_encoded_where_decoded() -> None:
    """fersubair40's bank-api-fastapi reads ``JWT_PRIVATE_KEY`` and ``JWT_PUBLIC_KEY``
    through ``base64.b64decode(settings.JWT_PUBLIC_KEY)``: PEM text met "Incorrect
    padding", and two keys made apart never verify what the other signed. One RSA pair,
    base64-encoded where the code decodes it, and RS256 for its generated algorithm; a
    Node app reading its keys as PEM gets PEM."""
    settings = (
        b"from pydantic_settings import BaseSettings\n"
        b"class Settings(BaseSettings):\n"
        b"    JWT_PUBLIC_KEY: str\n    JWT_PRIVATE_KEY: str\n    JWT_ALGORITHM: str\n"
        b"settings = Settings()\n"
    )
    jwt = (
        b"import base64\nfrom .config import settings\n"
        b"public = base64.b64decode(\n    settings.JWT_PUBLIC_KEY).decode('utf-8')\n"
        b"private = base64.b64decode(settings.JWT_PRIVATE_KEY).decode('utf-8')\n"
    )
    files = {"app/config.py": settings, "app/jwt.py": jwt, "app/main.py": b"import fastapi\n"}
    found = config_defaults(files, "app/main.py", {}, {"PORT"})
    private = base64.b64decode(found.values["JWT_PRIVATE_KEY"])
    public = base64.b64decode(found.values["JWT_PUBLIC_KEY"])
    assert private.startswith(b"-----BEGIN PRIVATE KEY-----")
    derived = subprocess.run(
        ["openssl", "pkey", "-pubout"], input=private, capture_output=True, check=True
    ).stdout
    assert public == derived  # the pair's
    assert found.values["JWT_ALGORITHM"] == "RS256"
    node = {
        "package.json": b'{"dependencies": {"express": "^4", "jsonwebtoken": "^9"}}',
        "src/auth.js": (
            b"const priv = process.env.JWT_PRIVATE_KEY\n"
            b"const pub = process.env.JWT_PUBLIC_KEY\nrequire('express')().listen(3000)\n"
        ),
    }
    plain = config_defaults(node, "package.json", {}, {"PORT"})
    assert plain.values["JWT_PUBLIC_KEY"].startswith("-----BEGIN PUBLIC KEY-----")
    assert plain.values["JWT_PRIVATE_KEY"].startswith("-----BEGIN PRIVATE KEY-----")


def test_an_smtp_login_the_app_requires_is_a_throwaway_address() -> None:
    """Valaraucoo's django-api-docker-aws-jwt: ``EMAIL_HOST_USER = os.environ.get(…) or
    env('EMAIL_HOST_USER')``; migrate died on ImproperlyConfigured."""
    for name in ("EMAIL_HOST_USER", "MAIL_USERNAME", "SMTP_USER", "SMTP_LOGIN"):
        assert throwaway_value(name) == "preview@example.com", name
    assert throwaway_value("DB_USER") is None  # the database's: the served one's


def test_a_required_switch_of_another_service_is_off() -> None:
    """Valaraucoo's django-api-docker-aws-jwt: ``USE_S3 = os.environ.get('USE_S3') or
    env('USE_S3')``, then ``if USE_S3:`` (every non-empty string is on)."""
    assert throwaway_value("USE_S3") == ""
    assert throwaway_value("ENABLE_SENTRY", "bool") == "false"
    assert throwaway_value("SENTRY_ENABLED", "bool") == "false"
    assert throwaway_value("USE_S3", OPTIONAL) is None  # read with a default: the app's
    source = (
        b"import environ, os\nenv = environ.Env()\n"
        b"USE_S3 = os.environ.get('USE_S3') or env('USE_S3')\n"
    )
    found = config_defaults({"core/settings.py": source}, "core/settings.py", {}, {"PORT"})
    assert found.values["USE_S3"] == "" and not found.missing


def test_a_maintenance_mode_on_by_its_own_default_is_off() -> None:
    """Jude-Vigor's flask-payment-api: ``MAINTENANCE_MODE = os.getenv("MAINTENANCE_MODE",
    "true")``, its home page a 503 maintenance page under it; a preview serves. What the
    user gives stays theirs; a message about it is no switch."""
    source = (
        b"import os\nclass Config:\n"
        b'    MAINTENANCE_MODE = os.getenv("MAINTENANCE_MODE", "true").lower() == "true"\n'
        b'    MAINTENANCE_MESSAGE = os.getenv("MAINTENANCE_MESSAGE", "Back soon")\n'
    )
    files = {"config.py": source, "app.py": b"from config import Config\n"}
    found = config_defaults(files, "app.py", {}, {"PORT"})
    assert found.values.get("MAINTENANCE_MODE") == "false", found.values
    assert "MAINTENANCE_MESSAGE" not in found.values
    assert any("its maintenance mode, off" in note for note in found.notes)
    given = config_defaults(files, "app.py", {"MAINTENANCE_MODE": "true"}, {"PORT"})
    assert "MAINTENANCE_MODE" not in given.values


def test_a_switch_making_the_schema_at_start_is_on() -> None:
    """theshortman's russian-lady-shop-nestjs: ``autoLoadModels: Boolean(process.env.
    SEQUELIZE_AUTO_LOAD_MODELS)``, which @nestjs/sequelize synchronizes by default:
    unset, its tables were never made ('relation "categories" does not exist')."""
    for name in ("SEQUELIZE_AUTO_LOAD_MODELS", "DB_AUTOLOAD_MODELS", "TYPEORM_SYNCHRONIZE"):
        assert throwaway_value(name) == "true", name
    assert throwaway_value("AUTO_LOAD_IMAGES") != "true"


def test_a_required_read_saying_its_type_gets_a_value_of_that_type() -> None:
    """sheraff0's rental-django-ninja-pydantic has no example file and reads
    ``env.bool('TOOLBAR')``, ``env.bool('SWAGGER')``, ``env.bool('S3_STORAGE')`` and
    ``env('MEDIA_BASE_URL')`` with no default: its switches off, its media served from its
    own address (``MEDIA_URL = MEDIA_BASE_URL + MEDIA_RELATIVE_URL``); its number one."""
    source = (
        b"import environ\nenv = environ.Env()\n"
        b"TOOLBAR = env.bool('TOOLBAR')\nSWAGGER = env.bool('SWAGGER')\n"
        b"PAGE = env.int('PAGE_SIZE')\nMEDIA_BASE_URL = env('MEDIA_BASE_URL')\n"
    )
    found = config_defaults({"core/settings.py": source}, "core/settings.py", {}, {"PORT"})
    assert {n: found.values.get(n) for n in ("TOOLBAR", "SWAGGER", "PAGE_SIZE")} == {
        "TOOLBAR": "false",
        "SWAGGER": "false",
        "PAGE_SIZE": "1",
    }
    assert found.values["MEDIA_BASE_URL"] == "http://localhost" and not found.missing
    # Another service's login in one value (its SMS gateway's): a throwaway secret.
    assert len(throwaway_value("SMS_AERO_BASIC_AUTH") or "") >= 32
    assert (throwaway_value("SMS_RU_API_ID") or "").startswith("preview-")  # its issued id
    # In either order, or one word (RuizFJ's API-RealState-With-NestJS: GOOGLE_ID_CLIENT
    # handed to passport-google-oauth20, "OAuth2Strategy requires a clientID option").
    for name in ("GOOGLE_ID_CLIENT", "FACEBOOK_APPID", "GITHUB_CLIENTID"):
        assert (throwaway_value(name) or "").startswith("preview-"), name
    assert not (throwaway_value("RAPID_MODE") or "").startswith("preview-")
    # A private key read from a variable (AndrewHamiliDevelopment's food-ordering-api-
    # nestjs hands FIREBASE_PRIVATE_KEY to firebase-admin's cert(): "Failed to parse
    # private key" from a random string): a PEM key, made for each launch.
    first, second = throwaway_value("FIREBASE_PRIVATE_KEY"), throwaway_value("JWT_PRIVATEKEY")
    for key in (first, second):
        assert key is not None and key.startswith("-----BEGIN PRIVATE KEY-----\n")
        assert key.rstrip().endswith("-----END PRIVATE KEY-----")
        parsed = subprocess.run(
            ["openssl", "pkey", "-noout"], input=key.encode(), capture_output=True, timeout=30
        )
        assert parsed.returncode == 0, parsed.stderr
    assert first != second


def test_an_env_file_path_built_from_a_siblings_constant_is_written() -> None:
    """pjesus22's simple-drf-blog: ``from .base import *`` brings ``BASE_DIR``; its
    development settings give ``RepositoryEnv(BASE_DIR.parent / ".env")``, which it lacks
    (decouple fails without the file; the variables come from the environment)."""
    base = b"from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent.parent\n"
    development = (
        b"from decouple import Config, RepositoryEnv\nfrom .base import *\n"
        b'config = Config(RepositoryEnv(BASE_DIR.parent / ".env"))\n'
    )
    files = {
        "src/config/settings/base.py": base,
        "src/config/settings/development.py": development,
        ".env.example": b"SECRET_KEY=x\n",
    }
    assert env_files_needed(files) == [".env"]
    renamed = development.replace(b"from .base import *", b"from .base import BASE_DIR as ROOT")
    named = {**files, "src/config/settings/development.py": renamed.replace(b"BASE_DIR.", b"ROOT.")}
    assert env_files_needed(named) == [".env"]
    assert env_files_needed({**files, ".env": b""}) == []


def test_an_environs_env_file_in_a_folder_of_its_own_is_written() -> None:
    """soroushav's drf-ecommerce: its local settings give environs'
    ``env.read_env(str(BASE_DIR.joinpath('.env', 'local', '.env')))``, a folder its
    author keeps out of git ("Starting path not found" at ``migrate``)."""
    base = (
        b"from pathlib import Path\nfrom environs import Env\n"
        b"BASE_DIR = Path(__file__).resolve().parent.parent.parent\nenv = Env()\n"
    )
    local = (
        b"from .base import *\nfrom .base import env\n"
        b"env.read_env(str(BASE_DIR.joinpath('.env', 'local', '.env')))\n"
    )
    files = {"shop/settings/base.py": base, "shop/settings/local.py": local}
    assert env_files_needed(files) == [".env/local/.env"]
    assert env_files_needed({**files, ".env/local/.env": b""}) == []


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
    # Assigned before the command that runs it (binlecode's example-todo-fastapi-async-db:
    # ``RESET_DB=true uvicorn app.main:app``, which makes its tables), but never a
    # deployment's value.
    files["README.md"] = b"""# todo
```sh
# reset local sqlite db during app start up
RESET_DB=true uvicorn app.main:app --reload
# or without db reset
uvicorn app.main:app --reload
ENVIRONMENT=production WORKERS=4 gunicorn app.main:app
```
"""
    files["manage.py"] += b'RESET = os.environ.get("RESET_DB")\nENV = os.getenv("ENVIRONMENT")\n'
    files["manage.py"] += b'WORKERS = os.getenv("WORKERS", "1")\n'
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert found.values == {"RESET_DB": "true", "WORKERS": "4"}


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


def test_a_settings_example_named_by_a_prefix_or_a_word_before_its_extension() -> None:
    """afrijaldz's express-sequelize-starter ships config/example.config.json; its
    models/index.js and sequelize-cli read config/config.json ("Cannot find
    config/config.json")."""
    files = {
        "config/example.config.json": b"{}",
        "settings.sample.json": b"{}",
        "src/config.ts.example": b"",
        "example.json": b"{}",  # no name left once "example." is taken away
        "present.example.json": b"{}",
        "present.json": b"{}",
        "src/types/example.d.ts": b"declare class Greeter {}\n",  # a declaration file's name
    }
    assert example_copies(files) == {
        "config/config.json": "config/example.config.json",
        "settings.json": "settings.sample.json",
        "src/config.ts": "src/config.ts.example",
    }


def test_a_settings_example_named_by_a_joined_prefix_is_copied_where_the_code_names_it() -> None:
    """kelvingsli's flask-microservice-users ships sample-config.yaml; its app.py opens
    config.yaml, git-ignored (FileNotFoundError). A sample of data nothing names is no
    example of a file."""
    files = {
        "sample-config.yaml": b"database: {}\n",
        "example_settings.json": b"{}",
        "sample-users.json": b"[]",
        "app.py": b"with open('config.yaml', 'rt') as f:\n    pass\n",
        "src/index.js": b"const settings = require('./example_settings.json');\n"
        b"const s = require('../settings.json');\n",
    }
    assert example_copies(files) == {
        "config.yaml": "sample-config.yaml",
        "settings.json": "example_settings.json",
    }
    # A module required by its path without its extension (icheater's expressserver:
    # ``require(`${appRoot}/config/mailerconfig`)``); not one of a package's name.
    modules = {
        "config/example_mailerconfig.js": b"module.exports = {}\n",
        "config/example_passport.js": b"module.exports = {}\n",
        "helpers/mailer.js": b"const config = require(`${appRoot}/config/mailerconfig`)[env]\n",
        "app.js": b"const passport = require('passport')\n",
    }
    assert example_copies(modules) == {"config/mailerconfig.js": "config/example_mailerconfig.js"}


def test_a_served_databases_empty_password_is_one_it_accepts() -> None:
    """agucabral21's .env.example leaves ``DB_PASS=`` empty; the preview's MariaDB's
    root has no password, which the service gave it by meaning, and then replaced as an
    empty secret by a throwaway one ("Access denied for user 'root'@'localhost' (using
    password: YES)"). It is given the password the account accepts beside none
    (backing.servers.mysql.STAND_IN_PASSWORD), never a throwaway of its own."""
    files = {
        "package.json": PACKAGE,
        ".env.example": b"DB_HOST=\nDB_USER=\nDB_PASS=\nDB_NAME=\nJWT_SECRET=\n",
        "app.js": b"new Sequelize({ password: process.env.DB_PASS, dialect: 'mysql' })\n",
    }
    provided = mysql_environment(MysqlWanted())
    found = config_defaults(files, "app.js", {}, provided)
    assert found.values["DB_PASS"] == STAND_IN_PASSWORD
    assert "DB_PASS" not in found.generated
    assert found.values["JWT_SECRET"] and "JWT_SECRET" in found.generated


def test_a_variable_given_to_a_cors_origin_allows_any() -> None:
    """alessandrob88's clean-architecture-fastify-postgres: ``origin:
    process.env.CORS_ALLOWED_HOST`` for @fastify/cors, which, unset, failed every request
    ("Invalid CORS origin option"); its name says a host, the option an origin."""
    index = b"""import cors from "@fastify/cors";
await fastify.register(cors, {
    origin: process.env.CORS_ALLOWED_HOST,
    methods: process.env.CORS_ALLOWED_METHODS,
});
const page = { origin: process.env.PAGE_HOST };
"""
    files = {"package.json": b'{"dependencies": {"fastify": "^4"}}', "src/index.ts": index}
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values.get("CORS_ALLOWED_HOST") == "*", found.values
    # No CORS middleware in its module: an origin of something else.
    files["src/index.ts"] = index.replace(b"@fastify/cors", b"./plugins")
    assert "CORS_ALLOWED_HOST" not in config_defaults(files, "package.json", {}, {"PORT"}).values


def test_a_setting_a_variable_is_given_to_says_its_part_over_its_name() -> None:
    """xpros' django-rest-framework-todo: ``"HOST": os.getenv("DATABASE_SERVICE_NAME")``
    in its DATABASES, a name ending as a database's name does: given the database's name,
    psycopg2 looked up a host "app". The setting it is given to says it is the host."""
    settings = b"""import os
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "todoapp",
        "PASSWORD": os.getenv("DATABASE_PASSWORD"),
        "HOST": os.getenv("DATABASE_SERVICE_NAME"),
    }
}
"""
    manage = b'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_app.settings")\n'
    files = {"manage.py": manage, "todo_app/settings.py": settings, "todo_app/__init__.py": b""}
    files["requirements.txt"] = b"django\npsycopg2-binary\n"
    found = config_defaults(files, "manage.py", {}, _SERVED)
    assert found.values.get("DATABASE_SERVICE_NAME") == _SERVED["DB_HOST"], found.values


def test_variables_a_template_literal_url_is_written_with_mean_their_parts() -> None:
    """alessandrob88's clean-architecture-fastify-postgres builds its URL of two template
    literals: ``postgres://${process.env.POSTGRES_USER}:${…PASSWORD}`+`@${process.env.
    POSTGRES_SERVICE}:${…PORT}/${…DB}``; ``POSTGRES_SERVICE`` (its compose service's name
    in its README) says nothing of a host, and pg looked up "undefined". Each by its place,
    through a constant too."""
    pool = b"""const H = process.env.MYHOST;
  await fastify.register(fastifyPostgres, {
    connectionString: `postgres://${process.env.POSTGRES_USER}:${process.env.POSTGRES_PASSWORD}`+
      `@${process.env.POSTGRES_SERVICE}:${process.env.POSTGRES_PORT}/${process.env.POSTGRES_DB}`,
  });
const other = `mysql://root:${process.env['SECRET_PW']}@${H}:3306/app?ssl=${process.env.TLS}`;
const page = `https://${process.env.CDN_HOST}/${process.env.CDN_PATH}`;
"""
    files = {"package.json": b'{"dependencies": {"pg": "^8"}}', "src/index.ts": pool}
    assert database_option_reads(files) == {
        "POSTGRES_USER": "DB_USER",
        "POSTGRES_PASSWORD": "DB_PASSWORD",
        "POSTGRES_SERVICE": "DB_HOST",
        "POSTGRES_PORT": "DB_PORT",
        "POSTGRES_DB": "DB_NAME",
        "SECRET_PW": "DB_PASSWORD",
        "MYHOST": "DB_HOST",
    }
    found = config_defaults(files, "package.json", {}, _SERVED)
    assert found.values.get("POSTGRES_SERVICE") == _SERVED["DB_HOST"], found.values


def test_variables_given_to_a_database_clients_options_mean_their_parts() -> None:
    """caiolorramvalente's express-sequelize-api: ``new Sequelize({dialect:
    process.env.DIALECT, database: process.env.DATABASE, username: process.env.NAME,
    password: process.env.PASSWORD, port: process.env.PORTDB})``; no name says a
    database's part ("Dialect needs to be explicitly supplied"), each option does."""
    files = {
        "package.json": b'{"dependencies": {"sequelize": "^6", "@sequelize/postgres": "^7"}}',
        "db/db.js": b"""const sequelize = new Sequelize({
    dialect:process.env.DIALECT,
    database:process.env.DATABASE,
    username:process.env.NAME,
    password:process.env.PASSWORD,
    port:process.env.PORTDB
})
""",
        "src/page.js": b"const page = { title: process.env.TITLE, host: process.env.CDN }\n",
    }
    provided = mysql_environment(MysqlWanted())
    found = config_defaults(files, "package.json", {}, provided)
    served = {k: found.values.get(k) for k in ("DIALECT", "DATABASE", "NAME", "PORTDB")}
    assert served == {
        "DIALECT": "mysql",
        "DATABASE": provided["DB_NAME"],
        "NAME": provided["DB_USER"],
        "PORTDB": provided["DB_PORT"],
    }
    assert found.values["PASSWORD"] == provided["DB_PASSWORD"]
    assert "CDN" not in database_option_reads(files)  # no database client made there
    # Through constants, Sequelize's positional form (anasseth's Node-Express-Postgres-MVC).
    bound = b"""const hostName = process.env.HOST;
const userName = process.env.USER;
const database = process.env.DB;
const dialect = process.env.DIALECT;
const sequelize = new Sequelize(database, userName, process.env.PASSWORD, {
    host: hostName,
    dialect: dialect,
});
"""
    assert database_option_reads({"Config/db.config.js": bound}) == {
        "DB": "DB_NAME",
        "USER": "DB_USER",
        "PASSWORD": "DB_PASSWORD",
        "HOST": "DB_HOST",
        "DIALECT": "DB_DIALECT",
    }
    # A config module another file makes its client from, its dialect saying whose
    # (bahadirsofuoglu's fastify-sequelize-api).
    config = b"""module.exports = {
  HOST: process.env.HOST,
  USER: process.env.USER_NAME,
  DB: process.env.DB,
  dialect: process.env.DIALECT,
  pool: { max: 5 },
};
"""
    # Its README's example leaves fill-ins (DIALECT= "YOUR_DIALECT"): the served ones.
    readme = (
        b"Start by creating a .env file.\n\n## ENV Setup\n\n``` bash\n"
        b'HOST="YOUR_HOST"\nDB= "YOUR_DB_NAME"\nDIALECT= "YOUR_DIALECT"\n```\n'
    )
    example = {"package.json": PACKAGE, "src/config/db.config.js": config, "README.md": readme}
    found = config_defaults(with_readme_example(example), "src/index.js", {}, provided)
    assert found.values["DIALECT"] == "mysql" and found.values["DB"] == provided["DB_NAME"]
    assert database_option_reads({"src/config/db.config.js": config}) == {
        "HOST": "DB_HOST",
        "USER_NAME": "DB_USER",
        "DB": "DB_NAME",
        "DIALECT": "DB_DIALECT",
    }


def test_a_url_named_variable_an_option_gives_as_a_host_keeps_its_examples_host() -> None:
    """penkong's devref-back auth service: its config module's object of variables
    (``DBURL: process.env.DBURL``) gives TypeORM ``host: config.DBURL``, its example's
    ``DBURL=pg`` a host's name; read by its name as a URL, it was given the preview's
    URL: "getaddrinfo ENOTFOUND postgresql://…". The object's PORT is the app's own."""
    config = b"""import { ConnectionOptions } from 'typeorm'
export const config = {
  PORT: process.env.PORT,
  DBURL: process.env.DBURL,
  DBNAME: process.env.DBNAME,
  PGPASS: process.env.PASSWORD,
}
export const TYPEORM: ConnectionOptions = {
  type: 'postgres',
  host: config.DBURL || '172.18.0.2',
  port: 5432,
  password: config.PGPASS || 'secret',
  database: config.DBNAME || 'app',
}
"""
    files = {
        "package.json": b'{"dependencies": {"typeorm": "^0.2", "pg": "^8"}}',
        ".env.example": b"PORT=5002\nDBURL=pg\nDBNAME=expresstypormpg\n",
        "src/config/index.ts": config,
    }
    assert database_option_reads(files) == {
        "DBURL": "DB_HOST",
        "PASSWORD": "DB_PASSWORD",
        "DBNAME": "DB_NAME",
    }
    url = "postgresql://postgres:postgres@127.0.0.1:5432/app"
    provided = {**postgres_variables({}, "127.0.0.1", 5432), "DATABASE_URL": url}
    found = config_defaults(files, "package.json", {}, provided)
    assert found.values["DBURL"] == "pg" and found.values["PORT"] == "5002"
    assert found.values["PASSWORD"] == provided["DB_PASSWORD"]


def test_a_databases_part_given_a_variables_name_is_a_fill_in() -> None:
    """haileyjpark's books-koa-backend: its README's example gives each database part the
    name of a variable (``DATABASE_DIALECT=DB_DIALECT``, ``DATABASE_HOST=DB_HOST``), kept as
    values: Sequelize "The dialect DB_DIALECT is not supported"."""
    example = (
        b"DATABASE_USERNAME=DB_USERNAME\nDATABASE_HOST=DB_HOST\nDATABASE_PORT=DB_PORT\n"
        b"DATABASE_DIALECT=DB_DIALECT\nAPP_MODE=SHADOW_MODE\n"
    )
    files = {
        "package.json": b'{"dependencies": {"sequelize": "^6", "pg": "^8"}}',
        ".env.example": example,
        "src/db.js": b"new Sequelize({host: process.env.DATABASE_HOST, "
        b"dialect: process.env.DATABASE_DIALECT, port: process.env.DATABASE_PORT})\n"
        b"console.log(process.env.APP_MODE)\n",
    }
    url = "postgresql://postgres:postgres@127.0.0.1:5432/app"
    provided = {**postgres_variables({}, "127.0.0.1", 5432), "DATABASE_URL": url}
    found = config_defaults(files, "package.json", {}, provided)
    assert found.values["DATABASE_DIALECT"] == "postgres"
    for served in ("DATABASE_USERNAME", "DATABASE_HOST", "DATABASE_PORT"):
        assert served not in found.values  # the service's own stands
    assert found.values["APP_MODE"] == "SHADOW_MODE"  # no database's part: the app's


def test_a_value_listing_choices_for_its_reader_is_a_fill_in() -> None:
    """acharyarupak391's ExpressJS-Sequelize: its README's env block gives
    ``DB_DIALECT=postgres | sql | ...`` (pick one; an example file's here), kept as a
    value: Sequelize "The dialect postgres | sql | ... is not supported". The served
    engine's name instead; a value with a bar of its own (``json|text``) is the app's."""
    example = (
        b"DB_USER_NAME=your-postgres-username\nDB_HOST=database-host\n"
        b"DB_DIALECT=postgres | sql | ...\nLOG_FORMAT=json|text\n"
    )
    files = {
        "package.json": b'{"dependencies": {"sequelize": "^6", "pg": "^8"}}',
        ".env.example": example,
        "config.js": b"module.exports = {host: process.env.DB_HOST, "
        b"dialect: process.env.DB_DIALECT, username: process.env.DB_USER_NAME}\n"
        b"console.log(process.env.LOG_FORMAT)\n",
    }
    url = "postgresql://postgres:postgres@127.0.0.1:5432/app"
    provided = {**postgres_variables({}, "127.0.0.1", 5432), "DATABASE_URL": url}
    found = config_defaults(files, "package.json", {}, provided)
    assert found.values["DB_DIALECT"] == "postgres"
    assert found.values["LOG_FORMAT"] == "json|text"


def test_an_engine_its_env_names_by_a_word_for_any_database_is_the_served_ones() -> None:
    """oleg-freeman's nestjs-social-app: its committed .env gives TypeORM's ``type:
    process.env.DB_TYPE`` the value ``sql``, which names no engine (TypeORM: "Wrong driver:
    "sql" given"), beside POSTGRES_* and pg: the preview's PostgreSQL's engine instead. A
    value the user gives is still the app's own."""
    dotenv = b"POSTGRES_USER=user\nPOSTGRES_DB=db\nDB_TYPE=sql\nDB_HOST=localhost\n"
    files = {
        "package.json": b'{"scripts": {"start": "node server.js"}, '
        b'"dependencies": {"typeorm": "^0.2", "pg": "^8"}}',
        "server.js": b"require('typeorm').createConnection();\n",
        ".env": dotenv,
        "ormconfig.js": b"module.exports = { type: process.env.DB_TYPE, "
        b"host: process.env.DB_HOST, username: process.env.POSTGRES_USER };\n",
    }
    url = "postgresql://postgres:postgres@127.0.0.1:5432/app"
    provided = {**postgres_variables({}, "127.0.0.1", 5432), "DATABASE_URL": url}
    given = {"POSTGRES_USER": "user", "POSTGRES_DB": "db", "DB_TYPE": "sql"}
    found = config_defaults(files, "package.json", given, provided)
    assert found.values["DB_TYPE"] == "postgres"
    assert "POSTGRES_DB" not in found.values  # a word for a database, but a name: its own
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW, detection=detect(files)
    )
    environment = {
        "app_dir": Path("/previews/p1"),
        "database_env": provided,
        "egress_open": False,
        "memory_limit_mb": 512,
        "defaults": found.values,
    }
    env = app_environment(spec, "node", **environment)
    assert env["DB_TYPE"] == "postgres" and env["POSTGRES_DB"] == "db"
    spec.extra = {"DB_TYPE": "sql"}
    assert app_environment(spec, "node", **environment)["DB_TYPE"] == "sql"


def test_variables_destructured_then_given_to_a_written_dialects_options_mean_their_parts() -> None:
    """kinothUI's calendar-api-fastify: sequelize-cli's src/config/index.js destructures
    ``const { DB_DB, DB_HOST, USERNAME, PASSWORD } = process.env`` and gives them to
    ``{database: DB_DB, username: USERNAME, …, dialect: "mysql"}``, its committed .env
    leaving DB_DB and USERNAME empty: its migrations met "No database selected"."""
    config = b"""require("dotenv").config();
const { NODE_ENV, DB_DB, DB_HOST, DB_PORT, USERNAME, PASSWORD } = process.env;
const connectionDetails = {
  username: USERNAME,
  password: PASSWORD,
  database: DB_DB,
  host: DB_HOST,
  port: DB_PORT,
  dialect: "mysql",
};
module.exports = { development: connectionDetails };
"""
    files = {
        "package.json": b'{"dependencies": {"sequelize": "^6", "mysql2": "^2"}}',
        ".env": b"DB_DB=\nDB_HOST=localhost\nDB_PORT=3306\nUSERNAME=\nPASSWORD=\n",
        "src/config/index.js": config,
    }
    assert database_option_reads(files) == {
        "USERNAME": "DB_USER",
        "PASSWORD": "DB_PASSWORD",
        "DB_DB": "DB_NAME",
        "DB_HOST": "DB_HOST",
        "DB_PORT": "DB_PORT",
    }
    provided = mysql_environment(MysqlWanted())
    found = config_defaults(files, "package.json", {}, provided)
    assert found.values["DB_DB"] == provided["DB_NAME"]
    assert found.values["USERNAME"] == provided["DB_USER"]
    # Its .env's DB_HOST and DB_PORT the service's values too: the app's, not given as
    # the service's (preparation leaves them out); its MariaDB's own names say it still.
    given = {"DB_DB": "", "DB_HOST": "localhost", "DB_PORT": "3306", "USERNAME": ""}
    served = {**provided, "DB_HOST": "localhost"}
    served = {k: v for k, v in served.items() if given.get(k) != v}
    found = config_defaults(files, "package.json", given, served)
    assert found.values["DB_DB"] == provided["DB_NAME"]
    assert found.values["USERNAME"] == provided["DB_USER"]
    # A settings object naming no database's dialect says nothing of its values.
    other = {**files, "src/config/index.js": config.replace(b'dialect: "mysql",', b"")}
    assert database_option_reads(other) == {}


def test_a_config_modules_host_and_database_read_from_the_environment_are_a_connections() -> None:
    """UskoKruM's restapi-nodejs-express-mysql: config.js exports ``{host: process.env.HOST
    || "", database: process.env.DATABASE || "", user: process.env.USER || "", password:
    …}``, which database.js gives promise-mysql; no client is made in that file and no name
    says a database's part: unset, every query failed. A host and a database's name read
    so are a connection's settings; a host alone (a page's CDN) is not."""
    config = b"""import { config } from "dotenv";
config();
export default {
    host: process.env.HOST || "",
    database: process.env.DATABASE || "",
    user: process.env.USER || "",
    password: process.env.PASSWORD || ""
};
"""
    assert database_option_reads({"src/config.js": config}) == {
        "HOST": "DB_HOST",
        "DATABASE": "DB_NAME",
        "USER": "DB_USER",
        "PASSWORD": "DB_PASSWORD",
    }
    page = b"export default { host: process.env.CDN, title: process.env.TITLE };\n"
    assert database_option_reads({"src/page.js": page}) == {}
    files = {"package.json": b'{"dependencies": {"promise-mysql": "^5"}}', "src/config.js": config}
    provided = mysql_environment(MysqlWanted())
    found = config_defaults(files, "package.json", {}, provided)
    assert found.values.get("DATABASE") == provided["DB_NAME"]
    assert found.values.get("HOST") == provided["DB_HOST"]


def test_a_joi_schema_of_joi_imported_by_another_name_is_read() -> None:
    """fastery-dev-sas's api-wallet-nestjs: ``import * as joi from 'joi'``, then
    ``API_PREFIX: joi.string().required()`` validated against process.env, in no example:
    "Config ENV error: "API_PREFIX" is required" at every start."""
    schema = b"""import 'dotenv/config';
import * as joi from 'joi';
const envsSchema = joi.object({
    PORT: joi.number().required(),
    API_PREFIX: joi.string().required(),
    DB_PORT: joi.number().required(),
    STAGE: joi.string().default('dev'),
  }).unknown(true);
const { error, value } = envsSchema.validate(process.env);
"""
    files = {"package.json": b"{}", "src/config/envs.ts": schema}
    assert required_types(files) == {
        "PORT": "int",
        "API_PREFIX": "",
        "DB_PORT": "int",
        "STAGE": OPTIONAL,
    }


def test_a_joi_keys_description_says_which_part_of_the_database_it_is() -> None:
    """Uzair-Organization's express-objection requires DATABASE, DB_USER, PASSWORD and
    HOST in a Joi schema whose descriptions say what each is ("Database name"): none was
    given, "DATABASE" is required. Each gets the served database's part."""
    schema = b"""import Joi from 'joi';
const envVarsSchema = Joi.object().keys({
    DATABASE: Joi.string().required().description('Database name'),
    DB_USER: Joi.string().required().description('Database user'),
    PASSWORD: Joi.string().required().description('Database password'),
    HOST: Joi.string().required().description('Database host'),
    CRYPTO: Joi.string().required().description('Encryption secret'),
}).unknown();
const { value } = envVarsSchema.validate(process.env);
"""
    files = {"package.json": PACKAGE, "src/config/config.js": schema}
    assert database_option_reads(files) == {
        "DATABASE": "DATABASE_NAME",
        "DB_USER": "DATABASE_USER",
        "PASSWORD": "DATABASE_PASSWORD",
        "HOST": "DATABASE_HOST",
    }
    provided = {"DB_HOST": "127.0.0.1", "DB_PORT": "5432", "DB_USER": "app"}
    provided |= {"DB_PASSWORD": "pw", "DB_NAME": "appdb", "PGHOST": "127.0.0.1", "PGPORT": "5432"}
    found = config_defaults(files, "package.json", {}, provided)
    assert (found.values["DATABASE"], found.values["HOST"]) == ("appdb", "127.0.0.1")
    assert found.values["PASSWORD"] == "pw"
    assert len(found.values["CRYPTO"]) >= 32  # "Encryption secret": a throwaway one


def test_a_development_databases_variables_by_their_suffix() -> None:
    """mohamilin's blog reads ``DB_DIALECT_DEV`` (and ``DB_USERNAME_DEV`` …) under
    NODE_ENV=development, which a preview runs as: those names said nothing, and
    Sequelize stopped on "Dialect needs to be explicitly supplied"."""
    assert meaning("DB_DIALECT_DEV") == meaning("DB_DIALECT")
    assert meaning("DB_USERNAME_DEVELOPMENT") == meaning("DB_USERNAME")
    assert meaning("DB_HOST_PROD") is None and meaning("DB_NAME_TEST") is None
    # Which of its clients' (Alembic's, the app's): both the database's URL.
    assert meaning("DATABASE_URL_SYNC") == meaning("DATABASE_URL_ASYNC") == meaning("DATABASE_URL")
    files = {"package.json": PACKAGE, "src/config/config.js": BLOG_CONFIG}
    provided = postgres_variables({}, "127.0.0.1", 5432, {})
    found = config_defaults(files, "src/server.js", {}, provided)
    assert found.values["DB_DIALECT_DEV"] == "postgres"


def test_an_empty_example_value_a_joi_schema_refuses_is_left_unset() -> None:
    """guntoroyk's boilerplate validates process.env with Joi; its example leaves
    ``API_VERSION=`` (and ``NODE_ENV=``, ``CLIENT_WEB_URL=``) empty, which Joi's
    ``string()`` refuses ("API_VERSION is not allowed to be empty"). Unset, each takes
    its default or is left out; a required one gets a throwaway value where its name
    says what it is."""
    files = {
        "package.json": PACKAGE,
        ".env.example": b"NODE_ENV=\nAPI_VERSION=\nCLIENT_WEB_URL=\nJWT_SECRET=\nOTHER=\n",
        "src/config/config.js": JOI_CONFIG,
    }
    found = config_defaults(files, "src/index.js", {}, {"PORT": "8000"})
    for name in ("NODE_ENV", "API_VERSION", "CLIENT_WEB_URL"):
        assert name not in found.values, name
    assert found.values["JWT_SECRET"] and found.values["OTHER"] == ""
    # zod's string() takes "": only a key with a default of its own is left unset.
    files["src/config/config.js"] = (
        b"const env = z.object({ API_VERSION: z.string().default('1'), NAME: z.string() })"
        b".parse(process.env)\n"
    )
    files[".env.example"] = b"API_VERSION=\nNAME=\n"
    found = config_defaults(files, "src/index.js", {}, {"PORT": "8000"})
    assert "API_VERSION" not in found.values and found.values["NAME"] == ""


def test_a_value_its_settings_class_refuses_for_the_fields_type_is_a_form_to_fill_in() -> None:
    """eladgunders' fastapi-todos: its compose service's env_file leaves ``SMTP_PORT=``
    and ``EMAILS_FROM_EMAIL=`` empty for ``Optional[int]`` / ``Optional[EmailStr]``
    fields, which pydantic refuses ("value is not a valid integer"): the app never
    started. Cohetero's FastAPI-JWT-SQLAlchemy: its README's ``ACCESS_TOKEN_EXPIRE_MINUTES
    = tiempo_en_que_expira_el_token`` is the default of an ``int`` field, and its
    ``DB_PORT = port`` no port. A defaulted field's value is unset (its default stands),
    a required one's a throwaway by its name; the upload's own .env is never changed."""
    files = with_readme_example(_bytes("fastapi_settings_forms_to_fill"))
    compose = postgres_wants(files, {}).compose_env
    assert compose["SMTP_PORT"] == "" and compose["EMAILS_FROM_EMAIL"] == ""
    found = config_defaults(files, "app/main.py", {}, {**_SERVED, **compose})
    assert found.values["ACCESS_TOKEN_EXPIRE_MINUTES"] == "60"
    assert "DB_PORT" not in found.values  # the served database's stands
    assert any("SMTP_PORT" in note and "unset" in note for note in found.notes)
    spec = LaunchSpec(
        "p1",
        "g1",
        None,
        "alice",
        files,
        [],
        3001,
        None,
        _NOW,
        _NOW,
        detection=detect(files),
    )
    env = app_environment(
        spec,
        "python3",
        app_dir=Path("/previews/p1"),
        database_env={**_SERVED, **compose},
        egress_open=False,
        memory_limit_mb=512,
        defaults=found.values,
    )
    assert "SMTP_PORT" not in env and "EMAILS_FROM_EMAIL" not in env
    assert env["SMTP_HOST"] == "" and env["JWT_SECRET_KEY"] == "SECRET"  # any text is a str
    assert env["ACCESS_TOKEN_EXPIRE_MINUTES"] == "60" and env["DB_PORT"] == "5432"
    # What the user gives is the app's own: never changed.
    spec.extra = {"SMTP_PORT": ""}
    env = app_environment(
        spec,
        "python3",
        app_dir=Path("/previews/p1"),
        database_env={**_SERVED, **compose},
        egress_open=False,
        memory_limit_mb=512,
        defaults=found.values,
    )
    assert env["SMTP_PORT"] == ""


def test_which_settings_values_the_fields_types_refuse() -> None:
    source = b"""
import os
from typing import Optional
from pydantic import BaseSettings, EmailStr, Field

class Settings(BaseSettings):
    workers: int
    ratio: Optional[float] = None
    debug: bool = False
    admin: EmailStr
    name: str = "x"
    either: "int | str" = 0
    limit: int = Field(10, env="RATE_LIMIT")
    expire: int = os.getenv("TOKEN_MINUTES")
"""
    files = {"config.py": source}
    env = {
        "WORKERS": "many",
        "RATIO": "",
        "DEBUG": "maybe",
        "ADMIN": "your_email",
        "NAME": "",
        "EITHER": "x",
        "RATE_LIMIT": "10",
        "TOKEN_MINUTES": "minutes",
    }
    assert settings_misfits(files, env, {}) == {
        "WORKERS": "1",
        "RATIO": None,
        "DEBUG": None,
        "ADMIN": "preview@example.com",
        "TOKEN_MINUTES": "60",
    }
    assert settings_misfits(files, env, {"WORKERS": "many"}).get("WORKERS", "kept") == "kept"


def test_a_variable_read_as_a_number_refuses_an_examples_words() -> None:
    """Without a settings class: smigy32's fastapi-library reads ``int(os.getenv(
    "MAIL_PORT"))`` and its .env.example says ``MAIL_PORT=Port`` (ValueError at start);
    KSHELL28's Flask-Todo-api reads ``os.getenv("VAR_SIZE", "50")`` into a column's size,
    its example saying ``VAR_SIZE=Keep,as,you,need``. The first gets another service's
    port, the second its own default; numbers and other variables are left alone."""
    source = b"""
import os
MAIL_PORT = int(os.getenv("MAIL_PORT"))
SIZE = os.getenv("VAR_SIZE", "50")
WORKERS = int(os.environ.get("WORKERS", 2))
NAME = os.getenv("NAME", "x")
"""
    files = {"config.py": source, "main.py": b"import config\n"}
    env = {"MAIL_PORT": "Port", "VAR_SIZE": "Keep,as,you,need", "WORKERS": "4", "NAME": "many"}
    assert settings_misfits(files, env, {}) == {"MAIL_PORT": "587", "VAR_SIZE": None}
    example = b"MAIL_PORT=Port\nVAR_SIZE=Keep,as,you,need\nNAME=words\nMAIL_FROM=YourEmail\n"
    example += b"MAIL_USERNAME=apikey\n"
    found = config_defaults({**files, ".env.example": example}, "main.py", {}, {"PORT"})
    assert found.values["MAIL_PORT"] == "587" and "VAR_SIZE" not in found.values
    assert found.values["NAME"] == "words"
    # Its MAIL_FROM, read untyped, went to fastapi-mail's ConnectionConfig, which refused it.
    assert found.values["MAIL_FROM"] == "preview@example.com"
    assert found.values["MAIL_USERNAME"] == "apikey"  # a login, which may be no address


def test_a_variable_read_with_a_switch_for_its_default_is_no_number() -> None:
    """palmop's drftodo reads ``os.environ.get('DJANGO_DEBUG', True) == "True"`` (and
    django-environ's ``env('DJANGO_DEBUG')``): True, an int to Python, made the variable a
    number, and its example's ``DJANGO_DEBUG=True`` a form to fill in, unset; its
    ``env('DJANGO_DEBUG')`` then refused to start ("Set the DJANGO_DEBUG environment
    variable"). A switch's default reads as a switch."""
    source = b"""
import os
DEBUG = os.environ.get('DJANGO_DEBUG', True) == "True"
"""
    files = {"app/settings.py": source, "manage.py": b"import os\n"}
    assert typed_reads(files)["DJANGO_DEBUG"] == ("bool", True)
    assert settings_misfits(files, {"DJANGO_DEBUG": "True"}, {}) == {}
    found = config_defaults({**files, ".env.example": b"DJANGO_DEBUG=True\n"}, "manage.py", {}, {})
    assert found.values["DJANGO_DEBUG"] == "True"


def test_an_examples_description_of_a_host_port_or_url_is_unset() -> None:
    """guigiusti's fastify-url-shortener's .env.example describes each variable in place
    of a value (``REDIS_PORT = Redis Port from Docker Container / Defaults to 6379``): its
    ``Number(process.env.REDIS_PORT ?? 6379)`` was NaN, ioredis refused it, and its HOST
    was a sentence to listen on. A host, port or URL with a space is unset (the code's
    own default stands); other variables' words are kept."""
    example = (
        b"JWT_AUD = JWT Audience\n"
        b"HOST = Server Host to listen / Defaults to: 0.0.0.0\n"
        b"REDIS_PORT = Redis Port from Docker Container / Defaults to 6379\n"
        b"REDIS_HOST = Redis Host from Docker Container\n"
        b"CACHE_URL = redis://cache:6379/0\n"
        b"APP_PORT = 8080\n"
    )
    files = {
        "package.json": b'{"dependencies": {"ioredis": "^5"}}',
        "src/server.ts": b"new Redis({ port: Number(process.env.REDIS_PORT ?? 6379) });\n",
        ".env.example": example,
    }
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["JWT_AUD"] == "JWT Audience"
    assert found.values["CACHE_URL"] == "redis://cache:6379/0"
    assert found.values["APP_PORT"] == "8080"
    for name in ("HOST", "REDIS_PORT", "REDIS_HOST"):
        assert name not in found.values, found.values
    assert any(n.startswith("HOST, REDIS_PORT, REDIS_HOST: a description") for n in found.notes)


def test_an_examples_other_database_url_naming_a_server_is_the_previews() -> None:
    """pabloluceroschneider's flask-sqlite-api reads ``DEVELOPMENT_DATABASE_URL`` (its
    config's per deployment), which its .env.sample sets to a PostgreSQL at localhost; the
    preview gave SQLite as DATABASE_URL, and the app connected to nothing ("Connection
    refused"). Its example's URL is dropped and the preview's given there by meaning; kept
    where the preview's PostgreSQL answers it (PGHOST given)."""
    example = b"DEVELOPMENT_DATABASE_URL = 'postgresql+psycopg2://u:p@localhost:5432/db'\n"
    source = b'import os\nURI = os.getenv("DEVELOPMENT_DATABASE_URL")\n'
    files = {".env.sample": example, "config.py": source, "app.py": b"import config\n"}
    provided = {"DATABASE_URL": "sqlite:///app.db", "PORT": "8000"}
    found = config_defaults(files, "app.py", {}, provided)
    assert "DEVELOPMENT_DATABASE_URL" not in found.values
    assert any("DEVELOPMENT_DATABASE_URL name a database server" in n for n in found.notes)
    assert database_urls_by_meaning(files, {**provided, **found.values}, {}, "python") == {
        "DEVELOPMENT_DATABASE_URL": "sqlite:///app.db"
    }
    served = config_defaults(files, "app.py", {}, {**provided, "PGHOST": "127.0.0.1"})
    assert served.values["DEVELOPMENT_DATABASE_URL"].startswith("postgresql+psycopg2://")


def test_a_node_apps_own_function_reading_process_env_by_its_parameter_is_read() -> None:
    """dashsaurabh's fastify-rest-api-postgres-demo: ``function loadEnvironmentVariable(
    keyname)`` reads ``process.env[keyname]`` and throws where it is unset; its config asks
    it for ``DB_URI``: "Configuration must include DB_URI", beside its PostgreSQL. Each
    name such a function is given is read (required where it throws and is given the name
    alone), and a database's URL by its name gets the served one."""
    config = b"""function loadEnvironmentVariable(keyname) {
    const envVar = process.env[keyname];
    if (!envVar) {
        throw new Error(`Configuration must include ${keyname}`)
    }
    return envVar;
}
const env = (key, fallback) => process.env[key] ?? fallback;
class Settings {
  get(name: string) {
    return process.env[name];
  }
}
module.exports = {
    databaseUri: loadEnvironmentVariable('DB_URI'),
    level: env("LOG_LEVEL", "info"),
    secret: new Settings().get('JWT_SECRET'),
}
"""
    files = {"package.json": b"{}", "config/configuration.js": config}
    assert required_types(files) == {"DB_URI": "", "LOG_LEVEL": OPTIONAL, "JWT_SECRET": OPTIONAL}
    env = {"DATABASE_URL": "postgresql://postgres:postgres@127.0.0.1:5432/app"}
    assert database_urls_by_meaning(files, env, {}, "node") == {"DB_URI": env["DATABASE_URL"]}


def test_a_function_handing_its_parameter_to_such_a_reader_reads_an_enums_variable() -> None:
    """NovikovaAleAle's nestCRUD: ``parseStringEnv(Env.DATABASE)`` and ``parseIntEnv(Env.
    DATABASE_PORT)`` hand their parameter to ``envIsExist``, which reads ``process.env[
    nameEnv]`` and throws; ``Env`` an enum of the variables' names: none was read, and its
    start died on "Env DATABASE not found". Each is required, a number where the reader's
    name parses one."""
    helper = b"""const envIsExist = (nameEnv: string) => {
  const valueStr: string | undefined = process.env[nameEnv];
  if (!valueStr) {
    throw new Error(`Env ${nameEnv} not found`);
  }
  return valueStr;
};
export const parseStringEnv = (nameEnv: string): string => {
  return envIsExist(nameEnv);
};
export const parseIntEnv = (nameEnv: string): number => {
  const valueInt: number = parseInt(envIsExist(nameEnv));
  return valueInt;
};
"""
    constants = b"export enum Env {\n  DATABASE = 'DATABASE',\n"
    constants += b"  DATABASE_PORT = 'DATABASE_PORT',\n}\n"
    config = b"""export default registerAs('database', () => ({
  port: parseIntEnv(Env.DATABASE_PORT),
  database: parseStringEnv(Env.DATABASE),
}));
"""
    files = {
        "package.json": b"{}",
        "src/helpers/parse.env.helper.ts": helper,
        "src/config/constants.ts": constants,
        "src/config/database.config.ts": config,
    }
    assert node_env_reads(files)[0] == {"DATABASE_PORT": "int", "DATABASE": ""}


def test_a_variable_given_to_an_option_a_strategy_refuses_to_be_made_without_is_required() -> None:
    """andyle171998's expressmvc: ``clientID: process.env.FACEBOOK_ID as string`` in its
    passport strategy, nothing setting it: "OAuth2Strategy requires a clientID option" at
    start. Such an option's variable is required, whatever its name says."""
    strategy = b"""passport.use(new FacebookStrategy({
    clientID: process.env.FACEBOOK_ID as string,
    clientSecret: process.env.FACEBOOK_SECRET as string,
    callbackURL: `${process.env.BASE_URL as string}/callback`,
}, verify));
"""
    files = {"package.json": b"{}", "src/middlewares/passport.ts": strategy}
    required = node_env_reads(files)[0]
    assert {"FACEBOOK_ID", "FACEBOOK_SECRET"} <= required.keys()
    assert "BASE_URL" not in required
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["FACEBOOK_ID"] and found.values["FACEBOOK_SECRET"], found.values


def test_a_variable_its_code_writes_into_a_sqlite_url_is_given_a_files_path(
    tmp_path: Path,
) -> None:
    """zergcore's fastapi-movies-api reads ``SQLALCHEMY_DATABASE_URL`` and writes it into
    ``f"sqlite:///{os.path.join(base_dir, X)}"`` itself: given the preview's URL, SQLite
    could not open ".../config/sqlite:////..." ("unable to open database file"). The file's
    path is given instead, and the app's own code opens its database there; a variable
    used as a URL still gets the URL."""
    source = (
        b"import os, sqlite3\nX = os.getenv('SQLALCHEMY_DATABASE_URL')\n"
        b"base_dir = os.path.dirname(os.path.realpath(__file__))\n"
        b'url = f"sqlite:///{os.path.join(base_dir, X)}"\n'
        b"sqlite3.connect(url.removeprefix('sqlite:///')).execute('create table t (a)')\n"
    )
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "database.py").write_bytes(source)
    files = {"config/database.py": source, "main.py": b"import config.database\n"}
    provided = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    found = database_urls_by_meaning(files, provided, {}, "python")
    assert found == {"SQLALCHEMY_DATABASE_URL": str(tmp_path / "app.db")}
    env = {**os.environ, **provided, **found}
    subprocess.run([sys.executable, "config/database.py"], cwd=tmp_path, env=env, check=True)
    assert (tmp_path / "app.db").stat().st_size > 0
    plain = b"import os\nURL = os.getenv('SQLALCHEMY_DATABASE_URL')\n"
    used = {**files, "config/database.py": plain}
    assert database_urls_by_meaning(used, provided, {}, "python") == {
        "SQLALCHEMY_DATABASE_URL": provided["DATABASE_URL"]
    }


def test_a_required_port_of_a_service_no_name_says_is_the_previews_own(tmp_path: Path) -> None:
    """navikvinay12's Flask-Bookstore-CRUD requires ``USER_PORT: int`` and ``BOOK_PORT:
    int`` (its own other apps', no example): "these 2 variables are needed". The preview's
    own port is given them, said; a known service's port stays its well-known one, an
    optional one the app's default."""
    settings = (
        b"import os\nfrom pydantic_settings import BaseSettings\n"
        b"class Settings(BaseSettings):\n    USER_PORT: int\n    BOOK_PORT: int\n"
        b"    MAIL_PORT: int\n    CACHE_PORT: int = 11\n"
        b"setting = Settings()\nprint(setting.USER_PORT, setting.BOOK_PORT, setting.MAIL_PORT)\n"
    )
    files = {"settings.py": settings, "app.py": b"from settings import setting\n"}
    found = config_defaults(files, "app.py", {}, {"PORT": "8123"})
    assert found.missing == []
    assert {k: found.values[k] for k in ("USER_PORT", "BOOK_PORT", "MAIL_PORT")} == {
        "USER_PORT": "8123",
        "BOOK_PORT": "8123",
        "MAIL_PORT": "587",
    }
    assert "CACHE_PORT" not in found.values
    assert any("USER_PORT, BOOK_PORT: ports of services" in n for n in found.notes)
    (tmp_path / "settings.py").write_bytes(settings)
    env = {"PATH": os.environ["PATH"], **found.values}
    shown = subprocess.run(
        [sys.executable, "settings.py"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert shown.stdout.split() == ["8123", "8123", "587"], shown.stderr


def test_a_variable_read_as_a_switch_refuses_an_examples_empty_value() -> None:
    """lymagics' django-blog-api reads ``env.bool('REFRESH_TOKEN_IN_BODY')`` (environs) and
    its .env.example leaves ``REFRESH_TOKEN_IN_BODY=`` empty: "Not a valid boolean" at
    ``migrate``. A switch with no default of its own is off; one with a default keeps it;
    decouple's ``cast=bool`` and ``env.int`` say their types the same way."""
    source = b"""
from decouple import config
from environs import Env
env = Env()
IN_BODY = env.bool('REFRESH_TOKEN_IN_BODY')
DEBUG = env.bool('DEBUG', default=False)
SECURE = config('COOKIE_SECURE', cast=bool)
DAYS = env.int('REFRESH_DAYS', default=7)
"""
    files = {"settings.py": source, "manage.py": b"import settings\n"}
    env = {"REFRESH_TOKEN_IN_BODY": "", "DEBUG": "", "COOKIE_SECURE": "yes please"}
    env |= {"REFRESH_DAYS": "days"}
    assert settings_misfits(files, env, {}) == {
        "REFRESH_TOKEN_IN_BODY": "false",
        "DEBUG": None,
        "COOKIE_SECURE": "false",
        "REFRESH_DAYS": None,
    }
    assert settings_misfits(files, {**env, "DEBUG": "True", "COOKIE_SECURE": "1"}, {}).keys() == {
        "REFRESH_TOKEN_IN_BODY",
        "REFRESH_DAYS",
    }


def test_an_examples_fill_ins_get_a_value_where_the_name_says_what_it_is() -> None:
    """zeeshanravian1's fastapi-ecommerce-postgresql: ``EMAIL_PORT=<email_port>`` and
    ``EMAIL_FROM=<email>`` for its fastapi-mail, which refused both at start (a ``str``
    port, its example's words). A fill-in no name says is kept as the example has it."""
    example = b"EMAIL_PORT=<email_port>\nEMAIL_FROM=<email>\nSUPERUSER_CITY=<city>\n"
    source = b"import os\nPORT = os.environ['EMAIL_PORT']\n"
    found = config_defaults({".env.example": example, "main.py": source}, "main.py", {}, set())
    assert found.values["EMAIL_PORT"] == "587"
    assert found.values["EMAIL_FROM"] == "preview@example.com"
    assert found.values["SUPERUSER_CITY"] == "<city>"
    # ghassenjridi8's typescript-rest-api's README: ``DB_HOST=...`` (TypeORM: ENOTFOUND ...)
    dotted = b"DB_HOST=...\nDB_PORT=...\nJWT_SECRET=...\nLOGGER_LEVEL=debug\n"
    reads = b"host = process.env.DB_HOST; port = process.env.DB_PORT; s = process.env.JWT_SECRET\n"
    files = {".env.example": dotted, "package.json": b"{}", "src/db.ts": reads}
    found = config_defaults(files, "package.json", {}, {"DB_HOST", "DB_PORT"})
    assert "DB_HOST" not in found.values and "DB_PORT" not in found.values  # the service's
    assert found.values["JWT_SECRET"] not in ("...", "") and found.values["LOGGER_LEVEL"] == "debug"
    assert throwaway_value("SMTP_PORT", "str") == "587" and throwaway_value("PORT") is None


def test_variables_read_through_the_apps_own_helper_are_required() -> None:
    """0ff1ane's fastapi-sqlalchemy2-alembic reads its database with ``get_env_var("PG_HOST")``,
    its own function over ``os.environ[key]`` that raises without a default: unseen, they
    were given nothing, and its migration died ("Environment variable PG_HOST is missing").
    Now required, they are given the served PostgreSQL's parts by what their names say."""
    files = _bytes("fastapi_env_helper")
    assert required_types(files) == {"PG_HOST": "", "PG_PORT": "", "PG_DB": ""}
    found = config_defaults(files, "apps/main.py", {}, _SERVED)
    assert found.values["PG_HOST"] == "127.0.0.1" and found.values["PG_PORT"] == "5432"
    assert found.values["PG_DB"] == "d" and not found.missing


def test_an_examples_database_url_with_no_async_driver_gives_way_on_an_async_app() -> None:
    """iceyisaak's fastapi-crud-db-auth: its README's .env gives ``sqlite:///./app.db``
    to an ``AsyncEngine`` (and lists asyncpg): "The asyncio extension requires an async
    driver to be used. The loaded 'pysqlite' is not async." The preview's own database
    is given instead, its URL naming the async driver; a sync app keeps the example's."""
    files = with_readme_example(_bytes("fastapi_async_readme_sqlite"))
    found = config_defaults(files, "src/__init__.py", {}, _SERVED)
    assert "DATABASE_URL" not in found.values
    assert any("no async driver" in note for note in found.notes)
    engine = (
        b"from sqlmodel import create_engine\nengine = create_engine(Settings().DATABASE_URL)\n"
    )
    sync = {**files, "src/db.py": engine}
    kept = config_defaults(sync, "src/__init__.py", {}, _SERVED)
    assert kept.values["DATABASE_URL"] == "sqlite:///./app.db"


def test_the_env_file_its_start_names_is_the_apps_own() -> None:
    """thomijasir's hono-starter starts with ``bun run --env-file=.env.production
    src/main.ts``, whose file sets DB_DRIVER=SQLITE (its zod schema: SQLITE, PGSQL or
    MYSQL); the preview gave DB_DRIVER by what its name says, and the app's parse failed
    (ZodError) at every start. A variable that file sets is never filled in."""
    scripts = {
        "start": "bun run --env-file=.env.production src/main.ts",
        "dev": "bun run --env-file=.env.development --hot src/main.ts",
    }
    schema = b"""const envSchema = z.object({
  DB_DRIVER: z.enum(["SQLITE", "PGSQL", "MYSQL"]),
  SESSION_SECRET: z.string(),
});
export const ENVIRONMENT = envSchema.parse(process.env);
"""
    files = {
        "package.json": json.dumps({"scripts": scripts, "dependencies": {"hono": "^4"}}).encode(),
        ".env.production": b"DB_DRIVER=SQLITE\nDB_URL=sqlite.db\n",
        ".env.development": b"DB_DRIVER=SQLITE\n",
        "src/constants/environment.ts": schema,
    }
    found = config_defaults(files, "package.json", {}, {"PORT": "8000"})
    assert "DB_DRIVER" not in found.values and "DB_URL" not in found.values
    assert "SESSION_SECRET" in found.values  # what no file of its sets: generated
    # Without the file, what its name says is given as before.
    del files[".env.production"], files[".env.development"]
    assert "DB_DRIVER" in config_defaults(files, "package.json", {}, {"PORT": "8000"}).values


def test_the_env_file_its_code_loads_by_its_path_is_the_apps_own() -> None:
    """blss-tico's fastify-webserver keeps its settings in src/config/.env, loaded by
    ``require('dotenv').config({ path: __dirname + '/.env' })`` in the module that requires
    each one: read by none, SRV_HOST, RD_HOST … were given stand-ins, which dotenv does
    not replace, and the app exited 1. What that file sets is the app's own; a path of
    ``path.join``'s, and one naming a file the upload lacks, likewise read or not."""
    root = APPS / "node_dotenv_path"
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    found = config_defaults(files, "package.json", {}, {"PORT": "8000"})
    assert found.stand_ins == []
    assert not {"SRV_HOST", "CACHE_HOST", "GREETING"} & found.values.keys()
    joined = b"import { config } from 'dotenv';\nconfig({ path: path.join(__dirname, '.env') });\n"
    moved = {**files, "src/config/configuration.js": files["src/config/configuration.js"]}
    moved["src/config/load.mjs"] = joined
    del moved["src/config/configuration.js"]
    moved["src/config/read.js"] = b"module.exports = process.env.GREETING.split(',');\n"
    assert "GREETING" not in config_defaults(moved, "package.json", {}, {"PORT": "8000"}).values
    # Without its file: what its name says, or a stand-in, as before.
    del files["src/config/.env"]
    assert config_defaults(files, "package.json", {}, {"PORT": "8000"}).stand_ins != []


def test_a_module_it_imports_kept_only_as_a_backup_copy_is_copied() -> None:
    """kausar2697's boilerplate-nestjs-typeorm-passport-jwt git-ignores src/app.module.ts,
    which src/main.ts imports, and ships src/app.module-backup.ts: nest build failed on
    TS2307 (Cannot find module './app.module'). A backup nothing imports stays one."""
    files = {
        "package.json": b"{}",
        "src/main.ts": b"import { AppModule } from './app.module';\n",
        "src/app.module-backup.ts": b"export class AppModule {}\n",
        "src/users/users.service_backup.ts": b"export class Old {}\n",
        "src/settings.backup.js": b"module.exports = {}\n",
        "src/index.js": b"const settings = require('./settings.js')\n",
        # qibing147147's miniprogram-koa: config/config.js git-ignored, config1.js kept.
        "config/config1.js": b"module.exports = { database: { dbName: 'island' } }\n",
        "core/db.js": b"const { dbName } = require('../config/config').database\n",
        "src/users2.js": b"module.exports = {}\n",
        # wangYalun's myExpress: config/database.js git-ignored, database.default.js kept;
        # egg.js reads config/config.default.js itself (nothing imports config/config).
        "config/database.default.js": b"module.exports = { default: { host: 'localhost' } }\n",
        "utils/db.js": b"const options = require('../config/database').default;\n",
        "egg/config/config.default.js": b"module.exports = {}\n",
    }
    assert example_copies(files) == {
        "src/app.module.ts": "src/app.module-backup.ts",
        "src/settings.js": "src/settings.backup.js",
        "config/config.js": "config/config1.js",
        "config/database.js": "config/database.default.js",
    }
    files["src/app.module.ts"] = b"export class AppModule {}\n"  # there: left as it is
    files["config/config.js"] = files["config/config1.js"]
    files["config/database.js"] = files["config/database.default.js"]
    assert example_copies(files) == {"src/settings.js": "src/settings.backup.js"}


def test_node_config_is_given_the_deployment_its_config_folder_has() -> None:
    """jtwebman's node-express-postgres-docker-todo: node-config, and config/ holding
    production.js and test.js alone (its compose file runs NODE_ENV=production); under
    the preview's NODE_ENV=development every setting was undefined."""
    package = b'{"scripts": {"start": "node server.js"}, "dependencies": {"config": "3.3.9"}}'
    files = {
        "package.json": package,
        "server.js": b"const config = require('config');\n",
        "config/production.js": b"module.exports = { PORT: process.env.PORT };\n",
        "config/test.js": b"module.exports = {};\n",
    }
    found = config_defaults(files, "package.json", {}, set())
    assert found.values["NODE_CONFIG_ENV"] == "production"
    assert any(note.startswith("NODE_CONFIG_ENV=production: ") for note in found.notes)
    # The deployment its Dockerfile declares, where it has a file; its only one else.
    staging = {**files, "config/staging.json": b"{}", "Dockerfile": b"ENV NODE_ENV=staging\n"}
    assert config_defaults(staging, "package.json", {}, set()).values["NODE_CONFIG_ENV"] == (
        "staging"
    )
    only = {k: v for k, v in files.items() if k != "config/production.js"}
    only["config/prod.yaml"] = b"port: 1\n"
    assert config_defaults(only, "package.json", {}, set()).values["NODE_CONFIG_ENV"] == "prod"
    # A default (or development) file a development run loads: nothing given; nor where
    # node-config is not a dependency, or the launch gives its own.
    for other in (
        {**files, "config/default.json": b"{}"},
        {**files, "config/development.js": b""},
        {**files, "package.json": package.replace(b'"config"', b'"configs"')},
    ):
        assert "NODE_CONFIG_ENV" not in config_defaults(other, "package.json", {}, set()).values
    given = config_defaults(files, "package.json", {"NODE_CONFIG_ENV": "test"}, set())
    assert "NODE_CONFIG_ENV" not in given.values


def test_node_config_reads_the_folder_the_app_sets_as_its_config_dir() -> None:
    """Seunope's typescript-backend: ``process.env['NODE_CONFIG_DIR'] = __dirname +
    '/configs'`` in src/server.ts, whose src/configs holds development.json; its config/
    is sequelize-cli's config.json alone. Read as a deployment named "config", node-config
    loaded nothing there ("Configuration property "log.dir" is not defined")."""
    package = b'{"scripts": {"dev": "ts-node src/server.ts"}, "dependencies": {"config": "3"}}'
    files = {
        "package.json": package,
        "src/server.ts": b"process.env['NODE_CONFIG_DIR'] = __dirname + '/configs';\n",
        "src/configs/development.json": b'{"log": {"dir": "../logs"}}',
        "src/configs/production.json": b'{"log": {"dir": "../logs"}}',
        "config/config.json": b'{"development": {"dialect": "mysql"}}',
    }
    assert "NODE_CONFIG_ENV" not in config_defaults(files, "package.json", {}, set()).values
    # Its production file alone there: that deployment, read in the folder it names.
    del files["src/configs/development.json"]
    found = config_defaults(files, "package.json", {}, set())
    assert found.values["NODE_CONFIG_ENV"] == "production"
    # path.join(__dirname, '..', 'settings'), or a script's NODE_CONFIG_DIR=./settings.
    moved = {
        "package.json": package,
        "src/server.js": b"process.env.NODE_CONFIG_DIR = path.join(__dirname, '..', 'settings')",
        "settings/default.json": b"{}",
        "config/config.json": b"{}",
    }
    assert "NODE_CONFIG_ENV" not in config_defaults(moved, "package.json", {}, set()).values
    moved["src/server.js"] = b"const config = require('config');\n"
    moved["package.json"] = package.replace(b"ts-node", b"NODE_CONFIG_DIR=./settings ts-node")
    assert "NODE_CONFIG_ENV" not in config_defaults(moved, "package.json", {}, set()).values


def test_typeorm_with_no_options_nor_ormconfig_is_given_its_own_variables() -> None:
    """prkpiyush's express-postgres-todo calls createConnection() with no options and
    git-ignores its ormconfig.json: "No connection options were found in any orm
    configuration files". TypeORM 0.2 reads TYPEORM_* then: the preview's database, the
    entities as its start runs them (compiled under tsconfig's outDir), synchronized
    where the upload has no migration."""
    package = (
        b'{"scripts": {"start": "tsc && node dist/app.js"},'
        b' "dependencies": {"typeorm": "^0.2.34", "pg": "^8"}}'
    )
    files = {
        "package.json": package,
        "tsconfig.json": b'{"compilerOptions": {"outDir": "./dist"}}',
        "src/app.ts": b"import { createConnection } from 'typeorm';\ncreateConnection();\n",
        "src/entities/todo.entity.ts": b"@Entity()\nexport class Todo {}\n",
    }
    served = {"DB_HOST": "localhost", "DB_PORT": "5432", "DB_USER": "postgres"}
    served |= {"DB_PASSWORD": "p", "DB_NAME": "app", "PGHOST": "localhost", "PGPORT": "5432"}
    served |= {"DATABASE_URL": "postgresql://postgres:p@localhost:5432/app"}
    found = config_defaults(files, "package.json", {}, served)
    assert {k: v for k, v in found.values.items() if k.startswith("TYPEORM_")} == {
        "TYPEORM_CONNECTION": "postgres",
        "TYPEORM_ENTITIES": "dist/**/entities/*.js",
        "TYPEORM_SYNCHRONIZE": "true",
        "TYPEORM_HOST": "localhost",
        "TYPEORM_PORT": "5432",
        "TYPEORM_USERNAME": "postgres",
        "TYPEORM_PASSWORD": "p",
        "TYPEORM_DATABASE": "app",
    }
    # Run as TypeScript, with migrations of its own: the sources, not synchronized.
    source = {
        **files,
        "package.json": package.replace(b"tsc && node dist/app.js", b"ts-node src/app.ts"),
        "src/migrations/1-init.ts": b"export class Init {}\n",
    }
    typeorm = config_defaults(source, "package.json", {}, served).values
    assert typeorm["TYPEORM_ENTITIES"] == "src/entities/*.ts"
    assert "TYPEORM_SYNCHRONIZE" not in typeorm
    # Those migrations run as it connects, where nothing else names them (DevJpFarias'
    # loja-nodejs-express-typescript-postgres: createConnections(), its migrations in
    # src/shared/infra/typeorm/migrations, no ormconfig: no table, had it connected).
    assert typeorm["TYPEORM_MIGRATIONS"] == "src/migrations/*.ts"
    assert typeorm["TYPEORM_MIGRATIONS_RUN"] == "true"
    plural = {
        **source,
        "src/app.ts": b"import { createConnections } from 'typeorm';\ncreateConnections();\n",
    }
    assert config_defaults(plural, "package.json", {}, served).values == typeorm
    # Its options read and passed on (martinajindal's expressjs-typeorm: ``const options =
    # await getConnectionOptions(); … createConnection(options)``): read so too.
    read = b"const options = await getConnectionOptions();\ncreateConnection(options);\n"
    passed = {**source, "src/app.ts": read}
    assert config_defaults(passed, "package.json", {}, served).values == typeorm
    # Nest's TypeOrmModule.forRoot() with none (agoodnight's teaNestJS, its README's
    # ormconfig.json to be written by hand): read so too.
    nest = b"@Module({\n  imports: [TypeOrmModule.forRoot(), BlackTeaModule]\n})\n"
    module = {**source, "src/app.ts": nest}
    assert config_defaults(module, "package.json", {}, served).values == typeorm
    # An ormconfig (or its example), or options in the call: nothing given.
    for other in (
        {**files, "ormconfig.json.example": b"{}"},
        {**files, "src/app.ts": b"createConnection({ type: 'postgres' })\n"},
    ):
        assert "TYPEORM_CONNECTION" not in config_defaults(other, "package.json", {}, served).values


def test_a_node_apps_log_level_read_without_a_default_is_one_its_logger_knows() -> None:
    """srikrishna180's fastify-postgres-api: ``createLogger({ level:
    process.env.PINO_LOG_LEVEL })``, unset: pino threw "default level:undefined must be
    included in custom levels". A Node logger's level is ``info`` (pino, winston spell it
    so); a Python app's read with no default is left alone, one its settings require is
    ``INFO`` (its logging refuses ``info``)."""
    files = {
        "package.json": b'{"dependencies": {"pino": "^9"}}',
        "src/server.ts": b"const level = process.env.PINO_LOG_LEVEL as Level\n",
    }
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values == {"PINO_LOG_LEVEL": "info"}
    given = config_defaults(files, "package.json", {"PINO_LOG_LEVEL": "debug"}, {"PORT"})
    assert "PINO_LOG_LEVEL" not in given.values
    python = {"app.py": b"import os\nlevel = os.environ.get('LOG_LEVEL')\n"}
    assert "LOG_LEVEL" not in config_defaults(python, "app.py", {}, {"PORT"}).values
    # Required by a Python app's settings (alonovg's FastAPI-CRM, its example's value
    # empty: logging's "Unknown level: ''"): logging's own spelling.
    settings = b"from pydantic_settings import BaseSettings\n"
    settings += b"class Settings(BaseSettings):\n    LOG_LEVEL: str\n"
    found = config_defaults({"config.py": settings}, "config.py", {}, {"PORT"})
    assert found.values["LOG_LEVEL"] == "INFO"


def test_a_secret_its_env_leaves_empty_is_given_the_throwaway_value() -> None:
    """sarikamahboob's authentication-jwt-bun-hono-sqlite commits ``JWT_SECRET=`` in its
    .env: configdefaults generated a value for it, and the .env's empty one won (Hono's
    "JWT auth middleware requires options for "secret"", at start). A value the defaults
    do not fill stays as the .env leaves it, and what the user gives is never changed."""
    files = _bytes("node_env_empty_secret")
    found = config_defaults(files, "src/index.js", dotenv_file(files), {"PORT"})
    assert found.values.get("JWT_SECRET"), found.values
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW, detection=detect(files)
    )

    env = launch_environment(spec, found.values)
    assert env["JWT_SECRET"] == found.values["JWT_SECRET"]
    assert env["GREETING"] == ""  # nothing fills it: the app's own empty value
    spec.extra = {"JWT_SECRET": ""}
    assert launch_environment(spec, found.values)["JWT_SECRET"] == ""


def test_the_env_file_its_start_loads_is_its_set_up_steps_environment_too() -> None:
    """vlad-borodaev's NestJS app starts ``env-cmd -f ./environment/.env.local npm run
    migration:run && env-cmd -f ./environment/.env.local nest start``; the service runs
    its migration apart, and sequelize-cli, given no DB_DIALECT, stopped on "Dialect
    needs to be explicitly supplied". Its .env stays above that file."""
    start = "env-cmd -f ./environment/.env.local npm run migration:run && nest start"
    files = {
        "package.json": json.dumps({"scripts": {"start": start}}).encode(),
        "environment/.env.local": b"DB_DIALECT=postgres\nTHROTTLE_TTL=60\n",
        ".env": b"THROTTLE_TTL=30\n",
        "src/main.js": b"console.log(process.env.DB_DIALECT)\n",
    }
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW, detection=detect(files)
    )
    env = launch_environment(spec, {})
    assert env["DB_DIALECT"] == "postgres" and env["THROTTLE_TTL"] == "30"


def test_a_variable_picking_a_dicts_entry_is_the_development_ones() -> None:
    """sudopwr's python-flask-mysql-demo: ``app.config.from_object(config.get(os.getenv(
    "APP_MODE")))``, ``config`` a dict of its settings classes in another module; unset,
    Flask loaded nothing and the app died on ``app.config["APP_ORIGINS"]``."""
    settings = b"""import os
class Production:
    ORIGINS = os.getenv("APP_ORIGINS")
class Development(Production):
    DEBUG = True
config = {"production": Production, "Development": Development}
"""
    app = b"""import os
from flask import Flask
from main.config import config
app = Flask(__name__)
app.config.from_object(config.get(os.getenv("APP_MODE")))
"""
    files = {"main/config.py": settings, "main/app.py": app}
    assert config_selectors(files) == {"APP_MODE": ["production", "Development"]}
    found = config_defaults(files, "main/app.py", {}, {"PORT"})
    assert found.values["APP_MODE"] == "Development"
    # Its own choice stands: a value given, a default of its own, no development entry.
    assert "APP_MODE" not in config_defaults(files, "main/app.py", {"APP_MODE": "x"}, set()).values
    own = {**files, "main/app.py": app.replace(b'"APP_MODE")', b'"APP_MODE", "production")')}
    assert config_selectors(own) == {}
    fallback = app.replace(b'os.getenv("APP_MODE"))', b'os.getenv("APP_MODE"), Production)')
    assert config_selectors({**files, "main/app.py": fallback}) == {}
    production = {**files, "main/config.py": settings.replace(b'"Development"', b'"staging"')}
    assert "APP_MODE" not in config_defaults(production, "main/app.py", {}, {"PORT"}).values


def test_a_variable_flask_imports_its_config_from_is_the_development_class() -> None:
    """QuentinAndre's Flask-Budgeter: ``app.config.from_object(os.environ['APP_SETTINGS'])``,
    its config.py's classes ``Config``, ``ProductionConfig``, ``DevelopmentConfig`` …: given
    a stand-in, "import_string() failed for 'preview-stand-in'". The development class's
    import path; else the first neither production's nor testing's; a default its own."""
    config = (
        b"import os\nclass Config(object):\n    DEBUG = False\n"
        b"class ProductionConfig(Config):\n    pass\n"
        b"class DevelopmentConfig(Config):\n    DEBUG = True\n"
    )
    app = (
        b"import os\nfrom flask import Flask\napp = Flask(__name__)\n"
        b"app.config.from_object(os.environ['APP_SETTINGS'])\n"
    )
    files = {"config.py": config, "App/__init__.py": app, "server.py": b"from App import app\n"}
    found = config_defaults(files, "server.py", {}, {"PORT"})
    assert found.values["APP_SETTINGS"] == "config.DevelopmentConfig", found.notes
    assert "APP_SETTINGS" not in found.stand_ins
    # Through a name bound to the read, with no development class: its base, not production.
    bound = app.replace(
        b"app.config.from_object(os.environ['APP_SETTINGS'])",
        b"SETTINGS = os.getenv('APP_SETTINGS')\napp.config.from_object(SETTINGS)",
    )
    plain = config.replace(b"DevelopmentConfig", b"TestingConfig")
    files = {**files, "App/__init__.py": bound, "config.py": plain}
    assert config_defaults(files, "server.py", {}, {"PORT"}).values["APP_SETTINGS"] == (
        "config.Config"
    )
    defaulted = app.replace(b"['APP_SETTINGS']", b".get('APP_SETTINGS', 'config.Config')")
    assert config_selectors({**files, "App/__init__.py": defaulted}) == {}


def test_an_examples_error_tracker_project_is_none() -> None:
    """podrivnick's boilerplate-django-ninja: its .env.example's ``SENTRY_DSN='https://dsn'``,
    which ``sentry_sdk.init(dsn=env("SENTRY_DSN"))`` in its settings refuses ("BadDsn"):
    unset, then empty as the settings require it (Sentry off: errors stay in the log)."""
    settings = b"import environ\nenv = environ.Env()\nDSN = env('SENTRY_DSN')\n"
    files = {
        "core/settings.py": settings,
        "manage.py": b"import core.settings\n",
        ".env.example": b"SENTRY_DSN='https://dsn'\nDEBUG=True\n",
    }
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert found.values["SENTRY_DSN"] == "" and not found.missing
    assert any("its SENTRY_DSN names its deployment" in note for note in found.notes)


def test_an_examples_blank_the_code_reads_with_a_default_of_its_own_is_unset() -> None:
    """chaleay's fastapi-postgres-crud-template: its .env.sample leaves ``HOST_SERVER=`` and
    ``SSL_MODE=`` empty, which its code reads as ``os.environ.get('HOST_SERVER',
    'localhost')``: an empty host in its URL ("'NoneType' and 'str'"). Unset, the code's
    defaults; a password's blank, or one read with no default, stays. An f-string default
    with text of its own is one (vihithr's FastAPI-Game-Rating-Lite: ``f"sqlite:///{path}"``)."""
    session = (
        b"import os\n"
        b"host = os.environ.get('HOST_SERVER', 'localhost')\n"
        b"mode = os.environ.get('SSL_MODE', 'prefer')\n"
        b"secret = os.environ.get('PASSWORD', 'postgres')\n"
        b"name = os.environ.get('APP_TITLE')\n"
        b"url = os.getenv('STG_DATABASE_URL', f'sqlite:///{os.getcwd()}/app.db')\n"
        b"label = os.getenv('LABEL', f'{name}')\n"
    )
    files = {
        "db/session.py": session,
        "main.py": b"from fastapi import FastAPI\nimport db.session\napp = FastAPI()\n",
        ".env.sample": b"HOST_SERVER=\nSSL_MODE=\nPASSWORD=\nAPP_TITLE=\n"
        b"STG_DATABASE_URL=\nLABEL=\n",
    }
    found = config_defaults(files, "main.py", {}, {"PORT"})
    assert "HOST_SERVER" not in found.values and "SSL_MODE" not in found.values
    assert "STG_DATABASE_URL" not in found.values and "LABEL" in found.values
    assert "PASSWORD" in found.values and "APP_TITLE" in found.values
    assert any("the code reads each with a default of its own" in n for n in found.notes)


def test_a_variable_a_factory_picks_its_settings_entry_with_is_the_development_one() -> None:
    """haoolii's flask-blog-api: ``env_name = os.getenv('FLASK_ENV')``, then
    ``create_app(env_name)``, whose ``app_config[env_name]`` picks its settings class:
    unset, "KeyError: None". Its development entry; its own default stands."""
    config = b"class Development: pass\nclass Production: pass\n"
    config += b"app_config = {'development': Development, 'production': Production}\n"
    app = (
        b"from flask import Flask\nfrom src.config import app_config\n\n\n"
        b"def create_app(env_name):\n    app = Flask(__name__)\n"
        b"    app.config.from_object(app_config[env_name]())\n    return app\n"
    )
    manage = b"import os\nfrom src.app import create_app\n"
    manage += b"env_name = os.getenv('FLASK_ENV')\napp = create_app(env_name)\n"
    files = {"src/config.py": config, "src/app.py": app, "manage.py": manage}
    assert config_selectors(files) == {"FLASK_ENV": ["development", "production"]}
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert found.values["FLASK_ENV"] == "development"
    own = manage.replace(b"os.getenv('FLASK_ENV')", b"os.getenv('FLASK_ENV', 'production')")
    assert config_selectors({**files, "manage.py": own}) == {}


def test_an_option_of_a_variable_naming_another_store_is_not_the_databases() -> None:
    """wangxiang365's node-koa-typescript: src/config/index.ts gives MYSQL_PWD to its MySQL
    options and REDIS_DB, REDIS_PWD to its Redis client's ``db`` and ``password``; all
    three got the MariaDB's values, and Redis answered "ERR value is not an integer or
    out of range" to SELECT of the database's name. MYSQL_PWD is the database's still."""
    config = b"""export default {
  mysql: { dialect: 'mysql', host: process.env.MYSQL_HOST, password: process.env.MYSQL_PWD },
  redis: {
    host: process.env.REDIS_HOST, db: process.env.REDIS_DB, password: process.env.REDIS_PWD,
  },
};
"""
    files = {
        "package.json": b'{"dependencies": {"sequelize": "^5", "mysql2": "^2", "ioredis": "^4"}}',
        "src/config/index.ts": config,
    }
    provided = mysql_environment(MysqlWanted())
    found = config_defaults(files, "package.json", {}, provided)
    assert found.values.get("MYSQL_PWD") == provided["DB_PASSWORD"]
    assert "REDIS_DB" not in found.values and "REDIS_PWD" not in found.values


def test_a_django_settings_folder_with_nothing_of_its_own_runs_its_development_module() -> None:
    """agustin-jimenez's drf-events-api: manage.py names events.settings, a folder of
    base.py, development.py and test.py with no __init__.py (its compose file's env file,
    not uploaded, names the module): Django ran with no DATABASES ("Please supply the ENGINE
    value"). The development module is set; not where the folder's __init__ says something,
    nor where the example names the module."""
    manage = b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'events.settings')\n"
    files = {
        "src/manage.py": manage,
        "src/events/settings/base.py": b"DATABASES = {}\n",
        "src/events/settings/development.py": b"from events.settings.base import *\n",
        "src/events/settings/test.py": b"from events.settings.base import *\n",
        "src/events/wsgi.py": b"",
    }
    found = config_defaults(files, "src/manage.py", {}, {"PORT": "1"})
    assert found.values["DJANGO_SETTINGS_MODULE"] == "events.settings.development"
    assert any("a folder of settings modules" in n for n in found.notes)
    files["src/events/settings/__init__.py"] = b"# settings\n\n"  # an empty one: likewise
    found = config_defaults(files, "src/manage.py", {}, {"PORT": "1"})
    assert found.values["DJANGO_SETTINGS_MODULE"] == "events.settings.development"
    files["src/events/settings/__init__.py"] = b"from .development import *\n"
    found = config_defaults(files, "src/manage.py", {}, {"PORT": "1"})
    assert "DJANGO_SETTINGS_MODULE" not in found.values
    del files["src/events/settings/__init__.py"]
    given = {"DJANGO_SETTINGS_MODULE": "events.settings.test"}
    found = config_defaults(files, "src/manage.py", given, {"PORT": "1"})
    assert "DJANGO_SETTINGS_MODULE" not in found.values


def test_a_django_server_module_naming_settings_the_upload_lacks_runs_manage_pys() -> None:
    """loggedme's server-django: config/wsgi.py still names ``app.settings`` (the project
    renamed), manage.py ``config.settings``, which its author runs: the preview's gunicorn
    met "No module named 'app.settings'". manage.py's module is set; not where the server's
    module names one the upload has, nor where the user names one."""

    files = {
        "manage.py": _setting_module("config.settings"),
        "config/__init__.py": b"",
        "config/settings.py": b"SECRET_KEY = 'k'\nDEBUG = True\nALLOWED_HOSTS = ['*']\n",
        "config/wsgi.py": _setting_module("app.settings"),
        "config/asgi.py": _setting_module("app.settings"),
    }
    found = config_defaults(files, "manage.py", {}, {"PORT": "1"})
    assert found.values["DJANGO_SETTINGS_MODULE"] == "config.settings"
    assert any("names app.settings, which the upload does not have" in n for n in found.notes)
    given = {"DJANGO_SETTINGS_MODULE": "config.settings"}
    assert "DJANGO_SETTINGS_MODULE" not in config_defaults(files, "manage.py", given, {}).values
    files["config/wsgi.py"] = files["config/asgi.py"] = _setting_module("config.settings")
    found = config_defaults(files, "manage.py", {}, {"PORT": "1"})
    assert "DJANGO_SETTINGS_MODULE" not in found.values


def test_a_database_url_that_is_a_word_is_unset() -> None:
    """tomdu3's flask-expense: its .env-sample says DB_URI=database_url, read with a
    SQLite default of the app's own (``os.getenv('DB_URI') or 'sqlite:///…'``);
    SQLAlchemy refused it ("Could not parse SQLAlchemy URL"). A word where a database's URL
    belongs is unset; a SQLite file's name and a URL are kept."""
    source = (
        b"import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n"
        b"app = Flask(__name__)\n"
        b"app.config['SQLALCHEMY_DATABASE_URI'] = os.getenv('DB_URI') or 'sqlite:///x.db'\n"
        b"db = SQLAlchemy(app)\n"
    )
    files = {"app.py": source, ".env-sample": b"SECRET_KEY=k\nDB_URI=database_url\n"}
    url = "postgresql://preview:secret@127.0.0.1:5432/app"
    provided = {**postgres_variables({}, "127.0.0.1", 5432), "DATABASE_URL": url, "PORT": "1"}
    found = config_defaults(files, "app.py", {}, provided)
    assert "DB_URI" not in found.values and found.values["SECRET_KEY"] == "k"
    assert any("DB_URI: a word" in n for n in found.notes)
    for kept in ("app.db", "sqlite:///app.db", "postgresql://u:p@h/d"):
        files[".env-sample"] = f"DB_URI={kept}\n".encode()
        assert config_defaults(files, "app.py", {}, provided).values["DB_URI"] == kept


def test_an_examples_rabbitmq_broker_gives_way_to_the_services_redis() -> None:
    """PaskarRules' drf-orders-platform: its .env.example's CELERY_BROKER_URL is
    amqp://guest:guest@rabbitmq:5672//, which nothing runs here; the service gives that name
    its Redis (backing.wanted), and the example's value kept the broker's unknown host:
    /api/health/ answered 503. The service's stands; a name it does not give is kept."""
    files = {
        "config/settings.py": b"import environ\nenv = environ.Env()\n",
        ".env.example": b"CELERY_BROKER_URL=amqp://guest:guest@rabbitmq:5672//\n"
        b"OTHER_BROKER=amqp://guest@rabbitmq//\n",
    }
    provided = {"CELERY_BROKER_URL": "redis://redis:6379/0", "PORT": "1"}
    found = config_defaults(files, "config/settings.py", {}, provided)
    assert "CELERY_BROKER_URL" not in found.values
    assert found.values["OTHER_BROKER"] == "amqp://guest@rabbitmq//"
    assert any("name a RabbitMQ server" in n for n in found.notes)


def test_its_own_port_left_empty_by_its_example_is_the_served_port() -> None:
    """code-simple's typescript-expressJs-postgreSQL-boilerplate: ``APP_PORT=`` in its
    .env.example, ``app.listen(process.env.APP_PORT)``: an empty port, which Node refused
    (ERR_SOCKET_BAD_PORT). It is the port the app is served on; what the user gives stands."""
    package = {"scripts": {"start": "node index.js"}, "dependencies": {"express": "^4"}}
    files = {
        "package.json": json.dumps(package).encode(),
        ".env.example": b"APP_PORT=\nSMTP_PORT=\n",
        "index.js": b"require('express')().listen(process.env.APP_PORT);\n",
    }
    found = config_defaults(files, "package.json", {}, {"PORT": "3001"})
    spec = LaunchSpec("p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW)
    spec.detection = detect(files)

    assert launch_environment(spec, found.values)["APP_PORT"] == "3001"
    spec.extra = {"APP_PORT": ""}
    assert launch_environment(spec, found.values)["APP_PORT"] == ""


def test_its_own_port_its_config_leaves_to_fill_in_is_the_served_port() -> None:
    """AliAzlanAziz's roplant-delivery-system-koa loads ``src/config/config.env``, whose
    ``SERVER_PORT=<port>`` is a form to fill in: Node took it for a pipe's path (listen
    EADDRINUSE). It is the port the app is served on; a number of its own stays."""
    package = {"scripts": {"start": "node app.js"}, "dependencies": {"koa": "^2"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "src/config/config.env": b"SERVER_PORT=<port>\nDB_NAME=<db_name>\n",
        "app.js": b"require('dotenv').config({ path: './src/config/config.env' })\n"
        b"const PORT = process.env.SERVER_PORT || 5001\nnew (require('koa'))().listen(PORT)\n",
    }
    found = config_defaults(files, "package.json", {}, {"PORT": "3001"})
    spec = LaunchSpec("p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW)
    spec.detection = detect(files)
    assert launch_environment(spec, found.values)["SERVER_PORT"] == "3001"
    files["src/config/config.env"] = b"SERVER_PORT=5001\n"
    assert launch_environment(spec, found.values)["SERVER_PORT"] == "5001"
    # Luca0612-Simo's ServerExpress: ``app.listen(PUERTO)``, a name saying nothing in
    # English, its example's ``PUERTO=<tu_valor_aqui>``: its use says it is its port.
    spanish = {
        "package.json": json.dumps(package).encode(),
        ".env.example": b"PUERTO=<tu_valor_aqui>\n",
        "src/index.js": b"const PUERTO = process.env.PUERTO || 3000\napp.listen(PUERTO)\n",
    }
    found = config_defaults(spanish, "package.json", {}, {"PORT": "3001"})
    spec = LaunchSpec("p1", "g1", None, "alice", spanish, [], 3001, None, _NOW, _NOW)
    spec.detection = detect(spanish)
    assert launch_environment(spec, found.values)["PUERTO"] == "3001"


def test_its_own_port_nothing_sets_is_the_served_port() -> None:
    """adrianmulyawan's express-contact-api: ``const port = +process.env.APP_PORT``, its
    .env.example empty: it listened on NaN (ERR_SOCKET_BAD_PORT). Its one own port's name,
    unset, is the port the app is served on; two such names (an API's, a web page's) stay unset."""
    package = {"scripts": {"start": "node index.js"}, "dependencies": {"express": "^4"}}
    files = {
        "package.json": json.dumps(package).encode(),
        ".env.example": b"",
        "index.js": b"const port = +process.env.APP_PORT;\nrequire('express')().listen(port);\n",
    }
    found = config_defaults(files, "package.json", {}, {"PORT": "3001"})
    spec = LaunchSpec("p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW)
    spec.detection = detect(files)
    assert launch_environment(spec, found.values)["APP_PORT"] == "3001"
    files["web.js"] = b"require('express')().listen(+process.env.WEB_PORT);\n"
    spec.files = files
    assert "APP_PORT" not in launch_environment(spec, found.values)


def test_a_variable_stored_into_a_url_setting_is_a_url_whatever_its_name() -> None:
    """aniqkcuse's flask-forum-api sets ``SQLALCHEMY_DATABASE_URI`` from
    ``os.environ.get('SQLALCHEMY_DATABASE')``, a name that reads as the database's name:
    it was given ``app`` ("Could not parse SQLAlchemy URL from string 'app'"). What the
    code stores it into (a setting whose name means a URL, or an engine maker's first
    argument) says it is the preview's URL, where the app has no default of its own."""
    source = (
        b"import os\nfrom flask import Flask\nfrom sqlalchemy import create_engine\n"
        b"app = Flask(__name__)\n"
        b"app.config['SQLALCHEMY_DATABASE_URI'] = os.environ.get('SQLALCHEMY_DATABASE')\n"
        b"engine = create_engine(os.getenv('MAIN_DATABASE'))\n"
        b"class Config:\n    DATABASE_URL = os.environ.get('STORE_DB') or 'sqlite:///x.db'\n"
    )
    url = "postgresql://preview:secret@127.0.0.1:5432/app"
    provided = {**postgres_variables({}, "127.0.0.1", 5432), "DATABASE_URL": url, "PORT": "1"}
    found = config_defaults({"app.py": source}, "app.py", {}, provided)
    for name in ("SQLALCHEMY_DATABASE", "MAIN_DATABASE"):
        assert found.values[name] == url, name
    assert "STORE_DB" not in found.values  # its own SQLite default stands


def test_an_examples_blank_a_django_environ_schema_gives_a_default_is_unset() -> None:
    """phillip-stanley's drf-contacts-api: ``env = environ.Env(STATIC_URL=(str,
    '/static/'))`` then ``STATIC_URL = env("STATIC_URL")``, and its .env.example's
    ``STATIC_URL=`` empty: "", MEDIA_URL's own, "The MEDIA_URL and STATIC_URL settings must
    have different values". The schema's default is the code's own: unset, it stands; a
    schema entry with no default that says something stays."""
    settings = (
        b"import environ\n"
        b"env = environ.Env(STATIC_URL=(str, '/static/'), TITLE=(str, ''), DEBUG=(bool, True))\n"
        b"STATIC_URL = env('STATIC_URL')\nTITLE = env('TITLE')\nDEBUG = env('DEBUG')\n"
    )
    files = {
        "project/settings.py": settings,
        "manage.py": b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'x')\n",
        ".env.example": b"STATIC_URL=\nTITLE=\n",
    }
    found = config_defaults(files, "manage.py", {}, {"PORT"})
    assert "STATIC_URL" not in found.values and "TITLE" in found.values


def test_a_variable_picking_an_entry_of_a_dict_call_is_the_development_one() -> None:
    """aswincsekar's flask-customers: ``config_by_name = dict(development=…, production=…,
    default=…)``, picked by ``config_by_name[os.getenv("FLASK_ENV")]`` in its factory:
    unset, "KeyError: None". A ``dict()`` of keywords is a dict of those keys."""
    config = b"class DevelopmentConfig: pass\nclass ProductionConfig: pass\n"
    config += b"config_by_name = dict(\n    development=DevelopmentConfig,\n"
    config += b"    production=ProductionConfig,\n    default=DevelopmentConfig,\n)\n"
    factory = (
        b"import os\nfrom flask import Flask\nfrom api.config import config_by_name\n\n\n"
        b"def create_app():\n    app = Flask(__name__)\n"
        b'    app.config.from_object(config_by_name[os.getenv("FLASK_ENV")])\n    return app\n'
    )
    files = {"api/config.py": config, "api/__init__.py": factory, "wsgi.py": b""}
    files["wsgi.py"] = b"from api import create_app\napp = create_app()\n"
    assert config_selectors(files) == {"FLASK_ENV": ["development", "production", "default"]}
    assert config_defaults(files, "wsgi.py", {}, {"PORT"}).values["FLASK_ENV"] == "development"
    mixed = config.replace(b"dict(\n", b"dict(base,\n")
    assert config_selectors({**files, "api/config.py": mixed}) == {}


def test_a_router_prefix_whose_default_fastapi_refuses_is_given_it_less_its_slash() -> None:
    """PatakIN13's fastapi-notifications mounts its routers under ``settings.main_url``,
    whose default is ``"/"``: FastAPI refuses it ("A path prefix must not end with '/'"),
    and nothing in the upload sets it (its author's .env is not there). It is given
    ``""``; a default FastAPI takes, or a value the app is given, stays."""
    settings = b"""
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env")
    main_url: str = "/"
    api_url: str = "/api"

settings = Settings()
"""
    main = b"""
from fastapi import FastAPI
from src.core.settings import settings
from src.routers import router_account, router_role

app = FastAPI()
app.include_router(router_account, prefix=settings.main_url)
app.include_router(router_role, prefix=settings.api_url)
"""
    files = {
        "src/core/settings.py": settings,
        "src/main.py": main,
        "src/routers.py": b"from fastapi import APIRouter\nrouter_account = APIRouter()\n",
        "pyproject.toml": b'[project]\nname = "x"\ndependencies = ["fastapi"]\n',
    }
    assert router_prefix_defaults(files) == {"MAIN_URL": ""}
    found = config_defaults(files, "src/main.py", {}, {"PORT"})
    assert found.values["MAIN_URL"] == "" and "API_URL" not in found.values
    assert any(note.startswith("MAIN_URL='': the prefix") for note in found.notes)
    given = config_defaults(files, "src/main.py", {"MAIN_URL": "/v1"}, {"PORT"})
    assert "MAIN_URL" not in given.values
    slash = {**files, "src/core/settings.py": settings.replace(b'"/api"', b'"/api/"')}
    assert router_prefix_defaults(slash) == {"MAIN_URL": "", "API_URL": "/api"}


def test_a_storage_buckets_name_read_by_node_code_gets_a_throwaway_one() -> None:
    """nutkiattisak's express-upload-file: ``storage.bucket(process.env.GCP_BUCKET_NAME)``
    at its module's load, no example of its .env: "A bucket name is needed to use Cloud
    Storage." and it never listened; multer-firebase-storage likewise ("Bucket Name
    Required"). A bucket's name read by Node code gives no access: a throwaway one; a
    region stays the region's rule's; one an app requires stays a stand-in's."""
    controller = b"""const { Storage } = require("@google-cloud/storage")
const storage = new Storage({ projectId: process.env.GCP_PROJECT_ID })
const bucket = storage.bucket(process.env.GCP_BUCKET_NAME)
const other = process.env.S3_BUCKET
"""
    files = {
        "package.json": b'{"dependencies": {"@google-cloud/storage": "^7", "express": "^4"}}',
        "controllers/upload.js": controller,
    }
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["GCP_BUCKET_NAME"] == found.values["S3_BUCKET"] == "preview-bucket"
    own = config_defaults(files, "package.json", {"GCP_BUCKET_NAME": "mine"}, set())
    assert "GCP_BUCKET_NAME" not in own.values or own.values["GCP_BUCKET_NAME"] == "mine"
    assert throwaway_value("AWS_BUCKET_REGION") == "us-east-1"
    # boto3's keyword's name (toxa1818's flask-aws: its README's REGION_NAME='YOUR REGION
    # NAME', which boto3 refused at start: "doesn't match a supported format").
    assert throwaway_value("REGION_NAME") == throwaway_value("AWS_REGION_NAME") == "us-east-1"
    example = b"KEY='YOUR ACCESS KEY ID'\nREGION_NAME='YOUR REGION NAME'\n"
    code = b"import os, boto3\nboto3.client('ec2', region_name=os.environ.get('REGION_NAME'))\n"
    aws = {".env.example": example, "app.py": code, "requirements.txt": b"boto3\nflask\n"}
    assert config_defaults(aws, "app.py", {}, {"PORT"}).values.get("REGION_NAME") == "us-east-1"
    assert throwaway_value("BUCKETS_LIST") is None


def test_an_engines_variable_named_for_the_other_served_engine_names_that_one() -> None:
    """iv4n89's node-express-ts: TypeORM's ``type: process.env.MYSQL_TYPE || 'mysql'``,
    ``host: process.env.MYSQL_HOST``, pg and mysql2 both listed; MYSQL_TYPE was given the
    PostgreSQL's "postgres" and MYSQL_HOST the MariaDB's: pg spoke to the MariaDB ("Cannot
    read properties of undefined (reading 'handleCopyData')"). Named for MySQL, served
    too, it names MySQL; a generic one names the served database's engine."""
    source = b"""const AppDataSource = new DataSource({
    type: process.env.MYSQL_TYPE || 'mysql',
    host: process.env.MYSQL_HOST || 'localhost',
    other: process.env.DB_TYPE,
});
"""
    files = {
        "package.json": b'{"dependencies": {"typeorm": "0.3.7", "pg": "^8", "mysql2": "^2"}}',
        "database/db.ts": source,
    }
    provided = {**mysql_environment(MysqlWanted()), **_SERVED}  # the generic names PG's
    found = config_defaults(files, "package.json", {}, provided)
    assert found.values["MYSQL_TYPE"] == "mysql", found.values
    assert found.values["DB_TYPE"] == "postgres", found.values


def test_an_engines_variable_the_code_matches_with_its_own_words_gets_its_word() -> None:
    """abolfazlakbary's fastapi-core: ``match configs.db_connection: case "sqlite": …
    case "postgres": … case "mysql": … case _: raise ValueError("Database connection
    failed")``, DB_CONNECTION empty in its example: given SQLAlchemy's "postgresql", the
    app died at import. The word its code names the served engine by."""
    settings = b"""import os
class AppData:
    db_connection = str(os.getenv("DB_CONNECTION"))
configs = AppData()
"""
    connection = b"""from sqlalchemy.ext.asyncio import create_async_engine
from core.config import configs
match configs.db_connection:
    case "sqlite":
        engine = create_async_engine("sqlite+aiosqlite:///db.sqlite3")
    case "postgres" | "postgresql+asyncpg":
        engine = create_async_engine("postgresql+asyncpg://")
    case _:
        raise ValueError("Database connection failed")
"""
    files = {
        "requirements.txt": b"sqlalchemy\nasyncpg\n",
        "core/config.py": settings,
        "core/connection.py": connection,
        "main.py": b"from core.connection import engine\n",
        ".env.example": b'DB_CONNECTION=""\n',
    }
    found = config_defaults(files, "main.py", {"DB_CONNECTION": ""}, _SERVED)
    assert found.values["DB_CONNECTION"] == "postgres", found.values
    # Nohysiwe's FastAPIBlogBackend: ``config("DB_DRIVER", default="postgresql")``, an
    # asyncpg DSN's scheme; given SQLAlchemy's driver alone ("psycopg2"), "invalid DSN".
    driver = b"""from sqlalchemy.engine.url import URL
from starlette.config import Config
config = Config(".env")
DB_DRIVER = config("DB_DRIVER", default="postgresql")
DB_HOST = config("DB_HOST", default="127.0.0.1")
DB_DSN = URL(drivername=DB_DRIVER, host=DB_HOST)
"""
    found = config_defaults({**files, "core/db.py": driver}, "main.py", {}, _SERVED)
    assert found.values["DB_DRIVER"] == "postgresql", found.values


def test_a_settings_field_picking_an_entry_of_a_functions_own_dict_is_the_development_ones() -> (
    None
):
    """bibash-dev's social-fastapi: ``config = get_config(BaseConfig().ENV_STATE)``, whose
    ``configs = {"dev": …, "prod": …, "test": …}`` is the function's own; the field unset,
    "KeyError: None" at every start."""
    settings = b"""from typing import Optional
from pydantic_settings import BaseSettings, SettingsConfigDict
class BaseConfig(BaseSettings):
    ENV_STATE: Optional[str] = None
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")
class DevConfig(BaseConfig):
    DATABASE_URL: Optional[str] = None
class ProdConfig(BaseConfig):
    pass
def get_config(env_state: str):
    configs = {"prod": ProdConfig, "dev": DevConfig}
    return configs[env_state]()
config = get_config(BaseConfig().ENV_STATE)
"""
    files = {
        "social_api/config.py": settings,
        "social_api/main.py": b"from .config import config\n",
    }
    assert config_selectors(files) == {"ENV_STATE": ["prod", "dev"]}
    found = config_defaults(files, "social_api/main.py", {}, {"PORT"})
    assert found.values["ENV_STATE"] == "dev"
    # Bound first, then read: the same; a default of the field's own: the app's choice.
    bound = settings.replace(
        b"config = get_config(BaseConfig().ENV_STATE)",
        b"base = BaseConfig()\nconfig = get_config(base.ENV_STATE)",
    )
    assert config_selectors({**files, "social_api/config.py": bound}) == {
        "ENV_STATE": ["prod", "dev"]
    }
    chosen = settings.replace(b"ENV_STATE: Optional[str] = None", b'ENV_STATE: str = "prod"')
    assert config_selectors({**files, "social_api/config.py": chosen}) == {}
    # Its DevConfig reads its base's DATABASE_URL as DEV_DATABASE_URL: the preview's.
    prefixed = settings.replace(
        b"class DevConfig(BaseConfig):\n",
        b'class DevConfig(BaseConfig):\n    model_config = SettingsConfigDict(env_prefix="DEV_")\n',
    ).replace(
        b"ENV_STATE: Optional[str] = None", b"ENV_STATE: Optional[str] = None\n    URL: str = ''"
    )
    given = {"DATABASE_URL": "sqlite:///app.db", "PORT": "3001"}
    found = config_defaults(
        {**files, "social_api/config.py": prefixed}, "social_api/main.py", {}, given
    )
    assert found.values["DEV_DATABASE_URL"] == "sqlite:///app.db"
    assert "DEV_PORT" not in found.values  # no field of its own or its base's


def test_a_database_classs_prefixed_host_and_port_are_the_databases_not_the_apps() -> None:
    """ummataliyev's fastapi-microservice: ``PostgresSettings`` with
    ``env_prefix="DB_"`` and fields ``host``, ``port``: DB_PORT was given the app's own
    PORT (a prefixed name for what the preview gives without the prefix), and asyncpg met
    uvicorn ("rejected SSL upgrade"). The database's parts by their names instead."""
    settings = b"""from pydantic_settings import BaseSettings, SettingsConfigDict
class PostgresSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DB_")
    host: str = "localhost"
    port: int = 5432
    user: str = "postgres"
settings = PostgresSettings()
"""
    served = {"DB_HOST": "db.internal", "DB_PORT": "5432", "DB_USER": "u", "DB_PASSWORD": "p"}
    served |= {"DB_NAME": "d", "PGHOST": "db.internal", "PGPORT": "5432", "PORT": "8000"}
    served |= {"HOST": "127.0.0.1", "DATABASE_URL": "postgresql://u:p@db.internal:5432/d"}
    found = config_defaults({"src/core/postgres.py": settings}, "src/main.py", {}, served)
    assert found.values.get("DB_PORT") != "8000" and found.values.get("DB_HOST") != "127.0.0.1"


def test_a_node_apps_variable_picking_an_environments_entry_gets_the_development_one() -> None:
    """hungdevjs' tsc-expressjs-typeorm-simple: ``config[`${process.env.ENV}`]``, config
    keyed development, production and test; ENV unset, it read ``config["undefined"].host``
    ("Cannot read properties of undefined (reading 'host')")."""
    config = b"""const config = {
    development: { host: process.env.DB_HOST },
    production: { host: process.env.DB_HOST },
    test: { host: process.env.DB_HOST },
}
export default config
"""
    service = (
        b"const dbConfig = config[`${process.env.ENV}`]\nconst other = opts[process.env.MODE]\n"
    )
    files = {
        "package.json": b'{"dependencies": {"typeorm": "^0.2"}}',
        "src/configs/config.ts": config,
        "src/services/db.ts": service,
    }
    found = config_defaults(files, "package.json", {}, set())
    assert found.values["ENV"] == "development" and found.values["MODE"] == "development"
    assert config_defaults(files, "package.json", {"ENV": "test"}, set()).values.get("ENV") != (
        "development"
    )
    # No object keyed by environments: nothing picked so.
    plain = {**files, "src/configs/config.ts": b"export default { host: 'x' }\n"}
    assert "ENV" not in config_defaults(plain, "package.json", {}, set()).values


def test_an_examples_fill_ins_for_a_data_file_and_a_log_folder_are_paths_of_their_own() -> None:
    """anggierz's movies-express: ``MOVIES_FILE=xxx`` and ``LOGS_PATH=xxx`` in its
    example; rotating-file-stream made the folder xxx, and ``readJSON(MOVIES_FILE)``
    read it: "EISDIR" at every call."""
    files = {
        "package.json": b'{"scripts": {"start": "node --env-file=.env index.js"}}',
        ".env.example": b"PORT=xxx\nMOVIES_FILE=xxx\nLOGS_PATH=xxx\nMORGAN_FORMAT=xxx\n",
        "index.js": b"const f = process.env.MOVIES_FILE;\n",
    }
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert (found.values["MOVIES_FILE"], found.values["LOGS_PATH"]) == ("movies.json", "logs")
    assert throwaway_value("SQLITE_FILE") is None and throwaway_value("KEY_FILE") != "key.json"


async def test_a_flask_app_its_author_ran_with_debug_is_run_with_flask_debug(
    builder_service: Service,
) -> None:
    """rishabh11336's jwt-login-flask: Flask-RESTful re-raises flask-jwt-extended's
    "Missing Authorization Header" to its handler only in debug, which its author ran
    with (``app.run(debug=True)``): served without it, 500 where 401 was meant."""
    files = app_files("flask_restful_jwt_debug")
    found = config_defaults({p: t.encode() for p, t in files.items()}, "app.py", {}, {"PORT"})
    assert found.values["FLASK_DEBUG"] == "1"
    own = config_defaults(
        {"app.py": files["app.py"].encode()}, "app.py", {"FLASK_DEBUG": "0"}, set()
    )
    assert "FLASK_DEBUG" not in own.values
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(builder_service, body, "/secure")
        assert answer["statusCode"] == 401, answer
        assert (await builder_service.stop(body["gid"])).status_code == 200


def test_a_schemas_variable_is_postgresqls_public_schema_and_mysqls_database() -> None:
    """tommycontreras11's typeorm-node-crud-restapi: TypeORM's ``schema:
    process.env.DATABASE_SCHEMA || 'public'`` was given the database's name, and its
    migrations and its connection failed on 'schema "…" does not exist'. On PostgreSQL a
    schema is a namespace in the database (``public`` where nothing made another); on
    MySQL it is the database itself."""
    options = b"""export default {
  type: process.env.DATABASE_TYPE, host: process.env.DATABASE_HOST,
  database: process.env.DATABASE_DATABASE, schema: process.env.DATABASE_SCHEMA || 'public',
};
"""
    files = {
        "package.json": b'{"dependencies": {"typeorm": "^0.3", "pg": "^8", "mysql2": "^3"}}',
        "src/config/ormconfig.ts": options,
    }
    found = config_defaults(files, "package.json", {}, _SERVED)
    assert found.values["DATABASE_SCHEMA"] == "public"
    assert found.values["DATABASE_DATABASE"] == "d"
    provided = mysql_environment(MysqlWanted())
    found = config_defaults(files, "package.json", {}, provided)
    assert found.values["DATABASE_SCHEMA"] == provided["DB_NAME"]


def test_the_address_its_own_server_binds_is_every_interface() -> None:
    """UsgMathe's study-fastify-products-crud requires ``SERVER_HOST: z.string().ip()``
    for ``app.listen({ host: env.SERVER_HOST })``, no example: given a stand-in, "Invalid
    ip", and it never listened. An IP address its schema asks for is one: its own
    server's ``0.0.0.0``, another's the loopback; a name alone says neither."""
    env = b"""import { z } from "zod";
const envSchema = z.object({
  SERVER_HOST: z.string().ip(),
  SERVER_PORT: z.coerce.number(),
});
export const env = envSchema.parse(process.env);
"""
    files = {"package.json": b"{}", "src/env.ts": env}
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["SERVER_HOST"] == "0.0.0.0" and "SERVER_HOST" not in found.missing
    assert throwaway_value("APP_HOST", "ip") == "0.0.0.0"
    assert throwaway_value("REDIS_HOST", "ip") == "127.0.0.1"
    assert throwaway_value("SERVER_HOST") is None  # untyped: not known to be its bind address


def test_a_settings_module_no_file_holds_is_the_uploads_one_settings_module() -> None:
    """mrlkn's ysepeti-django-assignment: manage.py, wsgi.py and asgi.py all name
    ``app.settings``; its settings are ``yemeksepeti/settings.py`` (its compose file's env
    file, not uploaded, says which): "No module named 'app.settings'". The upload's one
    settings module beside a urls.py or wsgi.py is set; not where the named one is there,
    where two are, nor where the user names one."""

    files = {
        "manage.py": _setting_module("app.settings"),
        "yemeksepeti/__init__.py": b"",
        "yemeksepeti/settings.py": b"SECRET_KEY = 'k'\nDEBUG = True\nALLOWED_HOSTS = ['*']\n",
        "yemeksepeti/wsgi.py": _setting_module("app.settings"),
        "yemeksepeti/urls.py": b"urlpatterns = []\n",
        "food/models.py": b"",
    }
    found = config_defaults(files, "manage.py", {}, {"PORT": "1"})
    assert found.values["DJANGO_SETTINGS_MODULE"] == "yemeksepeti.settings"
    assert any("names app.settings, which the upload does not have" in n for n in found.notes)
    given = {"DJANGO_SETTINGS_MODULE": "yemeksepeti.settings"}
    assert "DJANGO_SETTINGS_MODULE" not in config_defaults(files, "manage.py", given, {}).values
    present = {**files, "app/__init__.py": b"", "app/settings.py": files["yemeksepeti/settings.py"]}
    found = config_defaults(present, "manage.py", {}, {}).values
    assert found.get("DJANGO_SETTINGS_MODULE") != "yemeksepeti.settings"
    two = {**files, "other/settings.py": b"X = 1\n", "other/urls.py": b"urlpatterns = []\n"}
    found = config_defaults(two, "manage.py", {}, {}).values
    assert found.get("DJANGO_SETTINGS_MODULE") != "yemeksepeti.settings"
    # Its module under a sources root its code imports from (Eleverkuhn's AuthDRF:
    # ``config.settings.base`` is src/config/settings/base.py): that one, left as named.
    rooted = {
        "manage.py": _setting_module("config.settings.base"),
        "src/__init__.py": b"",
        "src/config/__init__.py": b"",
        "src/config/settings/__init__.py": b"",
        "src/config/settings/base.py": b"from config.settings.dev import env\nDEBUG = True\n",
        "src/config/settings/dev.py": b"env = None\n",
        "src/config/urls.py": b"urlpatterns = []\n",
        "src/config/wsgi.py": _setting_module("config.settings.base"),
    }
    found = config_defaults(rooted, "manage.py", {}, {}).values
    assert "DJANGO_SETTINGS_MODULE" not in found, found


def test_an_env_file_a_module_parses_by_its_literal_name_is_one_the_service_writes() -> None:
    """dlrtn's nestjs-study: ``constructor(filePath = 'default.env') { this.envConfig =
    dotenv.parse(fs.readFileSync(filePath)) }``, its .gitignore leaving out ``*.env``:
    ENOENT, open 'default.env', at every start. Written where npm runs it; not where the
    upload has it, nor a name only loaded (dotenv.config), nor one no module parses."""
    service = (
        b"import * as dotenv from 'dotenv';\nimport * as fs from 'fs';\n"
        b"export class EnvService {\n  constructor(filePath = 'default.env') {\n"
        b"    this.envConfig = dotenv.parse(fs.readFileSync(filePath));\n  }\n}\n"
    )
    files = {"src/common/env/env.service.ts": service, "package.json": b"{}"}
    assert node_env_named_files(files, "package.json") == ["default.env"]
    assert node_env_named_files({**files, "default.env": b"A=1\n"}, "package.json") == []
    loaded = b"require('dotenv').config({ path: 'default.env' });\nfs.readFileSync('x');\n"
    assert node_env_named_files({"src/config.js": loaded}, "") == []
    read = b"const text = fs.readFileSync('settings.env', 'utf8');\n"
    assert node_env_named_files({"src/config.js": read}, "") == []


def test_a_settings_service_of_the_apps_own_reads_what_its_get_names() -> None:
    """dlrtn's nestjs-study: its own EnvService parses default.env and its strategies
    read ``this.envService.get('JWT_SECRET')``; the file written held none of them, and
    passport-jwt stopped the start ("JwtStrategy requires a secret or key"). A service of
    its own named for settings reads what its ``get`` names, as NestJS's ConfigService
    does; a ``get`` of another object's is no variable's."""
    strategy = (
        b"import { EnvService } from '../../env/env.service';\n"
        b"export class JwtStrategy {\n  constructor(private readonly envService: EnvService) {\n"
        b"    super({ secretOrKey: envService.get('JWT_SECRET') });\n  }\n}\n"
    )
    cache = b"const value = cache.get('JWT_SECRET');\n"
    files = {"package.json": b"{}", "src/common/passport/jwt.strategy.ts": strategy}
    assert "JWT_SECRET" in node_env_reads(files)[1]
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values.get("JWT_SECRET"), found
    assert "JWT_SECRET" not in node_env_reads({"package.json": b"{}", "src/c.ts": cache})[1]


def test_an_orm_glob_appended_to_its_files_folder_from_a_variable_leads_to_its_entities() -> None:
    """dlrtn's nestjs-study: ``entities: [__dirname + this.envService.get(
    'DATABASE_ENTITY_PATH')]`` in src/common/database/, the value in a default.env it does
    not upload: TypeORM loaded no entity ("No metadata for "Member" was found"). The
    variable is the rest of a glob from that folder to the entity classes, by their shared
    suffix, else by their folders where those hold nothing else; not where its env gives it."""
    config = (
        b"export class TypeOrmConfigService {\n  createTypeOrmOptions() {\n    return {\n"
        b"      entities: [__dirname + this.envService.get('DATABASE_ENTITY_PATH')],\n"
        b"      migrations: [__dirname + process.env.MIGRATIONS_PATH],\n    };\n  }\n}\n"
    )
    entity = b"@Entity()\nexport class Member {}\n"
    files = {
        "package.json": b'{"dependencies": {"@nestjs/typeorm": "^10", "typeorm": "^0.3"}}',
        "src/common/database/type-orm-config.service.ts": config,
        "src/business/member/domain/member.entity.ts": entity,
        "src/business/post/domain/post.entity.ts": entity,
        "src/business/post/domain/post-kind.ts": b"export enum Kind { A }\n",
    }
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["DATABASE_ENTITY_PATH"] == "/../../business/**/*.entity{.ts,.js}"
    assert "*" not in found.values.get("MIGRATIONS_PATH", "")  # (no migration to lead to)
    # Named otherwise: their folder, where it holds nothing else.
    renamed = {
        **{k: v for k, v in files.items() if "domain" not in k},
        "src/models/member.ts": entity,
        "src/models/post.ts": entity,
        "src/migrations/1700-init.ts": b"export class Init1700 {}\n",
    }
    found = config_defaults(renamed, "package.json", {}, {"PORT"})
    assert found.values["DATABASE_ENTITY_PATH"] == "/../../models/*{.ts,.js}"
    assert found.values["MIGRATIONS_PATH"] == "/../../migrations/*{.ts,.js}"
    beside = {**renamed, "src/models/index.ts": b"export * from './member';\n"}
    found = config_defaults(beside, "package.json", {}, {"PORT"})
    assert "DATABASE_ENTITY_PATH" not in found.values
    given = {"DATABASE_ENTITY_PATH": "/../**/*.entity.js"}
    assert (
        "DATABASE_ENTITY_PATH" not in config_defaults(files, "package.json", given, {"PORT"}).values
    )


def test_a_throwaway_value_is_one_of_those_the_code_compares_it_with() -> None:
    """xeavveed's fastapi-seminar-assignment6: ``ENV = os.getenv("ENV", "local")`` then
    ``assert ENV in ("local", "test", "prod")`` and ``env_file=f".env.{ENV}"``; given
    "development" by its name, the import died on the AssertionError. A value its name
    gives is one of those its code compares it with: the one naming development."""
    settings = (
        b'import os\nENV = os.getenv("ENV", "local")\nassert ENV in ("test", "local", "prod")\n'
        b'ENV_FILE = f".env.{ENV}"\nSECRET_KEY = os.environ["SECRET_KEY"]\n'
    )
    files = {"app/settings.py": settings, "main.py": b"from app.settings import ENV\n"}
    found = config_defaults(files, "main.py", {}, {"PORT"})
    if "ENV" in found.values:  # (given by its name: one of its own)
        assert found.values["ENV"] == "local"
    assert found.values["SECRET_KEY"] not in ("test", "local", "prod")
    required = settings.replace(b'os.getenv("ENV", "local")', b'os.environ["ENV"]')
    found = config_defaults({**files, "app/settings.py": required}, "main.py", {}, {"PORT"})
    assert found.values["ENV"] == "local"


def test_a_variable_naming_the_settings_file_flask_loads_is_an_empty_one() -> None:
    """fidemin's flask-practice: ``file_path = os.getenv('CONFIG_FILE')``, "CONFIG_FILE is
    not set" raised without it, then ``app.config.from_pyfile(os.getenv('CONFIG_FILE'))``;
    its settings file is its image's, none in its repository. The variable names an empty
    file (its settings are those it sets otherwise); ``from_envvar`` alike; not where its
    env file gives it."""
    app = (
        b"import os\nfrom flask import Flask\napp = Flask(__name__)\n"
        b"if os.getenv('CONFIG_FILE') is None:\n    raise ValueError('CONFIG_FILE is not set')\n"
        b"app.config.from_pyfile(os.getenv('CONFIG_FILE'))\n"
        b"app.config.from_envvar('APP_SETTINGS')\n# app.config.from_pyfile(os.getenv('OLD'))\n"
    )
    files = {"requirements.txt": b"flask\n", "app.py": app}
    found = config_defaults(files, "app.py", {}, {"PORT"})
    assert found.values["CONFIG_FILE"] == os.devnull
    assert found.values["APP_SETTINGS"] == os.devnull
    assert "OLD" not in found.values
    assert any("CONFIG_FILE=" in n and "loads the settings file" in n for n in found.notes)
    given = config_defaults(files, "app.py", {"CONFIG_FILE": "settings.cfg"}, {"PORT"})
    assert "CONFIG_FILE" not in given.values
    plain = app.replace(b"# app.config.from_pyfile(os.getenv('OLD'))\n", b"")
    latin = {**files, "app.py": b"CAFE = 'caf\xe9'\n" + plain}  # a module not in UTF-8
    assert config_defaults(latin, "app.py", {}, {"PORT"}).values["CONFIG_FILE"] == os.devnull


def _setting_module(module: str) -> bytes:
    """A module setting Django's settings module as manage.py and wsgi.py do."""
    return f"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', '{module}')\n".encode()


def test_its_mongodbs_url_stands_where_the_app_leaves_a_form_or_a_cluster_out_of_reach() -> None:
    """haroldcastillo's SampleNestJS: ``MONGODB_URI= placeholder_mongodb_uri`` in its
    .env.sample ("Invalid scheme" from mongoose at start); a committed .env's Atlas cluster,
    which no preview reaches: the preview's own MongoDB's URL in both. A URL given with the
    launch option env is the user's and stays."""
    files = {
        "package.json": b'{"scripts": {"start": "node dist/main.js"}, "dependencies": '
        b'{"@nestjs/core": "^10", "@nestjs/mongoose": "^10"}}',
        "src/app.module.ts": b"uri: configService.get<string>('MONGODB_URI'),\n",
        ".env.sample": b"PORT= placeholder_port\nMONGODB_URI= placeholder_mongodb_uri\n",
    }
    atlas = "mongodb+srv://me:pw@cluster0.ab12c.mongodb.net/shop"
    for committed in ({}, {".env": f"MONGODB_URI={atlas}\n".encode()}):
        upload = {**files, **committed}
        given = dotenv_file(upload, "src/main.ts")
        found = wanted_servers(upload, "src/main.ts", given, chosen={})
        assert found.mongo is not None
        provided = mongo_environment(found.mongo)
        defaults = config_defaults(upload, "src/main.ts", given, provided).values
        env = _launched_env(upload, provided, defaults)
        assert env["MONGODB_URI"].startswith("mongodb://mongo:27017/"), committed
        chosen = _launched_env(upload, provided, defaults, extra={"MONGODB_URI": atlas})
        assert chosen["MONGODB_URI"] == atlas


def test_a_mongodb_cluster_on_the_internet_in_its_code_is_the_previews_own() -> None:
    """zikkri's ExpressPortfolio connects to its Atlas cluster in its code ("querySrv
    ECONNREFUSED _mongodb._tcp.cluster004…"): its preview's own MongoDB on the loopback,
    its database and options kept, but its account and what a standalone server without
    TLS refuses; a local one is left."""
    atlas = b'mongoose.connect("mongodb+srv://me:pw@cluster004.xdjel.mongodb.net/portfolio'
    shards = (
        b"MongoClient('mongodb://u:p@c0-00.ab.mongodb.net:27017,c0-01.ab.mongodb.net:27017/"
        b"chat?ssl=true&replicaSet=atlas-x&authSource=admin&w=majority')"
    )
    files = {
        "index.js": atlas + b'?retryWrites=true&w=majority")\n',
        "app/db.py": shards,
        "local.js": b'mongoose.connect("mongodb://localhost:27017/x")',
    }
    assert sorted(lan_host_files(files)) == ["app/db.py", "index.js"]
    assert lan_hosts_mended(files["index.js"]) == (
        b'mongoose.connect("mongodb://127.0.0.1:27017/portfolio?retryWrites=true&w=majority")\n'
    )
    assert lan_hosts_mended(files["app/db.py"]) == (
        b"MongoClient('mongodb://127.0.0.1:27017/chat?w=majority')"
    )


def test_the_variable_an_orms_sqlite_file_is_read_from_is_a_file() -> None:
    """The NestJS course's car-value app: ``type: 'sqlite', database:
    config.get<string>('DB_NAME')``, its .env.development never committed ("Driver option
    (database) is not set"); a copy listing pg for production was given its PostgreSQL's
    DB_NAME, and SQLite opened a new empty file of that name ("no such table: user"). The
    file the upload commits, else db.sqlite; a value the app gives stays."""
    module = (
        b"TypeOrmModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => ({\n"
        b"  type: 'sqlite', database: config.get<string>('DB_NAME'), synchronize: true }) })\n"
    )
    files = {
        "package.json": b'{"scripts": {"start": "node dist/main.js"}, "dependencies": '
        b'{"@nestjs/typeorm": "^10", "sqlite3": "^5", "pg": "^8"}}',
        "src/app.module.ts": module,
    }
    provided = {"DB_NAME": "app", "DATABASE_URL": "postgresql://app:pw@localhost:5432/app"}
    assert config_defaults(files, "package.json", {}, provided).values["DB_NAME"] == "db.sqlite"
    committed = {**files, "db.sqlite": b"SQLite format 3\x00"}
    defaults = config_defaults(committed, "package.json", {}, provided).values
    env = _launched_env(committed, provided, defaults)
    assert env["DB_NAME"] == "db.sqlite"
    assert config_defaults(files, "package.json", {"DB_NAME": "cars.db"}, provided).values.get(
        "DB_NAME"
    ) in (None, "cars.db")
    # Another environment's options beside it, on a server: not SQLite's.
    both = module.replace(
        b"synchronize: true })",
        b"synchronize: true }) })\n({ production: {"
        b" type: 'postgres', database: process.env.PG_NAME }",
    )
    assert "PG_NAME" not in sqlite_file_reads({**files, "src/app.module.ts": both})


def test_the_variable_knexs_sqlite_filename_is_read_from_is_a_file() -> None:
    """LeonardoSantos16's Daily-Diet-API: knex's ``client: 'sqlite', connection: {
    filename: process.env.DATABASE_URL }``; given the preview's SQLite URL there, SQLite
    opened no file ("SQLITE_CANTOPEN"), its migrations and its routes alike. A file's
    name; a value the app gives stays."""
    module = (
        b"import { knex as setup } from 'knex'\n"
        b"export const config = {\n  client: 'sqlite',\n  connection: {\n"
        b"    filename: process.env.DATABASE_URL as string,\n  },\n"
        b"  useNullAsDefault: true,\n}\nexport const knex = setup(config)\n"
    )
    files = {
        "package.json": b'{"scripts": {"dev": "tsx watch src/server.ts"}, "dependencies": '
        b'{"knex": "^2.4.2", "sqlite3": "^5.1.7"}}',
        "src/database.ts": module,
        "src/server.ts": b"import { knex } from './database'\n",
    }
    provided = {"DATABASE_URL": "sqlite:////previews/p1/app.db"}
    defaults = config_defaults(files, "package.json", {}, provided).values
    assert defaults["DATABASE_URL"] == "db.sqlite"
    assert _launched_env(files, provided, defaults)["DATABASE_URL"] == "db.sqlite"
    given = {"DATABASE_URL": "meals.db"}
    kept = config_defaults(files, "package.json", given, provided).values
    assert kept.get("DATABASE_URL") in (None, "meals.db")


def test_a_committed_database_url_the_service_gives_only_its_default_of_stands() -> None:
    """The service's own DATABASE_URL (a SQLite file's), among the names it gives, is not
    one its backing gives: a value the app commits for it is weighed without one (a
    launch failed at once, "KeyError: 'DATABASE_URL'", the service's own fault)."""
    files = {
        "requirements.txt": b"fastapi\nuvicorn\n",
        "main.py": b"import os\nfrom fastapi import FastAPI\napp = FastAPI()\n",
        ".env": b"DATABASE_URL=sqlite:///./mine.db\n",
    }
    env = _launched_env(files, {}, {}, python=True)
    assert env["DATABASE_URL"] == "sqlite:///./mine.db"


def _launched_env(
    files: dict[str, bytes],
    provided: dict[str, str],
    defaults: dict[str, str],
    *,
    extra: dict[str, str] | None = None,
    python: bool = False,
) -> dict[str, str]:
    """The environment the app of ``files`` starts with, given ``provided`` by its servers
    and ``defaults`` by configdefaults (``extra``: the launch option env)."""
    found = detect(files)
    spec = LaunchSpec("p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW, detection=found)
    spec.extra = extra or {}
    return app_environment(
        spec,
        "python3" if python else "node",
        app_dir=Path("/previews/p1"),
        database_env=provided,
        egress_open=False,
        memory_limit_mb=512,
        defaults=defaults,
    )
