"""The processes an app runs beside its web process (its workers): what its Procfile,
``app.json``, ``heroku.yml`` and compose file declare (``declared``), and a Celery app
nobody declared a worker for (``celeryapp``); a line run through pipenv or poetry as what
it runs, its server with one worker, gunicorn's in threads, its app factory's call quoted
(``envrunner``); ``npm start`` as the script npm would run, without npm (``scriptrun``).
Read from the files, never run."""

from .declared import MAX_WORKERS, WorkerProcess, find_workers, procfile_lines
from .envrunner import (
    GUNICORN_THREADS,
    with_app_required,
    with_factory_quoted,
    with_one_worker,
    without_env_runner,
)

__all__ = [
    "GUNICORN_THREADS",
    "MAX_WORKERS",
    "WorkerProcess",
    "find_workers",
    "procfile_lines",
    "with_app_required",
    "with_factory_quoted",
    "with_one_worker",
    "without_env_runner",
]
