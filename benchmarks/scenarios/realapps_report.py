"""The realapps scenario's verdicts and its table.

Each app that is not healthy gets one line of cause (the service's ``errorMessage``, else
the first failing route and its status, else the last error-looking log line) and a class:
``app's`` when the app is genuinely broken (a package or version that no longer exists,
a Python that is not installed, its own syntax error, a name its own code uses and
never defines, as the service diagnoses it; or a ``brokenReason`` in the manifest, read
from its source), ``environment`` when this machine cannot give what it
needs (a host it fetches from at build time that has no route from here: Prisma's
engines from binaries.prisma.sh; a MongoDB server or PostGIS, which nothing installs
here; a hosted service its start makes a client for, Supabase) or
what the service keeps from it by default (a route's call to a host outside: egress
is off unless PREVIEW_EGRESS names the host),
counted neither as ours nor as the app's, else ``ours``. Results go to
``benchmarks/realapps/results.json`` and ``results.md`` after every app, so an
interrupted run leaves a partial table marked as such.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from preview.runtime.smoke import route_missed

# The service's diagnosis of a name the app's own code never defines, and the errors it reads.
_OWN_CODE = "its own code uses names it neither defines nor imports"
_DIAGNOSED_UNDEFINED = re.compile(
    r"(\S+) line \d+ uses ([\w$]+), which \S+ neither defines nor imports"
)
_UNDEFINED_ERROR = re.compile(
    r"NameError: name '(\w+)' is not defined|ReferenceError: ([\w$]+) is not defined"
)
# The service's diagnosis of a request header the app's own code reads as if every caller
# sent one (hcfairbanks' warehouseNestJS: ``req.headers.cookie.split('=')`` in its guard's
# JWT extractor, a 500 to every caller without a cookie), and the TypeError it reads.
_DIAGNOSED_HEADER = re.compile(
    r"diagnosis: (\S+ line \d+ reads the request's [\w-]+ (?:header|query parameter|form field"
    r"|parameter|cookie)) as if every request sent one: a request without it fails there"
    r" \((?:TypeError, reading '([\w$]+)' of undefined|((?:KeyError|AttributeError|TypeError):"
    r" .*?))\) where the app could refuse it"
)
# The error an input not sent gave: Node's read of undefined (its property), Python's
# KeyError or error of None (its whole line).
_UNDEFINED_READ = re.compile(
    r"Cannot read propert(?:ies of undefined \(reading '([\w$]+)'\)|y '([\w$]+)' of undefined)"
    r"|^\s*((?:KeyError|AttributeError|TypeError): (?!Cannot read propert).*?)\s*$"
)
# The service's diagnosis of a view a route renders that the app lacks, and Express's words.
_DIAGNOSED_VIEW = re.compile(r"diagnosis: (the app renders (?:the view \S+|a view and no) .*?) \(")
_VIEW_FAILED = re.compile(
    r"Failed to lookup view |No default engine was specified and no extension was provided"
    r"|\bTemplateDoesNotExist: |\bTemplateNotFound: "
)
_NO_VIEW = "each failing route renders a view the app lacks"
# The service's diagnosis of a Sequelize model file's definer called as the model
# (Victor-Santos-Silva's BackEnd-CoffeeExpress: ``Produto.findAll()`` on
# ``require('../models/Produto')``), and the TypeError it explains.
_DIAGNOSED_DEFINER = re.compile(
    r"diagnosis: (\S+ line \d+ calls ([\w$]+\.[\w$]+)), but [\w$]+ is \S+ export, a function"
    r" that defines the model"
)
_NO_METHOD = re.compile(r"TypeError: ([\w$]+\.[\w$]+) is not a function")
_DEFINER = "each failing route calls a model file's defining function as the model"
# The service's diagnosis of a hosted API's failed answer read as given (Lammmas's
# braintree-express-poc: ``response.clientToken`` in ``gateway.clientToken.generate``'s
# callback, its error unread), and the read of undefined it explains.
_DIAGNOSED_HOSTED = re.compile(
    r"diagnosis: (\S+ line \d+ reads [\w$]+\.([\w$]+) from the answer of \S+), which failed"
)
_HOSTED = "a hosted service's API on the internet, which a preview does not reach"
_HOSTED_ROUTES = f"each failing route reads the answer of a call to {_HOSTED}"
# The service's diagnosis of a handler taking the request for the response (glrodriguez's
# onboarding-Express: ``res => res.send(…)``), and the TypeError it explains (_NO_METHOD).
_DIAGNOSED_SWAPPED = re.compile(
    r"diagnosis: (\S+ line \d+ calls ([\w$]+\.[\w$]+)), but its handler's first parameter"
)
_SWAPPED = "each failing route's handler takes the request Express passes first for the response"
# The service's diagnosis of a MongoDB URL whose port is the app's own PORT (glrodriguez's
# onboarding-Express: ``mongodb://${config.host}:${config.port}/``), and the words of a
# MongoDB client that found no server, which it explains.
_DIAGNOSED_PORT = re.compile(r"diagnosis: (\S+ line \d+ builds its MongoDB URL's port from PORT)")
_MONGO_UNREACHED = re.compile(r"buffering timed out after|Mongo(?:ose)?ServerSelectionError")
_PORT_AS_DATABASE = "each failing route's MongoDB client seeks its server on the app's own PORT"
# The service's diagnosis of a Sequelize include given a model's name in quotes
# (Blackcat-Tinkerngineers' Ecommerce-back-end: ``model: 'Product'``), and Sequelize's error.
_DIAGNOSED_STRING_MODEL = re.compile(
    r"diagnosis: (\S+ line \d+ gives a Sequelize include the string '\w+' as its model)"
)
_NOT_A_MODEL = re.compile(r"include\.model\.getTableName is not a function")
_STRING_MODEL = "each failing route's Sequelize include names its model by a string"
# The service's diagnosis of a pydantic field read off its model's class
# (josellecallora08's paymongo-fastapi: ``Settings.PAYMONGO_TOKEN``), and the error it
# explains: pydantic 2's bare name, or Python's words naming the class.
_DIAGNOSED_FIELD = re.compile(
    r"diagnosis: (\S+ line \d+ reads [\w]+\.(\w+)), but \w+ is a field of the pydantic model"
)
_NO_ATTRIBUTE = re.compile(r"AttributeError: (?:type object '\w+' has no attribute '(\w+)'|(\w+)$)")
_FIELD_OFF_CLASS = "each failing route reads a field of a pydantic model off its class"
# Each failing route explained by one or another of the diagnoses above.
_OWN_ERRORS = "each failing route fails on an error in the app's own code the service diagnosed"
_UNSENT_HEADER = (
    "each failing route reads a request header a caller not signed in does not send, and"
    " fails on it"
)
_UNSENT_QUERY = (
    "each failing route reads a query parameter its caller did not send, and fails on it"
)
# A route whose view takes the caller for a signed-in user without asking for one: Django's
# AnonymousUser where its code wants a User (tucosaurus's and chbauman's todo backends:
# "Field 'id' expected a number but got <…AnonymousUser object…>"), a 500 to any caller
# not signed in, which the routes' probes are: the app's own.
# Django's AnonymousUser, Flask-Login's AnonymousUserMixin (Massssssi's e-scooter-Flask-app:
# "'AnonymousUserMixin' object has no attribute 'account_type'").
_ANONYMOUS = re.compile(r"\bAnonymousUser(?:Mixin)?\b")
_SIGNED_IN = "each failing route takes its caller for a signed-in user without asking for one"
# A GET route that inserts fixed rows (``/populate_schools``: ``School(id=1, …)``), called
# when its database already holds them (mwooddc's FlaskLogin ships its instance/database.db
# filled): each engine's unique-key violation, a 500 on every call but a first one on an
# empty database, which the app's own data rules out.
_DUPLICATE_ROW = re.compile(
    r"UNIQUE constraint failed|duplicate key value violates unique constraint"
    r"|Duplicate entry '.*' for key|SequelizeUniqueConstraintError|E11000 duplicate key"
)
# A route reading a value its session holds only after another request (Flask's
# ``session["responses"]``, set by a POST that starts the flow: juliahowes124's
# FlaskSurvey's ``/questions/0`` met KeyError on a probe's empty session): the app's own.
_SESSION_SET_FIRST = "each failing route reads a session value another request must set first"
_ROWS_HELD = (
    "each failing route inserts rows its database already holds (a unique key refuses them)"
)
# A class-based view whose route the app declares for GET (``@ns.route('/login',
# methods=['GET', 'POST'])``) with no ``get`` method: Flask's MethodView, flask-restx's and
# Flask-RESTful's Resource assert it at every GET (birukbelay's flaskRealEstate).
_UNIMPLEMENTED = re.compile(r"AssertionError: Unimplemented method '(?:GET|HEAD)'")
_NO_GET = "each failing route is declared for GET on a view class with no get method"
# A Django REST framework view listing rows with no queryset to list them from (a
# ViewSet written for its POST alone, registered on a router, which gives it GET too):
# DRF asserts it at every GET (wil31's issue-tracker-softdesk: 'SignupViewset').
_NO_QUERYSET = re.compile(
    r"AssertionError: '\w+' should either include a `queryset` attribute, or override the"
    r" `get_queryset\(\)` method"
)
_NO_ROWS_TO_LIST = "each failing route is a DRF view with no queryset to list"
# A page linking to an endpoint no route of the app registers (``url_for('admin_forgotpsw')``:
# werkzeug's BuildError, "Did you mean 'admin_logout' instead?"), ser180's comicflask.
_UNBUILT_URL = re.compile(r"werkzeug\.routing\.exceptions\.BuildError: Could not build url for")
_NO_ENDPOINT = "each failing route builds a URL for an endpoint the app never registers"
# A view that returns nothing: Django's "didn't return an HttpResponse object. It returned
# None instead." (JazzKriss21's Tourism-Django-Rest's logout_view), Flask's "did not
# return a valid response. The function either returned None or ended without a return".
_RETURNED_NONE = re.compile(
    r"didn't return an HttpResponse object\. It returned None instead"
    r"|did not return a valid response\. The function either returned None"
)
_NO_RESPONSE = "each failing route's view returns no response (None)"
# What every failing route's own lines saying one of these tells of it (after the rest).
_EVERY_ROUTE_SAYS = (
    (_DUPLICATE_ROW, _ROWS_HELD),
    (_UNIMPLEMENTED, _NO_GET),
    (_NO_QUERYSET, _NO_ROWS_TO_LIST),
    (_UNBUILT_URL, _NO_ENDPOINT),
    (_RETURNED_NONE, _NO_RESPONSE),
)
# An app is genuinely broken when its failure says one of these (nothing we could do).
APPS_FAULT = [
    # (first: its reasons, each another entry's words, would be taken for that one alone)
    (re.escape(_OWN_ERRORS), "its routes fail on errors in its own code"),
    (re.escape(_SIGNED_IN), "its routes need a signed-in user and do not ask for one"),
    (re.escape(_UNSENT_HEADER), "its routes fail on a header only a signed-in caller sends"),
    (re.escape(_UNSENT_QUERY), "its routes fail on a query parameter a caller must send"),
    (re.escape(_SWAPPED), "its handlers take the request for the response"),
    (re.escape(_PORT_AS_DATABASE), "its MongoDB URL's port is the app's own PORT"),
    (re.escape(_STRING_MODEL), "its Sequelize includes name their models by strings"),
    (re.escape(_NO_VIEW), "its routes render views it never committed"),
    (re.escape(_DEFINER), "its routes call its model files' definers as models"),
    (re.escape(_FIELD_OFF_CLASS), "its routes read pydantic fields off their model's class"),
    (re.escape(_ROWS_HELD), "its routes insert fixed rows once only"),
    (re.escape(_NO_GET), "its routes are declared for GET with no method to answer it"),
    (re.escape(_NO_ROWS_TO_LIST), "its DRF views have no queryset to list"),
    (re.escape(_NO_ENDPOINT), "its pages link to endpoints it never registers"),
    (re.escape(_NO_RESPONSE), "its routes' views return no response"),
    (re.escape(_SESSION_SET_FIRST), "its routes need a session another request fills"),
    (
        r"its code is Python 2's \(a print statement\), which no Python 3 builds",
        "its pinned packages are Python 2 code (Python 2 ended in 2020)",
    ),
    (r"No solution found when resolving", "its pinned dependencies cannot be resolved"),
    (
        r"E404|is not in the (npm )?registry|404 Not Found - GET|Failed to download .*\(404",
        "a package it names is gone",
    ),
    (r"No interpreter found for Python|no Python interpreter here fits", "a Python not installed"),
    (r"ETARGET|No matching version found", "a version it pins does not exist"),
    (r"a merge conflict left unresolved", "its code holds a merge's conflict markers"),
    (r"\(its code imports [\w.]+\) was left out of the upload", "its own package is not in it"),
    (r"Nest can't resolve dependencies of ", "its Nest modules leave a class's dependency out"),
    (r"publishes a library .* not an app: nothing in it serves", "it is a library, no app"),
    (r"\(the app's own\) defines no \w+: the app's own code", "it imports a name its module lacks"),
    (r"which \S+ lists: a misspelling in the app's own code", "it imports a misspelt module"),
    (r"\.gitignore\): the app's own code", "it requires a module of its own never committed"),
    (r"a syntax error in the app's own code", "its own code does not parse"),
    (r"which the start runs, is empty: nothing in it starts a server", "its entry is empty"),
    (
        r"no module of the app listens: a command-line program, which serves nothing",
        "it is a command-line program: nothing in it serves",
    ),
    (
        r"to use\(\) uncalled, the factory of a body parser",
        "its body parser's factory, used uncalled, answers no request",
    ),
    (
        r"no module of it imports a web framework or server: nothing in it serves",
        "it is no web app: nothing in it serves",
    ),
    (
        # A start's cause (the service's) or failing routes' (``_undefined_names``); not a
        # log line quoted in a cause: the diagnosis of one route of several.
        r"is not defined — \S+ line \d+ uses |" + re.escape(_OWN_CODE),
        "its own code uses a name it never defines",
    ),
]
_OUTSIDE = "each failing route's call to a host outside was stopped (egress is off)"
# The service's diagnosis of a call out: a dotted name or an address (the internet, not a
# service beside it), or "a host" where the error named none (httpx's ConnectError).
_DIAGNOSED_OUTSIDE = re.compile(
    r"diagnosis: the app could not (?:resolve|reach) ([\w-]+\.[\w.-]+|a host): a preview reaches"
)
_UNNAMED = "a host"
# A database server no package of this machine offers, as its client says it reached none
# where a route opens it (Betzuki's FastApiUsuariosSanrioDreams: python-oracledb's
# "DPY-6005: cannot connect to database" in its /usuarios/ answer; SQL Server's 1433).
_NO_SERVER_SAID = re.compile(
    r"\b(?:NJS-50[0-9]|DPY-600[0-9]|ORA-12(?:541|514|170|543))\b|TNS:no listener"
    r"|Failed to connect to [\w.-]+:1433\b|Adaptive Server is unavailable"
)
_SERVER_OUT_OF_REACH = (
    "each failing route opens an Oracle or SQL Server database, which nothing installs here"
)
# This machine's, not the app's nor ours: what the app fetches is out of reach from here.
ENVIRONMENT = [
    (
        # An AWS API its start calls (VelmiraPetkova's Employee-Management-System makes its
        # SES e-mail template at import), on the internet, out of a preview's reach.
        r"botocore\.exceptions\.EndpointConnectionError: Could not connect to the endpoint"
        r' URL: "https://[\w.-]+\.amazonaws\.com',
        "an AWS API its start calls, on the internet, out of a preview's reach",
    ),
    (
        # A Google Cloud client made as the app starts (reidelon's fastapi-sqlmodel-playground:
        # a Pub/Sub publisher at import) looks for its account's credentials, which only
        # its author's machine or cloud has; its APIs are out of a preview's reach too.
        r"google\.auth\.exceptions\.DefaultCredentialsError",
        "Google Cloud's credentials, for hosted APIs out of a preview's reach, are its"
        " author's alone",
    ),
    (
        r"binaries\.prisma\.sh|Prisma's engines could not be fetched",
        "Prisma's engines cannot be downloaded (binaries.prisma.sh has no route from this machine)",
    ),
    (
        r"the app's Prisma has no engine for OpenSSL 3",
        "its Prisma's engines need OpenSSL 1.1, which this machine lacks",
    ),
    (
        re.escape(_SERVER_OUT_OF_REACH),
        "no Oracle or SQL Server database here (none installed; Debian packages none)",
    ),
    (
        # A route's call, or the start's, of a hosted API (Braintree's), whose failed
        # answer the app read as given: the service's words, in a cause or a diagnosis.
        re.escape(_HOSTED),
        "it calls a hosted service's API on the internet (Braintree's), out of the sandbox's reach",
    ),
    (
        re.escape(_OUTSIDE),
        "its routes call hosts outside, which a preview reaches only where the service's"
        " PREVIEW_EGRESS names them (none by default, as here)",
    ),
    (
        # uv's words, and the service's for npm's (Hamed-Ajaj's hono-tasks-api: stocker's
        # dependency from git+ssh://git@github.com/…, its failure git's "and the repository
        # exists.")
        r"Failed to download and build `[\w.-]+ @ git\+|Git operation failed"
        r"|a dependency it takes from a git repository could not be fetched",
        "a dependency it takes from a git repository, which this machine cannot fetch (no route"
        " to github.com; only the package indexes)",
    ),
    (
        # An index its requirements name (``--extra-index-url https://download.pytorch.org/
        # whl/cu124``: TamerOnLine's repo-fastapi-uploads, torch built for CUDA), which
        # this machine has no route to: only PyPI's own hosts.
        r"Failed to fetch: `https?://(?!pypi\.org/|files\.pythonhosted\.org/)[^`/]+/",
        "a package index its requirements name, which this machine cannot reach (only PyPI's"
        " hosts)",
    ),
    (
        r"expects MongoDB(?: \(.*\))?, which cannot be given here",
        "no MongoDB server here (none installed; no registry reached from here offers one)",
    ),
    (
        r"expects a Kafka broker.*, which cannot be given here",
        "no Kafka broker here (none installed; Debian packages none)",
    ),
    (
        r"expects Oracle Database, which cannot be given here",
        "no Oracle Database server here (none installed; Debian packages none)",
    ),
    (
        r"expects Microsoft SQL Server, which cannot be given here",
        "no Microsoft SQL Server server here (none installed; Debian packages none)",
    ),
    (
        r"expects Apache Cassandra, which cannot be given here",
        "no Apache Cassandra server here (none installed; Debian packages none)",
    ),
    (
        r"expects Neo4j, which cannot be given here",
        "no Neo4j server here (none installed; Debian packages none)",
    ),
    (
        r"expects CouchDB, which cannot be given here",
        "no CouchDB server here (none installed; Debian packages none)",
    ),
    (
        r"expects MinIO, which cannot be given here",
        "no MinIO server here (none installed; Debian packages none)",
    ),
    (
        # A geometry column's type is PostGIS's, an extension of PostgreSQL's that this
        # machine's server does not have (apt's postgis package is not installed).
        r'type "(?:geometry|geography|raster)" does not exist|extension "postgis" is not available',
        "PostGIS, whose types its models use, is not installed on this machine's PostgreSQL",
    ),
    (
        # GeoDjango's GDAL, a system library its image installs (apt's gdal-bin, libgdal),
        # which this machine lacks (dgis-demo's goods-delivery-drf: migrate died on it;
        # milad-seify's Tourism-Django: its settings take the first of the machine's
        # /usr/lib/libgdal.so.*, IndexError where there is none).
        r"Could not find the GDAL library|GDAL_LIBRARY_PATH\s*=.*\blibgdal\b",
        "GDAL, the system library GeoDjango loads, is not installed on this machine",
    ),
    (
        # A spaCy model, a wheel of spacy-models' GitHub releases that no index holds
        # (gdenis82's biolectures-flask-postgres: ru_core_news_sm), which this machine
        # cannot reach (github.com is out of its network).
        r"\[E050\] Can't find model '\w+'",
        "its spaCy model is downloaded from GitHub's releases, out of this machine's reach",
    ),
    (
        # Graphviz's programs (dot), which the graphviz package runs and Debian's graphviz
        # gives, not PyPI (ilyaeranov's internet store: its start drew a diagram with dot).
        r"ExecutableNotFound: failed to execute \S*'dot'",
        "Graphviz's dot, a program its graphviz package runs, is not installed on this machine",
    ),
    (
        # pgvector's type, an extension of PostgreSQL's that this machine's server does not
        # have (ppalbuquerque's nestjs-pharmacy-api: its migration's CREATE EXTENSION vector).
        r'extension "vector" is not available|type "vector" does not exist',
        "pgvector, which its migrations or models use, is not installed on this machine's"
        " PostgreSQL",
    ),
    (
        # PostgreSQL 18's own uuidv7(), a column default of its schema (masb0ymas's
        # hono-api-typeorm: default: () => 'uuidv7()'); Debian's server here is 15.
        r"function uuidv7\(\) does not exist",
        "PostgreSQL 18's uuidv7(), which its schema's defaults call: this machine's PostgreSQL"
        " is older (Debian 12's 15)",
    ),
    (
        # The app's start calls an API on the internet and dies when its name does not
        # resolve (vothaison's express-notification: its settings' https URLs on
        # 000webhostapp.com; OLuwis's express-weather-rest-api: api.openweathermap.org),
        # as the service's diagnosis says. A host named like a database's stays ours: a
        # server it expects that the preview could have given in its place.
        # So do Python's clients (curl's "Could not resolve host: guce.yahoo.com",
        # requests' "HTTPSConnectionPool(host='openaipublic.blob.core.windows.net'").
        r"^(?:exited with code \d+: )?.*(?:getaddrinfo \w+ |[Cc]ould not resolve host:? "
        r"|HTTPS?ConnectionPool\(host=')(?![\w.-]*(?:db|database|sql|mongo|redis|rds|cache))"
        r"[\w-]+\.[\w.-]+.* — a preview reaches no host outside this machine",
        "it calls a host on the internet as it starts, out of the sandbox's reach (the service's"
        " PREVIEW_EGRESS lets hosts through)",
    ),
    (
        # Its MongoDB on the internet, an Atlas SRV URL of its own committed .env
        # (iamjv8's e-commerce-fastapi: ``mongodb+srv://…mongodb.net``): pymongo resolves its
        # SRV record at the client's making, which no sandbox resolves, and no MongoDB
        # server here could stand in for it.
        r"pymongo\.errors\.ConfigurationError: (?:cannot open /etc/resolv\.conf|.*DNS)"
        # Node's driver resolving the same SRV record (metinsut's express-2021:
        # "querySrv ECONNREFUSED _mongodb._tcp.cluster1.….mongodb.net")
        r"|querySrv E[A-Z]+ _mongodb\._tcp\.",
        "its MongoDB is on the internet (an SRV URL's), out of the sandbox's reach, and no"
        " MongoDB server is installed here",
    ),
    (
        # A Supabase project, a hosted service on the internet its client is made for at
        # the start (JasonSmith03's plantNestJS: ``createClient(process.env.SUPABASE_URL ||
        # '', …)`` in a provider's constructor, "supabaseUrl is required."): no URL of it
        # is given here, and none would be reached from the sandbox.
        r"\bsupabase(?:Url|Key) is required\b|Invalid supabaseUrl",
        "its Supabase project is a hosted service on the internet: none given here, none"
        " reached from the sandbox",
    ),
    (
        # Only a route's, once the app serves: it calls a host on the internet (Reddit's
        # API), which a sandbox does not resolve (PREVIEW_EGRESS lets hosts through).
        # The service's own egress filter says so too ("egress refused: github.com:443 could
        # not be resolved": yo1cvetkov's node-express-layered), as an SDK's client of an
        # outside service does (Algolia's "Unreachable hosts": leducthai's DRF search).
        r"^\d+/\d+ GET routes fail, .*(?:Temporary failure in name resolution"
        r"|getaddrinfo (?:EAI_AGAIN|ENOTFOUND)|egress refused: \S+ could not be resolved"
        r"|UnreachableHostException: Unreachable hosts)",
        "a route calls a host on the internet, out of the sandbox's reach",
    ),
]
_UNRESOLVED = re.compile(
    r"Temporary failure in name resolution|getaddrinfo (?:EAI_AGAIN|ENOTFOUND)"
)
ERRORISH = re.compile(
    r"(Error|error|Exception|exception|Traceback|FATAL|fatal|not found|refused|denied)"
)
# A line below an error that says where to read about it, not what it was: SQLAlchemy's
# link to its error's page (farmbros' server: its 'type "geography" does not exist', a
# PostGIS type, was hidden behind it).
_ERROR_FOOTER = re.compile(r"\(Background on this error at: ")
# The driver's error SQLAlchemy's names before saying it: "(sqlalchemy.dialects.postgresql.
# asyncpg.ProgrammingError) <class 'asyncpg.exceptions.UndefinedObjectError'>: ".
_WRAPPED_BY = re.compile(r"\((?:[\w]+\.)+\w+\) (?:<class '[\w.]+'>: )?")


class Refused(Exception):
    """The service refused the upload."""


def trim(data: Any) -> Any:
    """A status or launch answer without the bulky or secret parts."""
    if not isinstance(data, dict):
        return data
    drop = {"previewToken", "generatedEndpoints", "endpoints"}
    out = {k: v for k, v in data.items() if k not in drop}
    if isinstance(out.get("errorLines"), list):
        out["errorLines"] = [str(line)[:300] for line in out["errorLines"][-12:]]
    return out


# A browser's own request for a page's icon or image: a route serving one that never answers
# (node-sqlite-api-rubinofran's ``res.status(204)`` with no ``end()`` for /favicon.ico) is
# a blemish of the app's own, not a backend that fails; every other route still decides.
_BROWSER_FILE = re.compile(r"/[^/]+\.(?:ico|png|svg|gif|jpe?g|webp)$", re.IGNORECASE)


def healthy(probes: list[dict[str, Any]]) -> bool:
    """Every probed route answers below 500 (a route failing on purpose aside), and not every
    one answers 404 (it serves none of them, as the smoke check says). A browser file's route
    left unanswered (no status) is marked ``browserFile`` and not counted, unless it is all
    there is to judge by."""
    for probe in probes:
        if probe["status"] is None and _BROWSER_FILE.search(probe["path"]):
            probe["browserFile"] = "no answer: the app's own route for a browser's file"
        named = probe["path"].rstrip("/").rsplit("/", 1)[-1]
        if probe["status"] is not None and probe["status"] >= 500 and named == str(probe["status"]):
            # A route named for the status it answers (tucosaurus's todo-backend-django:
            # ``url(r'^500/$', handler500)``, its error page shown): its answer is its point.
            probe.setdefault("onPurpose", "a route named for the status it answers")
    judged = [p for p in probes if "browserFile" not in p] or probes
    return all(
        (p["status"] is not None and p["status"] < 500) or "onPurpose" in p for p in judged
    ) and not (len(judged) > 1 and all(_not_routed(p) for p in judged))


def _not_routed(probe: dict[str, Any]) -> bool:
    """Whether ``probe`` answered 404 in its framework's words for a path no route has (a
    route's own 404, a row not found in an empty table, is its answer)."""
    return probe["status"] == 404 and route_missed(str(probe.get("body") or ""))


