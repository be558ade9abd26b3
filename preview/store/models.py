"""SQLAlchemy 2 models: generations and their files, preview instances, log events.

Timestamps are naive UTC (``datetime.utcnow``-style) so SQLite and PostgreSQL store
them alike; the API formats them with a ``Z``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ACTIVE_STATUSES",
    "Base",
    "Generation",
    "GenerationFile",
    "GenerationRevision",
    "LogEvent",
    "PreviewInstance",
    "PreviewSnapshot",
    "ProxiedRequest",
    "RevisionFile",
]

ACTIVE_STATUSES = ("starting", "running", "stopping")


class Base(DeclarativeBase):
    pass


class Generation(Base):
    __tablename__ = "generations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    project_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    file_count: Mapped[int] = mapped_column(Integer)
    total_bytes: Mapped[int] = mapped_column(BigInteger)


class GenerationFile(Base):
    __tablename__ = "generation_files"

    generation_id: Mapped[str] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class PreviewInstance(Base):
    __tablename__ = "preview_instances"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    generation_id: Mapped[str] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    port: Mapped[int | None] = mapped_column(Integer)
    base_url: Mapped[str | None] = mapped_column(String(255))
    process_id: Mapped[int | None] = mapped_column(Integer)
    # psutil's create_time() of the child: with process_id it identifies the process
    # across a restart of the service, so a recycled pid is never killed.
    process_started_at: Mapped[float | None] = mapped_column()
    command: Mapped[str | None] = mapped_column(Text)
    # How it was started, {framework, command, detectedFrom, python} as JSON: the status
    # gives it from the row once the preview has ended (or the service restarted).
    runtime: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    preview_token_hash: Mapped[str] = mapped_column(String(64))
    token_expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_health_check: Mapped[datetime | None] = mapped_column(DateTime)
    health_status: Mapped[str] = mapped_column(String(20), default="unknown")
    error_message: Mapped[str | None] = mapped_column(Text)
    # The lines the child printed last when it failed (JSON list), shown with the cause.
    error_lines: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    stop_reason: Mapped[str | None] = mapped_column(String(200))
    temp_dir: Mapped[str | None] = mapped_column(String(1024))
    # Past PREVIEW_LOG_QUOTA_MB (preview.logs.quota): how many lines were not stored (None
    # until the preview ended), from which id and time, up to which id.
    log_dropped_lines: Mapped[int | None] = mapped_column(BigInteger)
    log_dropped_since: Mapped[int | None] = mapped_column(BigInteger)
    log_dropped_since_at: Mapped[datetime | None] = mapped_column(DateTime)
    log_dropped_until: Mapped[int | None] = mapped_column(BigInteger)
    # When PREVIEW_LOG_RETENTION_DAYS removed its log (store.retention).
    logs_removed_at: Mapped[datetime | None] = mapped_column(DateTime)


class LogEvent(Base):
    __tablename__ = "log_events"

    preview_id: Mapped[str] = mapped_column(
        ForeignKey("preview_instances.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    timestamp: Mapped[datetime] = mapped_column(DateTime)
    level: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    stream: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str | None] = mapped_column(String(20))

    # The hottest table: every line a preview prints is one insert. On SQLite the rows
    # are clustered by their key (no rowid) and there is no secondary index, so an insert
    # updates one B-tree; history filters scan one preview's key range instead.
    __table_args__ = ({"sqlite_with_rowid": False},)


class GenerationRevision(Base):
    """One revision of a generation's files (store.revisions). Revision 1 is the upload;
    its row is written when the first later revision arrives (a generation never revised
    has none)."""

    __tablename__ = "generation_revisions"

    generation_id: Mapped[str] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    author: Mapped[str] = mapped_column(String(200))
    # The paths it changed (JSON list), and whether a dependency file is among them.
    changed: Mapped[str] = mapped_column(Text)
    dependencies_changed: Mapped[bool] = mapped_column(default=False)


class RevisionFile(Base):
    """A file a revision wrote (``content``) or deleted (``content`` NULL). A revision's
    whole tree is revision 1's files with each later revision's changes laid over them."""

    __tablename__ = "revision_files"

    generation_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (
        ForeignKeyConstraint(
            ["generation_id", "number"],
            ["generation_revisions.generation_id", "generation_revisions.number"],
            ondelete="CASCADE",
        ),
    )


class PreviewSnapshot(Base):
    """A saved copy of a preview's data (preview.snapshots): its files live under the
    data dir's ``snapshots/<generation>/<id>/``; this row says what they hold."""

    __tablename__ = "preview_snapshots"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    generation_id: Mapped[str] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), index=True
    )
    preview_id: Mapped[str] = mapped_column(String(40), index=True)
    user_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # What it holds (JSON): its databases with their tables and row counts, its files.
    contents: Mapped[str] = mapped_column(Text)


class ProxiedRequest(Base):
    """A request that crossed the proxy, with its answer (``preview.history``): heads as
    JSON lists of [name, value] with credentials masked, bodies cut at
    PREVIEW_CAPTURE_BODY_BYTES (the ``*_size`` columns say how long they were). Written
    in batches; each preview keeps its newest PREVIEW_CAPTURE_REQUESTS / _MB."""

    __tablename__ = "proxied_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    preview_id: Mapped[str] = mapped_column(ForeignKey("preview_instances.id", ondelete="CASCADE"))
    generation_id: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str] = mapped_column(String(40))
    # The preview's ``proxy`` log event of this request (its ``id``): the link to the log.
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    way: Mapped[str] = mapped_column(String(16))  # envelope, proxy, origin, replay
    replay_of: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    elapsed_ms: Mapped[float] = mapped_column(Float)  # until the answer's head
    total_ms: Mapped[float] = mapped_column(Float)  # until its body's end
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)  # the app's path and query, masked
    status: Mapped[int | None] = mapped_column(Integer)  # None: no answer (``error``)
    error: Mapped[str | None] = mapped_column(String(200))
    request_headers: Mapped[str] = mapped_column(Text)
    request_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    request_size: Mapped[int] = mapped_column(BigInteger)
    response_headers: Mapped[str] = mapped_column(Text)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_size: Mapped[int] = mapped_column(BigInteger)
    stored_bytes: Mapped[int] = mapped_column(Integer)  # what PREVIEW_CAPTURE_MB counts

    __table_args__ = (
        Index("ix_proxied_requests_generation", "generation_id", "id"),
        Index("ix_proxied_requests_preview", "preview_id", "id", "stored_bytes"),
    )
