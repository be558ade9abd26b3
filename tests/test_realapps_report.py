"""The realapps report's verdicts: ours, the app's, or this machine's (environment)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.scenarios.realapps_report import (
    attribute_lines,
    classify,
    healthy,
    markdown,
    results_from_table,
    summary,
)

_TABLE = Path(__file__).resolve().parent.parent / "benchmarks" / "realapps" / "results.md"


def _failed(message: str, lines: tuple[str, ...] = ()) -> dict:
    return {"name": "x", "status": {"errorMessage": message, "errorLines": list(lines)}}


def test_prisma_engines_out_of_reach_are_the_environments() -> None:
    result = _failed("Prisma's engines could not be fetched from binaries.prisma.sh (403)")
    classify(result, {})
    assert result["class"] == "environment"
    assert "binaries.prisma.sh" in result["cause"]


def test_an_index_out_of_reach_is_the_environments_pypis_own_ours() -> None:
    """TamerOnLine's repo-fastapi-uploads takes torch from ``--extra-index-url
    https://download.pytorch.org/whl/cu124``, which has no route from here; a failure to
    fetch from PyPI itself stays ours."""
    said = "Request failed after 3 retries in 4.1s: Failed to fetch: `https://download.pytorch.org/whl/cu124/jinja2/`"
    other = _failed(said)
    pypi = _failed(said.replace("download.pytorch.org/whl/cu124", "pypi.org/simple"))
    classify(other, {})
    classify(pypi, {})
    assert (other["class"], pypi["class"]) == ("environment", "ours")


def test_mongodb_which_nothing_installs_here_is_the_environments() -> None:
    result = _failed(
        "the app expects MongoDB (mongoose in its dependencies), which cannot be given here: "
        "no MongoDB server is installed on this machine"
    )
    classify(result, {})
    assert result["class"] == "environment" and result["cause"].startswith("no MongoDB server")


def test_a_mongodb_on_the_internet_by_its_srv_url_is_the_environments() -> None:
    """iamjv8's e-commerce-fastapi: its committed .env's Atlas SRV URL, which pymongo
    resolves as the client is made; no sandbox resolves it, nor could any MongoDB here
    stand in for it."""
    result = _failed(
        "pymongo.errors.ConfigurationError: cannot open /etc/resolv.conf — a preview reaches "
        "no host outside this machine unless the service's PREVIEW_EGRESS names it"
    )
    classify(result, {})
    assert result["class"] == "environment"
    assert result["cause"].startswith("its MongoDB is on the internet")
    # Node's driver, resolving the same record (metinsut's express-2021).
    node = _failed(
        "Error: querySrv ECONNREFUSED _mongodb._tcp.cluster1.y0z3l.mongodb.net — a preview "
        "reaches no host outside this machine unless the service's PREVIEW_EGRESS names it"
    )
    classify(node, {})
    assert node["class"] == "environment" and node["cause"].startswith("its MongoDB is on")


def test_a_kafka_broker_which_nothing_installs_here_is_the_environments() -> None:
    result = _failed(
        "the app expects a Kafka broker at localhost:9092, which cannot be given here: no "
        "Kafka broker is installed on this machine."
    )
    classify(result, {})
    assert result["class"] == "environment" and result["cause"].startswith("no Kafka broker")


def test_an_oracle_or_sql_server_which_nothing_installs_here_is_the_environments() -> None:
    for server in ("Oracle Database", "Microsoft SQL Server", "Apache Cassandra", "CouchDB"):
        result = _failed(
            f"the app expects {server}, which cannot be given here: no {server} server is"
            " installed on this machine (Debian packages none)."
        )
        classify(result, {})
        assert result["class"] == "environment", result
        assert result["cause"].startswith(f"no {server} server here"), result


def test_pgvector_which_this_machines_postgresql_lacks_is_the_environments() -> None:
    result = _failed(
        "setup step failed (exited with code 1): npm run typeorm:migrate",
        ('QueryFailedError: extension "vector" is not available',),
    )
    classify(result, {})
    assert result["class"] == "environment" and result["cause"].startswith("pgvector"), result


def test_a_git_dependency_out_of_reach_is_the_environments() -> None:
    """litestar-pg-redis-docker locks litestar from github.com, which a build here cannot
    reach (it was counted the app's by the service's "no Python interpreter here fits")."""
    result = _failed(
        "Failed to download and build `litestar @ git+https://github.com/litestar-org/litestar@main`"
    )
    classify(result, {})
    assert result["class"] == "environment"
    assert result["cause"].startswith("a dependency it takes from a git repository")


def test_an_npm_git_dependency_out_of_reach_is_the_environments() -> None:
    result = _failed(
        "a dependency it takes from a git repository could not be fetched: "
        "ssh://git@github.com/dwallach1/stocker.git (a build reaches the package registries only)"
    )
    classify(result, {})
    assert result["class"] == "environment"
    assert result["cause"].startswith("a dependency it takes from a git repository, which")


def test_postgis_missing_from_this_machines_postgresql_is_the_environments() -> None:
    """OpenAir's Flask-Migrate history makes a geometry column (GeoAlchemy2): the type is
    PostGIS's, which this machine's PostgreSQL lacks."""
    result = _failed(
        "setup step failed (exited with code 1): env FLASK_APP=app.factory:create_app() "
        "python -m flask db upgrade heads: sqlalchemy.exc.ProgrammingError: "
        '(psycopg2.errors.UndefinedObject) type "geometry" does not exist'
    )
    classify(result, {})
    assert result["class"] == "environment"
    assert result["cause"].startswith("PostGIS, whose types its models use")


def test_postgresql_18s_uuidv7_is_the_environments() -> None:
    """masb0ymas's hono-api-typeorm: its entities' ids default to uuidv7(), a function of
    PostgreSQL 18; this machine's is 15."""
    result = _failed(
        "setup step failed (exited with code 1): npm run db:schema:sync: QueryFailedError: "
        "function uuidv7() does not exist"
    )
    classify(result, {})
    assert result["class"] == "environment"
    assert result["cause"].startswith("PostgreSQL 18's uuidv7()")


def test_a_route_calling_the_internet_is_the_environments_a_start_ours() -> None:
    """ultimate-fastapi-tutorial's /recipes/ideas/ call Reddit's API: no name resolves in a
    sandbox. The same failure at the start (a service the app needs not given) is ours."""
    cause = "httpx.ConnectError: [Errno -3] Temporary failure in name resolution"
    route = {"name": "x", "status": {}, "logTail": [cause]}
    route["probes"] = [{"path": "/ideas/", "status": 500}, {"path": "/", "status": 200}]
    start = _failed(f"exited with code 1: {cause}")
    classify(route, {})
    classify(start, {})
    assert (route["class"], start["class"]) == ("environment", "ours")
    assert route["cause"].startswith("a route calls a host on the internet")


def test_a_route_whose_outside_host_the_egress_filter_refused_is_the_environments() -> None:
    """yo1cvetkov's node-express-layered: /api/auth/token calls GitHub, which the
    service's egress filter says it could not resolve; leducthai's DRF search calls
    Algolia, whose client says its hosts are unreachable."""
    for said in (
        "1/3 GET routes fail, /api/auth/token → None; log: egress refused: github.com:443 "
        "could not be resolved",
        "1/3 GET routes fail, /api/search/ → 500; log: algoliasearch.exceptions."
        "AlgoliaUnreachableHostException: Unreachable hosts",
    ):
        result = _failed(said)
        classify(result, {})
        assert result["class"] == "environment", said
        assert result["cause"].startswith("a route calls a host on the internet")


