"""The services an app expects beside it, each preview's own: its PostgreSQL, Redis, MySQL.

PostgreSQL: ``appdb``: roles and databases on the operator's server
(``PREVIEW_APP_POSTGRES_URL``), private to one preview; ``pgwire``: the protocol's few
messages the relay reads; ``pgrelay``: the relay that logs any user the app names in to
the preview's own role and databases; ``pgprivate``: a throwaway server in the preview's
own sandbox, where the operator gave none; ``wants``: what the upload's files say it
expects (drivers, host names, ports, URLs); ``postgres``: all of it given to one preview
(:class:`~.postgres.PostgresBacking`), through a relay of the service's
(``sandbox.outbound.ServiceRelay``); ``neon``: the HTTPS endpoint Neon's serverless driver
posts its queries to, on the same server.

Redis, MySQL and MongoDB: ``wanted``: what the upload asks for (its dependencies,
configuration and compose file); ``servers``: its own Redis, MySQL (MariaDB) and MongoDB
(NX-27017 on SQLite), run for its whole life in sandboxes of their own, listening on Unix
sockets bound into its sandbox (:class:`BackingServers`, ``sandbox.outbound.ServiceMounts``);
the time zones it names loaded into its MariaDB (``timezones``).

``provided``: all of them for one preview (:class:`Backing`), under one ``/etc/hosts``;
a name or port both PostgreSQL and MySQL want goes to the one whose driver the app has.
Below the builds (which run set-up steps against these services), above the sandbox
(which offers them inside: ``sandbox.Containment.provide``).
"""

from .postgres import PostgresBacking
from .provided import Backing
from .servers import BackingServers
from .wanted import Wanted, wanted_servers

__all__ = ["Backing", "BackingServers", "PostgresBacking", "Wanted", "wanted_servers"]
