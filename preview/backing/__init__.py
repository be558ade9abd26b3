"""The services an app expects beside it, each preview's own: its PostgreSQL, Redis
and MySQL.

``appdb``: roles and databases on the operator's server (``PREVIEW_APP_POSTGRES_URL``),
private to one preview; ``pgwire``: the protocol's few messages the relay reads;
``pgrelay``: the relay that logs any user the app names in to the preview's own role and
databases; ``pgprivate``: a throwaway server in the preview's own sandbox, where the
operator gave none; ``wants``: what the upload's files say it expects (drivers, host
names, ports, URLs); ``postgres``: all of it given to one preview (:class:`Backing`).
``wanted``: the Redis and MySQL it asks for (its dependencies, configuration, compose
file, code); ``redis`` and ``mysql`` (MariaDB): its own server of each, run for its whole
life in a sandbox of its own and reached from its sandboxes under the names it asks for
(``servers``: :class:`BackingServers`).
Below the builds (which run set-up steps against these services), above the sandbox
(which offers them inside: ``sandbox.outbound.ServiceRelay``, ``ServiceMounts``).
"""

from .postgres import Backing
from .servers import BackingServers
from .wanted import Wanted, wanted_servers

__all__ = ["Backing", "BackingServers", "Wanted", "wanted_servers"]
