"""The processes a preview's app runs beside its web process: its workers (Celery, RQ, a
Node queue consumer …), detected by ``apps.processes``, started in the web process's
sandbox once it answers (``workers``), each restarted when it ends (``worker``)."""

from .worker import MAX_RESTARTS, WorkerRun, WorkerSetting
from .workers import AppWorkers

__all__ = ["MAX_RESTARTS", "AppWorkers", "WorkerRun", "WorkerSetting"]