def _undefined_names(failing: list[dict[str, Any]], tail: list[str]) -> str | None:
    """The service's diagnoses of names the app's own code uses and never defines
    (``CodeErrors``), where every failing route's log lines show one of them failing:
    "status in app/main.py line 8"; None where any route failed otherwise."""
    said = {m.group(2): m.group(0) for line in tail if (m := _DIAGNOSED_UNDEFINED.search(line))}
    if not said:
        return None
    routes = ([str(line) for line in p.get("logLines", [])] for p in failing)
    if not _each_shows_one(routes, _UNDEFINED_ERROR, said.keys()):
        return None
    return "; ".join(said[name] for name in sorted(said))


def _each_shows_one(
    routes: Iterable[list[str]], error: re.Pattern[str], keys: Collection[str]
) -> bool:
    """Whether each route's log lines show ``error`` naming one of ``keys`` (the first of
    its groups that matched): a diagnosis explains every failing route."""
    for lines in routes:
        named = {
            next((g for g in m.groups() if g), "") for line in lines if (m := error.search(line))
        }
        if not named & set(keys):
            return False
    return True


def _unsent_inputs(
    failing: list[dict[str, Any]], probes: list[dict[str, Any]], tail: list[str]
) -> str | None:
    """The service's diagnoses of request headers the app's own code reads as if every
    caller sent one, where every failing route's log lines show a read of undefined that
    one of them explains; None where any route failed otherwise. A route whose window
    holds no error line is read by the next window's, where a line printed late falls
    (Nest logs an unhandled error after it has answered: warehouseNestJS's first route's
    lines were its second's)."""
    said: dict[str, str] = {}
    for line in tail:
        if (m := _DIAGNOSED_HEADER.search(line)) is not None:
            said.setdefault(m.group(2) or m.group(3), m.group(1))
    if not said:
        return None
    if not _each_shows_one((_window_lines(p, probes) for p in failing), _UNDEFINED_READ, said):
        return None
    return "; ".join(sorted(set(said.values())))


