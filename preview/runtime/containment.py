"""How one preview is held: its sandbox's parts, or, unsandboxed, its own uid.

A part of :class:`~preview.runtime.lifecycle.PreviewRuntime` (its base class), apart so
that lifecycle keeps to preparing, spawning and tearing down: what the app's set-up
steps run in, whether it has ways out (PREVIEW_EGRESS, its database's relay), and the
uid an unsandboxed child runs as when the service is root.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .appdir import app_read_only
from .isolation import Confinement
from .sandbox import host_uid, reachable_by_others

if TYPE_CHECKING:
    from ..settings import Settings
    from .egress import Outbound
    from .isolation import Isolation
    from .spec import LaunchSpec

__all__ = ["Containment"]


class Containment:
    """See the module doc; the attributes are the runtime's."""

    isolation: Isolation | None
    outbound: Outbound
    settings: Settings
    spec: LaunchSpec
    id: str
    temp_dir: Path

    @property
    def sandboxed(self) -> bool:
        return self.isolation is not None and self.isolation.sandboxed

    @property
    def egress_open(self) -> bool:
        """Whether its sandbox has a way out (PREVIEW_EGRESS names hosts)."""
        return self.sandboxed and not self.outbound.policy.closed

    @property
    def database_relayed(self) -> bool:
        """Whether it reaches its PostgreSQL database through its sandbox's relay."""
        return self.sandboxed and self.outbound.database is not None

    def _confine_step(self, python: str, cwd: Path, built: Path | None) -> Confinement | None:
        """A set-up step's sandbox: the app's files, environment, host uid, ways out."""
        if self.isolation is None:
            return None
        return self.isolation.confine_step(
            self.settings, f"{self.id}-setup", work_dir=cwd, uid_slot=self.spec.port,
            read_only=app_read_only(built, python),
            writable=(self.temp_dir,) if cwd != self.temp_dir else (),
            outbound=self.outbound,
        )  # fmt: skip

    def _plain_uid(self, python: str, built: Path | None) -> int | None:
        """Unsandboxed, with the service root: the uid of its own a child runs as, so
        that it cannot read the service's secret and database (PREVIEW_SANDBOX=off).
        Only where its interpreter and environment are reachable by any user; else it
        runs as the service does (and the README says so)."""
        if self.sandboxed or os.geteuid() != 0:
            return None
        needed = [Path(python).resolve(), *([built] if built is not None else [])]
        return host_uid(self.spec.port) if reachable_by_others(needed) else None
