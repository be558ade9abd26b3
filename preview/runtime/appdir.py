"""A preview's own directory on the host, and what its sandbox may read besides."""

from __future__ import annotations

from pathlib import Path

__all__ = ["app_read_only", "write_files"]


def app_read_only(built: Path | None, python: str) -> tuple[Path, ...]:
    """What the app needs besides the system, read-only: its own environment (a venv or
    node_modules' home) and the installation of the interpreter that venv points to."""
    paths = [built] if built is not None else []
    interpreter = Path(python).resolve()
    if interpreter.is_file() and interpreter.parent.name == "bin":
        home = interpreter.parent.parent
        if home not in (Path("/"), Path("/usr")):
            paths.append(home)
    return tuple(paths)


def write_files(root: Path, files: dict[str, bytes]) -> None:
    root.mkdir(parents=True, exist_ok=False)
    (root / ".tmp").mkdir()
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
