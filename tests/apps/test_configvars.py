"""The configuration an app reads (apps.configvars): its variables, their types and the
examples of them its upload carries (example env files, a README's block, compose
files)."""

from __future__ import annotations

from preview.apps.configvars import (
    ComposeVolume,
    app_service_volumes,
    compose_environment,
    compose_files,
    compose_secret_files,
    example_env_file,
    fill_in,
    json_settings_fields,
    own_defaults,
    required_types,
    required_variables,
)
from preview.apps.configvars.readmeenv import (
    CI_EXAMPLE,
    README_EXAMPLE,
    ci_env_block,
    readme_env_block,
    with_readme_example,
)
from preview.apps.node.envreads import node_env_reads
from preview.backing import wanted_servers
from preview.backing.wants import postgres_wants
from preview.builds.configdefaults import throwaway_value

from ..launching import app_files

README = """# Roles API

## Environment Variables

Create a `.env` file in the root directory:

```dotenv
PORT=3000
JWT_SECRET=api_secret_key
# the database
SEQUELIZE_CONNECT=postgres://postgres:1234@localhost/pgtest
```

## Usage

```bash
npm install
npm run start
```
"""


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def test_a_readme_dotenv_block_is_the_example_of_an_upload_with_none() -> None:
    """jsuyog2's express-sequelize-api has no .env example: its README's "Environment
    Variables" section writes the .env out (SEQUELIZE_CONNECT, the URL it hands
    ``new Sequelize``), and the app exited on its connection string, undefined."""
    files = {"README.md": README.encode(), "package.json": b"{}", "server.js": b""}
    found = with_readme_example(files)
    assert found[README_EXAMPLE] == (
        b"PORT=3000\nJWT_SECRET=api_secret_key\n"
        b"SEQUELIZE_CONNECT=postgres://postgres:1234@localhost/pgtest\n"
    )
    assert example_env_file(found, "server.js") == README_EXAMPLE
    # An upload with an example of its own, or a .env, keeps it; a block of commands
    # (npm install), or one the README does not say is an environment's, is none.
    for own in (".env", "config/.env.sample"):
        assert with_readme_example({**files, own: b"X=1\n"}) == {**files, own: b"X=1\n"}
    assert readme_env_block("## Usage\n```bash\nnpm install\nnpm start\n```\n") is None
    assert readme_env_block("## Build\n```\nA=1\nB=2\n```\n") is None
    # amisadman's express-jwt-auth: one assignment, in a block marked env; one in a bare
    # block is not enough.
    one = (
        "Create a `.env` file in the project root:\n\n"
        "```env\nCONNECTION_STRING=postgresql://u:p@localhost:5432/db\n```\n"
    )
    assert readme_env_block(one) == "CONNECTION_STRING=postgresql://u:p@localhost:5432/db\n"
    assert readme_env_block(one.replace("```env", "```")) is None


def test_a_readmes_listed_assignments_are_the_example_of_an_upload_with_none() -> None:
    """jaroeira's nestjs-rest-api: no example file; its README says "Create a
    .env.development file … with the following variables", then lists them as its text
    (``- POSTGRES_HOST=db`` … ``- EMAIL_HOST=smtp.yourserver.com``, under headings), and
    its config threw "missing env.EMAIL_HOST". Read as the example; a list the README
    does not say is an environment's, or one assignment alone, is none."""
    readme = (
        "## Running\n\n### Before running: create the environment variables file\n\n"
        "- Create a .env.development file with the following variables:\n\n"
        "- API Host Url\nAPI_HOST_URL=http://localhost:3000\n\n"
        "#### Database\n- POSTGRES_HOST=db\n- POSTGRES_PORT=5432\n\n"
        "#### Email\n- EMAIL_HOST=smtp.yourserver.com\n* `EMAIL_FROM=a@b.com`\n\n"
        "### Using Docker\n\n```bash\ndocker-compose up -d\n```\n\n"
        "Later, far below:\n\n\n\n\n\n- OTHER=1\n"
    )
    files = {"README.md": readme.encode(), "package.json": b"{}", "src/main.ts": b""}
    found = with_readme_example(files)
    assert found[README_EXAMPLE] == (
        b"API_HOST_URL=http://localhost:3000\nPOSTGRES_HOST=db\nPOSTGRES_PORT=5432\n"
        b"EMAIL_HOST=smtp.yourserver.com\nEMAIL_FROM=a@b.com\n"
    )
    assert readme_env_block("## Flags\n\n- A=1\n- B=2\n") is None  # not said to be one
    assert readme_env_block("Create a `.env` file:\n\n- A=1\n") is None