def _window_lines(probe: dict[str, Any], probes: list[dict[str, Any]]) -> list[str]:
    """A probe's log lines, or the next probe's where it has none: a line printed late
    falls in the next window (see :func:`_unsent_inputs`)."""
    lines = probe.get("logLines") or []
    at = next((i for i, p in enumerate(probes) if p is probe), len(probes))
    if not lines and at + 1 < len(probes):
        lines = probes[at + 1].get("logLines") or []
    return [str(line) for line in lines]


def _diagnosed_each(
    diagnosis: re.Pattern[str],
    error: re.Pattern[str],
    failing: list[dict[str, Any]],
    probes: list[dict[str, Any]],
    tail: list[str],
) -> str | None:
    """The service's diagnoses (``diagnosis``: what it says, and the name it is of) where
    every failing route's log lines show ``error`` naming one of them: a model file's
    defining function called as the model, a handler taking the request for the response
    (both ``TypeError: x.y is not a function``), a pydantic field read off its model's
    class; None where any route failed otherwise."""
    said = {m.group(2): m.group(1) for line in tail if (m := diagnosis.search(line))}
    if not said:
        return None
    if not _each_shows_one((_window_lines(p, probes) for p in failing), error, said):
        return None
    return "; ".join(sorted(set(said.values())))


