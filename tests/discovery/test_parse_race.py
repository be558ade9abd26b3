"""Reading an upload's Python never fails on CPython 3.11's AST race: its AST constructor
keeps one recursion count per interpreter, so a parse that starts inside another (a
finaliser run by the garbage collector, or another thread of the service) makes the outer
one fail with ``SystemError: AST constructor recursion depth mismatch`` (gh-106905). The
service's preparation died on it as "the service failed to run it" (app-generator's
api-server-fastapi, on the corpus). Here the nested parses are made on purpose, in one
thread: finalisers of garbage cycles that parse, and make another such cycle, a few
times over; and in threads, the way the service's readers run, with a collector whose
finalisers run Python between the threads' parses."""

from __future__ import annotations

import ast
import gc
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from preview.apps.alembicheads import alembic_changes_nothing
from preview.apps.configvars import required_types
from preview.apps.imports import setup_requirements
from preview.apps.pyapp import parse_module
from preview.discovery.pyast import parse_source

SOURCE = "\n".join(f"x{i} = [{i}, ({i}, {i})]" for i in range(2000))
SETTINGS = (
    SOURCE
    + """
from pydantic_settings import BaseSettings

class Settings(BaseSettings):
    secret_key: str
"""
)


class _Racer:
    """Half of a reference cycle: the garbage collector finalises it, and it parses
    (and, while ``left``, leaves another such cycle behind)."""

    left = 0

    def __del__(self) -> None:
        ast.parse("y = 1")
        if _Racer.left > 0:
            _Racer.left -= 1
            _cycle()


def _cycle() -> None:
    first, second = _Racer(), _Racer()
    first.other, second.other = second, first  # type: ignore[attr-defined]


def _raced(action: Callable[[Any], Any], argument: Any) -> Any:
    """``action(argument)`` with a collection at almost every allocation, each finding a
    cycle whose finaliser parses: parses nested in the action's own."""
    threshold = gc.get_threshold()
    gc.set_threshold(1)
    _Racer.left = 20
    try:
        _cycle()
        return action(argument)
    finally:
        gc.set_threshold(*threshold)
        _Racer.left = 0
        gc.collect()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the race is CPython 3.11's")
def test_the_race_is_real_here() -> None:
    with pytest.raises(SystemError, match="recursion depth mismatch"):
        _raced(ast.parse, SOURCE)


def test_a_parse_raced_by_another_is_tried_again() -> None:
    tree = _raced(parse_module, SOURCE)
    assert isinstance(tree, ast.Module)
    assert len(tree.body) == 2000


def test_required_variables_survive_the_race() -> None:
    found = _raced(required_types, {"settings.py": SETTINGS.encode()})
    assert "SECRET_KEY" in found


def test_setup_py_and_alembic_readers_survive_the_race() -> None:
    setup_py = SOURCE + "\nfrom setuptools import setup\nsetup(install_requires=['flask<3'])\n"
    found = _raced(lambda files: setup_requirements(files, ""), {"setup.py": setup_py.encode()})
    assert found == (["flask<3"], "setup.py")
    revision = SOURCE + "\nrevision = 'a1'\ndown_revision = None\ndef upgrade():\n    pass\n"
    files = {"alembic.ini": b"[alembic]\n", "alembic/versions/a1.py": revision.encode()}
    assert _raced(alembic_changes_nothing, files) is True


class _Churner:
    """Half of a cycle whose finaliser runs Python: while the collector finalises it, the
    interpreter may switch to another thread, in the middle of that thread's parse."""

    def __del__(self) -> None:
        sum(range(200))


def test_parses_in_threads_take_turns() -> None:
    nested = "x = " + "(" * 50 + "1" + ")" * 50 + "\n"
    source = nested + "def f():\n    return [a for a in b if c]\n" * 300
    failures: list[str] = []
    churning = True

    def churn() -> None:
        # Bounded: on a loaded machine the parses crawl, and cycles made without end
        # outgrew the collector (12 GB in a CI run).
        for _ in range(200_000):
            if not churning:
                return
            first, second = _Churner(), _Churner()
            first.other, second.other = second, first  # type: ignore[attr-defined]

    def parse() -> None:
        for _ in range(40):
            try:
                parse_source(source)
            except SystemError as error:  # what ast.parse itself raises here
                failures.append(str(error))
                return

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    threads = [threading.Thread(target=parse) for _ in range(6)]
    churner = threading.Thread(target=churn)
    try:
        churner.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        churning = False
        churner.join(timeout=60)
        sys.setswitchinterval(interval)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []


def test_not_python_is_still_none() -> None:
    assert parse_module(b"def (:") is None
    assert parse_module(b"x = 1\x00") is None
