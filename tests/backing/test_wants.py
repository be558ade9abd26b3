"""Which private servers an app wants and what it is given of them (backing.wants,
backing.postgres, backing.servers.mysql): read from what the app declares (its dependency
files, settings files, compose files, init scripts, connection code)."""

from __future__ import annotations

import json
from pathlib import Path

from preview.backing import wanted_servers
from preview.backing.servers.mysql import mariadb_argv, mysql_environment
from preview.backing.wanted import table_name_cases
from preview.backing.wants import postgres_wants

from ..launching import app_files

PACKAGE = json.dumps(
    {"scripts": {"start": "node app.js"}, "dependencies": {"mysql2": "^2", "sequelize": "^6"}}
).encode()


def _utf16(text: str) -> bytes:
    """``text`` as PowerShell's ``pip freeze > requirements.txt`` writes it: UTF-16 with
    its byte-order mark, CRLF line ends."""
    return text.replace("\n", "\r\n").encode("utf-16")


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def test_a_database_url_in_an_f_string_of_the_modules_constants_is_read() -> None:
    """WannaCry081's Bookstore-Flask-API: ``f"mysql://root:data@localhost:3306/{DB_NAME}"``
    beside ``DB_NAME : str = "book_db"``; read as a template, no MariaDB was given."""
    config = (
        b'DB_NAME : str = "book_db"\n'
        b"class Production:\n"
        b'    SQLALCHEMY_DATABASE_URI : str = f"mysql://root:data@localhost:3306/{DB_NAME}"\n'
    )
    files = {"config.py": config, "requirements.txt": b"flask\nmysqlclient\n", "app.py": b""}
    mysql = wanted_servers(files, "app.py", {}).mysql
    assert (
        mysql is not None and mysql.databases == ["book_db"] and mysql.accounts == {"root": "data"}
    )
    # Its database's name read from elsewhere: still a MySQL URL its code builds, with a
    # MySQL driver listed, but no name read from it.
    unknown = config.replace(b'"book_db"', b'os.getenv("DB")')
    built = wanted_servers({**files, "config.py": unknown}, "app.py", {}).mysql
    assert built is not None and built.databases == []


def test_a_database_url_built_by_concatenation_names_its_written_database() -> None:
    """RamiroPintos' Flask-EventPage: ``'mysql+pymysql://' + os.getenv('DB_CONNECTION') +
    '@localhost/mydb'``; read as no URL, its MariaDB had no database mydb ("Unknown database
    'mydb'" at create_all()). The account the code fills in says nothing; the host and
    database it writes do, in an f-string's likewise; a database it fills in does not."""
    app = (
        b"import os\n"
        b"app.config['SQLALCHEMY_DATABASE_URI'] = 'mysql+pymysql://' + "
        b"os.getenv('DB_CONNECTION') + '@localhost/mydb'\n"
    )
    files = {"app.py": app, "requirements.txt": b"flask-sqlalchemy\npymysql\n"}
    mysql = wanted_servers(files, "app.py", {}).mysql
    assert mysql is not None and mysql.databases == ["mydb"] and mysql.accounts == {}
    formatted = b"URL = f'mysql+pymysql://{USER}:{PASSWORD}@localhost:3306/shop'\n"
    mysql = wanted_servers({**files, "app.py": formatted}, "app.py", {}).mysql
    assert mysql is not None and mysql.databases == ["shop"]
    unknown = b"URL = f'mysql+pymysql://{USER}:{PASSWORD}@localhost:3306/{NAME}'\n"
    mysql = wanted_servers({**files, "app.py": unknown}, "app.py", {}).mysql
    assert mysql is None or mysql.databases == []


def test_a_requirements_folders_files_say_what_the_app_installs() -> None:
    """PaskarRules' drf-orders-platform lists celery and redis in requirements/base.txt
    (no requirements.txt), its Celery broker RabbitMQ's (``env("CELERY_BROKER_URL",
    default="amqp://…")``): read as listing nothing, its broker was not given the
    preview's Redis, and its /api/health/ answered 503 (the broker's host unknown)."""
    settings = (
        b'CELERY_BROKER_URL = env("CELERY_BROKER_URL", '
        b'default="amqp://guest:guest@localhost:5672//")\n'
    )
    files = {
        "config/settings.py": settings,
        "config/wsgi.py": b"",
        "manage.py": b"",
        "requirements/base.txt": b"django\ncelery>=5.4,<6.0\nredis>=5.0\n",
        "requirements/dev.txt": b"-r base.txt\npytest\n",
    }
    redis = wanted_servers(files, "config/wsgi.py", {}).redis
    assert redis is not None and redis.templates == {"CELERY_BROKER_URL": "redis"}
    assert "celery in its dependencies" in redis.why


def test_a_mysql_url_naming_another_machines_address_reaches_the_served_server() -> None:
    """rookie-peng's fastapi-tenant-manager: ``DATABASE_URL = os.getenv("DATABASE_URL")``
    beside ``# DATABASE_URL: str = 'mysql://root:123456@192.168.79.131:3306/tenant-
    management'``, its author's LAN: given as it is, "Network is unreachable" (the sandbox's
    /etc/hosts names a server, never an address). Its account and database stand; the
    server's name replaces the address. A loopback address or a name stays."""
    url = "mysql://root:123456@192.168.79.131:3306/tenant-management"
    files = {
        "requirements.txt": b"pymysql\n",
        "app/db.py": b"import os\nDATABASE_URL = os.getenv('DATABASE_URL')\n"
        + f"# DATABASE_URL: str = '{url}'\n".encode(),
    }
    mysql = wanted_servers(files, "app/db.py", {"DATABASE_URL": url}).mysql
    assert mysql is not None
    given = mysql_environment(mysql)["DATABASE_URL"]
    assert given == "mysql://root:123456@mysql:3306/tenant-management", given
    own = wanted_servers(
        files, "app/db.py", {"DATABASE_URL": url.replace("192.168.79.131", "127.0.0.1")}
    )
    assert own.mysql is not None and "@127.0.0.1:" in mysql_environment(own.mysql)["DATABASE_URL"]


def test_a_sequelize_config_json_names_the_mysql_it_opens() -> None:
    """edgareldy's tutorial names its MariaDB only in sequelize-cli's config/config.json
    (no URL, no variable): none was given it, and its migrations failed on
    ECONNREFUSED 127.0.0.1:3306. The development object is the one a preview runs as."""
    config = {
        "development": {
            "username": "root",
            "password": "123456",
            "database": "shop_db",
            "host": "127.0.0.1",
            "dialect": "mysql",
        },
        "production": {"username": "root", "password": None, "database": "prod", "host": "h"},
    }
    files = {
        "package.json": PACKAGE,
        "config/config.json": json.dumps(config).encode(),
        "app.js": b"const db = require('./models')\n",
    }
    wanted = wanted_servers(files, "app.js", {})
    assert wanted.mysql is not None
    assert "the MySQL settings of config/config.json" in wanted.mysql.why
    assert wanted.mysql.accounts == {"root": "123456"}
    assert wanted.mysql.databases == ["shop_db"]
    # Saved with a byte order mark (Accennovate's node-mysql-crud-api: a Windows editor's),
    # which Node's require() skips: read all the same (its RDS host was left unaliased).
    config["development"]["host"] = "shop.abc.eu-west-1.rds.amazonaws.com"
    files["config/config.json"] = b"\xef\xbb\xbf" + json.dumps(config).encode()
    wanted = wanted_servers(files, "app.js", {})
    assert wanted.mysql is not None and wanted.mysql.accounts == {"root": "123456"}
    assert "shop.abc.eu-west-1.rds.amazonaws.com" in wanted.mysql.hosts


def test_a_mysql_port_of_generic_names_is_taken_where_no_other_sql_driver_is() -> None:
    """mahmoud0alabsi's Authentication-system-FastAPI: mysql-connector, its .env's
    ``DB_HOST=localhost``, ``DB_PORT=3307``: no relay listened there ("Can't connect to
    MySQL server on 'localhost:3307'"). Generic names' port is MySQL's where the app has
    no other SQL server's driver; with psycopg2 beside it, it may be PostgreSQL's."""
    files = {
        "requirements.txt": b"fastapi\nmysql-connector-python\nsqlalchemy\n",
        "app/database.py": b"from sqlalchemy import create_engine\nimport mysql.connector\n"
        b"engine = create_engine(f'mysql+mysqlconnector://{U}:{P}@{H}:{PORT}/{N}')\n",
    }
    given = {"DB_HOST": "localhost", "DB_PORT": "3307", "DB_USER": "root", "DB_NAME": "auth"}
    wanted = wanted_servers(files, "app/main.py", given)
    assert wanted.mysql is not None and 3307 in wanted.mysql.ports
    files["requirements.txt"] += b"psycopg2-binary\n"
    wanted = wanted_servers(files, "app/main.py", given)
    assert wanted.mysql is not None and 3307 not in wanted.mysql.ports


