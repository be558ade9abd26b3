"""Python source read by pattern (``discovery.pyast.uncommented``): its comments are no
code, a string's ``#`` is."""

from __future__ import annotations

from preview.discovery.pyast import uncommented


def test_comments_are_blanked_and_strings_kept() -> None:
    source = b'# URL = "sqlite:///x.db"\nx = "#1"  # note\ny = 2\n'
    assert uncommented(source) == b'\nx = "#1"  \ny = 2\n'
    assert uncommented(b"y = 2\n") == b"y = 2\n"


def test_source_that_does_not_tokenize_is_read_as_it_is() -> None:
    broken = b'x = """never closed\n# not a comment\n'
    assert uncommented(broken) == broken
