"""``create_app``: the QuartTrio ASGI app, its services and its one error boundary."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import trio
from quart import (
    Quart,
    Response,
    has_request_context,
    has_websocket_context,
    jsonify,
    request,
    websocket,
)
from quart_trio import QuartTrio
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.routing.exceptions import WebsocketMismatch

from .api import (
    alerts,
    endpoints,
    generations,
    ops,
    origins,
    presets,
    previews,
    proxying,
    revisions,
    snapshots,
    streams,
    ui,
)
from .auth import Authenticator, JWTAuthenticator
from .errors import BadRequest, PreviewError, error_response
from .history import RequestHistory
from .history import blueprint as history_blueprint
from .proxy import OriginRouter, ProxyFastPath, attach_hot_path, install_hot_path
from .proxy.hot import attach_internal as attach_internal_hot_path
from .runtime import Supervisor, UpstreamRouter, local_transport
from .sandbox import follow_parent_death, in_worker_process, stop_on_sigterm
from .services import Services
from .services.bodies import bounded_request_class, envelope_limit
from .services.origins import preview_id_of_label
from .settings import Settings, unknown_env_names
from .sharing import annotations_blueprint
from .sharing import blueprint as sharing_blueprint
from .snapshots import DataTemplates, PostgresChunks, Snapshots
from .store import Store
from .store.audit import remove_audit_before
from .store.datadir import hold_data_dir, release_data_dir, remove_leftovers
from .transport import (
    CorsMiddleware,
    HotStreams,
    ParkedStreams,
    StreamFastPath,
    connection_guard,
)

__all__ = ["create_app"]

_log = logging.getLogger("preview")
# Control characters as \x0a …, for a log line: str.translate's table.
CONTROLS = {n: f"\\x{n:02x}" for n in (*range(0x20), 0x7F)}
_PARKED_STREAMS_GRACE = 5.0  # for the streams to send their preview's end at shutdown
_SHUTDOWN_STOP_MARGIN = 40.0  # beyond the stop grace: the last rows and lines stored


def _error_json(error: PreviewError) -> Response:
    status, headers, body = error_response(error)
    return Response(body, status=status, headers=Headers(headers))


def _websocket_mismatch() -> BadRequest:
    """A plain request to a WebSocket route (``…/logs/ws``), or a WebSocket handshake to
    a route of plain requests: said as such, not as Werkzeug's "The browser (or proxy)
    sent a request that this server could not understand"."""
    if has_websocket_context():
        return BadRequest(
            "This route does not take WebSocket connections.", code="websocket_not_accepted"
        )
    return BadRequest(
        "This route takes WebSocket connections only: open it with a WebSocket handshake"
        " (Upgrade: websocket).",
        code="websocket_required",
    )


def _cluster_forwarder(inner: Any, state: Services) -> Any:
    """The cluster's forwarding layer around ``inner`` (cluster mode only)."""
    from .cluster import ClusterForwarder, node_for_launch, owner_of_generation, owner_of_preview

    settings = state.settings
    lookups = {"generation": owner_of_generation, "preview": owner_of_preview}

    async def find_owner(kind: str, key: str) -> Any:
        if state.store is None:
            return None
        return await state.store.run_sync(lookups[kind], state.store.engine, key, settings.node)

    async def place(gid: str, full: frozenset[str]) -> Any:
        """The least-loaded node with room, if not this one, of those not found full."""
        if state.store is None:
            return None
        store = state.store
        return await store.run_sync(node_for_launch, store.engine, gid, settings.node, full)

    def runs_generation(gid: str) -> bool:
        return state.supervisor is not None and state.supervisor.for_generation(gid) is not None

    def runs_preview(preview_id: str) -> bool:
        return state.supervisor is not None and state.supervisor.get(preview_id) is not None

    def preview_of_host(host: str) -> str | None:
        if not state.origins.is_app_host(host):
            return None
        label = state.origins.label_of_host(host)
        return None if label is None else preview_id_of_label(label)

    return ClusterForwarder(
        inner,
        secret=settings.cluster_secret,
        runs_generation=runs_generation,
        runs_preview=runs_preview,
        preview_of_host=preview_of_host,
        find_owner=find_owner,
        place=place,
        forward_streams=settings.cluster_log_streams == "forward",
    )


