"""The docs stay true to the code (issue 63, items 12 and 14): the API's route table is the
OpenAPI document's, the architecture names every package of ``preview/`` and no other, the
embedding snippet runs as written, every link between the pages leads somewhere, and no
prose line is wider than a reader's screen."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from preview.api.openapi import openapi_document

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), ROOT / "benchmarks" / "README.md"]
# Moved verbatim (its lines as they were written), but its links must still lead somewhere.
HISTORY = ROOT / "benchmarks" / "HISTORY.md"
# Written before these rules, and an audit's record: kept as it was written.
AS_WRITTEN = {DOCS / "escapes-audit.md"}
_PROXY = "/api/generations/{gid}/preview/proxy/{path}"
_HTTP = ("get", "put", "post", "delete", "patch", "head", "options")
MAX_PROSE = 120


def _read(page: Path) -> str:
    return page.read_text()


def _api_table() -> set[tuple[str, str]]:
    """(method, path) of each route docs/api.md's table names; the proxy's row, any method."""
    text = _read(DOCS / "api.md")
    start = text.index("| method and path | does |")
    rows = text[start : text.index("\n\n", start)].splitlines()[2:]
    said: set[tuple[str, str]] = set()
    for row in rows:
        first = row[2:].split(" | ", 1)[0]
        last = ""
        for method, path in re.findall(r"`(?:([A-Z]+) )?([^`]+)`", first):
            path = path.replace("…", "/api/generations/{gid}")
            if method:
                last = method.lower()
                said.add((last, path))
            elif path == _PROXY:
                said.update((each, path) for each in _HTTP)
            else:  # "(also `…/x`)": the method of the one before
                said.add((last, path))
    return said


def test_the_api_table_is_the_openapi_documents_both_ways() -> None:
    document = openapi_document()
    described = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in _HTTP
    }
    table = _api_table()
    assert described - table == set(), "in /api/openapi.json, not in docs/api.md"
    assert table - described == set(), "in docs/api.md, not in /api/openapi.json"


def _packages_on_disk() -> set[str]:
    return {
        init.parent.relative_to(ROOT).as_posix() + "/"
        for init in (ROOT / "preview").rglob("__init__.py")
        if init.parent != ROOT / "preview" and "versions" not in init.parent.parts
    }


def test_the_architecture_names_every_package_and_no_other() -> None:
    text = _read(DOCS / "architecture.md")
    table = set(re.findall(r"^\| `(preview/[a-z_/]+/)` \|", text, flags=re.M))
    on_disk = _packages_on_disk()
    assert on_disk - table == set(), "packages docs/architecture.md's table leaves out"
    # Every directory of preview/ it names anywhere exists (static/ too: not a package).
    named = set(re.findall(r"`(preview/[a-z_/]+/)`", text)) | table
    missing = {each for each in named if not (ROOT / each).is_dir()}
    assert missing == set(), "named in docs/architecture.md, not in the tree"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


def test_the_embedding_snippet_runs_as_written(tmp_path: Path) -> None:
    (snippet,) = _python_blocks(_read(DOCS / "embedding.md"))
    compile(snippet, "docs/embedding.md", "exec")  # as written
    # Run with a data dir of the test's own: the one thing an embedder changes.
    assert snippet.count('Path("/var/lib/preview")') == 1
    runnable = snippet.replace('Path("/var/lib/preview")', f"Path({str(tmp_path)!r})")
    scope: dict = {}
    exec(compile(runnable, "docs/embedding.md", "exec"), scope)  # our own doc's snippet
    app = scope["app"]
    assert callable(app) and any(rule.rule == "/api/health" for rule in app.url_map.iter_rules())


def _embedding_host():
    path = ROOT / "examples" / "embedding" / "host.py"
    spec = importlib.util.spec_from_file_location("embedding_host_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("embedding_host_docs", module)
    spec.loader.exec_module(module)
    return module


def test_the_embedding_host_takes_its_bind_address() -> None:
    host = _embedding_host()
    assert host.bind_address([], {}) == "127.0.0.1:8080"
    assert host.bind_address([], {"HOST_BIND": "0.0.0.0:9000"}) == "0.0.0.0:9000"
    given = ["--bind", "127.0.0.1:9001"]
    assert host.bind_address(given, {"HOST_BIND": "0.0.0.0:9000"}) == "127.0.0.1:9001"
    said = _read(DOCS / "embedding.md")
    assert "--bind" in said and "HOST_BIND" in said


def _anchors(text: str) -> set[str]:
    """GitHub's anchors of a page's headings."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize(
    "page", [*PAGES, HISTORY], ids=lambda page: page.relative_to(ROOT).as_posix()
)
def test_every_link_leads_somewhere(page: Path) -> None:
    text = _read(page)
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # code is not linked
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # another site's
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        known = linked.exists() and (
            not anchor or linked.suffix != ".md" or anchor in _anchors(_read(linked))
        )
        if not known:
            broken.append(target)
    assert broken == [], broken


@pytest.mark.parametrize(
    "page",
    [page for page in PAGES if page not in AS_WRITTEN],
    ids=lambda page: page.relative_to(ROOT).as_posix(),
)
def test_no_prose_line_is_wider_than_a_screen(page: Path) -> None:
    """Tables, code blocks and the generated results aside (a row is one line; code is as
    it runs; ``python -m benchmarks --readme`` writes its table between markers)."""
    wide, fenced, generated = [], False, False
    for number, line in enumerate(_read(page).splitlines(), 1):
        if line.startswith(("<!-- results:start -->", "<!-- results:end -->")):
            generated = line.startswith("<!-- results:start")
            continue
        if generated:
            continue
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.lstrip().startswith("|"):
            continue
        if len(line) > MAX_PROSE:
            wide.append(number)
    assert wide == [], f"{page.name}: lines {wide} are wider than {MAX_PROSE}"


def test_the_readme_is_a_first_page() -> None:
    readme = _read(ROOT / "README.md")
    assert len(readme.splitlines()) <= 300
    for page in ("api", "operating", "security", "real-apps", "troubleshooting", "architecture"):
        assert f"(docs/{page}.md)" in readme, page
        assert f"({page}.md)" in _read(DOCS / "README.md"), page
    assert "escapes-audit.md" in _read(DOCS / "README.md")


def test_the_benchmarks_page_is_short_and_its_history_kept() -> None:
    page = _read(ROOT / "benchmarks" / "README.md")
    assert len(page.splitlines()) <= 300
    assert "<!-- results:start -->" in page and "<!-- results:end -->" in page
    assert "HISTORY.md" in page
    assert (ROOT / "benchmarks" / "HISTORY.md").is_file()