def _ports_as_database(
    failing: list[dict[str, Any]], probes: list[dict[str, Any]], tail: list[str]
) -> str | None:
    """The service's diagnosis of a MongoDB URL on the app's own PORT, where every failing
    route's log lines show its MongoDB client finding no server; None otherwise."""
    said = {m.group(1) for line in tail if (m := _DIAGNOSED_PORT.search(line))}
    if not said or not all(
        any(_MONGO_UNREACHED.search(line) for line in _window_lines(p, probes)) for p in failing
    ):
        return None
    return "; ".join(sorted(said))


def _string_models(
    failing: list[dict[str, Any]], probes: list[dict[str, Any]], tail: list[str]
) -> str | None:
    """The service's diagnosis of a Sequelize include given a model's name in quotes,
    where every failing route's log lines show Sequelize failing on such an include; None
    otherwise."""
    said = {m.group(1) for line in tail if (m := _DIAGNOSED_STRING_MODEL.search(line))}
    if not said or not all(
        any(_NOT_A_MODEL.search(line) for line in _window_lines(p, probes)) for p in failing
    ):
        return None
    return "; ".join(sorted(said))


_Routes = list[dict[str, Any]]


def _own_error_checks(
    probes: _Routes, tail: list[str]
) -> tuple[tuple[Callable[[_Routes], str | None], Callable[[str], str]], ...]:
    """The service's diagnoses of the app's own errors, each a check of failing routes
    (what explains every one of them, else None) and the verdict of what it found."""
    return (
        (lambda routes: _undefined_names(routes, tail), lambda _: _OWN_CODE),
        (
            lambda routes: _unsent_inputs(routes, probes, tail),
            # (moltin's braintree-express-app: ``req.query.customer`` passed on unread)
            lambda said: _UNSENT_HEADER if "header" in said else _UNSENT_QUERY,
        ),
        (
            lambda routes: _diagnosed_each(_DIAGNOSED_DEFINER, _NO_METHOD, routes, probes, tail),
            lambda _: _DEFINER,
        ),
        (
            lambda routes: _diagnosed_each(_DIAGNOSED_FIELD, _NO_ATTRIBUTE, routes, probes, tail),
            lambda _: _FIELD_OFF_CLASS,
        ),
        (
            lambda routes: _diagnosed_each(_DIAGNOSED_SWAPPED, _NO_METHOD, routes, probes, tail),
            lambda _: _SWAPPED,
        ),
        (lambda routes: _ports_as_database(routes, probes, tail), lambda _: _PORT_AS_DATABASE),
        (lambda routes: _string_models(routes, probes, tail), lambda _: _STRING_MODEL),
        (lambda routes: _unrendered_views(routes, probes, tail), lambda _: _NO_VIEW),
    )


