"""Settings: every ``PREVIEW_*`` environment variable, its default, unit and help.

``Settings.from_env()`` reads them once at start. Each field of :class:`Settings` is one
variable (``port_min`` is ``PREVIEW_PORT_MIN``); ``SETTINGS_HELP`` is the table the README
and ``preview serve --help-settings`` print. Unknown ``PREVIEW_*`` names are returned by
:func:`unknown_env_names` so the service can report them at start.
"""

from __future__ import annotations

import dataclasses
import math
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SETTINGS_HELP", "Settings", "unknown_env_names"]

_PREFIX = "PREVIEW_"
# Names read by tools around the service rather than by Settings itself.
_OTHER_KNOWN = {"PREVIEW_TEST_POSTGRES_URL", "PREVIEW_URL", "PREVIEW_TOKEN"}


_KINDS: dict[str, type] = {"Path": Path, "str": str, "int": int, "float": float}


def _help(unit: str, text: str) -> dict[str, str]:
    return {"unit": unit, "help": text}


@dataclass(frozen=True)
class Settings:
    """Effective configuration. Construct directly in tests and when embedding."""

    data_dir: Path = field(
        default=Path(".preview-data"),
        metadata=_help("path", "holds the SQLite file, the generated JWT secret and temp dirs"),
    )
    db_url: str = field(
        default="",
        metadata=_help("URL", "SQLAlchemy URL; empty means SQLite file preview.db in the data dir"),
    )
    jwt_secret: str = field(
        default="",
        metadata=_help("text", "HS256 secret; empty means generated once, kept in the data dir"),
    )
    port_min: int = field(default=3001, metadata=_help("port", "first port of the preview pool"))
    port_max: int = field(default=3100, metadata=_help("port", "last port of the preview pool"))
    max_uptime: float = field(
        default=3600, metadata=_help("s", "a preview is stopped this long after launch")
    )
    inactive_timeout: float = field(
        default=1800, metadata=_help("s", "a preview nobody used for this long is stopped")
    )
    session_timeout: float = field(
        default=3600, metadata=_help("s", "lifetime of a session cookie and of a preview token")
    )
    startup_timeout: float = field(
        default=30, metadata=_help("s", "a preview not answering HTTP by then has failed")
    )
    stop_grace: float = field(
        default=5, metadata=_help("s", "time between SIGTERM and SIGKILL of a preview's group")
    )
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
    health_interval: float = field(
        default=10, metadata=_help("s", "time between health checks of a running preview")
    )
    memory_limit_mb: int = field(
        default=512, metadata=_help("MiB", "address-space limit of each preview process")
    )
    max_instances_free: int = field(
        default=1, metadata=_help("count", "concurrent previews of a free-tier user")
    )
    max_instances_pro: int = field(
        default=3, metadata=_help("count", "concurrent previews of a pro-tier user")
    )
    python: str = field(
        default=sys.executable,
        metadata=_help("path", "interpreter that runs previews; default the service's own"),
    )
    max_upload_bytes: int = field(
        default=20 * 1024 * 1024, metadata=_help("bytes", "largest upload request body")
    )
    max_file_bytes: int = field(
        default=1024 * 1024, metadata=_help("bytes", "largest single file of a generation")
    )
    max_files: int = field(default=500, metadata=_help("count", "most files in a generation"))
    max_total_bytes: int = field(
        default=10 * 1024 * 1024, metadata=_help("bytes", "largest generation, all files summed")
    )
    db_threads: int = field(
        default=4, metadata=_help("count", "threads that may run database calls at once")
    )
    proxy_timeout: float = field(
        default=30, metadata=_help("s", "a proxied call the preview has not answered by then: 504")
    )
    proxy_max_body_bytes: int = field(
        default=10 * 1024 * 1024, metadata=_help("bytes", "largest request body sent to a preview")
    )
    proxy_max_response_bytes: int = field(
        default=10 * 1024 * 1024,
        metadata=_help("bytes", "largest response body of a request envelope (not streamed)"),
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``PREVIEW_*`` variables; raise ``ValueError`` naming a malformed one."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
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
        if not 1 <= self.port_min <= self.port_max <= 65535:
            raise ValueError("PREVIEW_PORT_MIN..PREVIEW_PORT_MAX must be a range within 1..65535")
        for name in (
            "max_uptime",
            "inactive_timeout",
            "startup_timeout",
            "keepalive_interval",
            "stream_send_timeout",
            "session_timeout",
            "health_interval",
        ):
            if not getattr(self, name) > 0:  # also refuses NaN
                raise ValueError(f"PREVIEW_{name.upper()} must be positive")
        for name in ("stop_grace", "stream_interval"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"PREVIEW_{name.upper()} must not be negative")
        if self.max_log_lines < 1 or self.subscriber_buffer < 1 or self.max_line_bytes < 64:
            raise ValueError("ring, subscriber buffer and line size must be positive")
        return self

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'preview.db').resolve()}"

    @property
    def previews_dir(self) -> Path:
        return self.data_dir / "previews"

    def max_instances(self, tier: str) -> int:
        return self.max_instances_pro if tier == "pro" else self.max_instances_free

    def resolve_jwt_secret(self) -> str:
        """The configured secret, else the one kept in the data dir (created on first use)."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt-secret"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Written aside, then linked into place: the file is never seen empty, and
            # of two processes starting at once, one secret wins for both.
            draft = path.with_name(f".jwt-secret-{secrets.token_hex(8)}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        secret = path.read_text().strip()
        if not secret:
            raise ValueError(f"{path} is empty; delete it to generate a new secret")
        return secret


def unknown_env_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """``PREVIEW_*`` names in the environment that no setting reads (likely typos)."""
    environ = os.environ if environ is None else environ
    known = {_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)} | _OTHER_KNOWN
    return sorted(n for n in environ if n.startswith(_PREFIX) and n not in known)


SETTINGS_HELP: list[tuple[str, str, str, str]] = [
    (
        _PREFIX + f.name.upper(),
        "(service's python)" if f.name == "python" else str(f.default) if f.default != "" else "",
        f.metadata["unit"],
        f.metadata["help"],
    )
    for f in dataclasses.fields(Settings)
]
