"""What to do about a module the app could not import: :func:`missing_module_hint`.

The hint follows ``ModuleNotFoundError: No module named 'x.y'`` in a failure's cause. It
reads the upload (its file names; a ``.gitignore``'s lines where its contents are given)
and the app's requirement lines, and says which of these it is:

* a module of the upload's own package that the package lacks (``app.answers`` where the
  upload's ``src/app/`` has no ``answers.py`` nor ``answers/``: renamed, never committed,
  or left out by a ``.gitignore``), with its nearest name where one is close (a typo);
* a module the upload holds elsewhere: not installed (a project of its own, to name as
  ``-e ./libs/common``) or not on the import path;
* a module nowhere in the upload that a ``.gitignore`` of it leaves out (``config.py``);
* a submodule Python's own library lacks in this version;
* a distribution the requirements list yet the interpreter lacks;
* else the distribution to add to them (``yaml``: PyYAML).
"""

from __future__ import annotations

import difflib
import fnmatch
import posixpath
import re
import sys
from collections.abc import Collection, Mapping

__all__ = ["gitignored_module", "gitignored_submodule", "missing_module_hint"]

_REQ_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REQ_COMMENT = re.compile(r"(?:^|\s)#.*")
# Import names whose distribution is called differently (what to tell the user to add).
_IMPORT_TO_DIST = dict(
    re.findall(
        r"(\S+)=(\S+)",
        """yaml=PyYAML PIL=Pillow cv2=opencv-python sklearn=scikit-learn bs4=beautifulsoup4
        dotenv=python-dotenv jwt=PyJWT jose=python-jose multipart=python-multipart attr=attrs
        dateutil=python-dateutil psycopg2=psycopg2-binary MySQLdb=mysqlclient Crypto=pycryptodome
        OpenSSL=pyOpenSSL magic=python-magic docx=python-docx slugify=python-slugify
        pkg_resources=setuptools""",
    )
)
# How alike a missing module's name and one its folder has are to be told as a typo
# (difflib's ratio: "shema"/"schema" 0.91; "answers"/"users", no typo, 0.67).
_TYPO = 0.8


def missing_module_hint(
    module: str,
    requirements: str | None,
    listed_in: str,
    upload: Collection[str] | Mapping[str, bytes],
) -> str:
    """The hint (" — …") for ``module``, which the app could not import (see the module
    doc). ``upload``: the upload's file names, or its files (then its ``.gitignore``
    files are read); ``requirements``: the lines of its dependency file ``listed_in``."""
    top = module.split(".")[0]
    absent = _absent_from_its_package(module, upload)
    if absent is not None:
        return absent
    dist = _IMPORT_TO_DIST.get(top, top)
    listed = _requirement_names(requirements) if requirements else {}
    # A module of a listed distribution (redis.asyncio), the upload having no package of
    # that name (its app/database/redis.py is a module: found first, it would have been
    # "not a package"): the release installed lacks it (jdht1992's fastapi-shipment pins
    # redis==4.0.0; asyncio came in 4.2).
    written = listed.get(_normalize(dist)) or listed.get(_normalize(top))
    if top != module and written is not None and not _folders_named(top, upload):
        if _added_by_the_service(written, listed_in, upload):
            # Not the app's listing: its own package of that name, left out of the upload
            # (Artem2335's projectFastapi imports app.users.router … and holds no app/:
            # the index's "app" 0.0.1 was installed for it, then "has no module").
            return (
                f" — the upload holds no {top}/ and {listed_in} lists no '{top}': the app's"
                f" own package {top} (its code imports {module}) was left out of the upload"
            )
        return (
            f" — the release of '{written}' ({listed_in}) installed has no module '{module}':"
            " the app's code was written for another release of it"
        )
    local = _in_upload_hint(module, upload, listed_in)
    if local is not None:
        return local
    if top in sys.stdlib_module_names and top != module:  # email.nonexistent: no package
        return f" — '{top}' is Python's own; it has no module '{module}' in this version"
    for candidate in (dist, top, module):
        written = listed.get(_normalize(candidate))
        if written is not None:
            return (
                f" — '{written}' is in {listed_in} but not installed"
                " for the preview interpreter (PREVIEW_PYTHON)"
            )
    ignored = gitignored_module(top, upload)
    if ignored is not None:  # an own module never uploaded, not a package (config.py)
        return f" — no {top}.py or {top}/ is in the upload ({ignored})"
    slip = _misspelt(top, listed)
    if slip is not None:
        meant, written = slip
        return (
            f" — '{top}' is one letter off '{meant}', the module of '{written}', which"
            f" {listed_in} lists: a misspelling in the app's own code"
        )
    return f" — add '{dist}' to {listed_in}"


