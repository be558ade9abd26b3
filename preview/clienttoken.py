"""Where the ``preview`` client commands get their bearer token (see :mod:`preview.cli`).

``preview serve`` leaves its local user's token in one per-user file (the platform's state
directory, from platformdirs; readable by the user only), keyed by the URL it serves, so
the client commands find it from any folder. Otherwise a token comes from ``--token``,
``$PREVIEW_TOKEN``, or is signed with the configured or stored JWT secret, never a new one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

from .auth import JWTAuthenticator
from .settings import Settings

__all__ = ["LOCAL_USER", "client_token", "remember_server_token", "server_tokens_path"]

LOCAL_USER = "local"
_SERVER_TOKENS = "servers.json"  # {url: token} of this user's local servers


def server_tokens_path() -> Path:
    return Path(platformdirs.user_state_dir("preview-service")) / _SERVER_TOKENS


def _read_server_tokens() -> dict[str, str]:
    try:
        tokens = json.loads(server_tokens_path().read_text())
    except (OSError, ValueError):
        return {}
    return tokens if isinstance(tokens, dict) else {}


def remember_server_token(url: str, token: str) -> None:
    """Leave the served URL's token where this user's client commands look for it."""
    path = server_tokens_path()
    tokens = _read_server_tokens() | {url.rstrip("/"): token}
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_suffix(f".{os.getpid()}.tmp")
    # Owner-only from the start, then renamed into place: never readable by others.
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(tokens, out, indent=1)
    aside.replace(path)


def client_token(url: str, token: str | None) -> tuple[str, str]:
    """The bearer token for ``url`` and where it came from (said on a 401)."""
    if token:
        return token, "--token"
    if os.environ.get("PREVIEW_TOKEN"):
        return os.environ["PREVIEW_TOKEN"], "$PREVIEW_TOKEN"
    path = server_tokens_path()
    left = _read_server_tokens().get(url.rstrip("/"))
    if isinstance(left, str) and left:
        return left, f"{path}, left by `preview serve` at {url}"
    settings = Settings.from_env()
    secret_file = settings.data_dir / "jwt-secret"
    if settings.jwt_secret or secret_file.is_file():
        # Never a new secret here: the server would not know it.
        where = "$PREVIEW_JWT_SECRET" if settings.jwt_secret else str(secret_file.resolve())
        authenticator = JWTAuthenticator(
            settings.resolve_jwt_secret(), session_timeout=settings.session_timeout
        )
        signed = authenticator.issue(LOCAL_USER, tier="pro", lifetime=3600)
        return signed, f"signed with the JWT secret in {where}"
    raise SystemExit(
        f"error: no token for {url}: none in {path} (start `preview serve` as this user),"
        " no --token, no $PREVIEW_TOKEN"
    )