def _each_own_error(failing: _Routes, probes: _Routes, tail: list[str]) -> str | None:
    """What explains each failing route, where one or another of the service's diagnoses
    of the app's own errors (:func:`_own_error_checks`), or of the reasons every route's
    own lines show (:func:`_said_by_every`), explains each (glrodriguez's
    onboarding-Express: a handler taking the request for the response at two, a MongoDB
    URL on its own PORT at the third); None where any route is explained by none."""
    checks = [check for check, _ in _own_error_checks(probes, tail)]
    checks.append(lambda routes: _said_by_every(routes, probes))
    said: set[str] = set()
    for probe in failing:
        found = next((s for check in checks if (s := check([probe])) is not None), None)
        if found is None:
            return None
        said.add(found)
    return "; ".join(sorted(said))


def _said_by_every(failing: list[dict[str, Any]], probes: list[dict[str, Any]]) -> str | None:
    """The reason every failing route's own lines show, of a caller taken for a signed-in
    user or one of :data:`_EVERY_ROUTE_SAYS` (JazzKriss21's Tourism-Django-Rest: a logout
    view returning None, beside two templates never committed); None where there is none."""
    lines = [" ".join(_window_lines(probe, probes)) for probe in failing]
    return next(
        (
            verdict
            for pattern, verdict in ((_ANONYMOUS, _SIGNED_IN), *_EVERY_ROUTE_SAYS)
            if all(pattern.search(text) for text in lines)
        ),
        None,
    )


def _hosted_calls(
    failing: list[dict[str, Any]], probes: list[dict[str, Any]], tail: list[str]
) -> str | None:
    """The service's diagnoses of a hosted API's failed answers read as given, where every
    failing route's log lines show a read of undefined one of them explains; None where
    any route failed otherwise."""
    said = {m.group(2): m.group(1) for line in tail if (m := _DIAGNOSED_HOSTED.search(line))}
    if not said:
        return None
    if not _each_shows_one((_window_lines(p, probes) for p in failing), _UNDEFINED_READ, said):
        return None
    return "; ".join(sorted(set(said.values())))


