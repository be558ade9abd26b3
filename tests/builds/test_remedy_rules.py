"""Each rule of the remedies' table (``preview.builds.remedies.candidates.LINE_RULES``) is
pinned by the line of the real app whose failure motivated it: its pattern reads that line,
and a rule added without an example here fails. What each rule then does is tested with its
fix in tests/builds/test_remedies.py. Likewise the throwaway values' rules
(``preview.builds.configdefaults.NAME_RULES``), each by a variable its app read, and npm's
reasons (``preview.builds.toolerrors.NPM_REASONS``) by the error npm printed."""

from __future__ import annotations

import pytest

from preview.builds.configdefaults import NAME_RULES, NameRule, throwaway_value
from preview.builds.remedies.candidates import LINE_RULES, LineRule
from preview.builds.toolerrors import NPM_REASONS, NpmReason, tool_failure

# What each rule means (its ``means``) → (the app whose failure motivated it, its line).
MOTIVATING_LINES = {
    "a function of a dependency rejects the arguments the app's call gives it": (
        "a 2017 flask-swagger app under PyYAML 6",
        "TypeError: load() missing 1 required positional argument: 'Loader'",
    ),
    "a method of a dependency's class no longer takes a keyword the app's call passes": (
        "Y-Tarek's flask-newsfeed-app, cursor.execute(query, multi=True) under "
        "mysql-connector-python 9",
        "TypeError: MySQLCursor.execute() got an unexpected keyword argument 'multi'",
    ),
    "a method of a dependency's class takes other positional arguments than the app's call": (
        "pavel-glukhov's FastAPI-Telegram-Auth, TemplateResponse(name, context=…) under the "
        "newest Starlette",
        "TypeError: Jinja2Templates.TemplateResponse() missing 1 required positional "
        "argument: 'name'",
    ),
    "a module is missing": (
        "an async FastAPI app importing aiosqlite, which its requirements do not list",
        "ModuleNotFoundError: No module named 'aiosqlite'",
    ),
    "a module lacks a name the app uses": (
        "an old Flask-RESTful on Python 3.10",
        "AttributeError: module 'collections' has no attribute 'MutableMapping'",
    ),
    "a name cannot be imported from a module": (
        "a Flask app on Flask 3 (flask.escape removed)",
        "ImportError: cannot import name 'escape' from 'flask' (/env/flask/__init__.py)",
    ),
    "a name cannot be imported from the module its line of code names (Python 3.6)": (
        "DarkSide7H's python-Flask-RBAC, flask-restplus under Werkzeug 2 on Python 3.6",
        "ImportError: cannot import name 'cached_property'",
    ),
    "a dataclass's default of a class with no hash, refused since Python 3.11": (
        "sharon1bary's async-fastapi, a settings dataclass's field of another dataclass",
        "ValueError: mutable default <class 'src.config.EndpointsConfig.RunTaskConfig'> for "
        "field run_task_config is not allowed: use default_factory",
    ),
    "a function no longer takes a keyword argument": (
        "an old Django on Python 3.11",
        "TypeError: translation() got an unexpected keyword argument 'codeset'",
    ),
    "a package's own exception says an API was moved or removed": (
        "a FastAPI app on pydantic 2 reading pydantic 1's BaseSettings",
        "pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the "
        "`pydantic-settings` package.",
    ),
    "an object of a dependency lost an attribute": (
        "a flask-marshmallow app on marshmallow-sqlalchemy 0.29",
        "AttributeError: 'Marshmallow' object has no attribute 'ModelSchema'",
    ),
    "Flask has no such command (an extension's, found through pkg_resources)": (
        "a Flask 1 app whose Flask-Migrate `db` command was not found",
        "Error: No such command 'db'.",
    ),
    "an exception or Django's system check says what to install": (
        "a Django shop with an ImageField and no Pillow listed",
        "shop.Item.image: (fields.E210) Cannot use ImageField because Pillow is not installed.",
    ),
    "a compiled package was built for an older NumPy's binary interface": (
        "edesz's fastapi-async-db-auth, pinning pandas==1.2.4 and no numpy (NumPy 2 came)",
        "ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected "
        "96 from C header, got 88 from PyObject",
    ),
    "a module is now a separate project": (
        "an app on lxml 5.2 using lxml.html.clean",
        "ImportError: lxml.html.clean module is now a separate project lxml_html_clean.",
    ),
    "Django cannot load its database driver": (
        "a Django app on PostgreSQL listing no driver",
        "django.core.exceptions.ImproperlyConfigured: Error loading psycopg2 or psycopg module",
    ),
    "a package named by a URL the build does not reach": (
        "Moiz786's demoFastApiInventoryMgmtApp, a freeze listing pgadmin4 by its URL",
        "Failed to download `pgadmin4 @ https://ftp.postgresql.org/pub/pgadmin/pgadmin4/v6.15/"
        "pip/pgadmin4-6.15-py3-none-any.whl`",
    ),
    "a package's download is larger than a build may write": (
        "sarra31's Flask-medical-app, importing TensorFlow in one route's function",
        "uv was stopped writing a file larger than the 256 MiB a build may write "
        "(tensorflow 586.9 MiB)",
    ),
    "a package has wheels for other platforms only": (
        "kiyoshisama's fastapi-blog-sqlalchemy-v2, listing redis-server",
        "hint: Wheels are available for `redis-server` (v6.0.9) on the following platform: "
        "`macosx_10_9_x86_64`",
    ),
    "a package could not be built, or has no wheel for this Python": (
        "flask-rest-hello, whose Pipfile.lock pins pygraphviz 1.14",
        "  × Failed to build `pygraphviz==1.14`",
    ),
    "rest_framework 3.15 refuses what the app's code did before it": (
        "RickZzDev's ApiErpDjango, two viewsets of one model under one basename",
        'django.core.exceptions.ImproperlyConfigured: Router with basename "empresa" is '
        "already registered. Please provide a unique basename for viewset",
    ),
    "flask_pymongo 2.0 refuses what the app's code did before it": (
        "RomanovRomanU's SimpleAppointments-Flask-, PyMongo(app) with no setting",
        "ValueError: You must specify a URI or set the MONGO_URI Flask config variable",
    ),
    "Django 3.2's automatic AppConfig discovery took a config the app never ran with": (
        "xpros' django-rest-framework-todo, its migrations Django 2.2's",
        "django.core.exceptions.ImproperlyConfigured: Cannot import 'todo'. Check that "
        "'todo_app.todo.apps.TodoConfig.name' is correct.",
    ),
}


