"""Preview service: run a generated web backend as a child process, stream its output.

Embed it with :func:`create_app` (an ASGI app for any trio server) or run it with
``python -m preview``.

Its names are imported on first use: ``preview.cli``'s client commands (and anything
else importing one module of the package) do not import the whole service.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Authenticator", "JWTAuthenticator", "PreviewError", "Settings", "User", "create_app"]

_HOMES = {
    "create_app": ".app",
    "Authenticator": ".auth",
    "JWTAuthenticator": ".auth",
    "User": ".auth",
    "PreviewError": ".errors",
    "Settings": ".settings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'preview' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