def test_an_example_named_with_a_misspelt_word_is_the_example() -> None:
    """ichetiva's fastapi-crm: its ``.env.simple`` (sample misspelt) names MAIL_PORT=587,
    which its fastapi-mail ConnectionConfig refuses as None; an env.py is none."""
    files = {
        "src/app.py": b"import os\n",
        "alembic/env.py": b"",
        ".env.simple": b"MAIL_PORT=587\n",
    }
    assert example_env_file(files, "src/app.py") == ".env.simple"


def test_the_example_of_the_env_file_a_settings_class_reads_elsewhere_is_the_example() -> None:
    """RashminDungrani's fastapi-invoice-app: its settings read ``envs/dev.env``, which it
    lacks, beside ``envs/dev.example.env`` (MySQL's type, host, port and ``db_base``, the
    database's name): that example, and the MariaDB it names, with its database."""
    settings = b"""from pydantic import BaseSettings

class Settings(BaseSettings):
    db_type: str = "postgres"
    db_host: str = "localhost"
    db_port: int = 5432
    db_base: str = "UNDEFINED"

    class Config:
        env_file = "envs/dev.env"
        env_file_encoding = "utf-8"
"""
    example = b"db_type=mysql\ndb_user=root\ndb_pass=password\ndb_base=invoice_db\n"
    example += b"db_host=localhost\ndb_port=3306\n"
    files = {
        "app/core/settings.py": settings,
        "app/main.py": b"from app.core.settings import Settings\n",
        "envs/dev.example.env": example,
        "pyproject.toml": b'[project]\nname = "x"\ndependencies = ["fastapi", "aiomysql"]\n',
    }
    assert example_env_file(files, "app/main.py") == "envs/dev.example.env"
    mysql = wanted_servers(files, "app/main.py", {}).mysql
    assert mysql is not None and mysql.databases == ["invoice_db"], mysql
    assert mysql.accounts == {"root": "password"}
    assert example_env_file({**files, "envs/dev.env": example}, "app/main.py") is None
    pydantic_two = settings.replace(
        b"    class Config:\n        env_file", b"    model_config = SettingsConfigDict(env_file"
    ).replace(b'"envs/dev.env"\n', b'("envs/dev.env", ".env.prod"))\n')
    files["app/core/settings.py"] = pydantic_two
    assert example_env_file(files, "app/main.py") == "envs/dev.example.env"


