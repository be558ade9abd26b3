"""The SQL an upload declares for its database (``backing.schemasql``), each rule by its
shape, and run into a real private MariaDB / PostgreSQL before the app starts."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from preview.backing.schemasql import (
    MYSQL,
    POSTGRES,
    declared_sql,
    dialect,
    mysql_client_argv,
    queried_tables,
    script_accounts,
    used_database,
)
from preview.backing.servers.mysql import mariadb_binary
from preview.backing.wanted import mysql_alone_in_node, wanted_servers
from preview.backing.wants import compose_init_scripts, postgres_wants

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages
from ..sandbox.test_sandbox import require_sandbox
from .test_app_postgres import _proxied, _sandboxed, _settled, needs_server

MYSQL_DUMP = b"""-- phpMyAdmin SQL Dump
/*!40101 SET NAMES utf8mb4 */;
CREATE TABLE `items` (
  `id` int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
"""
PG_SCHEMA = b"""CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE items (id SERIAL PRIMARY KEY, tags JSONB);
"""
PLAIN = b"CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(80));\n"


def _encoded(files: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


def _paths(files: dict[str, bytes], engine: str) -> tuple[list[str], str] | None:
    found = declared_sql(files, engine, compose_init_scripts)
    return ([p for p, _ in found.scripts], found.origin) if found is not None else None


def test_a_files_dialect_is_read_from_its_markers() -> None:
    assert dialect(MYSQL_DUMP) == MYSQL
    assert dialect(PG_SCHEMA) == POSTGRES
    assert dialect(PLAIN) is None  # runs on either


def test_a_dialects_markers_are_not_read_in_the_data_its_statements_hold() -> None:
    # svencc's ts-node-rest: a PostgreSQL dump whose INSERTs hold a course catalogue's
    # prose ("Use TypeScript's …" read as MySQL's USE twelve times) was no one's dialect.
    prose = "".join(
        f"INSERT INTO \"Courses\" VALUES ({n}, 'Use Angular''s {n}th feature; use it -- well');\n"
        for n in range(12)
    )
    dump = (
        'CREATE TABLE "Courses" (id serial NOT NULL, description text);\n'
        f"{prose}-- Use MySQL's `dump` quoting; don't ENGINE=InnoDB\n"
        "SELECT pg_catalog.setval('\"Courses_id_seq\"', 12, true);\n"
    )
    assert dialect(dump.encode()) == POSTGRES
    # A MySQL dump's own USE statement is still its dialect's.
    assert dialect(b"CREATE DATABASE shop;\nUSE shop;\nCREATE TABLE t (id INT);\n") == MYSQL


def test_a_mysql_services_init_mounts_come_first_in_their_names_order() -> None:
    compose = (
        "services:\n  mysql:\n    image: mysql:5.7\n    volumes:\n"
        "      - ./db/schema.sql:/docker-entrypoint-initdb.d/01_schema.sql\n"
        "      - ./db/data.sql:/docker-entrypoint-initdb.d/02_data.sql\n"
        "  api:\n    build: .\n"
    )
    files = {
        "docker-compose.yaml": compose.encode(),
        "db/schema.sql": MYSQL_DUMP,
        "db/data.sql": b"INSERT INTO `items` VALUES (1);\n",
        "other/dump.sql": MYSQL_DUMP,  # one SQL file alone would not be chosen
    }
    found = _paths(files, MYSQL)
    assert found == (["db/schema.sql", "db/data.sql"], found and found[1])
    assert found is not None and "mysql service" in found[1]
    assert declared_sql(files, POSTGRES, compose_init_scripts) is None  # not the PostgreSQL's


def test_a_database_images_dockerfile_copying_into_its_init_folder() -> None:
    files = {
        "db/Dockerfile": b"FROM mariadb:11\nCOPY ./sql/ /docker-entrypoint-initdb.d/\n",
        "db/sql/1-tables.sql": MYSQL_DUMP,
        "db/sql/2-rows.sql": b"INSERT INTO items VALUES (1);\n",
        "Dockerfile": b"FROM node:20\nCOPY init.sql /docker-entrypoint-initdb.d/\n",  # the app's
        "init.sql": PLAIN,
    }
    assert _paths(files, MYSQL) == (
        ["db/sql/1-tables.sql", "db/sql/2-rows.sql"],
        "db/Dockerfile (/docker-entrypoint-initdb.d)",
    )


def test_the_sql_files_a_readme_says_to_run() -> None:
    readme = (
        "## Setup\n\n```\nmysql -u root shop < database/schema.sql\n"
        "mysql -u root shop < database/seed.sql\n```\n"
    )
    files = {
        "README.md": readme.encode(),
        "database/schema.sql": MYSQL_DUMP,
        "database/seed.sql": b"INSERT INTO items VALUES (1);\n",
        "database/old.sql": MYSQL_DUMP,  # two files create tables: the README decides
    }
    assert _paths(files, MYSQL) == (
        ["database/schema.sql", "database/seed.sql"],
        "the SQL files README.md says to run",
    )
    # The database its client's command names is the one the scripts run in, which the
    # app reads (ThomasSanna's M1DE-crud-fastapi-mvc: ``mysql -u root -p 2025_M1 <
    # sql/2025_m1.sql``, a dump with no USE; its code's ``self.database = "2025_M1"``).
    found = declared_sql(files, MYSQL, compose_init_scripts)
    assert found is not None and found.database == "shop"
    for command, database in (
        ("mysql -u root -p 2025_M1 < database/schema.sql", "2025_M1"),
        ("mysql -h localhost -u root -psecret -D shop2 < database/schema.sql", "shop2"),
        ("mysql --database=shop3 -u root < database/schema.sql", "shop3"),
        ("mysql -u root -p < database/schema.sql", None),
    ):
        named = {**files, "README.md": f"```\n{command}\n```\n".encode()}
        found = declared_sql(named, MYSQL, compose_init_scripts)
        assert found is not None and found.database == database, command
    # Named by its name alone ("import ecommerce.sql"), where one file has that name.
    files["README.md"] = b"Create a database, and import ecommerce.sql in phpMyAdmin.\n"
    files["sql/ecommerce.sql"] = files.pop("database/schema.sql")
    assert _paths(files, MYSQL) == (["sql/ecommerce.sql"], "the SQL files README.md says to run")


def test_its_one_sql_file_in_the_engines_dialect() -> None:
    files = {"database/ecommerce.sql": MYSQL_DUMP, "index.js": b""}
    assert _paths(files, MYSQL) == (
        ["database/ecommerce.sql"],
        "its one SQL file that creates tables",
    )
    assert (
        declared_sql(files, POSTGRES, compose_init_scripts) is None
    )  # a MySQL dump: never run into PostgreSQL
    both = {"sql/mysql.sql": MYSQL_DUMP, "sql/postgres.sql": PG_SCHEMA}
    assert _paths(both, MYSQL) == (["sql/mysql.sql"], "its one SQL file that creates tables")
    assert _paths(both, POSTGRES) == (["sql/postgres.sql"], "its one SQL file that creates tables")
    # SQL under another name (vladislv31's common/sqls/initdb.pgsql), else a text file of
    # it kept for reading (pratestiago's "Ajuda/CREATE TABLE .txt"), after any .sql file.
    other = {"common/sqls/initdb.pgsql": PG_SCHEMA, "requirements.txt": b"flask\n"}
    assert _paths(other, POSTGRES) == (
        ["common/sqls/initdb.pgsql"],
        "its one SQL file that creates tables",
    )
    text = {"Ajuda/CREATE TABLE .txt": b"-- sql\n" + PG_SCHEMA, "app.py": b""}
    assert (_paths(text, POSTGRES) or [None])[0] == ["Ajuda/CREATE TABLE .txt"]
    assert (_paths({**text, **both}, POSTGRES) or [None])[0] == ["sql/postgres.sql"]
    # Of two, the one whose name says it is the schema (its notes hold some SQL too).
    notes = {**text, "Ajuda/colocar_no_pc.txt": b"copie isto:\n" + PLAIN}
    assert (_paths(notes, POSTGRES) or [None])[0] == ["Ajuda/CREATE TABLE .txt"]
    # The preview's PostgreSQL runs it before the app starts.
    wants = postgres_wants({**notes, "requirements.txt": b"flask\npsycopg2-binary\n"}, {})
    assert [path for path, _ in wants.init_scripts] == ["Ajuda/CREATE TABLE .txt"]
    prose = {"notes.txt": b"we should create table t"}
    assert declared_sql(prose, POSTGRES, compose_init_scripts) is None
    # A text file's statements alone: connie388's order-express-mysql-server keeps npm's
    # commands and prose around its CREATE TABLE in setup.txt ("ERROR 1064" at line 1).
    setup = b"download node and npm\n\nnpm i mysql2\n\ninstall mysql workbench\n\n" + PLAIN
    found = declared_sql({"setup.txt": setup, "server.js": b""}, MYSQL, compose_init_scripts)
    assert found is not None and found.scripts == (("setup.txt", PLAIN.decode()),)
    # What makes its schema otherwise (migrations), or tests' SQL: none.
    assert (
        declared_sql({**files, "migrations/001_init.js": b""}, MYSQL, compose_init_scripts) is None
    )
    assert declared_sql({"tests/schema.sql": MYSQL_DUMP}, MYSQL, compose_init_scripts) is None


def test_a_folders_numbered_sql_files_are_run_in_their_numbers_order() -> None:
    """undo-works' AutoCrypto-Hono: sql/00_Base.sql makes and switches to its database,
    01_… to 05_… each make a table, 21_… holds rows, 99_… queries: several files making
    tables and none the one, so none ran ("Table 'app.currencies' doesn't exist")."""
    table = "use crypto; CREATE TABLE `{}` (`id` int unsigned NOT NULL AUTO_INCREMENT);\n"
    files = {
        "sql/00_Base.sql": b"create database crypto;\nuse crypto;\n",
        "sql/01_Markets.sql": table.format("markets").encode(),
        "sql/10_Currencies.sql": table.format("currencies").encode(),
        "sql/2_Prices.sql": table.format("prices").encode(),
        "sql/21_coincheck.sql": b"use crypto; INSERT INTO markets VALUES (1);\n",
        "src/app.ts": b"",
    }
    found = declared_sql(files, MYSQL, compose_init_scripts)
    assert found is not None and found.origin == "its numbered SQL files in sql, in their order"
    assert [path for path, _ in found.scripts] == [
        "sql/00_Base.sql",
        "sql/01_Markets.sql",
        "sql/2_Prices.sql",
        "sql/10_Currencies.sql",
        "sql/21_coincheck.sql",
    ]
    assert used_database(found.scripts) == "crypto"
    assert declared_sql(files, POSTGRES, compose_init_scripts) is None  # MySQL's dialect
    # migrations make its schema: the series is theirs, not run beside them
    migrated = {**files, "migrations/001_init.js": b""}
    assert declared_sql(migrated, MYSQL, compose_init_scripts) is None


def test_mysql_dumps_each_creating_its_own_database_are_all_run() -> None:
    """alfaeliasws' express-ddd dumps ``library_app`` and, under ``__test__/``,
    ``library_app_test`` (phpMyAdmin's ``CREATE DATABASE IF NOT EXISTS …; USE …;``), which
    its example's ``TEST=yes`` has it use: of two SQL files, neither ran ("Unknown
    database 'library_app_test'"). Each makes its own database: both run; not two dumps
    of one database, nor one switching to none."""

    def dump(database: bytes) -> bytes:
        made = b"CREATE DATABASE IF NOT EXISTS `%s` DEFAULT CHARACTER SET utf8mb4;\n" % database
        return b"-- phpMyAdmin SQL Dump\n" + made + b"USE `%s`;\n" % database + MYSQL_DUMP

    files = {
        "library_app.sql": dump(b"library_app"),
        "__test__/library_app_test.sql": dump(b"library_app_test"),
        "index.ts": b"",
    }
    assert _paths(files, MYSQL) == (
        ["library_app.sql", "__test__/library_app_test.sql"],
        "its SQL files that each create their own database and its tables",
    )
    same = {**files, "__test__/library_app_test.sql": dump(b"library_app")}
    assert _paths(same, MYSQL) is None
    plain = {**files, "__test__/library_app_test.sql": MYSQL_DUMP}
    assert _paths(plain, MYSQL) is None
    assert _paths({"library_app.sql": dump(b"library_app")}, MYSQL) == (
        ["library_app.sql"],
        "its one SQL file that creates tables",
    )


def test_postgresql_scripts_each_connecting_to_its_own_database_are_all_run() -> None:
    """jesus-vc's postgresql-express-app: seeds/data.sql begins ``\\c biztime``,
    seeds/data_mn.sql ``\\c biztime_mn`` (the one its code opens), each creating the
    tables: of two SQL files, neither ran ('relation "invoices" does not exist'). Each
    connects to its own database: both run; not two scripts of one database."""
    table = b"CREATE TABLE companies (code text PRIMARY KEY, name text NOT NULL);\n"
    files = {
        "seeds/data.sql": b"\\c biztime\nDROP TABLE IF EXISTS companies;\n" + table,
        "seeds/data_mn.sql": b"\\c biztime_mn\n" + table,
        "server.js": b"",
    }
    assert _paths(files, POSTGRES) == (
        ["seeds/data.sql", "seeds/data_mn.sql"],
        "its SQL files that each connect to a database of their own (psql's \\c)",
    )
    # The preview's PostgreSQL runs them before the app starts.
    wants = postgres_wants({**files, "package.json": b'{"dependencies": {"pg": "^8"}}'}, {})
    assert [path for path, _ in wants.init_scripts] == ["seeds/data.sql", "seeds/data_mn.sql"]
    same = {**files, "seeds/data_mn.sql": b"\\connect biztime\n" + table}
    assert _paths(same, POSTGRES) is None


def test_a_node_script_nothing_runs_gives_its_create_table_statements() -> None:
    """DanilloSouza03's Fastify-Video-Manager-API's shape: create-table.js sends ``CREATE
    TABLE videos(…)`` through the app's db.js, and nothing runs it (no script, no import:
    its author's ``node create-table.js``, once). Its statements are the schema, given to
    the PostgreSQL before the app opens it; not a module the app imports, nor one that
    listens, nor one a script runs, nor a statement built of the code's values."""
    package = b'{"scripts": {"start": "node server.js"}, "dependencies": {"postgres": "^3"}}'
    create = b"import { sql } from './db.js'\n\nsql`\n  CREATE TABLE videos(\n"
    create += b"    id TEXT PRIMARY KEY,\n    duration INTEGER\n  );\n`.then(console.log('made'))\n"
    files = {
        "package.json": package,
        "db.js": b"import postgres from 'postgres'\nexport const sql = postgres(URL)\n",
        "create-table.js": create,
        "database-postgres.js": b"import { sql } from './db.js'\nawait sql`SELECT * FROM t;`\n",
        "server.js": b"import { DatabasePostgres } from './database-postgres.js'\napp.listen()\n",
    }
    found = declared_sql(files, POSTGRES, compose_init_scripts)
    assert found is not None and found.scripts == (
        (
            "create-table.js",
            "CREATE TABLE videos(\n    id TEXT PRIMARY KEY,\n    duration INTEGER\n  );\n",
        ),
    )
    wants = postgres_wants(files, {})
    assert [p for p, _ in wants.init_scripts] == ["create-table.js"]
    imported = {**files, "server.js": files["server.js"] + b"import './create-table.js'\n"}
    assert declared_sql(imported, POSTGRES, compose_init_scripts) is None
    run = b'{"scripts": {"start": "node create-table.js && node server.js"}}'
    assert declared_sql({**files, "package.json": run}, POSTGRES, compose_init_scripts) is None
    built = {**files, "create-table.js": files["create-table.js"].replace(b"videos", b"${name}")}
    assert declared_sql(built, POSTGRES, compose_init_scripts) is None


def test_a_python_script_nothing_runs_gives_its_tables_and_the_queries_the_rest() -> None:
    """stylev822's proyecto-tienda-flask: personas.py makes ``personas`` on its author's
    server (its own ``psycopg2.connect``), run once by hand; the app queries it and two
    tables nothing makes. The script's table, then the queried others, are given to the
    PostgreSQL; not where a module imports the script, nor where its Procfile runs it."""
    script = (
        b'import psycopg2\nconn = psycopg2.connect(host="localhost")\ncur = conn.cursor()\n'
        b'cur.execute("""\n    CREATE TABLE IF NOT EXISTS personas (\n'
        b'        id SERIAL PRIMARY KEY,\n        cargo VARCHAR(50)\n    );\n""")\n'
        b'cur.execute("SELECT id FROM personas LIMIT 1;")\n'
        b'cur.executemany("INSERT INTO personas (cargo) VALUES (%s)", [("x",)])\n'
    )
    app = (
        b"from flask import Flask\nfrom database import get_db\napp = Flask(__name__)\n"
        b"def equipo():\n    get_db().cursor().execute('SELECT cargo FROM personas ORDER BY id;')\n"
        b"def usuarios():\n    get_db().cursor().execute('SELECT id, username FROM usuarios;')\n"
    )
    files = {
        "app.py": app,
        "database.py": b"import psycopg2\ndef get_db():\n    return psycopg2.connect()\n",
        "personas.py": script,
        "Procfile": b"web: gunicorn app:app\n",
        "templates/equipo.html": b"<h1>personas: {{ n }}</h1>",
    }
    found = declared_sql(files, POSTGRES, compose_init_scripts)
    assert found is not None
    assert [path for path, _ in found.scripts] == ["personas.py", "tables usuarios"]
    assert found.scripts[0][1] == (
        "CREATE TABLE IF NOT EXISTS personas (\n        id SERIAL PRIMARY KEY,\n"
        "        cargo VARCHAR(50)\n    );\n"
    )
    assert '"username"' in found.scripts[1][1] and "personas" not in found.scripts[1][1]
    wants = postgres_wants(files, {})
    assert [p for p, _ in wants.init_scripts] == ["personas.py", "tables usuarios"]
    imported = {**files, "app.py": app + b"import personas\n"}
    assert declared_sql(imported, POSTGRES, compose_init_scripts) is None
    run = {**files, "Procfile": b"release: python personas.py\nweb: gunicorn app:app\n"}
    assert declared_sql(run, POSTGRES, compose_init_scripts) is None
    assert declared_sql(files, MYSQL, compose_init_scripts) is None  # SERIAL: PostgreSQL's


def test_a_readmes_create_table_blocks_where_it_has_no_sql_file() -> None:
    readme = (
        "# Todo API\n\nCreate the table first:\n\n```sql\nCREATE TABLE todo (\n"
        "  id SERIAL PRIMARY KEY,\n  title TEXT NOT NULL\n);\n```\n\n```sh\nnpm start\n```\n"
    )
    files = {"README.md": readme.encode(), "app.js": b""}
    found = declared_sql(files, POSTGRES, compose_init_scripts)
    assert found is not None and found.origin == "the CREATE TABLE blocks of README.md"
    assert [text for _, text in found.scripts] == [
        "CREATE TABLE todo (\n  id SERIAL PRIMARY KEY,\n  title TEXT NOT NULL\n);\n"
    ]
    assert declared_sql(files, MYSQL, compose_init_scripts) is None  # SERIAL: PostgreSQL's
    assert (
        declared_sql({**files, "schema.sql": PLAIN}, POSTGRES, compose_init_scripts) is not None
    )  # the file's
    assert declared_sql(
        {**files, "schema.sql": PLAIN}, POSTGRES, compose_init_scripts
    ).origin.startswith("its one")  # type: ignore[union-attr]


def test_a_readmes_indented_block_and_a_terminal_sessions_statements() -> None:
    # moeenur's node-express-mysql-crud: its CREATE TABLE indented by a tab (Markdown's
    # other code block); Table 'nodejs.users' doesn't exist before.
    readme = (
        "#### 1. Create Database :\n\n\tCREATE DATABASE IF NOT EXISTS nodejs;\n\tUSE nodejs;\n\n"
        "#### 2. Create Table :\n\n\tCREATE TABLE IF NOT EXISTS users (\n"
        "\t  id int(10) NOT NULL AUTO_INCREMENT,\n\t  PRIMARY KEY (id)\n\t) ENGINE=InnoDB;\n\n"
        "#### 3. Update the /model/db.js\n"
    )
    found = declared_sql({"README.md": readme.encode()}, MYSQL, compose_init_scripts)
    assert found is not None
    assert [text for _, text in found.scripts] == [
        "CREATE TABLE IF NOT EXISTS users (\n  id int(10) NOT NULL AUTO_INCREMENT,\n"
        "  PRIMARY KEY (id)\n) ENGINE=InnoDB;\n"
    ]
    # shubhamns's node-express-mysql-crud-app: its steps indented, a list's numbers.
    steps = (
        "#### Step 1\n\n        1. install mysql\n        4. CREATE DATABASE crud;\n"
        "        5. CREATE TABLE users(\n                _id INT NOT NULL,\n"
        "                PRIMARY KEY (_id));\n\n### Start app\n"
    )
    found = declared_sql({"README.md": steps.encode()}, MYSQL, compose_init_scripts)
    assert found is not None
    assert [text for _, text in found.scripts] == [
        "CREATE TABLE users(\n            _id INT NOT NULL,\n            PRIMARY KEY (_id));\n"
    ]
    # arnav-roy08's nodejs-express-postgres-API: one block of brew, psql and its prompts;
    # its statements alone, not those making a login or a database (the preview's own).
    session = (
        "Setting up database:\n\n```\nbrew install postgresql\npsql postgres\n"
        "postgres=# CREATE ROLE arnav WITH LOGIN PASSWORD 'password';\npostgres=# \\q\n"
        "psql -d postgres -U arnav\n\nCREATE DATABASE api;\n\\c api\n\napi=>\n"
        "CREATE TABLE userss (\n  ID SERIAL PRIMARY KEY,\n  name VARCHAR(30)\n);\n```\n"
    )
    found = declared_sql({"README.md": session.encode()}, POSTGRES, compose_init_scripts)
    assert found is not None
    assert [text for _, text in found.scripts] == [
        "CREATE TABLE userss (\n  ID SERIAL PRIMARY KEY,\n  name VARCHAR(30)\n);\n"
    ]


def test_a_readmes_create_table_in_a_code_span_of_its_prose() -> None:
    # prince-1501's ExpressJS-postgresql-Connection: its one statement in a line of prose;
    # its knex queries met 'relation "country" does not exist'.
    readme = (
        "* First Create DATABASE Named todo_db\n* `CREATE DATABASE tododb; `\n\n"
        "* Now Create TABLE inside it named country\n"
        "`CREATE TABLE country(id BIGSERIAL NOT NULL, name VARCHAR(50) NOT NULL );`\n\n"
        "* for list of TABLE    `\\dt`\n"
    )
    found = declared_sql({"README.md": readme.encode()}, POSTGRES, compose_init_scripts)
    assert found is not None
    assert [text for _, text in found.scripts] == [
        "CREATE TABLE country(id BIGSERIAL NOT NULL, name VARCHAR(50) NOT NULL );\n"
    ]
    # a span naming the statement, not giving it, and one inside a fenced block's text
    prose = "Run `CREATE TABLE` yourself.\n\n```\nsee `CREATE TABLE x (id int)`\n```\n"
    assert declared_sql({"README.md": prose.encode()}, POSTGRES, compose_init_scripts) is None


def test_a_readmes_create_table_pasted_into_its_prose_with_no_fence() -> None:
    # annaclarathimoteo's API-Escola-FastAPI-MySQL: a chat answer pasted as text, its
    # "sql" label and "Copiar código" above the statements; /alunos/ met no such table.
    readme = (
        "4️⃣ Criar tabelas no MySQL\nsql\nCopiar código\nCREATE DATABASE db_escola;\n\n"
        "USE db_escola;\n\nCREATE TABLE tb_enderecos (\n    id INT AUTO_INCREMENT PRIMARY KEY,\n"
        "    cep VARCHAR(20)\n);\n\nCREATE TABLE tb_alunos (\n"
        "    id INT AUTO_INCREMENT PRIMARY KEY,\n"
        "    endereco_id INT,\n    FOREIGN KEY (endereco_id) REFERENCES tb_enderecos(id)\n);\n"
        "▶️ Executando o Projeto\nbash\nCopiar código\nuv run uvicorn main:app --reload\n"
    )
    found = declared_sql(
        {"README.md": readme.encode(), "main.py": b""}, MYSQL, compose_init_scripts
    )
    assert found is not None and found.origin == "the CREATE TABLE blocks of README.md"
    assert [text for _, text in found.scripts] == [
        "CREATE TABLE tb_enderecos (\n    id INT AUTO_INCREMENT PRIMARY KEY,\n"
        "    cep VARCHAR(20)\n);\n",
        "CREATE TABLE tb_alunos (\n    id INT AUTO_INCREMENT PRIMARY KEY,\n    endereco_id INT,\n"
        "    FOREIGN KEY (endereco_id) REFERENCES tb_enderecos(id)\n);\n",
    ]
    # prose naming a table, its parentheses closed and no semicolon before a blank line,
    # or never closed, is no statement
    prose = "Create table users (the one the app reads) yourself.\n\nThen: create table x (id int\n"
    assert declared_sql({"README.md": prose.encode()}, MYSQL, compose_init_scripts) is None


def test_postgres_wants_reads_a_dockerfiles_init_folder_and_skips_a_mysql_dump() -> None:
    wants = postgres_wants(_encoded(app_files("postgres_dockerfile_initdb")), {})
    assert [p for p, _ in wants.init_scripts] == ["db/schema.sql"]
    assert wants.init_origin == "db/Dockerfile (/docker-entrypoint-initdb.d)"
    assert not wants.lone_schema
    dump_only = {"package.json": b'{"dependencies": {"pg": "^8"}}', "db.sql": MYSQL_DUMP}
    assert postgres_wants(dump_only, {}).init_scripts == ()


def test_a_node_app_opening_mysql_alone_gets_no_postgresql_for_a_listed_driver() -> None:
    """bibekjoshi01's ExpressJs-Authentication lists pg beside mysql2 and opens ``new
    Sequelize(process.env.DB_NAME, …, {dialect: "mysql"})``: given both servers, its
    DB_NAME was PostgreSQL's ("Unknown database 'app'" on its MariaDB). Its listed pg
    wants none; a sequelize-cli config of PostgreSQL's (its migrations') changes
    nothing; code using PostgreSQL, or no MySQL opened, keeps it."""
    connection = (
        b'const { Sequelize } = require("sequelize");\n'
        b"module.exports = new Sequelize(process.env.DB_NAME, process.env.DB_USER,\n"
        b'  process.env.DB_PASSWORD, { host: "localhost", dialect: "mysql" });\n'
    )
    cli = b'module.exports = { development: { database: "dev", dialect: "postgres" } };\n'
    package = b'{"dependencies": {"express": "^4", "sequelize": "^6", "mysql2": "^3", "pg": "^8"}}'
    files = {
        "package.json": package,
        "database/Connection.js": connection,
        "src/config/config.js": cli,
        "server.js": b'const sequelize = require("./database/Connection.js");\n',
    }
    assert mysql_alone_in_node(files) == "database/Connection.js"
    assert postgres_wants(files, {}).driver is None
    used = {**files, "db/pg.js": b'const { Pool } = require("pg");\n'}
    assert mysql_alone_in_node(used) is None and postgres_wants(used, {}).driver is not None
    unopened = {**files, "database/Connection.js": b"module.exports = {};\n"}
    assert postgres_wants(unopened, {}).driver is not None


def test_a_python_app_opening_its_mysql_itself_is_given_a_mariadb() -> None:
    """k3forx's fastapi-example reads MYSQL_* in code alone (``pymysql.connect(host=
    getenv("MYSQL_HOST"), …)``), its compose file outside the upload: no MariaDB was
    given, /health answered 500 (connection refused). Not with a PostgreSQL driver its
    code uses too, nor where the driver is only listed."""
    client = b"import pymysql\nfrom os import getenv\n\ndb = pymysql.connect(host=getenv('H'))\n"
    files = {"requirements.txt": b"fastapi\npymysql==1.0.2\n", "mysql_client.py": client}
    wanted = wanted_servers(files, "main.py", {})
    assert wanted.mysql is not None
    assert "mysql_client.py connects with its MySQL driver" in wanted.mysql.why
    # A PostgreSQL driver its code uses too leaves the choice to the rest; one only listed
    # does not (JiratikarnDo's Kanban-fastapi freezes psycopg2-binary and builds
    # ``mysql+pymysql://`` alone: given PostgreSQL, "Lost connection to MySQL server").
    both = {**files, "requirements.txt": b"pymysql\npsycopg2\n"}
    assert wanted_servers(both, "main.py", {}).mysql is not None
    assert postgres_wants(both, {}).driver is None  # (nor a PostgreSQL for the listed one)
    used = {**both, "pg.py": b"import psycopg2\n"}
    assert wanted_servers(used, "main.py", {}).mysql is None
    assert postgres_wants(used, {}).driver is not None
    named = {**both, "pg.py": b'URL = "postgresql://u@localhost/app"\n'}
    assert wanted_servers(named, "main.py", {}).mysql is None
    listed = {**files, "mysql_client.py": b"import pymysql\n"}
    assert wanted_servers(listed, "main.py", {}).mysql is None
    # Vitaliiir16's flask-mysql-gym-api opens a pool of mysql.connector's (its example's
    # DB_HOST=127.0.0.1 said nothing of MySQL): connection refused on 127.0.0.1:3306.
    pool = b"import mysql.connector.pooling\npool = mysql.connector.pooling.MySQLConnectionPool(\n"
    pooled = {"requirements.txt": b"Flask\nmysql-connector-python\n", "dao/db.py": pool}
    assert wanted_servers(pooled, "app.py", {}).mysql is not None
    imported = b"from mysql.connector import pooling\np = pooling.MySQLConnectionPool(size=5)\n"
    assert wanted_servers({**pooled, "dao/db.py": imported}, "app.py", {}).mysql is not None
    # A Flask extension reading app.config's MYSQL_*, its driver its own dependency.
    extension = b"from flask import Flask\nfrom flask_mysqldb import MySQL\nmysql = MySQL(app)\n"
    flask = {"requirements.txt": b"Flask\nFlask-MySQLdb==2.0\n", "app.py": extension}
    assert wanted_servers(flask, "app.py", {}).mysql is not None
    # jin-wk's fastapi-api builds its URL from decouple's DB_* (databases + aiomysql):
    # none was set, and six variables were "needed".
    built = b'def url(u, p, h):\n    return f"mysql://{u}:{p}@{h}:3306/app?charset=utf8mb4"\n'
    aio = {"requirements.txt": b"databases==0.5.5\naiomysql==0.1.1\n", "app/conn.py": built}
    opened = wanted_servers(aio, "main.py", {}).mysql
    assert opened is not None and "app/conn.py connects with its MySQL driver" in opened.why
    node = b"const url = `mysql://${user}:${password}@${host}/app`;\n"
    express = {"package.json": b'{"dependencies": {"mysql2": "^3"}}', "src/db.js": node}
    assert wanted_servers(express, "package.json", {}).mysql is not None
    written = {**aio, "app/conn.py": b'URL = "mysql://root:pw@localhost/app"\n'}
    assert wanted_servers(written, "main.py", {}).mysql is not None  # a URL, as before
    assert wanted_servers({**aio, "app/conn.py": b"x = 1\n"}, "main.py", {}).mysql is None
    # jeanpi02's FastAPi-API-REST-mysqldb: its URL's parts in a dict of its constants, the
    # host in the next literal; its hosted server's name, account and database are the
    # preview MariaDB's ("Temporary failure in name resolution").
    hosted = b"""DB_USER = "u8"
DB_PASSWORD = "pw"
DB_HOST = "db8-mysql.services.clever-cloud.com"
DB_PORT = 3306
DB_NAME = "b5k"
DB_CONFIG = {"user": DB_USER, "password": DB_PASSWORD, "host": DB_HOST, "database": DB_NAME}
DATABASE_URL = (
    f"mysql+pymysql://{DB_CONFIG['user']}:{DB_CONFIG['password']}@"
    f"{DB_CONFIG['host']}:{DB_CONFIG['port']}/{DB_CONFIG['database']}"
)
"""
    pymysql = {"requirements.txt": b"fastapi\nPyMySQL==1.1.1\n", "config/db.py": hosted}
    served = wanted_servers(pymysql, "app.py", {}).mysql
    assert served is not None and "db8-mysql.services.clever-cloud.com" in served.hosts
    assert served.accounts == {"u8": "pw"} and served.databases == ["b5k"]
    # Sunknown2's fastapi-appointment-api: a literal for each of its URL's parts, its
    # password's ending in "@" (no MariaDB was given: "invalid literal for int() … 'None'").
    parts = b"""DATABASE_URL = (
    f"mysql+pymysql://{os.getenv('DB_USER')}:"
    f"{os.getenv('DB_PASSWORD')}@"
    f"{os.getenv('DB_HOST')}:"
    f"{os.getenv('DB_PORT')}/"
)
"""
    split = {"requirements.txt": b"fastapi\nsqlalchemy\npymysql\n", "main.py": parts}
    opened = wanted_servers(split, "main.py", {}).mysql
    assert opened is not None and "main.py connects with its MySQL driver" in opened.why
    closed = {**split, "main.py": parts.replace(b"@", b"")}
    assert wanted_servers(closed, "main.py", {}).mysql is None  # no host: no URL of a server


def test_the_database_a_dump_switches_to_is_the_apps_where_it_names_none() -> None:
    schema = (
        "CREATE DATABASE IF NOT EXISTS `note-app`;\n\nUSE `note-app`;\nCREATE TABLE t (id INT);"
    )
    assert used_database((("a.sql", "INSERT INTO t VALUES (1);"), ("b.sql", schema))) == "note-app"
    assert used_database((("a.sql", "-- USE nothing here\nCREATE TABLE t (id INT);"),)) is None


def test_the_accounts_a_dump_creates_or_names_as_definers() -> None:
    dump = (
        "CREATE USER IF NOT EXISTS 'shop'@'%' IDENTIFIED BY 'se cret';\n"
        "GRANT ALL PRIVILEGES ON shop.* TO 'shop'@'%';\n"
        "grant all on shop.* to bob@localhost identified by 'pw';\n"
        "CREATE USER `app` IDENTIFIED BY 'a1';\n"
        "CREATE DEFINER=`b5de033d9bb9f7`@`%` SQL SECURITY DEFINER VIEW v AS SELECT 1;\n"
        "CREATE DEFINER=CURRENT_USER TRIGGER t AFTER INSERT ON x FOR EACH ROW SET @a = 1;\n"
        "CREATE DEFINER=`shop`@`%` VIEW w AS SELECT 2;\n"
    )
    assert script_accounts((("a.sql", dump),)) == {
        "shop": "se cret",
        "bob": "pw",
        "app": "a1",
        "b5de033d9bb9f7": "",
    }


def test_a_node_apps_queries_name_the_tables_it_never_makes() -> None:
    """tobiaditia's express-payroll and xmkabel's express-expenses query MariaDB with mysql2
    and mysql alone, and nothing of theirs makes a table (made by hand on their servers):
    every route answered "Table 'app.users' doesn't exist". Its queries' tables are made
    with the columns they name; not where the upload makes a table, or uses an ORM."""
    model = (
        b"const getUsers = () => db.query('SELECT * FROM users')\n"
        b"const byId = (id) => db.query(`SELECT * FROM users WHERE id=${id}`)\n"
        b"const post = (b) => db.query(`INSERT INTO users (email, password) values (?, ?)`)\n"
        b'const put = () => db.query("UPDATE users SET password=? WHERE id=?")\n'
        b"const sum = () => db.query('SELECT name, category_id FROM expenses WHERE value > ?')\n"
        b"import express from 'express'\n"  # (a module's from: no table)
        b"throw new Error('Failed to update the invoice'); // select from the list\n"
        b"@ApiOperation({ summary: 'Update an invoice' })\n"  # (prose: no table)
    )
    files = {
        "package.json": b'{"dependencies": {"express": "^4", "mysql2": "^3"}}',
        "src/models/users.js": model,
    }
    found = queried_tables(files)
    assert found is not None and found.scripts[0][0] == "tables users, expenses"
    script = found.scripts[0][1]
    assert "CREATE TABLE IF NOT EXISTS `users` (\n  `id` INT AUTO_INCREMENT PRIMARY KEY," in script
    assert "`email` VARCHAR(255) NULL,\n  `password` VARCHAR(255) NULL\n);" in script
    assert "`category_id` INT NULL" in script and "`value` VARCHAR(255) NULL" in script
    assert "`express`" not in script
    # abv-solutions' nestjs-inventory, on PostgreSQL: its dialect, a flag's a boolean.
    flagged = {**files, "src/paid.ts": b"pool.query(`UPDATE invoices SET is_paid = true`)"}
    postgres = (queried_tables(flagged, POSTGRES) or found).scripts[0][1]
    assert 'CREATE TABLE IF NOT EXISTS "invoices" (\n  "id" SERIAL PRIMARY KEY,' in postgres
    assert '"is_paid" BOOLEAN NULL' in postgres and '"email" TEXT NULL' in postgres
    flagged["package.json"] = b'{"dependencies": {"@nestjs/core": "^10", "pg": "^8"}}'
    wants = postgres_wants(flagged, {})
    assert [p for p, _ in wants.init_scripts] == ["tables users, expenses, invoices"]
    assert wants.init_origin == "its code's queries (the upload makes none)"
    made = {**files, "db/init.js": b"db.query('CREATE TABLE IF NOT EXISTS users (id int)')"}
    assert queried_tables(made) is None
    orm = {**files, "package.json": b'{"dependencies": {"mysql2": "^3", "sequelize": "^6"}}'}
    assert queried_tables(orm) is None
    # A table named by a module's constant the query is joined with (forcehandler's
    # ExpressExpenseTracker: ``'SELECT * from ' + tableName + ' where type = ?'``).
    joined = (
        b"var tableName = 'categories'\n"
        b"const all = () => db.query('SELECT * from ' + tableName + ' where type = ?')\n"
        b"const one = () => db.query(`DELETE FROM ${tableName} WHERE id = ?`)\n"
        b"const last = () => db.query('SELECT name FROM ' + tableName)\n"
    )
    found = queried_tables({**files, "db/categories.js": joined})
    assert found is not None and found.scripts[0][0] == "tables categories, users, expenses"
    assert "`type` VARCHAR(255) NULL" in found.scripts[0][1]


def test_its_one_sql_file_and_the_tables_its_queries_name_that_it_does_not_make() -> None:
    """kitzy02's StockExpress: its database/express_sql.sql makes stocks and holdings, its
    README names five tables, and its routes query transactions and watchlist on mysql
    alone: "Table 'stock_express.transactions' doesn't exist". The file runs, then the
    tables its code's queries name that it does not make; not where an ORM makes them."""
    dump = (
        b"use stock_express;\ncreate table stocks(\n sl_no int primary key,\n"
        b" company_name varchar(100));\ncreate table `stock_express`.holdings (u_id int);\n"
    )
    queries = (
        b"db.query('SELECT * FROM stocks WHERE sl_no = ?')\n"
        b"db.query(`SELECT t.quantity, s.price FROM transactions t JOIN stocks s ON t.stock_id"
        b" = s.sl_no`)\n"
        b"db.query('INSERT INTO watchlist (user_name, company_name) VALUES (?, ?)')\n"
        b"db.query('SELECT * FROM Holdings')\n"
    )
    files = {
        "package.json": b'{"dependencies": {"express": "^4", "mysql": "^2"}}',
        "database/express_sql.sql": dump,
        "controllers/stock.controller.js": queries,
    }
    found = declared_sql(files, MYSQL, compose_init_scripts)
    assert found is not None and found.by == "one-file"
    assert [path for path, _ in found.scripts] == [
        "database/express_sql.sql",
        "tables transactions, watchlist",
    ]
    assert found.origin == (
        "its one SQL file that creates tables, and the tables its code's queries name that it"
        " does not make"
    )
    made = found.scripts[1][1]
    assert "CREATE TABLE IF NOT EXISTS `transactions` (" in made and "`stock_id` INT" in made
    assert "`company_name` VARCHAR(255) NULL" in made and "`stocks`" not in made
    assert used_database(found.scripts) == "stock_express"
    orm = {**files, "package.json": b'{"dependencies": {"mysql2": "^3", "sequelize": "^6"}}'}
    found = declared_sql(orm, MYSQL, compose_init_scripts)
    assert found is not None and [path for path, _ in found.scripts] == ["database/express_sql.sql"]


def test_a_query_naming_its_tables_database_makes_the_table_not_the_database() -> None:
    """dawnz's ejs-cafe-express: ``SELECT * FROM amberorder.menuitem`` on a connection to
    the database amberorder; the table made was ``amberorder`` (and ``login``, of a query
    commented out), and the app died on "Table 'amberorder.menuitem' doesn't exist"."""
    code = (
        b"db.query('SELECT * FROM amberorder.menuitem WHERE category = ?')\n"
        b'db.query("INSERT INTO amberorder.orders (item, qty) VALUES (?, ?)")\n'
        b"// db.query('SELECT * FROM login WHERE user = ?')\n"
        b"db.query('SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS')\n"
    )
    files = {
        "package.json": b'{"dependencies": {"express": "^4", "mysql": "^2"}}',
        "app.js": code,
    }
    found = queried_tables(files)
    assert found is not None and found.scripts[0][0] == "tables menuitem, orders", found
    script = found.scripts[0][1]
    assert "`category` VARCHAR(255) NULL" in script and "`qty` VARCHAR(255) NULL" in script


def test_a_single_quoted_query_naming_quoted_tables_makes_them_whole() -> None:
    """iconsjo1's mindrest-auto: ``'SELECT 1 FROM public."Rest_Routes" WHERE method = $1
    AND route = $2'``, cut at its first ``"``: a table "public" was made, none of its
    columns, and every route met 'column "method" does not exist'. Read to its own
    closing quote; a table the code names by an interpolation (``public."${tableName}"``)
    makes none."""
    code = (
        b'pool.query({ text: \'SELECT 1 FROM public."Rest_Routes" WHERE method = $1 AND'
        b" route = $2', values })\n"
        b'db.query(`INSERT INTO public."${tableName}"(${fields}) VALUES(${values})`)\n'
        b"db.query(\"SELECT name FROM users WHERE role = 'admin'\")\n"
    )
    files = {"package.json": b'{"dependencies": {"pg": "^8"}}', "src/logger.js": code}
    found = queried_tables(files, POSTGRES)
    assert found is not None and found.scripts[0][0] == "tables Rest_Routes, users", found
    script = found.scripts[0][1]
    assert '"method" TEXT' in script and '"route" TEXT' in script, script


def test_a_query_of_literals_joined_by_plus_is_read_whole() -> None:
    """eendrzmail's PWO_backend: ``"Select " + "e.id,e.imie " + "from employees as e left
    join positions as p on e.id_stanowiska = p.id"``: read from its first literal alone,
    its tables and columns were never made."""
    code = (
        b'let sql = "Select " +\n    "e.id,e.imie,p.nazwa " +\n'
        b'    "from employees as e left join positions as p on e.id_stanowiska = p.id"\n'
    )
    files = {"package.json": b'{"dependencies": {"mysql": "^2"}}', "controller/e.js": code}
    found = queried_tables(files)
    assert found is not None and found.scripts[0][0] == "tables employees, positions", found
    assert "`imie`" in found.scripts[0][1] and "`nazwa`" in found.scripts[0][1]


def test_a_table_script_commented_out_makes_no_table() -> None:
    """DannerKurtz's estoque-API-com-fastify keeps its ``CREATE TABLE`` statements in
    create-table.js, every line commented out, and queries ``estoque`` and ``produto``
    with postgres.js: taken for an app making its tables, it got none, and every route
    answered 500. Commented out, they make nothing: its queries' tables are made."""
    script = b"import { sql } from './db.js'\n// sql`\n//   CREATE TABLE estoque (id VARCHAR(50))\n"
    script += b"/* CREATE TABLE produto (id int) */\n"
    files = {
        "package.json": b'{"dependencies": {"postgres": "^3"}}',
        "create-table.js": script,
        "database-postgres.js": b"await sql`SELECT * FROM estoque WHERE nome = ${n}`\n"
        b"await sql`SELECT * FROM produto`\n",
    }
    found = queried_tables(files, POSTGRES)
    assert found is not None and found.scripts[0][0] == "tables estoque, produto"
    # A key of another table's either way round (``id_estoque``) is a number, as that
    # table's id (a join compares them: "operator does not exist: text = integer"); so is
    # a column it adds up (``SUM(p.quantidade)``).
    files["report.js"] = (
        b"await sql`SELECT e.nome, SUM(p.quantidade) AS total FROM pos_estoque pe "
        b"JOIN estoque e ON pe.id_estoque = e.id JOIN produto p ON pe.id_produto = p.id`\n"
    )
    script = (queried_tables(files, POSTGRES) or found).scripts[0][1]
    assert '"id_estoque" INTEGER NULL' in script and '"quantidade" NUMERIC NULL' in script
    assert '"nome" TEXT NULL' in script
    files["create-table.js"] = b"sql`CREATE TABLE estoque (id VARCHAR(50))`\n"
    assert queried_tables(files, POSTGRES) is None
    # A comment line ends at its line: the statements below it are the code's (a file
    # opening with one had all of it read as commented out, its own CREATE TABLE with it,
    # and its tables were made before it with every column text).
    files["create-table.js"] = b"// the tables\nsql`CREATE TABLE estoque (id VARCHAR(50))`\n"
    assert queried_tables(files, POSTGRES) is None


def test_serial_in_a_script_put_in_a_mysql_images_init_folder_is_mysqls() -> None:
    """ktm-m's playground-fastify's compose file mounts init.sql (``user_id SERIAL
    PRIMARY KEY``) into its MySQL's init folder: judged PostgreSQL's by SERIAL, it was not
    run, and every query met a missing table. SERIAL is MySQL's alias too: a script the
    app puts in a MySQL image's init folder is run there; BIGSERIAL stays PostgreSQL's."""
    compose = (
        b"services:\n  mysql:\n    image: mysql:5.7\n    volumes:\n"
        b"      - ./init.sql:/docker-entrypoint-initdb.d/init.sql\n"
    )
    serial = b"CREATE TABLE users (\n  user_id SERIAL PRIMARY KEY,\n  name VARCHAR(255)\n);"
    files = {"docker-compose.yml": compose, "init.sql": serial}
    found = declared_sql(files, MYSQL, compose_init_scripts)
    assert found is not None and [p for p, _ in found.scripts] == ["init.sql"], found
    assert dialect(serial) == POSTGRES  # read alone, as before
    files["init.sql"] = serial.replace(b"SERIAL", b"BIGSERIAL")
    found = declared_sql(files, MYSQL, compose_init_scripts)
    assert found is None or not found.scripts


def test_a_column_a_query_only_aggregates_is_its_tables() -> None:
    """shoelfikar's Backend-Cashier-Food-Expressjs selects ``SUM(total)`` of its
    ``transaksi`` and names ``total`` nowhere else: its table was made without it
    ("Unknown column 'total' in 'field list'"). The column an aggregate takes is the
    table's (and a number where it is added up); ``COUNT(*)`` names none."""
    files = {
        "package.json": b'{"dependencies": {"express": "^4", "mysql": "^2"}}',
        "history.js": b'db.query("SELECT created_at, SUM(total) total FROM transaksi '
        b'GROUP BY DATE(created_at)")\n'
        b'db.query("SELECT COUNT(*) AS n, MAX(DISTINCT qty_total) FROM transaksi")\n',
    }
    found = queried_tables(files)
    assert found is not None and found.scripts[0][0] == "tables transaksi", found
    script = found.scripts[0][1]
    assert "`total` DECIMAL(15,2) NULL" in script, script
    assert "`qty_total` VARCHAR(255) NULL" in script and "`created_at`" in script
    assert "`n`" not in script


def test_the_servers_own_schemas_are_read_never_made() -> None:
    """A query of the server's own tables (``information_schema.SESSION_STATUS``, to ask
    whether the connection is TLS) was taken for the app's table ``information_schema``,
    which its MariaDB was told to make."""
    files = {
        "package.json": b'{"dependencies": {"mysql": "^2"}}',
        "app.js": b"db.query(`SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
        b"WHERE VARIABLE_NAME = 'Ssl_cipher'`)\n"
        b"db.query('SELECT title FROM books JOIN mysql.user u WHERE author = ?')\n",
    }
    found = queried_tables(files)
    assert found is not None and found.scripts[0][0] == "tables books"
    assert "`author` VARCHAR(255) NULL" in found.scripts[0][1]
    only_the_servers = {**files, "app.js": files["app.js"].split(b"\n")[0]}
    assert queried_tables(only_the_servers) is None


def test_a_joins_columns_are_given_to_the_table_they_are_of() -> None:
    """harrymahardhika's express-shop-db selects ``products.name`` from ``cart join
    products``: given to ``cart``, it left ``products`` without it ("Unknown column
    'products.name'"). Hutatsuiwa's attendance system selects ``room_name`` from
    ``examinations e LEFT JOIN rooms`` and from ``rooms`` alone: given to both, the join
    was ambiguous (ER_NON_UNIQ_ERROR). shidoutou's express-company searches with ILIKE."""
    cart = (
        b"const all = () => db.query(`select cart.*, products.name, products.price\n"
        b"\t\tfrom cart join products on cart.product_id = products.id`)\n"
        b"const one = () => db.query('select * from cart where product_id = ?')\n"
    )
    exams = (
        b"db.query(`SELECT e.id,room_name,course_id,start_time FROM examinations e "
        b"LEFT JOIN rooms on room_id=rooms.id WHERE course_id=?`)\n"
        b"db.query(`SELECT id,room_name,total_num FROM rooms WHERE id=?`)\n"
        b"db.query(`SELECT s.name, c.title, grade FROM scores AS s, courses c "
        b"WHERE s.course_id = c.id AND s.user_id = ${req.user.id} ORDER BY created_at`)\n"
        b"db.any('SELECT * FROM employees WHERE name ILIKE $1 AND deleted_at IS NULL')\n"
        b"db.query('SELECT content FROM questions ORDER BY RAND() LIMIT 5')\n"
        # aldabil21's Node-Express-Shop-Api: a join after a condition in parentheses
        b"db.query(`SELECT p.id, MIN(ps.price) AS special FROM product p LEFT JOIN "
        b"product_description pd ON(p.id = pd.product_id) LEFT JOIN product_special ps "
        b"ON(p.id = ps.product_id AND ps.deadline > NOW())`)\n"
        # a template literal's quoted value before its last join
        b"db.query(`SELECT c.type FROM product p LEFT JOIN tax t ON(t.language = "
        b"'${lang}') LEFT JOIN coupon c ON(c.coupon_id = p.coupon_id)`)\n"
    )
    files = {
        "package.json": b'{"dependencies": {"express": "^4", "mysql2": "^3"}}',
        "app/cart.js": cart,
        "model/exams.js": exams,
    }
    found = queried_tables(files)
    assert found is not None
    tables = {
        block.split("`")[1]: block.split("(\n", 1)[1]
        for block in found.scripts[0][1].split("CREATE TABLE IF NOT EXISTS ")[1:]
    }
    assert set(tables) == {
        *("cart", "products", "examinations", "rooms", "scores", "courses", "employees"),
        *("questions", "product", "product_description", "product_special", "tax", "coupon"),
    }
    assert "`name`" in tables["products"] and "`price`" in tables["products"]
    assert "`name`" not in tables["cart"] and "`product_id`" in tables["cart"]
    assert "`room_name`" in tables["rooms"] and "`room_name`" not in tables["examinations"]
    assert "`course_id`" in tables["examinations"] and "`start_time`" in tables["examinations"]
    assert "`title`" in tables["courses"] and "`name`" in tables["scores"]
    assert "`grade`" in tables["scores"] and "`created_at`" in tables["scores"]
    assert "`req`" not in found.scripts[0][1] and "`user`" not in found.scripts[0][1]
    assert "`name`" in tables["employees"] and "`deleted_at`" in tables["employees"]
    assert "`RAN" not in tables["questions"]  # (ORDER BY RAND(): a function, not a column)
    assert "`price`" in tables["product_special"] and "`deadline`" in tables["product_special"]
    assert "`price`" not in tables["product"]
    assert "`type`" in tables["coupon"] and "`language`" in tables["tax"]


def test_a_column_named_in_two_cases_is_one_and_a_selected_function_none() -> None:
    """Totny123's school-koa selects ``building.name`` and ``IF (building.admin_id, …)
    manager``, and filters on ``building.NAME``: its table, given ``name`` and ``NAME``,
    was refused ("Duplicate column name"), every query of it then met "Table
    'school.building' doesn't exist"; ``IF`` was made a column."""
    service = (
        b"const list = `SELECT building.id, building.name,\n  IF\n  ( building.admin_id, "
        b"JSON_OBJECT('fullname', admin.fullname), NULL ) manager\n FROM building\n"
        b" LEFT JOIN admin ON building.admin_id = admin.id\n"
        b" WHERE building.NAME LIKE '%${name}%' LIMIT ?,?;`\n"
        b"const one = 'SELECT COUNT(*) total, Title FROM notes WHERE title = ?'\n"
    )
    files = {
        "package.json": b'{"dependencies": {"koa": "^2", "mysql2": "^3"}}',
        "service/building.service.js": service,
    }
    found = queried_tables(files)
    assert found is not None
    tables = {
        block.split("`")[1]: block.split("(\n", 1)[1]
        for block in found.scripts[0][1].split("CREATE TABLE IF NOT EXISTS ")[1:]
    }
    assert tables["building"].count("`name`") == 1 and "`NAME`" not in tables["building"]
    assert "`admin_id`" in tables["building"]
    assert "`IF`" not in found.scripts[0][1] and "`fullname`" in tables["admin"]
    assert "`COUNT`" not in tables["notes"]
    assert "`title`" in tables["notes"] and "`Title`" not in tables["notes"]  # folded


def test_a_python_apps_queries_on_its_driver_alone_name_its_tables() -> None:
    """PavelYasukevich's fastapi-workout queries ``posts`` through psycopg 3 alone, its
    table made by hand: 'relation "posts" does not exist'. Its queries' tables are made;
    an ORM imported beside the driver, or a table the code makes, says nothing."""
    posts = (
        b"import psycopg\n"
        b"conn = psycopg.connect(autocommit=True)\n"
        b"cur = conn.cursor()\n"
        b'def one(i):\n    return cur.execute("""SELECT * FROM posts WHERE id=%s""", (i,))\n'
        b"def add(p):\n"
        b'    cur.execute("""INSERT INTO posts (title, content, published)\n'
        b'        VALUES (%s, %s, %s)""")\n'
    )
    files = {"requirements.txt": b"fastapi\npsycopg==3.1.8\n", "routers/posts.py": posts}
    found = queried_tables(files, POSTGRES)
    assert found is not None and found.scripts[0][0] == "tables posts"
    assert (
        '"title" TEXT NULL,\n  "content" TEXT NULL,\n  "published" TEXT NULL'
        in (found.scripts[0][1])
    )
    assert [p for p, _ in postgres_wants(files, {}).init_scripts] == ["tables posts"]
    orm = {**files, "db.py": b"from sqlalchemy import create_engine\n"}
    assert queried_tables(orm, POSTGRES) is None
    made = {**files, "db.py": b'cur.execute("CREATE TABLE IF NOT EXISTS posts (id int)")\n'}
    assert queried_tables(made, POSTGRES) is None
    assert queried_tables({"routers/posts.py": posts.replace(b"psycopg", b"mylib")}) is None
    # Flask-MySQLdb's cursor (darmawguna's movie-flask: "Table 'trpl_movies.film_tayang'
    # doesn't exist"), in MySQL's dialect.
    flask = (
        b"from flask_mysqldb import MySQL\nmysql = MySQL(app)\n"
        b"def films():\n    cursor = mysql.connection.cursor()\n"
        b"    cursor.execute('SELECT judul, tahun FROM film_tayang WHERE id = %s', (1,))\n"
    )
    found = queried_tables({"requirements.txt": b"flask\nflask-mysqldb\n", "app.py": flask})
    assert found is not None and found.scripts[0][0] == "tables film_tayang"
    assert "`judul` VARCHAR(255) NULL" in found.scripts[0][1]


def test_the_client_runs_the_dump_as_a_human_would_and_reaches_no_file() -> None:
    argv = mysql_client_argv("/usr/bin/mariadb", "/s/mysqld.sock", "root", "shop", "/s/d.sql")
    assert argv[:5] == ["/bin/sh", "-c", 'exec "$@" < "$0"', "/s/d.sql", "/usr/bin/mariadb"]
    assert {"--no-defaults", "--sandbox", "--force", "--local-infile=0"} <= set(argv)
    assert argv[-1] == "shop" and "--user=root" in argv
    assert not any("password" in word for word in argv)  # (MYSQL_PWD)


async def test_an_apps_mysql_dump_is_run_in_its_mariadb_before_it_starts(
    builder_service: Service,
) -> None:
    """A shop whose README says to import database/shop.sql (a phpMyAdmin dump: comments,
    ``/*!40101 … */``, a trigger between ``DELIMITER $$`` lines, a statement that fails, a
    view whose definer is an account of the server it was dumped on) into the database its
    .env names: it starts (its first query needs the table), its rows are there, the
    trigger ran, the view answers, and the failing statement is said without failing it."""
    service = builder_service
    require_sandbox(service)
    if mariadb_binary() is None:
        pytest.skip("mariadbd is not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("mysql_declared_dump"))
        events = await service.history(body["gid"])
        said = messages(events, "system")
        assert body["status"] == "running", (body["errorMessage"], said, messages(events)[-20:])
        answer = await service.app_request(body, "GET", "/")
        assert answer is not None and answer.status_code == 200, said
        found: dict[str, Any] = answer.json()
        assert found == {
            "categories": {"T-Shirt": 0, "Shoes; boots": 2},
            "database": "shop",
            "stocked": ["Shoes; boots"],
        }
        assert (await service.stop(body["gid"])).status_code == 200
        # Read once the preview ended: its log writer stores lines in batches, and a
        # history read just after the launch could miss the last of them (a loaded CI).
        said = messages(await service.history(body["gid"]), "system")
        said = [m for m in said if "MariaDB" in m or "SQL" in m]  # what a failure shows
        assert any(
            "database/shop.sql, from the SQL files README.md says to run" in m for m in said
        ), said
        # Its CREATE USER and GRANT, refused while every login is let in, are not told.
        assert any(
            "database/shop.sql ran with errors: ERROR 1146" in m
            and "audit_log" in m
            and "more" not in m
            for m in said
        ), "\n".join(said)


@needs_server
async def test_a_dockerfiles_init_sql_runs_in_the_private_postgresql(
    builder_service: Service,
) -> None:
    """Its database's image (db/Dockerfile, FROM postgres) copies db/schema.sql into its
    init folder; another SQL file creates the table too (scripts/reset.sql), so no "one
    schema file" would be chosen: the Dockerfile's is, said with where it came from."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "postgres_dockerfile_initdb")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        fruit = (await _proxied(service, body, "/fruit"))["data"]
        assert fruit == {"apple": 2, "pear": 3}
        said = messages(await service.history(body["gid"]), "system")
        assert any(
            "PostgreSQL: the upload's SQL (db/schema.sql), from db/Dockerfile" in m for m in said
        ), said
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_migration_tools_files_run_without_their_undoing_part() -> None:
    """maketheworldwise's jam-factory-express-repository keeps dbmate's files in
    db/migrations, each ``-- migrate:up`` then ``-- migrate:down``: run whole, the first
    dropped every table it created, and the next one's rows met "Table
    'JAM_FACTORY.PRODUCT' doesn't exist". sql-migrate's and goose's markers likewise."""
    tables = (
        "-- migrate:up\nCREATE TABLE `PRODUCT` (id INT) ENGINE=InnoDB;\n\n"
        "-- migrate:down\nDROP TABLE `PRODUCT`;\n"
    )
    rows = (
        "-- migrate:up\nINSERT INTO PRODUCT (id) VALUES (1);\n"
        "-- migrate:down\nDELETE FROM PRODUCT;\n"
    )
    files = {
        "db/migrations/20221106170855_create_tables.sql": tables.encode(),
        "db/migrations/20221219035059_product_rows.sql": rows.encode(),
        "package.json": b"{}",
    }
    found = declared_sql(files, MYSQL, compose_init_scripts)
    assert found is not None and len(found.scripts) == 2
    assert all("DROP" not in text and "DELETE" not in text for _, text in found.scripts)
    assert "CREATE TABLE `PRODUCT`" in found.scripts[0][1]
    for marker in ("-- +migrate Down", "-- +goose Down"):
        other = tables.replace("-- migrate:down", marker).replace("-- migrate:up", "")
        one = {"db/schema.sql": other.encode(), "package.json": b"{}"}
        found = declared_sql(one, MYSQL, compose_init_scripts)
        assert found is not None and "DROP" not in found.scripts[0][1], marker


def test_of_several_sql_files_the_one_making_every_table_the_others_make_runs() -> None:
    """youone04's restapi-expressjs-roles: its dump ``sgl/db_restAPi.sql`` makes five
    tables, ``sgl/versi-2/akses_token.sql`` one of them again: neither was run ("Table
    'db_restAPi.mahasiswa' doesn't exist"). Two files making different tables: neither."""
    dump = (
        b"CREATE TABLE `akses_token` (id int) ENGINE=InnoDB;\n"
        b"CREATE TABLE `mahasiswa` (id int) ENGINE=InnoDB;\n"
    )
    part = b"CREATE TABLE IF NOT EXISTS `db_restAPi`.`akses_token` (id int) ENGINE=InnoDB;\n"
    files = {"sgl/db_restAPi.sql": dump, "sgl/versi-2/akses_token.sql": part, "app.js": b""}
    assert _paths(files, MYSQL) == (
        ["sgl/db_restAPi.sql"],
        "its SQL file that creates every table its other SQL files create",
    )
    other = {**files, "sgl/versi-2/akses_token.sql": b"CREATE TABLE `krs` (id int);\n"}
    assert _paths(other, MYSQL) is None


def test_tables_its_queries_name_beside_sql_files_of_a_table_each_are_made_first() -> None:
    """eendrzmail's PWO_backend: db/dump/absences.sql's tables reference employees, which
    no file makes and its routes query: "Can't create table `absences` (errno: 150)",
    then 500s. The tables its queries name that its files do not make, made first."""
    absences = (
        b"CREATE TABLE `absences` (`absence_id` int NOT NULL primary key auto_increment,"
        b" `employee_id` int);\nALTER TABLE absences ADD FOREIGN KEY (employee_id)"
        b" REFERENCES employees(id);\n"
    )
    files = {
        "db/dump/absences.sql": absences,
        "db/dump/schema.sql": b"CREATE TABLE `users` (`email` varchar(250) NOT NULL);\n",
        "package.json": b'{"dependencies": {"express": "^4", "mysql": "^2"}}',
        "controller/employees.js": b"db.query('SELECT e.id, e.imie FROM employees AS e')\n",
    }
    found = declared_sql(files, MYSQL, compose_init_scripts)
    assert found is not None and found.origin.startswith("its SQL files of a table each")
    assert [path for path, _ in found.scripts] == [
        "tables employees",
        "db/dump/absences.sql",
        "db/dump/schema.sql",
    ], found.scripts
    assert "`imie` VARCHAR(255) NULL" in found.scripts[0][1]


def test_sql_files_of_a_table_each_run_referenced_first_then_those_altering_them() -> None:
    """dusansekuloski's ExpressJS-products-CRUD-API-task: ``database/tables/`` holds
    ``create_categories_table.sql``, ``create_products_table.sql``,
    ``create_users_table.sql`` and ``alter_products_table.sql`` (products' foreign key to
    categories): none was run, "relation "categories" does not exist" at every route.
    A table referenced comes before the one referencing it; files of several folders,
    or two making one table, stay as they were (none)."""
    folder = "database/tables/"
    files = {
        f"{folder}create_users_table.sql": b"CREATE TABLE users (id BIGSERIAL PRIMARY KEY);",
        f"{folder}create_products_table.sql": (
            b"CREATE TABLE products (id BIGSERIAL, kind BIGINT REFERENCES kinds(id));"
        ),
        f"{folder}create_kinds_table.sql": b"CREATE TABLE kinds (id BIGSERIAL PRIMARY KEY);",
        f"{folder}alter_products_table.sql": (
            b"ALTER TABLE products ADD COLUMN category_id BIGINT NOT NULL;\n"
            b"ALTER TABLE products ADD CONSTRAINT fk FOREIGN KEY (category_id) REFERENCES"
            b" kinds(id);"
        ),
        "src/server.js": b"",
    }
    found = _paths(files, POSTGRES)
    assert found is not None, found
    assert found[0] == [
        f"{folder}create_kinds_table.sql",
        f"{folder}create_products_table.sql",
        f"{folder}create_users_table.sql",
        f"{folder}alter_products_table.sql",
    ]
    assert found[1].startswith("its SQL files of a table each")
    # Its PostgreSQL is given them (a pg app: no one schema file to run instead).
    node = {**files, "package.json": b'{"dependencies": {"pg": "^8"}}'}
    wants = postgres_wants(node, {})
    assert [path for path, _ in wants.init_scripts] == found[0], wants.init_origin
    twice = {**files, f"{folder}create_users_table.sql": b"CREATE TABLE kinds (id int);"}
    assert _paths(twice, POSTGRES) is None
    apart = {**files, "other/create_users_table.sql": files[f"{folder}create_users_table.sql"]}
    del apart[f"{folder}create_users_table.sql"]
    assert _paths(apart, POSTGRES) is None
