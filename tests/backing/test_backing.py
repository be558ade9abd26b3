"""Servers an app expects beside it (preview.backing): what is read from an upload, and
real previews, sandboxed and built, whose app uses its own Redis (named ``redis`` by its
compose file) and its own MariaDB (``mysql://app:secret@mysql:3306/app`` in its .env),
each private to it; and one given PostgreSQL and MySQL at once, under one /etc/hosts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest
import trio

from preview import Settings
from preview.apps.configvars import compose_overlays, compose_projects, example_env_file
from preview.backing import wanted_servers
from preview.backing.pgprivate import server_binaries
from preview.backing.servers import mongo as mongo_server
from preview.backing.servers import mysql as mysql_server
from preview.backing.servers import redis as redis_server
from preview.backing.servers.mysql import (
    STAND_IN_PASSWORD,
    init_sql,
    mariadb_binary,
    mysql_environment,
)
from preview.backing.servers.redis import redis_binary, redis_config, redis_environment
from preview.backing.timezones import named_time_zones, time_zone_sql
from preview.backing.wanted import MysqlWanted, Wanted
from preview.builds.configdefaults import config_defaults
from preview.sandbox.outbound import HOSTS_FILE

from ..conftest import SERVER_COMMAND, Service, auth, eventually, running_service, server_app
from ..launching import BUILD_WAIT, app_files, launched, messages
from ..sandbox.test_sandbox import require_sandbox


def _bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


def test_what_an_upload_asks_for() -> None:
    compose = wanted_servers(_bytes(app_files("flask_redis_compose")), "app.py", {})
    assert compose.redis is not None and compose.mysql is None
    assert {"redis", "cache"} <= compose.redis.hosts and compose.redis.ports == {6379}
    assert "web" not in compose.redis.hosts  # the app's own service is not aliased
    mysql = wanted_servers(
        _bytes(app_files("pymysql_app")),
        "app.py",
        {
            "DATABASE_URL": "mysql+pymysql://app:s%40cret@mysql:3307/app",
        },
    )
    assert mysql.mysql is not None and mysql.redis is None
    assert mysql.mysql.accounts == {"app": "s@cret"} and mysql.mysql.databases == ["app"]
    assert 3307 in mysql.mysql.ports and "mysql" in mysql.mysql.hosts
    assert "CREATE DATABASE IF NOT EXISTS `app`;" in init_sql(mysql.mysql)
    # A compose file's MySQL published on the host's 3307: an app run beside it (not in
    # it) reaches localhost:3307 (MikroORM's NestJS example, its driver @mikro-orm/mysql).
    mikro = {
        "package.json": b'{"dependencies": {"@mikro-orm/mysql": "^6.4.4"}}',
        "docker-compose.yml": b"services:\n  mysql:\n    image: mysql:9.6\n"
        b'    ports:\n      - "3307:3306"\n',
    }
    found = wanted_servers(mikro, "src/main.ts", {})
    assert found.mysql is not None and {3306, 3307} <= found.mysql.ports
    assert "@mikro-orm/mysql in its dependencies" in found.mysql.why
    # A driver alone is no sign (SQLAlchemy apps list several); a URL naming a host is.
    assert wanted_servers({"requirements.txt": b"pymysql\n"}, "", {}).mysql is None
    node = {
        "package.json": b'{"dependencies": {"ioredis": "^5", "mysql2": "^3"}}',
        ".env.example": b"REDIS_URL=redis://:pw@my-cache:6380\nMYSQL_HOST=dbhost\n"
        b"MYSQL_USER=u\nMYSQL_PASSWORD=p\nMYSQL_DATABASE=d\n",
    }
    found = wanted_servers(node, "index.js", {})
    assert found.redis is not None and found.mysql is not None
    assert "my-cache" in found.redis.hosts and 6380 in found.redis.ports
    assert found.redis.accounts == {"default": "pw"}
    assert "requirepass" in redis_config(found.redis, redis_server.Path("/x/r.sock"), 1 << 24)
    assert found.mysql.accounts == {"u": "p"} and "dbhost" in found.mysql.hosts
    # Settings written in code: a settings class's URL defaults, an ORM's literal config.
    code = {
        "requirements.txt": b"aiomysql\nredis\n",
        "core/config.py": b'DB_URL: str = "mysql+aiomysql://fastapi:fastapi@localhost:3306/fastapi"\n'
        b'CELERY_BACKEND_URL: str = "redis://:placeholder@localhost:6379/0"\n',
    }
    found = wanted_servers(code, "main.py", {})
    assert found.mysql is not None and found.mysql.accounts == {"fastapi": "fastapi"}
    assert found.redis is not None and found.redis.accounts == {}  # a code default: no password
    sequelize = {
        "package.json": b'{"dependencies": {"mysql2": "^3", "sequelize": "^6"}}',
        "app/config/db.config.js": b'module.exports = {\n  HOST: "localhost",\n  USER: "root",\n'
        b'  PASSWORD: "123456",\n  DB: "testdb",\n  dialect: "mysql",\n};\n',
    }
    found = wanted_servers(sequelize, "server.js", {})
    assert found.mysql is not None and found.mysql.accounts == {"root": "123456"}
    assert found.mysql.databases == ["testdb"]
    typeorm = {  # its ormconfig.json only as the example its README says to copy
        "package.json": b'{"dependencies": {"mysql": "^2", "typeorm": "^0.2"}}',
        "ormconfig.json.example": b'{"type": "mysql", "host": "localhost", "port": 3306, '
        b'"username": "u", "password": "p", "database": "realworld"}',
    }
    found = wanted_servers(typeorm, "index.js", {})
    assert found.mysql is not None and found.mysql.accounts == {"u": "p"}
    assert found.mysql.databases == ["realworld"]


# An app that answers at once on its port (the launch is waited for until it does).
_SERVES = (
    "import http.server, os; http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])),"
    " http.server.BaseHTTPRequestHandler).serve_forever()"
)


def _require_redis(service: Service) -> None:
    """A sandboxed service (else the test fails where CI requires one) and redis-server."""
    require_sandbox(service)
    if redis_binary() is None:
        pytest.skip("redis-server is not installed")


async def test_a_missing_server_fails_the_launch_naming_how_to_enable_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_server, "redis_binary", lambda: None)
    monkeypatch.setattr("preview.backing.servers.running.redis.redis_binary", lambda: None)
    files = {"app.py": "import redis\n", "requirements.txt": "redis\n"}
    async with running_service(settings) as service:
        with trio.fail_after(30):
            body = (await service.launch(await service.upload(files), command=["true"])).json()
    assert body["status"] == "failed"
    assert "redis-server is not installed" in body["errorMessage"]
    assert "PREVIEW_APP_REDIS=off" in body["errorMessage"]
    off = replace(settings, app_redis="off")
    async with running_service(off) as service:
        with trio.fail_after(60):
            gid = await service.upload(files)
            body = (await service.launch(gid, command=["{python}", "-c", _SERVES])).json()
            assert body["status"] == "running", body.get("errorMessage")


async def test_an_app_on_mongodb_is_refused_at_once_where_none_can_be_given(
    settings: Settings,
) -> None:
    files = app_files("express_mongoose")
    found = wanted_servers(_bytes(files), "src/index.js", {})
    assert found.mongo is not None and found.mongo.why == ["mongoose in its dependencies"]
    # A server elsewhere, chosen by the user: the app's own business.
    elsewhere = {"MONGODB_URL": "mongodb+srv://u:p@cluster0.example.net/notes"}
    assert wanted_servers(_bytes(files), "src/index.js", elsewhere).mongo is None
    # Its committed .env's cluster, which no preview reaches: its own server's URL instead.
    committed = wanted_servers(_bytes(files), "src/index.js", elsewhere, chosen={})
    assert committed.mongo is not None and committed.mongo.templates == ["MONGODB_URL"]
    off = replace(settings, app_mongo="off")
    async with running_service(off) as service:
        with trio.fail_after(30):
            body = (await service.launch(await service.upload(files), command=["true"])).json()
    assert body["status"] == "failed"
    assert body["errorMessage"].startswith(
        "the app expects MongoDB (mongoose in its dependencies), which cannot be given here: "
        "PREVIEW_APP_MONGO is off"
    )


async def test_each_preview_gets_its_own_mongodb_with_the_account_its_compose_names(
    builder_service: Service,
) -> None:
    """NX-27017 for an app on pymongo whose compose file runs ``mongo`` with a root account:
    its client logs in with SCRAM, writes, searches by a regular expression (BSON's own
    type, which NX-27017 alone refuses); a second preview's MongoDB is another, and each
    one's folder goes with its preview."""
    service = builder_service
    require_sandbox(service)
    if mongo_server.mongo_binary() is None:
        pytest.skip("NX-27017 is not installed")
    with trio.fail_after(BUILD_WAIT):
        first = await launched(service, app_files("pymongo_compose"))
        assert first["status"] == "running", (first["errorMessage"], first["errorLines"])
        second = await launched(service, app_files("pymongo_compose"))
        assert second["status"] == "running", (second["errorMessage"], second["errorLines"])
    with trio.fail_after(60):
        for text in ("Buy milk", "call Bob", "milkshake"):
            await _call(service, first, "POST", "/", content=text.encode())
        found = await _call(service, first, "GET", "/?q=MILK")
        assert found == {"notes": ["Buy milk", "milkshake"], "database": "notes", "user": "root"}
        assert (await _call(service, second, "GET", "/"))["notes"] == []
        said = messages(await service.history(first["gid"]), "system")
        given = [m for m in said if m.startswith("a private MongoDB for the app")]
        assert given and "mongo, mongodb and localhost, port 27017" in given[0], said
        assert "MONGODB_URI" in given[0] and any(m.startswith("MongoDB ready in") for m in said)
        runtime = service.supervisor.get(first["previewInstanceId"])
        assert runtime is not None
        servers = runtime.backing.servers.directory
        assert (servers / "mongo" / mongo_server.SOCKET_NAME).exists()
        # A snapshot holds none of its MongoDB's data, and says so.
        snapshots = f"/api/generations/{first['gid']}/preview/snapshots"
        taken = await service.client.post(snapshots, json={"name": "notes"}, headers=auth())
        assert taken.status_code == 201, taken.text
        assert taken.json()["notCovered"] == ["MongoDB"]
        await service.stop(first["gid"])
        await service.stop(second["gid"])
    assert not servers.exists()


