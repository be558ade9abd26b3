"""The log files an app's code writes into a folder the upload lacks: :func:`log_files`
(read with :mod:`ast`, never run).

A logging ``FileHandler`` (``RotatingFileHandler``, ``TimedRotatingFileHandler``,
``WatchedFileHandler`` …) opens its file when it is configured, and fails when the folder
is missing: Django's ``LOGGING`` with ``'filename': os.path.join(BASE_DIR,
'logs/django_error.log')`` dies on "Unable to configure handler 'error_file'" before any
``manage.py`` command runs, where its author's checkout had the folder (its log files
.gitignored, the folder with them). Such a file, written empty before the app starts,
makes the folder the handler expects; the handler appends to it.

Read: a dict with a ``"class"`` naming a file handler and its ``"filename"``, and a call of
a file handler class with the file first; the file's path made of string constants,
``__file__``, ``os.path.join``/``dirname``/``abspath``, ``pathlib.Path`` with ``/``,
``.parent`` and ``.resolve()``, and the module-level names (``BASE_DIR``) any module of
the upload binds so. A relative path is the app's working directory's.
"""

from __future__ import annotations

import ast
import posixpath

from ...discovery.pyast import last_name
from ..pyapp import parse_module, python_files

__all__ = [
    "absolute_log_folders",
    "bound_names",
    "log_file_names",
    "log_files",
    "module_names",
    "path_of",
]

_HANDLERS = ("FileHandler",)  # the end of each file handler class's name
_PATH_CALLS = {"abspath", "realpath", "normpath", "Path", "PurePath", "PosixPath", "str"}
_PATH_METHODS = {"resolve", "absolute"}


def log_files(files: dict[str, bytes], workdir: str = "") -> list[str]:
    """The upload's paths (relative to its root) of the log files its code opens in a
    folder it does not have; ``workdir``: where the app runs, in the upload."""
    trees = {
        path: tree
        for path in python_files(files)
        if b"FileHandler" in files[path] and (tree := parse_module(files[path])) is not None
    }
    if not trees:
        return []
    bound = bound_names(files)
    found: list[str] = []
    for path, tree in trees.items():
        for expression in _handler_files(tree):
            target = path_of(expression, path, bound)
            if target is None:
                continue
            # (one made from __file__ is the upload's root's: "/…"; another, the workdir's)
            target = posixpath.normpath(posixpath.join("/" + workdir, target))[1:]
            folder = posixpath.dirname(target)
            if not folder or _has_folder(files, folder):
                continue
            if target not in found:
                found.append(target)
    return found


def absolute_log_folders(files: dict[str, bytes]) -> list[str]:
    """The absolute folders (outside ``/tmp``, a sandbox's own) of the log files the app's
    Python code opens by absolute path, in order, once each: a container's root is its to
    write in (quangnh-ai's fastapi-assignment: ``TimedRotatingFileHandler('/logs/{}-{}
    .log'.format(…))``, its compose file binding ``./logs/api:/logs/``; "No such file or
    directory: '/logs/…'" at import). The path's constant beginning is read, up to its
    first placeholder (``.format``'s, an f-string's, ``%``'s)."""
    found: list[str] = []
    for path in python_files(files):
        if b"FileHandler" not in files[path] or (tree := parse_module(files[path])) is None:
            continue
        for expression in _handler_files(tree):
            beginning = _absolute_beginning(expression)
            folder = posixpath.normpath(posixpath.dirname(beginning)) if beginning else "/"
            if folder not in ("/", "/tmp") and not folder.startswith("/tmp/"):
                found.append(folder)
    return list(dict.fromkeys(found))


def _absolute_beginning(node: ast.expr) -> str | None:
    """The constant text an absolute path expression begins with (module doc of
    :func:`absolute_log_folders`); None where it begins otherwise."""
    text: str | None = None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        inner = node.func.value
        if node.func.attr == "format" and isinstance(inner, ast.Constant):
            text = inner.value if isinstance(inner.value, str) else None
            text = text.split("{", 1)[0] if text is not None else None
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = node.left
        if isinstance(left, ast.Constant) and isinstance(left.value, str):
            text = left.value.split("%", 1)[0]
    elif isinstance(node, ast.JoinedStr):
        leading = []
        for value in node.values:
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                break
            leading.append(value.value)
        text = "".join(leading)
    return text if text is not None and text.startswith("/") and "\0" not in text else None


def log_file_names(files: dict[str, bytes]) -> set[str]:
    """The names (a constant's, a setting's: ``PATH_FOR_LOG``, ``config.LOG_FILE``) whose
    value the app's code opens a file handler on as it is: a log file's path, whatever
    the name says."""
    found: set[str] = set()
    for path in python_files(files):
        if b"FileHandler" not in files[path] or (tree := parse_module(files[path])) is None:
            continue
        for node in _handler_files(tree):
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.Attribute):
                found.add(node.attr)
    return found


def _has_folder(files: dict[str, bytes], folder: str) -> bool:
    return any(p.startswith(folder + "/") for p in files)