def test_the_env_a_ci_workflow_writes_is_the_example_of_an_upload_with_none() -> None:
    """deight93's fastapi-boilerplate: no example file, no README block; its CI workflow
    writes the .env (a here-document) its settings read, ENV_STATE and the DEV_-prefixed
    values it names. Read as an example; echoed lines too; a README's block first."""
    files = _bytes("fastapi_ci_written_env")
    found = with_readme_example(files)
    assert found[CI_EXAMPLE].startswith(b"ENV_STATE=dev\nADMIN_ID=admin\n")
    assert b"DEV_ALLOWED_ORIGINS=*\n" in found[CI_EXAMPLE]
    assert example_env_file(found, "app/main.py") == CI_EXAMPLE
    echoed = b"jobs:\n  t:\n    steps:\n      - run: |\n          echo 'A=1' > .env\n"
    echoed += b"          echo B=2 >> .env\n          pytest\n"
    assert ci_env_block({".github/workflows/t.yaml": echoed}) == "A=1\nB=2\n"
    # A value the CI gives (a secret) is not the upload's: a fill-in (cesar-m-diaz's
    # fastify-url-shortener: AUTH0_DOMAIN read as "}").
    secret = echoed + b"          echo AUTH0_DOMAIN=${{ secrets.AUTH0_DOMAIN }} >> .env\n"
    found = ci_env_block({".github/workflows/t.yaml": secret})
    assert found == "A=1\nB=2\nAUTH0_DOMAIN=...\n"
    # Nor one of the step's own environment (AdrianMatei20's NestJsAPI: ``DB_TYPE=$DB_TYPE``
    # in its heredoc, TypeORM given the driver "$DB_TYPE"); a value built of one is kept.
    step = echoed + b"          echo DB_TYPE=$DB_TYPE >> .env\n"
    step += b"          echo URL=http://$HOST:1 >> .env\n"
    found = ci_env_block({".github/workflows/t.yaml": step})
    assert found == "A=1\nB=2\nDB_TYPE=...\nURL=http://$HOST:1\n"
    commands = b"jobs:\n  t:\n    steps:\n      - run: cat .env > out.txt\n"
    assert ci_env_block({".github/workflows/t.yml": commands}) is None
    readme = {**files, "README.md": README.encode()}
    assert CI_EXAMPLE not in with_readme_example(readme)
    assert with_readme_example({**files, ".env.example": b"X=1\n"}).get(CI_EXAMPLE) is None


def test_a_settings_field_a_subclass_defaults_is_not_required() -> None:
    """PetitLepton's FastAPI-e-commerce: DBSettings' ``engine_string: str`` (env_prefix
    ``db_``), defaulted by the DevelopmentDBSettings the app uses: a stand-in given as
    DB_ENGINE_STRING overrode its SQLite URL. A field no subclass defaults stays required."""
    settings = b"""from pydantic import BaseSettings
class DBSettings(BaseSettings):
    engine_string: str
    pool_size: int
    class Config:
        env_prefix = "db_"
class DevelopmentDBSettings(DBSettings):
    engine_string: str = "sqlite:///development.sqlite3"
class LocalDBSettings(DevelopmentDBSettings):
    pool_size: int = 5
"""
    assert required_types({"app/settings.py": settings}) == {}
    alone = settings.split(b"class LocalDBSettings")[0]
    assert required_types({"app/settings.py": alone}) == {"DB_POOL_SIZE": "int"}


def test_which_settings_fields_are_read_as_json() -> None:
    source = b"""
from typing import Annotated, Dict, List, Optional, Union
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic import Field

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    hosts: Optional[List[str]] = None
    origins: "list[str] | None" = None
    extra: Dict[str, str] = {}
    named: set[int] = Field(default=set(), alias="SOME_IDS")
    raw: Annotated[list[str], NoDecode] = []
    either: Union[List[str], str] = ""
    text: str = ""

class Plain(BaseSettings):
    model_config = SettingsConfigDict(enable_decoding=False)
    items: list[str] = []
"""
    assert json_settings_fields({"config.py": source}) == {
        "APP_HOSTS": "list",
        "APP_ORIGINS": "list",
        "APP_EXTRA": "mapping",
        "SOME_IDS": "list",
    }


def test_a_config_reader_imported_under_another_name_is_read() -> None:
    """kiyoshisama's fastapi-blog-sqlalchemy-v2: ``from decouple import config as
    decouple_config``, then ``decouple_config("TEST_DATABASE_URL")``, unseen: "needed"
    only once the app had died on it."""
    source = (
        b"from decouple import config as read\n"
        b"URL = read('TEST_DATABASE_URL')\nX = read('A', default='1')\n"
    )
    assert required_variables({"app/config.py": source}) == ["TEST_DATABASE_URL"]


