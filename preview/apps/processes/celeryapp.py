"""A Celery app nobody declared a worker for: :func:`celery_worker`.

Generated Django and Flask backends often create their Celery app (``app = Celery(…)``
in ``proj/celery.py``) and queue tasks from their views (``.delay(…)``) with no Procfile
line starting its worker: deployed, a compose file or a platform's setting does. Without
one, every queued task waits for ever and a health route pinging the workers fails.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

__all__ = ["CeleryWorker", "celery_worker"]

_CELERY_APP = re.compile(r"^(\w+)\s*(?::[^=\n]*)?=\s*Celery\(", re.M)
# Its web process queues tasks, or asks the workers (a health route's ping): it expects one.
_QUEUES = re.compile(r"\.delay\(|\.apply_async\(|\bsend_task\(|\.control\.(ping|inspect)\(")
_IMPORTS_CELERY = re.compile(r"^\s*(from\s+celery\s+import|import\s+celery\b)", re.M)
# Few processes, few threads: one task at a time, as a preview needs.
_COMMAND = (
    "{{python}} -m celery{workdir} -A {target} worker --pool=solo --concurrency=1 --loglevel=INFO"
)


@dataclass(frozen=True)
class CeleryWorker:
    argv: tuple[str, ...]
    path: str  # the module creating the Celery app
    note: str


def _module(files: dict[str, bytes], path: str) -> tuple[str, str]:
    """(the directory the module is imported from, its dotted name): up through the
    packages (directories with an ``__init__.py``)."""
    parts = [posixpath.basename(path).removesuffix(".py")]
    directory = posixpath.dirname(path)
    while directory and f"{directory}/__init__.py" in files:
        parts.insert(0, posixpath.basename(directory))
        directory = posixpath.dirname(directory)
    return directory, ".".join(parts)


def celery_worker(files: dict[str, bytes]) -> CeleryWorker | None:
    """The worker of the Celery app in ``files`` whose tasks its code queues; None if
    it has none, or queues none."""
    found: list[tuple[str, str]] = []
    queues = False
    for path in sorted(files, key=lambda p: (p.count("/"), p)):
        if not path.endswith(".py") or "/site-packages/" in path or path.startswith("."):
            continue
        text = files[path].decode("utf-8", "replace")
        if "Celery(" in text and _IMPORTS_CELERY.search(text):
            match = _CELERY_APP.search(text)
            if match is not None and path != "celery.py":  # (that one shadows celery)
                found.append((path, match.group(1)))
        queues = queues or _QUEUES.search(text) is not None
    if not found or not queues:
        return None
    path, attr = found[0]
    directory, module = _module(files, path)
    workdir = f" --workdir {directory}" if directory else ""
    command = _COMMAND.format(workdir=workdir, target=f"{module}:{attr}")
    note = f"a Celery app ({module}:{attr}) whose tasks its code queues: its worker runs too"
    return CeleryWorker(tuple(command.split()), path, note)
