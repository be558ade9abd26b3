"""A Python Procfile line run through its project's environment manager (``pipenv run
gunicorn …``): :func:`without_env_runner`. The preview's environment is built already and
those managers are not installed in it, so the line runs what they would."""

from __future__ import annotations

import re
import tomllib

__all__ = ["without_env_runner"]

_ENV_RUNNER = re.compile(r"(^|&&|\|\||;)(\s*)(?:pipenv|poetry|uv|pdm)\s+run\s+(?:--\S+\s+)*(\S+)")


def without_env_runner(line: str, files: dict[str, bytes]) -> str:
    """``line`` (a Python Procfile's) with each ``pipenv run X``/``poetry run X``/``uv run
    X``/``pdm run X`` run as ``X``, a script of the Pipfile's ``[scripts]`` or
    pyproject.toml's ``[tool.pdm.scripts]`` named ``X`` as its command."""
    scripts = _project_scripts(files)

    return _ENV_RUNNER.sub(lambda m: m[1] + m[2] + scripts.get(m[3], m[3]), line)


def _project_scripts(files: dict[str, bytes]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path, keys in (("pyproject.toml", ("tool", "pdm", "scripts")), ("Pipfile", ("scripts",))):
        try:
            table = tomllib.loads(files.get(path, b"").decode("utf-8", "replace"))
        except (tomllib.TOMLDecodeError, RecursionError):  # tomllib recurses per level
            continue
        for key in keys:
            table = table.get(key) if isinstance(table, dict) else None
        for name, value in (table or {}).items():
            value = value.get("cmd") if isinstance(value, dict) else value
            if isinstance(value, str) and value.strip():
                found[name] = value.strip()
    return found