def test_a_mongodb_is_told_under_the_names_the_app_reads_it_by() -> None:
    """The usual names, each name the app's code reads a MongoDB URL by (its own spelling,
    DATABASE_URL where MongoDB is its one database), an example's cluster on the internet,
    and the account its code logs in with by variables nothing sets."""
    code = (
        b"const url = process.env.MONGO_CONNECTION_STRING || process.env.DATABASE_URL;\n"
        b"mongoose.connect(url, { user: process.env.MONGO_USER, pass: process.env.MONGO_PASS,"
        b" dbName: process.env.MONGO_DB_NAME });\n"
    )
    files = {
        "package.json": b'{"dependencies": {"express": "^4", "mongoose": "^8"}}',
        "src/db.js": code,
        ".env.example": b"ATLAS_URI=mongodb+srv://<user>:<password>@cluster0.x.mongodb.net/shop\n",
    }
    found = wanted_servers(files, "src/db.js", {})
    assert found.mongo is not None
    env = mongo_server.mongo_environment(found.mongo)
    user, password = next(iter(found.mongo.accounts.items()))
    url = f"mongodb://{user}:{password}@mongo:27017/shop?authSource=admin"
    for name in (
        "MONGO_URI",
        "MONGODB_URL",
        "MONGO_CONNECTION_STRING",
        "DATABASE_URL",
        "ATLAS_URI",
    ):
        assert env[name] == url, name
    assert (env["MONGO_USER"], env["MONGO_PASS"], env["MONGO_DB_NAME"]) == (user, password, "shop")
    # An account its own code writes for its variables (craigmiller160's ExpressGraphQL:
    # its gulpfile's nodemon env), which its server then logs in with.
    gulp = b"nodemon({ script: 'out/app.js', env: { MONGO_USER: 'user', MONGO_PASSWORD: 'pw' } })"
    written = wanted_servers({**files, "gulpfile.ts": gulp}, "src/db.js", {})
    assert written.mongo is not None and written.mongo.accounts == {"user": "pw"}
    # The host its configuration names it by (a container's name) is its server's.
    named = wanted_servers(files, "src/db.js", {"MONGO_HOST": "database"})
    assert named.mongo is not None and "database" in named.mongo.hosts
    # Beside a SQL database its code opens too, DATABASE_URL is the SQL server's.
    pool = b"const pool = new Pool({ connectionString: process.env.DATABASE_URL });\n"
    both = {
        **files,
        "package.json": b'{"dependencies": {"mongoose": "^8", "pg": "^8"}}',
        "src/sql.js": pool,
    }
    found = wanted_servers(both, "src/db.js", {})
    assert found.mongo is not None and "DATABASE_URL" not in found.mongo.templates


async def _call(service: Service, body: dict[str, Any], method: str, path: str, **kw: Any) -> Any:
    response = await service.app_request(body, method, path, **kw)
    assert response.status_code == 200, response.text
    return response.json()


async def test_each_preview_gets_its_own_redis_under_the_compose_name(
    builder_service: Service,
) -> None:
    service = builder_service
    _require_redis(service)
    with trio.fail_after(BUILD_WAIT):
        first = await launched(service, app_files("flask_redis_compose"))
        assert first["status"] == "running", (first["errorMessage"], first["errorLines"])
        second = await launched(service, app_files("flask_redis_compose"))
        assert second["status"] == "running", (second["errorMessage"], second["errorLines"])
    with trio.fail_after(60):
        assert (await _call(service, first, "GET", "/hits"))["hits"] == 1
        assert (await _call(service, first, "GET", "/hits"))["hits"] == 2
        await _call(service, first, "POST", "/notes/mine", content=b"first's")
        notes = await _call(service, first, "GET", "/notes")
        assert notes == {"keys": ["note:mine"], "via": "redis"}
        for host in ("localhost", "::1", "cache", "127.0.0.1"):
            assert (await _call(service, first, "GET", f"/ping/{host}")) == {"pong": True}
        # The other preview's Redis is another: none of the first's keys.
        assert (await _call(service, second, "GET", "/hits"))["hits"] == 1
        assert (await _call(service, second, "GET", "/notes"))["keys"] == []
        said = messages(await service.history(first["gid"]), "system")
        given = [m for m in said if m.startswith("a private Redis for the app")]
        assert given and "REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_DB set for it" in given[0], said
        runtime = service.supervisor.get(first["previewInstanceId"])
        assert runtime is not None
        servers = runtime.backing.servers.directory
        assert servers.is_dir()
        await service.stop(first["gid"])
        await service.stop(second["gid"])
    assert not servers.exists()


async def test_its_own_mariadb_with_the_account_its_env_names(builder_service: Service) -> None:
    service = builder_service
    require_sandbox(service)
    if mariadb_binary() is None:
        pytest.skip("mariadbd is not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("pymysql_app"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    with trio.fail_after(60):
        await _call(service, body, "POST", "/", content=b"apple")
        found = await _call(service, body, "GET", "/")
        assert found["items"] == ["apple"]
        # The login it asked for (USER(): the server checks none, so CURRENT_USER() is "@").
        assert found["user"].split("@")[0] == "app" and found["database"] == "app"
        assert "MariaDB" in found["version"]
        # Lenient, as MySQL 5.6 and XAMPP's were (ricardoaot's ecommerce-express inserts
        # DEFAULT into a NOT NULL column with none: "Field 'stock' doesn't have a default
        # value" under strict mode).
        assert found["sqlMode"] == "NO_ENGINE_SUBSTITUTION", found
        assert (await _call(service, body, "GET", "/socket")) == {"items": 1}
        said = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith("MariaDB ready in") for m in said), said


EITHER_ENGINE_APP = """import os, json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pymysql

def version():
    db = pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]),
        user=os.environ["DB_USERNAME"], password=os.environ["DB_PASSWORD"],
        database=os.environ["DB_NAME"], connect_timeout=5)
    with db, db.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        return cursor.fetchone()[0]

version()  # at start, as TypeORM connects

class Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        data = json.dumps({"version": version()}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Answer).serve_forever()
"""


def test_a_database_urls_default_in_code_names_the_variable_it_is_given_as() -> None:
    """A settings field whose default is a MySQL URL is read from the variable of its name:
    that variable is the MariaDB's URL (WytheLi's fastapi-sqlalchemy-mysql: its Alembic
    env.py read DATABASE_URL, given the service's SQLite file, while its engine, built
    from DB_*, used the MariaDB: its tables were made in the other database)."""
    files = _bytes(app_files("mysql_url_settings_default"))
    found = wanted_servers(files, "app.py", {})
    assert found.mysql is not None
    url = "mysql+pymysql://shop:s3cret@localhost:3306/orders"
    assert found.mysql.url_variables == {"DATABASE_URL": url}
    assert mysql_environment(found.mysql)["DATABASE_URL"] == url
    # A name the service does not fill (a URL of another use) is the app's own to read.
    other = {"requirements.txt": b"pymysql\n", "c.py": b'REPLICA = "mysql://r:p@replica/db"\n'}
    assert wanted_servers(other, "c.py", {}).mysql.url_variables == {}  # type: ignore[union-attr]


def test_a_cache_managers_redis_store_wants_a_redis() -> None:
    """tjhillard's nestjs-todos-api: NestJS's CacheModule on cache-manager-redis-store,
    its only Redis package: given no Redis, every plan failed at start, ECONNREFUSED
    127.0.0.1:6379."""
    package = b'{"dependencies": {"@nestjs/common": "^5", "cache-manager-redis-store": "^1"}}'
    found = wanted_servers({"package.json": package}, "src/main.ts", {})
    assert found.redis is not None
    assert found.redis.why == ["cache-manager-redis-store in its dependencies"]


def test_fastifys_redis_plugin_wants_a_redis() -> None:
    """blss-tico's fastify-webserver lists @fastify/redis (ioredis beneath) as its only
    Redis package, registered with ``{host, port}`` from its configuration: given no
    Redis, the plugin's connection was refused as the app booted and it exited 1."""
    for plugin in ("@fastify/redis", "fastify-redis"):
        package = b'{"dependencies": {"fastify": "^4", "%s": "^6"}}' % plugin.encode()
        found = wanted_servers({"package.json": package}, "server.js", {})
        assert found.redis is not None
        assert found.redis.why == [f"{plugin} in its dependencies"]


def test_a_redis_url_read_under_another_name_is_the_previews_redis() -> None:
    """Anasothman55's FastAPI-Gym-api requires ``REDIS_URI: str`` in its settings (redis in
    its dependencies): the REDIS_URL given left it unset, "needed". Each Redis URL the
    code reads under another name and nothing configures is the preview's Redis."""
    settings = (
        b"from pydantic_settings import BaseSettings\n\n"
        b"class Settings(BaseSettings):\n"
        b"    REDIS_URI: str\n"
        b"    REDIS_URL: str\n"
        b"    CACHE_TTL: int = 60\n\n"
        b"settings = Settings()\n"
    )
    files = {"requirements.txt": b"fastapi\nredis\n", "app/settings.py": settings}
    found = wanted_servers(files, "app/main.py", {})
    assert found.redis is not None and found.redis.templates == {"REDIS_URI": "redis"}
    assert redis_environment(found.redis)["REDIS_URI"].startswith("redis://")
    own = wanted_servers(files, "app/main.py", {"REDIS_URI": "redis://elsewhere:6379/0"})
    assert own.redis is not None and own.redis.templates == {}
    files["requirements.txt"] = b"fastapi\n"
    assert wanted_servers(files, "app/main.py", {}).redis is None
    # A hosted Redis's add-on's, as Heroku names them.
    hosted = b"const redis = require('redis').createClient(process.env.REDISCLOUD_URL)\n"
    node = {"package.json": b'{"dependencies": {"redis": "^4"}}', "index.js": hosted}
    found = wanted_servers(node, "package.json", {})
    assert found.redis is not None and found.redis.templates == {"REDISCLOUD_URL": "redis"}


