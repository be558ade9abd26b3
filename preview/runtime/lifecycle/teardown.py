"""A preview's teardown once its child has ended, whatever ended it: :func:`finalise`
(its row's last fields, its connections closed, its containment, environment lease,
port and directory given back, its row flushed)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import trio

from ...builds import Preparation
from ...clock import utcnow
from ...metrics import Metrics
from ...sandbox import Containment
from ...sandbox.appdir import remove_tree
from ..ports import PortPool
from ..state import PreviewState
from ..upstream import Upstream

__all__ = ["finalise"]

_log = logging.getLogger(__name__)
_CLOSE_CONNECTIONS = 5.0  # for the pooled connections to a stopped preview to close


async def finalise(
    state: PreviewState,
    final_status: str,
    *,
    metrics: Metrics | None,
    ports: PortPool,
    port: int,
    upstream: Upstream,
    containment: Containment,
    preparation: Preparation,
    app_dir: Path,
    preview_id: str,
) -> None:
    """Port, temp dir and row; runs whatever happened before (shielded caller).
    The row is written until the database takes it (see ``RowKeeper``)."""
    state.status = final_status
    state.stopped_at = utcnow()
    if final_status == "failed" and metrics is not None:
        metrics.record_failure(state.stop_reason, state.error_message)
    state.row.update(
        status=final_status,
        stopped_at=state.stopped_at,
        exit_code=state.exit_code,
        error_message=state.error_message,
        error_lines=json.dumps(state.error_lines) if state.error_lines else None,
        stop_reason=state.stop_reason,
        health_status="unknown",
    )
    try:
        try:
            with trio.move_on_after(_CLOSE_CONNECTIONS):
                await ports.close_connections(port)
                await upstream.aclose()
        finally:
            # Whatever the connections did: the cgroup, the socket dir, the
            # environment lease and the port are given back.
            await trio.to_thread.run_sync(containment.release)
            await preparation.release()
            ports.release(port)
        await trio.to_thread.run_sync(remove_tree, app_dir)
    finally:
        try:
            await state.row.flush()
        except Exception:
            _log.exception("could not finalise preview %s", preview_id)
