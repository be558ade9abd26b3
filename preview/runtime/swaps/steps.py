"""Which of a revision's set-up steps run when it is applied to a running preview.

The preview's data is kept across the swap, so a step runs again only where running it
again is what the new revision needs: a step new to this revision (a migration tool the
revision brought, a ``release:`` line it changed) runs; of the steps the running
revision had already run, only the migrations run again (``alembic upgrade head``,
Django's ``migrate``, ``flask db upgrade``, Prisma's ``migrate deploy`` / ``db push``):
they apply what is new and nothing twice, so a migration added in a revision runs once.
An init command or a seed already run is not run again (a seed twice is twice the rows).
"""

from __future__ import annotations

from dataclasses import replace

from ...apps.detect import Detection

__all__ = ["steps_to_run"]

_MIGRATIONS = (("upgrade",), ("migrate",), ("db", "push"), ("migrate", "deploy"))


def _migrates(step: tuple[str, ...]) -> bool:
    words = [part.rsplit("/", 1)[-1] for part in step]
    return any(
        words[i : i + len(pattern)] == list(pattern)
        for pattern in _MIGRATIONS
        for i in range(len(words))
    )


def steps_to_run(running: Detection | None, new: Detection) -> tuple[Detection, list[str]]:
    """``new`` with only the set-up steps to run on a swap from ``running``, and the
    ones left out (said in the log)."""
    before = set(running.setup_steps()) if running is not None else set()
    kept, skipped = [], []
    for step, where in new.setup_steps():
        if (step, where) not in before or _migrates(step):
            kept.append((step, where))
        else:
            skipped.append(" ".join(step))
    return (
        replace(new, setup=tuple(s for s, _ in kept), setup_dirs=tuple(w for _, w in kept)),
        skipped,
    )