def test_a_read_given_to_a_third_party_class_built_at_import_requires_its_variable() -> None:
    """AhmadAli-68's FastAPI-PhotoVideoSharingApp: ``ImageKit(private_key=os.getenv(
    'IMAGEKIT_PRIVATE_KEY'), …)`` at module level, an SDK refusing None at every start.
    Through a module-level name too; not a function's call (``sentry_sdk.init``, None its
    "off"), a class of the app's own, nor one built in a function's body."""
    source = b"""import os
import vendorsdk
from storagekit import StorageKit
from app.own import OwnThing
import sentry_sdk
TOKEN = os.environ.get("VENDOR_TOKEN")
kit = StorageKit(private_key=os.getenv("KIT_PRIVATE_KEY"), url=os.getenv("KIT_URL"))
client = vendorsdk.Client(TOKEN)
own = OwnThing(os.getenv("OWN_SETTING"))
sentry_sdk.init(dsn=os.getenv("SENTRY_DSN"))
def later():
    return StorageKit(private_key=os.getenv("LATER_KEY"))
"""
    files = {"app/images.py": source, "app/own.py": b"class OwnThing: pass\n"}
    assert set(required_variables(files)) == {"KIT_PRIVATE_KEY", "KIT_URL", "VENDOR_TOKEN"}


