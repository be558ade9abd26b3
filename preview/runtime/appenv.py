"""The environment an app (and its set-up steps) runs with: :func:`app_environment`.

From the bottom up: the scrubbed base of :func:`~.process.child_environment` (nothing of
the service's own), the upload's ``.env`` file (parsed by python-dotenv, not executed),
then the ``env`` launch option. The service then adds only what the app needs from it:
``PORT`` and ``HOST`` (where it must listen) and, when neither the user nor the app set
one, ``DATABASE_URL`` for the preview's own throwaway SQLite file.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from dotenv import dotenv_values

from .process import child_environment

if TYPE_CHECKING:
    from .lifecycle import PreviewRuntime

__all__ = ["app_environment", "dotenv_file"]

_OURS = ("PORT", "HOST")


def dotenv_file(files: dict[str, bytes]) -> dict[str, str]:
    """The upload's ``.env`` variables (those with a value)."""
    data = files.get(".env")
    if data is None:
        return {}
    values = dotenv_values(stream=io.StringIO(data.decode("utf-8", "replace")))
    return {k: v for k, v in values.items() if v is not None and "\x00" not in k + v}


def app_environment(runtime: PreviewRuntime, python: str) -> dict[str, str]:
    spec = runtime.spec
    base = child_environment(cwd=runtime.temp_dir, port=spec.port, python=python)
    database_url = base.pop("DATABASE_URL", None)
    given = {**dotenv_file(spec.files), **spec.extra}
    env = {**base, **{k: v for k, v in given.items() if k not in _OURS}}
    env.update({k: base[k] for k in _OURS})
    for name, value in runtime.preparation.database_env.items():
        env.setdefault(name, value)
    if database_url is not None and "DATABASE_URL" not in given:
        env.setdefault("DATABASE_URL", database_url)
    detection = spec.detection
    if detection is not None and detection.language == "node" and "NODE_OPTIONS" not in given:
        # The address-space limit is lifted for V8 (Preparation.memory_limit): bound its heap.
        env["NODE_OPTIONS"] = f"--max-old-space-size={runtime.settings.memory_limit_mb}"
    return env