def _misspelt(top: str, listed: Mapping[str, str]) -> tuple[str, str] | None:
    """The module of a listed distribution that ``top`` is one letter off (a letter
    dropped, added, changed or two swapped: bhagavathms' Metro-Flask-Backend imports
    ``flas_sqlalchemy``, Flask-SQLAlchemy listed), with that distribution as written; None
    where ``top`` is some distribution's module itself (known to the table) or none is
    that near."""
    if top in _IMPORT_TO_DIST or len(top) < 4:
        return None
    modules = {_normalize(d).replace("-", "_"): w for d, w in listed.items()}
    modules |= {
        m: listed[_normalize(d)] for m, d in _IMPORT_TO_DIST.items() if _normalize(d) in listed
    }
    for module, written in sorted(modules.items()):
        if module != top.lower() and _one_letter_off(top.lower(), module.lower()):
            return module, written
    return None


def _one_letter_off(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one letter dropped, added or changed, or two
    neighbours swapped."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        return len(diff) == 1 or (swapped and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def gitignored_module(name: str, upload: Collection[str] | Mapping[str, bytes]) -> str | None:
    """What says that a ``.gitignore`` of the upload leaves out a top-level module
    ``name`` (``config.py`` beside its app, whatever its folder: "left out by
    .gitignore's 'config.py'"); None where none does, or only the names are given. Such
    a module is the app's own, never uploaded: no distribution to install."""
    ignores = {posixpath.dirname(p) for p in upload if posixpath.basename(p) == ".gitignore"}
    return _ignored(name, upload, sorted(ignores | {""})) if ignores else None


def gitignored_submodule(
    folder: str, name: str, upload: Collection[str] | Mapping[str, bytes]
) -> str | None:
    """As :func:`gitignored_module`, for the module ``name`` of a package ``folder`` of
    the upload (``dhl/config.py``, left out by its folder's ``/dhl/config.py``)."""
    return _ignored(name, upload, [folder])


def _absent_from_its_package(
    module: str, upload: Collection[str] | Mapping[str, bytes]
) -> str | None:
    """For a dotted module whose package is a folder of the upload (at its root or deeper)
    that lacks the rest (Ali-Sina-255's Fastapi-bank-system imports
    ``backend.app.auth.shema``, its file is ``schema.py``; mstelmakh's fastapi-quiz
    imports ``app.answers``, which its ``src/app/`` no longer has: the causes said "add
    'backend' to requirements.txt" and "'app' is … not on the import path"): the folder
    that lacks it, and the nearest name it has. None where one folder of that name has it
    all (a path's matter) or none is a folder."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    # (how deep it is found, the folder lacking the next part) in each folder of its name
    lacking = [_reach(package, parts, upload) for package in _folders_named(parts[0], upload)]
    if not lacking or any(depth == len(parts) for depth, _ in lacking):
        return None  # all there in one: not the upload's lack
    # The deepest found; then a package's own folder (a project's, libs/common/, holds
    # its package, libs/common/src/common/, deeper: no Python file of its own).
    depth, folder = min(
        lacking, key=lambda found: (-found[0], not _holds_python(found[1], upload), len(found[1]))
    )
    missing = parts[depth]
    names = sorted(_module_names(folder, upload))
    close = difflib.get_close_matches(missing, names, n=1, cutoff=_TYPO)
    if close:
        return (
            f" — the upload's {folder}/ has no module '{missing}' (its '{close[0]}'?): its own"
            " import names it"
        )
    why = _ignored(missing, upload, [folder]) or "is it in .gitignore, or renamed?"
    return f" — no {folder}/{missing}.py or {folder}/{missing}/ is in the upload ({why})"


def _reach(package: str, parts: list[str], upload: Collection[str]) -> tuple[int, str]:
    """How many of the module's ``parts`` the folder ``package`` (the first's) has, and
    the folder lacking the next (all: ``len(parts)``)."""
    folder = package
    for depth in range(1, len(parts)):
        if parts[depth] not in _module_names(folder, upload):
            return depth, folder
        folder = f"{folder}/{parts[depth]}"
    return len(parts), folder


def _added_by_the_service(
    written: str, listed_in: str, upload: Collection[str] | Mapping[str, bytes]
) -> bool:
    """Whether ``written`` is absent from the upload's own ``listed_in`` (the service added
    it); False where the upload's contents are not given."""
    if not isinstance(upload, Mapping) or listed_in not in upload:
        return False
    data = upload[listed_in]
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")  # (PowerShell's pip freeze)
    own = _requirement_names(data.decode("utf-16" if utf16 else "utf-8", "replace"))
    return _normalize(written) not in own


def _folders_named(name: str, upload: Collection[str]) -> list[str]:
    """The upload's folders called ``name`` that hold Python files, shallowest first."""
    found = set()
    for path in upload:
        if not path.endswith(".py"):
            continue
        parts = path.split("/")
        found.update("/".join(parts[: i + 1]) for i, part in enumerate(parts[:-1]) if part == name)
    return sorted(found, key=lambda folder: (folder.count("/"), folder))


def _holds_python(folder: str, upload: Collection[str]) -> bool:
    return any(posixpath.dirname(p) == folder and p.endswith(".py") for p in upload)


def _module_names(folder: str, upload: Collection[str]) -> set[str]:
    """The modules ``folder`` of the upload has: its Python files and its folders."""
    names = set()
    for path in upload:
        if path.startswith(f"{folder}/"):
            rest = path[len(folder) + 1 :]
            first, _, deeper = rest.partition("/")
            if deeper or first.endswith(".py"):
                names.add(first.removesuffix(".py"))
    return names


