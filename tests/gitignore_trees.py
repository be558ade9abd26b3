"""Folders with nested ``.gitignore`` files, and what git itself says they ignore.

One written by hand (negations in deeper files, anchored patterns relative to their own
folder, folder-only patterns, a ``.gitignore`` inside an ignored folder, a re-included
folder) and many made at random from a fixed seed each; git's answer is
``git ls-files --others --exclude-standard`` (the files it would add) and
``git check-ignore`` (for any path, folders too), in a fresh repository with no excludes
but the folder's own.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

HAND_TREE: dict[str, str] = {
    ".gitignore": (
        "# the top's\n*.log\n!keep.log\nbuild/\n/anchored.txt\n*.tmp\ncache\nsecret/\n"
        "notes/*.md\n!notes/keep.md\ndocs/**/gen/\n"
    ),
    "app.py": "print('app')\n",
    "debug.log": "ignored\n",
    "keep.log": "kept: re-included\n",
    "anchored.txt": "ignored: /anchored.txt\n",
    "x.tmp": "ignored\n",
    "build/out.js": "ignored: in build/\n",
    "build/keep.log": "ignored: its folder is\n",
    "build/.gitignore": "!out.js\n",  # never read: its folder is ignored
    "cache/c.py": "ignored\n",
    "secret/key.pem": "ignored\n",
    "secret/.gitignore": "!key.pem\n",
    "lib/secret": "kept: a file, and secret/ is for folders\n",
    "lib/anchored.txt": "kept: /anchored.txt is the top's\n",
    "notes/a.md": "ignored\n",
    "notes/keep.md": "kept\n",
    "notes/sub/b.md": "kept: notes/*.md is one level\n",
    "docs/gen/x.html": "ignored\n",
    "docs/a/b/gen/y.html": "ignored\n",
    "docs/index.md": "kept\n",
    "sub/.gitignore": (
        "!*.log\n/anchored.txt\n!x.tmp\ndata/\nout/**\n!out/keep.txt\ndeep/only.txt\n"
    ),
    "sub/app.log": "kept: sub's !*.log\n",
    "sub/anchored.txt": "ignored: sub's /anchored.txt\n",
    "sub/deep/anchored.txt": "kept: anchored to sub/\n",
    "sub/x.tmp": "kept: sub's !x.tmp\n",
    "sub/y.tmp": "ignored: the top's *.tmp\n",
    "sub/data/f.py": "ignored: data/\n",
    "sub/deep/data": "kept: a file\n",
    "sub/out/a.txt": "ignored: out/**\n",
    "sub/out/keep.txt": "kept: !out/keep.txt\n",
    "sub/out/inner/b.txt": "ignored\n",
    "sub/deep/only.txt": "ignored: sub's deep/only.txt\n",
    "sub/other/deep/only.txt": "kept: deep/only.txt is anchored to sub/\n",
    "sub/cache/c.py": "ignored: the top's cache\n",
    "sub/deep/.gitignore": "*.log\n!cache\n",
    "sub/deep/trace.log": "ignored again, deeper\n",
    "sub/deep/cache/c.py": "kept: sub/deep's !cache\n",
}

# The random folders' parts: folder and file names apart (a path is one or the other),
# some alike ("data" a file, "data/" a folder-only pattern).
_FOLDERS = ["a", "b", "build", "cache", "src"]
_FILES = ["x.log", "keep.log", "a.py", "b.txt", "data", "out", ".env"]
_PATTERNS = [
    "*.log",
    "!keep.log",
    "build/",
    "!build/",
    "/a",
    "a/",
    "!a/",
    "b/*.txt",
    "**/cache",
    "!cache/",
    "src/**",
    "!src/a.py",
    "*",
    "!*/",
    "!*.py",
    "data",
    "/data/",
    "data/",
    "a/**/b.txt",
    "**/build/**",
    "!b.txt",
    "*.txt",
    "/b",
    "b",
    "!b/",
    "cache/",
    "out",
    "!out",
    ".env",
    "!.env",
    "a/b/",
    "*/x.log",
    "/*",
    "!/src",
    "!*",
    "src/",
    "**/a/*.py",
]


def random_tree(seed: int) -> dict[str, str]:
    """A folder of up to three levels, a few patterns in the ``.gitignore`` of some."""
    rng = random.Random(seed)
    files: dict[str, str] = {}

    def fill(prefix: str, depth: int) -> None:
        for name in rng.sample(_FILES, rng.randint(1, 4)):
            files[prefix + name] = f"{prefix}{name}\n"
        if rng.random() < 0.6:
            patterns = rng.choices(_PATTERNS, k=rng.randint(1, 5))
            files[prefix + ".gitignore"] = "\n".join(patterns) + "\n"
        if depth < 3:
            for folder in rng.sample(_FOLDERS, rng.randint(0, 3)):
                fill(f"{prefix}{folder}/", depth + 1)

    fill("", 0)
    return files


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _git(folder: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    isolated = {
        **os.environ,
        "HOME": str(folder),
        "XDG_CONFIG_HOME": str(folder / ".git"),  # no global excludes file
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        ["git", *args],
        cwd=folder,
        env=isolated,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
    )


def git_files(folder: Path) -> list[str]:
    """The files git would add: those no ``.gitignore`` of the folder ignores."""
    if not (folder / ".git").exists():
        _git(folder, "init", "-q", ".").check_returncode()
    listed = _git(folder, "ls-files", "-z", "--others", "--exclude-standard")
    listed.check_returncode()
    return sorted(path for path in listed.stdout.split("\0") if path)


def git_ignored(folder: Path, paths: list[str]) -> set[str]:
    """Which of ``paths`` (files or folders, from the folder) git says are ignored."""
    if not (folder / ".git").exists():
        _git(folder, "init", "-q", ".").check_returncode()
    paths_in = "".join(f"{path}\0" for path in paths)
    said = _git(folder, "check-ignore", "-z", "--no-index", "--stdin", stdin=paths_in)
    assert said.returncode in (0, 1), said.stderr  # 1: none of them is
    return {path for path in said.stdout.split("\0") if path}


def every_path(files: dict[str, str]) -> list[str]:
    """Each file of the tree and each of its folders."""
    paths = set(files)
    for path in files:
        parts = path.split("/")
        paths.update("/".join(parts[:depth]) for depth in range(1, len(parts)))
    return sorted(paths)
