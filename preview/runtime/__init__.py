"""Every preview's life: the supervisor (one nursery for all of them), one preview's life
from launch to teardown (``lifecycle``), its child while it runs (``supervision``), what
users see of it (``state``), readiness and health (``readiness``), the way the service
reaches its app (``upstream``, over ``clients``), its port (``ports``) and its row
(``rowkeeper``).

``PreviewRuntime`` is imported at its first use (``launching``: what only a launch uses).
"""

from typing import TYPE_CHECKING, Any

from .clients import LocalTransport, local_client, local_transport, shared_tls_context
from .ports import PortPool, free_port_block
from .readiness import HEALTH_PATHS, default_health_path, is_healthy
from .recipe import Diagnoses, ProcessRecipe
from .rowkeeper import RowKeeper
from .state import BY_THE_USER
from .supervisor import PreviewsDirUnusable, Supervisor, previews_dir_problem, proxy_prefix
from .upstream import Upstream, UpstreamRouter, pin_socket, upstream_url

__all__ = [
    "BY_THE_USER",
    "HEALTH_PATHS",
    "Diagnoses",
    "LocalTransport",
    "PortPool",
    "PreviewRuntime",
    "PreviewsDirUnusable",
    "ProcessRecipe",
    "RowKeeper",
    "Supervisor",
    "Upstream",
    "UpstreamRouter",
    "default_health_path",
    "free_port_block",
    "is_healthy",
    "local_client",
    "local_transport",
    "pin_socket",
    "previews_dir_problem",
    "proxy_prefix",
    "shared_tls_context",
    "upstream_url",
]

if TYPE_CHECKING:
    from .lifecycle import PreviewRuntime


def __getattr__(name: str) -> Any:
    if name != "PreviewRuntime":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .lifecycle import PreviewRuntime

    return PreviewRuntime
