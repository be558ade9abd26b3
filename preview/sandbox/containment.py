"""How one preview is held: its sandbox's parts, or, unsandboxed, its own uid.

What the app's set-up steps run in, whether it has ways out (PREVIEW_EGRESS, the
services it is given: :meth:`Containment.provide`), the app's own confinement (its
sandbox, cgroup and sockets) and the uid an unsandboxed child runs as when the service is root.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import Settings
from .appdir import app_read_only
from .bubblewrap import host_uid, reachable_by_others
from .egress import EgressPolicy
from .isolation import Confinement, Isolation, build_limits
from .outbound import Outbound, ServiceMounts, ServiceRelay

if TYPE_CHECKING:
    from ..apps.spec import LaunchSpec

__all__ = ["VOLUMES_FOLDER", "Containment"]

VOLUMES_FOLDER = ".preview-volumes"  # in its directory: its named volumes' folders


class Containment:
    """One preview's hold (see the module doc).

    Made with its :class:`~preview.runtime.lifecycle.PreviewRuntime`, which owns it. It
    holds the app's :class:`~.isolation.Confinement` from :meth:`confine` (just before the
    spawn) until :meth:`release` in the preview's teardown (idempotent, blocking: call it
    in a thread). A set-up step's confinement is the step's own (:meth:`confine_step`).
    """

    def __init__(
        self,
        spec: LaunchSpec,
        *,
        settings: Settings,
        isolation: Isolation | None,
        app_dir: Path,
        volumes: Sequence[tuple[str | None, str]] = (),
    ) -> None:
        self._spec = spec  # its port names the host uid it runs as, and may move
        self._settings = settings
        self.isolation = isolation
        self._app_dir = app_dir
        self.outbound = Outbound(policy=EgressPolicy.parse(settings.egress))
        self.confinement: Confinement | None = None
        # Its compose service's volumes, (its folder, or None: one of its own; where
        # inside), each a directory in its own (bounded as it is, gone with it), the same
        # for its set-up steps and its run: a migration's SQLite file in /data is the app's.
        self.volumes = tuple(
            (app_dir / (source if source is not None else _volume_folder(target)), target)
            for source, target in volumes
        )

    @property
    def sandboxed(self) -> bool:
        return self.isolation is not None and self.isolation.sandboxed

    @property
    def egress_open(self) -> bool:
        """Whether its sandbox has a way out (PREVIEW_EGRESS names hosts)."""
        return self.sandboxed and not self.outbound.policy.closed

    def provide(
        self,
        services: tuple[ServiceRelay, ...] = (),
        aliases: tuple[str, ...] = (),
        *,
        servers: ServiceMounts | None = None,
        first: bool = False,
    ) -> tuple[int, ...]:
        """Offer ``services`` inside its sandbox (its set-up steps' and the app's), each on
        its ports of the loopback, and ``servers`` of its own beside it (one set: their
        sockets' directory bound in), which ``aliases`` name too (its one ``/etc/hosts``).
        A port offered already stays with what has it, unless ``first`` (the app has
        this one's driver): then it is this one's. The ports given. Before the first
        step is confined; only a sandboxed preview has a loopback of its own."""
        if not self.sandboxed:
            raise RuntimeError("only a sandboxed preview is given services")
        old = self.outbound
        if servers is not None and old.servers is not None:
            raise RuntimeError("one set of servers per preview")
        new = {p for s in services for p in s.ports}
        new |= {p for p, _ in servers.relays} if servers is not None else set()
        if first:  # the ports both want are these
            old = replace(
                old,
                services=tuple(replace(s, ports=_without(s.ports, new)) for s in old.services),
                servers=_servers_without(old.servers, new),
            )
        else:
            taken = old.ports
            services = tuple(replace(s, ports=_without(s.ports, taken)) for s in services)
            servers = _servers_without(servers, taken)
        self.outbound = replace(
            old,
            services=(*old.services, *services),
            aliases=tuple(dict.fromkeys((*old.aliases, *aliases))),
            servers=servers if servers is not None else old.servers,
        )
        given = [p for s in services for p in s.ports]
        given += [p for p, _ in servers.relays] if servers is not None else []
        return tuple(dict.fromkeys(given))

    @property
    def disk_quota(self) -> int | None:
        """The bytes its directory may hold (a tmpfs), when it is sandboxed."""
        return self._settings.disk_limit_mb * 1024 * 1024 if self.sandboxed else None

    def confine(self, python: str, built: Path | None) -> Confinement | None:
        """The app's own sandbox, made just before its spawn (None: not confined)."""
        if self.isolation is not None:
            self.confinement = self.isolation.confine(
                self._settings,
                self._spec.preview_id,
                port=self._spec.port,
                app_dir=self._app_dir,
                read_only=app_read_only(built, python),
                volumes=self.volumes,
                outbound=self.outbound,
            )
        return self.confinement

    def confine_step(self, python: str, cwd: Path, built: Path | None) -> Confinement | None:
        """A set-up step's sandbox: the app's files, environment, host uid, ways out;
        a build's memory (``npm run build`` bundles, migrations import the whole app)."""
        if self.isolation is None:
            return None
        return self.isolation.confine_step(
            self._settings,
            f"{self._spec.preview_id}-setup",
            work_dir=cwd,
            uid_slot=self._spec.port,
            read_only=app_read_only(built, python),
            writable=(self._app_dir,) if cwd != self._app_dir else (),
            volumes=self.volumes,
            outbound=self.outbound,
            limits=build_limits(self._settings),
        )

    def plain_uid(self, python: str, built: Path | None) -> int | None:
        """Unsandboxed, with the service root: the uid of its own a child runs as, so
        that it cannot read the service's secret and database (PREVIEW_SANDBOX=off).
        Only where its interpreter and environment are reachable by any user; else it
        runs as the service does (and the README says so)."""
        if self.sandboxed or os.geteuid() != 0:
            return None
        needed = [Path(python).resolve(), *([built] if built is not None else [])]
        return host_uid(self._spec.port) if reachable_by_others(needed) else None

    def files_uid(self) -> int | None:
        """Whose its files are when it may run as a uid of its own (see :meth:`plain_uid`)."""
        if self.sandboxed or os.geteuid() != 0:
            return None
        return host_uid(self._spec.port)

    def release(self) -> None:
        """Its cgroup and sockets' directory given back; idempotent, blocking."""
        if self.confinement is not None:
            self.confinement.release()


def _without(ports: tuple[int, ...], taken: set[int]) -> tuple[int, ...]:
    return tuple(p for p in ports if p not in taken)


def _servers_without(servers: ServiceMounts | None, taken: set[int]) -> ServiceMounts | None:
    if servers is None:
        return None
    return replace(servers, relays=tuple(r for r in servers.relays if r[0] not in taken))


def _volume_folder(target: str) -> str:
    """The folder of a named volume mounted at ``target`` (``/var/lib/app`` →
    ``.preview-volumes/var-lib-app``)."""
    return f"{VOLUMES_FOLDER}/{target.strip('/').replace('/', '-')}"
