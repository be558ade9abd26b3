"""The type check a transpiled TypeScript build was run without, run beside the app once
it answers: :func:`type_check`.

A build step run as TypeScript's emit (:mod:`.transpile`) no longer stops at a type error,
as the app's own ``tsc`` did: the app starts sooner, and its author would learn nothing of
what tsc would have said. So the same projects are checked by the app's own ``tsc
--noEmit`` once the app serves (a check: :class:`~preview.apps.processes.WorkerProcess`
with ``check``, run once, in the app's sandbox, at the lowest CPU priority so that its
first requests come first), its findings as its lines in the preview's log and its exit
code said; the preview serves whatever it finds. It shares the app's memory bound, so its
heap is held to a third of it (``--max-old-space-size``): a project whose types outgrow
that (googleapis' definitions) ends the check with V8's "heap out of memory", said, where
the kernel's OOM kill of tsc used to end the preview for its memory limit (Oliverio12's
ExpressCafe_Backend, serving until its check ran).
"""

from __future__ import annotations

import shlex

from ...apps.node.devscript import BIN_FIRST_ON_PATH
from ...apps.processes import WorkerProcess
from .transpile import TranspiledBuild

__all__ = ["TYPE_CHECK", "type_check"]

TYPE_CHECK = "typecheck"  # its name among the preview's processes (the log's ``process``)


def type_check(build: TranspiledBuild, where: str, memory_mb: int) -> WorkerProcess | None:
    """The check of the projects ``build`` transpiled (run in the upload's folder
    ``where``, in a sandbox bounded to ``memory_mb``); None where it names none."""
    if not build.projects:
        return None
    checks = [f"tsc --noEmit --pretty false -p {shlex.quote(p)}" for p in build.projects]
    # No braces: a worker's command is a template (``{python}``, ``{port}``).
    folder = f"cd {shlex.quote(where)} && " if where else ""
    heap = f'export NODE_OPTIONS="$NODE_OPTIONS --max-old-space-size={max(memory_mb // 3, 64)}"; '
    script = f"{folder}{BIN_FIRST_ON_PATH}{heap}{' && '.join(checks)}"
    shown = " && ".join(checks)
    said = "the type check its build was run without (TypeScript's emit)"
    return WorkerProcess(
        TYPE_CHECK, ("nice", "-n", "19", "sh", "-c", script), said, check=True, shown=shown
    )