def _unrendered_views(
    failing: list[dict[str, Any]], probes: list[dict[str, Any]], tail: list[str]
) -> str | None:
    """The service's diagnoses of views the app renders and lacks (a file no upload's
    name, an engine no module sets), where every failing route's log lines show Express
    failing to render one; None where any route failed otherwise."""
    said = sorted({m.group(1) for line in tail if (m := _DIAGNOSED_VIEW.search(line))})
    if not said or not all(
        any(_VIEW_FAILED.search(line) for line in _window_lines(p, probes)) for p in failing
    ):
        return None
    return "; ".join(said)


def _called_out(probe: dict[str, Any], diagnosed: bool) -> bool:
    """Whether a failing route failed on a call out: the proxy said egress stopped it, or
    (the service having diagnosed a call outside, ``diagnosed``) its own answer or the log
    lines printed while it was answered (``logLines``) tell a failed name lookup. The lines
    tie the unnamed diagnosis ("could not resolve a host") to the routes it explains
    (houyuhang915's zhilian-recruitment-fastapi: httpx's ConnectError names no host)."""
    if "PREVIEW_EGRESS" in str(probe.get("appError")):
        return True
    told = [str(probe.get("body") or ""), *map(str, probe.get("logLines", []))]
    return diagnosed and any(_UNRESOLVED.search(text) for text in told)


def attribute_lines(probes: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """Gives each failing probe the error-looking log lines printed while it was answered
    (``logLines``): those stamped from its start (``began``, epoch seconds) to the next
    probe's. A line printed late falls into the next window; the last window is open."""
    starts = [float(p.get("began", 0.0)) for p in probes]
    for index, probe in enumerate(probes):
        if probe.get("status") is not None and probe["status"] < 500:
            continue
        end = starts[index + 1] if index + 1 < len(probes) else float("inf")
        lines = [
            str(event.get("message", ""))[:300]
            for event in events
            if starts[index] <= _stamp(event) < end and ERRORISH.search(str(event.get("message")))
        ]
        if lines and _FRAME_LINE.match(lines[-1]):
            # A traceback cut by the window's end (shahriar350's inventory DRF app: its
            # frames in the route's window, "TypeError: … AnonymousUser …" in the next):
            # its lines on to the exception's own.
            later = (
                str(event.get("message", ""))[:300] for event in events if _stamp(event) >= end
            )
            for line in itertools.islice(later, 40):
                lines.append(line)
                if not _FRAME_LINE.match(line):
                    break
        probe["logLines"] = lines[-20:]


# A line of a Python traceback before its exception's: a frame, its code, its heading.
_FRAME_LINE = re.compile(r"^(?:\s|Traceback \(most recent call last\)|During handling|The above)")


def _stamp(event: dict[str, Any]) -> float:
    """A log event's timestamp, epoch seconds (0 where it has none that reads)."""
    try:
        return datetime.fromisoformat(str(event.get("timestamp"))).timestamp()
    except ValueError:
        return 0.0


def _cause(result: dict[str, Any]) -> str:
    if result.get("rawCause"):
        return str(result["rawCause"])
    status = result.get("status") or {}
    answer = result.get("launchAnswer") or {}
    if answer.get("refused"):
        said = ": ".join(str(answer[k]) for k in ("error", "message") if answer.get(k))
        return f"launch refused {answer['refused']}: {said}"
    if status.get("timedOut"):
        return f"no running/failed after the timeout (phase {status.get('phase')})"
    if status.get("errorMessage"):
        return str(status["errorMessage"])
    if result.get("launched_again") is False:
        return f"second launch: {status.get('status')}"
    failing = [
        p
        for p in result.get("probes", [])
        if (p["status"] is None or p["status"] >= 500)
        and "onPurpose" not in p
        and "browserFile" not in p
    ] or [p for p in result.get("probes", []) if p["status"] is None]
    if failing:
        first = failing[0]
        head = f"{len(failing)}/{len(result['probes'])} GET routes fail, {first['path']}"
        head += f" → {first['status']}"
        # The service's diagnoses of calls to hosts outside (a dotted name or an address:
        # the internet, not a service beside it), one a host: as many as failing routes.
        diagnosed = {
            m.group(1)
            for line in result.get("logTail", [])
            if (m := _DIAGNOSED_OUTSIDE.search(line)) is not None
        }
        outside = diagnosed - {_UNNAMED}
        if all(_called_out(p, bool(diagnosed)) for p in failing) or len(outside) >= len(failing):
            return f"{head}: {_OUTSIDE}" + (f" ({', '.join(sorted(outside))})" if outside else "")
        probes, tail = result.get("probes", []), result.get("logTail", [])
        for diagnosed_by, verdict in _own_error_checks(probes, tail):
            if (diagnoses := diagnosed_by(failing)) is not None:
                return f"{head}: {verdict(diagnoses)} ({diagnoses})"
        hosted = _hosted_calls(failing, probes, tail)
        if hosted is not None:
            return f"{head}: {_HOSTED_ROUTES} ({hosted})"
        lines = [" ".join(map(str, p.get("logLines", []))) for p in failing]
        if all(_ANONYMOUS.search(text) for text in lines):
            return f"{head}: {_SIGNED_IN}"
        said = [" ".join(map(str, [*p.get("logLines", []), p.get("body") or ""])) for p in failing]
        if all(_NO_SERVER_SAID.search(text) for text in said):
            return f"{head}: {_SERVER_OUT_OF_REACH}"
        if all(_reads_unset_session(p, result.get("logTail", [])) for p in failing):
            return f"{head}: {_SESSION_SET_FIRST}"
        for pattern, verdict in _EVERY_ROUTE_SAYS:
            if all(pattern.search(text) for text in lines):
                return f"{head}: {verdict}"
        # (last: where one reason explains every route, its own verdict above says so)
        own = _each_own_error(failing, result.get("probes", []), result.get("logTail", []))
        if own is not None:
            return f"{head}: {_OWN_ERRORS} ({own})"
        tail = [
            line
            for line in result.get("logTail", [])
            if ERRORISH.search(line) and not _ERROR_FOOTER.match(line.strip())
        ]
        hint = f"; log: {_WRAPPED_BY.sub('', tail[-1])[:160]}" if tail else ""
        # A route that catches the failure and answers with it, logging nothing
        # (dwaynewyj's fastapi-pokemon: {"detail": "[Errno -3] Temporary failure in name
        # resolution"} from PokeAPI's call): its answer says the cause.
        unresolved = [p for p in failing if _UNRESOLVED.search(str(p.get("body") or ""))]
        if unresolved and not any(_UNRESOLVED.search(line) for line in tail):
            hint += f"; answer: {str(unresolved[0]['body'])[:160]}"
        return (
            f"{len(failing)}/{len(result['probes'])} GET routes fail, "
            f"{first['path']} → {first['status']}{hint}"
        )
    probes = result.get("probes", [])
    if len(probes) > 1 and all(_not_routed(p) for p in probes):
        return f"all {len(probes)} GET routes answer 404 (it serves none of them)"
    return f"status {status.get('status')}"


def _reads_unset_session(probe: dict[str, Any], log: list[str]) -> bool:
    """Whether a failing probe ends in a KeyError of a key the app's code reads from its
    session: its lines' own, else the log's traceback of that key (a probe keeps a few
    lines of it, where Flask's frames crowd the app's out)."""
    lines = [str(line) for line in probe.get("logLines", [])]
    keys = [m.group(1) for line in lines if (m := _KEY_ERROR.match(line.strip()))]
    if not keys:
        return False
    for text in (lines, [str(line) for line in log]):
        for at, line in enumerate(text):
            found = _KEY_ERROR.match(line.strip())
            if found and found.group(1) == keys[-1]:
                read = f"session[{found.group(1)!r}]", f'session["{found.group(1)}"]'
                if any(r in before for before in text[max(0, at - 8) : at] for r in read):
                    return True
    return False


_KEY_ERROR = re.compile(r"^KeyError: '([\w-]+)'$")


_ABSENT = " (absent from the mirror)"


def _lacked_by_the_mirror(result: dict[str, Any], text: str) -> str | None:
    """A file of the app's repository its failure names that the mirror it was taken
    from lacks (VictordotCC's API_Match_Inmobiliario reads its comunas.shp, listed in the
    mirror, not stored: "No such file or directory" at its start); None otherwise."""
    for skipped in result.get("skipped") or []:
        if skipped.endswith(_ABSENT) and skipped.removesuffix(_ABSENT) in text:
            return skipped.removesuffix(_ABSENT)
    return None


def classify(result: dict[str, Any], entry: dict[str, Any]) -> None:
    """Sets ``cause`` and ``class`` (ours / app's) on a result that is not healthy."""
    if result.get("fetched") is False:
        result["class"] = "not run"
        return
    if result.get("healthy"):
        result["class"] = ""
        return
    result["healthy"] = False
    if result.get("fromTable") and (result.get("class") != "ours" or not entry.get("brokenReason")):
        return  # a row of results.md read back: its verdict is all it tells (its cause, cut)
    whole = " ".join(_cause(result).split())  # (read whole: what tells may end it)
    result["rawCause"] = whole[:300]
    result["cause"] = result["rawCause"]
    if entry.get("brokenReason"):
        result["class"] = "app's"
        result["cause"] = f"{entry['brokenReason']} ({result['cause'][:160]})"
        return
    text = (
        whole
        + "\n"
        + "\n".join(str(x) for x in (result.get("status") or {}).get("errorLines", []) or [])
    )
    if (lacked := _lacked_by_the_mirror(result, text)) is not None:
        result["class"] = "environment"
        result["cause"] = (
            f"a file of its repository the corpus's mirror lacks (its largest files are"
            f" listed, not stored): {lacked}: {result['cause']}"
        )[:300]
        return
    for patterns, verdict in ((APPS_FAULT, "app's"), (ENVIRONMENT, "environment")):
        for pattern, why in patterns:
            if re.search(pattern, text):
                result["class"] = verdict
                result["cause"] = f"{why}: {result['cause']}"[:300]
                return
    result["class"] = "ours"


def one_line(result: dict[str, Any]) -> str:
    if result.get("healthy"):
        return f"healthy, cold {result.get('cold_s')} s, cached {result.get('cached_s')} s"
    return f"{result.get('class')}: {result.get('cause')}"


def summary(results: list[dict[str, Any]], planned: int) -> dict[str, Any]:
    ran = [r for r in results if r.get("class") != "not run"]
    healthy = [r for r in ran if r.get("healthy")]
    apps_fault = [r for r in ran if r.get("class") == "app's"]
    environment = [r for r in ran if r.get("class") == "environment"]
    ours = [r for r in ran if r.get("class") == "ours"]
    not_broken = len(ran) - len(apps_fault) - len(environment)
    return {
        "planned": planned,
        "ran": len(ran),
        "not_fetched": len(results) - len(ran),
        "launched": sum(1 for r in ran if r.get("launched")),
        "healthy": len(healthy),
        "ours": len(ours),
        "apps_fault": len(apps_fault),
        "environment": len(environment),
        "healthy_of_not_broken": round(100 * len(healthy) / not_broken, 1) if not_broken else None,
        "times": launch_times(healthy),
    }


def _percentile(values: list[float], share: float, digits: int = 1) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], digits)


