"""Modules written for Python 3.14's deferred annotations, run on an older Python
(``preview.apps.pyfloor.deferred_annotations``): each is given ``from __future__ import
annotations`` where an annotation names what the module binds after it."""

from __future__ import annotations

from preview.apps.pyfloor import deferred_annotations

MODELS = b'''"""The app's models."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shop import Shop


class User:
    posts: list[Post]
    shop: Shop

    def friend(self) -> User:
        return self


class Post:
    author: User
'''


def _runs(source: bytes) -> bool:
    try:
        # (not this module's own future import: dont_inherit)
        exec(compile(source, "models.py", "exec", dont_inherit=True), {"__name__": "models"})
    except NameError:
        return False
    return True


def test_a_module_naming_later_classes_in_annotations_imports_on_this_python() -> None:
    """Ajay-user's fastapi-workshop (``requires-python = ">=3.14"``, 3.13 the newest here):
    ``posts: Mapped[list[Post]]`` in ``class User``, Post below it: NameError at import.
    Given the future import (after its docstring), it imports; a class naming itself, a
    name bound under ``if TYPE_CHECKING:`` alike."""
    assert not _runs(MODELS)
    written = deferred_annotations({"models.py": MODELS, "main.py": b"import models\n"})
    assert list(written) == ["models.py"]
    assert written["models.py"].startswith(b'"""The app\'s models."""\nfrom __future__ import')
    assert _runs(written["models.py"])
    for alone in (
        b"class Node:\n    children: list[Node]\n",
        b"from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from a import A\n"
        b"def f(a: A) -> None: ...\n",
    ):
        assert not _runs(alone)
        assert _runs(deferred_annotations({"m.py": alone})["m.py"])


def test_modules_whose_annotations_run_as_written_are_left_as_they_are() -> None:
    ordered = b"class Post:\n    pass\n\nclass User:\n    posts: list[Post]\n"
    inside = b"class User:\n    def f(self):\n        x: Later = 1\n\nclass Later: ...\n"
    already = b"from __future__ import annotations\n" + MODELS.split(b"\n", 1)[1]
    files = {"a.py": ordered, "b.py": inside, "c.py": already, "tests/test_m.py": MODELS}
    assert deferred_annotations(files) == {}
