"""Preview service: run a generated web backend as a child process, stream its output.

Embed it with :func:`create_app` (an ASGI app for any trio server) or run it with
``python -m preview``.

Its names are imported on first use: ``preview.cli``'s client commands (and anything
else importing one module of the package) do not import the whole service.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what __getattr__ imports on first use, as a type checker sees it
    from .auth import Authenticator, JWTAuthenticator, User
    from .errors import PreviewError
    from .settings import Settings

# httpx imports its own command line (``httpx._main``: Click, Pygments, Rich when
# installed) whenever it can; neither the service nor its client uses it: 0.44 MiB of
# Python objects in an idle ``preview serve`` (1.2 MiB of RSS imported alone; issue 70,
# benchmarks/HISTORY.md "Idle memory"). Marked absent before httpx is first imported,
# httpx defines its stub ``main`` instead. A host that imported httpx first keeps its own.
if "httpx" not in sys.modules:
    # (None in sys.modules is the import system's "absent", which typeshed's
    # dict[str, ModuleType] does not say: a stub gap.)
    sys.modules.setdefault("httpx._main", None)  # pyright: ignore[reportArgumentType]

__all__ = ["Authenticator", "JWTAuthenticator", "PreviewError", "Settings", "User", "create_app"]

_HOMES = {
    "Authenticator": ".auth",
    "JWTAuthenticator": ".auth",
    "User": ".auth",
    "PreviewError": ".errors",
    "Settings": ".settings",
}


def create_app(*args: Any, **kwargs: Any) -> Any:
    """:func:`preview.app.create_app` (a function here, not a lazy name: an ASGI server's
    ``preview:create_app()`` is evaluated in this module's namespace, which a module
    ``__getattr__`` does not serve)."""
    from .app import create_app as create

    return create(*args, **kwargs)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'preview' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
