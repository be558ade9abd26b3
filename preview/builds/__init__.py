"""What an app runs with: its environment built once per dependency set and shared
(``build`` on the cache of ``envcache``, reading installers' output in ``installers``),
its set-up steps (``steps``: one logged, confined command; a build's output reused while
its inputs' hash is unchanged: ``buildcache``), the whole preparation of a
launch (``preparation``: database, build, steps; ``plantries``: its plans tried in
order, judged by health) and the variables it starts with
(``appenv``).

Every step that runs the upload's code (a build backend, npm's scripts, a migration) runs
confined: this package asks ``sandbox`` for the confinement, never makes its own.
"""

from .appenv import app_environment, dotenv_file
from .build import BuildFailed, EnvBuilder
from .plantries import PLAN_DID_NOT_SERVE, PlanTries
from .preparation import BUILD, DATA_INIT, INSTALL, DataInitCache, Preparation
from .relaunch import ROUTE_FAILED, relaunch_with_fix, run_once_more, try_next_plan
from .steps import Publish, run_logged

__all__ = [
    "BUILD",
    "DATA_INIT",
    "INSTALL",
    "PLAN_DID_NOT_SERVE",
    "ROUTE_FAILED",
    "BuildFailed",
    "DataInitCache",
    "EnvBuilder",
    "PlanTries",
    "Preparation",
    "Publish",
    "app_environment",
    "dotenv_file",
    "relaunch_with_fix",
    "run_logged",
    "run_once_more",
    "try_next_plan",
]
