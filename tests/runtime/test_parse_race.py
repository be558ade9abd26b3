"""Reading an upload's Python never fails on CPython 3.11's AST race: its AST constructor
keeps one recursion count per interpreter, so a parse that starts inside another (a
finaliser run by the garbage collector, or another thread of the service) makes the outer
one fail with ``SystemError: AST constructor recursion depth mismatch`` (gh-106905). The
service's preparation died on it as "the service failed to run it" (app-generator's
api-server-fastapi, on the corpus). Here the nested parses are made on purpose, in one
thread: finalisers of garbage cycles that parse, and make another such cycle, a few
times over."""

from __future__ import annotations

import ast
import gc
import sys
from collections.abc import Callable
from typing import Any

import pytest

from preview.apps.configvars import required_types
from preview.apps.pyapp import parse_module

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


def test_not_python_is_still_none() -> None:
    assert parse_module(b"def (:") is None
    assert parse_module(b"x = 1\x00") is None
