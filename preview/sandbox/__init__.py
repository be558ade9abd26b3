"""The confinement of whatever runs an upload's code: what this machine allows, probed
once (``isolation``), one preview's or step's sandbox (``bubblewrap``'s command, its
``cgroups``, the ``seccomp`` filter, a socket in its network namespace: ``netns``), its
ways out (``egress``: the allow-listed HTTP proxy; ``outbound``: the services it is
given, ``ServiceRelay``, and the names they are called by), its directory
(``appdir``), how one preview is held (``containment``), and the child process itself:
forked, limited, ended with its whole tree (``child``, ``process``).
"""

from .appdir import mounts_die_with_this_process
from .child import ChildProcess, follow_parent_death, in_worker_process, stop_on_sigterm
from .containment import Containment
from .isolation import Confinement, Isolation
from .process import ChildLimits, GroupUsage, child_environment

__all__ = [
    "ChildLimits",
    "ChildProcess",
    "Confinement",
    "Containment",
    "GroupUsage",
    "Isolation",
    "child_environment",
    "follow_parent_death",
    "in_worker_process",
    "mounts_die_with_this_process",
    "stop_on_sigterm",
]