def create_app(
    settings: Settings | None = None,
    *,
    authenticator: Authenticator | None = None,
    store: Store | None = None,
    fast_paths: bool = False,
) -> Quart:
    """The service as an ASGI app for any trio ASGI server (``hypercorn -k trio``).

    ``settings`` default to the environment (``Settings.from_env()``); ``authenticator``
    defaults to HS256 JWTs signed with ``PREVIEW_JWT_SECRET``. The app opens the
    database at ``settings.database_url`` when it starts serving and closes it when it
    stops, unless given an open ``store``, which stays the caller's to close.

    ``fast_paths``: also serve proxied calls and log streams below Hypercorn, on its
    connections (``proxy.hot``), and guard its connections from one client's protocol
    error (``transport.connection_guard``). Both wrap Hypercorn's classes for the whole
    process (``preview.seams``), so they are the caller's choice: ``preview serve`` asks
    for them; an embedding host gets the same API served through ASGI alone, and its
    Hypercorn as it was, unless it asks too.
    """
    settings = settings or Settings.from_env()
    if fast_paths:
        connection_guard.install()  # one client's protocol error must not end the server
    app = _configured_quart(settings)
    if authenticator is None:
        authenticator = JWTAuthenticator(
            settings.resolve_jwt_secret(),
            session_timeout=settings.session_timeout,
            max_lifetime=settings.jwt_max_lifetime,
        )
    settings.node  # noqa: B018 - read now, at start (a file in the data dir), not on the loop
    history = RequestHistory(settings)  # every proxied request, kept by one writer
    state = Services(settings=settings, authenticator=authenticator, history=history)
    app.extensions["preview"] = state
    for blueprint in _API_BLUEPRINTS:
        app.register_blueprint(blueprint)
    forwarder = _wrap_asgi(app, state)
    # Below all of it, on Hypercorn's connections: authorised proxied calls (proxy.hot.path).
    hot_path = None
    if fast_paths:
        install_hot_path()
        hot_path = attach_hot_path(app, state)
        hot_path.log_streams = HotStreams(state)  # a stream's request on a hot connection
    app.register_blueprint(ui.blueprint)

    lifetime = _Lifetime(
        app, state, history, given_store=store, forwarder=forwarder, hot_path=hot_path
    )
    # Set once a cluster node fenced itself and stopped its previews: `preview serve`
    # then ends (serving); an embedding host reads it, and /readyz answers 503.
    app.extensions["preview.fenced"] = lifetime.fenced
    app.before_serving(lifetime.start)
    app.after_serving(lifetime.stop)
    _handle_errors(app)

    @app.get("/api/health")
    async def _health() -> Response:
        return jsonify({"status": "ok"})

    return app


# The API's routes; the UI's and the OpenAPI document's come after the ASGI layers.
_API_BLUEPRINTS = (
    generations.blueprint,
    previews.blueprint,
    revisions.blueprint,
    snapshots.blueprint,
    history_blueprint,
    streams.blueprint,
    proxying.blueprint,
    endpoints.blueprint,
    alerts.blueprint,
    annotations_blueprint,
    presets.blueprint,
    sharing_blueprint,
    origins.blueprint,
    ops.blueprint,
)


