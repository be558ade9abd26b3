"""The services an app expects beside it, each preview's own: its PostgreSQL.

``appdb``: roles and databases on the operator's server (``PREVIEW_APP_POSTGRES_URL``),
private to one preview; ``pgwire``: the protocol's few messages the relay reads;
``pgrelay``: the relay that logs any user the app names in to the preview's own role and
databases; ``pgprivate``: a throwaway server in the preview's own sandbox, where the
operator gave none; ``wants``: what the upload's files say it expects (drivers, host
names, ports, URLs); ``postgres``: all of it given to one preview (:class:`Backing`).
Below the builds (which run set-up steps against these services), above the sandbox
(which offers them inside: ``sandbox.outbound.ServiceRelay``).
"""

from .postgres import Backing

__all__ = ["Backing"]
