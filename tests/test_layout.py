"""The package's layout, read from its source with ``ast`` (nothing is imported).

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``
alike, since each is a dependency a reader must know. Importing ``a.b.c`` runs
``a/b/__init__`` too, so it counts as importing that package's face as well (the root
``preview/__init__`` excepted: it is the embedding face, above everything).
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "preview"

# Top to bottom; a part imports only parts below it (or itself). Parts on one line are
# side by side and import none of each other.
LAYERS: list[set[str]] = [
    {"__main__"},
    {"cli"},
    {"serving"},
    {"app"},
    {"transport"},
    {"api", "history", "sharing"},
    {"proxy"},
    {"services"},
    {"snapshots"},
    {"runtime"},
    {"builds"},
    {"backing"},
    {"sandbox"},
    {"apps"},
    {"cluster"},  # the live tail carries the log's events
    {"logs", "discovery", "generations"},
    {"client"},
    {"migrations"},
    {"store"},
    {"seams"},
    {
        "settings",
        "settingsrules",
        "uploadpaths",
        "secretfile",
        "errors",
        "auth",
        "previewtokens",
        "clock",
        "cache",
        "metrics",
    },
]
# No line count per module: a module ends where its concept ends (trio/_core/_run.py is
# long and one thing); a count only invited code packed to fit it.
MAX_PACKAGE_MODULES = 14  # sandbox: 13, each one part (socketsdir: where its sockets fit)


def _python_files(package: Path) -> list[Path]:
    """The package's .py files; hidden folders not entered: benchmarks/realapps/.corpus
    holds the corpus's apps (thousands of third-party files, made and removed while a
    corpus run goes on: the walk failed on one gone, after half a minute)."""
    files = []
    for folder, folders, names in os.walk(package):
        folders[:] = [name for name in folders if not name.startswith(".")]
        files += [Path(folder) / name for name in names if name.endswith(".py")]
    return files


def _modules(package: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in _python_files(package):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of this package that ``name`` imports, with the packages whose
    ``__init__`` that runs."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
    found: set[str] = set()
    root = name.partition(".")[0]
    for target in targets:
        if target.partition(".")[0] != root:
            continue
        while target not in modules:
            target = target.rpartition(".")[0]
        found.add(target)
        parent = target.rpartition(".")[0]
        while parent and parent != root:  # its packages' faces run first, unless
            if not name.startswith(parent + "."):  # the importer is inside: it ran
                found.add(parent)
            parent = parent.rpartition(".")[0]
    found.discard(name)
    found.discard(root)
    return found


def _graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = _modules(package)
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(part: str) -> int:
    for index, layer in enumerate(LAYERS):
        if part in layer:
            return index
    raise AssertionError(f"preview.{part} is in no layer of tests/test_layout.py: place it")


@pytest.mark.parametrize("package", [PACKAGE, PACKAGE.parent / "benchmarks"], ids=lambda p: p.name)
def test_no_import_circle_type_checking_ones_included(package: Path) -> None:
    graph = _graph(package)
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in path:
            circle = [*path[path.index(module) :], module]
            raise AssertionError("import circle: " + " -> ".join(circle))
        if module in done:
            return
        path.append(module)
        for target in sorted(graph[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_parts_import_only_downward() -> None:
    upward = []
    for module, targets in _graph().items():
        part = _part(module)
        if not part:
            continue
        for target in targets:
            other = _part(target)
            if other == part or (_layer(other) == _layer(part) == len(LAYERS) - 1):
                continue  # the leaf modules import one another
            if _layer(other) <= _layer(part):
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_every_package_has_a_face_and_a_size_a_reader_can_hold() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        if init.parent.name == "versions":
            continue
        tree = ast.parse(init.read_text())
        names = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        assert "__all__" in names, f"{init.relative_to(PACKAGE.parent)} has no __all__"
        modules = [p for p in init.parent.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= MAX_PACKAGE_MODULES, f"{init.parent.name}: {len(modules)} modules"


def test_no_mixins_a_class_is_one_file() -> None:
    """A class of the package derives from none of the package's own classes defined
    elsewhere for the sake of splitting it (exceptions, protocols and dataclasses of a
    family excepted: they are kinds, not parts)."""
    own = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                own.setdefault(node.name, path)
    split = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            for base in node.bases:
                name = base.id if isinstance(base, ast.Name) else None
                if name in own and own[name] != path and not _is_kind(name, own[name]):
                    split.append(f"{node.name}({name})")
    assert split == []


def _is_kind(name: str, path: Path) -> bool:
    """An exception, a protocol, or a base meant to be derived from."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef) and node.name == name:
            bases = {ast.unparse(base) for base in node.bases}
            if name.endswith(("Error", "Exception", "Failed")) or bases & {
                "Exception",
                "Protocol",
                "RuntimeError",
            }:
                return True
            return any(
                isinstance(item, ast.FunctionDef)
                and any(ast.unparse(d).endswith("abstractmethod") for d in item.decorator_list)
                for item in node.body
            )
    return False


# What reaching past a library's public API looks like in source: a private module of it
# imported, a private attribute of its objects read or set (the ones the seams name).
_PRIVATE_USES = ("._pool", "._reader_task", "._writers", "._readers", "._backends")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")  # __future__ is public


def test_other_libraries_internals_are_reached_only_through_the_seams() -> None:
    """preview.seams holds every use of another library's internals, each pinned by a
    test in tests/seams (issue 65, item 3)."""
    outside: list[str] = []
    for name, path in _modules().items():
        if name == "preview.seams" or name.startswith("preview.seams."):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                private = any(_private(part) for part in node.module.split("."))
            elif isinstance(node, ast.Import):
                private = any(
                    _private(part) for alias in node.names for part in alias.name.split(".")
                )
            elif isinstance(node, ast.Attribute):  # another object's (not self's own)
                owner = node.value.id if isinstance(node.value, ast.Name) else ""
                private = f".{node.attr}" in _PRIVATE_USES and owner not in ("self", "cls")
            else:
                continue
            if private:
                outside.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert outside == [], outside


def test_python_is_parsed_in_one_place() -> None:
    """Every parse of an upload's Python goes through discovery.pyast.parse_source, which
    survives CPython 3.11's AST race (a bare ``ast.parse`` in a reader failed a held-out
    app's launch with "the service failed to run it")."""
    bare: list[str] = []
    for name, path in _modules().items():
        if name == "preview.discovery.pyast":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "parse"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "ast"
            ):
                bare.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert bare == [], bare


TESTS = PACKAGE.parent / "tests"


def test_tests_mirror_the_packages_and_are_named_after_what_they_pin() -> None:
    """A test folder is a package's (fixtures aside) and a test module is named after
    what it pins, never after the round or batch of apps that found it (issue 65, item
    8: tests/runtime once held nine ``test_batch<N>_shapes.py`` files testing apps,
    builds, backing and sandbox alike, where no reader looking for a rule's tests looks)."""
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert folders - {"fixtures"} <= {p.name for p in PACKAGE.iterdir() if p.is_dir()}
    batch_named = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("test_*.py")
        if "fixtures" not in path.parts and re.search(r"batch\d|round\d|heldout", path.stem)
    ]
    assert batch_named == []