def _configured_quart(settings: Settings) -> Quart:
    """A QuartTrio app configured for the service: bodies, slashes, timeouts, JSON."""
    # The UI blueprint serves /static itself (content types, CSP, no-cache).
    app = QuartTrio("preview", static_folder=None)
    app.request_class = bounded_request_class(settings)  # each body its route's limit
    # A path with "//" is not redirected (308, with Werkzeug's HTML page): it is matched
    # as written, and a route refuses it in the error shape if it must.
    app.url_map.merge_slashes = False
    # Quart's own cap, behind each route's (services.bodies): the largest body any route takes.
    app.config["MAX_CONTENT_LENGTH"] = max(settings.max_upload_bytes, envelope_limit(settings))
    app.config["RESPONSE_TIMEOUT"] = None  # streams live as long as their preview
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = settings.stop_grace + 45
    app.json.sort_keys = False  # type: ignore[attr-defined]
    return app


def _wrap_asgi(app: Quart, state: Services) -> Any:
    """The ASGI layers around Quart's app, innermost first; the cluster's forwarder
    (cluster mode only), which the app closes as it stops, or None."""
    app.asgi_app = ProxyFastPath(StreamFastPath(app.asgi_app, state), state)  # type: ignore[method-assign]
    # Around the fast paths, so their answers get the CORS headers too.
    app.asgi_app = CorsMiddleware(app.asgi_app, state.settings.cors_origin_set)  # type: ignore[method-assign]
    # Outermost, the preview origins: a call to <preview>.<domain> never reaches the API,
    # and an app's own CORS answers reach its callers unchanged.
    app.asgi_app = OriginRouter(app.asgi_app, state)  # type: ignore[method-assign]
    # Cluster mode: outermost, a call that needs another node's preview goes there
    # (cluster.forwarding); a single node never loads it, so its path gains nothing.
    if not state.settings.cluster:
        return None
    forwarder = _cluster_forwarder(app.asgi_app, state)
    app.asgi_app = forwarder  # type: ignore[method-assign]
    return forwarder