def test_a_redis_clients_password_from_a_variable_nothing_sets_is_the_servers() -> None:
    """shoelfikar's backend-cashier-food-expressjs: ``createClient({host, port, password:
    process.env.REDISPASS})``, nothing setting REDISPASS: given a throwaway secret, its
    Redis (with no password) answered "ERR AUTH <password> called without any password
    configured" (and node-redis 3 sends an empty one too). The server is given a
    password, which the variable says; one the app's own configuration sets is the
    server's password."""
    client = (
        b"const redis = require('redis')\nconst client = redis.createClient({\n"
        b"  host: process.env.REDISHOST,\n  port: process.env.REDISPORT,\n"
        b"  password: process.env.REDISPASS\n})\n"
        b"const pool = mysql.createPool({ password: process.env.DB_PASSWORD })\n"
    )
    files = {"package.json": b'{"dependencies": {"redis": "^3"}}', "src/config/redis.js": client}
    found = wanted_servers(files, "app.js", {})
    assert found.redis is not None and found.redis.password_variables == ["REDISPASS"]
    made = found.redis.accounts["default"]
    assert len(made) == 32 and redis_environment(found.redis)["REDISPASS"] == made
    assert f":{made}@" in redis_environment(found.redis)["REDIS_URL"]
    own = wanted_servers(files, "app.js", {"REDISPASS": "s3cret"})
    assert own.redis is not None and own.redis.accounts == {"default": "s3cret"}
    assert "REDISPASS" not in redis_environment(own.redis)
    python = b"import os, redis\nr = redis.Redis(host='redis', password=os.getenv('REDIS_PWD'))\n"
    py = {"requirements.txt": b"flask\nredis\n", "app.py": python}
    found = wanted_servers(py, "app.py", {})
    assert found.redis is not None and found.redis.password_variables == ["REDIS_PWD"]


def test_a_celery_broker_on_rabbitmq_is_given_the_previews_redis() -> None:
    """wlsouza's fastapi-todolist: BROKER_URI defaults to amqp://guest@localhost:5672//
    (RabbitMQ beside it in its compose file), and its / route queues a task: it answered
    500 on "Connection refused". Its broker is the preview's Redis."""
    files = _bytes(app_files("fastapi_celery_amqp_broker"))
    found = wanted_servers(files, "app/main.py", {})
    assert found.redis is not None and found.redis.templates == {"BROKER_URI": "redis"}
    assert redis_environment(found.redis)["BROKER_URI"].startswith("redis://")
    # Its own broker stays its own; an app without Celery is not read for one.
    own = wanted_servers(files, "app/main.py", {"BROKER_URI": "redis://elsewhere:6379/0"})
    assert own.redis is not None and "BROKER_URI" not in own.redis.templates
    files["requirements.txt"] = b"fastapi\n"
    assert wanted_servers(files, "app/main.py", {}).redis is None


