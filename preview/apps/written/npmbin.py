"""A Node app's package.json scripts that call ``npm bin``, which npm 9 removed, written
again with what it printed: :func:`npm_bin_scripts`.

``$(npm bin)/typeorm`` was an old script's way to its own tools (npm 8 and before printed
the package's ``node_modules/.bin``). The npm here says ``Unknown command: "bin"`` on its
standard output, which the shell then puts in the command: b0ntenmaru's express-ddd runs
``npm run ts-node $(npm bin)/typeorm migration:run``, which became ``ts-node Unknown
command: "bin" …/typeorm``, "Cannot find module 'Unknown'", its migrations never run.
Each script's ``$(npm bin)`` (or a backquoted ``npm bin``; not ``npm bin -g``, the
global folder) becomes ``$(npm prefix)/node_modules/.bin``, what it printed: the
package's folder, found as npm found it, from where the script runs.
"""

from __future__ import annotations

import json
import re

__all__ = ["npm_bin_scripts"]

_NPM_BIN = re.compile(r"\$\(\s*npm\s+bin\s*\)|`\s*npm\s+bin\s*`")
_PACKAGE_BIN = "$(npm prefix)/node_modules/.bin"


def npm_bin_scripts(files: dict[str, bytes]) -> dict[str, bytes]:
    """``{"package.json": its text with the scripts' npm bin replaced}`` where a script of
    the upload's root package.json calls it (see the module doc); else ``{}``."""
    try:
        package = json.loads(files.get("package.json", b""))
    except ValueError:
        return {}
    scripts = package.get("scripts") if isinstance(package, dict) else None
    if not isinstance(scripts, dict):
        return {}
    changed = {
        name: _NPM_BIN.sub(_PACKAGE_BIN, script)
        for name, script in scripts.items()
        if isinstance(script, str) and _NPM_BIN.search(script)
    }
    if not changed:
        return {}
    package["scripts"] = {**scripts, **changed}
    return {"package.json": (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode()}
