"""Which paths of a folder its ``.gitignore`` files ignore, decided as git decides.

Git reads a ``.gitignore`` in every folder it walks, each pattern relative to that folder;
for a path, the deepest folder's file that has a matching pattern decides (in a file, its
last matching pattern), so a deeper ``!pattern`` re-includes what a shallower file
ignores; and it walks into no ignored folder, so nothing under one comes back and its own
``.gitignore`` is never read. Each pattern is compiled by pathspec (its
``GitIgnoreSpecPattern``); a folder-only pattern (``build/``) is compiled without its
slash and tried on folders alone. The page's folder upload decides alike
(``preview/static/js/uploadrules.js``, ``folderMatcher``); tests/test_gitignore_tree.py
compares this with ``git ls-files`` and the page with this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

__all__ = ["IgnoreFile", "IgnoreTree", "read_ignore_file"]

# How pathspec ends a pattern's expression so that it also matches what is under the
# path (``(?:(?P<ps_d>/)|$)``, for its GitIgnoreSpec): here a pattern matches the whole
# path only (its folders were decided first), so that ending is an end.
_UNDER = "(?:(?P<ps_d>/)|$)"


@dataclass(frozen=True)
class _Pattern:
    ignore: bool  # False for a ``!pattern``
    folders_only: bool  # ``build/``
    regex: re.Pattern[str]


def _compile(line: str) -> _Pattern | None:
    """One line's pattern, or None (blank, a comment, invalid: it ignores nothing)."""
    text = line if line.endswith("\\ ") else line.rstrip()
    folders_only = text.endswith("/")
    try:
        compiled = GitIgnoreSpecPattern(text[:-1] if folders_only else text)
    except ValueError:  # a trailing backslash, a pattern of nothing but slashes
        return None
    if compiled.include is None or compiled.regex is None:
        return None
    source = compiled.regex.pattern
    if source.endswith(_UNDER):
        source = source[: -len(_UNDER)] + "$"
    if "ps_d" in source:  # pathspec changed how it marks folders: say so, loudly
        raise RuntimeError(f"pathspec's expression for {line!r} is not understood: {source}")
    return _Pattern(compiled.include, folders_only, re.compile(source))


class IgnoreFile:
    """The patterns of one ``.gitignore``, for paths relative to its folder."""

    def __init__(self, text: str) -> None:
        compiled = (_compile(line) for line in text.splitlines())
        self._patterns = [pattern for pattern in compiled if pattern is not None][::-1]

    def decide(self, relative: str, is_dir: bool) -> bool | None:
        """True (ignored), False (re-included by a ``!``) or None (no pattern matches)."""
        for pattern in self._patterns:  # the last matching one decides
            if (is_dir or not pattern.folders_only) and pattern.regex.search(relative):
                return pattern.ignore
        return None


def read_ignore_file(path: Path) -> IgnoreFile:
    """The ``.gitignore`` at ``path`` (none there: no patterns). UTF-8 whatever the
    locale, a leading BOM not part of its first pattern (git and the page skip it too)."""
    try:
        return IgnoreFile(path.read_text("utf-8-sig", errors="replace"))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return IgnoreFile("")


class IgnoreTree:
    """A folder's ``.gitignore`` files, read as git reaches them (each once, cached:
    ``forget`` after one changed), and what they ignore."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[str, IgnoreFile] = {}

    def forget(self) -> None:
        self._files.clear()

    def _file(self, folder: str) -> IgnoreFile:
        """The ``.gitignore`` of ``folder`` (``""`` for the top, else ``a/b``)."""
        if folder not in self._files:
            self._files[folder] = read_ignore_file(self.folder / folder / ".gitignore")
        return self._files[folder]

    def decide_in(self, folders: list[str], path: str, is_dir: bool) -> bool:
        """Whether ``path`` (``a/b/c``) is ignored, its folder known not to be: by the
        ``.gitignore`` of each of ``folders`` (its own folders, the top ``""`` first)."""
        for folder in reversed(folders):  # the deepest first
            relative = path[len(folder) + 1 :] if folder else path
            decided = self._file(folder).decide(relative, is_dir)
            if decided is not None:
                return decided
        return False

    def ignored(self, path: str, is_dir: bool = False) -> bool:
        """Whether ``path`` (``a/b/c``, from the top) is ignored: it or a folder of it."""
        parts = path.split("/")
        folders = [""]
        for depth in range(1, len(parts) + 1):
            here = "/".join(parts[:depth])
            if self.decide_in(folders, here, is_dir or depth < len(parts)):
                return True
            folders.append(here)
        return False