class _Lifetime:
    """What the app opens as it starts serving (the data dir held, the database, the
    supervisor, the client to the previews, the cluster node) and closes, in the reverse
    order, as it stops."""

    def __init__(
        self,
        app: Quart,
        state: Services,
        history: RequestHistory,
        *,
        given_store: Store | None,
        forwarder: Any,
        hot_path: Any,
    ) -> None:
        self.app = app
        self.state = state
        self.history = history  # state.history, as the object that serves and closes
        self.given_store = given_store  # the caller's to close
        self.forwarder = forwarder
        self.hot_path = hot_path
        self.fenced = trio.Event()
        self.stopping = trio.Event()  # set as the app stops: the internal listener ends
        self.holding: list[Any] = []  # the data dir, once held (released after serving)

    async def start(self) -> None:
        settings = self.state.settings
        nursery = self.app.nursery  # type: ignore[attr-defined]
        follow_parent_death()  # a Hypercorn worker ends with its master, previews too
        for name in unknown_env_names():
            _log.warning("unknown setting %s is ignored (see docs/operating.md: Settings)", name)
        await self._hold_data_dir()
        state = self.state
        state.store = (
            self.given_store
            if self.given_store is not None
            else await Store.open(settings.database_url, threads=settings.db_threads)
        )
        # In a cluster, each snapshot is kept in PostgreSQL too, for every node.
        shared = partial(PostgresChunks, state.store.engine) if settings.cluster else None
        state.snapshots = Snapshots(settings, state.store, shared)
        # A launch's initialised data, kept as a snapshot is for the next of its inputs.
        data_cache = DataTemplates(settings, state.snapshots).bound
        state.supervisor = Supervisor(settings, state.store, state.metrics, data_cache)
        state.supervisor.retention.also.append(state.snapshots.expire)  # the logs' days
        if settings.audit_retention_days > 0:
            state.supervisor.retention.also.append(self._audit_expiry(state.store))
        state.http = self._client_to_previews(state.supervisor)
        if settings.cluster:
            await self._join_cluster(state.supervisor)
        await nursery.start(state.supervisor.serve)
        await nursery.start(self.history.serve, state.store)
        if in_worker_process():
            limit = settings.stop_grace + _SHUTDOWN_STOP_MARGIN
            nursery.start_soon(stop_on_sigterm, state.supervisor.aclose, limit)
        state.parked_streams = ParkedStreams()
        await nursery.start(state.parked_streams.serve)
        await nursery.start(state.shares.serve, state.store)  # revoked elsewhere: ended here
        await nursery.start(state.webhooks.serve)  # alert rules' webhooks

    async def _hold_data_dir(self) -> None:
        data_dir = self.state.settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        data_dir.chmod(0o700)  # the database, the secret: the service's alone
        # Before the reconciliation, which would end another live service's previews.
        hold_data_dir(data_dir)
        self.holding.append(data_dir)
        removed = await trio.to_thread.run_sync(remove_leftovers, data_dir)
        if removed:
            _log.warning("removed what a killed service left unfinished: %s", ", ".join(removed))

    def _audit_expiry(self, store: Store) -> Callable[[datetime], Awaitable[int]]:
        """The audit trail's removal of its entries older than PREVIEW_AUDIT_RETENTION_DAYS,
        at each pass of the logs' (handed the moment the logs' days end: its own days
        counted from the same now)."""
        settings = self.state.settings

        async def expire(logs_ended_before: datetime) -> int:
            now = logs_ended_before + timedelta(days=settings.log_retention_days)
            cutoff = now - timedelta(days=settings.audit_retention_days)
            return await store.run_sync(remove_audit_before, store.engine, cutoff)

        return expire

    def _client_to_previews(self, supervisor: Supervisor) -> httpx.AsyncClient:
        upstream = local_transport(httpx.Limits(max_connections=200, max_keepalive_connections=50))
        supervisor.ports.add_connection_closer(upstream.close_idle_to)
        if self.hot_path is not None:
            supervisor.ports.add_connection_closer(self.hot_path.pools.close_idle_to)
        client = httpx.AsyncClient(
            trust_env=False,
            # Each request goes over its preview's own socket when sandboxed (upstream),
            # else over TCP to 127.0.0.1 (connections reset on close: see ports).
            transport=UpstreamRouter(upstream),
            # One client serves every preview on 127.0.0.1, where cookies ignore the port:
            # a cookie a child sets goes to the caller only and is never kept here.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            follow_redirects=False,
            timeout=self.state.settings.proxy_timeout,
        )
        # Only the caller's headers go to the app: none of httpx's own (an Accept-
        # Encoding the caller did not send made apps answer gzip to a caller that cannot
        # read it; a User-Agent and an Accept it did not send either).
        for name in list(client.headers):
            del client.headers[name]
        return client

    async def _join_cluster(self, supervisor: Supervisor) -> None:
        # Imported in cluster mode only: a single node never loads it.
        from .cluster import (
            ClusterMetrics,
            ClusterNode,
            ClusterStreamCounts,
            RedisLiveLog,
            TailRelays,
            serve_internal,
        )

        settings = self.state.settings
        nursery = self.app.nursery  # type: ignore[attr-defined]
        fenced = self.fenced

        async def stop_when_fenced() -> None:
            await supervisor.aclose(fenced=True)
            fenced.set()

        assert self.state.store is not None
        cluster = ClusterNode(
            settings.node,
            settings.internal_url,
            self.state.store,
            on_fenced=stop_when_fenced,
            capacity=supervisor.ports.size,  # a preview a port: placement's count
        )
        # The live tail every node reads (Redis): needs no Redis up to start.
        live_log = RedisLiveLog(settings.redis_url, settings.redis_prefix)
        await nursery.start(live_log.serve)
        cluster.live_log = live_log
        # Every node's open log streams: the per-user bound and the watchers, cluster-wide.
        counts = ClusterStreamCounts(live_log, settings.node, self.state.streams)
        self.state.streams.count_elsewhere(counts)
        await nursery.start(counts.serve)
        if settings.cluster_log_streams == "relay":
            cluster.relays = TailRelays(
                live_log,
                self.state.store,
                settings.node,
                keepalive_interval=settings.keepalive_interval,
            )
            await nursery.start(cluster.relays.serve)
        # Registered before the supervisor reconciles: only this node's rows, then.
        await nursery.start(cluster.run)
        supervisor.cluster = cluster
        # The other nodes' calls for this node's previews: the same app, behind the
        # cluster's secret, at PREVIEW_INTERNAL_URL.
        hot_path, onward = self.hot_path, None
        if hot_path is not None and self.forwarder is not None:
            # The hot path's calls for other nodes' previews: sent on to them as bytes.
            forwarder = self.forwarder

            async def owner_of(kind: str, key: str) -> tuple[str, str] | None:
                owner = await forwarder.owner_of(kind, key)
                return None if owner is None else (owner.node, owner.internal_url)

            onward = hot_path.onward_to(settings.cluster_secret, owner_of, forwarder.forwarded)
        ClusterMetrics(cluster, self.forwarder, onward).register(self.state.metrics.registry)
        prepare = None
        if hot_path is not None:
            secret = settings.cluster_secret
            prepare = partial(attach_internal_hot_path, hot=hot_path, secret=secret)
        await nursery.start(
            serve_internal,
            self.app,
            settings.internal_url,
            settings.cluster_secret,
            self.stopping,
            prepare,
        )

    async def stop(self) -> None:
        state = self.state
        self.stopping.set()
        if state.supervisor is not None:
            await state.supervisor.aclose()  # the previews end: their streams write it
            cluster = state.supervisor.cluster
            if cluster is not None:  # then leaves, its rows final
                await cluster.aclose()
                if cluster.relays is not None:
                    cluster.relays.close()
                if cluster.live_log is not None:  # after the previews' last appends
                    await cluster.live_log.aclose()
        if self.forwarder is not None:
            await self.forwarder.aclose()
        await self.history.aclose()  # after the previews' last requests
        if state.parked_streams is not None:
            await state.parked_streams.aclose(_PARKED_STREAMS_GRACE)
        if state.http is not None:
            await state.http.aclose()
        if state.store is not None and self.given_store is None:
            await state.store.aclose()
        while self.holding:
            release_data_dir(self.holding.pop())


