"""The tables (SQLAlchemy Core) and a plain record class per table.

Generations and their files, preview instances, log events, revisions, snapshots and the
request history. Each record class (:class:`Record`) is one row as a plain object: its
instances hold the row's values as attributes, and the class's attributes of the same
names are the table's columns, for queries (``select(PreviewInstance).where(
PreviewInstance.status == "running")``). No ORM: the store builds records from rows and
writes them with Core statements; SQLAlchemy's ORM alone was ~6 MiB of the service's
idle memory (benchmarks/HISTORY.md, "Idle memory").

Timestamps are naive UTC (``datetime.utcnow``-style) so SQLite and PostgreSQL store
them alike; the API formats them with a ``Z``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Double,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)

__all__ = [
    "ACTIVE_STATUSES",
    "LIVE_WHERE",
    "AlertRule",
    "Annotation",
    "AuditEvent",
    "ClusterNode",
    "EnvPreset",
    "Generation",
    "GenerationFile",
    "GenerationGone",
    "GenerationRevision",
    "LogEvent",
    "PreviewInstance",
    "PreviewSnapshot",
    "ProxiedRequest",
    "Record",
    "RevisionFile",
    "SnapshotChunk",
    "VolatilePath",
    "first",
    "metadata",
    "name_postgresql_predicates",
    "one",
    "records",
]

ACTIVE_STATUSES = ("starting", "running", "stopping")
# The rows of live previews, as SQL (the partial unique index's condition).
LIVE_WHERE = "status IN ('starting', 'running', 'stopping')"

metadata = MetaData()
_LIVE_GENERATION = "uq_preview_instances_live_generation"


def name_postgresql_predicates() -> None:
    """Give the partial indexes their PostgreSQL predicate (``postgresql_where``), once a
    PostgreSQL engine is made (``Store``; idempotent). Not in the declarations: SQLAlchemy
    validates a dialect's option by importing that dialect, and PostgreSQL's held 2.4 MiB
    of an idle service's RSS on SQLite (72.4 -> 70.1 MiB, three alternating runs each;
    issue 70, benchmarks/HISTORY.md). The migrations declare the index for both."""
    for index in PreviewInstance.__table__.indexes:
        if index.name == _LIVE_GENERATION:
            index.dialect_options["postgresql"]["where"] = text(LIVE_WHERE)


if TYPE_CHECKING:

    class _Columns(type):
        """What a type checker is told of a record class: its columns are attributes
        (made from ``__table__`` when the class is, so no checker can list them)."""

        def __getattr__(cls, name: str) -> Any: ...

else:
    _Columns = type


class Record(metaclass=_Columns):
    """One row of ``__table__`` as a plain object (see the module doc). Made with the
    columns' values by name; a column not given takes its default (else None)."""

    if TYPE_CHECKING:
        # Its columns' values, read and set by name (a node claims a row: row.node_id = ...).

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    __table__: ClassVar[Table]
    _defaults: ClassVar[tuple[tuple[str, Any], ...]]

    def __init_subclass__(cls, **named: Any) -> None:
        super().__init_subclass__(**named)
        for column in cls.__table__.columns:
            setattr(cls, column.key, column)  # the class's attribute: the column
        cls._defaults = tuple(
            (
                c.key,
                getattr(c.default, "arg", None)
                if c.default is not None and c.default.is_scalar
                else None,
            )
            for c in cls.__table__.columns
        )

    def __init__(self, **values: Any) -> None:
        for key, default in self._defaults:
            setattr(self, key, values.pop(key, default))
        if values:
            raise TypeError(f"{type(self).__name__} has no column {', '.join(sorted(values))}")

    @classmethod
    def __clause_element__(cls) -> Table:
        """The table, wherever SQLAlchemy takes one (``select(Generation)``)."""
        return cls.__table__

    @classmethod
    def from_row(cls, row: Any) -> Self:
        """The record of a row of ``select(cls)``."""
        record = cls.__new__(cls)
        vars(record).update(row._mapping)
        return record

    def values(self) -> dict[str, Any]:
        """The row to insert; an unset autoincrement key is left to the database."""
        values = {key: getattr(self, key) for key, _ in self._defaults}
        auto = self.__table__.autoincrement_column
        if auto is not None and values[auto.key] is None:
            del values[auto.key]
        return values

    def __repr__(self) -> str:
        keys = ", ".join(f"{c.key}={getattr(self, c.key)!r}" for c in self.__table__.primary_key)
        return f"{type(self).__name__}({keys})"


def records(cls: type[Record], rows: Any) -> list[Any]:
    """The records of rows of ``select(cls)``."""
    return [cls.from_row(row) for row in rows]


class GenerationGone(LookupError):
    """The generation is no more: deleted by a call that raced this one (a launch, a
    revision, a rename). The routes answer it as an unknown generation, 404."""


