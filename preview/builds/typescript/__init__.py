"""A TypeScript app's build made faster without changing what it runs: its JavaScript
emitted file by file by the app's own TypeScript, without the type check
(:func:`transpiled_build`), and that type check run beside the app once it answers
(:func:`type_check`)."""

from .transpile import PROGRAM_VARIABLE, TranspiledBuild, transpiled_build
from .typecheck import TYPE_CHECK, type_check

__all__ = ["PROGRAM_VARIABLE", "TYPE_CHECK", "TranspiledBuild", "transpiled_build", "type_check"]