def test_a_route_answering_with_its_failure_to_resolve_is_the_environments() -> None:
    """dwaynewyj's fastapi-pokemon: /v1/species calls PokeAPI, catches the error and
    answers 500 with it ({"detail": "[Errno -3] Temporary failure in name resolution"}),
    logging nothing but the request. Its answer says the cause; a 500 answering another
    error stays ours."""
    said = '{"detail":"[Errno -3] Temporary failure in name resolution"}'
    log = ['INFO:     127.0.0.1:0 - "GET /v1/species HTTP/1.1" 500 Internal Server Error']
    answered = {"name": "x", "status": {}, "logTail": log}
    answered["probes"] = [{"path": "/v1/species", "status": 500, "body": said}]
    other = {"name": "x", "status": {}, "logTail": log}
    other["probes"] = [{"path": "/v1/species", "status": 500, "body": '{"detail":"boom"}'}]
    classify(answered, {})
    classify(other, {})
    assert (answered["class"], other["class"]) == ("environment", "ours")


def test_a_start_calling_an_api_on_the_internet_is_the_environments_a_database_ours() -> None:
    """OLuwis's express-weather-rest-api dies at its start on api.openweathermap.org, which
    the service said is outside; a database's host (a server the preview gives) stays ours."""
    why = "a preview reaches no host outside this machine unless the service's PREVIEW_EGRESS"
    api = _failed(f"exited with code 1: AxiosError: getaddrinfo EAI_AGAIN api.weather.org — {why}")
    database = _failed(f"exited with code 1: Error: getaddrinfo ENOTFOUND mydb.example.com — {why}")
    classify(api, {})
    classify(database, {})
    assert (api["class"], database["class"]) == ("environment", "ours")
    assert api["cause"].startswith("it calls a host on the internet as it starts")
    # Python's clients: curl's words (gabrielbrl's FlaskStocks), requests' pool.
    for said in (
        "curl_cffi.requests.exceptions.DNSError: Failed to perform, curl: (6) Could not"
        " resolve host: guce.yahoo.com. See https://curl.se/… for more details.",
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='openaipublic.blob"
        ".core.windows.net', port=443): Max retries exceeded (Caused by NameResolutionError",
    ):
        python = _failed(f"{said} — {why}")
        classify(python, {})
        assert python["class"] == "environment", python
    # A cause longer than the table keeps: read whole (the service's words end it).
    long = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='x.example.net'" + (
        ", port=443): Max retries exceeded with url: /encodings/cl100k_base.tiktoken" * 5
    )
    clipped = _failed(f"{long} — {why}")
    classify(clipped, {})
    assert clipped["class"] == "environment", clipped


def test_routes_whose_calls_out_the_service_diagnosed_are_the_environments() -> None:
    """CatsMiaow's node-nestjs-structure: /aws/instance/list calls EC2 (aws-sdk's
    "Inaccessible host"), /health terminus's DNS check on 1.1.1.1; the service said both.
    One diagnosis for two failing routes leaves the other ours."""
    why = "a preview reaches no host outside this machine unless the service's PREVIEW_EGRESS"
    said = [
        f"diagnosis: the app could not resolve ec2.region.amazonaws.com: {why} names it",
        "    at TLSSocket.socketErrorListener (node:_http_client:504:5)",
        f"diagnosis: the app could not reach 1.1.1.1: {why} names it (it names none)",
        "Health Check has failed! {}",
    ]
    probes = [{"path": "/aws/instance/list", "status": 500}, {"path": "/health", "status": 503}]
    both = {"name": "x", "status": {}, "logTail": said, "probes": probes}
    one = {"name": "x", "status": {}, "logTail": said[:2], "probes": probes}
    classify(both, {})
    classify(one, {})
    assert (both["class"], one["class"]) == ("environment", "ours")
    assert both["rawCause"].endswith("(1.1.1.1, ec2.region.amazonaws.com)")


def test_an_unnamed_host_diagnosis_counts_the_routes_whose_own_lines_fail_a_lookup() -> None:
    """houyuhang915's zhilian-recruitment-fastapi: two routes call an API outside through
    httpx, whose ConnectError names no host, so the service said "could not resolve a
    host". The routes whose own log lines (those printed while each was answered) tell a
    failed lookup are the environment's; a route failing otherwise keeps the app ours."""
    why = "a preview reaches no host outside this machine unless the service's PREVIEW_EGRESS"
    said = [f"diagnosis: the app could not resolve a host: {why} names it (it names none)"]
    stamps = ["2026-12-04T10:00:00.400Z", "2026-12-04T10:00:01.500Z", "2026-12-04T10:00:02.5Z"]
    events = [
        {
            "timestamp": stamps[0],
            "message": "httpx.ConnectError: [Errno -3] Temporary failure in name resolution",
        },
        {
            "timestamp": stamps[1],
            "message": "httpx.ConnectError: [Errno -3] Temporary failure in name resolution",
        },
        {"timestamp": stamps[2], "message": "sqlalchemy.exc.OperationalError: no such table: x"},
    ]

    def probes(count: int) -> list[dict[str, Any]]:
        paths = ["/api/v1/meta/cities", "/api/v1/meta/city-codes", "/api/v1/jobs"][:count]
        began = [1_796_378_400.0 + 1.0 * n for n in range(count)]  # 10:00:00, :01, :02 UTC
        return [
            {"path": path, "status": 500, "body": "Internal Server Error", "began": start}
            for path, start in zip(paths, began, strict=True)
        ]

    lookups = {"name": "x", "status": {}, "logTail": said, "probes": probes(2)}
    mixed = {"name": "x", "status": {}, "logTail": said, "probes": probes(3)}
    undiagnosed = {"name": "x", "status": {}, "logTail": [], "probes": probes(2)}
    for result in (lookups, mixed, undiagnosed):
        attribute_lines(result["probes"], events)
        classify(result, {})
    assert lookups["probes"][0]["logLines"] == [events[0]["message"]]
    assert (lookups["class"], mixed["class"], undiagnosed["class"]) == (
        "environment",
        "ours",
        "ours",
    )


def test_a_traceback_the_window_cuts_is_read_on_to_its_exception() -> None:
    """shahriar350's inventory DRF app: a route's traceback printed past the next probe's
    start, its frames in the route's window and "TypeError: … AnonymousUser …" in the
    next: the window's lines go on to the exception's own, and the verdict is the app's."""
    stamps = ["2026-12-04T10:00:00.500+00:00", "2026-12-04T10:00:01.200+00:00"]
    frame = '  File "<environment>/rest_framework/views.py", line 480, in raise_uncaught_exception'
    said = "TypeError: Field 'id' expected a number but got <AnonymousUser object at 0x7f>."
    events = [
        {"timestamp": stamps[0], "message": "Traceback (most recent call last):"},
        {"timestamp": stamps[0], "message": frame},
        {"timestamp": stamps[1], "message": "    raise exc"},
        {"timestamp": stamps[1], "message": said},
    ]
    began = [1_796_378_400.0, 1_796_378_401.0]  # 10:00:00, :01 UTC
    probes = [
        {"path": "/mine/", "status": 500, "began": began[0]},
        {"path": "/other/", "status": 200, "began": began[1]},
    ]
    attribute_lines(probes, events)
    assert probes[0]["logLines"][-1] == said, probes[0]["logLines"]
    result = {"name": "x", "status": {}, "logTail": [], "probes": probes}
    classify(result, {})
    assert result["class"] == "app's", result


