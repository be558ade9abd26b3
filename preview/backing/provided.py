"""All one preview is given beside it: :class:`Backing`.

Its own Redis and MariaDB (``servers.BackingServers``) are planned and started first,
then its PostgreSQL (``postgres.PostgresBacking``); all are offered in its sandbox
through ``sandbox.Containment.provide``, under one ``/etc/hosts``. A name both want
(``db``) is on the loopback for both; a port both want (``DB_PORT=3306``), and the
variables both could fill (``DATABASE_URL``, ``DB_*``), go to the one whose driver the
app has: MySQL's when it has a MySQL driver and no PostgreSQL one, else PostgreSQL's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..apps.configvars.meanings import DATABASE, meaning
from ..apps.spec import LaunchSpec
from ..sandbox import Containment
from ..settings import Settings
from .postgres import PostgresBacking, System
from .servers import BackingServers

__all__ = ["Backing"]


def _generic(name: str) -> bool:
    """A database's variable whose name says no engine (``DB_NAME``, ``DATABASE_URL``):
    either server could fill it (``configvars.meaning``)."""
    found = meaning(name)
    return found is not None and found.kind == DATABASE and not found.engine


class Backing:
    """One preview's servers (see the module doc): :meth:`running` for its whole
    preparation and run; :attr:`env` what the app is given where it sets nothing."""

    def __init__(
        self, spec: LaunchSpec, *, settings: Settings, containment: Containment, system: System
    ) -> None:
        self._spec = spec
        self._containment = containment
        self._system = system
        self.postgres = PostgresBacking(
            spec, settings=settings, containment=containment, system=system
        )
        self.servers = BackingServers(spec, settings, containment.isolation)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str | None]:
        """Provide what the app expects for the block; a failure's message (its
        ``system`` event tells more) when it cannot be given, else None. All of it ends
        with the block."""
        async with self.servers.serving():
            if not await self.servers.start(self._spec, self._containment, self._system):
                yield self.servers.problem or "its servers could not be given"
                return
            async with self.postgres.running() as failure:
                yield failure

    @property
    def failure(self) -> str | None:
        """Why a server started beside the build could not start or stopped (then the
        app's own failure to reach it is only its consequence), else None."""
        return self.postgres.failure or self.servers.failure

    async def ready(self) -> None:
        """Return once its own Redis and MariaDB answer (or cannot):
        :meth:`BackingServers.ready`. Its PostgreSQL's relay holds each connection until
        that server is up, and needs no wait."""
        await self.servers.ready()

    @property
    def certificate(self) -> bytes | None:
        """The certificates (PEM) its PostgreSQL's relay, its Neon endpoint and its MariaDB
        serve TLS with, which an app verifying its server's is told to trust; None where
        they serve none."""
        relay = self.postgres.tls.certificate if self.postgres.tls is not None else b""
        neon = self.postgres.neon_certificate or b""
        return (relay + neon + (self.servers.certificate or b"")) or None

    @property
    def env(self) -> dict[str, str]:
        """The variables the app gets where it sets none (its PostgreSQL's, Redis's, MySQL's)."""
        postgres, servers = self.postgres.env, self.servers.env
        if "mysql" in self.servers.kinds and self.postgres.driver is None:
            postgres = {k: v for k, v in postgres.items() if not _generic(k)}
        elif postgres:  # PostgreSQL's driver: the generic names are its server's (but
            # a URL of the app's own configuration, which names its server itself)
            servers = {
                k: v
                for k, v in servers.items()
                if not _generic(k) or k not in postgres or "://" in v
            }
        return {**postgres, **servers}