def _handle_errors(app: Quart) -> None:
    """The one error boundary: every failure answers in the error shape of DESIGN.md."""

    @app.errorhandler(PreviewError)
    async def _preview_error(error: PreviewError) -> Response:
        return _error_json(error)

    @app.errorhandler(HTTPException)
    async def _http_error(error: HTTPException) -> Response:
        if isinstance(error, WebsocketMismatch):  # Werkzeug's words fit neither way
            return _error_json(_websocket_mismatch())
        # Werkzeug's own refusals (unknown route, wrong method, body over the limit).
        refusal = PreviewError(
            error.description or error.name or "The request was refused.",
            code=(error.name or "error").lower().replace(" ", "_"),
        )
        refusal.status_code = error.code or 500
        response = _error_json(refusal)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value  # e.g. Allow on a 405
        return response

    @app.errorhandler(Exception)
    async def _unexpected(error: Exception) -> Response:
        if isinstance(error, trio.Cancelled):  # pragma: no cover - never swallow
            raise error
        # Also the boundary of WebSocket handlers, where there is no `request`. The path
        # escaped: decoded, it may hold a newline, and a log line of the client's making.
        if has_websocket_context():
            _log.exception("unhandled error on WEBSOCKET %s", websocket.path.translate(CONTROLS))
        elif has_request_context():
            _log.exception(
                "unhandled error on %s %s", request.method, request.path.translate(CONTROLS)
            )
        else:  # pragma: no cover - Quart calls error handlers within a context
            _log.exception("unhandled error")
        return _error_json(
            PreviewError("The service failed to handle this request; it has been logged.")
        )