def _ignored(
    name: str, upload: Collection[str] | Mapping[str, bytes], folders: list[str]
) -> str | None:
    """What says that a ``.gitignore`` of the upload leaves out the module ``name`` of one
    of ``folders`` (its ``name.py`` or ``name/``): "left out by .gitignore's
    'config.py'"; None where none does, or the upload's contents are not given."""
    if not isinstance(upload, Mapping):
        return None
    for ignore in sorted(p for p in upload if posixpath.basename(p) == ".gitignore"):
        base = posixpath.dirname(ignore)
        text = upload[ignore].decode("utf-8", "replace")
        for folder in folders:
            if base and not f"{folder}/".startswith(f"{base}/"):
                continue  # a .gitignore rules the files below its own folder only
            inside = folder[len(base) :].strip("/") if base else folder
            for line in text.splitlines():
                pattern = line.strip()
                if pattern and not pattern.startswith(("#", "!")):
                    if _ignores(pattern, posixpath.join(inside, f"{name}.py"), folder=False):
                        return f"left out by {ignore}'s '{pattern}'"
                    if _ignores(pattern, posixpath.join(inside, name), folder=True):
                        return f"left out by {ignore}'s '{pattern}'"
    return None


def _ignores(pattern: str, path: str, *, folder: bool) -> bool:
    """Whether a ``.gitignore`` line ignores ``path`` (relative to its folder): a name
    alone matches at any depth, one with a slash from the folder; a trailing slash only
    folders."""
    if pattern.endswith("/"):
        if not folder:
            return False
        pattern = pattern.rstrip("/")
    pattern = pattern.removeprefix("**/")
    if "/" in pattern:
        return fnmatch.fnmatchcase(path, pattern.lstrip("/"))
    return fnmatch.fnmatchcase(posixpath.basename(path), pattern)


# An absolute import of a module named NAME, or of one below it, at a line's start.
_IMPORTS_NAME = rb"^[ \t]*(?:from[ \t]+NAME(?:\.[\w.]+)?[ \t]+import\b|import[ \t]+NAME\b)"


def namesake_wrapper(path: str, data: bytes) -> bool:
    """Whether the module file at ``path`` imports, by its absolute name, the package it
    is named after (``config/celery.py``'s ``from celery import Celery``, Django's way of
    setting Celery up): it wraps that package and is never what an import of its name
    finds (ravuritejaswi's DJANGORESTPROJECT lists no celery, and its config/celery.py
    was taken for the missing module: celery never added, the hint "put it beside the
    app")."""
    if not path.endswith(".py") or posixpath.basename(path) == "__init__.py":
        return False
    name = re.escape(posixpath.basename(path)[:-3].encode())
    imports_its_name = _IMPORTS_NAME.replace(b"NAME", name)
    return re.search(imports_its_name, data, re.MULTILINE) is not None


def _in_upload_hint(
    module: str, upload: Collection[str] | Mapping[str, bytes], listed_in: str
) -> str | None:
    """For a module the upload holds but the app cannot import (a monorepo's library
    that no dependency file names): how to make it importable, rather than a
    package to add from the index. Where its package is in several folders, the one
    holding the whole module is named."""
    parts = module.split(".")
    top = parts[0]
    found = [p for p in upload if p in (f"{top}.py", f"{top}/__init__.py")]
    found += [p for p in upload if p.endswith((f"/{top}.py", f"/{top}/__init__.py"))]
    if isinstance(upload, Mapping):
        found = [p for p in found if not namesake_wrapper(p, upload[p])]
    if not found:
        return None
    where = min(
        (p.removesuffix("/__init__.py") for p in found),
        key=lambda at: (_reach(at, parts, upload)[0] < len(parts), len(at)),
    )
    folder = posixpath.dirname(where)
    projects = [folder] + (
        [posixpath.dirname(folder)] if posixpath.basename(folder) == "src" else []
    )
    for project in projects:
        if any(posixpath.join(project, name) in upload for name in ("pyproject.toml", "setup.py")):
            return (
                f" — '{top}' is in the upload ({where}) but not installed: name its project"
                f" in {listed_in} as '-e {_dot(project)}'"
            )
    return (
        f" — '{top}' is in the upload ({where}) but not on the import path: put it beside"
        " the app, or give the launch option env a PYTHONPATH naming its folder"
    )


def _dot(directory: str) -> str:
    return f"./{directory}" if directory else "."


def _requirement_names(requirements: str) -> dict[str, str]:
    """Normalized distribution name -> name as written, for each requirement line."""
    names: dict[str, str] = {}
    for raw in requirements.splitlines():
        line = _REQ_COMMENT.sub("", raw).strip()
        if not line or line.startswith("-"):  # -r, -e, --index-url ...: not a plain requirement
            continue
        m = _REQ_NAME.match(line)
        if m:
            names[_normalize(m.group())] = m.group()
    return names


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
