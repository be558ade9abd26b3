"""The PostgreSQL one preview is given: :class:`Backing`.

Sandboxed, the preview gets a relay (``pgrelay``) on its own loopback, port 5432 and the
ports its configuration names, under the names it calls the server by (``db``,
``postgres``, its compose file's service, the hosts of its URLs: ``wants``), to the
operator's server (``PREVIEW_APP_POSTGRES_URL``: roles and databases of its own made on
first use, ``appdb.SharedLogins``) or, without one, where the app has a PostgreSQL driver
and the machine the server's binaries, to a private throwaway server in a sandbox of its
own (``pgprivate``; ``PREVIEW_APP_POSTGRES=off`` turns it off). Each database the app opens
gets the SQL its compose file mounts into the PostgreSQL service's
``/docker-entrypoint-initdb.d`` run in it first (as its own role on the operator's server).
The app's own URL is kept (any user, password and database it names is accepted); the
variables it may read instead (``DATABASE_URL`` and the URL's other names, ``POSTGRES_URL``
…, ``POSTGRES_*``, ``DB_*``, ``PG*``, ``SQLALCHEMY_DATABASE_URI``) are given where it sets
none (:attr:`PostgresBacking.env`). Unsandboxed, with the operator's server, its role and
database are made at launch and given as those variables. Each step is told as a ``system``
event; where the app's own configuration names a PostgreSQL server that cannot be given,
the launch fails saying how to give it one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import trio

from ..apps.asyncdb import URL_VARIABLES
from ..apps.configvars import fill_in
from ..apps.configvars.meanings import database_variables
from ..apps.spec import LaunchSpec
from ..logs import report_fault
from ..sandbox import Containment
from ..sandbox.egress import EGRESS_PORT
from ..sandbox.isolation import Isolation
from ..sandbox.outbound import ServiceRelay
from ..settings import Settings
from .appdb import (
    SharedLogins,
    create_app_database,
    database_server,
    drop_app_database,
    is_psycopg_error,
)
from .neon import ENDPOINT_PORT, NeonEndpoint, endpoint_hosts, endpoint_tls
from .pgprivate import (
    PrivateLogins,
    PrivateServer,
    ServerFailed,
    run_private_server,
    server_binaries,
)
from .pgrelay import Connect, Logins, PostgresRelay, RelayTls, relay_tls
from .wants import ALIASES, PORT, PostgresWants, postgres_wants

__all__ = ["PostgresBacking", "postgres_variables"]

_log = logging.getLogger(__name__)
System = Callable[[str, str], Awaitable[None]]
_DROP_TIME = 30.0
_SOCKET = "postgres.sock"
_NEON_SOCKET = "neon.sock"  # its Neon endpoint's (backing.neon)
_FIRST = {
    "user": (
        "POSTGRES_USER",
        "DB_USER",
        "PGUSER",
        "DATABASE_USER",
        "POSTGRES_USERNAME",
        "DB_USERNAME",
        "DATABASE_USERNAME",
    ),
    "password": ("POSTGRES_PASSWORD", "DB_PASSWORD", "PGPASSWORD", "DATABASE_PASSWORD"),
    "database": (
        "POSTGRES_DB",
        "DB_NAME",
        "PGDATABASE",
        "POSTGRES_DATABASE",
        "DATABASE_NAME",
        "DB_DATABASE",
    ),
}
_DEFAULTS = {"user": "postgres", "password": "postgres", "database": "app"}


def postgres_variables(
    given: dict[str, str],
    host: str,
    port: int,
    named: dict[str, str] | None = None,
    scheme: str = "postgresql",
) -> dict[str, str]:
    """The variables an app may read its PostgreSQL from, for the server at host:port,
    named as ``given`` (its configuration) names them where it does, else as its own URL
    does (``named``: ``PostgresWants.named``). A value its example leaves to fill in
    (``DB_NAME=<database_name>``, zeeshanravian1's fastapi-ecommerce-postgresql, whose
    ``CREATE SCHEMA IF NOT EXISTS <database_name>`` then failed) names nothing. The URLs
    are under ``scheme`` (``PostgresWants.scheme``), but SQLAlchemy's, ``postgresql``."""
    names = {
        what: next((given[k] for k in keys if given.get(k) and not fill_in(given[k])), None)
        or (named or {}).get(what)
        or _DEFAULTS[what]
        for what, keys in _FIRST.items()
    }
    user, password, database = names["user"], names["password"], names["database"]
    url = f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/"
    url += quote(database, safe="")
    variables: dict[str, str] = dict.fromkeys(URL_VARIABLES, url)  # DATABASE_URL …
    if scheme != "postgresql":
        own = f"{scheme}://{url.split('://', 1)[1]}"
        variables.update({n: own for n in URL_VARIABLES if n != "SQLALCHEMY_DATABASE_URI"})
    # DB_*, DATABASE_* (brithely's Litestar todo API's Alembic env.py hands each DB_* to
    # configparser, which refuses a None), then PostgreSQL's own names
    variables.update(database_variables(host, port, user, password, database))
    variables.update({"POSTGRES_HOST": host, "POSTGRES_PORT": str(port)})
    variables.update({"POSTGRES_USER": user, "POSTGRES_PASSWORD": password})
    variables.update({"POSTGRES_HOSTNAME": host, "POSTGRES_USERNAME": user})
    variables.update(POSTGRES_DB=database, POSTGRES_DATABASE=database)
    variables.update(POSTGRES_SERVER=host, PGHOST=host, PGPORT=str(port), PGUSER=user)
    variables.update(PGPASSWORD=password, PGDATABASE=database)
    return variables