_OWN_START = "starting"  # the phase from the app's spawn to its first answer
_QUICK_START = 1.5  # s: issue 68's apps "whose own start is under 1.5 s"


def _service_seconds(results: list[dict[str, Any]], kind: str) -> list[float]:
    """Each launch's seconds less the app's own start: its phases but ``starting``
    (the service's part: preparing, install, build, data init, waiting to start)."""
    added = []
    for result in results:
        phases = result.get(f"{kind}_phases") or ()
        if any(phase["phase"] == _OWN_START for phase in phases):
            added.append(sum(p["seconds"] for p in phases if p["phase"] != _OWN_START))
    return added


def _quick_starters(results: list[dict[str, Any]], kind: str) -> list[float]:
    """The launch seconds (until running) of the apps whose own start took under 1.5 s."""
    seconds = []
    for result in results:
        phases = result.get(f"{kind}_phases") or ()
        own = [p["seconds"] for p in phases if p["phase"] == _OWN_START]
        if own and own[0] < _QUICK_START and result.get(f"{kind}_running_s"):
            seconds.append(result[f"{kind}_running_s"])
    return seconds


def launch_times(healthy: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Cold and cached launch seconds of the healthy apps, p50/p75/p90, and each
    phase's (the status's ``phases``: where a launch's time went, issue 68) p50/p90,
    over the apps whose run recorded them."""
    times: dict[str, dict[str, Any]] = {}
    for kind in ("cold", "cached"):
        seconds = [r[f"{kind}_s"] for r in healthy if r.get(f"{kind}_s") is not None]
        if not seconds:
            continue
        entry: dict[str, Any] = {"apps": len(seconds)}
        entry.update({f"p{p}": _percentile(seconds, p / 100) for p in (50, 75, 90)})
        # Until it said running, before its smoke check (runs recorded since 2026-11-28).
        running = [r[f"{kind}_running_s"] for r in healthy if r.get(f"{kind}_running_s")]
        if running:
            entry["running"] = {
                "apps": len(running),
                **{f"p{p}": _percentile(running, p / 100) for p in (50, 75, 90)},
            }
        by_phase: dict[str, list[float]] = {}
        for result in healthy:
            for phase in result.get(f"{kind}_phases") or ():
                by_phase.setdefault(phase["phase"], []).append(phase["seconds"])
        entry["phases"] = {
            phase: {"apps": len(v), "p50": _percentile(v, 0.5), "p90": _percentile(v, 0.9)}
            for phase, v in by_phase.items()
        }
        # Issue 68's figures: a launch less the app's own start (cached: ≤ 0.5 s at p50,
        # ≤ 1.5 s at p90), and the quick starters' launches (cached: ≤ 3 s at p90).
        if added := _service_seconds(healthy, kind):
            entry["service_added"] = {
                "apps": len(added),
                "p50": _percentile(added, 0.5, 2),
                "p90": _percentile(added, 0.9, 2),
            }
        if quick := _quick_starters(healthy, kind):
            entry["quick_starters"] = {"apps": len(quick), "p90": _percentile(quick, 0.9)}
        times[kind] = entry
    return times


def _times_lines(times: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for kind, entry in times.items():
        lines.append(
            f"**{kind.capitalize()} launches** of the {entry['apps']} healthy apps: p50 "
            f"{entry['p50']} s, p75 {entry['p75']} s, p90 {entry['p90']} s (until its smoke "
            "check is done)."
        )
        if "running" in entry:
            ran = entry["running"]
            lines.append(
                f"Until it said running ({ran['apps']} apps): p50 {ran['p50']} s, p75 "
                f"{ran['p75']} s, p90 {ran['p90']} s."
            )
        if entry["phases"]:
            cells = [
                f"{phase} {t['p50']}/{t['p90']} s ({t['apps']})"
                for phase, t in entry["phases"].items()
            ]
            lines.append(f"By phase (p50/p90, apps): {'; '.join(cells)}.")
        if "service_added" in entry:
            added = entry["service_added"]
            lines.append(
                f"The service's part, the launch less the app's own start ({added['apps']} "
                f"apps): p50 {added['p50']} s, p90 {added['p90']} s."
            )
        if "quick_starters" in entry:
            quick = entry["quick_starters"]
            lines.append(
                f"Apps whose own start took under {_QUICK_START} s ({quick['apps']}): until "
                f"running p90 {quick['p90']} s."
            )
    return lines


def _s(value: Any) -> str:
    return "–" if value is None else str(value)


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def markdown(
    results: list[dict[str, Any]],
    figures: dict[str, Any],
    partial: bool,
    kept: int = 0,
    earlier_heading: str = "",
    again: Sequence[str] = (),
    command: str = "python -m benchmarks realapps",
) -> str:
    """The table; ``kept``: how many of its rows are an earlier run's (an ``--only`` run's
    others), which its heading then says rather than claiming them; ``earlier_heading``:
    that earlier table's heading (where each of its rows comes from), which this run's
    then follows rather than replaces, naming the apps it ran (``again``)."""
    now = len(results) - kept
    run = f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {_commit()}, `{command}`"
    if kept and earlier_heading:
        which = f" ({', '.join(again)})" if again else ""
        heading = (
            f"{earlier_heading.rstrip()} — then {now} app{'s' * (now != 1)}{which} run again {run}"
        )
    else:
        earlier = f"; the other {kept} rows as the earlier results had them" if kept else ""
        heading = f"Run {run}" + (f" of {now} app{'s' * (now != 1)}{earlier}" if kept else "")
    lines = [
        heading
        + (f" — **PARTIAL: {figures['ran']} of {figures['planned']} apps**" if partial else ""),
        "",
        "| app | shape | launched | healthy | cold s | cached s | endpoints found/real "
        "| cause | ours/app's |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        yes = {True: "yes", False: "no", None: "–"}
        cells = [
            r["name"],
            r.get("shape", ""),
            yes[r.get("launched")],
            yes[r.get("healthy")] if r.get("class") != "not run" else "–",
            _s(r.get("cold_s")),
            _s(r.get("cached_s")),
            f"{_s(r.get('endpointsFound'))}/{_s(r.get('expected'))}",
            (r.get("cause") or "").replace("|", "\\|").replace("\n", " ")[:220],
            r.get("class") or "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    pct = figures["healthy_of_not_broken"]
    lines += [
        "",
        f"**Summary**: {figures['ran']} apps run ({figures['not_fetched']} not fetched), "
        f"{figures['launched']} launched, {figures['healthy']} healthy; not healthy: "
        f"{figures['ours']} ours, {figures['apps_fault']} the app's, "
        f"{figures.get('environment', 0)} this machine's (environment). Healthy / not "
        f"genuinely broken nor out of reach here: {figures['healthy']}/"
        f"{figures['ran'] - figures['apps_fault'] - figures.get('environment', 0)} = "
        f"{_s(pct)} % (target ≥ 90 %).",
    ]
    times = figures.get("times") or {}
    if times:
        lines += ["", *_times_lines(times)]
    return "\n".join(lines) + "\n"


def write(
    results: list[dict[str, Any]],
    planned: int,
    out_json: Path,
    *,
    partial: bool,
    kept: int = 0,
    earlier_heading: str = "",
    again: Sequence[str] = (),
    command: str = "python -m benchmarks realapps",
) -> dict[str, Any]:
    figures = summary(results, planned)
    body = {"summary": figures, "partial": partial, "results": results}
    _replace(out_json, json.dumps(body, indent=1, default=str) + "\n")
    table = markdown(results, figures, partial, kept, earlier_heading, again, command)
    _replace(out_json.with_suffix(".md"), table)
    return figures


def table_heading(table: Path) -> str:
    """A ``results.md``'s heading (its first line: where its rows come from), or ""."""
    try:
        first = table.read_text().split("\n", 1)[0]
    except OSError:
        return ""
    return "" if first.startswith("|") else first


