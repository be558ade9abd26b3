"""The package that lets an app import its own folder by name: :func:`own_name_packages`.

An upload that is the inside of a folder its code imports by name (``from backend.web.apis
import todo``, its author running it from the folder above: :func:`..imports.own_folder_names`)
finds no ``backend`` on its path. For each such name a package is written in
:data:`OWN_NAMES_DIR`, a folder of the app's directory the build puts on ``PYTHONPATH``,
whose ``__path__`` is the app's directory: ``backend.web.apis`` is then ``web/apis``, the
same files, and every import the app writes both ways resolves (a link to the directory
itself would be a loop for whatever walks it).
"""

from __future__ import annotations

from ..imports import own_folder_names

__all__ = ["OWN_NAMES_DIR", "own_name_packages"]

OWN_NAMES_DIR = ".preview-own-names"
_PACKAGE = b'''"""The app's own folder, imported by its name: written by the preview."""

import os

__path__ = [os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))]
'''


def own_name_packages(files: dict[str, bytes]) -> dict[str, bytes]:
    """``{path: content}`` of the packages to write (module doc); {} where the upload
    imports no folder of its own by name."""
    return {f"{OWN_NAMES_DIR}/{name}/__init__.py": _PACKAGE for name in own_folder_names(files)}
