"""Why a preview failed, in one line read from its last lines (``failure``), with the
variables it died for want of (``needed``) and what a module it could not import lacks,
and where (``missingmodule``)."""

from .failure import (
    NO_SPACE,
    failure_cause,
    fault_cause,
    no_broker,
    no_prisma_engine,
    no_space,
    quiet_exit,
    report_fault,
    shown_lines,
    write_failure,
)
from .missingmodule import (
    gitignored_module,
    gitignored_submodule,
    missing_module_hint,
    namesake_wrapper,
)
from .needed import missing_env, needed_variables, with_stand_ins

__all__ = [
    "NO_SPACE",
    "failure_cause",
    "fault_cause",
    "gitignored_module",
    "gitignored_submodule",
    "missing_env",
    "missing_module_hint",
    "namesake_wrapper",
    "needed_variables",
    "no_broker",
    "no_prisma_engine",
    "no_space",
    "quiet_exit",
    "report_fault",
    "shown_lines",
    "with_stand_ins",
    "write_failure",
]