_CELL = re.compile(r"(?<!\\)\|")  # a cell's edge: a pipe not escaped (a cause's are)
_YES = {"yes": True, "no": False}


def results_from_table(table: Path) -> list[dict[str, Any]]:
    """The rows of a ``results.md`` (:func:`markdown`'s) as results, as far as it tells:
    what a run of some apps keeps of the others when no ``results.json`` is there (a new
    clone or worktree: the JSON is never committed), so that it replaces their rows in
    the committed table rather than leaving its own alone."""
    results = []
    for line in table.read_text().splitlines():
        # Each cell is " text " (a cut cause may end in its own space: kept).
        cells = [c[1:-1] if len(c) >= 2 else c.strip() for c in _CELL.split(line)[1:-1]]
        if len(cells) != 9 or cells[0] in ("app", "---"):
            continue
        name, shape, launched, healthy, cold, cached, endpoints, cause, kind = cells
        found, _, expected = endpoints.partition("/")
        results.append(
            {
                "name": name,
                "shape": shape,
                "launched": _YES.get(launched),
                "healthy": _YES.get(healthy),
                "cold_s": None if cold == "–" else float(cold),
                "cached_s": None if cached == "–" else float(cached),
                "endpointsFound": None if found in ("–", "") else int(found),
                "expected": None if expected in ("–", "") else int(expected),
                "cause": cause.replace("\\|", "|") or None,
                "rawCause": cause.replace("\\|", "|") or None,
                "class": kind or None,
                "fromTable": True,  # classify keeps its verdict
            }
        )
    return results


def _replace(path: Path, text: str) -> None:
    """Whole or not at all (a full disk on this shared machine once cut results.json)."""
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text)
    scratch.replace(path)


def rerender(results_json: Path, manifest: Path) -> dict[str, Any]:
    """Classify the saved results again with the manifest as it is now (its counts of real
    routes, its ``brokenReason`` verdicts) and rewrite the JSON and the table."""
    saved = json.loads(results_json.read_text())
    entries = {e["name"]: e for e in json.loads(manifest.read_text())}
    results = saved["results"]
    for result in results:
        entry = entries.get(result["name"], {})
        result["expected"] = entry.get("expectedEndpoints", result.get("expected"))
        classify(result, entry)
    planned = saved["summary"]["planned"]
    return write(results, planned, results_json, partial=len(results) < planned)


if __name__ == "__main__":
    import sys

    here = Path(__file__).resolve().parent.parent / "realapps"
    print(
        rerender(
            Path(sys.argv[1]) if sys.argv[1:] else here / "results.json",
            Path(sys.argv[2]) if sys.argv[2:] else here / "manifest.json",
        )
    )
