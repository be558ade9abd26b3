"""What the service keeps in its data dir, made once: its secret, its node's name
(:func:`kept_secret`)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["kept_secret"]


def kept_secret(path: Path, nbytes: int = 48) -> str:
    """The secret in ``path``, made on first use (the directory too). Written aside,
    then linked into place: the file is never seen empty, and of two processes starting
    at once, one secret wins for both."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f".{path.name}-{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(nbytes))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    secret = path.read_text().strip()
    if not secret:
        raise ValueError(f"{path.name} in the data dir is empty; delete it to make a new one")
    return secret
