"""The servers an app expects beside it, each private to one preview: what it asks for
(``wanted``: its dependencies, configuration and compose file), and its own Redis
(``redis``) and MySQL (``mysql``: MariaDB), run for its whole life in sandboxes of their
own and reached from its sandbox under the names it asks for (``servers``).
"""

from .servers import BackingServers
from .wanted import Wanted, wanted_servers

__all__ = ["BackingServers", "Wanted", "wanted_servers"]
