"""The page's folder upload sends what ``preview watch`` sends (``FolderRules``): not the
folders never sent (one list, the CLI's and the page's), not what the folder's
``.gitignore`` ignores, read alike (the page's matcher against pathspec's, in Chromium);
and the page says how many files it skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pathspec
import trio

from preview.client.watch import SKIP_DIRS, SKIPPED_FOLDER_MARKERS, UPLOAD_RULES, FolderRules

from .conftest import Service, auth
from .test_ui import _sign_in
from .ui_helpers import browser_page, in_browser, require_browser

# Each line alone, then all of them in one file (the order deciding between them).
_PATTERNS = [
    "*.log",
    "!keep.log",
    "/build",
    "dist/",
    "docs/**/*.md",
    "**/temp",
    "a/**/b",
    "foo/*",
    "*.py[cod]",
    "[!a]bc",
    "[a-c]x",
    r"\#hash",
    r"\!bang",
    "trailing\\ ",
    "**/",
    "*/",
    "**",
    "*",
    "/",
    "# a comment",
    "",
    "   ",
    ".env*",
    "!/.env.example",
    "secret/",
    "!secret/keep.txt",
    "a?c",
    "[a-",
    "x\\",
    "node_modules",
    "**/cache/**",
    "logs/**",
    "/src/*.js",
    "lib/",
    "!lib/keep/",
    "*.min.*",
    "sub/dir/",
    "-dash",
    "(paren)",
    "a+b",
    "{brace}",
    "$dollar",
    "^caret",
    "doc/frotz/",
    "**/foo/bar",
    "abc/**",
    "a/**/**/b",
    "*.txt  ",
    " lead.txt",
    "ünïcode.txt",
]
_PATHS = [
    "app.log",
    "keep.log",
    "logs/keep.log",
    "build",
    "build/x.js",
    "src/build/x.js",
    "dist/bundle.js",
    "web/dist/bundle.js",
    "dist",
    "docs/a.md",
    "docs/x/y/b.md",
    "docs/readme.txt",
    "temp",
    "x/temp",
    "x/temp/y.py",
    "a/b",
    "a/x/y/b",
    "a/b/c",
    "foo/one.py",
    "foo/two/three.py",
    "m.pyc",
    "m.py",
    "xbc",
    "abc",
    "ax",
    "dx",
    "#hash",
    "!bang",
    "trailing ",
    "trailing",
    "top.py",
    "pkg/mod.py",
    ".env",
    ".env.example",
    ".env.local",
    "secret/key.pem",
    "secret/keep.txt",
    "abc.c",
    "a.c",
    "node_modules/x/index.js",
    "pkg/node_modules/y.js",
    "cache/z",
    "x/cache/z/w",
    "logs/a/b.txt",
    "src/app.js",
    "src/deep/app.js",
    "lib/keep/a.py",
    "lib/b.py",
    "app.min.js",
    "sub/dir/f",
    "sub/dir",
    "-dash",
    "(paren)",
    "a+b",
    "{brace}",
    "$dollar",
    "^caret",
    "doc/frotz/f",
    "a/doc/frotz/f",
    "foo/bar",
    "x/foo/bar/y",
    "abc/d",
    "notes.txt",
    " lead.txt",
    "lead.txt",
    "ünïcode.txt",
    "README.md",
]
_TEXTS = [
    *([p] for p in _PATTERNS),
    _PATTERNS,
    list(reversed(_PATTERNS)),
    ["*.log\u2028!keep.log\rdist/\x0cbuild/"],  # str.splitlines' line ends, the page's too
]

_DECIDE = """async ([texts, paths]) => {
    const rules = await import('/static/js/uploadrules.js');
    const { gitignoreMatcher, skippedFolderMarkers, skippedFolders } = rules;
    const decided = texts.map((text) => {
        const ignores = gitignoreMatcher(text);
        return paths.map((path) => ignores(path));
    });
    return {
        decided,
        skipped: [...(await skippedFolders())],
        markers: [...(await skippedFolderMarkers())],
    };
}"""


def _pathspec_decides(lines: list[str], path: str) -> bool:
    """pathspec's answer by its reference backend ("simple"): its "re2" one, picked
    where google-re2 is installed (the service's masking uses it), re-includes
    ``lib/keep/a.py`` under ``lib/`` + ``!lib/keep/``, which git does not."""
    valid = []
    for line in "\n".join(lines).splitlines():  # as FolderRules reads the file
        try:
            pathspec.GitIgnoreSpec.from_lines([line], backend="simple")
        except ValueError:
            continue  # as FolderRules: a line pathspec refuses ignores nothing
        valid.append(line)
    return pathspec.GitIgnoreSpec.from_lines(valid, backend="simple").match_file(path)


async def test_the_pages_gitignore_reading_and_skipped_folders_are_the_clis(
    service: Service,
) -> None:
    require_browser()
    texts = ["\n".join(lines) for lines in _TEXTS]

    def script(url: str) -> dict[str, Any]:
        with browser_page() as (page, log):
            _sign_in(page, url)
            seen = page.evaluate(_DECIDE, [texts, _PATHS])
            log.assert_clean()
            return seen

    seen = await in_browser(script, service.url)
    assert sorted(seen["skipped"]) == sorted(SKIP_DIRS)
    assert json.loads(UPLOAD_RULES.read_text())["skippedFolders"] == sorted(SKIP_DIRS)
    assert seen["markers"] == list(SKIPPED_FOLDER_MARKERS) == ["pyvenv.cfg"]
    differ = [
        (lines, path, page_says)
        for lines, row in zip(_TEXTS, seen["decided"], strict=True)
        for path, page_says in zip(_PATHS, row, strict=True)
        if page_says != _pathspec_decides(lines, path)
    ]
    assert not differ, differ[:10]
    # Not every line is moot: the corpus ignores some paths and keeps others.
    assert any(any(row) for row in seen["decided"]) and not all(all(row) for row in seen["decided"])


def _project(root: Path) -> Path:
    folder = root / "shop"
    files = {
        ".gitignore": "*.log\n!keep.log\ndist/\n/settings.local.py\nsecret/\n",
        "main.py": "print('shop')\n",
        "requirements.txt": "fastapi\n",
        "keep.log": "kept\n",
        "app/views.py": "VIEWS = 1\n",
        "app/settings.local.py": "kept: only the root's is ignored\n",
        "settings.local.py": "ignored\n",
        "debug.log": "ignored\n",
        "app/server.log": "ignored\n",
        "dist/bundle.js": "ignored\n",
        "secret/key.txt": "ignored\n",
        "node_modules/left-pad/index.js": "skipped\n",
        "node_modules/left-pad/package.json": "{}\n",
        ".venv/bin/activate": "skipped\n",
        "env/pyvenv.cfg": "skipped: a virtualenv whatever its name\n",
        "env/lib/site.py": "skipped\n",
        "config/env/settings.py": "kept: no pyvenv.cfg\n",
        "app/__pycache__/views.cpython-311.pyc": "skipped\n",
    }
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # Saved with a BOM (Windows' Notepad): not part of its first pattern, on either side.
    (folder / ".gitignore").write_bytes(b"\xef\xbb\xbf" + files[".gitignore"].encode())
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    return folder


async def test_a_folder_upload_skips_what_the_cli_skips_and_says_how_many(
    service: Service, tmp_path: Path
) -> None:
    require_browser()
    folder = _project(tmp_path)
    expected = sorted(FolderRules(folder).files())
    assert "debug.log" not in expected and "keep.log" in expected  # (the CLI's view)
    assert "logo.png" in expected  # a binary file: sent as it is, as push sends it

    gid, status, paths = await upload_folder(service, folder)
    assert paths == expected
    assert "config/env/settings.py" in expected and "env/lib/site.py" not in expected
    # 6 in the skipped folders (node_modules' 2, env's 2, .venv's, __pycache__'s), 5 ignored.
    assert status == (
        f"Uploaded {len(expected)} files as {gid} (skipped 6 files in .venv/, __pycache__/, "
        "env/, node_modules/ and 5 files its .gitignore ignores: app/server.log, debug.log, "
        "dist/bundle.js and 2 more)."
    ), status
    # Byte for byte: the binary file, and the .gitignore with its byte-order mark.
    with trio.fail_after(30):
        for name in ("logo.png", ".gitignore"):
            url = f"/api/generations/{gid}/files/{name}"
            shown = (await service.client.get(url, headers=auth())).json()
            assert shown["size"] == (folder / name).stat().st_size, shown


async def test_an_ignored_env_file_is_named(service: Service, tmp_path: Path) -> None:
    """A .gitignore'd .env is left out, as git and `preview push` leave it: the page names
    it (a preview then asks for its variables; "1 file ignored" did not say which)."""
    require_browser()
    folder = tmp_path / "api"
    folder.mkdir()
    (folder / ".gitignore").write_text(".env\n*.db\n")
    (folder / ".env").write_text("SECRET_KEY=x\n")
    (folder / "app.db").write_bytes(b"SQLite format 3\x00")
    (folder / "main.py").write_text("print('api')\n")
    gid, status, paths = await upload_folder(service, folder)
    assert paths == [".gitignore", "main.py"]
    assert status == (
        f"Uploaded 2 files as {gid} (skipped 2 files its .gitignore ignores: .env and app.db)."
    ), status


async def upload_folder(service: Service, folder: Path) -> tuple[str, str, list[str]]:
    """``folder`` uploaded with the page's folder picker: the generation, what the page
    said, the paths the service holds."""

    def script(url: str) -> tuple[str, str]:
        with browser_page() as (page, log):
            _sign_in(page, url)
            page.set_input_files("#upload-folder", str(folder))
            page.click("#upload-submit")
            page.wait_for_selector("#upload-status:has-text('Uploaded')")
            gid = page.get_attribute("#generation-list button[aria-current='true']", "data-gid")
            status = page.text_content("#upload-status")
            log.assert_clean()
            return gid, status

    gid, status = await in_browser(script, service.url)
    with trio.fail_after(30):
        shown = await service.client.get(f"/api/generations/{gid}", headers=auth())
    return gid, status, sorted(f["path"] for f in shown.json()["files"])
