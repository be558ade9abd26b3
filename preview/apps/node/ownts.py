"""A start script running TypeScript in a way this machine's Node does not:
:func:`runnable_ts`.

Node 22.6 and later run a ``.ts`` file themselves (type stripping; by default from 23.6):
``node --env-file=.env --import ./src/instrumentation.ts ./src/index.ts`` is marcoturi's
fastify-boilerplate's start (its engines ask for Node 24), which Node 20 refuses
(ERR_UNKNOWN_FILE_EXTENSION). tsx runs the same command line (it passes node's own flags
on, and its loader comes before the app's ``--import``), on any Node.
"""

from __future__ import annotations

import shlex

from preview.apps.node.devscript import simple_command

__all__ = ["runnable_ts"]

_TS = (".ts", ".mts", ".cts")


def runnable_ts(script: str) -> tuple[str, str] | None:
    """(the command to run instead, why) for a script that runs TypeScript with a runner
    this Node may lack; None for any other (a line with shell operators included)."""
    command = simple_command(script)
    if command is None or not command[1]:
        return None
    env, words = command
    if words[0] == "node" and any(w.endswith(_TS) for w in words[1:]):
        line = shlex.join([*env, "tsx", *words[1:]])
        why = "it runs TypeScript with node's own type stripping (Node 22.6 and later)"
        return line, why
    return None
