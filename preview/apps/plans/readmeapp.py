"""A library's app, made as its README's example makes it: :func:`readme_app`.

An upload that is a package for other apps (a FastAPI router, its settings, its
storage) makes no app of its own; its README shows one, the way its users are meant to
run it (MukievMukhammad's fastapi-email-auth: ``app = FastAPI()`` then
``app.include_router(router, prefix="/auth")`` with ``from fastapi_email_auth import
router``, its package under ``src/``). That example, importing the upload's own package,
is what is served: its code run by ``python -c``, the package's folder on its import
path, its app served by uvicorn on the preview's port. Its own start
(``uvicorn.run(app, port=8000)``, an ``if __name__ == "__main__":`` block) is left out.
Read, never run, here.
"""

from __future__ import annotations

import ast
import posixpath
import re

from ..pyapp import FoundApp, made_app, parse_module
from .declared import README_NAMES

__all__ = ["ReadmeApp", "readme_app"]

# A fenced block of Python (or of no language said) in a Markdown README.
_BLOCK = re.compile(r"^```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Not the upload's own package: where a package of that name is its tests or examples.
_NOT_OWN = frozenset({"tests", "test", "examples", "example", "docs"})


class ReadmeApp:
    """The README's example app: its start (a template) and what it is."""

    def __init__(self, argv: tuple[str, ...], readme: str, found: FoundApp) -> None:
        self.argv = argv
        self.readme = readme
        self.framework = found.framework


def readme_app(files: dict[str, bytes]) -> ReadmeApp | None:
    """The first ASGI app a fenced Python block of the README makes from the upload's own
    package, served by uvicorn; None where there is none."""
    path = next((name for name in README_NAMES if name in files), None)
    if path is None:
        return None
    text = files[path][:200_000].decode("utf-8", "replace").replace("\r\n", "\n")
    for match in _BLOCK.finditer(text):
        code = match.group(1)
        tree = parse_module(code.encode())
        if tree is None:
            continue
        roots = _own_roots(tree, files)
        if not roots:
            continue
        # One module: the app it makes is the one it serves (no other module adds to it).
        made = made_app({"readme_example.py": code.encode()})
        found = made[0] if made is not None else None
        if found is None or not found.asgi or found.factory:
            continue
        return ReadmeApp(_start(tree, found.attr, roots, path), path, found)
    return None


def _own_roots(tree: ast.Module, files: dict[str, bytes]) -> list[str]:
    """The folders the block's imports of the upload's own packages are found from ("":
    its root; ``src`` for a ``src/`` layout), where it imports one; [] where none."""
    roots: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and not statement.level and statement.module:
            names = [statement.module.split(".")[0]]
        elif isinstance(statement, ast.Import):
            names = [alias.name.split(".")[0] for alias in statement.names]
        else:
            continue
        for name in names:
            root = _package_root(name, files)
            if root is not None and root not in roots:
                roots.append(root)
    return roots


def _package_root(name: str, files: dict[str, bytes]) -> str | None:
    """The folder the package (or module) ``name`` of the upload is imported from, the
    nearest the root; None where the upload has none of that name."""
    found: list[str] = []
    for path in files:
        parts = path.split("/")
        if parts[-1] == "__init__.py" and len(parts) >= 2 and parts[-2] == name:
            found.append("/".join(parts[:-2]))
        elif parts[-1] == f"{name}.py":
            found.append("/".join(parts[:-1]))
    found = [f for f in found if not _NOT_OWN.intersection(f.split("/"))]
    return min(found, key=lambda f: (f.count("/") + bool(f), f)) if found else None


def _start(tree: ast.Module, attr: str, roots: list[str], readme: str) -> tuple[str, ...]:
    """``python -c`` running the block less its own start, then uvicorn serving its app
    on the port given as the first argument."""
    kept = [s for s in tree.body if not _starts(s)]
    program = "\n".join(
        [
            f"# the example app of {posixpath.basename(readme)}, served (a library's own)",
            "import sys",
            f"sys.path[:0] = {[r or '.' for r in roots]!r}",
            ast.unparse(ast.Module(body=kept, type_ignores=[])),
            "import uvicorn",
            f"uvicorn.run({attr}, host='127.0.0.1', port=int(sys.argv[1]))",
        ]
    )
    return ("{python}", "-c", program.replace("{", "{{").replace("}", "}}"), "{port}")


def _starts(statement: ast.stmt) -> bool:
    """An ``if __name__ == "__main__":`` block, or a server's run (``uvicorn.run(app)``)."""
    if isinstance(statement, ast.If):
        return "__main__" in ast.unparse(statement.test)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        return isinstance(func, ast.Attribute) and func.attr == "run"
    return False
