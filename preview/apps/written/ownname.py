"""The package that lets an app import its own folder by name: :func:`own_name_packages`.

An upload that is the inside of a folder its code imports by name (``from backend.web.apis
import todo``, its author running it from the folder above: :func:`..imports.own_folder_names`)
finds no ``backend`` on its path. For each such name a package is written in
:data:`OWN_NAMES_DIR`, a folder of the app's directory the build puts on ``PYTHONPATH``,
whose ``__path__`` is the app's directory: ``backend.web.apis`` is then ``web/apis``, the
same files, and every import the app writes both ways resolves (a link to the directory
itself would be a loop for whatever walks it). Where the upload is a package itself (an
``__init__.py`` at its root that makes the app, imported by its name:
:func:`..pyapp.root_package_name`), the package runs that ``__init__.py`` as its own.
"""

from __future__ import annotations

from ..imports import own_folder_names
from ..pyapp import ROOT_PACKAGE, root_package_name
from .instancefiles import instance_files

__all__ = ["OWN_NAMES_DIR", "own_name_packages"]

OWN_NAMES_DIR = ".preview-own-names"
_PACKAGE = b'''"""The app's own folder, imported by its name: written by the preview."""

import os

__path__ = [os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))]
'''


# The package a package upload imports itself by (``pyapp.root_package_name``): the
# root's own ``__init__.py`` run as its body, as importing the folder by its name would
# (its ``app``, ``db``), with its ``__file__`` (Flask finds its templates beside it).
_ROOT_PACKAGE = (
    _PACKAGE
    + b"""__file__ = os.path.join(__path__[0], "__init__.py")
with open(__file__, encoding="utf-8") as _init:
    exec(compile(_init.read(), __file__, "exec"))
"""
)


def own_name_packages(files: dict[str, bytes]) -> dict[str, bytes]:
    """``{path: content}`` of the packages to write (module doc); {} where the upload
    imports no folder of its own by name."""
    package = root_package_name(files)
    # A folder the service writes for the app (Flask's instance/, its settings kept out of
    # the repository) is that folder, not the app's own under another name: luke-grammer's
    # secure-login-flask-site's ``from instance.config import PASSWORD_SALT`` read its
    # root config.py through such a package ("cannot import name 'PASSWORD_SALT'").
    written = {target.split("/")[0] for target in instance_files(files) if "/" in target}
    # The name the service imports a root of relative imports by (pyapp.ROOT_PACKAGE) is the
    # package too where the root has an __init__.py of its own: hasankhaan107's
    # Basic-Flask-CRUD makes its create_app there, and its app.py's ``from . import
    # create_app`` met an empty package ("cannot import name 'create_app'").
    package = package or (ROOT_PACKAGE if "__init__.py" in files else None)
    return {
        f"{OWN_NAMES_DIR}/{name}/__init__.py": _ROOT_PACKAGE if name == package else _PACKAGE
        for name in own_folder_names(files) - written
    }
