"""The process side: the supervisor, one preview's life, its child process, readiness and ports."""

from .build import BuildFailed, EnvBuilder
from .child import follow_parent_death, in_worker_process, stop_on_sigterm
from .detect import Detection, detect
from .isolation import Isolation
from .lifecycle import PreviewRuntime
from .ports import PortPool, free_port_block
from .process import GroupUsage, child_environment
from .readiness import HEALTH_PATHS, default_health_path, is_healthy
from .rowkeeper import RowKeeper
from .spec import LaunchSpec
from .supervisor import Supervisor, proxy_prefix

__all__ = [
    "HEALTH_PATHS",
    "BuildFailed",
    "Detection",
    "EnvBuilder",
    "GroupUsage",
    "Isolation",
    "LaunchSpec",
    "PortPool",
    "PreviewRuntime",
    "RowKeeper",
    "Supervisor",
    "child_environment",
    "default_health_path",
    "detect",
    "follow_parent_death",
    "free_port_block",
    "in_worker_process",
    "is_healthy",
    "proxy_prefix",
    "stop_on_sigterm",
]
