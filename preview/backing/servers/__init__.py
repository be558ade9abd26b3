"""A preview's own servers, each in a sandbox of its own for the preview's whole life:
``running`` (:class:`BackingServers`: started beside the build, on Unix sockets bound into
the app's sandbox), and one module a kind: ``redis`` (Debian's redis-server), ``mysql``
(Debian's MariaDB), ``mongo`` (NX-27017, a MongoDB wire server on SQLite)."""

from .running import BackingServers

__all__ = ["BackingServers"]
