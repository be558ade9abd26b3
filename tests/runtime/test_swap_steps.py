"""Which set-up steps a swap runs (runtime.swaps.steps): a migration already run runs
again only when the revision changed what it reads; a step new to the revision runs;
an init or seed step already run never does."""

from __future__ import annotations

from preview.apps.detect import Detection
from preview.runtime.swaps.steps import migration_inputs_changed, steps_to_run

UPGRADE = ("{python}", "-m", "alembic", "upgrade", "head")
SEED = ("{python}", "seed.py")


def _detection(*steps: tuple[str, ...]) -> Detection:
    return Detection(
        "fastapi",
        ("{python}", "-m", "uvicorn", "main:app"),
        "main.py",
        "python",
        setup=steps,
        setup_dirs=tuple("" for _ in steps),
    )


def _names(detection: Detection) -> list[tuple[str, ...]]:
    return [step for step, _ in detection.setup_steps()]


def test_an_unchanged_migration_is_not_run_again_nor_a_seed() -> None:
    running = new = _detection(UPGRADE, SEED)
    kept, skipped = steps_to_run(running, new, {"main.py"}, {"main.py": b"", "alembic.ini": b""})
    assert _names(kept) == []
    assert skipped == [" ".join(UPGRADE), " ".join(SEED)]


def test_a_migration_whose_inputs_changed_runs_again_the_seed_does_not() -> None:
    running = new = _detection(UPGRADE, SEED)
    for changed in (
        {"migrations/versions/0002_notes.py"},
        {"alembic.ini"},
        {"app/migrations/env.py"},
        {"requirements.txt"},
        {"prisma/schema.prisma"},
        {"shop/settings.py"},
    ):
        kept, skipped = steps_to_run(running, new, changed, {})
        assert _names(kept) == [UPGRADE], changed
        assert skipped == [" ".join(SEED)]


def test_an_alembic_script_location_of_another_name_counts() -> None:
    files = {"db/alembic.ini": b"[alembic]\nscript_location = %(here)s/schema_changes\n"}
    assert migration_inputs_changed({"db/schema_changes/0002.py"}, files)
    assert not migration_inputs_changed({"db/models.py"}, files)
    package = {"alembic.ini": b"[alembic]\nscript_location = myapp:dbscripts\n"}
    assert migration_inputs_changed({"dbscripts/0002.py"}, package)


def test_a_step_new_to_the_revision_runs_and_unknown_changes_run_migrations() -> None:
    kept, skipped = steps_to_run(_detection(SEED), _detection(SEED, UPGRADE), {"main.py"}, {})
    assert _names(kept) == [UPGRADE] and skipped == [" ".join(SEED)]
    kept, _ = steps_to_run(_detection(UPGRADE), _detection(UPGRADE), None, {})
    assert _names(kept) == [UPGRADE]  # what changed unknown: as before, it runs


def _node(*steps: tuple[str, ...], data: tuple[tuple[str, ...], ...] = ()) -> Detection:
    return Detection(
        "node",
        ("npm", "start"),
        "package.json",
        "node",
        setup=steps,
        setup_dirs=tuple("" for _ in steps),
        data_setup=data,
    )


BUILD = ("npm", "run", "build")
NODE_SEED = ("npm", "run", "seed")
PACKAGE = {"package.json": b'{"scripts": {"build": "tsc", "seed": "node seed.js"}}'}


def test_a_build_runs_again_when_the_revision_changed_a_file_its_data_steps_do_not() -> None:
    """The revision's directory starts with the running one's built output: a build it ran
    runs again on any change (its kept output reused where its inputs are the same)."""
    running = new = _node(BUILD, NODE_SEED, data=(NODE_SEED,))
    kept, skipped = steps_to_run(running, new, {"src/greeting.ts"}, PACKAGE)
    assert _names(kept) == [BUILD]
    assert skipped == [" ".join(NODE_SEED)]
    # A step of compilers alone is a build too, whatever its script is called.
    tsc = ("sh", "-c", 'export PATH="$PWD/node_modules/.bin:$PATH"; tsc -p tsconfig.json')
    kept, _ = steps_to_run(_node(tsc), _node(tsc), {"src/a.ts"}, PACKAGE)
    assert _names(kept) == [tsc]
    # Nothing changed (a revision saved again): nothing to build.
    kept, skipped = steps_to_run(running, new, set(), PACKAGE)
    assert _names(kept) == [] and skipped == [" ".join(BUILD), " ".join(NODE_SEED)]