def _handler_files(tree: ast.Module) -> list[ast.expr]:
    """The file expressions of the file handlers ``tree`` configures (module doc)."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            entries = {
                k.value: v
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
            kind = entries.get("class")
            if (
                isinstance(kind, ast.Constant)
                and isinstance(kind.value, str)
                and kind.value.endswith(_HANDLERS)
                and "filename" in entries
            ):
                found.append(entries["filename"])
        elif isinstance(node, ast.Call) and (last_name(node.func) or "").endswith(_HANDLERS):
            first = node.args[0] if node.args else None
            first = next((k.value for k in node.keywords if k.arg == "filename"), first)
            if first is not None:
                found.append(first)
    return found


def bound_names(files: dict[str, bytes]) -> dict[str, tuple[ast.expr, str]]:
    """Module-level ``NAME = <expression>`` of the modules that bind a path-like name
    (``BASE_DIR``, ``LOG_DIR``), with the module each is bound in; the first met wins."""
    bound: dict[str, tuple[ast.expr, str]] = {}
    for path in python_files(files):
        if b"_DIR" not in files[path] and b"ROOT" not in files[path]:
            continue
        tree = parse_module(files[path])
        if tree is not None:
            bound = {**module_names(tree, path), **bound}  # the first met wins
    return bound


def module_names(tree: ast.Module, module: str) -> dict[str, tuple[ast.expr, str]]:
    """The module's own ``NAME = <expression>`` at its top level (``BASEDIR = …``, also
    annotated) and in its classes' bodies (a settings class's ``certs_path: Path = …``,
    read by the next field), the first binding of each, with the module; and its
    functions that return the working directory (:func:`_returns_working_dir`), by
    ``name()``."""
    names: dict[str, tuple[ast.expr, str]] = {}
    for node in tree.body:
        for bound in node.body if isinstance(node, ast.ClassDef) else [node]:
            if isinstance(bound, ast.FunctionDef) and _returns_working_dir(bound):
                names.setdefault(f"{bound.name}()", (_WORKING_DIR, module))
            target = _bound_name(bound)
            if target is not None:
                names.setdefault(target[0], (target[1], module))
    return names


def _bound_name(node: ast.stmt) -> tuple[str, ast.expr] | None:
    """``NAME = <expression>`` or ``NAME: type = <expression>``: the name and the value."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    else:
        return None
    return (target.id, value) if isinstance(target, ast.Name) else None


# ``Path.cwd()``, ``os.getcwd()``: the working directory, where a preview runs the app.
_WORKING_DIR_CALLS = {"cwd", "getcwd"}
_WORKING_DIR = ast.Constant(value="")


def _returns_working_dir(function: ast.FunctionDef) -> bool:
    """Whether ``function`` (taking no argument it needs) makes its result from the
    working directory and not from its module's file: csmqbusy's fastapi-personal-finances'
    ``get_correct_cwd()`` (``Path.cwd()``, its parent where run from ``app/``), from which
    its settings name ``certs/private_key.pem``."""
    arguments = function.args
    if len(arguments.args) > len(arguments.defaults) or arguments.kwonlyargs:
        return False
    calls = {last_name(n.func) for n in ast.walk(function) if isinstance(n, ast.Call)}
    names = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
    return bool(calls & _WORKING_DIR_CALLS) and "__file__" not in names


def path_of(
    node: ast.expr, module: str, bound: dict[str, tuple[ast.expr, str]], depth: int = 0
) -> str | None:
    """The path ``node`` makes in ``module`` (module doc): from the upload's root
    (``/api/logs``) where it is made from ``__file__``, else relative; None where it
    cannot be read without running the code, or names a place outside the upload
    (``/var/log/app.log``)."""
    if depth > 20:
        return None
    again = lambda inner, where=module: path_of(inner, where, bound, depth + 1)  # noqa: E731
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return None if node.value.startswith("/") else node.value
    if isinstance(node, ast.Name):
        if node.id == "__file__":
            return "/" + module
        if node.id in bound:
            value, where = bound[node.id]
            return again(value, where)
        return None
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = again(node.value)
        return posixpath.dirname(inner) if inner is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = again(node.left), again(node.right)
        return posixpath.join(left, right) if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                value = value.value
            part = again(value)
            if part is None:
                return None
            parts.append(part)
        return "".join(parts)
    if not isinstance(node, ast.Call):
        return None
    name = last_name(node.func) or ""
    if name in _WORKING_DIR_CALLS and not node.args:
        return ""
    if isinstance(node.func, ast.Name) and f"{name}()" in bound:
        value, where = bound[f"{name}()"]
        return again(value, where)
    if name in _PATH_METHODS and isinstance(node.func, ast.Attribute) and not node.args:
        return again(node.func.value)
    if name == "dirname" and len(node.args) == 1:
        inner = again(node.args[0])
        return posixpath.dirname(inner) if inner is not None else None
    if name in _PATH_CALLS and len(node.args) == 1:
        return again(node.args[0])
    if name in ("join", "joinpath") and node.args:
        parts = [again(a) for a in node.args]
        if name == "joinpath" and isinstance(node.func, ast.Attribute):
            parts.insert(0, again(node.func.value))
        if any(p is None for p in parts):
            return None
        return posixpath.join(*[p for p in parts if p is not None])
    return None
