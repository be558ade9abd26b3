"""A TypeScript app's build made faster without changing what it runs: its JavaScript
emitted file by file by the app's own TypeScript, without the type check
(:func:`transpiled_build`)."""

from .transpile import PROGRAM_VARIABLE, TranspiledBuild, transpiled_build

__all__ = ["PROGRAM_VARIABLE", "TranspiledBuild", "transpiled_build"]
