"""The folders an app writes into at run time that its upload lacks: :func:`run_folders`
(read from what the app declares, never run).

An author's checkout has folders its repository does not ship: the app's logs, its
SQLite file, its uploads. Its image makes them (``RUN mkdir -p /app/logs``), or they are
there from the author's first run, their contents ignored by git. A preview starts from
the repository alone, and the app dies on the first write: MyOpenPantry's flask-backend
on ``logging.basicConfig(filename=f'logs/{date}.log')`` ("FileNotFoundError: … 'logs/
2026-11-29.log'"), mrshabel's fastapi-starter on Alembic's ``sqlite+aiosqlite:///data/
app.db`` ("unable to open database file"). Each such folder is made, empty (a
``.gitkeep`` in it), before the set-up steps; read from:

- the ``.gitignore`` (the root's, and each folder's for its own entries): a folder it
  lists by name (``logs/``, ``/data``, ``logs/*``: its author's checkout has it, what it
  holds is ignored) that the app's code (Python, JavaScript, TypeScript), its env files or
  its configuration names as a path (``'logs/app.log'``, ``os.path.join(BASE_DIR,
  'logs')``, ``path.resolve(__dirname, '../../log')``, ``LOCAL_STORAGE_PATH=data/uploads``);
- its Dockerfiles' ``RUN mkdir`` (``-p`` or not), made under the folder its image holds
  the app in (the ``WORKDIR`` where it copies ``.``, else its last ``WORKDIR``);
- the folder of a relative SQLite file its env files, configuration or code name
  (``sqlite:///data/app.db``, ``sqlite+aiosqlite:///./db/dev.sqlite3``), which SQLite
  does not make: beside the file that names it and in the upload's root, where the app
  runs, and, for Flask-SQLAlchemy, under its Flask app's instance folder and root;
- a folder its Python code hands to what refuses a missing one: Starlette's
  ``StaticFiles(directory=…)``, fastapi-mail's ``TEMPLATE_FOLDER`` (git keeps no empty
  folder: bantosjerry's dockerized fastapi CRUD app died on "Directory 'static' does not
  exist", yanliu1111's fastapi-crud-app on its ConnectionConfig's missing templates);
- the folder of a relative SQLite file its Node code names (``'./db/admin.db'``), where
  its package.json lists a SQLite client (sqlite3, better-sqlite3);
- the folder of a log file its Node code opens by name (``pino.destination(`${__dirname}/
  ../../logs/${level}.log`)``, ``fs.createWriteStream('logs/access.log')``, winston's
  ``filename: 'logs/error.log'``, Fastify's ``logger: {file: './src/logs/server.log'}``),
  which the stream does not make (lc-brito's
  node-express-api: "ENOENT … open 'adapters/log/../../logs/emergency.log'"): from
  ``__dirname`` the source's folder, else where the app runs;
- a relative folder its env files give a variable whose name says it is one
  (``LOCAL_STORAGE_PATH="data/uploads"``, ``UPLOAD_DIR=media``; mrshabel's mounts it with
  Starlette's ``StaticFiles``, which refuses a missing one), or the folder of a file one
  names (``LOG_FILE_PATH=logs/app.log``).

A path outside the app's folder (``/var/log``), one made of a variable (``$LOG_DIR``) or
one leaving the upload (``..``) is none of these. Only folders the upload lacks are made.

A folder its Python code reads templates or static files from by a path from its
repository's root (``Jinja2Templates(directory="backend/templates")``), where the upload is
that repository's ``backend/`` alone and holds ``templates/``, gets the upload's files
copied under the path it names (:func:`root_named_folders`); one it reads under a name the
upload spells in another case (Flask's ``templates`` beside ``Templates/``), the files of
that folder copied under the name read (:func:`case_named_folders`).

A SQLite database its repository keeps in Git LFS is a pointer in the upload (``version
https://git-lfs.github.com/spec/v1``, its oid and size: 130 bytes), not the database, and
SQLite refuses it ("file is not a database": OleksiiRastorhuiev's SaaS-Shop-mit-FastAPI,
whose ``create_all`` makes every table of the ``saas_shop.db`` it opens):
:func:`lfs_pointer_databases` names each, written empty (a new database, which SQLite
takes, as it would a missing file).

Its image's own folders outside the app's (:func:`image_folders`): those its Dockerfile
declares as its volumes (``VOLUME /data``) or makes (``RUN mkdir -p /data``), which its
code opens by absolute path (``sqlite:////data/app.db``); a preview's root has none, so
its sandbox gives each as a directory of its own (``sandbox.Containment``), as it gives
its compose service's volumes. So are the absolute folders its Node code has made by name
(:func:`code_folders`): multer's ``dest: '/uploads'`` (which multer makes at start-up),
``fs.mkdirSync('/data/files')``, where a container's root is the app's to write in
(Sanji-IO's express-filebin: "EROFS: read-only file system, mkdir '/uploads'"), and the
absolute folders of the log files its Python code opens (``.logfiles``).
The folder its image holds the app in (``WORKDIR /app``) is the app's own folder there too
(:func:`image_app_folder`): its code names its files by that path.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import shlex
from collections.abc import Iterator

from ...discovery.pyast import bind_path, keywords, last_name, upload_path
from ..configvars import (
    RUN_SECRETS,
    RUN_SECRETS_FOLDER,
    app_service_volumes,
    docker_secrets_read,
    dockerfile_instructions,
    dotenv_text,
    workdir_after,
)
from ..pyapp import parse_module, python_files
from .logfiles import absolute_log_folders, bound_names, module_names, path_of

__all__ = [
    "author_folders",
    "case_named_folders",
    "code_folders",
    "container_folders",
    "env_absolute_folders",
    "image_app_folder",
    "image_folders",
    "lfs_pointer_databases",
    "module_named_folders",
    "root_named_folders",
    "run_folders",
]

KEEP = ".gitkeep"

# A .gitignore's folder entry: a name (``logs``, ``/data/``), or its contents
# (``logs/*``, ``logs/**``); a path of several names only as a folder (``var/log/``).
_IGNORED_NAME = re.compile(r"^/?([A-Za-z0-9_][\w-]*)(?:/|/\*{1,2})?$")
_IGNORED_PATH = re.compile(r"^/?([A-Za-z0-9_][\w-]*(?:/[A-Za-z0-9_][\w.-]*)+)(?:/|/\*{1,2})$")
# What an install or a build makes, whoever names it (its image's mkdir, its StaticFiles).
_MADE_BY_INSTALL_OR_BUILD = {"node_modules", "venv", ".venv", "__pycache__", "dist", "build"}
# What a checkout ignores that is no folder the app writes in: its build and its tools'.
_NOT_RUN_FOLDERS = {
    "node_modules",
    "dist",
    "build",
    "coverage",
    "venv",
    "env",
    "__pycache__",
    "eggs",
    "lib",
    "lib64",
    "parts",
    "sdist",
    "wheels",
    "bin",
    "include",
    "out",
    "target",
    "htmlcov",
    "site",
    "docs",
    "tmp_build",
    "vendor",
    "bower_components",
    "jspm_packages",
}
_SOURCE = re.compile(r"\.(?:py|[cm]?js|[cm]?ts|jsx|tsx)$")
# A call opening a file by a literal name: open('x', …), logging's FileHandler('x'),
# basicConfig(filename='x'), Node's fs.createWriteStream('x') / appendFileSync('x', …).
_OPENED_AS_FILE = re.compile(
    rb"""(?:\bopen|FileHandler|filename\s*=|createWriteStream|appendFileSync|appendFile)"""
    rb"""\(?\s*['"]"""
)
_CONFIG = re.compile(r"\.(?:ini|cfg|toml|ya?ml|json|conf)$")
# An env file: .env, .env.example, .env.docker.example, local.env, dev.env.sample
_ENV_FILE = re.compile(r"(?:^|[._-])env(?:[._-]|$)")
_NOT_ITS_OWN = re.compile(
    r"(?:^|/)(?:node_modules|\.venv|venv|site-packages|dist|build|coverage|\.git)/"
    r"|(?:^|/)(?:package-lock|yarn\.lock|pnpm-lock)"
)
# A relative SQLite file's URL (three slashes; a fourth is an absolute path).
_SQLITE_URL = re.compile(rb"""\bsqlite(?:\+\w+)?:///(?!/)(?:\./)?([^\s'"`?#;,)}\]]+)""")
_SHELL_SEPARATORS = re.compile(r"&&|\|\||;|\|")
# A variable naming a folder (UPLOAD_DIR, LOCAL_STORAGE_PATH, MEDIA_ROOT, LOG_FOLDER), not
# a URL's path (API_PATH, URL_PREFIX) nor a search path (PYTHONPATH).
# An env file's name (``.env``, ``.env.local``, ``.flaskenv``): never a folder to make.
_ENV_FILE_NAME = re.compile(r"\.(?:env|flaskenv)(?:\.[\w.-]+)?$")
_FOLDER_NAME = re.compile(r"_(?:DIR|DIRECTORY|DIRNAME|FOLDER|PATH|ROOT)$")
_NOT_FOLDER_NAME = re.compile(r"URL|URI|PREFIX|ROUTE|API|ENDPOINT|PYTHONPATH|^PATH$|HOST")
_RELATIVE_FOLDER = re.compile(r"^(?:\./)?[A-Za-z0-9_][\w.-]*(?:/[A-Za-z0-9_][\w.-]*)*/?$")


def run_folders(files: dict[str, bytes]) -> dict[str, str]:
    """{``<folder>/.gitkeep``: what declares the folder}, for each folder the app writes
    in at run time and its upload lacks (module doc), in the order found."""
    found: dict[str, str] = {}
    declared = [
        *_ignored(files),
        *_dockerfile_folders(files),
        *_image_path_folders(files),
        *_sqlite_folders(files),
        *_env_folders(files),
        *_consumed_folders(files),
        *_node_log_folders(files),
        *_node_written_folders(files),
        *_node_sqlite_folders(files),
        *_bound_folders(files),
    ]
    for folder, why in declared:
        folder = posixpath.normpath(folder)
        if folder in (".", "") or folder.startswith(("../", "/")) or folder == "..":
            continue
        # Never what an install or a build makes (an image's ``mkdir node_modules``: a
        # folder there kept the environment's link out, "Is a directory": koa-typescript-rest).
        if _MADE_BY_INSTALL_OR_BUILD & set(folder.split("/")):
            continue
        if _has_folder(files, folder) or f"{folder}/{KEEP}" in found:
            continue
        if _ENV_FILE_NAME.match(posixpath.basename(folder)):
            continue  # a file the app reads its settings from, which a launch may write
        found[f"{folder}/{KEEP}"] = why
    return found


def _has_folder(files: dict[str, bytes], folder: str) -> bool:
    return folder in files or any(p.startswith(folder + "/") for p in files)


def _text(data: bytes) -> str | None:
    try:
        return data[:200_000].decode()
    except UnicodeDecodeError:
        return None


def _ignored(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The .gitignores' folders the app names as a path (module doc)."""
    entries: list[tuple[str, str, str]] = []  # (the folder in the upload, its name, the file)
    for path, data in files.items():
        if posixpath.basename(path) != ".gitignore" or _NOT_ITS_OWN.search(path):
            continue
        text = _text(data)
        if text is None:
            continue
        directory = posixpath.dirname(path)
        for line in text.splitlines():
            line = line.strip()
            if (match := _IGNORED_NAME.match(line)) is not None:
                name = match.group(1)
                if name.lower() in _NOT_RUN_FOLDERS:
                    continue
            elif (match := _IGNORED_PATH.match(line)) is not None:
                name = match.group(1)
            else:
                continue
            entries.append((posixpath.join(directory, name), name, path))
    entries = [e for e in entries if not _has_folder(files, e[0])]
    if not entries:
        return []
    texts = [
        (path, data)
        for path, data in files.items()
        if not _NOT_ITS_OWN.search(path)
        and posixpath.basename(path) != ".gitignore"
        and (
            _SOURCE.search(path)
            or _CONFIG.search(path)
            or _ENV_FILE.search(posixpath.basename(path))
        )
    ]
    # The paths each Node source builds from its own folder, read once for every entry.
    built = {path: _dirname_built(path, data) for path, data in texts}
    found: list[tuple[str, str]] = []
    for folder, name, gitignore in entries:
        # the name as a path's segments in a string: 'logs/app.log', '../../log', "logs"
        # (not a key: {'logs': …}, x['logs']), f'logs/{day}.log'; or an env file's or a
        # configuration's value: data/app.db
        word = re.escape(name).encode()
        # Opened as a file by that very name (RamiroPintos' Flask-EventPage: ``open(
        # 'logfile', 'a')``, its .gitignore listing logfile): no folder, which open() refused
        # ("IsADirectoryError: … 'logfile'"), where none is what it writes.
        opened = re.compile(_OPENED_AS_FILE.pattern + word + rb"""['"]""")
        if any(opened.search(data) for path, data in texts if _SOURCE.search(path)):
            continue
        quoted = re.compile(rb"""['"`](?:[^'"`\n]*/)?""" + word + rb"""(?:/|['"`](?!\s*[:\]]))""")
        bare = re.compile(
            rb"""(?:^|[\s=:/'"])(?:\./)?""" + word + rb"""(?:/|\s|['"]|$)""", re.MULTILINE
        )
        for path, data in texts:
            pattern = quoted if _SOURCE.search(path) else bare
            if pattern.search(data) or any(
                each == folder or each.startswith(folder + "/") for each in built[path]
            ):
                found.append((folder, f"{gitignore} lists it, {path} names it as a path"))
                break
    return found


def _dirname_built(path: str, data: bytes) -> list[str]:
    """The paths the Node source at ``path`` builds from its own folder (:func:`
    dirname_paths`), a folder in them named as a path (BerraUgur's book-express-api:
    ``path.join(__dirname, "..", "data", "refreshTokens.json")`` from ``src/models/``, its
    .gitignore listing ``src/data/``); none for another file."""
    if not _NODE_SOURCE.search(path) or b"__dirname" not in data:
        return []
    return dirname_paths(path, _text(data) or "")


def _dockerfile_folders(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The folders its Dockerfiles' ``RUN mkdir`` make in the app's folder (module doc)."""
    found: list[tuple[str, str]] = []
    for path, data in files.items():
        name = posixpath.basename(path)
        if not (
            name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile")
        ) or _NOT_ITS_OWN.search(path):
            continue
        text = _text(data)
        if text is None:
            continue
        directory = posixpath.dirname(path)
        for made, root in _stage_folders(dockerfile_instructions(text)):
            relative = posixpath.relpath(made, root)
            if relative != "." and not relative.startswith(".."):
                found.append((posixpath.join(directory, relative), f"{path} makes it"))
    return found


# A file's path below a folder: its folders (group 1) and its name, to its closing quote.
_FILE_BELOW = rb"""/((?:[\w.-]+/)+)[\w-]+\.\w{1,8}["'`\s]"""


def _image_path_folders(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The folders of the files the app's code, settings or env files name by a path
    under the folder its image holds it in (``logging.FileHandler("/app/logs/
    requests.log")`` under ``WORKDIR /app``: tecteluy's docker-fastapi-auth, whose image
    makes the folder by its compose file's volume), which its sandbox gives as its own
    folder (:func:`image_app_folder`): made there, as its other folders are."""
    found: list[tuple[str, str]] = []
    for path, data in files.items():
        if posixpath.basename(path) != "Dockerfile" or _NOT_ITS_OWN.search(path):
            continue
        roots = _stage_roots(dockerfile_instructions(_text(data) or ""))
        if not roots or roots[-1] == "/":
            continue
        root, directory = roots[-1], posixpath.dirname(path)
        named = re.compile(rb"""["'`=]""" + re.escape(root.encode()) + _FILE_BELOW)
        for source, text in files.items():
            if _NOT_ITS_OWN.search(source) or not (
                _SOURCE.search(source) or _ENV_FILE.search(posixpath.basename(source))
            ):
                continue
            for folder in named.findall(text[:200_000]):
                folder = posixpath.join(directory, folder.decode().rstrip("/"))
                found.append((folder, f"{source} names a file in it under its image's {root}"))
    return found


# The suffixes of a compose volume that binds one file (``./blog.db:/app/blog.db``), no
# folder: banmkh's flask-tiny-app, its blog.db made a folder and bound over the app's own
# file, "unable to open database file". The app makes such a file in its own folder.
_FILE_SUFFIXES = frozenset(
    {".db", ".sqlite", ".sqlite3", ".json", ".yml", ".yaml", ".toml", ".ini", ".cfg", ".conf"}
    | {".log", ".txt", ".csv", ".sql", ".py", ".js", ".ts", ".pem", ".key", ".crt", ".env"}
)


def container_folders(files: dict[str, bytes], anchor: str) -> list[tuple[str | None, str]]:
    """(the upload's folder, or None: one of its own; where inside) for each directory the
    app's container has beside its own, ``anchor`` the file it was detected from: its
    compose service's volumes (of folders: :data:`_FILE_SUFFIXES`), its own folder where
    its image holds it, the folders its Dockerfile declares or makes outside that one,
    those its Node code makes by absolute path and those of the absolute SQLite files its
    author's checkout had (module doc); ``/run/secrets``, where it reads Docker secrets.
    One of its own below its image's folder is the upload's folder there; a folder comes
    before those below it, which are bound over it."""
    volumes = {
        v.target: v.source
        for v in app_service_volumes(files, anchor)
        if posixpath.splitext(v.target)[1].lower() not in _FILE_SUFFIXES
    }
    image_root = image_app_folder(files, anchor)
    if image_root is not None:
        volumes.setdefault(image_root, "")
    own = [*code_folders(files), *absolute_log_folders(files), *env_absolute_folders(files)]
    for folder in [*image_folders(files, anchor), *own]:
        volumes.setdefault(folder, None)
    for folder, source in author_folders(files):
        volumes.setdefault(folder, source)
    if docker_secrets_read(files):  # its Docker secrets, written there by the preparation
        volumes.setdefault(RUN_SECRETS, RUN_SECRETS_FOLDER)
    found: list[tuple[str | None, str]] = []
    for target, source in sorted(volumes.items(), key=lambda v: v[0].count("/")):
        if source is None and image_root is not None and _within(target, image_root):
            source = posixpath.relpath(target, image_root)
            # A compose file's ``/app/node_modules`` keeps its image's install from its
            # bind of the sources: the preview's own install is there already (a link).
            if source.split("/")[0] in _MADE_BY_INSTALL_OR_BUILD or source in files:
                continue  # (nor a folder where the upload has a file)
        found.append((source, target))
    return found


def _image_instructions(files: dict[str, bytes], anchor: str) -> list[tuple[str, str]]:
    """The instructions of the Dockerfile beside ``anchor`` (the file the app was detected
    from; else the upload's root's); none without one."""
    folder = posixpath.dirname(anchor) if anchor in files else ""
    path = posixpath.join(folder, "Dockerfile")
    text = _text(files.get(path) or files.get("Dockerfile") or b"")
    return dockerfile_instructions(text) if text else []


def image_folders(files: dict[str, bytes], anchor: str) -> list[str]:
    """The absolute folders outside the app's own that the Dockerfile beside ``anchor``
    declares as volumes or makes (module doc), in order, once each."""
    instructions = _image_instructions(files, anchor)
    if not instructions:
        return []
    found = [made for made, root in _stage_folders(instructions) if not _within(made, root)]
    for keyword, argument in instructions:
        if keyword == "VOLUME":
            found += _volume_targets(argument)
    return list(dict.fromkeys(f for f in found if posixpath.isabs(f) and f != "/"))


def image_app_folder(files: dict[str, bytes], anchor: str) -> str | None:
    """The absolute folder the Dockerfile beside ``anchor`` holds the app in (the
    ``WORKDIR`` of its last stage where it copies ``.``, else that stage's last one), but
    the root: in its container the app's code is there, and code, settings and env files
    name its files by that path (tecteluy's docker-fastapi-auth: ``WORKDIR /app``, its
    middleware's ``logging.FileHandler("/app/logs/requests.log")``, "FileNotFoundError"
    where a preview's root has no ``/app``). Its sandbox gives the app's own folder there
    too, where no system folder is."""
    roots = _stage_roots(_image_instructions(files, anchor))
    return roots[-1] if roots and roots[-1] != "/" else None


# An absolute folder a Node call makes by its literal name: multer's upload destination
# (``dest: '/uploads'``, its diskStorage's ``destination: '/temp'``; multer makes a named
# one: jwlee-bit's nestjs-seminar, "ENOENT: no such file or directory, mkdir '/temp'"),
# ``mkdirSync('/data')``, mkdirp's, fs-extra's.
_NODE_MADE = re.compile(
    r"""(?:\b(?:dest|destination)\s*:|\b(?:mkdirSync|mkdirp(?:\.sync)?|ensureDirSync|mkdir)\s*\()"""
    r"""\s*(['"`])(/[A-Za-z0-9_][\w.-]*(?:/[\w.-]+)*)/?\1"""
)

_TESTS = re.compile(r"(?:^|/)(?:tests?|__tests__|spec)/|\.(?:spec|test)\.[cm]?[jt]s$")


# An absolute log file's path in Node code, the file's name a literal's or a template's
# (pino's ``pino.destination(`/var/log/app/${appEnv}.log`)``, winston's ``filename:
# '/var/log/app/error.log'``, createWriteStream's): the logger makes no folder
# (afranioce's fastify-skeleton: "ENOENT … open '/var/log/app/dev.log'"), which its
# image made.
_NODE_LOG_FILE = re.compile(r"""(['"`])(/[A-Za-z0-9_][\w.-]*(?:/[\w.-]+)*)/[^'"`/\n]*\.log\1""")


def code_folders(files: dict[str, bytes]) -> list[str]:
    """The absolute folders the app's Node code makes by name (module doc), or opens a log
    file in, outside ``/tmp`` (a sandbox's own already), in order, once each."""
    found: list[str] = []
    for path, data in files.items():
        if not _NODE_SOURCE.search(path) or _NOT_ITS_OWN.search(path) or _TESTS.search(path):
            continue
        text = _text(data) or ""
        for _, folder in [*_NODE_MADE.findall(text), *_NODE_LOG_FILE.findall(text)]:
            folder = posixpath.normpath(folder)
            if folder != "/tmp" and not folder.startswith("/tmp/") and ".." not in folder:
                found.append(folder)
    return list(dict.fromkeys(found))


# An absolute SQLite file's path in a string, or in a URL's (``sqlite:////srv/app.db``).
_ABSOLUTE_SQLITE = re.compile(
    rb"""(?:["'`=]|sqlite(?:\+\w+)?:///)(/(?:[\w.-]+/)+[\w.-]+\.(?:db|sqlite3?|sq3|db3))"""
    rb"""(?=["'`\s?]|$)""",
    re.MULTILINE,
)


def author_folders(files: dict[str, bytes]) -> list[tuple[str, str | None]]:
    """(an absolute folder, the upload's folder it is, or None: one of its own) for each
    folder outside ``/tmp`` (a sandbox's own) of an absolute SQLite file the app's code,
    configuration or env files name: its
    author's checkout (Sunikka's nestjs-photo-service: TypeORM's ``database:
    '/home/sunikka/…/02-photo-service/database/photo-service.sq3'``, "EROFS: read-only file
    system, mkdir '/home'" on every retry), which a preview's root lacks. Where the path's
    last names are a file of the upload (``database/photo-service.sq3``), that file's
    folder is given there, the database its author committed with it; else a folder of
    its own. Its sandbox binds each there (as its compose service's volumes), none over
    the system's folders."""
    found: dict[str, str | None] = {}
    for path, data in files.items():
        name = posixpath.basename(path)
        if _NOT_ITS_OWN.search(path) or not (
            _SOURCE.search(path) or _CONFIG.search(path) or _ENV_FILE.search(name)
        ):
            continue
        for match in _ABSOLUTE_SQLITE.finditer(data[:200_000]):
            try:
                file = posixpath.normpath(match.group(1).decode())
            except UnicodeDecodeError:
                continue
            # Not a folder of the root's, nor one under /tmp (a sandbox's own already).
            if file.startswith(("//", "/tmp/")) or posixpath.dirname(file) == "/":
                continue
            names = file.strip("/").split("/")
            # Its longest tail that is the upload's file: the checkout it was written in.
            tail = next(
                (t for i in range(1, len(names)) if (t := "/".join(names[i:])) in files), None
            )
            source = posixpath.dirname(tail) if tail is not None else None
            found.setdefault(posixpath.dirname(file), source)
    return list(found.items())


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _volume_targets(argument: str) -> list[str]:
    """A ``VOLUME`` instruction's folders: a JSON array, or words; none a variable names."""
    if argument.startswith("["):
        try:
            words = json.loads(argument)
        except ValueError:
            return []
        words = [w for w in words if isinstance(w, str)] if isinstance(words, list) else []
    else:
        words = argument.split()
    return [posixpath.normpath(w) for w in words if "$" not in w]


def _stage_roots(instructions: list[tuple[str, str]]) -> list[str]:
    """The folder each stage holds the app in, in order (module doc)."""
    return [root for _, root in _stages(instructions)]


def _stage_folders(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(each folder a ``RUN mkdir`` makes, as an absolute path in the image; the folder
    its stage holds the app in) of every stage."""
    return [(m, root) for made, root in _stages(instructions) for m in made]


def _stages(instructions: list[tuple[str, str]]) -> list[tuple[list[str], str]]:
    """(the folders its ``RUN mkdir`` make, as absolute paths in the image; the folder it
    holds the app in: the ``WORKDIR`` where it copies ``.``, else its last) of each stage."""
    found: list[tuple[list[str], str]] = []
    workdir, root, made, staged = "/", None, [], False
    for keyword, argument in [*instructions, ("FROM", "")]:
        if keyword == "FROM":
            if staged:
                found.append((made, root or workdir))
            workdir, root, made, staged = "/", None, [], True
        elif keyword == "WORKDIR":
            workdir = workdir_after(workdir, argument)
        elif keyword in ("COPY", "ADD") and not argument.startswith("["):
            words = [w for w in argument.split() if not w.startswith("--")]
            if len(words) >= 2 and root is None and words[0] in (".", "./"):
                root = posixpath.normpath(posixpath.join(workdir, words[-1]))
        elif keyword == "RUN" and "mkdir" in argument:
            made += [posixpath.normpath(posixpath.join(workdir, f)) for f in _mkdirs(argument)]
    return found


def _mkdirs(command: str) -> list[str]:
    """The folders the shell ``command``'s ``mkdir`` make, but a variable's."""
    found: list[str] = []
    for part in _SHELL_SEPARATORS.split(command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        if words and words[0] == "mkdir":
            found += [w for w in words[1:] if not w.startswith("-") and not {"$", "{"} & set(w)]
    return found


_LFS_POINTER = b"version https://git-lfs.github.com/spec/"
_SQLITE_FILE = re.compile(r"\.(?:db|db3|sqlite|sqlite3)$", re.IGNORECASE)


def lfs_pointer_databases(files: dict[str, bytes]) -> list[str]:
    """The upload's SQLite files that are Git LFS pointers, not databases (module doc)."""
    return sorted(
        path
        for path, data in files.items()
        if _SQLITE_FILE.search(path) and data.startswith(_LFS_POINTER) and len(data) < 1024
    )


def _sqlite_folders(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The folders of the relative SQLite files the app names (module doc)."""
    found: list[tuple[str, str]] = []
    flask_folders = _flask_sqlalchemy_roots(files)
    for path, data in files.items():
        name = posixpath.basename(path)
        if b"sqlite" not in data or _NOT_ITS_OWN.search(path):
            continue
        if not (_SOURCE.search(path) or _CONFIG.search(path) or _ENV_FILE.search(name)):
            continue
        for match in _SQLITE_URL.finditer(data[:200_000]):
            try:
                file = match.group(1).decode()
            except UnicodeDecodeError:
                continue
            folder = posixpath.dirname(file)
            if not folder or {"$", "{", "%", "<", "["} & set(folder) or file == ":memory:":
                continue
            why = f"{path} names a SQLite file in it ({file})"
            found.append((folder, why))  # where the app runs
            if not _SOURCE.search(path) and (beside := posixpath.dirname(path)):
                found.append((posixpath.join(beside, folder), why))  # where a step runs
            found += [(posixpath.join(f, folder), why) for f in flask_folders]
    return found


_FLASK_APP = re.compile(rb"\bFlask\(\s*__name__")


# A module-level binding of a folder's name (:data:`_FOLDER_NAME`, any case: ``db_dir =``).
_FOLDER_BINDING = re.compile(
    rb"^\w*_(?:dir|directory|dirname|folder|path|root)\s*=", re.IGNORECASE | re.MULTILINE
)


# A URL's scheme, its ``//`` read as one slash by a path's join (``gs:/bucket/…`` of
# ``'gs://tf-perfzero-data/bert'``, TensorFlow's benchmarks): a place elsewhere, no folder.
_URL_SCHEME = re.compile(r"^/?[A-Za-z][A-Za-z0-9+.-]*:/")


def _bound_folders(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The folders the app's Python modules bind a folder's name to at their top level,
    by a path read without running it (:func:`.logfiles.path_of`: from ``__file__``, a
    ``BASE_DIR``, or relative, where it runs): nahlaerrakik's tweets-flask-final has
    ``db_dir = os.path.join(os.path.abspath(os.path.dirname(__file__)), 'database')`` and
    its SQLite files there, the folder not in its repository ("unable to open database
    file" on every route)."""
    found: list[tuple[str, str]] = []
    bound: dict[str, tuple[ast.expr, str]] | None = None
    for path in python_files(files):
        if _NOT_ITS_OWN.search(path) or not _FOLDER_BINDING.search(files[path]):
            continue
        tree = parse_module(files[path])
        own = module_names(tree, path) if tree is not None else {}
        for name, (value, _) in own.items():
            if not _FOLDER_NAME.search(name.upper()) or _NOT_FOLDER_NAME.search(name.upper()):
                continue
            bound = bound_names(files) if bound is None else bound
            folder = path_of(value, path, {**bound, **own})
            if folder is None or posixpath.splitext(folder)[1] or _URL_SCHEME.match(folder):
                continue
            if name.upper().endswith("_PATH") and posixpath.basename(folder).startswith("."):
                # A path's name says file as well as folder: a dot-name is a file's
                # (buxuele's flask-one-post: ``ENV_PATH = … / '.env'``, made a folder,
                # where its .env was to be written: "Is a directory: '.env'").
                continue
            found.append((folder.lstrip("/"), f"{path} binds {name} to it"))
    return found


def _flask_sqlalchemy_roots(files: dict[str, bytes]) -> list[str]:
    """The folders Flask-SQLAlchemy reads a relative SQLite file's path from, where the
    app uses it: since 3.0 its Flask app's instance folder (``instance`` beside the
    package or module making it), before that the app's root (that package's folder).
    avegap23's crud-flask names ``sqlite:///instance/bbdd.sqlite``, which 3.1 opened
    in ``instance/instance/`` ("unable to open database file"); Flask-SQLAlchemy itself
    makes only the instance folder."""
    if not any(b"flask_sqlalchemy" in d for p, d in files.items() if p.endswith(".py") and d):
        return []
    roots: list[str] = []
    for path, data in files.items():
        if not path.endswith(".py") or _NOT_ITS_OWN.search(path) or not _FLASK_APP.search(data):
            continue
        root = posixpath.dirname(path)
        package = posixpath.basename(path) == "__init__.py"
        roots += [posixpath.join(posixpath.dirname(root) if package else root, "instance"), root]
    return [r for r in dict.fromkeys(roots) if r]


# A log file a Node source opens by name: a stream's or a logger's destination, or a
# ``filename:`` option (winston's, log4js's), Fastify's logger ``file:`` and pino's
# ``destination:``/``dest:`` options (blss-tico's fastify-webserver: ``logger: {file:
# './src/logs/server.log'}``, "ENOENT … open './src/logs/server.log'" from pino's stream),
# a string or a template literal ending .log.
_NODE_LOG = re.compile(
    r"""(?:\b(?:destination|createWriteStream)\s*\(\s*"""
    r"""|\b(?:filename|file|destination|dest)\s*:\s*)"""
    r"""([`'"])([^`'"\n]*\.log)\1"""
)
_NODE_SOURCE = re.compile(r"\.(?:[cm]?js|[cm]?ts)$")
_DIRNAME = re.compile(r"^\$\{\s*__dirname\s*\}/")


# A path a Node source builds from its own folder with literal parts: ``path.join(
# __dirname, "..", "data", "tokens.json")``, ``resolve(__dirname, 'logs')``, ``__dirname +
# '/log/access.log'``, `` `${__dirname}/uploads` ``.
_DIRNAME_JOINED = re.compile(
    r"""\b(?:path\.)?(?:join|resolve)\(\s*__dirname\s*((?:,\s*(['"`])[^'"`\n$]*\2\s*)+)\)"""
)
_JOINED_PART = re.compile(r"""(['"`])([^'"`\n$]*)\1""")
_DIRNAME_PLUS = re.compile(
    r"""__dirname\s*\+\s*(['"`])(/[^'"`\n$]*)\1|`\$\{\s*__dirname\s*\}(/[^`$\n]*)`"""
)


def dirname_paths(source: str, text: str) -> list[str]:
    """The upload's paths the Node source ``source`` builds from ``__dirname`` and literal
    parts (above), normalised; none that leaves the upload."""
    built = []
    for joined, _ in _DIRNAME_JOINED.findall(text):
        parts = [part for _, part in _JOINED_PART.findall(joined)]
        built.append(posixpath.join(posixpath.dirname(source), *parts))
    for _, plus, template in _DIRNAME_PLUS.findall(text):
        built.append(posixpath.join(posixpath.dirname(source), (plus or template).lstrip("/")))
    normal = [posixpath.normpath(path) for path in built]
    return [path for path in normal if not path.startswith(("..", "/")) and path != "."]


def _node_log_folders(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The folders of the log files the app's Node code opens by name (module doc), and
    of those it builds from its own folder (akex4396's koa-juejin-api:
    ``fs.createWriteStream(__dirname + '/log/access.log')``)."""
    found: list[tuple[str, str]] = []
    for path, data in files.items():
        if not _NODE_SOURCE.search(path) or _NOT_ITS_OWN.search(path) or b".log" not in data:
            continue
        text = _text(data)
        for built in dirname_paths(path, text or ""):
            if built.endswith(".log") and "/" in built:
                found.append((posixpath.dirname(built), f"{path} opens a log file in it ({built})"))
        for _, file in _NODE_LOG.findall(text or ""):
            folder = posixpath.dirname(file)
            if _DIRNAME.match(folder + "/"):
                folder = posixpath.join(posixpath.dirname(path), _DIRNAME.sub("", folder + "/"))
            if not folder or {"$", "{", "%", "<", "["} & set(folder):
                continue
            found.append((folder, f"{path} opens a log file in it ({file})"))
    return found


# A file a Node source writes by its relative path, in a folder: ``fs.writeFileSync(
# "docs/openapi.yaml", …)``, ``appendFile``, ``fs.promises.writeFile``, a write stream.
_NODE_WRITTEN = re.compile(
    r"""\b(?:writeFileSync|writeFile|appendFileSync|appendFile|createWriteStream)\(\s*"""
    r"""(['"`])(?:\./)?((?:[A-Za-z0-9_][\w.-]*/)+[\w.-]+)\1"""
)


def _node_written_folders(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The folders of the files the app's Node code writes by a relative path, from where
    it runs (jun0222's fastifyZod writes its OpenAPI spec to ``docs/openapi.yaml`` once it
    listens, its author's ``docs/`` never committed: "ENOENT" and exit)."""
    found: list[tuple[str, str]] = []
    for path, data in files.items():
        if not _NODE_SOURCE.search(path) or _NOT_ITS_OWN.search(path):
            continue
        if b"File" not in data and b"WriteStream" not in data:  # (what each call's name holds)
            continue
        for _, file in _NODE_WRITTEN.findall(_text(data) or ""):
            found.append((posixpath.dirname(file), f"{path} writes a file in it ({file})"))
    return found


# A Node SQLite client the app lists, and a SQLite file's relative path in its code.
_NODE_SQLITE_CLIENTS = ("sqlite3", "better-sqlite3", "sqlite", "@databases/sqlite")
_NODE_SQLITE_FILE = re.compile(
    r"""(['"`])(?:\./)?((?:[A-Za-z0-9_][\w.-]*/)+[\w.-]+\.(?:db|sqlite3?|db3))\1"""
)


def _node_sqlite_folders(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The folders of the relative SQLite files the app's Node code names, where it lists
    a SQLite client (HelloSkull's koa-sqlite3-demo: ``new adminSQLiteStore(
    './db/admin.db')``, handed to sqlite3's ``Database``; SQLITE_CANTOPEN without db/):
    where the app runs (the upload's root)."""
    try:
        package = json.loads(files.get("package.json", b"{}"))
    except ValueError:
        return []
    listed = package.get("dependencies") if isinstance(package, dict) else None
    if not isinstance(listed, dict) or not any(c in listed for c in _NODE_SQLITE_CLIENTS):
        return []
    found: list[tuple[str, str]] = []
    for path, data in files.items():
        if not _NODE_SOURCE.search(path) or _NOT_ITS_OWN.search(path):
            continue
        for _, file in _NODE_SQLITE_FILE.findall(_text(data) or ""):
            found.append((posixpath.dirname(file), f"{path} names a SQLite file in it ({file})"))
    return found


def _env_folders(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The relative folders its env files give a folder's variable (module doc)."""
    found: list[tuple[str, str]] = []
    for path, variable, value in _env_folder_values(files):
        if not _RELATIVE_FOLDER.match(value) or ".." in value.split("/"):
            continue
        folder = value.rstrip("/")
        if "." in posixpath.basename(folder):  # a file's path: its folder
            folder = posixpath.dirname(folder)
        if folder not in ("", "."):
            found.append((folder, f"{path} gives it as {variable}"))
    return found


# The system's folders, which no folder of the app's is bound over.
_SYSTEM_FOLDERS = re.compile(r"^/(?:usr|etc|bin|sbin|lib\w*|proc|sys|dev|run|boot|tmp)(?:/|$)")


def env_absolute_folders(files: dict[str, bytes]) -> list[str]:
    """The absolute folders outside the system's that its env files give a folder's
    variable (quantran1229's be-template-koa: ``LOGS_PATH = /home/logs`` in its
    env_example, "ENOENT: no such file or directory, mkdir '/home/logs'", a preview's root
    having no /home): its container had them, a folder of its own each (module doc)."""
    found: list[str] = []
    for _, _, value in _env_folder_values(files):
        folder = posixpath.normpath(value) if value.startswith("/") else ""
        if "." in posixpath.basename(folder):  # a file's path: its folder
            folder = posixpath.dirname(folder)
        if folder not in ("", "/") and ".." not in folder and not _SYSTEM_FOLDERS.match(folder):
            found.append(folder)
    return list(dict.fromkeys(found))


def _env_folder_values(files: dict[str, bytes]) -> Iterator[tuple[str, str, str]]:
    """(an env file of the upload's, a folder's variable it sets, its value, stripped)."""
    for path, data in files.items():
        name = posixpath.basename(path)
        if not _ENV_FILE.search(name) or _SOURCE.search(path) or _CONFIG.search(path):
            continue
        if _NOT_ITS_OWN.search(path) or name.endswith((".md", ".txt", ".sh")):
            continue
        for variable, value in dotenv_text(data[:200_000]).items():
            upper = variable.upper()
            if _FOLDER_NAME.search(upper) and not _NOT_FOLDER_NAME.search(upper):
                yield path, variable, value.strip()


# What refuses a folder that is not there as the app starts: Starlette's StaticFiles
# ("RuntimeError: Directory 'static' does not exist", unless ``check_dir=False``) and
# fastapi-mail's ``TEMPLATE_FOLDER`` (a DirectoryPath its ConnectionConfig validates).
_FOLDER_CONSUMERS = (b"StaticFiles", b"TEMPLATE_FOLDER")


def _consumed_folders(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """The folders its Python code hands to what refuses a missing one, as paths in the
    upload (``StaticFiles(directory="static")``, ``TEMPLATE_FOLDER=Path(BASE_DIR,
    "templates")``): git keeps no empty folder, and the author's checkout had it."""
    found: list[tuple[str, str]] = []
    for path in python_files(files):
        data = files[path]
        tree = parse_module(data) if any(m in data for m in _FOLDER_CONSUMERS) else None
        if tree is None:
            continue
        names: dict[str, str] = {}
        for node in ast.walk(tree):
            bind_path(node, path, names)
            if isinstance(node, ast.Call):
                given = keywords(node)
                if last_name(node.func) == "StaticFiles" and "check_dir" not in given:
                    folder = given.get("directory") or (node.args[0] if node.args else None)
                    why = f"{path} serves it with StaticFiles"
                else:
                    folder, why = (
                        given.get("TEMPLATE_FOLDER"),
                        f"{path} gives it as TEMPLATE_FOLDER",
                    )
                value = upload_path(folder, path, names) if folder is not None else None
                # Not where a relative one is beside the module: its author ran it there
                # (its image's WORKDIR), and an empty one would hide what it serves.
                beside = isinstance(folder, ast.Constant) and _has_folder(
                    files, posixpath.join(posixpath.dirname(path), str(value))
                )
                if value and not beside:  # (a build's output, frontend/dist: run_folders)
                    found.append((value, why))
    return found


# What reads a folder of files the app ships (its templates, its static files), by the
# keyword naming it, or its first argument ("").
_FOLDER_READERS = {
    "StaticFiles": ("directory", ""),
    "Jinja2Templates": ("directory", ""),
    "FileSystemLoader": ("searchpath", ""),
    "Flask": ("template_folder", "static_folder"),
    "Blueprint": ("template_folder", "static_folder"),
}


def root_named_folders(files: dict[str, bytes]) -> dict[str, str]:
    """{a file to write: the upload's file it copies}, for a folder the app's Python code
    reads its templates or static files from by a path from its repository's root, where
    the upload is one folder of that repository: ``Jinja2Templates(directory=
    "backend/templates")`` in an upload of ``backend/`` alone, which holds ``templates/``
    (Halliday27's fastapi-coffee-shop, run as ``uvicorn backend.app.main:app`` from its
    root: "TemplateNotFound: 'kitchen.html' not found in search path: 'backend/templates'").
    The folder's first name is none of the upload's, and what follows it is a folder
    the upload has: its files are copied under the path the code names."""
    found: dict[str, str] = {}
    for _, node in _folder_reader_calls(files):
        for folder in _named_folders(node):
            found.update(_rooted_copies(files, folder))
    return found


def module_named_folders(files: dict[str, bytes]) -> dict[str, str]:
    """{a file to write: the upload's file it copies}, for a folder the app's Python code
    reads from where it runs (Starlette's ``StaticFiles``, ``Jinja2Templates``, Jinja's
    ``FileSystemLoader``: relative to the working directory) by a name the upload has only
    beside that module: Winchestor2001's HLB-Platform-FastApi mounts
    ``StaticFiles(directory="static")`` in ``src/main.py``, keeps ``src/static/``, and
    imports ``from src import …``, so it runs from its root (``uvicorn src.main:app``):
    "RuntimeError: Directory 'static' does not exist". Its files are copied under the name
    read, where it runs; the folder beside the module stays (run from there, it is read)."""
    found: dict[str, str] = {}
    for path, node in _folder_reader_calls(files):
        reader = str(last_name(node.func))
        module_folder = posixpath.dirname(path)
        if reader in _FLASK_DEFAULTS or reader == "Blueprint" or not module_folder:
            continue  # Flask's resolve from their module's folder; a root module's is here
        for folder in _named_folders(node):
            name = posixpath.normpath(folder)
            if name.startswith(("/", "..")) or name == "." or _has_folder(files, name):
                continue
            found.update(_copies(files, posixpath.join(module_folder, name), name))
    return found


def _named_folders(node: ast.Call) -> list[str]:
    """The folders a reader's call (:data:`_FOLDER_READERS`) names by a literal string."""
    keys = _FOLDER_READERS[str(last_name(node.func))]
    given = keywords(node)
    named = [given.get(k) for k in keys if k]
    if "" in keys and node.args:
        named.append(node.args[0])
    return [f.value for f in named if isinstance(f, ast.Constant) and isinstance(f.value, str)]


def _copies(files: dict[str, bytes], source: str, folder: str) -> dict[str, str]:
    """{a file of ``folder``: the upload's file of ``source`` it copies}, for each file
    under ``source``."""
    inside = [p for p in sorted(files) if p.startswith(f"{source}/")]
    return {f"{folder}/{p[len(source) + 1 :]}": p for p in inside}


# Flask's own folders where its app or blueprint names none: beside the module making it.
_FLASK_DEFAULTS = {"Flask": ("templates", "static")}


def _folder_reader_calls(files: dict[str, bytes]) -> Iterator[tuple[str, ast.Call]]:
    """(the module's path, the call) of each call of a folder's reader
    (:data:`_FOLDER_READERS`) in the upload's Python code."""
    for path in python_files(files):
        data = files[path]
        if not any(reader.encode() in data for reader in _FOLDER_READERS):
            continue
        tree = parse_module(data)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Call) and last_name(node.func) in _FOLDER_READERS:
                yield path, node


def case_named_folders(files: dict[str, bytes]) -> dict[str, str]:
    """{a file to write: the upload's file it copies}, for a folder the app's Python code
    reads its templates or static files from (:data:`_FOLDER_READERS`; a Flask app's own
    ``templates/`` and ``static/`` where it names none) that the upload spells in another
    case: ayoubgeek's blind-auction-flask-app keeps ``Templates/``, which its author's
    file system (macOS's, Windows') found for Flask's ``templates``, and Linux does not
    ("TemplateNotFound: index.html"). Where exactly one folder beside it is that name when
    case is ignored, its files are copied under the name the code reads."""
    found: dict[str, str] = {}
    for path, node in _folder_reader_calls(files):
        reader = last_name(node.func)
        given = keywords(node)
        keys = _FOLDER_READERS[str(reader)]
        # Flask resolves its folders from its module's folder; the others from where
        # the app runs.
        base = posixpath.dirname(path) if reader in ("Flask", "Blueprint") else ""
        defaults = _FLASK_DEFAULTS.get(str(reader), ())
        for index, key in enumerate(keys):
            folder = given.get(key) if key else (node.args[0] if node.args else None)
            if folder is None and index < len(defaults):
                found.update(_recased_copies(files, posixpath.join(base, defaults[index])))
            elif isinstance(folder, ast.Constant) and isinstance(folder.value, str):
                found.update(_recased_copies(files, posixpath.join(base, folder.value)))
    return found


def _recased_copies(files: dict[str, bytes], folder: str) -> dict[str, str]:
    """The copies that give ``folder`` (which the upload lacks) the files of the one
    folder beside it named so when case is ignored."""
    folder = posixpath.normpath(folder)
    if folder.startswith(("/", "..")) or folder == "." or _has_folder(files, folder):
        return {}
    parent, name = posixpath.split(folder)
    prefix = f"{parent}/" if parent else ""
    spelled = {
        p[len(prefix) :].split("/", 1)[0]
        for p in files
        if p.startswith(prefix) and "/" in p[len(prefix) :]
    }
    matches = [each for each in spelled if each.lower() == name.lower()]
    if len(matches) != 1:
        return {}
    return _copies(files, prefix + matches[0], folder)


def _rooted_copies(files: dict[str, bytes], folder: str) -> dict[str, str]:
    """The copies that give ``folder`` (a relative path of two names or more, naming a
    folder the upload lacks) the files of the folder its names after the first are."""
    folder = posixpath.normpath(folder)
    head, _, tail = folder.partition("/")
    if not tail or folder.startswith(("/", "..")) or _has_folder(files, folder):
        return {}
    if _has_folder(files, head) or not _has_folder(files, tail):
        return {}
    return _copies(files, tail, folder)