def test_a_missing_gdal_library_is_the_machines() -> None:
    gdal = _failed(
        "setup step failed (exited with code 1): python manage.py migrate --noinput: "
        "django.core.exceptions.ImproperlyConfigured: Could not find the GDAL library"
    )
    classify(gdal, {})
    assert gdal["class"] == "environment" and gdal["cause"].startswith("GDAL, the system")
    # Settings that take the machine's first libgdal (milad-seify's Tourism-Django).
    globbed = _failed(
        "setup step failed (exited with code 1): python tourism/manage.py migrate: IndexError:"
        " list index out of range",
        (
            '  File "tourism/main/settings.py", line 178, in <module>',
            "    GDAL_LIBRARY_PATH = glob('/usr/lib/libgdal.so.*')[0]",
            "IndexError: list index out of range",
        ),
    )
    classify(globbed, {})
    assert globbed["class"] == "environment", globbed
    dot = _failed(
        "exited with code 1: graphviz.backend.execute.ExecutableNotFound: failed to execute "
        "PosixPath('dot'), make sure the Graphviz executables are on your systems' PATH"
    )
    classify(dot, {})
    assert dot["class"] == "environment" and dot["cause"].startswith("Graphviz's dot"), dot
    spacy = _failed(
        "exited with code 3: OSError: [E050] Can't find model 'ru_core_news_sm'. It doesn't"
        " seem to be a Python package or a valid path to a data directory."
    )
    classify(spacy, {})
    assert spacy["class"] == "environment" and "spaCy model" in spacy["cause"], spacy


def test_a_misspelt_module_of_a_listed_package_is_the_apps() -> None:
    slip = _failed(
        "exited with code 1: ModuleNotFoundError: No module named 'flas_sqlalchemy' —"
        " 'flas_sqlalchemy' is one letter off 'flask_sqlalchemy', the module of"
        " 'Flask-SQLAlchemy', which requirements.txt lists: a misspelling in the app's own code"
    )
    classify(slip, {})
    assert slip["class"] == "app's" and slip["cause"].startswith("it imports a misspelt module")


def test_gone_package_is_the_apps_and_a_crash_ours() -> None:
    gone = _failed("Failed to download `rotoger==0.1.1`: HTTP status client error (404 Not Found)")
    ours = _failed("exited with code 1: ModuleNotFoundError: No module named 'x'")
    classify(gone, {})
    classify(ours, {})
    assert (gone["class"], ours["class"]) == ("app's", "ours")


def test_its_own_package_left_out_or_its_nest_modules_unwired_are_the_apps() -> None:
    """Artem2335's projectFastapi imports app.users.router and holds no app/;
    bigchief64's ExampleNestJS provides no ScoreService to its ScoreController;
    kethelynsantos' FastApiCursos imports a name its models.py never binds; IamIsthill's
    zodexpress is a library."""
    for cause in (
        "ModuleNotFoundError: No module named 'app.users' — the upload holds no app/ and"
        " requirements.txt lists no 'app': the app's own package app (its code imports"
        " app.users) was left out of the upload",
        "UnknownDependenciesException [Error]: Nest can't resolve dependencies of the"
        " ScoreController (?).",
        "ImportError: cannot import name 'Curso' from 'models' (models.py) — models.py (the"
        " app's own) defines no Curso: the app's own code",
        "launch refused 400: nothing_to_run: Found no way to start this app; its package.json"
        " publishes a library (its types, the files it ships) and runs nothing: no script"
        " starts it and no module of it listens, not an app: nothing in it serves.",
    ):
        result = _failed(cause)
        classify(result, {})
        assert result["class"] == "app's", result


def test_routes_reading_a_session_another_request_fills_are_the_apps() -> None:
    """juliahowes124's FlaskSurvey: ``/questions/0`` and ``/back`` read
    ``session["responses"]``, which the POST that begins a survey sets: a probe's empty
    session met KeyError. Where one fails otherwise, the verdict stays ours."""
    said = [
        'File "app.py", line 35, in questions',
        '    responses = session["responses"]',
        "KeyError: 'responses'",
    ]
    _apps_while_each_route_says(("/questions/0", "/back"), said)
    # Its probes' lines keep Flask's frames alone: the log's traceback tells.
    frames = ["Traceback (most recent call last):", "    rv = self.handle_user_exception(e)"]
    result = _one_route_failing({"logLines": [*frames, "KeyError: 'responses'"]})
    result["logTail"] = [
        "Traceback (most recent call last):",
        *said[:2],
        '  File "<environment>/…/werkzeug/local.py", line 377, in <lambda>',
        "    __getitem__ = lambda x, i: x._get_current_object()[i]",
        '  File "<environment>/…/flask/sessions.py", line 84, in __getitem__',
        "    return super(SecureCookieSession, self).__getitem__(key)",
        said[2],
    ]
    classify(result, {})
    assert result["class"] == "app's", result


def _one_route_failing(failed: dict) -> dict:
    """A running app whose root answers and whose one other route answers 500 so
    (``failed``: the probe's body, its lines)."""
    return {
        "name": "x",
        "launched": True,
        "status": {"status": "running"},
        "probes": [{"path": "/", "status": 200}, {"path": "/r", "status": 500, **failed}],
    }


def test_routes_opening_an_oracle_database_nothing_installs_are_the_environments() -> None:
    """Betzuki's FastApiUsuariosSanrioDreams: /usuarios/ answers 500 with python-oracledb's
    "DPY-6005: cannot connect to database" in its body; its start needed none."""
    body = '{"detail":"Error al conectar a la base de datos: DPY-6005: cannot connect to database'
    result = _one_route_failing({"body": body, "logLines": []})
    classify(result, {})
    assert result["class"] == "environment", result
    result["probes"][1]["body"] = '{"detail":"Internal Server Error"}'
    del result["rawCause"]
    classify(result, {})
    assert result["class"] == "ours", result


def test_a_refused_launch_is_said_with_its_reason_a_merge_conflict_the_apps() -> None:
    """williamyizima's flask-wallet: the refusal's code alone ("nothing_to_run") was its
    cause; its message says why, and a merge's conflict markers are the app's own."""
    message = (
        "Found no way to start this app; wallet/app.py line 7 is not Python (invalid syntax:"
        " '<<<<<<< HEAD', a merge conflict left unresolved). Give the launch option command"
    )
    answer = {"refused": 400, "status": "failed", "error": "nothing_to_run", "message": message}
    result = {"name": "x", "launchAnswer": answer}
    classify(result, {})
    assert result["rawCause"].startswith("launch refused 400: nothing_to_run: Found no way")
    assert result["class"] == "app's"
    plain = {"name": "y", "launchAnswer": {**answer, "message": "Found no way to start it."}}
    classify(plain, {})
    assert plain["class"] == "ours"