async def test_an_app_queueing_on_a_rabbitmq_broker_runs_on_the_previews_redis(
    builder_service: Service,
) -> None:
    service = builder_service
    require_sandbox(service)
    if redis_binary() is None:
        pytest.skip("redis-server is not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_celery_amqp_broker"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any(line.startswith("its Celery broker (BROKER_URI)") for line in said), said
    with trio.fail_after(60):
        answer = await service.app_request(body, "GET", "/")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"queued": True, "broker": "redis"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_models_on_mysqls_own_types_get_their_mariadbs_url() -> None:
    """Models importing sqlalchemy.dialects.mysql's types, which SQLite's compiler refuses
    (jugeeem's fastapi-sqlalchemy-alembic-mysql: its DATABASE_URL empty in its example, it
    was given the service's SQLite file and its first migration failed on TINYINT): its
    DATABASE_URL is the MariaDB's, named for the driver it lists."""
    files = _bytes(app_files("mysql_typed_models"))
    found = wanted_servers(files, "main.py", {})
    assert found.mysql is not None and found.mysql.templates == {"DATABASE_URL": "mysql+pymysql"}
    assert mysql_environment(found.mysql)["DATABASE_URL"].startswith("mysql+pymysql://")
    files["requirements.txt"] += b"aiomysql\n"  # the async driver, which its engine would need
    found = wanted_servers(files, "main.py", {})
    assert found.mysql is not None and found.mysql.templates == {"DATABASE_URL": "mysql+aiomysql"}
    # Its own DATABASE_URL stays its own.
    given = wanted_servers(files, "main.py", {"DATABASE_URL": "sqlite:///own.db"})
    assert given.mysql is None or "DATABASE_URL" not in given.mysql.templates


def test_an_unset_database_url_of_an_app_whose_one_sql_driver_is_mysqls_is_its_mariadbs() -> None:
    """harshitsaraswat's react-fastapi-inventory-management lists mysql-connector-python
    beside SQLAlchemy and reads ``os.getenv("DATABASE_URL")`` (no example file): given the
    service's SQLite URL, its MySQL connect_args failed ("'ssl_disabled' is an invalid
    keyword argument"). Its DATABASE_URL is its MariaDB's; with PostgreSQL's driver listed
    too, or its own URL given, it is not."""
    files = {
        "requirements.txt": b"fastapi\nSQLAlchemy==2.0.52\nmysql-connector-python==26.7.0\n",
        "db.py": b"import os\nfrom sqlalchemy import create_engine\n"
        b'engine = create_engine(os.getenv("DATABASE_URL"))\n',
        "main.py": b"from fastapi import FastAPI\nimport db\napp = FastAPI()\n",
    }
    found = wanted_servers(files, "main.py", {})
    assert found.mysql is not None
    assert found.mysql.templates == {"DATABASE_URL": "mysql+mysqlconnector"}
    both = {**files, "requirements.txt": files["requirements.txt"] + b"psycopg2-binary\n"}
    assert wanted_servers(both, "main.py", {}).mysql is None
    own = wanted_servers(files, "main.py", {"DATABASE_URL": "sqlite:///own.db"})
    assert own.mysql is None
    # Its list in a file named as its Dockerfile installs it (``pip install -r req.txt``).
    named = {k: v for k, v in files.items() if k != "requirements.txt"}
    named["req.txt"], named["Dockerfile"] = (
        files["requirements.txt"],
        b"RUN pip install -r req.txt\n",
    )
    found = wanted_servers(named, "main.py", {})
    assert found.mysql is not None and found.mysql.templates, found.mysql
    # An example's fill-in is no URL of its own (geramolinest's pospointsalesFastAPI).
    filled = wanted_servers(files, "main.py", {"DATABASE_URL": "<YOUR_DATABASE_URL_CONNECTION>"})
    assert filled.mysql is not None
    assert filled.mysql.templates == {"DATABASE_URL": "mysql+mysqlconnector"}


async def test_an_app_reading_its_database_url_from_its_settings_runs_on_its_mariadb(
    builder_service: Service,
) -> None:
    service = builder_service
    require_sandbox(service)
    if mariadb_binary() is None:
        pytest.skip("mariadbd is not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("mysql_url_settings_default"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    with trio.fail_after(60):
        found = await _call(service, body, "GET", "/")
        assert found == {"scheme": "mysql+pymysql", "database": "orders"}
        assert (await service.stop(body["gid"])).status_code == 200


# EITHER_ENGINE_APP's answer, its session's zone set first (as Sequelize's timezone does):
# "<version>|<the zone>|<noon UTC in it>".
ZONED_APP = EITHER_ENGINE_APP.replace(
    'cursor.execute("SELECT VERSION()")\n        return cursor.fetchone()[0]',
    'cursor.execute("SET time_zone = %s", ("America/Sao_Paulo",))\n'
    "        cursor.execute(\"SELECT CONCAT_WS('|', VERSION(), @@session.time_zone,"
    " CONVERT_TZ('2024-01-01 12:00:00', 'UTC', @@session.time_zone))\")\n"
    "        return cursor.fetchone()[0]",
)


def test_the_time_zones_an_upload_names_are_its_mariadbs_to_load() -> None:
    files = {
        "config/database.js": b"module.exports = { timezone: 'America/Sao_Paulo' }",
        ".env.example": b"TZ=Asia/Tokyo\nDB_HOST=db\n",
        "settings.py": b"TIME_ZONE = 'UTC'\nLABEL = 'Europe/Nowhere'\n",
        "node_modules/x/zones.js": b"'Africa/Cairo'",
        "README.md": b"Set 'Europe/Paris' yourself",
    }
    assert named_time_zones(files) == ("America/Sao_Paulo", "Asia/Tokyo", "UTC")
    loaded = time_zone_sql(("America/Sao_Paulo",))
    if not loaded:
        pytest.skip("mariadb-tzinfo-to-sql is not installed")
    assert loaded.startswith("USE mysql;\n") and "'America/Sao_Paulo'" in loaded
    assert time_zone_sql(()) == "" and time_zone_sql(("Nowhere/At_All",)) == ""


def _on_orders(app: str) -> dict[str, str]:
    """``app`` (EITHER_ENGINE_APP's shape) on PyMySQL, its .env naming the MySQL it opens
    (``mysql``, account shop, database orders)."""
    return {
        "app.py": app,
        "Procfile": "web: python app.py\n",
        "requirements.txt": "pymysql>=1.1,<2\n",
        ".env": "DB_HOST=mysql\nDB_PORT=3306\nDB_USERNAME=shop\nDB_PASSWORD=s3cret\n"
        "DB_NAME=orders\n",
    }


async def test_an_app_setting_a_named_time_zone_runs_on_its_mariadb(
    builder_service: Service,
) -> None:
    """MarcoSilva0's api-rest-escola-express: Sequelize's ``timezone: 'America/Sao_Paulo'``
    met "setting timezone 'America/Sao_Paulo' fails on server" (no zone is loaded in a
    new server) in its first migration."""
    files = _on_orders(ZONED_APP)
    assert "SET time_zone" in files["app.py"]
    found = await _runs_on_mariadb(builder_service, files)
    assert found["version"].split("|")[1:] == ["America/Sao_Paulo", "2024-01-01 09:00:00"]


async def test_the_collation_its_compose_files_mysql_runs_with_is_its_mariadbs(
    builder_service: Service,
) -> None:
    """SourceKim's backend-express-skeleton: its compose file runs MySQL with
    ``--collation-server=utf8mb4_unicode_ci``; one migration's tables said that collation
    while the next's took the server's (utf8mb4_general_ci here), and the foreign key
    between them was refused (errno 150). An option file it mounts says it as well."""
    files = {
        **_on_orders(
            EITHER_ENGINE_APP.replace(
                'cursor.execute("SELECT VERSION()")\n        return cursor.fetchone()[0]',
                "cursor.execute(\"SELECT CONCAT_WS('|', VERSION(), @@character_set_server,"
                ' @@collation_server)")\n'
                "        return cursor.fetchone()[0]",
            )
        ),
        "docker-compose.yml": "services:\n  mysql:\n    image: mysql:8.0\n"
        "    command: --default-authentication-plugin=mysql_native_password"
        " --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci\n",
    }
    assert "@@collation_server" in files["app.py"]
    found = await _runs_on_mariadb(builder_service, files)
    assert found["version"].split("|")[1:] == ["utf8mb4", "utf8mb4_unicode_ci"], found
    # Read from what it says, each alone: a mounted option file, MySQL 8's own collation.
    compose = (
        "services:\n  db:\n    image: mariadb\n    volumes:\n      - ./conf:/etc/mysql/conf.d\n"
    )
    option_file = b"[mysqld]\ncollation_server = utf8mb4_0900_ai_ci\n"
    mounted = wanted_servers(
        {**_bytes(files), "docker-compose.yml": compose.encode(), "conf/my.cnf": option_file},
        "app.py",
        {},
    )
    assert mounted.mysql is not None
    assert mounted.mysql.character_set == (
        "utf8mb4",
        "utf8mb4_unicode_ci",
        "the db service of docker-compose.yml",
    )
    unknown = b"[mysqld]\ncollation-server = klingon_ci\n"
    said = {**_bytes(files), "docker-compose.yml": compose.encode(), "conf/my.cnf": unknown}
    unknown_said = wanted_servers(said, "app.py", {}).mysql
    assert unknown_said is not None and unknown_said.character_set is None


async def test_an_app_asking_its_mysql_for_tls_gets_it(builder_service: Service) -> None:
    """RentCarAssits' RCA-API-NestJS: TypeORM's ``ssl: true`` for its Azure MySQL met
    "Server does not support secure connection" (retried until its start's time ran out);
    a client asking for no TLS still connects without it."""
    files = _on_orders(
        EITHER_ENGINE_APP.replace(
            "connect_timeout=5)", "connect_timeout=5, ssl={'check_hostname': False})"
        ).replace(
            'cursor.execute("SELECT VERSION()")\n        return cursor.fetchone()[0]',
            "cursor.execute(\"SHOW SESSION STATUS LIKE 'Ssl_cipher'\")\n"
            "        cipher = cursor.fetchone()[1]\n"
            '        cursor.execute("SELECT VERSION()")\n'
            '        return cursor.fetchone()[0] + " " + cipher',
        )
    )
    assert "Ssl_cipher" in files["app.py"]
    found = await _runs_on_mariadb(builder_service, files)
    assert found["version"].split(" ")[-1].startswith("TLS_"), found


async def test_a_mysql_8_dump_runs_on_the_mariadb_in_the_database_it_makes(
    builder_service: Service,
) -> None:
    """babakjahangiri's movie-project-fastapi: its sql-build.sql, as MySQL 8's Workbench
    writes it (``CREATE DATABASE `movie_db` /*!40100 … COLLATE utf8mb4_0900_ai_ci */
    /*!80016 DEFAULT ENCRYPTION='N' */``, then ``CREATE TABLE `movie_db`.`tbl_movies```,
    no USE), met "Unknown collation: 'utf8mb4_0900_ai_ci'", and the app, naming no
    database, was given another: "Table 'app.tbl_movies' doesn't exist"."""
    dump = (
        "CREATE DATABASE `movie_db` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE "
        "utf8mb4_0900_ai_ci */ /*!80016 DEFAULT ENCRYPTION='N' */;\n\n"
        "CREATE TABLE `movie_db`.`tbl_movies` (\n  `id_movies` INT NOT NULL AUTO_INCREMENT,\n"
        "  `title` VARCHAR(256) COLLATE utf8mb4_0900_bin NULL,\n  PRIMARY KEY (`id_movies`));\n"
    )
    files = {
        "app.py": EITHER_ENGINE_APP.replace(
            'cursor.execute("SELECT VERSION()")\n        return cursor.fetchone()[0]',
            'cursor.execute("SELECT COUNT(*) FROM tbl_movies")\n'
            '        cursor.execute("SELECT VERSION()")\n'
            "        return cursor.fetchone()[0] + ' ' + os.environ['DB_NAME']",
        ),
        "Procfile": "web: python app.py\n",
        "requirements.txt": "pymysql>=1.1,<2\n",
        "sql-build.sql": dump,
    }
    assert "tbl_movies" in files["app.py"]
    found = await _runs_on_mariadb(builder_service, files)
    assert found["version"].endswith(" movie_db"), found


async def test_an_app_verifying_its_mysqls_certificate_trusts_its_mariadbs(
    builder_service: Service,
) -> None:
    """https-carlos' express-biblioteca: the ``mysql`` package's ``ssl: { mode: 'require'
    }`` for its Azure MySQL verifies the server's certificate (unless told
    ``rejectUnauthorized: false``): "Error: self-signed certificate", exit 1. Its MariaDB's
    certificate is one Node is told to trust, and the connection is TLS."""
    files = app_files("node_mysql_verified_tls")
    assert "rejectUnauthorized" not in files["bdConfig.js"]
    found = await _runs_on_mariadb(builder_service, files)
    assert found["version"].split(" ")[-1].startswith("TLS_"), found


async def test_an_app_with_both_drivers_uses_the_engine_its_settings_name(
    builder_service: Service,
) -> None:
    """tienpbss's conduit installs pg and mysql2 and names MySQL in its .env (DB_TYPE=mysql,
    DB_HOST=mysql_c, DB_PORT=3306): the PostgreSQL relay took port 3306 and its MySQL
    client's connect timed out there."""
    files = {
        "app.py": EITHER_ENGINE_APP,
        "Procfile": "web: python app.py\n",
        "requirements.txt": "pymysql>=1.1,<2\npsycopg2-binary\n",
        ".env": "DB_TYPE=mysql\nDB_HOST=mysql_c\nDB_PORT=3306\nDB_USERNAME=shop\n"
        "DB_PASSWORD=s3cret\nDB_NAME=orders\n",
        "docker-compose.yml": "services:\n  db:\n    image: mysql:8\n    container_name: mysql_c\n"
        "    environment:\n      MYSQL_USER: shop\n      MYSQL_PASSWORD: s3cret\n"
        "      MYSQL_DATABASE: orders\n",
    }
    await _runs_on_mariadb(builder_service, files)


async def test_the_account_the_app_logs_in_with_wins_over_its_containers(
    builder_service: Service,
) -> None:
    """tienpbss's conduit: its .env.example logs in as root with "your-password", its
    compose file gives its MySQL container MYSQL_ROOT_PASSWORD 123456: the private
    MariaDB made root's password the container's, and the app was refused."""
    files = {
        "app.py": EITHER_ENGINE_APP,
        "Procfile": "web: python app.py\n",
        "requirements.txt": "pymysql>=1.1,<2\n",
        ".env.example": "DB_HOST=mysql_c\nDB_PORT=3306\nDB_USERNAME=root\n"
        "DB_PASSWORD=your-password\nDB_NAME=conduit\n",
        "docker-compose.yml": "services:\n  db:\n    image: mysql\n    container_name: mysql_c\n"
        "    environment:\n      MYSQL_DATABASE: conduit\n      MYSQL_ROOT_PASSWORD: 123456\n",
    }
    await _runs_on_mariadb(builder_service, files)


async def test_a_password_with_a_line_break_is_the_accounts_whole_password(
    builder_service: Service,
) -> None:
    """The init file MariaDB runs as root takes a statement a line: a password's line
    break (a .env's quoted "\\n") ended its ALTER USER there, so the account was left
    without it and the rest of the line ran as a statement of its own (the audit's)."""
    password = "s3;\\n'x\\\\ \\r\\t"  # as the .env writes it: python-dotenv unescapes
    files = {
        "app.py": EITHER_ENGINE_APP,
        "Procfile": "web: python app.py\n",
        "requirements.txt": "pymysql>=1.1,<2\n",
        ".env": f'DB_HOST=mysql\nDB_PORT=3306\nDB_USERNAME=shop\nDB_PASSWORD="{password}"\n'
        "DB_NAME=orders\n",
        "docker-compose.yml": "services:\n  mysql:\n    image: mysql:8\n",
    }
    made = init_sql(MysqlWanted(accounts={"shop": "s3;\n'x\\ \r\t"}, databases=["orders", "a\nb"]))
    assert all(line.endswith(";") for line in made.splitlines()) and "`a" not in made
    await _runs_on_mariadb(builder_service, files)


CHECKED_PASSWORD_APP = """import os, sys

import pymysql

# Its own configuration check, as a Node app's validator: an empty value is none.
if not os.environ.get("DB_USER") or not os.environ.get("DB_PASSWORD"):
    sys.exit("Configuration error: DB_USER and DB_PASSWORD are required")

def login(user, password):
    return pymysql.connect(host=os.environ["DB_HOST"], user=user, password=password,
        database=os.environ["DB_NAME"], connect_timeout=5)

# An account written where no reader looks (its author's own) logs in: the server checks
# no login, until something reloads its accounts.
with login("author", "on-my-laptop") as db, db.cursor() as cursor:
    cursor.execute("FLUSH PRIVILEGES")
try:
    login("author", "on-my-laptop").close()
    sys.exit("FLUSH PRIVILEGES did not reload the accounts")
except pymysql.err.OperationalError:
    pass
# From then on the account it is given is there: with the stand-in password it is given
# (EITHER_ENGINE_APP below), or none, as another of its clients (a hardcoded
# ``password: ''``) logs in.
login(os.environ["DB_USER"], "").close()
""" + EITHER_ENGINE_APP.replace('os.environ["DB_USERNAME"]', 'os.environ["DB_USER"]')


def test_an_account_without_a_password_is_given_the_stand_in() -> None:
    """An account with no password is given STAND_IN_PASSWORD, which it also accepts
    (test_an_app_logging_in_as_anyone_runs_on_its_mariadb); an account with a password of
    its own is given that one."""
    wanted = MysqlWanted(accounts={"root": "", "shop": "s3cret"}, databases=["orders"])
    env = mysql_environment(wanted)
    assert env["DB_USER"] == env["MYSQL_USER"] == "root"
    assert env["DB_PASSWORD"] == env["MYSQL_PASSWORD"] == STAND_IN_PASSWORD
    assert mysql_environment(MysqlWanted(accounts={"shop": "s3cret"}))["DB_PASSWORD"] == "s3cret"


async def test_an_app_logging_in_as_anyone_runs_on_its_mariadb(
    builder_service: Service,
) -> None:
    """Any user and password log in (an account its configuration does not name: the
    server checks none); once its SQL reloads the accounts (FLUSH PRIVILEGES), the one it is
    given is there, with no password or the stand-in it is given. The stand-in because of
    ferdiebergado's express-mysql-api: its .env.example leaves DB_USER and DB_PASS empty
    and its start refuses either empty ("Configuration error", exit 1)."""
    files = {
        "app.py": CHECKED_PASSWORD_APP,
        "Procfile": "web: python app.py\n",
        "requirements.txt": "pymysql>=1.1,<2\n",
        ".env.example": "DB_HOST=localhost\nDB_PORT=3306\nDB_USER=\nDB_PASSWORD=\nDB_NAME=test\n",
        "docker-compose.yml": "services:\n  mysql:\n    image: mysql:8\n",
    }
    await _runs_on_mariadb(builder_service, files)


async def _runs_on_mariadb(service: Service, files: dict[str, str]) -> dict[str, Any]:
    """``files`` (EITHER_ENGINE_APP) launched sandboxed: it runs, on its private MariaDB.
    A failure tells the preview's log: when its MariaDB answered, or why not (it exited,
    it did not answer in time), and the app's last lines (a lost connection, once, under
    load, whose cause the app's error alone did not show)."""
    require_sandbox(service)
    if mariadb_binary() is None:
        pytest.skip("mariadbd is not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        answer = None
        if body["status"] == "running":
            answer = await service.app_request(body, "GET", "/")
        if answer is None or answer.status_code != 200:
            events = await service.history(body["gid"])
            pytest.fail(
                f"{body['status']}: {body['errorMessage']} {body['errorLines']}; answer: "
                f"{answer.text if answer is not None else None}; system: "
                f"{messages(events, 'system')}; app: {messages(events, 'app')[-20:]}"
            )
        found: dict[str, Any] = answer.json()
        assert "MariaDB" in found["version"]
        assert (await service.stop(body["gid"])).status_code == 200
        return found


def test_a_template_url_is_the_services_to_fill() -> None:
    # An example's URL with placeholders (hackersandslackers' flask-sqlalchemy-tutorial):
    # urlsplit refused its "[USER]" host, which failed the launch; it names the server
    # (and the driver) but no account, host or database: the service's fill it.
    files = _bytes(app_files("pymysql_template_url"))
    found = wanted_servers(files, "app.py", {})
    assert found.mysql is not None and found.mysql.templates == {
        "SQLALCHEMY_DATABASE_URI": "mysql+pymysql"
    }
    filled = mysql_environment(found.mysql)["SQLALCHEMY_DATABASE_URI"]
    assert filled == f"mysql+pymysql://root:{STAND_IN_PASSWORD}@mysql:3306/app"
    provided = {"SQLALCHEMY_DATABASE_URI", "MYSQL_HOST"}
    assert "SQLALCHEMY_DATABASE_URI" not in config_defaults(files, "app.py", {}, provided).values
    celery = {
        "requirements.txt": b"celery\n",
        ".env.example": b"CELERY_BROKER_URL=redis://<host>:<port>/0\n"
        b"MONGO_URL=mongodb://[HOST]:27017/app\n",  # urlsplit's refusal there too
    }
    found = wanted_servers(celery, "worker.py", {})
    assert found.redis is not None and found.redis.templates == {"CELERY_BROKER_URL": "redis"}
    assert redis_environment(found.redis)["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    # An address with brackets that is one (IPv6) is no template.
    ipv6 = wanted_servers({"requirements.txt": b"redis\n"}, "a.py", {"R": "redis://[::1]:6380"})
    assert ipv6.redis is not None and not ipv6.redis.templates and 6380 in ipv6.redis.ports


def test_a_compose_port_published_by_a_variable() -> None:
    # As PostgreSQL's (rafsaf's template): the published side from the .env compose reads.
    files = {
        "requirements.txt": b"redis\npymysql\n",
        ".env.example": b"CACHE_PUBLISHED=6390\n",
        "docker-compose.yml": b"services:\n  cache:\n    image: redis:7\n    ports:\n"
        b'      - "${CACHE_PUBLISHED}:6379"\n  sql:\n    image: mariadb:11\n    ports:\n'
        b'      - "127.0.0.1:${SQL_PORT:-3310}:3306"\n',
    }
    found = wanted_servers(files, "app.py", {})
    assert found.redis is not None and {6379, 6390} <= found.redis.ports
    assert found.mysql is not None and {3306, 3310} <= found.mysql.ports


def test_a_mysql_account_its_compose_file_names_by_variables() -> None:
    files = {
        "requirements.txt": b"pymysql\n",
        ".env": b"MYSQL_APP_PASSWORD=s3cret\n",
        "docker-compose.yml": b"services:\n  sql:\n    image: mysql:8\n    environment:\n"
        b"      MYSQL_USER: ${MYSQL_APP_USER:-shop}\n      MYSQL_PASSWORD: ${MYSQL_APP_PASSWORD}\n"
        b"      MYSQL_DATABASE: ${MYSQL_APP_DB:-orders}\n",
    }
    found = wanted_servers(files, "app.py", {"MYSQL_APP_PASSWORD": "s3cret"})  # its .env's
    assert found.mysql is not None
    assert found.mysql.accounts == {"shop": "s3cret"} and found.mysql.databases == ["orders"]


def test_a_mysql_account_an_example_names_under_names_of_its_own() -> None:
    """moisesmarques's node-express-mariadb-api: its sample.env logs the mariadb pool in as
    ``master_db_username=root``, ``master_db_password=root`` (no DB_USER or MYSQL_USER):
    the private MariaDB knew no such account, "retrieve connection from pool timeout".
    The parts are read by what their names say, where no usual name is set."""
    example = (
        b"jwt_token_signing_key=x\nmaster_db_username=root\nmaster_db_password=root\n"
        b"master_db_name=nodedb\nmaster_db_host=127.0.0.1\nmaster_db_connection_limit=5\n"
        b"db_dialect=mariadb\nslave_db_username=root\nslave_db_password=root\n"
    )
    files = {
        "package.json": b'{"dependencies": {"mariadb": "^2.5.4"}}',
        "sample.env": example,
        "src/repo.js": b"const pool = require('mariadb').createPool({\n"
        b"  host: process.env.master_db_host, user: process.env.master_db_username });\n",
    }
    found = wanted_servers(files, "src/repo.js", {})
    assert found.mysql is not None
    assert found.mysql.accounts == {"root": "root"} and found.mysql.databases == ["nodedb"]
    usual = {**files, "sample.env": example + b"DB_USER=app\nDB_PASSWORD=pw\n"}
    found = wanted_servers(usual, "src/repo.js", {})
    assert found.mysql is not None and found.mysql.accounts == {"app": "pw"}


def test_an_orm_setting_read_from_a_variable_is_that_variables_value() -> None:
    """A Koa todo API (jkyochen's) logs knex in as the literal root with ``password:
    `${process.env.MYSQL_PASSWORD}``` (root in its .env.example, its compose MySQL's
    MYSQL_ROOT_PASSWORD): the password, not a literal, was read as none, root was made
    without one, and ``knex migrate:latest`` was refused ("Access denied for user
    'root'")."""
    knexfile = (
        "require('dotenv').config();\nmodule.exports = { development: {\n"
        "  client: 'mysql2',\n  connection: { host: '127.0.0.1', user: 'root',\n"
        "    password: `${process.env.MYSQL_PASSWORD}`,\n"
        "    database: process.env.MYSQL_DB, port: process.env.NOT_GIVEN } } };\n"
    )
    files = {
        "package.json": b'{"dependencies": {"knex": "^2", "mysql2": "^3"}}',
        "knexfile.js": knexfile.encode(),
        ".env.example": b"MYSQL_PASSWORD=root\nMYSQL_DB=todo\n",
        "docker-compose.yml": b"services:\n  db:\n    image: mysql:5.7\n"
        b"    environment:\n      MYSQL_ROOT_PASSWORD: ${MYSQL_PASSWORD}\n",
    }
    found = wanted_servers(files, "index.js", {}).mysql
    assert found is not None and found.accounts == {"root": "root"}
    assert found.databases == ["todo"] and found.ports == {3306}
    # The same knexfile without the variable given: root's password is not made up.
    files[".env.example"] = b"MYSQL_DB=todo\n"
    del files["docker-compose.yml"]
    found = wanted_servers(files, "index.js", {}).mysql
    assert found is not None and found.accounts == {"root": ""}


def test_the_apps_own_port_above_its_orm_settings_is_not_the_databases() -> None:
    """A small Express app of the training set (express-knex-mysql-minimal): ``const
    port = 3000`` above ``require('knex')({ client: 'mysql', connection: {…} })`` was read
    as the database's port (the fields were read from the characters around ``client``),
    so a relay to its MariaDB listened on 3000 in its sandbox, and the app's own listen
    there failed: EADDRINUSE. The fields are the object's around it."""
    index = (
        "const express = require('express')\nconst app = express()\nconst port = 3000\n"
        "var knex = require('knex')({\n  client: 'mysql',\n  connection: {\n"
        "    host: process.env.DB_HOST,\n    user: process.env.DB_USER,\n"
        "    database: process.env.DB_DATABASE,\n  }\n});\n"
        "app.listen(port, () => console.log(`listening on port ${port}!`))\n"
    )
    files = {
        "package.json": b'{"dependencies": {"express": "^4", "knex": "^0.20", "mysql": "^2"}}',
        "index.js": index.encode(),
    }
    given = {"DB_HOST": "localhost", "DB_USER": "root", "DB_DATABASE": "homework"}
    found = wanted_servers(files, "index.js", given).mysql
    assert found is not None and found.ports == {3306}
    assert found.accounts == {"root": ""} and found.databases == ["homework"]
    # Where the settings say a port of their own, it is read.
    files["index.js"] = index.replace("client: 'mysql',", "client: 'mysql', port: 3307,").encode()
    found = wanted_servers(files, "index.js", given).mysql
    assert found is not None and 3307 in found.ports and 3000 not in found.ports


def test_an_unset_engine_of_an_app_whose_one_sql_driver_is_mysqls_is_mysql() -> None:
    """zubaer-developer's NestJS CRUD: ``type: process.env.DATABASE_TYPE`` and mysql2 its
    one SQL driver, no .env, no compose file: nothing wanted a MariaDB, the engine was
    given as SQLite's, and TypeORM retried "SQLite package has not been found installed"
    until the start's time ran out."""
    module = b"""TypeOrmModule.forRoot({
  type: process.env.DATABASE_TYPE as 'mysql' | 'postgres' | 'sqlite',
  host: process.env.DATABASE_HOST,
  database: process.env.DATABASE_NAME,
})"""
    package = b'{"dependencies": {"@nestjs/typeorm": "^11", "typeorm": "^0.3", "mysql2": "^3"}}'
    files = {"package.json": package, "src/app.module.ts": module}
    found = wanted_servers(files, "package.json", {}).mysql
    assert found is not None
    assert "its DATABASE_TYPE, unset, where its one SQL driver is MySQL's" in found.why
    # Set by the app, or beside another driver (pg): no sign of MySQL's.
    assert wanted_servers(files, "package.json", {"DATABASE_TYPE": "sqlite"}).mysql is None
    both = {**files, "package.json": package.replace(b'"mysql2"', b'"pg": "^8", "mysql2"')}
    assert wanted_servers(both, "package.json", {}).mysql is None
    # Read through a name the code does not spell (jeiDev's vehicle-entity-crud-nestjs:
    # ``config.get(Configuration.DB_TYPE)``, an enum's member), its example's empty DB_TYPE=.
    enum = b"type: config.get(Configuration.DB_TYPE),\nhost: config.get(Configuration.DB_HOST),"
    named = {"package.json": package, "src/db.ts": enum, ".env.default": b"DB_TYPE=\nDB_HOST=\n"}
    found = wanted_servers(named, "package.json", {}).mysql
    assert (
        found is not None and "its DB_TYPE, unset, where its one SQL driver is MySQL's" in found.why
    )


def test_an_engine_its_example_leaves_a_fill_in_for_is_unset() -> None:
    """adyfp24's express-file-handling: sequelize-cli's config reads ``dialect:
    process.env.DB_DIALECT``, its .env.example says ``DB_DIALECT="your_db_dialect"``, and
    mysql2 is its one SQL driver: nothing wanted a MariaDB, the dialect was given as
    SQLite's, "Please install sqlite3 package manually". A fill-in names no engine."""
    config = b"""module.exports = { development: {
  username: process.env.DB_USER, host: process.env.DB_HOST || null,
  dialect: process.env.DB_DIALECT } }"""
    package = b'{"dependencies": {"sequelize": "^6", "mysql2": "^3"}}'
    example = b'DB_USER="your_db_user"\nDB_DIALECT="your_db_dialect"\n'
    files = {"package.json": package, "config/config.js": config, ".env.example": example}
    found = wanted_servers(files, "package.json", {}).mysql
    assert found is not None
    assert "its DB_DIALECT, unset, where its one SQL driver is MySQL's" in found.why
    named = {**files, ".env.example": example.replace(b"your_db_dialect", b"sqlite")}
    assert wanted_servers(named, "package.json", {}).mysql is None


def test_an_override_file_configures_the_servers_as_compose_merges_it() -> None:
    """docker-compose.override.yml (run by ``docker compose up`` beside the base file)
    publishes Redis's port, names MySQL's account and gives the app its Redis URL; a
    production overlay does not count."""
    files = {
        "requirements.txt": b"redis\npymysql\n",
        "docker-compose.yml": b"services:\n  web:\n    build: .\n    environment:\n"
        b"      - DEBUG=1\n  cache:\n    image: redis:7\n  sql:\n    image: mysql:8\n"
        b"    environment:\n      MYSQL_DATABASE: orders\n",
        "docker-compose.override.yml": b"services:\n  web:\n    environment:\n"
        b"      CACHE_URL: redis://cache:6379/2\n  cache:\n    ports: ['6390:6379']\n"
        b"  sql:\n    environment:\n      MYSQL_USER: shop\n      MYSQL_PASSWORD: s3cret\n",
        "docker-compose.prod.yml": b"services:\n  sql:\n    environment:\n"
        b"      MYSQL_USER: prod\n      MYSQL_PASSWORD: other\n",
    }
    found = wanted_servers(files, "app.py", {})
    assert found.redis is not None and {6379, 6390} <= found.redis.ports
    assert "CACHE_URL" in found.redis.why
    assert found.mysql is not None
    assert found.mysql.accounts == {"shop": "s3cret"} and found.mysql.databases == ["orders"]


def test_a_variant_of_the_project_beside_its_compose_file_is_no_overlay() -> None:
    """brocoders' NestJS boilerplate: docker-compose.document.yml runs its API on MongoDB
    instead of docker-compose.yml's PostgreSQL (its own build of the API, each service
    whole), so it is not merged in, and the SQL client listed beside the MongoDB one runs
    on the PostgreSQL the base file gives; an overlay giving the built service what it
    adds, or an override whatever it holds, still is."""
    files = {p: t.encode() for p, t in app_files("compose_variant_document").items()}
    assert compose_overlays(files) == []
    (project,) = compose_projects(files)
    assert "mongo" not in project.services
    assert project.services["api"]["environment"]["DATABASE_TYPE"] == "relational"
    assert _alone(wanted_servers(files, "main.py", {})) is False
    # What an overlay is: the built service without a build of its own (leosussan's
    # docker-compose.local.yml), or compose's own override file.
    local = b"services:\n  api:\n    image: api\n    environment:\n      X: '1'\n"
    override = files["docker-compose.document.yml"]
    more = {**files, "docker-compose.local.yml": local, "docker-compose.override.yml": override}
    assert compose_overlays(more) == ["docker-compose.local.yml", "docker-compose.override.yml"]
    merged = compose_projects(more)[0].services
    assert "mongo" in merged and merged["api"]["environment"]["X"] == "1"
    alone = {k: v for k, v in files.items() if k != "docker-compose.yml"}
    assert _alone(wanted_servers(alone, "main.py", {})) is False  # no compose: SQL listed too


async def test_a_mysql_url_given_as_a_template(builder_service: Service) -> None:
    service = builder_service
    require_sandbox(service)
    if mariadb_binary() is None:
        pytest.skip("mariadbd is not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("pymysql_template_url"))
        # Its system lines too: whether its MariaDB answered, and when, against the app's start.
        said = messages(await service.history(body["gid"]), "system")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"], said)
    with trio.fail_after(60):
        await _call(service, body, "POST", "/", content=b"apple")
        assert (await _call(service, body, "GET", "/")) == {"items": ["apple"]}


async def test_a_mariadb_that_could_not_be_made_is_the_launchs_failure(
    builder_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's "Lost connection to MySQL server" only follows from its MariaDB not
    running: the launch's error says that first, with its cause, then the app's."""
    service = builder_service
    require_sandbox(service)
    if mariadb_binary() is None:
        pytest.skip("mariadbd is not installed")
    monkeypatch.setattr(mysql_server, "_INSTALL_TIME", 0.01)  # far less than it takes
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("pymysql_template_url"))
    assert body["status"] == "failed"
    cause = "the app's MariaDB is not running: its data directory could not be made: "
    assert body["errorMessage"].startswith(cause + "mariadb-install-db did not finish"), body
    assert "(then: pymysql.err.OperationalError" in body["errorMessage"]


async def test_a_server_that_cannot_run_is_said(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_redis(service)
    monkeypatch.setattr(
        "preview.backing.servers.running.redis.redis_config",
        lambda *args: "no-such-directive yes\n",
    )
    files = {**server_app(), ".env": "REDIS_URL=redis://redis:6379/0\n"}
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND, tier="pro")).json()
        assert body["status"] == "running", body.get("errorMessage")  # it does not need it
        while True:
            said = messages(await service.history(gid), "system")
            if any("the app's Redis is not running: it exited" in m for m in said):
                break
            await trio.sleep(0.05)  # the event is the server's, after the launch returned


# A MySQL app (pymysql, MYSQL_*) whose DB_HOST=db, DB_PORT=3306 PostgreSQL reads too.
BOTH_APP = server_app(
    before_serving="""
    import json, socket, psycopg

    class Both(Handler):
        def do_GET(self):
            with socket.create_connection(("db", 3306), timeout=20) as mysql:
                greeting = mysql.recv(128)
            with psycopg.connect(
                host="postgres", port=5432, user=os.environ["POSTGRES_USER"],
                password=os.environ["POSTGRES_PASSWORD"], dbname=os.environ["POSTGRES_DB"],
                connect_timeout=20,
            ) as db:
                one = db.execute("SELECT 1").fetchone()[0]
            body = json.dumps({
                "hosts": open("/etc/hosts").read(), "mariadb": b"MariaDB" in greeting,
                "postgres": one, "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
            }).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
    Handler = Both
    """,
    **{
        "requirements.txt": "pymysql\n",
        ".env": "DB_HOST=db\nDB_PORT=3306\nMYSQL_USER=app\nMYSQL_PASSWORD=secret\n"
        "MYSQL_DATABASE=app\n",
    },
)


async def test_postgres_and_mysql_share_one_hosts_file(settings: Settings) -> None:
    url = os.environ.get("PREVIEW_TEST_POSTGRES_URL", "")
    if not url or mariadb_binary() is None:
        pytest.skip("PREVIEW_TEST_POSTGRES_URL is not set or mariadbd is not installed")
    async with running_service(replace(settings, app_postgres_url=url)) as service:
        require_sandbox(service)
        with trio.fail_after(120):
            body = await launched(service, BOTH_APP, command=SERVER_COMMAND)
            assert body["status"] == "running", body.get("errorMessage")
            runtime = service.supervisor.get(body["previewInstanceId"])
            assert runtime is not None and runtime.containment.confinement is not None
            outbound = runtime.containment.outbound
            # 3306 is MySQL's (the app has its driver, not PostgreSQL's); 5432 PostgreSQL's.
            assert [p for s in outbound.services for p in s.ports] == [5432]
            assert outbound.servers is not None
            assert [p for p, _ in outbound.servers.relays] == [3306]
            seen = await _call(service, body, "GET", "/")
            assert seen["mariadb"] and seen["postgres"] == 1
            # PostgreSQL's generic names left to MySQL: the usual SQLite one, not its URL.
            assert not seen["DATABASE_URL"].startswith("postgres"), seen["DATABASE_URL"]
            names = seen["hosts"].split("\n")[0].split()
            assert names[0] == "127.0.0.1" and {"db", "postgres", "mysql"} <= set(names)
            outbound_dir = runtime.containment.confinement.outbound_dir
            assert outbound_dir is not None
            assert seen["hosts"] == (outbound_dir / HOSTS_FILE).read_text()
            await service.stop(body["gid"])


async def test_postgres_and_redis_by_their_compose_names(builder_service: Service) -> None:
    """PostgreSQL (preview.backing.postgres) and Redis given together: one /etc/hosts
    names both (db, cache), and each answers under its name."""
    service = builder_service
    require_sandbox(service)
    if redis_binary() is None or server_binaries() is None:
        pytest.skip("redis-server or PostgreSQL's server binaries are not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("compose_postgres_redis"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    with trio.fail_after(60):
        assert await _call(service, body, "POST", "/visits/ada") == {"stored": 1, "counted": 1}
        assert await _call(service, body, "POST", "/visits/bob") == {"stored": 2, "counted": 2}
        hosts = (await _call(service, body, "GET", "/hosts"))["hosts"]
        names = hosts.split("\n")[0].split()
        assert {"localhost", "db", "cache", "redis"} <= set(names), hosts


async def test_unsandboxed_previews_are_told_they_get_no_server(unsandboxed: Settings) -> None:
    files = {**server_app(), ".env": "REDIS_URL=redis://redis:6379/0\n"}
    async with running_service(unsandboxed) as service:
        with trio.fail_after(60):
            gid = await service.upload(files)
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            assert body["status"] == "running", body.get("errorMessage")
            said = messages(await service.history(gid), "system")
    assert any("previews get a private one only when sandboxed" in m for m in said), said


def _alone(found: Wanted) -> bool | None:
    """Whether the app is given MongoDB as its one database (None: no MongoDB at all)."""
    return None if found.mongo is None else found.mongo.alone


def test_a_boilerplate_offering_sql_or_mongodb_runs_on_sql() -> None:
    """brocoders' nestjs-boilerplate lists mongoose beside TypeORM and pg, picks one by
    DATABASE_TYPE, and its compose file runs PostgreSQL: it was refused for its MongoDB
    client. It is given a MongoDB beside, but not as its one database (DATABASE_URL and
    its likes stay the SQL server's). Its env-example-relational is its example
    (env-example-document the other)."""
    package = b'{"dependencies": {"mongoose": "^8", "@nestjs/mongoose": "^10", "typeorm": "^0.3",'
    files = {
        "package.json": package + b' "pg": "^8"}}',
        "docker-compose.yaml": b"services:\n  postgres:\n    image: postgres:17\n",
        "env-example-relational": b"DATABASE_TYPE=postgres\n",
        "env-example-document": b"DATABASE_TYPE=mongodb\n",
    }
    assert _alone(wanted_servers(files, "src/main.ts", {})) is False
    assert example_env_file(files, "src/main.ts") == "env-example-relational"
    only = {"package.json": b'{"dependencies": {"mongoose": "^8"}}'}
    assert _alone(wanted_servers(only, "index.js", {})) is True
    # ermal-abiti's nest-inventory-api lists typeorm too, and its code opens MongoDB alone:
    # started thrice as a SQL app, it never answered, its MongoDB unsaid.
    module = b"MongooseModule.forRoot('mongodb://localhost:27017/nest-inventory-api'),\n"
    opened = {**files, "src/app.module.ts": module}
    assert _alone(wanted_servers(opened, "src/main.ts", {})) is True
    both = {**opened, "src/db.ts": b"TypeOrmModule.forRoot({ type: 'postgres' }),\n"}
    assert _alone(wanted_servers(both, "src/main.ts", {})) is False
    # shahqaan's nestjs-prototype: TypeORM itself on MongoDB (ormconfig.json's type),
    # retried for 135 s against a MongoDB never there.
    typeorm = {
        **files,
        "src/app.module.ts": b"imports: [TypeOrmModule.forRoot(), UsersModule],\n",
        "ormconfig.json": b'{"type": "mongodb", "host": "localhost", "port": 27017}',
    }
    assert _alone(wanted_servers(typeorm, "src/main.ts", {})) is True
    typeorm["ormconfig.json"] = b'{"type": "postgres", "host": "localhost"}'
    assert _alone(wanted_servers(typeorm, "src/main.ts", {})) is False


async def test_a_killed_service_leaves_no_template_maker_running(tmp_path: Path) -> None:
    """mariadb-install-db and its bootstrap server end with the process that started
    them, however it ends: SIGKILLed, it used to leave them running, adopted by init,
    writing into its data dir (an outside tester's finding)."""
    if mariadb_binary() is None or os.geteuid() != 0:
        pytest.skip("MariaDB is not installed here, or not root")
    program = (
        "import sys; from pathlib import Path; from preview.backing.servers.mysql import"
        " ensure_template; ensure_template(Path(sys.argv[1]))"
    )
    maker = subprocess.Popen([sys.executable, "-c", program, str(tmp_path)])  # noqa: ASYNC220

    def running(*marks: str) -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            line = " ".join(process.info["cmdline"] or ())
            if str(tmp_path) in line and all(mark in line for mark in marks):
                found.append(process)
        return found

    try:
        with trio.fail_after(60):
            await eventually(lambda: bool(running("--bootstrap")) or maker.poll() is not None)
            assert maker.poll() is None, "the template was made before it could be killed"
            for process in running():  # held where they are: none can end of itself now
                process.suspend()
            maker.kill()
            maker.wait()  # a SIGKILLed process: at once
            await eventually(lambda: not running())  # a stopped process dies of a SIGKILL
    finally:
        for process in running():
            process.kill()


async def test_a_blank_redis_password_stays_blank(builder_service: Service) -> None:
    """``REDIS_PASSWORD=''`` in its .env.example: the private Redis has no password, and
    the app gets none, not a throwaway secret the server refuses (fastapi-practices'
    template: "AUTH <password> called without any password configured")."""
    service = builder_service
    _require_redis(service)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_redis_blank_password"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert await _call(service, body, "GET", "/ping") == {"pong": True, "password": ""}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_redis_password_or_user_adds_no_line_to_its_servers_configuration(
    tmp_path: Path,
) -> None:
    """The upload names its Redis's passwords (``%0A`` in its URL a line's end): each is
    one argument of its configuration, never a directive of its own (here one turning
    the DEBUG command on); a user name no Redis takes (a space, a line's end) is left
    out, not refused by the server at its start. The real redis-server, on a socket."""
    if redis_binary() is None:
        pytest.skip("redis-server is not installed")
    password = 'x"\nenable-debug-command yes\n#'
    files = {
        "package.json": b'{"dependencies": {"ioredis": "^5"}}',
        ".env.example": b"REDIS_URL=redis://:x%22%0Aenable-debug-command%20yes%0A%23@redis:6379/0\n"
        b"CACHE_URL=redis://bob%0Aenable-module-command%20yes:pw@redis:6379/1\n"
        b"QUEUE_URL=redis://carol:c%0Ad@redis:6379/2\n",
    }
    found = wanted_servers(files, "index.js", {})
    assert found.redis is not None
    assert found.redis.accounts["default"] == password
    socket_path = tmp_path / "r.sock"
    config = redis_config(found.redis, socket_path, 1 << 24)
    assert not any(line.startswith("enable-") for line in config.splitlines()), config
    (tmp_path / "r.conf").write_text(config)
    with trio.fail_after(20):
        server = await trio.lowlevel.open_process(
            [redis_binary(), str(tmp_path / "r.conf")], stdout=subprocess.DEVNULL
        )
        try:
            # The socket's file exists once bound, before the server listens on it (a
            # loaded CI run's connect was refused there): tried until it is taken.
            stream = None
            while stream is None:
                assert server.returncode is None, "redis-server refused its configuration"
                try:
                    stream = await trio.open_unix_socket(str(socket_path))
                except (FileNotFoundError, ConnectionRefusedError):
                    await trio.sleep(0.02)

            async def call(*args: str) -> bytes:
                parts = [b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args]
                await stream.send_all(b"*%d\r\n" % len(args) + b"".join(parts))
                return await stream.receive_some(4096)

            assert await call("AUTH", password) == b"+OK\r\n"
            assert await call("AUTH", "carol", "c\nd") == b"+OK\r\n"
            debug = await call("CONFIG", "GET", "enable-debug-command")
            assert debug.endswith(b"$2\r\nno\r\n"), debug
            await stream.aclose()
        finally:
            server.terminate()
            await server.wait()


async def test_a_template_maker_past_its_time_is_a_clear_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mariadb-install-db that does not finish in time fails the template as any failure
    does (the preview says why, it does not end the service), leaving no draft behind
    and nothing of it running."""
    if mariadb_binary() is None or os.geteuid() != 0:
        pytest.skip("MariaDB is not installed here, or not root")
    monkeypatch.setattr(mysql_server, "_INSTALL_TIME", 0.2)  # far less than it takes

    def running() -> bool:
        return any(
            str(tmp_path) in " ".join(process.info["cmdline"] or ())
            for process in psutil.process_iter(["cmdline"])
        )

    with trio.fail_after(60):
        with pytest.raises(mysql_server.TemplateFailed, match=r"did not finish within 0\.2 s"):
            await trio.to_thread.run_sync(mysql_server.ensure_template, tmp_path)
        assert await trio.to_thread.run_sync(os.listdir, tmp_path) == []  # no draft, no template
        await eventually(lambda: not running())  # killed with the installer's namespace


async def test_template_makers_side_by_side_keep_their_temporary_files_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each bootstrap runs as the first processes of a pid namespace of its own, so two
    side by side had the same pid and named their temporary tables' files in the shared
    /tmp alike: one removed the other's, which aborted ("Unknown table
    'mysql.tmp_user_sys'"), its preview given no MariaDB (CI's lost connection). Each
    now keeps them in a folder of its own: the machine's temp dir unusable changes
    nothing, and two made at once both succeed, leaving no scratch folder behind."""
    if mariadb_binary() is None or os.geteuid() != 0:
        pytest.skip("MariaDB is not installed here, or not root")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "no-such-dir"))
    made: list[Path] = []

    async def make(data_dir: Path) -> None:
        made.append(await trio.to_thread.run_sync(mysql_server.ensure_template, data_dir))

    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            for name in ("one", "two"):
                nursery.start_soon(make, tmp_path / name)
    assert sorted(path.parent.name for path in made) == ["one", "two"]
    assert all((path / "mysql").is_dir() for path in made)
    for name in ("one", "two"):
        assert os.listdir(tmp_path / name) == [made[0].name]  # no draft, no scratch


def test_a_client_wrapping_mongodbs_driver_is_mongodbs() -> None:
    """melisovm's express-customer lists mongojs alone (``mongojs('customerapp',
    ['users'])``): its "failed to connect to server [localhost:27017]" read as the
    service's failure, not as MongoDB's, which cannot be given here."""
    for client in ("mongojs", "monk", "co-monk", "mongoist", "mongolass", "connect-mongo"):
        package = b'{"dependencies": {"express": "^4", "%s": "^2"}}' % client.encode()
        files = {"package.json": package}
        found = wanted_servers(files, "app.js", {}).mongo
        assert found is not None and found.why == [f"{client} in its dependencies"]
    plain = {"package.json": b'{"dependencies": {"express": "^4", "ejs": "^2"}}'}
    assert wanted_servers(plain, "app.js", {}).mongo is None


def test_fastifys_mongodb_plugin_is_mongodbs() -> None:
    """A Fastify app registering ``@fastify/mongodb`` with ``url: process.env.MONGO_URI``
    fails at registration ("`url` parameter is mandatory if no client is provided"): it
    expects MongoDB, and is given its own."""
    for plugin in ("@fastify/mongodb", "fastify-mongodb"):
        package = b'{"dependencies": {"fastify": "^5", "%s": "^9"}}' % plugin.encode()
        files = {"package.json": package}
        found = wanted_servers(files, "server.js", {}).mongo
        assert found is not None and found.why == [f"{plugin} in its dependencies"]


def test_a_redis_password_the_code_defaults_is_the_servers() -> None:
    """Nohysiwe's FastAPIBlogBackend reads ``config("CACHE_DB_PASSWORD", cast=Secret,
    default="your_password")`` and hands it to aioredis: its Redis, with no password,
    refused that AUTH. A Redis or cache password's variable the code reads with a default
    of its own is given the server's password, in Python or Node; one without a default
    (its client may send none) is not."""
    config = (
        b"from starlette.config import Config\nconfig = Config('.env')\n"
        b'CACHE_DB_HOST = config("CACHE_DB_HOST", default="localhost")\n'
        b'CACHE_DB_PASSWORD = config("CACHE_DB_PASSWORD", cast=Secret, default="your_password")\n'
        b'REDIS_URL = config("REDIS_URL", default="redis://localhost:6379/0")\n'
    )
    files = {"requirements.txt": b"fastapi\naioredis<2\n", "blog/configs/cache.py": config}
    found = wanted_servers(files, "blog/main.py", {})
    assert found.redis is not None and found.redis.password_variables == ["CACHE_DB_PASSWORD"]
    made = found.redis.accounts["default"]
    assert redis_environment(found.redis)["CACHE_DB_PASSWORD"] == made
    positional = config.replace(b'cast=Secret, default="your_password"', b'"secret"')
    files["blog/configs/cache.py"] = positional.replace(b"CACHE_DB_PASSWORD", b"REDIS_PASS")
    found = wanted_servers(files, "blog/main.py", {})
    assert found.redis is not None and found.redis.password_variables == ["REDIS_PASS"]
    files["blog/configs/cache.py"] = config.replace(b', cast=Secret, default="your_password"', b"")
    found = wanted_servers(files, "blog/main.py", {})
    assert found.redis is not None and found.redis.password_variables == []
    node = b"const password = process.env.REDIS_PASSWORD || 'secret'\n"
    js = {"package.json": b'{"dependencies": {"ioredis": "^5"}}', "src/redis.js": node}
    found = wanted_servers(js, "package.json", {"REDIS_URL": "redis://localhost:6379"})
    assert found.redis is not None and found.redis.password_variables == ["REDIS_PASSWORD"]


def test_a_wrapper_of_a_redis_client_its_lockfile_shows_wants_redis() -> None:
    """Andrew-Nedelenko's koarestapi lists async-redis (node-redis 3 beneath, its
    package-lock.json says) and no client of its own: given no Redis, its client's
    "error" handler threw at start. A package the app lists whose locked dependencies
    include a Redis client wants the preview's Redis; one whose do not, nothing."""
    package = b'{"dependencies": {"async-redis": "^1.1.7", "koa": "^2"}}'
    lock = {
        "lockfileVersion": 2,
        "packages": {
            "": {"dependencies": {"async-redis": "^1.1.7", "koa": "^2"}},
            "node_modules/async-redis": {"version": "1.1.7", "dependencies": {"redis": "^3"}},
            "node_modules/koa": {"version": "2.7.0", "dependencies": {"accepts": "^1"}},
        },
    }
    files = {"package.json": package, "package-lock.json": json.dumps(lock).encode()}
    found = wanted_servers(files, "package.json", {})
    assert found.redis is not None and "async-redis" in found.redis.why[0], found.redis
    # Its lockfile of npm 6 (v1, as koarestapi's): what each package requires.
    older = {
        "lockfileVersion": 1,
        "dependencies": {"async-redis": {"version": "1.1.7", "requires": {"redis": "^2.8.0"}}},
    }
    files["package-lock.json"] = json.dumps(older).encode()
    found = wanted_servers(files, "package.json", {})
    assert found.redis is not None and "async-redis" in found.redis.why[0], found.redis
    del lock["packages"]["node_modules/async-redis"]["dependencies"]
    files["package-lock.json"] = json.dumps(lock).encode()
    assert wanted_servers(files, "package.json", {}).redis is None


def test_a_redis_database_number_is_given_beside_its_host_and_port() -> None:
    """midsti-dev's DRF app builds ``redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}`` from
    its variables, REDIS_DB set nowhere: Celery died on "invalid literal for int() with
    base 10: 'None'". The preview's Redis is given with its database's number, 0."""
    settings = (
        b"import os\nREDIS_HOST = os.environ.get('REDIS_HOST')\n"
        b"CELERY_BROKER_URL = f\"redis://{os.environ.get('REDIS_HOST')}:"
        b"{os.environ.get('REDIS_PORT')}/{os.environ.get('REDIS_DB')}\"\n"
    )
    files = {"requirements.txt": b"django\ncelery\nredis\n", "src/settings.py": settings}
    found = wanted_servers(files, "manage.py", {})
    assert found.redis is not None
    env = redis_environment(found.redis)
    assert (env["REDIS_DB"], env["REDIS_PORT"]) == ("0", "6379"), env


def test_the_variables_its_mongodb_connect_calls_are_given_are_its_servers_url() -> None:
    """Read by their use, whatever their names: a helper's ``connectDB(process.env.MOGO_URL)``
    and connect-mongo's ``mongoUrl`` (pingwin29's TestExpress), the natours course's
    ``process.env.DATABASE.replace('<PASSWORD>', …)`` (cristianromano's
    MongoExpressNodeProject), a condition choosing DEV_URI or PROD_URI (Archit404Error's
    TsoaExpressStarter); not the condition's NODE_ENV, the password, nor another server's."""
    code = (
        b"const mongoose = require('mongoose');\n"
        b"const uri = process.env.NODE_ENV == 'dev' ? process.env.DEV_URI : process.env.PROD_URI;\n"
        b"const DB = process.env.DATABASE.replace('<PASSWORD>', process.env.DATABASE_PASSWORD);\n"
        b"mongoose.connect(uri); mongoose.createConnection(DB);\n"
        b"app.use(session({ store: MongoStore.create({ mongoUrl: process.env.MOGO_URL }) }));\n"
        b"connectDB(process.env.MOGO_URL); redis.connect(process.env.CACHE_URL);\n"
    )
    files = {
        "package.json": b'{"dependencies": {"express": "^4", "mongoose": "^8", "redis": "^4"}}',
        "app.js": code,
    }
    found = wanted_servers(files, "app.js", {})
    assert found.mongo is not None
    assert sorted(found.mongo.templates) == ["DATABASE", "DEV_URI", "MOGO_URL", "PROD_URI"]
    env = mongo_server.mongo_environment(found.mongo)
    assert env["DATABASE"] == env["MOGO_URL"] == "mongodb://mongo:27017/app"


def test_a_name_its_mongodb_connect_call_is_given_is_read_where_another_module_binds_it() -> None:
    """ZIHAD22's mongooseExpressTswEsLint: config/index.ts binds ``database_url =
    process.env.SERVER_URL`` and exports it; server.ts calls ``mongoose.connect(database_url
    as string)``. A config object's property counts the same (``config.mongo_uri``)."""
    config = b"const database_url = process.env.SERVER_URL;\nexport { port, database_url };\n"
    server = (
        b"import mongoose from 'mongoose';\nimport { database_url } from './app/config';\n"
        b"await mongoose.connect(database_url as string);\n"
    )
    files = {
        "package.json": b'{"dependencies": {"express": "^4", "mongoose": "^8"}}',
        "src/app/config/index.ts": config,
        "src/server.ts": server,
    }
    found = wanted_servers(files, "src/server.ts", {})
    assert found.mongo is not None and "SERVER_URL" in found.mongo.templates, found.mongo
    files["src/app/config/index.ts"] = b"export default { mongo_uri: process.env.MONGO_CONN };\n"
    files["src/server.ts"] = (
        b"import mongoose from 'mongoose';\nmongoose.connect(config.mongo_uri);\n"
    )
    found = wanted_servers(files, "src/server.ts", {})
    assert found.mongo is not None and "MONGO_CONN" in found.mongo.templates, found.mongo