def test_a_typeorm_ormconfig_json_names_its_server_at_its_top() -> None:
    """begalhalus' Typescript-with-Fastify: TypeORM's ormconfig.json is the settings object
    itself (``"type": "postgres", "host": "host"``), read only below its top: its migration
    met "getaddrinfo EAI_AGAIN host". Its host is the preview's server's name; of MySQL's,
    the database is its ``"database"``, not the connection's ``"name"``."""
    config = {
        "name": "default",
        "type": "postgres",
        "host": "host",
        "port": 5432,
        "username": "username",
        "password": "password",
        "database": "database",
        "entities": ["src/entity/**/*.{js,ts}"],
    }
    package = {"dependencies": {"pg": "^8", "typeorm": "^0.2"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "ormconfig.json": json.dumps(config).encode(),
        "src/index.ts": b"import { createConnection } from 'typeorm'\ncreateConnection()\n",
    }
    assert "host" in postgres_wants(files, {}).aliases
    del config["name"]  # (written after its database here)
    config |= {"type": "mysql", "host": "shop-db", "name": "default"}
    package["dependencies"] = {"mysql": "^2", "typeorm": "^0.2"}
    files["package.json"] = json.dumps(package).encode()
    files["ormconfig.json"] = json.dumps(config).encode()
    wanted = wanted_servers(files, "src/index.ts", {})
    assert wanted.mysql is not None and wanted.mysql.databases == ["database"]
    assert "shop-db" in wanted.mysql.hosts


def test_a_node_modules_literal_settings_name_the_mysql_database_it_opens() -> None:
    """xmkabel's express-expenses: ``mysql.createConnection({ host: "localhost", user:
    "root", password: "", database: "expenses_db" })`` in connection.js; its MariaDB had
    no such database, and each query met "Cannot enqueue Query after fatal error". Values
    read from the environment say nothing (the variables' meaning gives those)."""
    connection = (
        b"const mysql = require('mysql')\n"
        b'const keys = {\n    host: "localhost",\n    user: "root",\n    password: "",\n'
        b'    database: "expenses_db"\n}\n'
        b"const connection = mysql.createConnection(keys)\n"
        b"const other = { host: process.env.DB_HOST, user: 'u', database: process.env.DB }\n"
    )
    package = b'{"dependencies": {"express": "^5", "mysql": "^2"}}'
    files = {"package.json": package, "connection.js": connection}
    wanted = wanted_servers(files, "package.json", {})
    assert wanted.mysql is not None
    assert wanted.mysql.databases == ["expenses_db"], wanted.mysql.databases
    assert wanted.mysql.accounts == {"root": ""}


def test_a_node_driver_setting_given_a_constant_of_the_module_names_its_database() -> None:
    """ilhammrg's simple-expressjs-mysql: ``const database_name = "data_test"`` then
    ``mysql.createConnection({ host: "localhost", user: "root", password: "", database:
    database_name })``; its MariaDB had no such database ("ER_BAD_DB_ERROR"). A name the
    module binds to a string is that string; one it does not bind says nothing."""
    server = (
        b"const mysql = require('mysql');\nconst database_name = \"data_test\";\n"
        b'const db = mysql.createConnection({\n  host: "localhost",\n  user: "root",\n'
        b'  password: "",\n  database: database_name\n});\n'
    )
    package = b'{"dependencies": {"express": "^4", "mysql": "^2"}}'
    wanted = wanted_servers({"package.json": package, "server.js": server}, "package.json", {})
    assert wanted.mysql is not None and wanted.mysql.databases == ["data_test"]
    unbound = server.replace(b'const database_name = "data_test";', b"")
    wanted = wanted_servers({"package.json": package, "server.js": unbound}, "package.json", {})
    assert wanted.mysql is not None and wanted.mysql.databases != ["data_test"]


def test_a_database_named_in_a_json_settings_file_without_its_engine() -> None:
    """samimzafar's boilerplate: convict reads config/environments/development.json
    (``"db": {"name": "sequelize_DB", …}``), and the Sequelize options beside it say
    ``dialect: "mysql"`` with every value read through convict. Its MariaDB was given,
    but not that database ("Unknown database 'sequelize_DB'")."""
    development = {"port": 4000, "db": {"username": "root", "password": None, "name": "shop_DB"}}
    development["db"]["host"] = "127.0.0.1"
    files = {
        "package.json": PACKAGE,
        "config/environments/development.json": json.dumps(development).encode(),
        "config/cli.js": b'module.exports = { dialect: "mysql", database: config.get("db.name") }',
        # Another engine's settings say nothing of MySQL's.
        "config/other.json": json.dumps(
            {"host": "pg", "user": "u", "database": "elsewhere", "dialect": "postgres"}
        ).encode(),
    }
    wanted = wanted_servers(files, "app.js", {})
    assert wanted.mysql is not None
    assert wanted.mysql.databases == ["shop_DB"]
    assert wanted.mysql.accounts == {"root": ""}
    # Alone (no driver and no other setting naming MySQL), it wants no server.
    del files["config/cli.js"]
    assert wanted_servers(files, "app.js", {}).mysql is None


def test_a_python_dict_or_call_of_literal_settings_names_the_mysql_it_opens() -> None:
    """techfryday's flask-mysql-rest-crud-v1: ``dbconfig = {"host": "localhost",
    "username": "root", "password": "", "database": "test"}`` in configs/config.py, read
    by ``mysql.connector.connect(host=dbconfig['host'], …)``: its MariaDB was given, but
    not that database ("Unknown database 'test'"). A driver's call of literal keywords
    says the same; values read from the environment, or a test's settings, say nothing."""
    requirements = b"flask\nmysql-connector-python\n"
    config = (
        b'dbconfig = {\n    "host":"localhost",\n    "port":"3306",\n'
        b'    "username":"root",\n    "password":"",\n    "database":"test"\n}'
    )
    model = (
        b"import mysql.connector\nfrom configs.config import dbconfig\n"
        b"con = mysql.connector.connect(host=dbconfig['host'], user=dbconfig['username'])\n"
    )
    files = {"requirements.txt": requirements, "configs/config.py": config, "models/m.py": model}
    wanted = wanted_servers(files, "app.py", {})
    assert wanted.mysql is not None
    assert "the MySQL settings of configs/config.py" not in wanted.mysql.why  # no engine named
    assert wanted.mysql.databases == ["test"] and wanted.mysql.accounts == {"root": ""}

    # An environment per key: the development one, as in a JSON settings file.
    per_environment = (
        b'DATABASES = {"production": {"host": "db", "user": "prod", "database": "live"},\n'
        b'             "development": {"host": "localhost", "user": "dev", "db": "shop"}}\n'
    )
    files["configs/config.py"] = per_environment
    wanted = wanted_servers(files, "app.py", {})
    assert wanted.mysql is not None and wanted.mysql.databases == ["shop"]

    # A driver's own call of literal keywords.
    files["configs/config.py"] = b""
    files["models/m.py"] = (
        b"import pymysql\n"
        b"con = pymysql.connect(host='localhost', user='app', passwd='pw', db='store')\n"
    )
    wanted = wanted_servers(files, "app.py", {})
    assert wanted.mysql is not None
    assert wanted.mysql.databases == ["store"] and wanted.mysql.accounts == {"app": "pw"}

    # Read from the environment: nothing literal to take. In a test: not the app's.
    files["models/m.py"] = (
        b"import os, pymysql\n"
        b"con = pymysql.connect(host=os.getenv('H'), user=os.getenv('U'), db=os.getenv('D'))\n"
    )
    files["tests/test_db.py"] = b'CONFIG = {"host": "localhost", "user": "t", "database": "t1"}\n'
    wanted = wanted_servers(files, "app.py", {})
    assert wanted.mysql is None or "t1" not in wanted.mysql.databases


def test_djangos_mysql_engine_in_its_settings_brings_its_driver() -> None:
    """garrettpyke's drf-blog: ``'ENGINE': 'django.db.backends.mysql'`` with its account
    and database written beside it, and only django in its Pipfile (the build adds the
    driver Django asks for): its migrate found no server. A test's settings say nothing."""
    settings = (
        b"DATABASES = {\n    'default': {\n        'ENGINE': 'django.db.backends.mysql',\n"
        b"        'NAME': 'blog2',\n        'USER': 'root',\n        'PASSWORD': 'qs-mysql',\n"
        b"        'HOST': '127.0.0.1',\n        'PORT': '3306',\n    }\n}\n"
    )
    files = {
        "Pipfile": b'[packages]\ndjango = "*"\n',
        "manage.py": b"",
        "blog/settings.py": settings,
    }
    mysql = wanted_servers(files, "manage.py", {}).mysql
    assert mysql is not None
    assert mysql.databases == ["blog2"] and mysql.accounts == {"root": "qs-mysql"}
    assert wanted_servers({**files, "blog/settings.py": b""}, "manage.py", {}).mysql is None
    moved = {"Pipfile": files["Pipfile"], "manage.py": b"", "tests/settings.py": settings}
    assert wanted_servers(moved, "manage.py", {}).mysql is None


def test_a_mysql_url_written_in_python_code_brings_its_driver() -> None:
    """sanapalasaipraveen's fastapi-cart: ``create_engine("mysql+pymysql://root@localhost:
    3306/cartdb")`` in main.py, only fastapi and uvicorn in its requirements (the build
    adds the driver the dialect names): its create_all found no server (errno 111). The
    same URL commented out, or in a test, says nothing."""
    main = (
        b"from sqlalchemy import create_engine\n"
        b'DATABASE_URL = "mysql+pymysql://root@localhost:3306/cartdb"\n'
        b"engine = create_engine(DATABASE_URL)\n"
    )
    files = {"requirements.txt": b"fastapi\nuvicorn\n", "main.py": main}
    mysql = wanted_servers(files, "main.py", {}).mysql
    assert mysql is not None
    assert mysql.databases == ["cartdb"] and "root" in mysql.accounts
    commented = main.replace(b"DATABASE_URL = ", b"# DATABASE_URL = ")
    assert wanted_servers({**files, "main.py": commented}, "main.py", {}).mysql is None
    moved = {
        "requirements.txt": files["requirements.txt"],
        "main.py": b"",
        "tests/test_db.py": main,
    }
    assert wanted_servers(moved, "main.py", {}).mysql is None


def test_a_mysql_url_in_an_ini_file_the_app_reads_wants_mariadb() -> None:
    """fdjrr's belajar-fastapi reads its engine's URL from alembic.ini by configparser
    (``sqlalchemy.url = mysql+pymysql://fadjrir:fadjrir@localhost:3306/deltamas``), pymysql
    listed: no MariaDB was given ("Can't connect to MySQL server on 'localhost'"). It is
    wanted, with that account and database."""
    ini = b"[alembic]\nscript_location = alembic\nsqlalchemy.url = mysql+pymysql://fadjrir:fadjrir@localhost:3306/deltamas\n"
    files = {"requirements.txt": b"fastapi\npymysql\n", "alembic.ini": ini, "main.py": b""}
    mysql = wanted_servers(files, "main.py", {}).mysql
    assert mysql is not None and mysql.databases == ["deltamas"]
    assert mysql.accounts == {"fadjrir": "fadjrir"}


def test_a_mysql_url_its_code_builds_from_its_settings_wants_mariadb() -> None:
    """miffi-oxo's movie-review API: asyncmy and PyMySQL listed, its URL built in a
    settings property (``f"mysql+asyncmy://{self.tmp_db}"`` of DB_USER, DB_HOST … from its
    .env): no MariaDB was given, and asyncmy found none at localhost:3306. A driver listed
    and a MySQL URL its code builds want one, with the account and database its .env
    names; not such a URL in a test, nor without a MySQL driver listed."""
    setting = (
        b"class Settings(BaseSettings):\n    db_user: str = Field(..., alias='DB_USER')\n"
        b"    @property\n    def db_url(self) -> str:\n"
        b'        return f"mysql+asyncmy://{self.db_user}:{self.db_password}@{self.db_host}/{self.db_name}"\n'
    )
    files = {"requirements.txt": b"fastapi\nasyncmy\n", "app/core/setting.py": setting}
    env = {"DB_USER": "root", "DB_PASSWORD": "9088", "DB_HOST": "localhost", "DB_NAME": "cw"}
    mysql = wanted_servers(files, "main.py", env).mysql
    assert mysql is not None and mysql.accounts == {"root": "9088"} and mysql.databases == ["cw"]
    assert any("app/core/setting.py builds" in why for why in mysql.why)
    tested = {"requirements.txt": files["requirements.txt"], "tests/test_setting.py": setting}
    assert wanted_servers(tested, "main.py", env).mysql is None
    assert wanted_servers({**files, "requirements.txt": b"fastapi\n"}, "main.py", env).mysql is None


def test_a_mysql_driver_imported_and_unlisted_opening_its_database_wants_mariadb() -> None:
    """Ulises-glitch's sistema-tickets-flask lists Flask alone and opens
    ``mysql.connector.connect(host="localhost", user="root", password="admin",
    database="s_tickets")`` at import: the driver installed for its import, no MariaDB was
    given ("Can't connect to MySQL server on 'localhost:3306'"). PostgreSQL's driver listed
    beside it leaves the choice to the rest."""
    app = (
        b"from flask import Flask\nimport  mysql.connector\n"
        b'conexion = mysql.connector.connect(host="localhost", user="root", '
        b'password="admin", database="s_tickets")\n'
    )
    files = {"requirements.txt": b"Flask==3.1.3\n", "app.py": app}
    mysql = wanted_servers(files, "app.py", {}).mysql
    assert mysql is not None and mysql.databases == ["s_tickets"]
    assert mysql.accounts == {"root": "admin"}
    postgres = {**files, "requirements.txt": b"Flask==3.1.3\npsycopg2-binary\n"}
    assert wanted_servers(postgres, "app.py", {}).mysql is None


def test_sequelizes_positional_database_user_and_password_are_read() -> None:
    """bossbossk20's learn-koa-sequelize: ``new Sequelize('test_seq', 'root', null,
    {dialect: 'mysql', host: '127.0.0.1', port: 4444})``: its MariaDB had no ``test_seq``
    ("Unknown database"). A variable read that is not given says nothing."""
    db = (
        b"const Sequelize = require('sequelize')\n"
        b"export const db = new Sequelize('test_seq', 'root', null, {\n"
        b"  dialect: 'mysql',\n  host: '127.0.0.1',\n  port: 4444,\n})\n"
    )
    files = {"package.json": PACKAGE, "db.js": db, "server.js": b"require('./db')\n"}
    mysql = wanted_servers(files, "server.js", {}).mysql
    assert mysql is not None
    assert mysql.databases == ["test_seq"] and mysql.accounts == {"root": ""}
    assert 4444 in mysql.ports
    read = db.replace(b"'test_seq', 'root', null", b"process.env.DB, 'app', 'pw'")
    mysql = wanted_servers({**files, "db.js": read}, "server.js", {}).mysql
    assert mysql is not None
    assert "test_seq" not in mysql.databases and mysql.accounts == {"app": "pw"}


def test_sequelizes_positional_arguments_are_read_past_their_comments() -> None:
    """JhersonRojas's sequelize-apirest-simple: ``new Sequelize("orbil_orm" /* its name */,
    "root" /* user */, "" /* password */, {dialect: "mysql"})``: the comments hid the
    literal database, which its MariaDB did not have ("Unknown database 'orbil_orm'")."""
    db = (
        b"export const sequelize = new Sequelize(\n"
        b'  "orbil_orm" /* the database\'s name */,\n'
        b'  "root" // its user\n  ,\n'
        b'  "" /* its password */,\n'
        b'  { host: process.env.DB_HOST, dialect: "mysql" }\n)\n'
    )
    files = {"package.json": PACKAGE, "db.js": db, "server.js": b"require('./db')\n"}
    mysql = wanted_servers(files, "server.js", {}).mysql
    assert mysql is not None
    assert mysql.databases == ["orbil_orm"] and mysql.accounts == {"root": ""}


def test_sequelizes_arguments_read_from_an_object_of_the_module_are_read() -> None:
    """tundreanatanael's server-express-schedule-app: ``new Sequelize(db.NAME,
    db.USERNAME, db.PASSWORD, db.options)`` of ``const db = { NAME: "schedule_app", …,
    options: { dialect: "mysql", …, logging: function (str) { … } } }``: its MariaDB had
    no ``schedule_app`` ("Unknown database" at every route)."""
    db = (
        b'import { Sequelize } from "sequelize";\n'
        b'const db = {\n  NAME: "schedule_app",\n  USERNAME: "root",\n  PASSWORD: "",\n'
        b'  options: {\n    dialect: "mysql",\n    host: "localhost",\n    port: 3306,\n'
        b"    logging: function (str) {\n      console.log(str);\n    },\n  },\n};\n"
        b"export const sequelize = new Sequelize(\n  db.NAME,\n  db.USERNAME,\n"
        b"  db.PASSWORD,\n  db.options\n);\n"
    )
    files = {"package.json": PACKAGE, "db/db.js": db, "index.js": b"import './db/db.js'\n"}
    mysql = wanted_servers(files, "index.js", {}).mysql
    assert mysql is not None
    assert mysql.databases == ["schedule_app"] and mysql.accounts == {"root": ""}, mysql


def test_sequelizes_arguments_read_from_constants_of_the_module_are_read() -> None:
    """jguigo's estudos-express: ``const DB_NAME = 'loja'`` … ``new Sequelize(DB_NAME,
    DB_USER, DB_PASS, DB_CONFIG)``, ``DB_CONFIG = { dialect: 'mysql', … }``: its MariaDB
    had no ``loja`` ("Unknown database 'loja'" at start)."""
    db = (
        b"const Sequelize = require('sequelize');\n"
        b"const DB_NAME = 'loja'; //node do database\nconst DB_USER = 'root';\n"
        b"const DB_PASS = 'root';\n"
        b"const DB_CONFIG = {\n    dialect: 'mysql',\n    host: 'localhost',\n    port: 3306\n}\n"
        b"let db = {};\ntry {\n    db = new Sequelize(DB_NAME, DB_USER, DB_PASS, DB_CONFIG);\n"
        b"} catch (error) {}\nmodule.exports = db;\n"
    )
    files = {"package.json": PACKAGE, "src/database/index.js": db, "src/server.js": b""}
    mysql = wanted_servers(files, "src/server.js", {}).mysql
    assert mysql is not None
    assert mysql.databases == ["loja"] and mysql.accounts == {"root": "root"}, mysql


def test_the_database_a_node_mysql_clients_options_name_is_made() -> None:
    """yat-to's myFastify registers @fastify/mysql with its variables' host and user and
    ``database: 'penjualan'`` written in: its MariaDB had the preview's database alone,
    "Unknown database 'penjualan'" at start. The database its options name is made (and
    is the one its variables name, where nothing else names one)."""
    package = {"dependencies": {"fastify": "^5", "@fastify/mysql": "^5"}}
    db = (
        b"const mysql = require('@fastify/mysql');\n"
        b"module.exports = fp(async fastify => { fastify.register(mysql, {\n"
        b"  promise: true, host: process.env.HOST_DB_MYSQL, user: process.env.USER_DB_MYSQL,\n"
        b"  database: 'penjualan', port: 3306 }) });\n"
    )
    files = {"server/package.json": json.dumps(package).encode(), "server/plugins/db.js": db}
    files = {p.removeprefix("server/"): t for p, t in files.items()}
    wanted = wanted_servers(files, "package.json", {})
    assert wanted.mysql is not None and wanted.mysql.databases == ["penjualan"], wanted.mysql


def test_a_node_app_opening_its_mysql_with_the_driver_itself_wants_one() -> None:
    """shazzad-hosen's express-mysql-auth-api: ``mysql.createPool({ host: ENV.DB_HOST,
    … })`` in src/config/db.js, every DB_* of its example empty, no compose file: its
    only SQL driver was no sign alone, and no MariaDB was given it (ECONNREFUSED
    127.0.0.1:3306)."""
    package = {"type": "module", "dependencies": {"express": "^5", "mysql2": "^3"}}
    files = {
        "package.json": json.dumps(package).encode(),
        ".env.example": b"DB_HOST=\nDB_USER=\nDB_PASSWORD=\nDB_NAME=\n",
        "src/config/db.js": b'import mysql from "mysql2/promise";\n'
        b"const pool = mysql.createPool({ host: ENV.DB_HOST, user: ENV.DB_USER });\n",
    }
    wanted = wanted_servers(files, "src/server.js", {})
    assert wanted.mysql is not None
    assert "src/config/db.js connects with its MySQL driver" in wanted.mysql.why
    # A test's connection is not the app's; another SQL driver beside it leaves it open.
    code = files.pop("src/config/db.js")
    tested = {**files, "tests/db.test.js": code}
    assert wanted_servers(tested, "src/server.js", {}).mysql is None
    # promise-mysql (mysql beneath: UskoKruM's restapi-nodejs-express-mysql) likewise.
    wrapped = {"dependencies": {"express": "^4", "promise-mysql": "^5"}}
    opens = b'import mysql from "promise-mysql";\nconst c = mysql.createConnection({});\n'
    given = {"package.json": json.dumps(wrapped).encode(), "src/database/database.js": opens}
    assert wanted_servers(given, "src/index.js", {}).mysql is not None
    # Its function imported by name (LouisHyt's Express-session-Typescript: ``import {
    # createPool } from 'mysql2/promise'``): no MariaDB was given it, DB_PORT NaN.
    named = b"import { createPool } from 'mysql2/promise'\nexport const db = createPool({})\n"
    imported = {**files, "src/utils/db.ts": named}
    found = wanted_servers(imported, "src/server.js", {}).mysql
    assert found is not None and "src/utils/db.ts connects with its MySQL driver" in found.why
    package["dependencies"]["pg"] = "^8"
    files["package.json"] = json.dumps(package).encode()
    files["src/config/db.js"] = code
    assert wanted_servers(files, "src/server.js", {}).mysql is None


def test_typeorms_connection_with_no_options_on_mysqls_driver_wants_a_mysql() -> None:
    """xeusteerapat's node-typeorm-crud: ``createConnection()`` with no options, its
    ormconfig.json git-ignored (its README's holds ``"type": "mysql"``), mysql2 its one
    SQL driver: no MariaDB was given, so TypeORM's own variables named none ("No
    connection options were found in any orm configuration files")."""
    package = {"dependencies": {"express": "^4", "mysql2": "^3", "typeorm": "^0.3.14"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "src/index.ts": b"import { createConnection } from 'typeorm';\ncreateConnection();\n",
        "src/entity/User.ts": b"@Entity()\nexport class User {}\n",
    }
    wanted = wanted_servers(files, "package.json", {})
    assert wanted.mysql is not None
    assert any("createConnection() with no options" in why for why in wanted.mysql.why)
    # Its options given (TYPEORM_CONNECTION set: its own sign; or in the call), or pg its
    # driver: not this one.
    given = wanted_servers(files, "package.json", {"TYPEORM_CONNECTION": "mysql"}).mysql
    assert given is not None and not any("createConnection()" in why for why in given.why)
    called = {**files, "src/index.ts": b"createConnection(options);\n"}
    assert wanted_servers(called, "package.json", {}).mysql is None
    package["dependencies"] = {"pg": "^8", "typeorm": "^0.3.14"}
    postgres = {**files, "package.json": json.dumps(package).encode()}
    assert wanted_servers(postgres, "package.json", {}).mysql is None


def test_a_utf16_requirements_file_says_its_database_and_redis_clients() -> None:
    """Arif-M-Patel's ToDO-fastapi-alembic-postgresql (and ILugaro's
    fastapi-postgresql-alembic-docker): a Windows ``pip freeze`` wrote requirements.txt in
    UTF-16, which uv reads by its byte-order mark, but the service's readers took as UTF-8
    (a NUL between letters): psycopg2-binary was not seen, no PostgreSQL was given, and
    its hard-coded ``postgresql://postgres:Arif@localhost/todo_db`` was refused."""
    files = {
        "requirements.txt": _utf16("fastapi==0.109.2\npsycopg2-binary==2.9.9\nredis==5.0.1\n"),
        "database.py": b'URL = "postgresql://postgres:Arif@localhost/todo_db"\n',
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
    }
    assert (postgres_wants(files, {}).driver or "").startswith("psycopg2-binary")
    assert wanted_servers(files, "main.py", {}).redis is not None


def test_an_apps_sql_schema_is_run_where_nothing_else_makes_it() -> None:
    """cgund98's fastapi-postgres-template keeps its schema as golang-migrate's SQL
    migrations (resources/db/migrations/000001_initial_schema.up.sql), run by a migrate
    image; johschmidt42's fastapi-postgresql as db/schema.sql (its README: "Create the
    (empty) tables by executing the SQL statements in db/schema.sql") beside db/data.sql's
    rows. Neither was run: "relation users does not exist" on every route. Now the
    ``.up.sql`` files, in their versions' order, or the one file that creates tables, are
    the preview's PostgreSQL's init scripts."""
    files = _bytes("fastapi_sql_migrations")
    wants = postgres_wants(files, {})
    assert [path for path, _ in wants.init_scripts] == [
        "resources/db/migrations/000001_initial_schema.up.sql",
        "resources/db/migrations/000002_invoices.up.sql",
    ]
    assert wants.lone_schema
    schema = b"CREATE TABLE companies (id UUID PRIMARY KEY);\n"
    rows = b"INSERT INTO companies (id) VALUES (gen_random_uuid());\n"
    plain = {"pyproject.toml": files["pyproject.toml"], "app/main.py": files["app/main.py"]}
    two = {**plain, "db/schema.sql": schema, "db/data.sql": rows}
    assert [path for path, _ in postgres_wants(two, {}).init_scripts] == ["db/schema.sql"]
    # Another tool's migrations make the schema: none is run.
    alembic = {**files, "alembic.ini": b"[alembic]\nscript_location = alembic\n"}
    assert postgres_wants(alembic, {}).init_scripts == ()


def test_sql_migrations_a_listed_migrator_runs_at_start_are_no_schema_to_run() -> None:
    """valar-videos' koa-pg: postgres-migrations runs migrations/00001_create-list-table.sql
    at the app's start. Run first as its one schema file, the migration then met its
    table ("relation "todo_list" already exists") and rolled back, the start ended."""
    files = {
        "package.json": b'{"dependencies": {"koa": "^2.6.2", "pg": "^7.8.0", '
        b'"postgres-migrations": "^3.0.2"}}',
        "src/index.js": b"require('./database').start()\n",
        "migrations/00001_create-list-table.sql": b"CREATE TABLE todo_list (id SERIAL);\n",
    }
    assert postgres_wants(files, {}).init_scripts == ()
    package = b'{"dependencies": {"koa": "^2.6.2", "pg": "^7.8.0"}}'
    alone = postgres_wants({**files, "package.json": package}, {})
    assert [path for path, _ in alone.init_scripts] == ["migrations/00001_create-list-table.sql"]


def test_the_sql_files_a_shell_init_script_runs_are_init_scripts() -> None:
    """gbatagian's fastapi-crud: its compose PostgreSQL mounts db/init.sh into
    /docker-entrypoint-initdb.d, which runs ``psql -f`` on the SQL files it mounts from
    db/schema_queries/ (its tables, then its rows); the service runs no shell script, so
    its Alembic revision (ALTER TABLE portfolios …) met no table. Those SQL files, in the
    script's order, are now the init scripts."""
    files = _bytes("fastapi_compose_shell_initdb")
    wants = postgres_wants(files, {})
    assert [path for path, _ in wants.init_scripts] == [
        "db/schema_queries/create_schema.sql",
        "db/schema_queries/insert.sql",
    ]


def test_a_hosted_postgresql_its_settings_name_is_the_previews_own() -> None:
    """256Taras' fastify-typeorm-starter-kit gives its compose service the env file
    configs/.env.docker, whose TYPEORM_HOST is a hosted PostgreSQL
    (isilo.db.elephantsql.com): its migrations failed on EAI_AGAIN, the name unknown in
    the sandbox; the preview's own server answers for it (its /etc/hosts)."""
    compose = b"""services:
  db:
    image: postgres:14.1-alpine
  backend:
    build: .
    env_file: ['./configs/.env.docker']
"""
    files = {
        "package.json": json.dumps({"dependencies": {"pg": "^8", "typeorm": "^0.3"}}).encode(),
        "docker-compose.yml": compose,
        "configs/.env.docker": b"TYPEORM_HOST=isilo.db.elephantsql.com\nTYPEORM_PORT=5433\n",
        "src/db.js": b"const url = 'postgres://u:p@ep-cool-1.eu.aws.neon.tech/app'\n"
        b"const other = 'postgres://u:p@10.0.0.7:5432/app'\n",
    }
    wants = postgres_wants(files, {})
    assert "isilo.db.elephantsql.com" in wants.aliases
    assert "ep-cool-1.eu.aws.neon.tech" in wants.aliases
    assert 5433 in wants.ports
    assert "10.0.0.7" not in wants.aliases  # an address: no name to answer for
    assert "db" in wants.aliases


def test_a_hosted_postgresql_its_sequelize_config_json_names_is_the_previews_own() -> None:
    """Atitzz's Blog-Express-pg-sequelize: sequelize-cli's config/config.json names a hosted
    server (its development object, the one a preview runs as), which models/index.js
    connects to; unknown in the sandbox, every page's query waited on it and the preview
    never answered HTTP. The preview's own server answers for that name and port; another
    environment's host, and another engine's, are not taken."""
    config = {
        "development": {
            "username": "u1",
            "password": "p1",
            "database": "blog",
            "host": "floppy.db.example-sql.com",
            "port": 5433,
            "dialect": "postgres",
        },
        "production": {"username": "u", "database": "d", "host": "prod.example.com"},
    }
    files = {
        "package.json": json.dumps({"dependencies": {"pg": "^8", "sequelize": "^6"}}).encode(),
        "app/config/config.json": json.dumps(config).encode(),
        "app/models/index.js": b"const config = require('../config/config.json')[env];\n",
    }
    wants = postgres_wants(files, {})
    assert "floppy.db.example-sql.com" in wants.aliases
    assert 5433 in wants.ports
    assert "prod.example.com" not in wants.aliases
    config["development"]["dialect"] = "mysql"
    mysql = {**files, "app/config/config.json": json.dumps(config).encode()}
    assert "floppy.db.example-sql.com" not in postgres_wants(mysql, {}).aliases
    # A config module's object of literals, its keys in capitals (nfadhil13's
    # expressjs-JWT-multer: util/dbconfig.js exports HOST, USER, PASSWORD, DB, dialect).
    module = (
        b'module.exports = {\n  HOST: "ec2-34-1-2-3.compute-1.example.com",\n  USER: "u",\n'
        b'  PASSWORD: "p",\n  DB: "d1",\n  dialect: "postgres",\n  port: 5432,\n};\n'
    )
    capitals = {"package.json": files["package.json"], "util/dbconfig.js": module}
    assert "ec2-34-1-2-3.compute-1.example.com" in postgres_wants(capitals, {}).aliases


def test_dbmate_migrations_run_their_up_part_only() -> None:
    """marcoturi's fastify-boilerplate keeps its schema as dbmate migrations
    (db/migrations/*.sql: ``-- migrate:up`` CREATE TABLE …, ``-- migrate:down`` DROP
    TABLE …), run by a dbmate binary it does not ship; the file, run whole as its one
    schema, dropped the table it made ("relation users does not exist" at every call)."""
    up = b'-- migrate:up\nCREATE TABLE "users" ("id" uuid NOT NULL);\n\n'
    files = {
        "package.json": json.dumps({"dependencies": {"postgres": "^3"}}).encode(),
        "db/migrations/20240415225644_create_users_table.sql": up
        + b'-- migrate:down\nDROP TABLE "users"\n',
        "db/migrations/20240501000000_add_index.sql": b"-- migrate:up\nCREATE INDEX i ON u (id);",
        "db/seeds/20240415231037_users.seed.sql": b"-- migrate:up\nINSERT INTO users VALUES (1);\n",
    }
    wants = postgres_wants(files, {})
    assert wants.lone_schema
    assert [path for path, _ in wants.init_scripts] == [
        "db/migrations/20240415225644_create_users_table.sql",
        "db/migrations/20240501000000_add_index.sql",
    ]
    first = wants.init_scripts[0][1]
    assert "CREATE TABLE" in first and "DROP TABLE" not in first


def test_the_database_a_mysql_drivers_own_connect_call_names_is_made() -> None:
    """lanzath's express-mysql-api: ``mysql.createConnection({ host: 'localhost', port:
    3306, user: 'root', password: '', database: 'nodejs' })``, no engine named beside
    them: its MariaDB was given, but not that database ("Unknown database 'nodejs'")."""
    files = {p: t.encode() for p, t in app_files("node_mysql_driver_settings").items()}
    wanted = wanted_servers(files, "src/server.js", {})
    assert wanted.mysql is not None
    assert "the MySQL settings of src/database/connection.js" in wanted.mysql.why
    assert wanted.mysql.databases == ["nodejs"]
    assert wanted.mysql.accounts == {"root": ""}
    # Another module's createConnection (no MySQL driver imported) says nothing.
    other = files["src/database/connection.js"].replace(b'require("mysql")', b'require("pg")')
    files["src/database/connection.js"] = other
    assert wanted_servers(files, "src/server.js", {}).mysql is None


def test_the_database_its_development_env_file_names_is_made() -> None:
    """8696's koa-app loads ``.env.${FEATURE_ENV}`` (development, as its start says; its
    .env names no database) and reads ``DATABASE_DATABASE`` there: its MariaDB was given,
    but not that database ("Unknown database 'test-db'")."""
    files = {p: t.encode() for p, t in app_files("node_mysql_development_env").items()}
    given = {"ENV_FILE": ".env", "SERVER_PORT": "8091"}  # its .env's
    wanted = wanted_servers(files, "src/app.js", given)
    assert wanted.mysql is not None
    assert wanted.mysql.databases == ["test-db"]
    assert wanted.mysql.accounts == {"root": "qq123456"}
    # What its .env (or the user) gives stands above it.
    wanted = wanted_servers(files, "src/app.js", {**given, "DATABASE_DATABASE": "own"})
    assert wanted.mysql is not None and wanted.mysql.databases == ["own"]


def test_a_postgresqls_host_and_port_are_read_by_their_variables_meaning() -> None:
    """veressgergo88's kenn-crud backend reads ``PG_PORT = "5000"`` and ``PG_HOST`` from its
    .env (no name of a list: ``configvars.meaning``): no relay listened on 5000. Another
    engine's port (MYSQL_PORT) and a Redis's are not PostgreSQL's."""
    files = {
        "package.json": json.dumps({"dependencies": {"pg": "^8"}}).encode(),
        ".env": b'PG_HOST = "pgbox"\nPG_PORT = "5000"\nMYSQL_PORT=3307\nREDIS_PORT=6380\n',
        "src/db.ts": b"import pg from 'pg'\nconst db = new pg.Client({})\n",
    }
    wants = postgres_wants(files, {"DATABASE_PORT": "5433"})
    assert {5000, 5433} <= set(wants.ports) and not {3307, 6380} & set(wants.ports)
    assert "pgbox" in wants.aliases


def test_the_port_an_orms_postgres_options_give_in_code_is_served() -> None:
    # MeGaOne47's nest-crud-app: TypeOrmModule.forRoot({ type: 'postgres', host:
    # 'localhost', port: 5433, … }) in src/app.module.ts, its compose server on 5432.
    module = (
        b"TypeOrmModule.forRoot({\n  type: 'postgres',\n  host: 'localhost',\n"
        b"  port: 5433,\n  username: 'postgres',\n})\n"
    )
    files = {"package.json": b'{"dependencies": {"pg": "^8"}}', "src/app.module.ts": module}
    wants = postgres_wants(files, {})
    assert 5433 in wants.ports and wants.ports[0] == 5432
    # Another engine's options, or a test's: not the app's server.
    mysql = module.replace(b"'postgres',", b"'mysql',", 1)
    assert 5433 not in postgres_wants({**files, "src/app.module.ts": mysql}, {}).ports
    tests = {"package.json": files["package.json"], "test/app.e2e-spec.ts": module}
    assert 5433 not in postgres_wants(tests, {}).ports
    # Another object's port beside it (the app's own server's): not the database's.
    beside = b"const server = { port: 3000 };\n" + module
    assert 3000 not in postgres_wants({**files, "src/app.module.ts": beside}, {}).ports


def test_the_port_node_postgres_is_given_in_code_is_served() -> None:
    """tudor0's fastify-learning: ``new Client({ host: "localhost", port: 55000, … })``
    of pg (its docker run's published port): every query met ECONNREFUSED. pg's own
    Client's or Pool's options are read as an ORM's are; not where the module does not
    import pg (another library's Client)."""
    db = (
        b'import { Client } from "pg";\n\nconst client = new Client({\n'
        b'  host: "localhost",\n  port: 55000,\n  user: "postgres",\n});\n'
    )
    files = {"package.json": b'{"dependencies": {"pg": "^8"}}', "src/services/postgres.ts": db}
    assert 55000 in postgres_wants(files, {}).ports
    pool = db.replace(b"new Client(", b"new pg.Pool(").replace(b"{ Client }", b"pg")
    assert 55000 in postgres_wants({**files, "src/services/postgres.ts": pool}, {}).ports
    other = db.replace(b'from "pg"', b'from "ioredis"')
    assert 55000 not in postgres_wants({**files, "src/services/postgres.ts": other}, {}).ports


def test_the_host_a_python_module_gives_its_postgres_url_as_a_literal_is_served() -> None:
    """kameshrathore's fastapi-student-api builds its URL in database.py from config.py's
    ``db_params = {'host': 'enter', 'port': '5432', …}`` (a form left to fill in): "could
    not translate host name "enter"". The module building the URL (or opening it with
    its driver), or the one it imports from, names the host the preview answers for; a
    module that does neither names no server of PostgreSQL's."""
    config = b"db_params = {\n    'host': 'enter',\n    'port': '5433',\n}\n"
    database = (
        b"from config import db_params\n"
        b"URL = f\"postgresql://{db_params['user']}@{db_params['host']}:{db_params['port']}/x\"\n"
    )
    files = {"requirements.txt": b"psycopg2\n", "config.py": config, "database.py": database}
    wants = postgres_wants(files, {})
    assert "enter" in wants.aliases and 5433 in wants.ports
    connects = b"import psycopg2\nDB_HOST = 'pgbox'\nconn = psycopg2.connect(host=DB_HOST)\n"
    connects += b"uvicorn.run(app, port=8001)\n"  # the app's own server's port
    opened = {"requirements.txt": b"psycopg2\n", "db.py": connects}
    wants = postgres_wants(opened, {})
    assert "pgbox" in wants.aliases and 8001 not in wants.ports
    plain = {**files, "database.py": b"from config import db_params\nprint(db_params)\n"}
    wants = postgres_wants(plain, {})
    assert "enter" not in wants.aliases and 5433 not in wants.ports


def test_an_engine_variable_naming_another_engine_by_its_meaning_wants_no_postgresql() -> None:
    """wendeehsu's docker-fastapi lists asyncpg and aiomysql and picks by its .env's
    ``DB_VENDOR=mysql``: read by a list of engine names (DB_TYPE, DB_DIALECT …) it said
    nothing, PostgreSQL's relay took 3306, and aiomysql met "Lost connection to MySQL
    server". Any name meaning a database's engine says so; PostgreSQL's keeps it."""
    files = {
        "requirements.txt": b"fastapi\nasyncpg\naiomysql\n",
        "database.py": b"import asyncpg\n",
    }
    for name in ("DB_VENDOR", "DB_TYPE", "TYPE_ORM_CONNECTION", "DATABASE_BACKEND"):
        env = {name: "mysql", "DB_HOST": "db", "DB_PORT": "3306"}
        assert postgres_wants(files, env).driver is None, name
    assert postgres_wants(files, {"DB_VENDOR": "postgresql"}).driver is not None
    assert postgres_wants(files, {"APP_VENDOR": "mysql"}).driver is not None


def test_an_engine_made_with_sqlites_own_option_wants_no_postgresql() -> None:
    """konerds' fastapi-shop-api lists psycopg2-binary (for ENV=prod) but makes its engine
    otherwise with ``connect_args={"check_same_thread": False}`` from ``getenv("DB_URL",
    "sqlite:///")``: given the preview's PostgreSQL URL, psycopg2 refused it ("invalid
    connection option"). Its own SQLite is left it; an engine whose option a test of the
    URL's dialect guards, or a PostgreSQL URL its configuration gives, still want one."""
    session = (
        b'import os\nfrom sqlalchemy import create_engine\nURL = os.getenv("DB_URL", "sqlite:///")\n'
        b'if os.getenv("ENV") == "prod":\n    engine = create_engine(URL)\nelse:\n'
        b"    engine = create_engine(\n        URL,\n        connect_args={\n"
        b'            "check_same_thread": False\n        },\n    )\n'
    )
    files = {"requirements.txt": b"psycopg2-binary==2.9.9\n", "src/db/session.py": session}
    assert postgres_wants(files, {}).driver is None
    guarded = session.replace(b"else:", b'elif URL.startswith("sqlite"):')
    assert postgres_wants({**files, "src/db/session.py": guarded}, {}).driver is not None
    given = {"DB_URL": "postgresql://u:p@db/shop"}
    assert postgres_wants(files, given).driver is not None
    assert postgres_wants({**files, ".env": b"DB_URL=postgresql://u:p@db/shop\n"}, {}).driver
    # sajidreshmi's fastapi-crm: no SQLite URL in its code, its own SQLite file shipped.
    required = b"from sqlalchemy import create_engine\nfrom app.config import settings\n"
    required += b'engine = create_engine(settings.DATABASE_URL, connect_args={"check_same_thread": '
    required += b"False})\n"
    files = {"requirements.txt": b"psycopg2-binary\n", "app/database.py": required}
    assert postgres_wants(files, {}).driver is not None
    shipped = {**files, "sql_app.db": b"SQLite format 3\x00" + bytes(84)}
    assert postgres_wants(shipped, {}).driver is None
    # Shayan-9248's FastAPI-Wishlist: its SQLite URL and option commented out, its
    # PostgreSQL's URL the code: a comment is no code, a string's "#" stays.
    commented = (
        b"from sqlalchemy import create_engine\n"
        b'# URL = "sqlite:///./sql_app.db"\n'
        b'URL = "postgresql://postgres:postgres@pg_db:5432/postgres"  # "sqlite://" once\n'
        b'engine = create_engine(\n    URL,  # connect_args={"check_same_thread": False}\n)\n'
    )
    files = {"pyproject.toml": b'[tool.poetry.dependencies]\npsycopg2 = "^2.9.3"\n'}
    assert postgres_wants({**files, "database.py": commented}, {}).driver is not None
    live = commented.replace(b"URL,  # connect_args=", b"URL, connect_args=")
    live = live.replace(b'# URL = "sqlite', b'OLD_URL = "sqlite')
    assert postgres_wants({**files, "database.py": live}, {}).driver is None
    # cyprianfusi's todo-backend-fastapi: SQLite's engine where ENVIRONMENT=development,
    # else one of a PostgreSQL URL it builds (unset, the latter): it wants PostgreSQL.
    branches = (
        b"import os\nfrom sqlalchemy import create_engine\n"
        b"if os.environ.get('ENVIRONMENT') == 'development':\n"
        b'    URL = "sqlite:///./todo.db"\n'
        b'    engine = create_engine(URL, connect_args={"check_same_thread": False})\n'
        b"else:\n    user = os.environ.get('DATABASE_USER')\n"
        b'    URL = f"postgresql://{user}:{password}@{host}:{port}/{database}"\n'
        b"    engine = create_engine(URL)\n"
    )
    files = {"requirements.txt": b"psycopg2-binary\n", "database.py": branches}
    assert postgres_wants(files, {}).driver == "psycopg2-binary (requirements.txt)"


def test_an_orms_postgres_options_in_code_want_a_server_without_a_listed_driver() -> None:
    # Ziel-Global's express-typescript-postgresql-boilerplate: typeorm listed, pg only in
    # its lockfile; new DataSource({ type: 'postgres', host: 'localhost', port: 5432 }).
    source = (
        b"export const dataSource = new DataSource({\n\ttype: 'postgres',\n\tport: 5432,\n});\n"
    )
    package = b'{"dependencies": {"typeorm": "^0.3.20"}}'
    files = {"package.json": package, "src/config/database.ts": source}
    assert postgres_wants(files, {}).driver == (
        "typeorm's PostgreSQL options (src/config/database.ts)"
    )
    # No ORM listed nor imported, or its options another engine's: none wanted.
    assert postgres_wants({**files, "package.json": b"{}"}, {}).driver is None
    mysql = {**files, "src/config/database.ts": source.replace(b"postgres", b"mysql")}
    assert postgres_wants(mysql, {}).driver is None
    # An ORM its code imports, the package listing none (dkshi's nestjsHotel: the build
    # added @nestjs/typeorm and pg; given no server, ECONNREFUSED 127.0.0.1:5432).
    imported = {
        "package.json": b'{"dependencies": {"@nestjs/core": "^10"}}',
        "src/app.module.ts": b"import { TypeOrmModule } from '@nestjs/typeorm';\n"
        b"TypeOrmModule.forRoot({ type: 'postgres', host: 'localhost' })\n",
    }
    assert postgres_wants(imported, {}).driver == (
        "@nestjs/typeorm's PostgreSQL options (src/app.module.ts)"
    )


def test_every_sequelize_call_of_a_file_names_a_database_made() -> None:
    """cotcac's sequelize-express-boilerplate: models/index.js opens ``new
    Sequelize(process.env.MYSQL_DATABASE, …)`` where NODE_ENV is production, else ``new
    Sequelize('company1', 'root', '11111111', {…})``; the first, of variables not given,
    was read alone, and the app met "Unknown database 'company1'". Each call's database
    is made; the account is the first call's that names one."""
    index = (
        b"let sequelize;\nif (process.env.NODE_ENV === 'production') {\n"
        b"  sequelize = new Sequelize(process.env.MYSQL_DATABASE, process.env.MYSQL_USER,\n"
        b"    process.env.MYSQL_PASSWORD, { host: process.env.DATABASE_HOST, dialect: 'mysql' });\n"
        b"} else {\n  sequelize = new Sequelize('company1', 'root', '11111111', {\n"
        b"    host: 'localhost', dialect: 'mysql' });\n}\n"
    )
    files = {"package.json": PACKAGE, "models/index.js": index, "app.js": b"require('./models')"}
    mysql = wanted_servers(files, "app.js", {}).mysql
    assert mysql is not None
    assert mysql.databases == ["company1"] and mysql.accounts == {"root": "11111111"}
    # Two calls naming their own: both made, the first's account kept.
    both = index.replace(
        b"process.env.MYSQL_DATABASE, process.env.MYSQL_USER,\n    process.env.MYSQL_PASSWORD",
        b"'prod', 'admin', 'x'",
    )
    mysql = wanted_servers({**files, "models/index.js": both}, "app.js", {}).mysql
    assert mysql is not None
    assert mysql.databases == ["prod", "company1"] and mysql.accounts == {"admin": "x"}


def test_a_database_named_by_a_conditional_is_its_other_branchs() -> None:
    """skyoun97's nestjs-url-shrortener's ormconfig.js names its database
    ``process.env.NODE_ENV === 'test' ? 'nestjs_test_db' : 'nestjs_url_shortener'``: read as
    none, its MariaDB had only the default one and TypeORM met "Unknown database
    'nestjs_url_shortener'"."""
    ormconfig = (
        b"module.exports = {\n  type: 'mysql',\n  host: 'localhost',\n  port: 3306,\n"
        b"  username: 'root',\n  password: 'phaphaya',\n  database:\n"
        b"    process.env.NODE_ENV === 'test' ? 'nestjs_test_db' : 'nestjs_url_shortener',\n"
        b"  entities: ['dist/**/*.entity{.ts,.js}'],\n  synchronize: true,\n};\n"
    )
    package = b'{"dependencies": {"@nestjs/typeorm": "^8.0.0", "typeorm": "^0.2.0", "mysql": "^2"}}'
    files = {"package.json": package, "ormconfig.js": ormconfig, "src/main.ts": b"bootstrap()"}
    mysql = wanted_servers(files, "src/main.ts", {}).mysql
    assert mysql is not None
    assert mysql.databases == ["nestjs_url_shortener"] and mysql.accounts == {"root": "phaphaya"}


def test_migrations_naming_a_table_in_two_cases_have_it_compared_without_case() -> None:
    """techieph's sequelize-express-node-rest-API-mysql-example: ``createTable('Companies',
    …)``, then ``addColumn('companies', 'address', …)``, written where MySQL compares
    table names without their case (Windows, macOS): on Linux's MariaDB "Table
    'companies' doesn't exist", and its routes met "Unknown column 'address'". Its server
    compares them so; not where each table is named one way, nor for a model's name."""
    create = b"module.exports = { up: (q, S) => q.createTable('Companies', {}) };\n"
    add = b"module.exports = { up: (q, S) => q.addColumn('companies', 'address', {}) };\n"
    files = {
        "package.json": PACKAGE,
        "app.js": b"require('./models')\n",
        "config/config.json": b'{"development": {"dialect": "mysql", "database": "db",'
        b' "host": "127.0.0.1", "username": "root"}}',
        "migrations/20190611071101-create-company.js": create,
        "migrations/20190612064709-companyAddAddress.js": add,
    }
    mysql = wanted_servers(files, "app.js", {}).mysql
    assert mysql is not None and mysql.fold_case is not None and "companies" in mysql.fold_case
    argv = mariadb_argv("mariadbd", Path("/t"), Path("/s"), Path("/i"), fold_case=True)
    assert "--lower-case-table-names=1" in argv
    assert "--lower-case-table-names=1" not in mariadb_argv("m", Path("/t"), Path("/s"), Path("/i"))
    same = {**files, "migrations/20190612064709-companyAddAddress.js": add.replace(b"'c", b"'C")}
    assert table_name_cases(same) is None
    sql = {"db/schema.sql": b"CREATE TABLE Users (id int);\nINSERT INTO users VALUES (1);\n"}
    assert table_name_cases(sql) is not None
    assert table_name_cases({"models/user.js": add}) is None
    # A table its migration names by a constant (kinothUI's calendar-api-fastify: ``const
    # tableName = "account"``, ``createTable(tableName, …)``; another's ``references: {
    # model: "Account" }``: errno 150, "Foreign key constraint is incorrectly formed").
    account = b'const tableName = "account";\n'
    account += b"module.exports = { up: (q) => q.createTable(tableName, {}) };\n"
    team = b'module.exports = { up: (q) => q.createTable("account_team", { id: {'
    team += b' references: { model: "Account", key: "id" } } }) };\n'
    named = {"src/migrations/1-create-account.js": account, "src/migrations/2-team.js": team}
    assert table_name_cases(named) == "its migrations name the table account as Account too"
    lower = {**named, "src/migrations/2-team.js": team.replace(b'"Account"', b'"account"')}
    assert table_name_cases(lower) is None


def test_a_sequelize_models_table_in_another_case_than_its_migration_has_it_folded() -> None:
    """clevermacaw's express-marketplace-api: its migration ``createTable('provinces', …)``,
    its model ``modelName: 'Province'``, which Sequelize queries as ``Provinces``: "Table
    'marketplace_express.Provinces' doesn't exist" on Linux's MariaDB. Its server compares
    table names without their case; not where the model's table is the migration's."""
    create = b"module.exports = { up: (q, S) => q.createTable('provinces', {}) };\n"
    cities = b"module.exports = { up: (q, S) => q.createTable('Cities', {}) };\n"
    model = (
        b"const { Model } = require('sequelize');\n"
        b"module.exports = (sequelize, DataTypes) => { class Province extends Model {};\n"
        b"  Province.init({ name: DataTypes.STRING }, { sequelize, modelName: 'Province' });\n"
        b"  return Province; };\n"
    )
    city = b"module.exports = (sequelize, S) => sequelize.define('City', {});\n"
    files = {
        "database/migrations/1-create-provinces.js": create,
        "database/migrations/2-create-cities.js": cities,
        "models/Province.js": model,
        "models/City.js": city,
    }
    assert table_name_cases(files) == (
        "its migrations make the table provinces, its models query it as Provinces"
    )
    upper = {**files, "database/migrations/1-create-provinces.js": create.replace(b"'p", b"'P")}
    assert table_name_cases(upper) is None  # Provinces, Cities: each named one way
    own = {**files, "models/Province.js": model.replace(b"modelName", b"tableName: 'provinces', m")}
    assert table_name_cases(own) is None
    # A name kept as it is (``freezeTableName``) is the model's own: ``city``, not Cities.
    frozen = {
        **upper,
        "database/migrations/2-create-cities.js": cities.replace(b"'Cities'", b"'city'"),
        "models/index.js": b"new Sequelize(u, { define: { freezeTableName: true } })",
    }
    assert table_name_cases(frozen) == (
        "its migrations make the table city, its models query it as City"
    )


def test_a_database_name_a_config_module_gives_is_made() -> None:
    """jackgaoyuan's node-koa2-mysql: app/config/config.js's ``database: { dbName:
    'island', host: '127.0.0.1', … }``, read by app/core/db.js's ``new Sequelize(dbName,
    user, password, {dialect: 'mysql', host, port})``: "Unknown database 'island'". A
    config module's literal database name is made; not a test's, nor another module's."""
    config = b"module.exports = {\n  database: {\n    dbName: 'island',\n    port: 3306,\n  },\n}\n"
    db = (
        b"const { dbName, user, password } = require('../config/config').database\n"
        b"const sequelize = new Sequelize(dbName, user, password, { dialect: 'mysql' })\n"
    )
    files = {
        "package.json": PACKAGE,
        "app.js": b"require('./app/core/db')\n",
        "app/config/config.js": config,
        "app/core/db.js": db,
    }
    mysql = wanted_servers(files, "app.js", {}).mysql
    assert mysql is not None and "island" in mysql.databases
    moved = {k: v for k, v in files.items() if k != "app/config/config.js"}
    moved["tests/config.js"] = config
    mysql = wanted_servers(moved, "app.js", {}).mysql
    assert mysql is not None and "island" not in mysql.databases


def test_the_database_python_code_hands_its_mysql_driver_is_made() -> None:
    """aloe-there's users-flask-mysql, the Coding Dojo's shape: ``connectToMySQL(
    'users_schema')`` makes a ``MySQLConnection(db)``, whose ``__init__`` hands ``db`` to
    ``pymysql.connect``: "Unknown database 'users_schema'". harlequelrah's user-fastapi
    joins its URL of constants (``"mysql+mysqlconnector://"+username+…+"/"+database``):
    "Unknown database 'userapi'". Each is made; a name its tests give is not."""
    connection = (
        b"import pymysql.cursors\n\n\nclass MySQLConnection:\n"
        b"    def __init__(self, db):\n"
        b"        self.connection = pymysql.connect(host='localhost', user='root',\n"
        b"                                          password='root', db=db)\n\n\n"
        b"def connectToMySQL(db):\n    return MySQLConnection(db)\n"
    )
    server = (
        b"from flask import Flask\nfrom mysqlconnection import connectToMySQL\n"
        b"app = Flask(__name__)\n\n\n@app.route('/')\ndef index():\n"
        b"    return str(connectToMySQL('users_schema').query_db('SELECT 1'))\n"
    )
    joined = (
        b"from sqlalchemy import create_engine\nusername = 'Harlequin'\n"
        b"password = 'Quinlehar0179'\ndatabase = 'userapi'\n"
        b"URL = 'mysql+mysqlconnector://' + username + ':' + password + "
        b"'@localhost:3306/' + database\nengine = create_engine(URL)\n"
    )
    files = {
        "Pipfile": b"[packages]\nflask = '*'\npymysql = '*'\nmysql-connector-python = '*'\n",
        "server.py": server,
        "mysqlconnection.py": connection,
        "app/database.py": joined,
        "tests/test_server.py": b"from mysqlconnection import connectToMySQL\n"
        b"connectToMySQL('test_schema')\n",
    }
    mysql = wanted_servers(files, "server.py", {}).mysql
    assert mysql is not None
    assert "users_schema" in mysql.databases and "userapi" in mysql.databases
    assert "test_schema" not in mysql.databases


def test_the_database_a_flask_mysql_extensions_config_names_is_made() -> None:
    """darmawguna's movie-flask: ``app.config['MYSQL_DB'] = 'trpl_movies'`` for
    Flask-MySQLdb, which connects with it: "Unknown database 'trpl_movies'"."""
    app = (
        b"from flask import Flask\nfrom flask_mysqldb import MySQL\napp = Flask(__name__)\n"
        b"app.config['MYSQL_HOST'] = 'localhost'\napp.config['MYSQL_DB'] = 'trpl_movies'\n"
        b"DB = 'shop'\napp.config['MYSQL_DATABASE_DB'] = DB\nmysql = MySQL(app)\n"
    )
    files = {"requirements.txt": b"flask\nflask-mysqldb\n", "app.py": app}
    mysql = wanted_servers(files, "app.py", {}).mysql
    assert mysql is not None
    assert "trpl_movies" in mysql.databases and "shop" in mysql.databases
    other = {**files, "app.py": app.replace(b"app.config['MYSQL_DB']", b"app.config['DB']")}
    mysql = wanted_servers(other, "app.py", {}).mysql
    assert mysql is None or "trpl_movies" not in mysql.databases


def test_the_database_a_config_class_names_is_made() -> None:
    """NicoZdanovicz's gestoStockFlask: ``class DevelopmentConfig(Config): MYSQL_DB =
    'gestorstock'``, loaded by ``app.config.from_object`` and read by
    ``mysql.connector.connect(database=app.config['MYSQL_DB'])``: "Unknown database
    'gestorstock'". A class's key the connection reads, or a Flask MySQL extension's."""
    config = (
        b"class Config:\n    SECRET_KEY = 'x'\n\nclass Dev(Config):\n    MYSQL_DB = 'gestorstock'\n"
    )
    app = (
        b"import mysql.connector\nfrom flask import Flask\nfrom config import Dev\n"
        b"app = Flask(__name__)\napp.config.from_object(Dev)\n"
        b"db = mysql.connector.connect(host='localhost', database=app.config['MYSQL_DB'])\n"
    )
    files = {"requirements.txt": b"flask\nmysql-connector-python\n", "config.py": config}
    mysql = wanted_servers({**files, "app.py": app}, "app.py", {}).mysql
    assert mysql is not None and "gestorstock" in mysql.databases, mysql
    read = app.replace(b"app.config['MYSQL_DB']", b"app.config.get('DATABASE')")
    named = config.replace(b"MYSQL_DB", b"DATABASE")
    mysql = wanted_servers({**files, "config.py": named, "app.py": read}, "app.py", {}).mysql
    assert mysql is not None and "gestorstock" in mysql.databases, mysql
    extension = {
        "requirements.txt": b"flask\nflask-mysqldb\n",
        "config.py": config,
        "app.py": b"from flask import Flask\nfrom flask_mysqldb import MySQL\n"
        b"from config import Dev\napp = Flask(__name__)\napp.config.from_object(Dev)\n"
        b"mysql = MySQL(app)\n",
    }
    mysql = wanted_servers(extension, "app.py", {}).mysql
    assert mysql is not None and "gestorstock" in mysql.databases, mysql
    # A class's other key, which no connection reads: no database of it.
    other = config.replace(b"MYSQL_DB", b"TITLE")
    mysql = wanted_servers({**extension, "config.py": other}, "app.py", {}).mysql
    assert mysql is None or "gestorstock" not in mysql.databases


def test_typeorms_environment_settings_name_its_mysql() -> None:
    """clicker645's typeorm-express: TypeORM 0.2 reads its connection from the
    environment, its .env saying ``TYPEORM_CONNECTION=mysql``, ``TYPEORM_DATABASE=test``,
    ``TYPEORM_PASSWORD=admin`` …: it was given no MariaDB (connect ECONNREFUSED, the
    process ended). Its engine, database and account are read as MYSQL_*'s would be."""
    package = {"dependencies": {"mysql": "^2", "typeorm": "^0.2"}}
    given = {
        "TYPEORM_CONNECTION": "mysql",
        "TYPEORM_HOST": "localhost",
        "TYPEORM_USERNAME": "root",
        "TYPEORM_PASSWORD": "admin",
        "TYPEORM_DATABASE": "test",
        "TYPEORM_PORT": "3306",
    }
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": b"createConnection()"}
    mysql = wanted_servers(files, "src/index.ts", given).mysql
    assert mysql is not None and mysql.databases == ["test"]
    assert mysql.accounts == {"root": "admin"}
    assert (
        wanted_servers(files, "src/index.ts", {**given, "TYPEORM_CONNECTION": "postgres"}).mysql
        is None
    )


def test_a_config_classs_mysql_constants_name_the_database_it_opens() -> None:
    """btbrad's flask-shop: ``class Config:`` writes ``MYSQL_USERNAME = 'root'``,
    ``MYSQL_DATABASE = 'flask_shop'`` … and builds its SQLAlchemy URL from them in an
    f-string: its MariaDB was given (pymysql, ``MYSQL_DIALECT = 'mysql'``), but not that
    database ("Unknown database 'flask_shop'"). The class's constants are its settings."""
    config = (
        b"import os\n\nclass Config:\n    MYSQL_DIALECT = 'mysql'\n    MYSQL_DRIVER = 'pymysql'\n"
        b"    MYSQL_USERNAME = 'root'\n    MYSQL_PASSWORD = 'rootpassword'\n"
        b"    MYSQL_HOST = 'localhost'\n    MYSQL_PORT = 3306\n"
        b"    MYSQL_DATABASE = 'flask_shop'\n"
        b"    SQLALCHEMY_DATABASE_URI = f'{MYSQL_DIALECT}+{MYSQL_DRIVER}://{MYSQL_USERNAME}:"
        b"{MYSQL_PASSWORD}@{MYSQL_HOST}:{MYSQL_PORT}/{MYSQL_DATABASE}'\n\n"
        b"class DevelopmentConfig(Config):\n    DEBUG = True\n"
    )
    files = {
        "requirements.txt": b"Flask==1.1.2\nFlask-SQLAlchemy==2.4.1\nPyMySQL==0.9.3\n",
        "config.py": config,
        "manager.py": b"from flask import Flask\napp = Flask(__name__)\n",
    }
    wanted = wanted_servers(files, "manager.py", {})
    assert wanted.mysql is not None
    assert wanted.mysql.databases == ["flask_shop"]
    assert wanted.mysql.accounts == {"root": "rootpassword"}


def test_a_redis_password_its_code_never_reads_beside_a_url_without_one_is_not_required() -> None:
    """Ultri-Izzup's fastify-docker: example.env gives ``REDIS_URI=redis://localhost:6379``,
    which its @fastify/redis connects with, and ``REDIS_PASSWORD``, which its code never
    reads (its compose server's); the private Redis required that password and refused
    the app's every command ("NOAUTH Authentication required"). Where a module of the app
    reads REDIS_PASSWORD, its server still requires it."""
    files = {
        "package.json": b'{"dependencies": {"@fastify/redis": "^6", "fastify": "^4"}}',
        "example.env": b"REDIS_PASSWORD=eYVX7EwVmm\nREDIS_URI=redis://localhost:6379\n",
        "config/redis.js": b"module.exports = { redisUri: process.env.REDIS_URI }\n",
        "docker-compose.yml": b"services:\n  redis:\n    image: redis\n"
        b"    command: redis-server --requirepass ${REDIS_PASSWORD}\n",
    }
    redis = wanted_servers(files, "app.js", {}).redis
    assert redis is not None and redis.accounts == {}
    reads = b"module.exports = { password: process.env.REDIS_PASSWORD }\n"
    redis = wanted_servers({**files, "config/redis.js": reads}, "app.js", {}).redis
    assert redis is not None and redis.accounts == {"default": "eYVX7EwVmm"}


def test_fastifys_mysql_plugin_registered_alone_wants_mariadb() -> None:
    """a1vinho's Crud-FastifyAPI lists @fastify/mysql alone and registers it with
    ``{host: process.env.HOST, database: process.env.DATABASE, …}``, none of them set
    anywhere: given no MariaDB, ECONNREFUSED 127.0.0.1:3306. Not where it only lists it."""
    package = b'{"type": "module", "dependencies": {"@fastify/mysql": "^5", "fastify": "^5"}}'
    app = (
        b'import Fastify from "fastify";\nimport FastifyMysql from "@fastify/mysql";\n'
        b"const app = Fastify();\napp.register(FastifyMysql, {\n  host: process.env.HOST,\n"
        b"  database: process.env.DATABASE,\n  user: process.env.USERDB,\n});\n"
    )
    files = {"package.json": package, "src/App.js": app}
    mysql = wanted_servers(files, "package.json", {}).mysql
    assert mysql is not None and "src/App.js connects with its MySQL driver" in mysql.why
    unused = {**files, "src/App.js": b'import Fastify from "fastify";\nFastify().listen();\n'}
    assert wanted_servers(unused, "package.json", {}).mysql is None