def _apps_while_each_route_says(paths: tuple[str, str], said: list[str]) -> None:
    """Two routes failing with the log lines ``said`` (besides one answering) are the
    app's; where one fails otherwise, the verdict is ours."""
    result = {
        "name": "x",
        "launched": True,
        "status": {"status": "running"},
        "probes": [
            {"path": "/", "status": 200},
            *({"path": path, "status": 500, "logLines": said} for path in paths),
        ],
    }
    classify(result, {})
    assert result["class"] == "app's", result
    result["probes"][2]["logLines"] = ["KeyError: 'x'"]
    del result["rawCause"]
    classify(result, {})
    assert result["class"] == "ours", result


def test_routes_taking_an_anonymous_caller_for_a_user_are_the_apps() -> None:
    """chbauman's todo-backend-django: /todo_groups/ and /todo_items/ filter by
    request.user, "Field 'id' expected a number but got <…AnonymousUser…>": a 500 to any
    caller not signed in. Where a route fails otherwise too, the verdict stays ours."""
    anonymous = [
        "Internal Server Error: /todo_groups/",
        "TypeError: Field 'id' expected a number but got <django.contrib.auth.models."
        "AnonymousUser object at 0x7f17ba0c7390>.",
    ]
    _apps_while_each_route_says(("/todo_groups/", "/todo_items/"), anonymous)
    # Flask-Login's (Massssssi's e-scooter-Flask-app).
    mixin = ["AttributeError: 'AnonymousUserMixin' object has no attribute 'account_type'"]
    _apps_while_each_route_says(("/addingScooter", "/scooters"), mixin)


def test_routes_inserting_rows_their_database_holds_are_the_apps() -> None:
    """mwooddc's FlaskLogin: /populate_schools inserts ``School(id=1, …)`` into the
    database it ships filled: a unique key refuses them on every call. Where a route fails
    otherwise too, the verdict stays ours."""
    held = [
        "sqlalchemy.exc.IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed:"
        " schools.id"
    ]
    _apps_while_each_route_says(("/populate_schools", "/populate_users"), held)


def test_routes_declared_for_get_on_a_view_class_without_get_are_the_apps() -> None:
    """birukbelay's flaskRealEstate: ``@auth_ns.route('/login', methods=['GET', 'POST'])``
    on a flask-restx Resource with ``post`` alone: "AssertionError: Unimplemented method
    'GET'" at every GET. Where a route fails otherwise too, the verdict stays ours."""
    unimplemented = [
        '  File "<environment>/lib/python3.9/site-packages/flask_restx/resource.py", line 37,'
        " in dispatch_request",
        "AssertionError: Unimplemented method 'GET'",
    ]
    _apps_while_each_route_says(("/auth/login", "/auth/signup"), unimplemented)


def _failing(lines: list[list[str]], tail: list[str], under: str = "/p") -> dict[str, Any]:
    """A result whose routes (``under``/0, /1 …) each answered 500, each with its own log
    lines of ``lines``; ``tail``: the log's last lines."""
    probes = [
        {"path": f"{under}/{n}", "status": 500, "logLines": own} for n, own in enumerate(lines)
    ]
    return {"name": "x", "status": {}, "logTail": tail, "probes": probes}


def test_routes_linking_to_an_endpoint_the_app_never_registers_are_the_apps() -> None:
    """ser180's comicflask: its login page's ``url_for('admin_forgotpsw')``, an endpoint
    none of its routes is: werkzeug's BuildError at every call. Where a route fails
    otherwise too, the verdict stays ours."""
    unbuilt = [
        "werkzeug.routing.exceptions.BuildError: Could not build url for endpoint "
        "'admin_forgotpsw'. Did you mean 'admin_logout' instead?"
    ]
    _apps_while_each_route_says(("/admin/login", "/admin/register"), unbuilt)


def test_routes_answering_404_in_their_own_words_are_served() -> None:
    """kaynanxd's fastapi-async-quiz-system answers 404 "Nenhuma questao encontrada no
    bd." on its routes, its table empty: its routes answering, not a path it does not
    serve. Each framework's answer for a path no route has (Starlette's, Werkzeug's,
    Django's, Express's, Nest's, Fastify's, Koa's) still is."""
    own = '{"detail":"Nenhuma questao encontrada no bd."}'
    assert healthy([{"path": f"/q{n}", "status": 404, "body": own} for n in range(2)])
    missed = [
        '{"detail":"Not Found"}',
        "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>",
        "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>",
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>Page not found at /q/</title>',
        "<pre>Cannot GET /q</pre>",
        '{"message":"Cannot GET /q","error":"Not Found","statusCode":404}',
        '{"message":"Route GET:/q not found","error":"Not Found","statusCode":404}',
        "Not Found",
        "404 Not Found",
        "",
    ]
    for body in missed:
        probes = [{"path": f"/q{n}", "status": 404, "body": body} for n in range(2)]
        assert not healthy(probes), body
        result = {"name": "x", "status": {}, "logTail": [], "probes": probes}
        classify(result, {})
        assert result["cause"] == "all 2 GET routes answer 404 (it serves none of them)", body


def test_a_route_failure_is_said_by_its_error_not_sqlalchemys_link_below_it() -> None:
    """farmbros' server: its route's error, PostGIS's type missing, was followed by
    SQLAlchemy's "(Background on this error at: …)", which the cause quoted instead (ours);
    the error itself, its driver's wrapping left out, says this machine lacks PostGIS."""
    tail = [
        "sqlalchemy.exc.ProgrammingError: (sqlalchemy.dialects.postgresql.asyncpg."
        "ProgrammingError) <class 'asyncpg.exceptions.UndefinedObjectError'>: type"
        ' "geography" does not exist',
        "[SQL: CREATE TABLE farms (boundary geography(POLYGON,4326) NOT NULL)]",
        "(Background on this error at: https://sqlalche.me/e/20/f405)",
    ]
    probes = [{"path": "/", "status": 200}, {"path": "/db", "status": 500, "logLines": tail}]
    result = {"name": "x", "status": {}, "logTail": tail, "probes": probes}
    classify(result, {})
    assert result["class"] == "environment", result
    assert result["cause"].endswith(
        '/db → 500; log: sqlalchemy.exc.ProgrammingError: type "geography" does not exist'
    ), result["cause"]


def test_routes_of_a_drf_view_with_no_queryset_to_list_are_the_apps() -> None:
    """wil31's issue-tracker-softdesk registers a ViewSet written for its POST alone on a
    router, which gives it GET too: DRF asserts it has no queryset at every GET."""
    said = [
        "AssertionError: 'SignupViewset' should either include a `queryset` attribute, or"
        " override the `get_queryset()` method."
    ]
    _apps_while_each_route_says(("/api/signup/", "/api/login/"), said)


def test_a_failure_on_a_file_the_mirror_lacks_is_this_machines() -> None:
    """VictordotCC's API_Match_Inmobiliario reads its comunas.shp at its start; the
    corpus's mirror lists it and stores none (its largest files): "No such file or
    directory", this corpus's lack, not the service's nor the app's. A file it holds, or
    one the failure does not name, leaves the verdict as it was."""
    said = (
        "pyogrio.errors.DataSourceError: app/helpers/shapefiles/comunas.shp: No such file or"
        " directory"
    )

    def result(skipped: list[str]) -> dict[str, Any]:
        return {"name": "x", "status": {"errorMessage": said}, "skipped": skipped}

    lacked = result(["app/helpers/shapefiles/comunas.shp (absent from the mirror)"])
    classify(lacked, {})
    assert lacked["class"] == "environment", lacked
    assert "the corpus's mirror lacks" in lacked["cause"], lacked["cause"]
    for skipped in (["data/other.csv (absent from the mirror)"], ["app/big.bin (2000000 bytes)"]):
        other = result(skipped)
        classify(other, {})
        assert other["class"] == "ours", other