def test_a_read_a_module_level_if_refuses_to_go_on_without_is_required() -> None:
    """muhammadfauzanis' GITS-Billing-FastAPI: ``SUPABASE_URL = os.getenv("SUPABASE_URL")``
    and ``if not SUPABASE_URL or not SUPABASE_SERVICE_KEY: raise Exception(…)`` at import
    (its every start died there). ``is None`` and ``sys.exit`` alike; a check that only
    warns, one in a function, or ``is not None`` requires nothing."""
    source = b"""import os, sys, logging
URL = os.getenv("SUPABASE_URL")
KEY = os.getenv("SUPABASE_SERVICE_ROLE_KEY")
TOKEN = os.environ.get("BOT_TOKEN")
SOFT = os.getenv("SOFT_SETTING")
OTHER = os.getenv("OTHER_SETTING")
if not URL or not KEY:
    raise Exception("Supabase URL and Service Key must be set in .env file")
if TOKEN is None:
    sys.exit("BOT_TOKEN missing")
if not SOFT:
    logging.warning("no SOFT_SETTING")
if OTHER is not None:
    raise RuntimeError("set elsewhere")
def later():
    if not os.getenv("LATER"):
        raise RuntimeError("later")
"""
    found = required_variables({"app/middleware.py": source})
    assert set(found) == {"SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "BOT_TOKEN"}


def test_a_settings_field_defaulting_to_a_bare_read_requires_its_variable() -> None:
    """Vedansh1857's fastapi-user-mgmt: ``env: str = os.getenv("ENV")`` in a settings
    class, None where ENV is unset, which its ``str`` refuses ("Input should be a valid
    string"); a field whose type takes None leaves its variable optional."""
    source = (
        b"import os\nfrom typing import Optional\n"
        b"from pydantic_settings import BaseSettings\n\n"
        b"class Settings(BaseSettings):\n"
        b"    env: str = os.getenv('ENV')\n"
        b"    title: Optional[str] = os.getenv('TITLE')\n"
        b"    level: str = os.getenv('LEVEL', 'info')\n"
    )
    assert required_variables({"app/core/config.py": source}) == ["ENV"]


def test_a_settings_fields_list_of_bare_reads_requires_each_variable() -> None:
    """morshedul-antor's fastapi-email-ses: ``BACKEND_CORS_ORIGINS: List[AnyHttpUrl] =
    [os.environ.get("URL_ONE"), os.environ.get("URL_TWO")]``, each None where unset,
    "none is not an allowed value" at every start. Elements that take None leave theirs
    optional."""
    source = (
        b"import os\nfrom typing import List, Optional\n"
        b"from pydantic import AnyHttpUrl, BaseSettings\n\n"
        b"class Settings(BaseSettings):\n"
        b"    ORIGINS: List[AnyHttpUrl] = [os.environ.get('URL_ONE'), os.getenv('URL_TWO')]\n"
        b"    HOSTS: List[Optional[str]] = [os.getenv('HOST_ONE')]\n"
        b"    TAGS: list[str] = ['a', os.getenv('TAG', 'b')]\n"
    )
    files = {"app/core.py": source}
    assert required_variables(files) == ["URL_ONE", "URL_TWO"]
    assert required_types(files)["URL_ONE"] == "AnyHttpUrl"


def test_a_settings_class_made_from_the_codes_own_mapping_requires_no_variable() -> None:
    """BernarBerdikul's fastapi-menu-async: ``Settings(**yaml_settings)`` from its YAML
    file, its fields ``app: App`` and ``postgres: Postgres`` settings classes too. Read as
    required variables they were given stand-ins, and pydantic refused ``APP`` as JSON
    before the YAML's values could stand. A settings class made otherwise still requires
    its fields; one made from another mapping (``**os.environ``, another settings class's
    values) reads the environment."""
    config = (
        b"import yaml\nfrom pydantic import BaseSettings\n\n"
        b"class App(BaseSettings):\n    project_name: str\n    debug: bool\n\n"
        b"class Postgres(BaseSettings):\n    host: str\n    port: int\n\n"
        b"class Settings(BaseSettings):\n    app: App\n    postgres: Postgres\n\n"
        b"class Mail(BaseSettings):\n    MAIL_SERVER: str\n\n"
        b"yaml_settings = yaml.safe_load(open('config.yaml'))\n"
    )
    made = b"from src.core.config import Mail, Settings, yaml_settings\n\n"
    made += b"settings = Settings(**yaml_settings)\nmail = Mail()\n"
    files = {"src/core/config.py": config, "src/__init__.py": made}
    assert required_variables(files) == ["MAIL_SERVER"]
    from_environment = made.replace(b"Settings(**yaml_settings)", b"Settings(**os.environ)")
    assert "HOST" in required_variables({**files, "src/__init__.py": from_environment})


def test_a_settings_field_defaulting_to_its_modules_function_of_none_requires_it() -> None:
    """Anasothman55's FastAPI-Gym-api: ``WIFI_DOMAIN: str = get_host()``, its wireless
    interface's address, None on a machine with none ("Input should be a valid string");
    given its own host by its name. A function that never returns None is a default."""
    source = (
        b"import socket\nfrom pydantic_settings import BaseSettings\n\n"
        b"def get_host() -> str | None:\n"
        b"    return None\n\n"
        b"def get_name() -> str:\n"
        b"    return socket.gethostname()\n\n"
        b"class Settings(BaseSettings):\n"
        b"    WIFI_DOMAIN: str = get_host()\n"
        b"    LAN_DOMAIN: str | None = get_host()\n"
        b"    MACHINE: str = get_name()\n"
    )
    assert required_variables({"src/config/setting.py": source}) == ["WIFI_DOMAIN"]
    assert throwaway_value("WIFI_DOMAIN", "str") == "localhost"


def test_a_settings_fields_empty_database_url_requires_its_variable() -> None:
    """Serious-Projects' fastapi-user-events-api: ``SQLITE_DB_URL: str = ""`` beside
    ``SQLITE_DB_URL_ASYNC``, left for its .env, given to ``create_engine`` ("Could not
    parse SQLAlchemy URL from string ''"); any other empty field stays optional."""
    source = (
        b"from pydantic import BaseSettings\n\n"
        b"class Settings(BaseSettings):\n"
        b"    SQLITE_DB_URL_ASYNC: str = ''\n"
        b"    SQLITE_DB_URL: str = ''\n"
        b"    DB_PASSWORD: str = ''\n"
        b"    SENTRY_DSN: str = ''\n"
        b"    DATABASE_URL: str = 'sqlite:///./app.db'\n"
    )
    assert sorted(required_variables({"app/config.py": source})) == [
        "SQLITE_DB_URL",
        "SQLITE_DB_URL_ASYNC",
    ]


def test_dotenvs_parsed_values_are_read_and_an_examples_xxx_is_a_fill_in() -> None:
    """T-travis's fastify-tasks-list: ``const { DB_HOST, DB_TYPE } = config.parsed`` (its
    dotenv's config() result), every value of its example.env ``XXX``: DB_TYPE went unread
    by meaning and its Sequelize met "The dialect XXX is not supported"."""
    source = (
        b'const config = require("dotenv").config();\n'
        b"const { DB_HOST, DB_NAME: name, DB_TYPE } = config.parsed;\n"
    )
    assert node_env_reads({"database_connection.js": source}) == (
        {},
        ["DB_HOST", "DB_NAME", "DB_TYPE"],
    )
    assert node_env_reads({"a.js": source.replace(b"dotenv", b"other")}) == ({}, [])
    assert [fill_in(v) for v in ("XXX", "xxxx", "****", "xx", "Xavier")] == [
        True,
        True,
        True,
        False,
        False,
    ]
    # A value masked but for its first and last characters (ingeniousambivert's README:
    # TWILIO_ACCOUNT_SID=Axxxx…xd, refused by Twilio's SDK: "must start with AC").
    masked = ("Axxxxxxxxxxxxxxxxxxxxxxxxxxxxxxd", "sk_test_xxxxxxxxxxxx", "0x1234abcd", "boxxed")
    assert [fill_in(v) for v in masked] == [True, True, False, False]


def test_dockers_name_for_its_host_in_a_compose_environment_is_the_sandboxs() -> None:
    """The same blog's compose file gives its app ``DB_HOST=host.docker.internal``: the
    author's machine, where their PostgreSQL listens; a preview's servers listen on its
    own loopback. Its database's variables then matched no served database, and its
    engine's variable was given SQLite's."""
    service = {
        "environment": [
            "DB_HOST=host.docker.internal",
            "DATABASE_URL=postgres://u:p@host.docker.internal:5432/blog",
            "API=http://gateway.docker.internal:8080/v1",
            "NOTE=my-host.docker.internal.example",
        ]
    }
    assert compose_environment(service, {}) == {
        "DB_HOST": "127.0.0.1",
        "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/blog",
        "API": "http://127.0.0.1:8080/v1",
        "NOTE": "my-host.docker.internal.example",
    }


def test_a_compose_file_of_an_environments_name_alone_in_its_folder_is_read() -> None:
    """BlueSphereAI's FastAPI-PostgreSQL-Alembic-Docker has docker-compose.dev.yml and
    docker-compose.local.yml and no docker-compose.yml (its Makefile runs ``docker compose
    -f docker-compose.dev.yml up``): its backend's ``PG_DATABASE_URL`` and its PostgreSQL
    service went unread, and its migration died wanting PG_DATABASE_URL. A production
    one is never read so."""
    files = _bytes("fastapi_compose_dev_only")
    assert compose_files(files) == ["docker-compose.dev.yml"]
    wants = postgres_wants(files, {})
    assert wants.compose_env["PG_DATABASE_URL"].endswith("@db:5432/postgres")
    assert "db" in wants.aliases
    # Beside a base file, it is an overlay of it, as before.
    base = {**files, "docker-compose.yml": b"services:\n  db:\n    image: postgres:16\n"}
    assert compose_files(base) == ["docker-compose.yml"]


def test_the_volumes_the_apps_compose_service_mounts() -> None:
    """Its service's (the one building the upload's folder of the app): a named volume
    is a directory of its own; a folder of the upload's is that folder; a volume inside a
    folder from the upload (the image's node_modules kept), a host's path, a file of the
    upload's and a system directory are none a preview gives."""
    compose = b"""services:
  api:
    build: ./backend
    volumes:
      - sqlite-data:/data
      - ./backend:/app
      - /app/node_modules
      - ./backend/uploads:/app/uploads:rw
      - /var/run/docker.sock:/var/run/docker.sock
      - ./nginx.conf:/etc/nginx/nginx.conf
      - ./backend/static:/usr/share/nginx/html
      - type: volume
        source: cache
        target: /srv/cache/
      - logs:/var/log/app
      - ../outside:/outside
      - ./backend/node_modules:/srv/modules
  db:
    image: postgres
    volumes: [pg:/var/lib/postgresql/data]
"""
    files = {"docker-compose.yml": compose, "backend/main.py": b"", "nginx.conf": b""}
    assert app_service_volumes(files, "backend/main.py") == [
        ComposeVolume("/data", None),
        ComposeVolume("/app", "backend"),
        ComposeVolume("/app/uploads", "backend/uploads"),
        ComposeVolume("/srv/cache", None),
        ComposeVolume("/var/log/app", None),
    ]
    # An app in a folder of the one its service builds (flask-app/src of ``build:
    # flask-app/``) is that service's; one no service builds (the database's alone
    # here) mounts nothing.
    nested = {**files, "backend/src/app.py": b""}
    assert app_service_volumes(nested, "backend/src/app.py") == app_service_volumes(
        files, "backend/main.py"
    )
    assert app_service_volumes(files, "main.py") == []


def test_the_secret_files_its_compose_file_reads_that_the_upload_lacks() -> None:
    compose = b"""services:
  db:
    image: mysql:8
    secrets: [db_pw, root_pw]
secrets:
  db_pw:
    file: ./secrets/db_password.txt
  root_pw:
    file: secrets/root.txt
  kept:
    file: ./secrets/kept.txt
  host:
    file: /etc/host-secret
  outside:
    file: ../../outside.txt
  external:
    external: true
"""
    files = {"deploy/docker-compose.yml": compose, "deploy/secrets/kept.txt": b"x"}
    assert compose_secret_files(files) == [
        "deploy/secrets/db_password.txt",
        "deploy/secrets/root.txt",
    ]


def test_an_env_reader_imported_from_a_module_of_the_upload_is_read() -> None:
    """sheraff0's rental-django-ninja-pydantic builds ``env = environ.Env(…)`` in
    config/settings/env.py; its package's __init__.py reads ``env('SECRET_KEY')`` after
    ``from .env import *``, email.py after ``from config.settings.env import env``: both
    required. An ``env`` of another package's is anyone's function."""
    files = {
        "config/settings/env.py": b"import environ\nenv = environ.Env()\n",
        "config/settings/__init__.py": b"from .env import *\nSECRET_KEY = env('SECRET_KEY')\n",
        "config/settings/email.py": (
            b"from config.settings.env import env\nEMAIL_HOST = env('EMAIL_HOST')\n"
        ),
        "other.py": b"from mylib import env\nX = env('NOT_OURS')\n",
    }
    assert required_variables(files) == ["SECRET_KEY", "EMAIL_HOST"]


def test_a_readme_giving_its_env_a_block_at_a_time_gives_all_of_it() -> None:
    """grigoriykuzevanov's fastapi-pet-project: "Inside of `.env` file create settings
    variables", then a block per part (app info … CORS), whose last alone sets the
    ``CORS_ORIGINS`` its settings cannot start without; only the first was read. The
    reader's fill-ins ("Your postgres user name") name nothing. A block of commands ends
    the account; a name keeps its first value; a database's parts are the preview's
    (``DB_HOST=db-"db-main"``, which its Alembic step could not resolve)."""
    readme = (
        "Create `.env`:\n```\ntouch .env\n```\nInside of `.env` file create settings:\n"
        '- App:\n```\n# App info\nAPP_NAME="Your name for the app"\nAPP_VERSION=1\n```\n'
        '- Database:\n```\nDB_HOST=db-"db-main"\nSMTP_USER="Your name"\nAPP_VERSION=2\n```\n'
        "- CORS:\n```\n#CORS\nCORS_ORIGINS=*\n```\n"
        "## Usage\n```sh\ndocker compose up\n```\n```\nLATE=1\nLATER=2\n```\n"
    )
    assert readme_env_block(readme) == (
        'APP_NAME="Your name for the app"\nAPP_VERSION=1\nSMTP_USER="Your name"\nCORS_ORIGINS=*\n'
    )
    phrases = ("Your postgres user name", "Enter the API key", "your_db", "Your", "Yours truly")
    assert [fill_in(v) for v in phrases] == [True, True, True, False, False]


def test_a_name_in_braces_is_a_fill_in() -> None:
    """adriangmweb's express-quiz-app (a course's quiz, its models.js parsing
    DATABASE_URL by a regex): .env-sample's ``DATABASE_URL={your-db-host}``, kept as the
    app's own, met "TypeError: Cannot read properties of null (reading '6')"."""
    braced = ("{your-db-host}", "{{ DB_NAME }}", "{db.host}", '{"a": 1}', "{}", "a{b}")
    assert [fill_in(v) for v in braced] == [True, True, True, False, False, False]


def test_the_examples_own_word_for_a_value_is_a_fill_in() -> None:
    """Aretemal's ExpressMySQL's .env.example gives every variable the value ``example``
    (``DB_TYPE = 'example'``): Sequelize refused "the dialect example"; PsydoV2's
    TypescriptExpressTemplate's, ``_PLACEHOLDER_``. The word alone is a fill-in; a value
    holding it among others is the app's."""
    words = ("example", "Sample", "_PLACEHOLDER_", "example.com", "my-example-db", "examples")
    assert [fill_in(v) for v in words] == [True, True, True, False, False, False]


def test_a_dotted_name_ending_in_a_fill_in_is_one() -> None:
    """mr-time2028's DjangoEcommerceApi: ``DB_ENGINE=django.db.backends.YOUR_DATABASE``,
    kept as the app's: "'django.db.backends.YOUR_DATABASE' isn't an available database
    backend". A dotted name of the app's own is not one."""
    names = ("django.db.backends.YOUR_DATABASE", "django.db.backends.postgresql", "your.host")
    assert [fill_in(v) for v in names] == [True, False, False]


def test_node_configs_variables_for_settings_it_gets_and_defines_nowhere_are_required() -> None:
    """JayrajkumarSarvaiya's express-with-typeScript maps node-config's ``mail.password`` to
    ``app_password`` in custom-environment-variables.json and defines it in no file a
    development run loads; ``config.get("mail.password")`` threw ("Configuration property
    "mail.password" is not defined"). Not a setting a loaded file defines, nor one never
    got."""
    package = b'{"dependencies": {"config": "^3.3.9", "express": "^4"}}'
    files = {
        "package.json": package,
        "config/custom-environment-variables.json": (
            b'{"mail": {"password": "app_password", "host": "MAIL_HOST"},'
            b' "db": {"url": {"__name": "DB_URL", "__format": "json"}}, "unused": "UNUSED"}'
        ),
        "config/development.json": b'{"mail": {"host": "dev-mail-server"}}',
        "src/mail.ts": (
            b"import config from 'config';\nconst password = config.get<string>('mail.password');\n"
            b"const host = config.get('mail.host');\nconst db = config.get('db');\n"
        ),
    }
    required, _ = node_env_reads(files)
    assert {n: required.get(n) for n in ("app_password", "DB_URL", "MAIL_HOST", "UNUSED")} == {
        "app_password": "",
        "DB_URL": "",
        "MAIL_HOST": None,
        "UNUSED": None,
    }


def test_a_default_only_a_test_module_gives_is_not_the_apps_own() -> None:
    """potier97's fastApiCelery: job/converter_test.py reads ``os.getenv('PUBLIC_DIR',
    'http://localhost:8080')``; its settings class's PUBLIC_DIR is "public". Given the
    test's value, the app mounted that URL as its static folder and died. A module's own
    default stands; a test's is none."""
    files = {
        "job/converter_test.py": b"import os\nDIR = os.getenv('PUBLIC_DIR', 'http://localhost:8080')\n",
        "tests/test_api.py": b"import os\nURL = os.getenv('API_URL', 'http://testserver')\n",
        "job/tasks.py": b"import os\nMODE = os.getenv('MODE', 'worker')\n",
    }
    assert own_defaults(files) == {"MODE": "worker"}