def test_every_rule_has_the_line_of_the_app_that_motivated_it() -> None:
    assert sorted(rule.means for rule in LINE_RULES) == sorted(MOTIVATING_LINES)


@pytest.mark.parametrize("rule", LINE_RULES, ids=[rule.means for rule in LINE_RULES])
def test_a_rule_reads_its_motivating_line(rule: LineRule) -> None:
    app, text = MOTIVATING_LINES[rule.means]
    assert any(rule.pattern.search(line) for line in text.splitlines()), (app, text)


# What each name rule means → (the app that motivated it, a variable it read, its type,
# the value given: "secret" for a random one of 32 characters or more).
MOTIVATING_VARIABLES = {
    "where its API's documentation is served (a path)": (
        "quangnh-ai's fastapi-assignment",
        "API_DOCS_URL",
        "",
        "/docs",
    ),
    "a JWT's signing algorithm": ("testdriven's fastapi-jwt", "algorithm", "", "HS256"),
    "an IP address, by its schema (its own server's to bind: every interface)": (
        "UsgMathe's study-fastify-products-crud",
        "SERVER_HOST",
        "ip",
        "0.0.0.0",
    ),
    "Django's mail backend": (
        "suwasghale's drf-api",
        "EMAIL_BACKEND",
        "",
        "django.core.mail.backends.console.EmailBackend",
    ),
    "a private key, made for the preview (PEM)": (
        "AndrewHamiliDevelopment's food-ordering-api-nestjs",
        "FIREBASE_PRIVATE_KEY",
        "",
        "-----BEGIN PRIVATE KEY-----\n",
    ),
    "a credential of the shape its issuer's SDK checks": (
        "adjeim's express-video-api",
        "TWILIO_ACCOUNT_SID",
        "",
        "AC",
    ),
    "Cloudinary's account URL": (
        "Code Institute's drf-api template",
        "CLOUDINARY_URL",
        "",
        "cloudinary://",
    ),
    "an e-mail address, by its type": (
        "tiangolo's full-stack-fastapi-template",
        "FIRST_SUPERUSER",
        "EmailStr",
        "preview@example.com",
    ),
    "the app's name, a settings class's bare field": (
        "dev-hans-programmer's fastapi-async-pg-with-todo-app",
        "NAME",
        "str",
        "Preview",
    ),
    "a secret, by its type": ("a FastAPI app's settings", "OPENAI", "SecretStr | None", "secret"),
    "a switch a preview wants on (debug, schema made at start)": (
        "a Flask app reading DEBUG",
        "DEBUG",
        "",
        "true",
    ),
    "a switch of another service's feature": (
        "Valaraucoo's django-api-docker-aws-jwt",
        "USE_S3",
        "",
        "",
    ),
    "a secret, key, token, password or salt": (
        "a FastAPI JWT app",
        "JWT_SECRET_KEY",
        "",
        "secret",
    ),
    "the hosts a Django app serves": ("a Django app on decouple", "DJANGO_ALLOWED_HOSTS", "", "*"),
    "the project's or app's name or version": (
        "tiangolo's full-stack-fastapi-template",
        "PROJECT_NAME",
        "",
        "Preview",
    ),
    "the app's own host name": ("miguelgrinberg's flasky", "SERVER_NAME", "", "localhost"),
    "the app's own address": (
        "a FastAPI app's CORS origin",
        "FRONTEND_URL",
        "",
        "http://localhost",
    ),
    "an address, by its type (SERVER_HOST: AnyHttpUrl, tiangolo's)": (
        "tiangolo's full-stack-fastapi-postgresql",
        "SERVER_HOST",
        "AnyHttpUrl",
        "http://localhost",
    ),
    "an identifier another service issues": (
        "a Django app with Google sign-in",
        "GOOGLE_OAUTH2_CLIENT_ID",
        "",
        "preview-",
    ),
    "an e-mail address": (
        "tiangolo's full-stack-fastapi-template",
        "FIRST_SUPERUSER_EMAIL",
        "",
        "preview@example.com",
    ),
    "a time zone": (
        "fajaaro's python-django-crud-with-jwt",
        "TIME_ZONE",
        "",
        "UTC",
    ),
    "the mail server it sends through": (
        "yanliu1111's fastapi-crud-app",
        "MAIL_SERVER",
        "",
        "localhost",
    ),
    "a mail sender's name": (
        "yanliu1111's fastapi-crud-app",
        "MAIL_FROM_NAME",
        "",
        "Preview",
    ),
    "the path its routes are mounted under": (
        "julietezekwe's Node-Express-Postgres-Boilerplate",
        "API_PREFIX",
        "",
        "/api",
    ),
    "the environment it runs in": ("jin-wk's fastapi-api", "APP_ENV", "", "development"),
    "a person's name": ("waruingugi's fastapi-ecommerce", "SUPERUSER_FIRST_NAME", "str", "Preview"),
    "a telephone number": ("waruingugi's fastapi-ecommerce", "SUPERUSER_PHONE", "str", "+1555"),
    "an account's login name": ("AVIRENI-CHANDAN's flask-todo-mysql", "app_user", "", "preview"),
    "the origins Django's CSRF check and django-cors-headers trust": (
        "saifullahtech's RUXBUX-DRF-Backend",
        "CSRF_TRUSTED_ORIGINS",
        "",
        "http://localhost",
    ),
    "the origins its CORS policy allows": (
        "sudopwr's python-flask-mysql-demo",
        "APP_ORIGINS",
        "",
        "*",
    ),
    "an error tracker's project": ("podrivnick's boilerplate-django-ninja", "SENTRY_DSN", "", ""),
    "a flag, by its type": ("morikeli's fastapi-sqlmodel", "MAIL_STARTTLS", "bool", "false"),
    "a cloud's region": (
        "RahulBishnoi07's nestjs-sequelize-auth-boilerplate",
        "AWS_REGION",
        "",
        "us-east-1",
    ),
    "a storage bucket's name": (
        "nutkiattisak's express-upload-file",
        "GCP_BUCKET_NAME",
        "?",
        "preview-bucket",
    ),
    "a migration tool's table": (
        "RubenOAlvarado's todo-backend-express-knex",
        "KNEX_MIGRATIONS_TABLE_NAME",
        "?",
        "knex_migrations",
    ),
    "a migration or seed tool's folder": (
        "RubenOAlvarado's todo-backend-express-knex",
        "KNEX_SEEDS_DIRECTORY",
        "?",
        "./seeds",
    ),
    "a folder it writes logs or uploads into": (
        "rachmizard's typescript-express-dd",
        "LOG_DIR",
        "?",
        "logs",
    ),
    "a file it keeps its data in": ("anggierz's movies-express", "MOVIES_FILE", "", "movies.json"),
    "its mail server's TLS or SSL switch": (
        "Anasothman55's FastAPI-Gym-api",
        "SMTP_TLS",
        "str",
        "false",
    ),
    "a JWT's audience or issuer": ("stepan-fedorovv's fastapi-user-service", "AUD", "", "preview"),
    "a message broker's host": (
        "rafawildfire42's python-fastapi-user-management",
        "RABBIT_MQ_HOST",
        "",
        "localhost",
    ),
    "Flask-Caching's backend": (
        "deaxparadox's task-flask-user-api",
        "CACHE_TYPE",
        "",
        "SimpleCache",
    ),
}


