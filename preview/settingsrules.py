"""What the settings must be beyond their types: ranges, forms and modes
(:func:`check_settings`, which ``Settings.validated`` calls)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["check_settings"]

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")
_ORIGIN_TEMPLATE = re.compile(rf"https?://\{{preview\}}(?:\.{_LABEL})+(?::[0-9]{{1,5}})?/?")
_NODE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_REDIS_URL = re.compile(r"(?:rediss?://[^\s/]+(?:/[0-9]+)?/?|unix:///\S+)")
_INTERNAL_URL = re.compile(
    r"https?://[A-Za-z0-9.\-]+:[0-9]{1,5}/?|https?://\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}/?"
)
_CLUSTER_SECRET_MIN = 32  # characters: it opens every node's internal listener

_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)
_MODES = {
    "build": ("on", "off"),
    "smoke_check": ("on", "off"),
    "webhook_private": ("on", "off"),
    "log_format": ("text", "json"),
    "sandbox": ("auto", "required", "off"),
    "app_postgres": ("auto", "off"),
    "app_redis": ("auto", "off"),
    "app_mysql": ("auto", "off"),
    "app_mongo": ("auto", "off"),
    "cluster_log_streams": ("relay", "forward"),
}
# Settings that must be above zero (a NaN is not).
_POSITIVE = (
    "max_uptime",
    "inactive_timeout",
    "startup_timeout",
    "keepalive_interval",
    "cpu_limit",
    "stream_send_timeout",
    "session_timeout",
    "health_interval",
    "app_ticket_timeout",
    "jwt_max_lifetime",
    "max_streams_per_user",
    "build_timeout",
    "env_cache_mb",
    "log_quota_mb",
    "log_retention_days",
    "snapshot_mb",
    "snapshots_per_preview",
    "proxy_timeout",
    "body_timeout",
    "proxy_max_body_bytes",
    "proxy_max_response_bytes",
    "max_upload_bytes",
    "max_file_bytes",
    "max_files",
    "max_total_bytes",
    "db_threads",
    "memory_limit_mb",
)


def check_settings(settings: Any) -> None:  # a Settings (which imports this module)
    """Raise ``ValueError`` naming the first setting out of its range or form."""
    if not 1 <= settings.port_min <= settings.port_max <= 65535:
        raise ValueError("PREVIEW_PORT_MIN..PREVIEW_PORT_MAX must be a range within 1..65535")
    for name in _POSITIVE:
        if not getattr(settings, name) > 0:  # also refuses NaN
            raise ValueError(f"PREVIEW_{name.upper()} must be positive")
    for name in (
        "stop_grace",
        "stream_interval",
        "partial_line_flush",
        "max_starting",
        "user_storage_mb",
        "audit_retention_days",
        "build_cache_mb",
        "data_cache_mb",
        "max_instances_free",
        "max_instances_pro",
    ):
        if not getattr(settings, name) >= 0:
            raise ValueError(f"PREVIEW_{name.upper()} must not be negative")
    if not _HOST_NAME.fullmatch(settings.app_domain):
        raise ValueError("PREVIEW_APP_DOMAIN must be a host name like preview.example.com")
    template = settings.app_origin_template
    if template and not _ORIGIN_TEMPLATE.fullmatch(template):
        raise ValueError(
            "PREVIEW_APP_ORIGIN_TEMPLATE must look like https://{preview}.preview.example.com"
            " (http or https, {preview} as the first label of the host, no path)"
        )
    if settings.node_id and not _NODE_ID.fullmatch(settings.node_id):
        raise ValueError("PREVIEW_NODE_ID must be 1-64 letters, digits, '.', '_' or '-'")
    if settings.redis_url:
        _check_cluster(settings)
    if settings.ring_bytes < 64 * 1024:
        raise ValueError("PREVIEW_RING_BYTES must be at least 65536")
    for name, modes in _MODES.items():
        if getattr(settings, name) not in modes:
            raise ValueError(f"PREVIEW_{name.upper()} must be {' or '.join(modes)}")
    if settings.pids_limit < 16 or min(settings.tmp_limit_mb, settings.disk_limit_mb) < 1:
        raise ValueError("PREVIEW_PIDS_LIMIT (>= 16), _TMP_LIMIT_MB, _DISK_LIMIT_MB too small")
    if settings.max_log_lines < 1 or settings.subscriber_buffer < 1 or settings.max_line_bytes < 64:
        raise ValueError("ring, subscriber buffer and line size must be positive")
    if min(settings.capture_body_bytes, settings.capture_requests, settings.capture_mb) < 0:
        raise ValueError("PREVIEW_CAPTURE_* must not be negative")
    for origin in settings.cors_origin_set:
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(
                f"PREVIEW_CORS_ORIGINS: {origin!r} is not an origin "
                "(scheme://host[:port], no path; '*' is not allowed with credentials)"
            )


def _check_cluster(settings: Any) -> None:
    """Cluster mode (PREVIEW_REDIS_URL set): the nodes share one PostgreSQL, reach each
    other at their internal URLs and prove it with the shared secret. Each refusal says
    what to set, in one line, before anything starts."""
    if not _REDIS_URL.fullmatch(settings.redis_url):
        raise ValueError(
            "PREVIEW_REDIS_URL must look like redis://host:6379/0 (rediss:// for TLS,"
            " unix:///path for a socket)"
        )
    url = settings.db_url
    if not url or url.startswith("sqlite"):
        said = "SQLite (PREVIEW_DB_URL is empty)" if not url else "SQLite"
        raise ValueError(
            f"PREVIEW_REDIS_URL turns on cluster mode, which needs PREVIEW_DB_URL on PostgreSQL"
            f" (postgresql+psycopg://user@host/db), the nodes' shared database; it is {said},"
            f" which one node alone can use: unset PREVIEW_REDIS_URL for a single node"
        )
    if not url.startswith("postgresql"):
        raise ValueError("cluster mode (PREVIEW_REDIS_URL) needs PREVIEW_DB_URL on PostgreSQL")
    if len(settings.cluster_secret) < _CLUSTER_SECRET_MIN:
        raise ValueError(
            "cluster mode (PREVIEW_REDIS_URL) needs PREVIEW_CLUSTER_SECRET, the secret every"
            f" node shares, of at least {_CLUSTER_SECRET_MIN} characters"
            f" ({'it is unset' if not settings.cluster_secret else 'it is shorter'})"
        )
    if not _INTERNAL_URL.fullmatch(settings.internal_url):
        raise ValueError(
            "cluster mode (PREVIEW_REDIS_URL) needs PREVIEW_INTERNAL_URL, how the other nodes"
            " reach this one: http://host:port (no path)"
            + ("" if settings.internal_url else "; it is unset")
        )