def test_an_app_starting_on_a_hosted_cloud_api_out_of_reach_is_this_machines() -> None:
    """reidelon's fastapi-sqlmodel-playground makes a Pub/Sub publisher at import: Google's
    client looks for its account's credentials, which only its author has."""
    said = (
        "google.auth.exceptions.DefaultCredentialsError: Your default credentials were not"
        " found. To set up Application Default Credentials, see https://cloud.google.com/docs"
    )
    result = {"name": "x", "status": {"errorMessage": said}}
    classify(result, {})
    assert result["class"] == "environment", result
    assert result["cause"].startswith("Google Cloud's credentials"), result["cause"]
    # An AWS API its start calls (VelmiraPetkova's Employee-Management-System: SES at
    # import), out of reach likewise.
    aws = (
        "botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL:"
        ' "https://email.us-east-1.amazonaws.com/"'
    )
    result = {"name": "x", "status": {"errorMessage": aws}}
    classify(result, {})
    assert result["class"] == "environment", result


def test_a_build_of_python_2_code_is_the_apps_age() -> None:
    """jplusplus' arte-world-of-work pins boto 2.9.6, Python 2 code: the app's own era."""
    said = (
        "Failed to build `boto==2.9.6`: its code is Python 2's (a print statement), which no"
        " Python 3 builds or runs"
    )
    result = {"name": "x", "status": {"errorMessage": said}}
    classify(result, {})
    assert result["class"] == "app's", result
    assert result["cause"].startswith("its pinned packages are Python 2 code"), result["cause"]


def test_a_route_named_for_the_error_it_answers_fails_on_purpose() -> None:
    """tucosaurus's todo-backend-django: ``/500/`` shows its error page (a 500); any other
    route's 500, or a 502 from ``/500/``, is a failure."""
    probes = [{"path": "/todos/", "status": 200}, {"path": "/500/", "status": 500}]
    assert healthy(probes)
    assert not healthy([*probes, {"path": "/todos/1/", "status": 500}])
    assert not healthy([{"path": "/todos/", "status": 200}, {"path": "/500/", "status": 502}])


def test_a_body_parsers_factory_used_uncalled_is_the_apps() -> None:
    """jeffmcrockett's bidpros: ``app.use(express.json)``, no request answered."""
    timed_out = (
        "did not answer HTTP on port 19137 within 30 s; it printed 'Application running on"
        " port 4001': it should listen on $PORT (19137), not 4001"
    )
    said = (
        " — server.js line 8 hands express.json to use() uncalled, the factory of a body"
        " parser, not the middleware express.json() makes: called with each request, it"
        " neither answers nor passes it on, so no request is ever answered (an error in the"
        " app's own code)"
    )
    own, plain = _failed(timed_out + said), _failed(timed_out)
    classify(own, {})
    classify(plain, {})
    assert (own["class"], plain["class"]) == ("app's", "ours")


def test_a_command_line_program_that_listens_nowhere_is_the_apps() -> None:
    """kevindimayuga's employee-tracker-kd: an inquirer menu, nothing listening."""
    cause = (
        "did not answer HTTP on port 19176 within 30 s — server.js asks its questions at a"
        " terminal (inquirer's prompts), and no module of the app listens: a command-line"
        " program, which serves nothing (no web app: the app's own)"
    )
    own = _failed(cause)
    classify(own, {})
    assert own["class"] == "app's"
    assert own["cause"].startswith("it is a command-line program"), own["cause"]


def test_javascript_no_node_parses_or_an_empty_entry_is_the_apps() -> None:
    cause = (
        "SyntaxError: Unexpected token '.' (services/x.js:26) — services/x.js line 26 is"
        " JavaScript no release of Node parses: a syntax error in the app's own code"
    )
    own, plain = _failed(cause), _failed("SyntaxError: Unexpected token '.' (x.js:26)")
    classify(own, {})
    classify(plain, {})
    assert (own["class"], plain["class"]) == ("app's", "ours")
    empty = _failed(
        "exited with code 0 before it served, printing nothing: src/server.ts, which the start"
        " runs, is empty: nothing in it starts a server (an error in the app's own code)"
    )
    classify(empty, {})
    assert empty["class"] == "app's"
    no_web_app = _failed(
        "launch refused 400: nothing_to_run: Found no way to start this app; no module of it"
        " imports a web framework or server: nothing in it serves. Give the launch option"
    )
    classify(no_web_app, {})
    assert no_web_app["class"] == "app's"


def test_environment_is_counted_neither_as_ours_nor_the_apps() -> None:
    results = [
        {"name": "a", "healthy": True, "launched": True, "class": ""},
        {"name": "b", "healthy": False, "class": "environment", "cause": "prisma"},
        {"name": "c", "healthy": False, "class": "app's", "cause": "gone"},
        {"name": "d", "healthy": False, "class": "ours", "cause": "crash"},
    ]
    figures = summary(results, 4)
    assert (figures["ours"], figures["apps_fault"], figures["environment"]) == (1, 1, 1)
    assert figures["healthy_of_not_broken"] == 50.0  # 1 of a and d
    table = markdown(results, figures, partial=False)
    assert "1 this machine's (environment)" in table and "1/2 = 50.0 %" in table


def test_the_committed_table_reads_back_with_its_own_summary() -> None:
    """A run of some apps in a new clone (no results.json) keeps the committed table's
    other rows (batch13's worktree run left its eight alone in it): the table read back
    gives its summary line's own figures, and a row written again is the same row."""
    results = results_from_table(_TABLE)
    figures = summary(results, len(results))
    said = _TABLE.read_text().rsplit("**Summary**", 1)[1]
    assert (
        f"{figures['ran']} apps run ({figures['not_fetched']} not fetched), "
        f"{figures['launched']} launched, {figures['healthy']} healthy; not healthy: "
        f"{figures['ours']} ours, {figures['apps_fault']} the app's, "
        f"{figures['environment']} this machine's"
    ) in said, (figures, said)
    rows = [line for line in _TABLE.read_text().splitlines() if line.startswith("| ")][2:]
    again = [
        line for line in markdown(results, figures, False).splitlines() if line.startswith("| ")
    ]
    assert again[2:] == rows
    piped = {**results[0], "cause": "a | b", "rawCause": "a | b", "class": "ours", "healthy": False}
    assert results_from_table_text(markdown([piped], summary([piped], 1), False))[0] == piped
    # Written again by a run of one app: its heading does not claim the others' rows.
    heading = markdown(results, figures, False, kept=len(results) - 1).split("\n", 1)[0]
    assert f" of 1 app; the other {len(results) - 1} rows as the earlier results" in heading
    # With the earlier table's heading (where its rows come from): said, then this run's.
    earlier = "Runs of 2026-11-24/25 merged: batch one at abc, batch two at def"
    table = markdown(
        results, figures, False, kept=len(results) - 1, earlier_heading=earlier, again=["x-app"]
    )
    heading = table.split("\n", 1)[0]
    assert heading.startswith(earlier + " — then 1 app (x-app) run again 20")
    assert " commit " in heading and "PARTIAL" not in heading


