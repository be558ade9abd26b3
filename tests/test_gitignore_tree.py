"""The CLI's folders (``preview push`` and ``preview watch``: ``FolderRules``) leave out
what git leaves out: every folder's ``.gitignore``, read as git reads them, compared with
git itself on folders with nested ``.gitignore`` files (tests/gitignore_trees.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from preview.client.commandline import _zip_folder
from preview.client.gitignore import IgnoreFile
from preview.client.watch import SKIP_DIRS, FolderRules, _changes

from .gitignore_trees import HAND_TREE, every_path, git_files, git_ignored, random_tree, write_tree

SEEDS = range(120)


def _trees() -> list[tuple[str, dict[str, str]]]:
    return [("by hand", HAND_TREE), *((f"seed {seed}", random_tree(seed)) for seed in SEEDS)]


def test_the_folders_files_are_those_git_would_add(tmp_path: Path) -> None:
    differ = []
    ignored_some = kept_some = 0
    for name, files in _trees():
        folder = write_tree(tmp_path / name.replace(" ", "-"), files)
        ours, gits = sorted(FolderRules(folder).files()), git_files(folder)
        if ours != gits:
            differ.append((name, sorted(set(ours) ^ set(gits))))
        ignored_some += len(gits) < len(files)
        kept_some += bool(gits)
    assert not differ, differ[:5]
    # The trees are not moot: most ignore some of their files and keep others.
    assert ignored_some > len(SEEDS) // 2 and kept_some > len(SEEDS) // 2


def test_each_path_is_ignored_where_git_check_ignore_says(tmp_path: Path) -> None:
    """Folders too, and what is under an ignored folder (``watch`` decides path by path)."""
    differ = []
    for name, files in _trees():
        folder = write_tree(tmp_path / name.replace(" ", "-"), files)
        paths = every_path(files)
        rules = FolderRules(folder)
        ours = {path for path in paths if rules.relative(folder / path) is None}
        gits = git_ignored(folder, paths)
        if ours != gits:
            differ.append((name, sorted(ours ^ gits)))
    assert not differ, differ[:5]


def test_the_hand_made_tree_is_read_as_its_notes_say(tmp_path: Path) -> None:
    """Git agrees with the notes of tests/gitignore_trees.py's HAND_TREE (they are what
    the page's test tells too): a check of the tree, not of the code."""
    folder = write_tree(tmp_path / "shop", HAND_TREE)
    kept = set(git_files(folder))
    for path, text in HAND_TREE.items():
        if text.startswith(("kept", "ignored")):
            assert (path in kept) == text.startswith("kept"), (path, text)


def test_push_sends_what_git_would_add_but_the_skipped_folders(tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "shop", HAND_TREE)
    write_tree(folder, {"node_modules/x/index.js": "skipped\n", "sub/.venv/bin/activate": "x\n"})
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00binary")  # sent: push sends all
    expected = [
        path for path in git_files(folder) if not SKIP_DIRS.intersection(path.split("/")[:-1])
    ]
    assert "logo.png" in expected and "sub/app.log" in expected
    with zipfile.ZipFile(io.BytesIO(_zip_folder(folder))) as archive:
        assert sorted(archive.namelist()) == expected


def test_a_virtualenv_is_not_sent_whatever_its_name(tmp_path: Path) -> None:
    """A folder holding pyvenv.cfg (``env/``, ``api/myenv/``) is a virtualenv, thousands of
    files of another machine: push and watch leave it out as they leave ``venv/``; a
    folder of the same name without one is the app's."""
    folder = write_tree(
        tmp_path / "shop",
        {
            "manage.py": "",
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/site.py": "",
            "api/myenv/pyvenv.cfg": "",
            "api/myenv/bin/activate": "",
            "api/views.py": "",
            "config/env/__init__.py": "",
        },
    )
    kept = ["api/views.py", "config/env/__init__.py", "manage.py"]
    with zipfile.ZipFile(io.BytesIO(_zip_folder(folder))) as archive:
        assert sorted(archive.namelist()) == kept
    rules = FolderRules(folder)
    assert sorted(rules.files()) == kept
    saved = ("env/lib/site.py", "api/myenv/pyvenv.cfg", "api/views.py", "config/env/__init__.py")
    batch = [(None, str(folder / path)) for path in saved]
    assert sorted(_changes(rules, batch)) == ["api/views.py", "config/env/__init__.py"]


def test_watch_reads_a_changed_gitignore_again(tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "shop", HAND_TREE)
    rules = FolderRules(folder)
    assert "sub/deep/cache/c.py" in rules.files()  # every .gitignore read once
    (folder / "sub" / ".gitignore").write_text(HAND_TREE["sub/.gitignore"] + "extra.txt\n")
    write_tree(folder, {"sub/extra.txt": "now ignored\n", "sub/real.py": "kept\n"})
    changed = ("sub/.gitignore", "sub/extra.txt", "sub/real.py")
    batch = [(None, str(folder / path)) for path in changed]
    assert sorted(_changes(rules, batch)) == ["sub/.gitignore", "sub/real.py"]


def test_a_bom_is_not_part_of_a_nested_files_first_pattern(tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "shop", {"sub/a.py": "", "sub/b.txt": "", "c.py": ""})
    (folder / "sub" / ".gitignore").write_bytes(b"\xef\xbb\xbf*.py\n")  # Windows' Notepad
    assert (
        sorted(FolderRules(folder).files())
        == git_files(folder)
        == [
            "c.py",
            "sub/.gitignore",
            "sub/b.txt",
        ]
    )


@pytest.mark.parametrize(
    ("text", "path", "is_dir", "decided"),
    [
        ("build/", "build", True, True),
        ("build/", "build", False, None),  # a file named so: folder-only pattern
        ("build", "build/x.js", False, None),  # its folder decides, first
        ("a/**", "a", True, None),  # what a holds, not a itself
        ("a/**", "a/b/c", False, True),
        ("*.log\n!keep.log", "x/keep.log", False, False),
        ("/top", "x/top", False, None),
        ("x\\", "x\\", False, None),  # invalid: ignores nothing
    ],
)
def test_one_files_patterns(text: str, path: str, is_dir: bool, decided: bool | None) -> None:
    assert IgnoreFile(text).decide(path, is_dir) is decided


def test_a_file_whose_name_an_upload_refuses_is_left_out_not_the_push(tmp_path: Path) -> None:
    """noemi890's api-express-address-book keeps a diagram named
    ``Diagrams/Update\\Replace.png``: the service refuses a path with a backslash
    (``unsafe_path``), and the whole push failed on that one file. It is left out, as a
    symlink is; the app's files are sent, and a change to it is none to send."""
    folder = write_tree(tmp_path / "book", {"index.js": "", "Diagrams/Update\\Replace.png": ""})
    rules = FolderRules(folder)
    assert sorted(rules.files()) == ["index.js"]
    with zipfile.ZipFile(io.BytesIO(_zip_folder(folder))) as archive:
        assert archive.namelist() == ["index.js"]
    batch = [(None, str(folder / "Diagrams" / "Update\\Replace.png"))]
    assert _changes(rules, batch) == {}
