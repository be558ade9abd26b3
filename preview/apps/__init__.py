"""What an upload is and how to start it: where its app is made (``pyapp``) and served
(``served``), the command
and set-up steps detected from its files (``detect``), what it depends on (``depspec``,
with Poetry's constraints in ``poetry``) and what one launch decided (``spec``) from what its
caller asked (the options, checked there).

Nothing here runs the upload's code or touches a process: it reads files. The builds,
the sandbox and the runtime act on what it decides.
"""

from .depspec import NodeDeps, PythonDeps, import_roots, node_dependencies, python_dependencies
from .detect import Detection, detect, nearest, python_files
from .spec import LaunchSpec

__all__ = [
    "Detection",
    "LaunchSpec",
    "NodeDeps",
    "PythonDeps",
    "detect",
    "import_roots",
    "nearest",
    "node_dependencies",
    "python_dependencies",
    "python_files",
]
