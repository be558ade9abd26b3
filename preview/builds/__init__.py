"""What an app runs with: its environment built once per dependency set and shared
(``build`` on the cache of ``envcache``, reading installers' output in ``installers``),
its set-up steps (``steps``: one logged, confined command), the whole preparation of a
launch (``preparation``: database, build, steps) and the variables it starts with
(``appenv``).

Every step that runs the upload's code (a build backend, npm's scripts, a migration) runs
confined: this package asks ``sandbox`` for the confinement, never makes its own.
"""

from .appenv import app_environment, dotenv_file
from .build import BuildFailed, EnvBuilder
from .preparation import Preparation
from .relaunch import ROUTE_FAILED, relaunch_with_fix
from .steps import Publish, run_logged

__all__ = [
    "ROUTE_FAILED",
    "BuildFailed",
    "EnvBuilder",
    "Preparation",
    "Publish",
    "app_environment",
    "dotenv_file",
    "relaunch_with_fix",
    "run_logged",
]