def test_a_row_read_back_keeps_its_verdict_when_classified_again() -> None:
    """The re-classifier run where results.json holds rows read back from the table (a
    new clone's run of some apps): they had no status nor log to classify by, and 20 of
    them became "status None", ours. Only a manifest's new ``brokenReason`` changes one."""
    written = [
        {"name": "e", "healthy": False, "class": "environment", "cause": "prisma: refused"},
        {"name": "f", "healthy": False, "class": "app's", "cause": "a package is gone: x"},
        {"name": "g", "healthy": False, "class": "ours", "cause": "1/3 GET routes fail"},
    ]
    rows = results_from_table_text(markdown(written, summary(written, 3), False))
    for row in rows:
        before = dict(row)
        classify(row, {})
        assert (row["class"], row["cause"]) == (before["class"], before["cause"])
    classify(rows[2], {"brokenReason": "its view has no permission class"})
    assert rows[2]["class"] == "app's"
    assert rows[2]["cause"] == "its view has no permission class (1/3 GET routes fail)"
    classify(rows[1], {"brokenReason": "another"})  # already the app's: as it was
    assert rows[1]["cause"] == "a package is gone: x"


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ")][2:]


def results_from_table_text(text: str) -> list[dict]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.md"
        path.write_text(text)
        return results_from_table(path)


def test_a_tables_heading_is_its_first_line_when_it_has_one(tmp_path) -> None:
    from benchmarks.scenarios.realapps_report import table_heading

    table = tmp_path / "results.md"
    assert table_heading(table) == ""  # none yet
    table.write_text("Runs merged: at abc\n\n| app | shape |\n")
    assert table_heading(table) == "Runs merged: at abc"
    table.write_text("| app | shape |\n| --- | --- |\n")
    assert table_heading(table) == ""


def test_launch_times_by_percentile_and_by_phase() -> None:
    """Cold and cached seconds of the healthy apps, and where a launch's time went (the
    status's phases), p50/p90 each; apps not healthy count in neither (issue 68)."""

    def app(cold: float, cached: float, install: float) -> dict:
        phases = [
            {"phase": "preparing", "seconds": 0.2},
            {"phase": "installing dependencies", "seconds": install},
        ]
        return {
            "name": f"a{cold}",
            "healthy": True,
            "launched": True,
            "cold_s": cold,
            "cached_s": cached,
            "cached_running_s": cached / 2,
            "cold_phases": phases,
            "cached_phases": phases[:1],
        }

    results = [app(float(n), n / 10, n - 1.0) for n in range(1, 11)]
    results.append({"name": "broken", "healthy": False, "class": "ours", "cold_s": 999.0})
    times = summary(results, len(results))["times"]
    assert times["cold"] == {
        "apps": 10,
        "p50": 6.0,
        "p75": 8.0,
        "p90": 10.0,
        "phases": {
            "preparing": {"apps": 10, "p50": 0.2, "p90": 0.2},
            "installing dependencies": {"apps": 10, "p50": 5.0, "p90": 9.0},
        },
    }
    assert times["cached"]["p50"] == 0.6 and list(times["cached"]["phases"]) == ["preparing"]
    # Until running, before the smoke check: recorded by runs since 2026-11-28 only.
    assert times["cached"]["running"] == {"apps": 10, "p50": 0.3, "p75": 0.4, "p90": 0.5}
    table = markdown(results, summary(results, len(results)), partial=False)
    assert "**Cold launches** of the 10 healthy apps: p50 6.0 s, p75 8.0 s, p90 10.0 s" in table
    assert "Until it said running (10 apps): p50 0.3 s, p75 0.4 s, p90 0.5 s." in table
    assert "installing dependencies 5.0/9.0 s (10)" in table


def test_the_services_part_of_a_launch_is_its_time_less_the_apps_own_start() -> None:
    """Issue 68's figures: a launch less its ``starting`` phase (spawn to first answer,
    the app's own start) p50/p90, and the launches of the apps starting in under 1.5 s;
    apps whose phases do not say their start count in neither."""

    def app(name: str, own_start: float, install: float) -> dict:
        phases = [
            {"phase": "preparing", "seconds": 0.25},
            {"phase": "installing dependencies", "seconds": install},
            {"phase": "starting", "seconds": own_start},
        ]
        return {
            "name": name,
            "healthy": True,
            "launched": True,
            "cold_s": 9.0,
            "cached_s": 3.0,
            "cached_running_s": 0.25 + install + own_start,
            "cached_phases": phases,
        }

    results = [app(f"a{n}", own_start=n * 0.5, install=n * 0.1) for n in range(1, 6)]
    results.append({**app("unsaid", 0.5, 0.1), "cached_phases": []})
    cached = summary(results, len(results))["times"]["cached"]
    assert cached["service_added"] == {"apps": 5, "p50": 0.55, "p90": 0.75}
    # Own starts 0.5 and 1.0 s: launches 0.85 and 1.45 s.
    assert cached["quick_starters"] == {"apps": 2, "p90": 1.4}
    table = markdown(results, summary(results, len(results)), partial=False)
    assert "the launch less the app's own start (5 apps): p50 0.55 s, p90 0.75 s." in table
    assert "Apps whose own start took under 1.5 s (2): until running p90 1.4 s." in table


def test_a_browser_files_route_left_unanswered_does_not_decide_health() -> None:
    # node-sqlite-api-rubinofran: /favicon.ico's handler sets 204 and never ends the answer.
    probes = [
        {"path": "/api/productos", "status": 200},
        {"path": "/favicon.ico", "status": None, "body": "ReadTimeout('timed out')"},
    ]
    assert healthy(probes)
    assert "browserFile" in probes[1]


def test_a_browser_file_still_decides_when_it_errs_or_is_all_there_is() -> None:
    assert not healthy([{"path": "/", "status": 200}, {"path": "/favicon.ico", "status": 500}])
    assert not healthy([{"path": "/favicon.ico", "status": None}])
    assert not healthy([{"path": "/api/items", "status": None}, {"path": "/", "status": 200}])
    result = {"name": "x", "probes": [{"path": "/favicon.ico", "status": None}], "healthy": False}
    classify(result, {})
    assert result["class"] == "ours" and "/favicon.ico" in result["cause"]


def test_routes_failing_on_names_the_apps_code_never_defines_are_the_apps() -> None:
    """hiro111208's microservices-flask-user-service: each route's handler raised
    ``NameError: name 'RegistrationForm' is not defined``, which the service diagnosed as
    the app's own code's. A route failing on another error keeps the app ours, and so does
    a NameError the service did not diagnose (one it could not be sure of)."""
    said = (
        "diagnosis: app/routes.py line 12 uses RegistrationForm, which app/routes.py"
        " neither defines nor imports: an error in the app's own code"
    )
    error = "NameError: name 'RegistrationForm' is not defined"

    def result(lines: list[list[str]], tail: list[str]) -> dict[str, Any]:
        return _failing(lines, tail, "/user-api")

    each = result([[error, said], [error]], [error, said, error])
    mixed = result([[error, said], ["KeyError: 'email'"]], [error, said])
    undiagnosed = result([[error], [error]], [error, error])
    for one in (each, mixed, undiagnosed):
        classify(one, {})
    assert (each["class"], mixed["class"], undiagnosed["class"]) == ("app's", "ours", "ours")
    assert "RegistrationForm" in each["cause"], each["cause"]
    # A start that failed on one: the service's cause says so.
    start = _failed(f"{error} — {said.removeprefix('diagnosis: ')}")
    classify(start, {})
    assert start["class"] == "app's"


