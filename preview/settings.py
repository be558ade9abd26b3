"""Settings: every ``PREVIEW_*`` environment variable, its default, unit and help.

``Settings.from_env()`` reads them once at start. Each field of :class:`Settings` is one
variable (``port_min`` is ``PREVIEW_PORT_MIN``); ``SETTINGS_HELP`` is the table docs/operating.md
and ``preview serve --help-settings`` print. Unknown ``PREVIEW_*`` names are returned by
:func:`unknown_env_names` so the service can report them at start.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .secretfile import kept_secret
from .settingsrules import check_settings

__all__ = [
    "PREBUILT_BINARY_HOSTS",
    "SETTINGS_HELP",
    "SOCKET_NAMES_MAX",
    "UNIX_SOCKET_PATH_MAX",
    "Settings",
    "unknown_env_names",
]

_PREFIX = "PREVIEW_"
_KINDS: dict[str, type] = {"Path": Path, "str": str, "int": int, "float": float}
# Names read by tools around the service rather than by Settings itself.
_OTHER_KNOWN = {"PREVIEW_URL", "PREVIEW_TOKEN", "PREVIEW_CLI"}  # the client commands' own
_OTHER_PREFIXES = ("PREVIEW_TEST_", "PREVIEW_BENCH_")  # the test suite's and benchmarks' own


# A Unix socket's path: at most 107 bytes (sun_path, its NUL aside), or bind() and
# connect() fail ("AF_UNIX path too long"), as do socat, PostgreSQL and libpq.
UNIX_SOCKET_PATH_MAX = 107
# The longest path the service makes below its sockets directory (``sockets_dir``): a
# revision's forwarder (preview_<16 hex>-r<revision>-<attempt>/port-<port>.sock, 43
# bytes and the two numbers' digits), a step's ways out (<name>-out/postgres.sock), a
# preview's servers (<id>-svc/mysql/mysqld.sock), its PostgreSQL's (<id>-pg/.s.PGSQL.5432).
SOCKET_NAMES_MAX = 56
# Where native Node modules' install scripts (node-pre-gyp, prebuild-install) fetch their
# prebuilt binaries: GitHub's release downloads (sqlite3, bcrypt, better-sqlite3, argon2,
# canvas), and node-gyp's headers for one that compiles. Refused, sqlite3 was compiled
# from source: 284 s of a small Express app's first launch (issue 68). And the files of a
# repository's tree, where bin-wrapper's packages keep their binaries (gifsicle, mozjpeg,
# optipng, jpegtran: imagemin's plugins, raw.githubusercontent.com/imagemin/…/vendor/…,
# where github.com's own /raw/ links lead too): refused, Xilin05's express-upload's build
# tried to compile gifsicle from source, with no autoreconf, and failed.
PREBUILT_BINARY_HOSTS = (
    "github.com,objects.githubusercontent.com,release-assets.githubusercontent.com,"
    "raw.githubusercontent.com,nodejs.org"
)


_NODE_ID_HELP = (
    "this service's name: its node in a cluster, and beside others on one"
    " PREVIEW_APP_POSTGRES_URL server (it drops only its own leftover databases there at"
    " start); empty means made once, kept in the data dir"
)


def _help(unit: str, text: str) -> dict[str, str]:
    return {"unit": unit, "help": text}


def _setting(default: Any, unit: str, text: str) -> Any:  # a field of Settings, on one line
    return field(default=default, metadata=_help(unit, text))


def _auto(text: str) -> Any:  # an auto/off setting, auto by default
    return field(default="auto", metadata=_help("mode", f"auto: {text}; off"))


@dataclass(frozen=True)
class Settings:
    """Effective configuration. Construct directly in tests and when embedding."""

    data_dir: Path = field(
        default=Path(".preview-data"),
        metadata=_help(
            "path",
            "holds the SQLite file and the generated JWT secret (made 0700); one service at"
            " a time (a second one on it exits with an error)",
        ),
    )
    db_url: str = field(
        default="",
        metadata=_help("URL", "SQLAlchemy URL; empty means SQLite file preview.db in the data dir"),
    )
    jwt_secret: str = field(
        default="",
        metadata=_help("text", "HS256 secret; empty means generated once, kept in the data dir"),
    )
    jwt_max_lifetime: float = field(
        default=30 * 86400,
        metadata=_help("s", "bearer tokens living longer (exp - iat, or exp - now) are refused"),
    )
    port_min: int = _setting(3001, "port", "first port of the preview pool")
    port_max: int = _setting(3100, "port", "last port of the preview pool")
    max_uptime: float = _setting(3600, "s", "a preview is stopped this long after launch")
    inactive_timeout: float = _setting(1800, "s", "a preview nobody used for this long is stopped")
    session_timeout: float = field(
        default=3600, metadata=_help("s", "lifetime of a session cookie and of a preview token")
    )
    startup_timeout: float = field(
        default=30, metadata=_help("s", "a preview not answering HTTP by then has failed")
    )
    stop_grace: float = _setting(5, "s", "time between SIGTERM and SIGKILL of a preview's group")
    max_log_lines: int = field(
        default=10_000, metadata=_help("events", "ring buffer of recent events per preview")
    )
    subscriber_buffer: int = field(
        default=4096,
        metadata=_help(
            "events",
            "a stream subscriber this far behind that takes nothing for a second is dropped",
        ),
    )
    max_line_bytes: int = field(
        default=16_384, metadata=_help("bytes", "longer output lines are split and marked")
    )
    keepalive_interval: float = field(
        default=15, metadata=_help("s", "SSE keep-alive comment interval on an idle stream")
    )
    stream_interval: float = field(
        default=0.005,
        metadata=_help("s", "a busy log's events reach each stream together at most this often"),
    )
    stream_send_timeout: float = field(
        default=60,
        metadata=_help("s", "a stream whose client takes no byte for this long is closed"),
    )
    max_streams_per_user: int = field(
        default=100,
        metadata=_help("count", "log streams (SSE, WebSocket) one user may hold open at once"),
    )
    health_interval: float = _setting(10, "s", "time between health checks of a running preview")
    memory_limit_mb: int = field(
        default=512,
        metadata=_help(
            "MiB",
            "memory (RSS and page cache) of each preview's cgroup; without cgroups, "
            "the address-space limit of each process",
        ),
    )
    max_instances_free: int = field(
        default=1, metadata=_help("count", "concurrent previews of a free-tier user")
    )
    max_instances_pro: int = field(
        default=3, metadata=_help("count", "concurrent previews of a pro-tier user")
    )
    max_starting: int = field(
        default=0,
        metadata=_help(
            "count",
            "previews starting (spawned, not yet answering) at once; more wait their turn "
            "before the start-up timeout counts; 0 means twice the CPUs, at least 4",
        ),
    )
    python: str = field(
        default=sys.executable,
        metadata=_help("path", "interpreter of previews when PREVIEW_BUILD=off; default ours"),
    )
    max_upload_bytes: int = _setting(20 * 1024 * 1024, "bytes", "largest upload request body")
    max_file_bytes: int = field(
        default=1024 * 1024, metadata=_help("bytes", "largest single file of a generation")
    )
    max_files: int = field(default=2000, metadata=_help("count", "most files in a generation"))
    max_total_bytes: int = field(
        default=10 * 1024 * 1024, metadata=_help("bytes", "largest generation, all files summed")
    )
    db_threads: int = field(
        default=4, metadata=_help("count", "threads that may run database calls at once")
    )
    proxy_timeout: float = _setting(30, "s", "a call to a preview unanswered by then: 504")
    body_timeout: float = _setting(30, "s", "a request body that stops coming this long: 408")
    proxy_max_body_bytes: int = field(
        default=10 * 1024 * 1024, metadata=_help("bytes", "largest request body sent to a preview")
    )
    proxy_max_response_bytes: int = field(
        default=10 * 1024 * 1024,
        metadata=_help("bytes", "largest response body of a request envelope (not streamed)"),
    )
    partial_line_flush: float = field(
        default=0.1,
        metadata=_help(
            "s", "a line without its newline is shown after the output is quiet this long"
        ),
    )
    app_domain: str = field(
        default="localhost",
        metadata=_help("host", "each running preview is also served at <preview>.<this domain>"),
    )
    app_origin_template: str = field(
        default="",
        metadata=_help(
            "URL",
            "public URL of a preview's origin, {preview} for its label (e.g. "
            "https://{preview}.preview.example.com); empty: the API's scheme and port",
        ),
    )
    app_ticket_timeout: float = field(
        default=60, metadata=_help("s", "lifetime of a one-time link that opens a preview's origin")
    )
    cors_origins: str = field(
        default="",
        metadata=_help(
            "origins",
            "comma-separated exact origins (https://app.example.com) whose pages may call "
            "/api with credentials; empty means no CORS",
        ),
    )
    ring_bytes: int = field(
        default=8 * 1024 * 1024,
        metadata=_help(
            "bytes", "memory of a preview's ring of recent events (and its writer queue)"
        ),
    )
    log_quota_mb: int = field(
        default=64,
        metadata=_help(
            "MiB",
            "log history stored per preview; past it, its first and newest lines are kept "
            "and the rest only streamed (see Log storage)",
        ),
    )
    log_retention_days: float = field(
        default=7,
        metadata=_help("days", "the log history of previews that ended longer ago is removed"),
    )
    audit_retention_days: float = field(
        default=90,
        metadata=_help("days", "audit trail entries older than this are removed; 0: kept for ever"),
    )
    snapshot_mb: int = field(
        default=256,
        metadata=_help("MiB", "largest snapshot of a preview's data (its databases and files)"),
    )
    user_storage_mb: int = field(
        default=4096,
        metadata=_help(
            "MiB",
            "what one user's uploads, revisions and snapshots may take together; 0: no bound",
        ),
    )
    snapshots_per_preview: int = field(
        default=10,
        metadata=_help("count", "snapshots one preview may keep; past it, delete one first"),
    )
    capture_requests: int = field(
        default=1000,
        metadata=_help(
            "count", "proxied requests kept per preview with their answers; oldest dropped; 0: none"
        ),
    )
    capture_mb: int = field(
        default=16,
        metadata=_help(
            "MiB", "bytes of kept requests per preview (heads and bodies); oldest dropped"
        ),
    )
    capture_body_bytes: int = field(
        default=65536,
        metadata=_help("bytes", "of each kept request's and answer's body, the rest cut (counted)"),
    )
    log_format: str = field(
        default="text",
        metadata=_help("text", "the service's own log lines: text, or json (one object a line)"),
    )
    build: str = field(
        default="on",
        metadata=_help("on/off", "build each app's own environment (uv, npm); off: PREVIEW_PYTHON"),
    )
    build_timeout: float = field(
        default=600, metadata=_help("s", "a dependency build or set-up step not done by then fails")
    )
    webhook_private: str = field(
        default="off",
        metadata=_help(
            "on/off",
            "alert webhooks may go to loopback, private and link-local addresses (a receiver"
            " of the operator's network); off: refused, as the previews' egress is",
        ),
    )
    smoke_check: str = field(
        default="on",
        metadata=_help("on/off", "once running, call each GET route needing no parameter once"),
    )
    env_cache_mb: int = field(
        default=4096,
        metadata=_help("MiB", "built environments kept; least recently used evicted beyond it"),
    )
    build_cache_mb: int = field(
        default=512,
        metadata=_help(
            "MiB", "build outputs kept by their inputs' hash (tsc, nest build); LRU beyond; 0: off"
        ),
    )
    data_cache_mb: int = field(
        default=512,
        metadata=_help(
            "MiB",
            "data a launch's migrations and seeds made, kept by their inputs' hash for the"
            " next launch (a copy each); LRU beyond; 0: off",
        ),
    )
    package_index_url: str = field(
        default="",
        metadata=_help("URL", "Python package index for builds; empty: PyPI; none: no index"),
    )
    find_links: str = field(
        default="", metadata=_help("path", "a directory of wheels builds may install from")
    )
    app_postgres_url: str = field(
        default="",
        metadata=_help("URL", "PostgreSQL server giving each preview a database; empty: SQLite"),
    )
    app_postgres: str = _auto("a private PostgreSQL for sandboxed apps with a driver")
    node_id: str = field(default="", metadata=_help("text", _NODE_ID_HELP))
    redis_url: str = field(
        default="",
        metadata=_help(
            "URL",
            "Redis of a cluster (redis://host:6379/0); set, with PREVIEW_DB_URL on PostgreSQL,"
            " it turns on cluster mode (docs/cluster.md); empty: a single node",
        ),
    )
    redis_prefix: str = field(
        default="preview:",
        metadata=_help("text", "cluster mode: what starts every Redis key (clusters sharing one)"),
    )
    cluster_log_streams: str = field(
        default="relay",
        metadata=_help(
            "mode",
            "cluster mode: relay: a node serves a log stream of another node's preview from"
            " the Redis tail; forward: it forwards the stream to the owner",
        ),
    )
    internal_url: str = field(
        default="",
        metadata=_help(
            "URL", "cluster mode: how the other nodes reach this one (http://10.0.0.5:8000)"
        ),
    )
    cluster_secret: str = field(
        default="",
        metadata=_help(
            "text", "cluster mode: the secret every node shares (at least 32 characters)"
        ),
    )
    env_dir: str = field(
        default="",
        metadata=_help("path", "where built environments are kept; empty: envs in the data dir"),
    )
    sandbox: str = field(
        default="auto",
        metadata=_help(
            "mode",
            "auto: confine previews when the machine allows (says so when not); "
            "required: refuse launches otherwise; off: plain child processes",
        ),
    )
    pids_limit: int = field(
        default=256, metadata=_help("count", "processes and threads of one preview (cgroup)")
    )
    cpu_limit: float = field(
        default=1.0, metadata=_help("cores", "CPU time of one preview (cgroup quota)")
    )
    tmp_limit_mb: int = field(
        default=64, metadata=_help("MiB", "size of a sandboxed preview's private /tmp")
    )
    disk_limit_mb: int = field(
        default=256,
        metadata=_help("MiB", "size of a sandboxed preview's own directory (a tmpfs; needs root)"),
    )
    egress: str = field(
        default="",
        metadata=_help(
            "hosts",
            "what a sandboxed preview may reach outside, through its HTTP(S) proxy: empty "
            "nothing; * any public host; or names and .suffixes, comma-separated; ports 80 "
            "and 443 unless one is named (host:port)",
        ),
    )
    build_egress: str = field(
        default=PREBUILT_BINARY_HOSTS,
        metadata=_help(
            "hosts",
            "what a build's install steps may reach besides the package indexes (as "
            "PREVIEW_EGRESS): the hosts native modules fetch their prebuilt binaries from "
            "(GitHub's releases and repositories' files, as bin-wrapper's imagemin plugins "
            "keep theirs, node-gyp's headers), which spares a compile from source; "
            "empty: the indexes only. The app's own install scripts reach the indexes alone, "
            "and its run keeps PREVIEW_EGRESS",
        ),
    )
    app_redis: str = _auto("a private redis-server for Redis apps")
    app_mysql: str = _auto("a private MariaDB for MySQL apps")
    app_mongo: str = _auto("a private MongoDB (NX-27017 on SQLite) for MongoDB apps")
    run_dir: str = field(
        default="",
        metadata=_help(
            "path",
            "previews' own directories and sockets, outside the data dir; "
            "empty means preview-<hash of the data dir> in the system's temp dir",
        ),
    )

    def __post_init__(self) -> None:
        # Every setting that is a path is made absolute once, here: the service hands them
        # to processes that start elsewhere (bwrap's binds, initdb, uv, npm), where a
        # relative `.preview-data/...` names nothing (`./dev serve`'s own data dir is one).
        # A bare command name (PREVIEW_PYTHON=python3) stays one: it is looked up on PATH.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata["unit"] != "path" or not value:
                continue
            if f.name == "python" and os.sep not in value:
                continue
            absolute = Path(value).absolute()
            # A Path where the field is one (an embedder's data_dir="/var/lib/preview"
            # failed at its first use: str / str), a str where it is one.
            as_path = isinstance(value, Path) or f.type in ("Path", Path)
            object.__setattr__(self, f.name, absolute if as_path else str(absolute))
        object.__setattr__(self, "db_url", _absolute_sqlite_url(self.db_url))

    @property
    def cluster(self) -> bool:
        """Cluster mode: nodes sharing one PostgreSQL (``check_settings`` holds the rest)."""
        return bool(self.redis_url)

    @property
    def start_slots(self) -> int:
        return self.max_starting or max(4, 2 * (os.cpu_count() or 1))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``PREVIEW_*`` variables; raise ``ValueError`` naming a malformed one."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}  # each of its field's type (``kind`` below)
        for f in dataclasses.fields(cls):
            name = _PREFIX + f.name.upper()
            if name not in environ or environ[name] == "":
                continue
            raw = environ[name]
            # The annotation, not the default's type: ``max_uptime: float = 3600`` is a float.
            kind = _KINDS[f.type] if isinstance(f.type, str) else f.type
            try:
                values[f.name] = Path(raw) if kind is Path else kind(raw)
                if kind is float and not math.isfinite(values[f.name]):  # nan, inf
                    raise ValueError(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
        return cls(**values).validated()

    def validated(self) -> Settings:
        """``self`` once :func:`~.settingsrules.check_settings` finds nothing wrong."""
        check_settings(self)
        return self

    @property
    def cors_origin_set(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.cors_origins.split(",") if part.strip())

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'preview.db').resolve()}"

    @property
    def previews_dir(self) -> Path:
        """Previews' directories: never in the data dir (the database, the secret: 0700)."""
        if self.run_dir:
            return Path(self.run_dir)
        key = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"preview-{key}"

    @property
    def sockets_dir(self) -> Path:
        """Every Unix socket the service makes (the previews' forwarders, their ways out,
        their servers'): ``.sockets`` in the previews' directory, or, where a socket's path
        there could pass ``UNIX_SOCKET_PATH_MAX`` (a long run dir), a directory of the
        service's own in the temp dir, named by a hash of the previews' directory. Where
        neither fits, the service is refused at start (``runtime.previews_dir_problem``)."""
        inside = self.previews_dir / ".sockets"
        if len(os.fsencode(inside)) + SOCKET_NAMES_MAX <= UNIX_SOCKET_PATH_MAX:
            return inside
        key = hashlib.sha256(os.fsencode(self.previews_dir)).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"preview-{key}-sockets"

    @property
    def env_cache_dir(self) -> Path:  # built app environments, uv's and npm's caches
        return (Path(self.env_dir) if self.env_dir else self.data_dir / "envs").resolve()

    def max_instances(self, tier: str) -> int:
        return self.max_instances_pro if tier == "pro" else self.max_instances_free

    @cached_property
    def node(self) -> str:  # node_id, else the name made once and kept in the data dir
        return self.node_id or kept_secret(self.data_dir / "node-id", nbytes=9)

    def resolve_jwt_secret(self) -> str:
        """The configured secret, else the one kept in the data dir (created on first use)."""
        if self.jwt_secret:
            return self.jwt_secret
        return kept_secret(self.data_dir / "jwt-secret")


def _absolute_sqlite_url(url: str) -> str:
    """``sqlite:///preview.db`` (relative to where the service started) made absolute."""
    prefix, slashes, path = url.partition(":///")
    if not prefix.startswith("sqlite") or not slashes or not path or path.startswith("/"):
        return url
    if path.startswith(":memory:") or path.startswith("file:"):
        return url
    return f"{prefix}:///{Path(path).absolute()}"


def unknown_env_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """``PREVIEW_*`` names in the environment that no setting reads (likely typos)."""
    environ = os.environ if environ is None else environ
    known = {_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)} | _OTHER_KNOWN
    wrong = (n for n in environ if n.startswith(_PREFIX) and n not in known)
    return sorted(n for n in wrong if not n.startswith(_OTHER_PREFIXES))


SETTINGS_HELP: list[tuple[str, str, str, str]] = [
    (
        _PREFIX + f.name.upper(),
        "(service's python)" if f.name == "python" else str(f.default),
        f.metadata["unit"],
        f.metadata["help"],
    )
    for f in dataclasses.fields(Settings)
]
