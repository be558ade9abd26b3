"""The page's folder upload leaves out what git leaves out, in real Chromium: every
folder's ``.gitignore`` (nested ones, negations, anchored and folder-only patterns),
compared with git itself (tests/gitignore_trees.py), one pattern at a time with the CLI's
reading (``IgnoreFile``), and a real upload of a folder that says what it skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from preview.client.gitignore import IgnoreFile

from .conftest import Service
from .gitignore_trees import HAND_TREE, git_files, random_tree, write_tree
from .test_ui import _sign_in
from .test_ui_upload_rules import _PATHS, _TEXTS, upload_folder
from .ui_helpers import browser_page, in_browser, require_browser

SEEDS = range(120)

_DECIDE = """async ([trees, texts, paths]) => {
    const { folderMatcher, ignoreFile } = await import('/static/js/uploadrules.js');
    const kept = trees.map((tree) => {
        const rules = new Map();
        for (const [path, text] of Object.entries(tree)) {
            const parts = path.split('/');
            if (parts.pop() === '.gitignore') rules.set(parts.join('/'), text);
        }
        const ignores = folderMatcher(rules);
        return Object.keys(tree).filter((path) => !ignores(path)).sort();
    });
    const decided = texts.map((text) => {
        const decide = ignoreFile(text);
        return paths.map((path) => [decide(path, false), decide(path, true)]);
    });
    return { kept, decided };
}"""


async def test_the_pages_reading_of_nested_gitignores_is_gits(
    service: Service, tmp_path: Path
) -> None:
    require_browser()
    trees = [HAND_TREE, *(random_tree(seed) for seed in SEEDS)]
    gits = [git_files(write_tree(tmp_path / f"t{n}", tree)) for n, tree in enumerate(trees)]
    texts = ["\n".join(lines) for lines in _TEXTS]

    def script(url: str) -> dict[str, Any]:
        with browser_page() as (page, log):
            _sign_in(page, url)
            seen = page.evaluate(_DECIDE, [trees, texts, _PATHS])
            log.assert_clean()
            return seen

    seen = await in_browser(script, service.url)
    # Python sorts by code point, JavaScript by UTF-16 unit: alike for these names.
    differ = [
        (n, sorted(set(kept) ^ set(git)))
        for n, (kept, git) in enumerate(zip(seen["kept"], gits, strict=True))
        if kept != git
    ]
    assert not differ, differ[:5]
    # Each line of tests/test_ui_upload_rules.py's corpus alone, then all in one file, on
    # files and on folders, as the CLI reads it.
    for text, row in zip(texts, seen["decided"], strict=True):
        ours = IgnoreFile(text)
        for path, (as_file, as_folder) in zip(_PATHS, row, strict=True):
            assert as_file is ours.decide(path, False), (text, path)
            assert as_folder is ours.decide(path, True), (text, path, "folder")


async def test_a_folder_upload_sends_what_git_would_add_and_says_what_it_skipped(
    service: Service, tmp_path: Path
) -> None:
    require_browser()
    expected = git_files(write_tree(tmp_path / "git", HAND_TREE))  # (its .git/ beside)
    folder = write_tree(tmp_path / "shop", HAND_TREE)
    write_tree(folder, {"node_modules/x/index.js": "skipped\n"})
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00binary")
    ignored = sorted(set(HAND_TREE) - set(expected))
    named = f"{', '.join(ignored[:3])} and {len(ignored) - 3} more"  # (more than 3 here)
    assert "sub/app.log" in expected and "sub/anchored.txt" not in expected  # nested ones

    gid, status, paths = await upload_folder(service, folder)
    assert paths == sorted([*expected, "logo.png"])  # a binary file as it is, as push sends it
    assert status == (
        f"Uploaded {len(expected) + 1} files as {gid} (skipped 1 file in node_modules/ and "
        f"{len(ignored)} files its .gitignore files ignore: {named})."
    ), status