def _with_sslmode(url: str, mode: str) -> str:
    """``url`` with its query's ``sslmode`` set to ``mode`` (its other parameters kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "sslmode"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("sslmode", mode)])))


def _hidden(url: str) -> str:
    """``url`` with its password hidden (for the log)."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("://", 1)[-1]:
        return url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{tail}"


class PostgresBacking:
    """One preview's PostgreSQL (see the module doc): :meth:`running` for its whole
    preparation and run; :attr:`env` what the app is given where it sets nothing."""

    def __init__(
        self, spec: LaunchSpec, *, settings: Settings, containment: Containment, system: System
    ) -> None:
        self._spec = spec
        self._settings = settings
        self._containment = containment
        self._system = system
        self.env: dict[str, str] = {}
        self.driver: str | None = None  # the app's PostgreSQL driver, once read
        self._told: list[str] = []  # what the relay did, told at the next occasion
        # Why its private server, started beside the build, could not start: the cause
        # of the app's own failure to connect, told as the launch's (Backing.failure).
        self.failure: str | None = None
        # Where its databases are, for the service's own use of them (preview.snapshots):
        # its logins on the operator's server, or its private server's, or (unsandboxed)
        # the database made at launch, named ``spec.database_name``.
        self.logins: SharedLogins | PrivateLogins | None = None
        self.made_at_launch = False
        self.tls: RelayTls | None = None  # its relay's, where it has one
        # The certificate of its Neon endpoint (backing.neon), where it has one.
        self.neon_certificate: bytes | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str | None]:
        """Provide what the app expects for the block; a failure's message (its
        ``system`` event tells more) when it cannot be given, else None. Dropped at the
        end (bounded, shielded)."""
        wants = await trio.to_thread.run_sync(
            postgres_wants, self._spec.files, dict(self._spec.extra)
        )
        self.driver = wants.driver
        shared: SharedLogins | None = None
        eager = False
        try:
            async with trio.open_nursery() as nursery:
                try:
                    provided = await self._provide(wants, nursery)
                except ServerFailed as failure:
                    await self._system("ERROR", f"PostgreSQL: {failure}")
                    provided = f"its PostgreSQL could not be given: {failure}"
                except Exception as error:  # a failure of the service's own part
                    provided = report_fault(
                        _log,
                        error,
                        "its PostgreSQL could not be given",
                        about=f"preview {self._spec.preview_id}",
                    )
                    await self._system("ERROR", f"PostgreSQL: {provided}")
                if isinstance(provided, str):
                    yield provided
                    return
                shared, eager = provided
                self._fill_templates(wants)
                await self.tell()
                try:
                    yield None
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(_DROP_TIME):
                await self._drop(shared, eager)

    async def _provide(
        self, wants: PostgresWants, nursery: trio.Nursery
    ) -> tuple[SharedLogins | None, bool] | str:
        """(its logins on the operator's server, whether its database was made at
        launch); the failure's message when what it needs cannot be given (told)."""
        url = self._settings.app_postgres_url
        if self._containment.sandboxed and url:
            self.tls = await relay_tls(self._settings.data_dir / "postgres")
            shared = self.logins = SharedLogins(
                url,
                self._spec.database_name,
                self._settings.node,
                self._said,
                init_scripts=wants.init_scripts,
                init_told=self._init_told,
                own_extensions=wants.own_extensions,
            )
            await self._relay(wants, shared, self._shared_connect, "the operator's server")
            return shared, False
        if url:
            self.made_at_launch = await self._create_unsandboxed()
            return None, self.made_at_launch
        if wants.driver is not None and await self._private(wants, nursery):
            return None, False
        if wants.url is not None and wants.driver is not None:
            return await self._cannot(wants)
        return None, False

    def _fill_templates(self, wants: PostgresWants) -> None:
        """Give the variables whose URL is a form to fill in (``postgresql://user:password@
        host:port/dbname``) the preview's own URL, under their scheme (their driver's):
        viktorsapozhok's fastapi-services-oauth2 died on SQLAlchemy's "invalid literal for
        int() … 'port'" reading its committed .env's MYAPI_DATABASE__DSN."""
        url = self.env.get("DATABASE_URL", "")
        if not wants.templates or "://" not in url:
            return
        rest = url.split("://", 1)[1]
        self.env.update({name: f"{scheme}://{rest}" for name, scheme in wants.templates.items()})
        names = ", ".join(sorted(wants.templates))
        self._told.append(f"PostgreSQL: {names} (a URL to fill in) given the preview's own")

    async def _init_told(self, text: str) -> None:
        failed = " failed: " in text or "could not run" in text
        await self._system("WARNING" if failed else "INFO", text)

    def _said(self, text: str) -> None:
        _log.info("preview %s: %s", self._spec.preview_id, text)

    async def _shared_connect(self) -> trio.SocketStream:
        server = database_server(self._settings.app_postgres_url)
        assert server is not None
        return await trio.open_tcp_stream(*server)

    async def _relay(
        self, wants: PostgresWants, logins: Logins, connect: Connect, where: str
    ) -> None:
        relay = PostgresRelay(connect, logins, self.tls.context if self.tls else None)
        ports = tuple(p for p in wants.ports if 1024 <= p < EGRESS_PORT and p != self._spec.port)
        # A port its MySQL wants too (DB_PORT=3306) is PostgreSQL's only with its driver.
        ports = self._containment.provide(
            (ServiceRelay(_SOCKET, ports, relay.serve),),
            wants.aliases,
            first=wants.driver is not None,
        ) or (PORT,)
        # What its compose file gives its own services is its configuration too.
        # Neon's driver posts to the https://api.… of a dotted host, which 127.0.0.1's
        # is no URL of ("api.0.0.1"): its URLs name the server by a name of one label.
        host = ALIASES[0] if wants.neon is not None else "127.0.0.1"
        variables = postgres_variables(wants.given, host, ports[0], wants.named, wants.scheme)
        self.env = {**variables, **wants.compose_env}
        names = ", ".join(a for a in wants.aliases if a != "localhost")
        self._told = [
            f"PostgreSQL: {where}, reached as {names} and localhost on "
            f"port{'s' if len(ports) > 1 else ''} {', '.join(map(str, ports))} "
            "(any user, password and database the app names: each made on first use)",
        ]
        if wants.verified_tls is not None and self.tls is not None:
            # node-postgres reads its URL's sslmode over the options the code gives it:
            # TLS kept, the relay's own certificate (no public authority signs it) taken.
            for name in URL_VARIABLES:
                if name in variables:
                    self.env[name] = _with_sslmode(self.env[name], "no-verify")
            self._told.append(
                f"PostgreSQL: {wants.verified_tls} asks node-postgres for TLS with a "
                "certificate a public authority signed (ssl: true, as a hosted database "
                "has); its URLs say sslmode=no-verify, which node-postgres reads over it: "
                "TLS with the preview's own certificate"
            )
        if wants.url is not None:
            self._told.append(f"PostgreSQL: the app's own {_hidden(wants.url)} reaches it")
        if wants.compose:
            self._told.append(
                f"PostgreSQL: for the compose file's service {', '.join(wants.compose)}"
            )
        schemas = [f"{name}={schema}" for name, schema in wants.schemas.items()]
        schemas += [f"{path}: {schema}" for schema, path in wants.code_schemas.items()]
        own = [p for p, _ in wants.init_scripts if p not in schemas]
        if own and wants.init_origin:  # a Dockerfile's, its README's (schemasql)
            self._told.append(
                f"PostgreSQL: the upload's SQL ({', '.join(own)}), from {wants.init_origin}, "
                "runs in each database the app opens, before it does"
            )
        elif own and wants.lone_schema and len(own) > 1:  # golang-migrate's, in order
            self._told.append(
                f"PostgreSQL: the upload's SQL migrations ({', '.join(own)}), which nothing "
                "else runs, run in each database the app opens, before it does"
            )
        elif wants.init_scripts and wants.lone_schema:
            self._told.append(
                f"PostgreSQL: the upload's one schema file ({wants.init_scripts[0][0]}), "
                "which nothing else runs (no migrations), runs in each database the app "
                "opens, before it does"
            )
        elif scripts := [p for p, _ in wants.init_scripts if p not in schemas]:
            self._told.append(
                "PostgreSQL: the compose file's init scripts "
                f"({', '.join(scripts)}) run in each database the "
                "app opens, before it does, as the image runs them on a new server"
            )
        if wants.schemas or wants.code_schemas:
            self._told.append(
                "PostgreSQL: the schema its settings or code name "
                f"({', '.join(schemas)}) made in each database the app "
                "opens, before it does"
            )
        self._told.append(
            "PostgreSQL: DATABASE_URL (POSTGRES_URL …), POSTGRES_*, DB_*, PG* and "
            "SQLALCHEMY_DATABASE_URI given where the app sets none"
        )
        if wants.neon is not None:
            await self._neon_endpoint(wants, logins, connect, relay)

    async def _neon_endpoint(
        self, wants: PostgresWants, logins: Logins, connect: Connect, relay: PostgresRelay
    ) -> None:
        """Neon's endpoint on port 443 (``backing.neon``), under the names its driver posts
        to for each host the app may be given or names, and those hosts' own (its Pool's
        WebSocket, handed to ``relay``)."""
        hosts = (*wants.aliases, "localhost")  # a Pool's WebSocket goes to the host itself
        names = tuple(dict.fromkeys((*endpoint_hosts(hosts), *hosts)))
        tls = await endpoint_tls(names)
        if tls is None:
            self._told.append(
                f"PostgreSQL: {wants.neon} posts its queries over HTTPS, and no certificate "
                "could be made for it here (openssl is missing): neon() cannot reach it"
            )
            return
        endpoint = NeonEndpoint(connect, logins, tls.context, relay.serve)
        given = self._containment.provide(
            (ServiceRelay(_NEON_SOCKET, (ENDPOINT_PORT,), endpoint.serve),), names
        )
        if not given:
            return
        self.neon_certificate = tls.certificate
        shown = ", ".join(n for n in names if n != "localhost")
        self._told.append(
            f"PostgreSQL: Neon's serverless driver ({wants.neon}) posts its queries to "
            "https://{host}/sql (its Pool: a WebSocket at wss://{host}/v2); its endpoint "
            f"answers them on this server, as {shown} and localhost on port {ENDPOINT_PORT} "
            "(TLS on a certificate the app is told to trust)"
        )

    async def _private(self, wants: PostgresWants, nursery: trio.Nursery) -> bool:
        if self._settings.app_postgres == "off" or not self._containment.sandboxed:
            return False
        isolation = self._containment.isolation
        bin_dir = await trio.to_thread.run_sync(server_binaries)
        if bin_dir is None or isolation is None:
            return False
        spec = self._spec
        root = self._settings.previews_dir / f"{spec.preview_id}-pg"
        server = PrivateServer(root)
        # Started beside the build: the app's first connection waits for it, not the launch.
        nursery.start_soon(self._run_private, bin_dir, server, isolation)
        where = f"a private server of this preview's own (for {wants.driver})"
        self.logins = PrivateLogins(
            server,
            self._said,
            init_scripts=wants.init_scripts,
            init_told=self._init_told,
            own_extensions=wants.own_extensions,
        )
        self.tls = await relay_tls(self._settings.data_dir / "postgres")  # asked for: SSL
        await self._relay(wants, self.logins, server.connect, where)
        return True

    async def _run_private(
        self, bin_dir: Path, server: PrivateServer, isolation: Isolation
    ) -> None:
        spec, began = self._spec, trio.current_time()
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(
                    partial(
                        run_private_server,
                        bin_dir,
                        server,
                        settings=self._settings,
                        isolation=isolation,
                        name=f"{spec.preview_id}-pg",
                        uid_slot=spec.port,
                    )
                )
                took = trio.current_time() - began
                await self._system("INFO", f"PostgreSQL: the private server is up ({took:.2f} s)")
        except* ServerFailed as group:  # run_private_server's own, in this nursery's group
            self.failure = f"the private PostgreSQL could not start: {group.exceptions[0]}"
            await self._system("ERROR", f"PostgreSQL: {self.failure}")

    async def tell(self) -> None:
        """Say what was provided (once)."""
        told, self._told = self._told, []
        for text in told:
            await self._system("INFO", text)

    async def _cannot(self, wants: PostgresWants) -> str:
        where = "this machine" if self._containment.sandboxed else "unsandboxed previews"
        message = (
            f"the app uses PostgreSQL ({_hidden(wants.url or '')}, {wants.driver}), which "
            f"this service cannot give {where}: the operator can set "
            "PREVIEW_APP_POSTGRES_URL to a PostgreSQL server's admin URL, or install "
            "PostgreSQL's server (Debian's postgresql package) with the sandbox on and "
            "PREVIEW_APP_POSTGRES=auto"
        )
        await self._system("ERROR", message)
        return message

    async def _create_unsandboxed(self) -> bool:
        url, name = self._settings.app_postgres_url, self._spec.database_name
        try:
            self.env = await trio.to_thread.run_sync(
                create_app_database, url, name, self._settings.node
            )
        except Exception as error:
            if not is_psycopg_error(error):
                raise
            first = next(iter(str(error).strip().splitlines()), "")
            raise ServerFailed(f"could not create the preview's database: {first}") from None
        await self._system("INFO", f"database {name} created for this preview")
        return True

    async def _drop(self, shared: SharedLogins | None, eager: bool) -> None:
        url, role = self._settings.app_postgres_url, self._spec.database_name
        try:
            if shared is not None and shared.used:
                await trio.to_thread.run_sync(shared.drop)
            elif eager:
                await trio.to_thread.run_sync(drop_app_database, url, role)
        except Exception as error:
            if not is_psycopg_error(error):
                raise
            _log.exception("could not drop the database of preview %s", self._spec.preview_id)
