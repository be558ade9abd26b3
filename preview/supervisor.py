"""The :class:`Supervisor`: one nursery for the app's life, one child nursery per preview.

It owns the registry of live previews (nothing else adds to or removes from it), the
port pool, launch admission (per-generation and per-user limits) and restart recovery.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Sequence
from datetime import timedelta

import trio

from .auth import User, hash_preview_token, new_preview_token
from .clock import utcnow
from .errors import BadRequest, Conflict, Unavailable
from .ports import PortPool
from .process import kill_stale_group
from .runtime import LaunchSpec, PreviewRuntime
from .settings import Settings
from .store import Generation, PreviewInstance, Store

__all__ = ["FASTAPI_REQUIRED_FILES", "Launched", "Supervisor", "proxy_prefix"]

_log = logging.getLogger(__name__)
FASTAPI_REQUIRED_FILES = ("app/main.py", "requirements.txt")
_SHUTDOWN_MARGIN = 40.0  # beyond the stop grace: readers, writer flush, row update


def proxy_prefix(generation_id: str) -> str:
    """Where the transparent proxy serves a generation's running app."""
    return f"/api/generations/{generation_id}/preview/proxy"


class Launched:
    """What a launch returns: the runtime and its preview token (shown only once)."""

    def __init__(self, runtime: PreviewRuntime, preview_token: str) -> None:
        self.runtime = runtime
        self.preview_token = preview_token