def test_routes_failing_on_a_header_their_caller_did_not_send_are_the_apps() -> None:
    """hcfairbanks' warehouseNestJS reads its JWT from ``req.headers.cookie.split('=')``:
    every guarded route answered 500 to a caller with no cookie, which the service
    diagnosed. A route failing otherwise keeps the app ours, and so does a read of
    undefined the service did not diagnose (a setting of ours it may lack)."""
    said = (
        "diagnosis: src/auth/cookieExtractor.ts line 5 reads the request's cookie header as"
        " if every request sent one: a request without it fails there (TypeError, reading"
        " 'split' of undefined) where the app could refuse it, an error in the app's own code"
    )
    error = "TypeError: Cannot read properties of undefined (reading 'split')"

    def result(lines: list[list[str]], tail: list[str]) -> dict[str, Any]:
        return _failing(lines, tail, "/items")

    each = result([[error], [error]], [error, said, error])
    late = result([[], [error], [error]], [error, said, error])  # (Nest logs after answering)
    mixed = result([[error], ["TypeError: x.map is not a function"]], [error, said])
    undiagnosed = result([[error], [error]], [error, error])
    silent = result([[error], []], [error, said])  # (the last: no window after it)
    for one in (each, late, mixed, undiagnosed, silent):
        classify(one, {})
    assert [r["class"] for r in (each, late, mixed, undiagnosed, silent)] == [
        "app's",
        "app's",
        "ours",
        "ours",
        "ours",
    ]
    assert "cookieExtractor.ts line 5 reads the request's cookie header" in each["cause"]
    # Python's KeyError (RickZzDev's ApiErpDjango: request.headers['Token']).
    said = (
        "diagnosis: gerenciador_de_empresas/authentication.py line 8 reads the request's token"
        " header as if every request sent one: a request without it fails there (KeyError:"
        " 'token') where the app could refuse it, an error in the app's own code"
    )
    error = "KeyError: 'token'"
    python = result([[error], [error]], [error, said, error])
    other = result([[error], ["KeyError: 'email'"]], [error, said])
    for one in (python, other):
        classify(one, {})
    assert (python["class"], other["class"]) == ("app's", "ours")
    assert "authentication.py line 8 reads the request's token header" in python["cause"]
    # A query parameter's None (Amogh-Nigam's holidays-flask-api).
    error = "TypeError: strptime() argument 1 must be str, not None"
    said = (
        "diagnosis: main.py line 64 reads the request's start_date query parameter as if every"
        f" request sent one: a request without it fails there ({error}) where the app could"
        " refuse it, an error in the app's own code"
    )
    query = result([[error]], [error, said])
    unexplained = result([["AttributeError: 'NoneType' object has no attribute 'x'"]], [said])
    for one in (query, unexplained):
        classify(one, {})
    assert (query["class"], unexplained["class"]) == ("app's", "ours")
    assert "reads the request's start_date query parameter" in query["cause"]
    # A query parameter passed on (moltin's braintree-express-app: req.query.customer).
    said = (
        "diagnosis: app.js line 25 reads the request's customer query parameter as if every"
        " request sent one: a request without it fails there (TypeError, reading 'trim' of"
        " undefined) where the app could refuse it, an error in the app's own code"
    )
    error = "TypeError: Cannot read properties of undefined (reading 'trim')"
    query = result([[error]], [error, said])
    classify(query, {})
    assert query["class"] == "app's"
    assert query["cause"].startswith("its routes fail on a query parameter"), query["cause"]


def test_a_hosted_apis_failed_answer_read_as_given_is_the_environments() -> None:
    """Lammmas's braintree-express-poc reads ``response.clientToken`` in the callback of
    Braintree's call, which failed (no host outside is reached): its exit's cause, or a
    running route's diagnosis, says so. A route failing otherwise keeps it ours."""
    said = (
        "routes/token.js line 14 reads response.clientToken from the answer of"
        " gateway.clientToken.generate, which failed (its error unread): Braintree's API"
        " (api.sandbox.braintreegateway.com) is a hosted service's API on the internet,"
        " which a preview does not reach"
    )
    error = "TypeError: Cannot read properties of undefined (reading 'clientToken')"
    exited = _failed(f"exited with code 1: {error} — {said}")
    classify(exited, {})
    assert exited["class"] == "environment", exited
    assert exited["cause"].startswith("it calls a hosted service's API")

    def result(lines: list[list[str]], tail: list[str]) -> dict[str, Any]:
        return _failing(lines, tail, "/t")

    each = result([[error], [error]], [error, f"diagnosis: {said}"])
    mixed = result([[error], ["TypeError: x.map is not a function"]], [f"diagnosis: {said}"])
    for one in (each, mixed):
        classify(one, {})
    assert (each["class"], mixed["class"]) == ("environment", "ours"), each


def test_routes_whose_handlers_take_the_request_for_the_response_are_the_apps() -> None:
    """glrodriguez's onboarding-Express: ``res => res.send(…)``, "res.send is not a
    function" at each call, which the service diagnosed. A route failing otherwise keeps
    the app ours."""
    said = (
        "diagnosis: src/routes/usersRouter.js line 24 calls res.send, but its handler's first"
        " parameter, res, is the request Express passes first (req, res): an error in the"
        " app's own code"
    )
    error = "TypeError: res.send is not a function"

    def result(lines: list[list[str]]) -> dict[str, Any]:
        return _failing(lines, [error, said], "/u")

    each, mixed = result([[error], [error]]), result([[error], ["Error: buffering timed out"]])
    for one in (each, mixed):
        classify(one, {})
    assert (each["class"], mixed["class"]) == ("app's", "ours")
    assert each["cause"].startswith("its handlers take the request for the response")


def test_routes_each_failing_on_one_or_another_diagnosed_error_are_the_apps() -> None:
    """glrodriguez's onboarding-Express: two routes' handlers take the request for the
    response, and /movies's MongoDB client finds no server on the app's own PORT, which
    its URL's port is: each diagnosed, so the app is the app's. One route no diagnosis
    explains keeps it ours."""
    swapped = (
        "diagnosis: src/routes/usersRouter.js line 24 calls res.send, but its handler's first"
        " parameter, res, is the request Express passes first (req, res): an error in the"
        " app's own code"
    )
    port = (
        "diagnosis: src/database/database.js line 11 builds its MongoDB URL's port from PORT"
        " (config.port), the variable a host sets to the port the app itself serves on: its"
        " client seeks MongoDB on the app's own port, an error in the app's own code"
    )
    error = "TypeError: res.send is not a function"
    timeout = "MongooseError: Operation `movies.find()` buffering timed out after 10000ms"

    def result(lines: list[list[str]]) -> dict[str, Any]:
        return _failing(lines, [swapped, port], "/u")

    both = result([[timeout], [error], [error]])
    movies = result([[timeout]])
    other = result([[timeout], [error], ["TypeError: x.map is not a function"]])
    for one in (both, movies, other):
        classify(one, {})
    assert [r["class"] for r in (both, movies, other)] == ["app's", "app's", "ours"]
    assert both["cause"].startswith("its routes fail on errors in its own code"), both["cause"]
    assert movies["cause"].startswith("its MongoDB URL's port is the app's own PORT")