def first(cls: type[Record], rows: Any) -> Any:
    """The record of the first of rows of ``select(cls)``, or None."""
    row = rows.first()
    return None if row is None else cls.from_row(row)


def one(connection: Connection, cls: type[Record], where: Any) -> Any:
    """The record of ``cls`` that ``where`` picks (by its key), or None."""
    return first(cls, connection.execute(select(cls).where(where)))


def _pk(name: str, kind: Any, *more: Any, **named: Any) -> Column[Any]:
    return Column(name, kind, *more, primary_key=True, **named)


def _column(name: str, kind: Any, *more: Any, null: bool = False, **named: Any) -> Column[Any]:
    return Column(name, kind, *more, nullable=null, **named)


def _cascade(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


class Generation(Record):
    __table__ = Table(
        "generations",
        metadata,
        _pk("id", String(40)),
        _column("user_id", String(200), index=True),
        _column("project_id", String(200), null=True),
        _column("created_at", DateTime),
        _column("file_count", Integer),
        _column("total_bytes", BigInteger),
    )


class GenerationFile(Record):
    __table__ = Table(
        "generation_files",
        metadata,
        _pk("generation_id", String(40), _cascade("generations.id")),
        _pk("path", String(1024)),
        _column("size", Integer),
        _column("content", LargeBinary),
    )


class PreviewInstance(Record):
    __table__ = Table(
        "preview_instances",
        metadata,
        _pk("id", String(40)),
        _column("generation_id", String(40), _cascade("generations.id"), index=True),
        _column("project_id", String(200), null=True),
        _column("user_id", String(200), index=True),
        _column("status", String(20), index=True),
        _column("port", Integer, null=True),
        _column("base_url", String(255), null=True),
        _column("process_id", Integer, null=True),
        # psutil's create_time() of the child: with process_id it identifies the process
        # across a restart of the service, so a recycled pid is never killed.
        _column("process_started_at", Double, null=True),
        _column("command", Text, null=True),
        # How it was started, {framework, command, detectedFrom, python} as JSON: the
        # status gives it from the row once the preview has ended (or the service restarted).
        _column("runtime", Text, null=True),
        _column("created_at", DateTime),
        _column("started_at", DateTime, null=True),
        _column("stopped_at", DateTime, null=True),
        _column("expires_at", DateTime),
        _column("preview_token_hash", String(64)),
        _column("token_expires_at", DateTime),
        _column("last_health_check", DateTime, null=True),
        _column("health_status", String(20), default="unknown"),
        _column("error_message", Text, null=True),
        # The lines the child printed last when it failed (JSON list), shown with the cause.
        _column("error_lines", Text, null=True),
        _column("exit_code", Integer, null=True),
        _column("stop_reason", String(200), null=True),
        _column("temp_dir", String(1024), null=True),
        # Past PREVIEW_LOG_QUOTA_MB (preview.logs.quota): how many lines were not stored
        # (None until the preview ended), from which id and time, up to which id.
        _column("log_dropped_lines", BigInteger, null=True),
        _column("log_dropped_since", BigInteger, null=True),
        _column("log_dropped_since_at", DateTime, null=True),
        _column("log_dropped_until", BigInteger, null=True),
        # When PREVIEW_LOG_RETENTION_DAYS removed its log (store.retention).
        _column("logs_removed_at", DateTime, null=True),
        # Cluster mode (preview.cluster): the node that runs it, and that node's epoch
        # when it launched it. The owner's writes to the row name both, so a node that
        # was declared dead (the epoch moved on) changes nothing any more. None: a
        # single node's.
        _column("node_id", String(64), null=True, index=True),
        _column("owner_epoch", BigInteger, null=True),
        # At most one live preview per generation, whichever node launches it: the
        # database itself refuses the second (a conflict, 409), not a check in memory.
        # Its PostgreSQL predicate is added with a PostgreSQL engine: see
        # name_postgresql_predicates.
        Index(_LIVE_GENERATION, "generation_id", unique=True, sqlite_where=text(LIVE_WHERE)),
    )


class ClusterNode(Record):
    """A node of a cluster (preview.cluster) and its lease: renewed every 2 s, by the
    database's clock; a node whose lease expired is ``dead`` and its previews failed by
    whichever node sees it first. ``epoch`` grows at each start of the node."""

    __table__ = Table(
        "nodes",
        metadata,
        _pk("id", String(64)),
        _column("internal_url", String(255), null=True),
        _column("state", String(16)),  # alive, dead (its lease expired), stopped
        _column("epoch", BigInteger),
        _column("started_at", DateTime),
        _column("renewed_at", DateTime),
        _column("lease_expires_at", DateTime),
        _column("capacity", Integer, null=True),  # previews it runs at most (its ports)
    )


class LogEvent(Record):
    # The hottest table: every line a preview prints is one insert. On SQLite the rows
    # are clustered by their key (no rowid) and there is no secondary index, so an insert
    # updates one B-tree; history filters scan one preview's key range instead.
    __table__ = Table(
        "log_events",
        metadata,
        _pk("preview_id", String(40), _cascade("preview_instances.id")),
        _pk("seq", BigInteger, autoincrement=False),
        _column("timestamp", DateTime),
        _column("level", String(8)),
        _column("message", Text),
        _column("source", String(16)),
        _column("stream", String(8), null=True),
        _column("status", String(20), null=True),
        _column("process", String(32), null=True),  # a worker's name (its lines)
        sqlite_with_rowid=False,
    )


class GenerationRevision(Record):
    """One revision of a generation's files (store.revisions). Revision 1 is the upload;
    its row is written when the first later revision arrives (a generation never revised
    has none)."""

    __table__ = Table(
        "generation_revisions",
        metadata,
        _pk("generation_id", String(40), _cascade("generations.id")),
        _pk("number", Integer, autoincrement=False),
        _column("created_at", DateTime),
        _column("author", String(200)),
        # The paths it changed (JSON list), and whether a dependency file is among them.
        _column("changed", Text),
        _column("dependencies_changed", Boolean, default=False),
    )


class RevisionFile(Record):
    """A file a revision wrote (``content``) or deleted (``content`` NULL). A revision's
    whole tree is revision 1's files with each later revision's changes laid over them."""

    __table__ = Table(
        "revision_files",
        metadata,
        _pk("generation_id", String(40)),
        _pk("number", Integer, autoincrement=False),
        _pk("path", String(1024)),
        _column("content", LargeBinary, null=True),
        ForeignKeyConstraint(
            ["generation_id", "number"],
            ["generation_revisions.generation_id", "generation_revisions.number"],
            ondelete="CASCADE",
        ),
    )


class PreviewSnapshot(Record):
    """A saved copy of a preview's data (preview.snapshots): its files live under the
    data dir's ``snapshots/<generation>/<id>/``; this row says what they hold."""

    __table__ = Table(
        "preview_snapshots",
        metadata,
        _pk("id", String(40)),
        _column("generation_id", String(40), _cascade("generations.id"), index=True),
        _column("preview_id", String(40), index=True),
        _column("user_id", String(200)),
        _column("name", String(200), null=True),
        _column("created_at", DateTime),
        _column("size_bytes", BigInteger),
        # What it holds (JSON): its databases with their tables and row counts, its files.
        _column("contents", Text),
    )


class SnapshotChunk(Record):
    """A piece of a snapshot's files, for every node of a cluster
    (``preview.snapshots.shared``): the snapshot's directory as one tar stream, cut in
    ``seq`` order. Written before the snapshot's row (no key to it); gone with its
    generation, and removed with its snapshot by the keeper."""

    __table__ = Table(
        "snapshot_chunks",
        metadata,
        _pk("snapshot_id", String(40)),
        _pk("seq", Integer, autoincrement=False),
        _column("generation_id", String(40), _cascade("generations.id"), index=True),
        _column("data", LargeBinary),
    )


class Annotation(Record):
    """A note a user with access pinned to a log line (``seq`` of ``preview_id``'s log) or
    to a kept request (``request_id``) of a generation (``sharing.annotations``)."""

    __table__ = Table(
        "annotations",
        metadata,
        _pk("id", String(40)),
        _column("generation_id", String(40), _cascade("generations.id"), index=True),
        _column("preview_id", String(40), index=True),
        _column("seq", BigInteger, null=True),
        _column("request_id", String(40), null=True),
        _column("author", String(200)),
        _column("text", Text),
        _column("created_at", DateTime),
    )


class VolatilePath(Record):
    """A JSON path of a generation's answers its owner marked volatile: a replay's
    comparison ignores what differs there (``history.compare.VolatilePaths``)."""

    __table__ = Table(
        "volatile_paths",
        metadata,
        _pk("generation_id", String(40), _cascade("generations.id")),
        _pk("path", String(300)),
    )


class ProxiedRequest(Record):
    """A request that crossed the proxy, with its answer (``preview.history``): heads as
    JSON lists of [name, value] with credentials masked, bodies cut at
    PREVIEW_CAPTURE_BODY_BYTES (the ``*_size`` columns say how long they were). Written
    in batches; each preview keeps its newest PREVIEW_CAPTURE_REQUESTS / _MB."""

    __table__ = Table(
        "proxied_requests",
        metadata,
        _pk("id", Integer, autoincrement=True),
        _column("preview_id", String(40), _cascade("preview_instances.id")),
        _column("generation_id", String(40)),
        _column("request_id", String(40)),
        # The preview's ``proxy`` log event of this request (its ``id``): the link to the log.
        _column("event_id", BigInteger, null=True),
        _column("way", String(16)),  # envelope, proxy, origin, replay
        _column("replay_of", Integer, null=True),
        _column("started_at", DateTime),
        _column("elapsed_ms", Float),  # until the answer's head
        _column("total_ms", Float),  # until its body's end
        _column("method", String(16)),
        _column("path", Text),  # the app's path and query, masked
        _column("status", Integer, null=True),  # None: no answer (``error``)
        _column("error", String(200), null=True),
        _column("request_headers", Text),
        _column("request_body", LargeBinary, null=True),
        _column("request_size", BigInteger),
        _column("response_headers", Text),
        _column("response_body", LargeBinary, null=True),
        _column("response_size", BigInteger),
        _column("stored_bytes", Integer),  # what PREVIEW_CAPTURE_MB counts
        Index("ix_proxied_requests_generation", "generation_id", "id"),
        Index("ix_proxied_requests_preview", "preview_id", "id", "stored_bytes"),
    )


class AuditEvent(Record):
    """One action a user took on a generation or its preview (``store.audit``): who
    (``actor_id``), on whose (``owner_id``: who may read it), what (``action`` and its
    ``details`` as JSON, never a secret), from where (``source``: the client's address).
    No foreign key: the trail outlives the generation it speaks of (its deletion is an
    action too)."""

    __table__ = Table(
        "audit_events",
        metadata,
        _pk("id", Integer, autoincrement=True),
        _column("at", DateTime),
        _column("owner_id", String(200)),
        _column("actor_id", String(200)),
        _column("generation_id", String(40), null=True),
        _column("preview_id", String(40), null=True),
        _column("action", String(40)),
        _column("details", Text),
        _column("source", String(64), null=True),
        Index("ix_audit_events_owner", "owner_id", "id"),
        Index("ix_audit_events_owner_generation", "owner_id", "generation_id", "id"),
    )


class AlertRule(Record):
    """A rule on a generation's log lines or calls (``logs.alerts``): a line that matches
    ``pattern`` (an RE2 regex), is at ``level`` or above, and whose fields meet
    ``field_condition`` (each given: all hold), or a ``route`` whose ``metric`` (``p95``,
    ``errorRate``) is above ``threshold`` over the last ``window_seconds``, makes an
    ``alert`` event in its preview's log, and, where it has a ``webhook_url``, a POST there
    signed with ``webhook_secret`` (``services.webhooks``)."""

    __table__ = Table(
        "alert_rules",
        metadata,
        _pk("id", String(40)),
        _column("generation_id", String(40), _cascade("generations.id"), index=True),
        _column("name", String(200)),
        _column("pattern", Text, null=True),
        _column("level", String(8), null=True),
        _column("created_at", DateTime),
        _column("webhook_url", Text, null=True),
        _column("webhook_secret", String(80), null=True),
        _column("field_condition", String(300), null=True),
        _column("route", String(300), null=True),
        _column("metric", String(16), null=True),
        _column("threshold", Float, null=True),
        _column("window_seconds", Integer, null=True),
    )


class EnvPreset(Record):
    """A named set of environment variables of a generation (``store.presets``), given
    to a launch that names it. ``env`` is the JSON object of its variables; ``secret`` the
    JSON list of the names whose values the API never shows."""

    __table__ = Table(
        "env_presets",
        metadata,
        _pk("generation_id", String(40), _cascade("generations.id")),
        _pk("name", String(64)),
        _column("env", Text),
        _column("secret", Text),
        _column("created_at", DateTime),
        _column("updated_at", DateTime),
    )


class GenerationShare(Record):
    """Another user's access to a generation (``services.shares``): a share with one user
    (``user_id``), a link (``link_hash``: the SHA-256 of its secret, which is never
    stored), or a link redeemed by one signed-in user (``user_id`` and ``link_id``, the
    link's row: revoking the link revokes it too). ``role`` is ``viewer`` or ``caller``;
    none outlives ``expires_at``."""

    __table__ = Table(
        "generation_shares",
        metadata,
        _pk("id", String(40)),
        _column("generation_id", String(40), _cascade("generations.id")),
        _column("owner_id", String(200)),
        _column("user_id", String(200), null=True),
        _column("link_hash", String(64), null=True),
        _column("link_id", String(40), null=True),
        _column("role", String(8)),
        _column("created_at", DateTime),
        _column("expires_at", DateTime),
        Index("ix_generation_shares_generation", "generation_id", "user_id"),
        Index("ix_generation_shares_user", "user_id"),
        Index("ix_generation_shares_link", "link_id"),
        Index("ix_generation_shares_link_hash", "link_hash", unique=True),
    )