class Supervisor:
    """Runs previews; ``serve`` until ``aclose``. See the module doc."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.ports = PortPool(settings.port_min, settings.port_max)
        self._runtimes: dict[str, PreviewRuntime] = {}
        self._nursery: trio.Nursery | None = None
        self._closing = trio.Event()
        self._closed = trio.Event()

    # -- lifetime -------------------------------------------------------------------

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Reconcile what a previous run left, then run previews until :meth:`aclose`."""
        try:
            await self._reconcile()
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                task_status.started()
                await self._closing.wait()
                for runtime in list(self._runtimes.values()):
                    runtime.request_stop("the service is shutting down")
                grace = self.settings.stop_grace + _SHUTDOWN_MARGIN
                nursery.cancel_scope.deadline = trio.current_time() + grace
        finally:
            self._closing.set()
            self._closed.set()

    async def aclose(self) -> None:
        """Stop every preview (same path as a stop request) and wait; idempotent."""
        self._closing.set()
        if self._nursery is not None:
            await self._closed.wait()

    # -- queries --------------------------------------------------------------------

    def get(self, preview_id: str) -> PreviewRuntime | None:
        return self._runtimes.get(preview_id)

    def for_generation(self, generation_id: str) -> PreviewRuntime | None:
        for runtime in self._runtimes.values():
            if runtime.spec.generation_id == generation_id:
                return runtime
        return None

    def for_user(self, user_id: str) -> list[PreviewRuntime]:
        return [r for r in self._runtimes.values() if r.spec.user_id == user_id]

    @property
    def runtimes(self) -> Sequence[PreviewRuntime]:
        return tuple(self._runtimes.values())

    # -- launch ---------------------------------------------------------------------

    async def launch(
        self,
        user: User,
        generation: Generation,
        *,
        command: list[str] | None = None,
        health_path: str = "/",
    ) -> Launched:
        """Admit, reserve a port, write the row and start the preview's nursery.

        Returns once the child is spawned (status ``starting``) or has failed to spawn.
        """
        if self._nursery is None or self._closing.is_set():
            raise Unavailable("The service is not accepting launches.", code="shutting_down")
        files = await self.store.generation_files(generation.id)
        if command is None:
            missing = [path for path in FASTAPI_REQUIRED_FILES if path not in files]
            if missing:
                raise BadRequest(
                    f"Cannot launch: missing required files ({', '.join(missing)}).",
                    code="missing_files",
                    details={"reason": "invalid_generation", "missingFiles": missing},
                )
        # From here to the registry insert there is no await: admission is atomic.
        self._admit(user, generation.id)
        port = self.ports.allocate()
        token = new_preview_token()
        now = utcnow()
        preview_id = "preview_" + secrets.token_hex(8)
        argv = self._argv(command, port, generation.id)
        spec = LaunchSpec(
            preview_id=preview_id,
            generation_id=generation.id,
            project_id=generation.project_id,
            user_id=user.id,
            files=files,
            argv=argv,
            port=port,
            health_path=health_path,
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.max_uptime),
            requirements=files.get("requirements.txt", b"").decode("utf-8", "replace") or None,
            token_hash=hash_preview_token(token),
            token_expires_at=now + timedelta(seconds=self.settings.session_timeout),
        )
        runtime = PreviewRuntime(spec, settings=self.settings, store=self.store, ports=self.ports)
        self._runtimes[preview_id] = runtime
        try:
            await self.store.add_preview(
                PreviewInstance(
                    id=preview_id,
                    generation_id=generation.id,
                    project_id=generation.project_id,
                    user_id=user.id,
                    status="starting",
                    port=port,
                    base_url=f"http://127.0.0.1:{port}",
                    command=" ".join(argv),
                    created_at=now,
                    expires_at=spec.expires_at,
                    preview_token_hash=spec.token_hash,
                    token_expires_at=spec.token_expires_at,
                    health_status="unknown",
                    temp_dir=str(runtime.temp_dir),
                )
            )
        except BaseException:
            self._runtimes.pop(preview_id, None)
            self.ports.release(port)
            raise
        assert self._nursery is not None
        try:
            await self._nursery.start(self._run, runtime)
        except RuntimeError:  # it ended before it was started; _run logged why
            raise Unavailable(
                "The preview could not be started; the service log says why.",
                code="launch_failed",
                details={"previewInstanceId": preview_id},
            ) from None
        return Launched(runtime, token)

    def _admit(self, user: User, generation_id: str) -> None:
        running = self.for_generation(generation_id)
        if running is not None:
            raise Conflict(
                "A preview of this generation is already running; stop it first.",
                code="preview_already_running",
                details={"previewInstanceId": running.id, "status": running.status},
            )
        mine = self.for_user(user.id)
        limit = self.settings.max_instances(user.tier)
        if len(mine) >= limit:
            raise Conflict(
                f"Your {user.tier} tier allows {limit} concurrent preview(s); stop one first.",
                code="preview_limit_reached",
                details={
                    "tier": user.tier,
                    "limit": limit,
                    "running": [
                        {
                            "previewInstanceId": r.id,
                            "generationId": r.spec.generation_id,
                            "status": r.status,
                        }
                        for r in mine
                    ],
                },
            )

    def _argv(self, command: list[str] | None, port: int, generation_id: str) -> list[str]:
        # The app is reached through the transparent proxy under this prefix; as its root
        # path, the app's own /docs finds its openapi.json there.
        root_path = proxy_prefix(generation_id)
        if command is None:
            return [
                self.settings.python, "-m", "uvicorn", "app.main:app",
                "--host", "127.0.0.1", "--port", str(port), "--root-path", root_path,
            ]  # fmt: skip
        values = {"python": self.settings.python, "port": str(port), "root_path": root_path}
        return [part.format_map(values) for part in command]

    async def _run(self, runtime: PreviewRuntime, *, task_status: trio.TaskStatus[None]) -> None:
        """One preview in the supervisor's nursery; its failure never ends the others."""
        try:
            await runtime.run(task_status=task_status)
        except Exception:
            _log.exception("preview %s ended with an error", runtime.id)
        finally:
            self._runtimes.pop(runtime.id, None)

    # -- restart recovery -----------------------------------------------------------

    async def _reconcile(self) -> None:
        """Close out rows a previous run left active; reclaim their processes and dirs."""
        for row in await self.store.unfinished_previews():
            killed = False
            if row.process_id:
                killed = await trio.to_thread.run_sync(
                    kill_stale_group, row.process_id, row.process_started_at
                )
            reason = "interrupted by a restart of the service"
            if killed:
                reason += f"; its process {row.process_id} was killed"
            _log.warning("preview %s: %s", row.id, reason)
            await self.store.update_preview(
                row.id,
                status="failed",
                stopped_at=utcnow(),
                stop_reason="the service restarted",
                error_message=reason,
                health_status="unknown",
            )
        # No preview runs yet, so every directory left under previews/ is an orphan.
        previews_dir = self.settings.previews_dir
        await trio.to_thread.run_sync(shutil.rmtree, previews_dir, True)
        await trio.to_thread.run_sync(lambda: previews_dir.mkdir(parents=True, exist_ok=True))