def test_every_name_rule_has_the_variable_of_the_app_that_motivated_it() -> None:
    assert sorted(rule.means for rule in NAME_RULES) == sorted(MOTIVATING_VARIABLES)


@pytest.mark.parametrize("rule", NAME_RULES, ids=[rule.means for rule in NAME_RULES])
def test_a_name_rule_gives_its_motivating_variable_its_value(rule: NameRule) -> None:
    app, variable, kind, expected = MOTIVATING_VARIABLES[rule.means]
    # The first rule that applies decides: the motivating variable reaches its own.
    first = next(r for r in NAME_RULES if r.kinds(kind) and r.pattern.search(variable.upper()))
    assert first is rule, app
    value = throwaway_value(variable, kind)
    assert value is not None, app
    if expected == "secret":
        assert len(value) >= 32, app
    else:
        assert value.startswith(expected) if expected else value == "", (app, value)


# What each of npm's reasons means → (where it was met, the lines npm printed, the reason).
MOTIVATING_NPM_ERRORS = {
    "a package is not in the registry (E404)": (
        "a generated package.json naming a package that does not exist",
        ["npm error 404  'left-padd-nope@^1.0.0' is not in this registry."],
        "package left-padd-nope@^1.0.0 is not in the registry",
    ),
    "no version of a package matches its range (ETARGET)": (
        "a package.json asking for a release not yet made",
        ["npm error notarget No matching version found for express@^99.0.0."],
        "no version of express matches ^99.0.0",
    ),
    "a package runs on another system or processor (EBADPLATFORM)": (
        "ilkerkaran's cars-express-workshop, its Windows-only msnodesqlv8",
        [
            "npm error code EBADPLATFORM",
            'npm error notsup Unsupported platform for msnodesqlv8@4.1.2: wanted {"os":"win32"} '
            '(current: {"os":"linux"})',
            "npm error notsup Valid os:  win32",
            "npm error notsup Actual os: linux",
        ],
        "the package msnodesqlv8 4.1.2 runs on another system or processor than this Linux's: "
        'it wants {"os":"win32"}',
    ),
    "a dependency from a git repository could not be fetched (its git command)": (
        "Hamed-Ajaj's hono-tasks-api, its stocker's git+ssh dependency",
        [
            "npm error code 128",
            "npm error An unknown git error occurred",
            "npm error command git --no-replace-objects ls-remote "
            "ssh://git@github.com/dwallach1/stocker.git",
            "npm error and the repository exists.",
        ],
        "a dependency it takes from a git repository could not be fetched: "
        "ssh://git@github.com/dwallach1/stocker.git (a build reaches the package registries "
        "only)",
    ),
    "the dependency tree has a conflict (ERESOLVE), the next line naming it": (
        "a NestJS app whose @nestjs/swagger wants another @nestjs/common",
        [
            "npm error code ERESOLVE",
            "npm error ERESOLVE unable to resolve dependency tree",
            "npm error Could not resolve dependency:",
            "npm error peer @nestjs/common@'^9.0.0' from @nestjs/swagger@6.3.0",
        ],
        "npm could not resolve the dependency tree: peer @nestjs/common@'^9.0.0' from "
        "@nestjs/swagger@6.3.0",
    ),
}


def test_every_npm_reason_has_the_error_that_motivated_it() -> None:
    assert sorted(rule.means for rule in NPM_REASONS) == sorted(MOTIVATING_NPM_ERRORS)


@pytest.mark.parametrize("rule", NPM_REASONS, ids=[rule.means for rule in NPM_REASONS])
def test_an_npm_reason_reads_its_motivating_error(rule: NpmReason) -> None:
    where, lines, expected = MOTIVATING_NPM_ERRORS[rule.means]
    found = tool_failure(lines)
    assert found is not None, where
    assert found[0] == expected, where
