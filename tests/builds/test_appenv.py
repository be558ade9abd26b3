"""What an app's environment holds: the modules its installed distributions provide
(builds.appenv)."""

from __future__ import annotations

import sys
from pathlib import Path

from preview.apps.imports import source_roots
from preview.builds.appenv import _installed_modules


def test_what_an_environment_installs_counts_with_its_dependencies_own() -> None:
    # The service's own environment: trio came with no line of the project's asking.
    installed = _installed_modules(Path(sys.prefix))
    assert {"trio", "h11", "sniffio", "quart-trio"} <= installed
    assert not any(name.endswith(("dist-info", "egg-info")) for name in installed)
    # A module the project has by a name installed that way is the installed one.
    files = {"proj/tasks.py": b"import sniffio\n", "proj/sniffio.py": b"", "app.py": b""}
    assert source_roots(files, set()) == ["proj"]
    assert source_roots(files, installed) == []
    assert _installed_modules(Path("/nonexistent")) == set()