def test_routes_failing_on_a_sequelize_include_named_by_a_string_are_the_apps() -> None:
    """Blackcat-Tinkerngineers' Ecommerce-back-end: its category routes include ``model:
    'Product'``, both answering 500 ("include.model.getTableName is not a function"),
    said by the service. A route failing otherwise keeps it ours."""
    said = (
        "diagnosis: routes/api/category-routes.js line 8 gives a Sequelize include the string"
        " 'Product' as its model, not the model Product: Sequelize reads a model's table off"
        " it and fails on every call (an error in the app's own code)"
    )
    error = "TypeError: include.model.getTableName is not a function"

    def result(lines: list[list[str]]) -> dict[str, Any]:
        return _failing(lines, [error, said], "/u")

    each, mixed = result([[error], [error]]), result([[error], ["TypeError: x is undefined"]])
    for one in (each, mixed):
        classify(one, {})
    assert (each["class"], mixed["class"]) == ("app's", "ours")
    assert each["cause"].startswith("its Sequelize includes name their models by strings")


def test_a_supabase_project_its_start_makes_a_client_for_is_the_environments() -> None:
    """JasonSmith03's plantNestJS makes its Supabase client in a provider's constructor
    from SUPABASE_URL, unset: "supabaseUrl is required." A hosted service on the internet,
    which no sandbox reaches."""
    result = _failed("Error: supabaseUrl is required.")
    classify(result, {})
    assert result["class"] == "environment"
    assert result["cause"].startswith("its Supabase project is a hosted service")


def test_routes_rendering_a_view_the_app_lacks_are_the_apps() -> None:
    """mrcunningham's budgetExpress renders budget_form, never committed; muaz234's recipes
    NestJS app renders with no view engine set: each diagnosed by the service. A route
    failing otherwise keeps the app ours."""
    said = (
        "diagnosis: the app renders the view budget_form, which no file of its upload is"
        " (Express's 'Failed to lookup view'): an error in the app's own code"
    )
    error = 'Error: Failed to lookup view "budget_form" in views directory "/srv/app/views"'
    engine = "Error: No default engine was specified and no extension was provided."

    def result(lines: list[list[str]], tail: list[str]) -> dict[str, Any]:
        return _failing(lines, tail, "/b")

    each = result([[error], [engine]], [error, said])
    mixed = result([[error], ["TypeError: x.map is not a function"]], [error, said])
    undiagnosed = result([[error]], [error])
    for one in (each, mixed, undiagnosed):
        classify(one, {})
    assert [r["class"] for r in (each, mixed, undiagnosed)] == ["app's", "ours", "ours"]
    assert "the app renders the view budget_form, which no file" in each["cause"]
    # Django's (FlxBot001's django-appointments).
    said = (
        "diagnosis: the app renders the view register.html, which no file of its upload is"
        " (Django's TemplateDoesNotExist): an error in the app's own code"
    )
    error = "django.template.exceptions.TemplateDoesNotExist: register.html"
    django = result([[error], [error]], [error, said])
    classify(django, {})
    assert django["class"] == "app's", django["cause"]


def test_routes_each_failing_on_the_apps_own_code_in_its_way_are_the_apps() -> None:
    """JazzKriss21's Tourism-Django-Rest: /account/login/ and /account/signup/ render
    templates never committed (diagnosed), /account/logout/'s view returns None. Each
    route the app's own, by different reasons; one failing otherwise keeps it ours."""
    said = (
        "diagnosis: the app renders the view accounts/login.html, which no file of its upload"
        " is (Django's TemplateDoesNotExist): an error in the app's own code"
    )
    template = "django.template.exceptions.TemplateDoesNotExist: accounts/login.html"
    none = (
        "ValueError: The view accounts_api.views.logout_view didn't return an HttpResponse"
        " object. It returned None instead."
    )

    def result(lines: list[list[str]]) -> dict[str, Any]:
        return _failing(lines, [template, said, none], "/account")

    mixed = result([[template], [none], [template]])
    other = result([[template], [none], ["KeyError: 'x'"]])
    for one in (mixed, other):
        classify(one, {})
    assert (mixed["class"], other["class"]) == ("app's", "ours"), mixed["cause"]
    assert mixed["cause"].startswith("its routes fail on errors in its own code")
    assert "returns no response" in mixed["cause"] and "renders the view" in mixed["cause"]
    alone = result([[none], [none]])
    classify(alone, {})
    assert alone["class"] == "app's" and alone["cause"].startswith("its routes' views return")


def test_routes_reading_a_pydantic_field_off_its_class_are_the_apps() -> None:
    """josellecallora08's paymongo-fastapi reads ``Settings.PAYMONGO_TOKEN`` off its
    settings' class: diagnosed by the service. A route failing on another attribute keeps
    the app ours."""
    said = (
        "diagnosis: app/api/v1/webhooks.py line 90 reads Settings.PAYMONGO_TOKEN, but"
        " PAYMONGO_TOKEN is a field of the pydantic model Settings (app/core/config.py): its"
        " value is an instance's (the instance the app makes of it, as"
        " settings.PAYMONGO_TOKEN would), not the class's: an error in the app's own code"
    )
    error = "AttributeError: PAYMONGO_TOKEN"

    def result(lines: list[list[str]], tail: list[str]) -> dict[str, Any]:
        return _failing(lines, tail, "/p")

    each = result([[error]], [error, said])
    other = result([[error], ["AttributeError: SECRET"]], [error, said])
    for one in (each, other):
        classify(one, {})
    assert [r["class"] for r in (each, other)] == ["app's", "ours"]
    assert each["cause"].endswith(
        "each failing route reads a field of a pydantic model off its class"
        " (app/api/v1/webhooks.py line 90 reads Settings.PAYMONGO_TOKEN)"
    ), each["cause"]


def test_routes_calling_a_model_files_definer_as_the_model_are_the_apps() -> None:
    """Victor-Santos-Silva's BackEnd-CoffeeExpress calls ``Produto.findAll()`` on its
    sequelize-cli model file's export, the function defining the model: diagnosed by the
    service. A route failing otherwise keeps the app ours."""
    said = (
        "diagnosis: src/services/produtoService.js line 54 calls Produto.findAll, but Produto"
        " is src/models/Produto.js's export, a function that defines the model on the"
        " instance it is given (sequelize-cli's model file), not the model its"
        " models/index.js keeps: an error in the app's own code"
    )
    error = "TypeError: Produto.findAll is not a function"

    def result(lines: list[list[str]], tail: list[str]) -> dict[str, Any]:
        return _failing(lines, tail, "/p")

    each = result([[error], [error]], [error, said])
    mixed = result([[error], ["TypeError: Pedido.findAll is not a function"]], [error, said])
    for one in (each, mixed):
        classify(one, {})
    assert [r["class"] for r in (each, mixed)] == ["app's", "ours"]
    assert "produtoService.js line 54 calls Produto.findAll" in each["cause"]
