"""The settings file (YAML or JSON) an app's code loads and its upload lacks, with no
example of it: :func:`settings_files` (read with :mod:`ast`, never run).

``with open("./config/conf.yaml") as f: config = yaml.load(f, …)``, then
``SECRET_KEY = config["SECRET_KEY"]`` and ``config["DATABASE"]["HOST"]``: qudwn1114's
drf-jwt keeps its every setting there, the file .gitignored and no example of it
committed; ``migrate`` died on FileNotFoundError. What the code reads of it says what it
holds: its keys, nested as read. Each is given the name its path spells (``DATABASE`` and
``HOST``: ``DATABASE_HOST``; a key of its own, ``EMAIL_HOST_USER``, its own) for the
service to fill in as it does a variable of that name (the served database's part, a
throwaway secret, ``DEBUG`` on, every host …: :mod:`preview.builds.configdefaults`), and
the file is written as JSON, which YAML reads too (:func:`settings_text`).

So is an INI file the code reads with ``configparser`` (``config.read(os.path.join(
os.path.dirname(os.path.abspath(__file__)), "config.ini"))``, then
``config["MAIN_SETTINGS"]["secret_key"]``), which ``read`` skips when it is missing:
TMCreme's drf-image-uploader ignores its ``config.ini`` (its README shows it), and
``migrate`` died on ``KeyError: 'MAIN_SETTINGS'``. Its sections and keys are what the code
reads, written as INI; a key of a database's section (``[db]``) named as that database's
part (``passwd``: ``DB_PASSWD``, the served database's password). And a YAML or JSON file
the code loads and reads no key of by name, which its .gitignore names (a local settings
file kept out of the repository: the app reads it whole, or no longer reads it):
burkee75's flask-weather-app opens ``config.yaml`` at import and died on
FileNotFoundError; written as an empty mapping.

And a file a shell script of the upload writes itself from a here-document (``cat <<EOF
> settings.py``, its README's set-up step), which the upload lacks and its code names:
lupusmagist's Basic-Flask-with-auth loads ``settings.DevConfig`` from the ``settings.py``
its ``init.sh`` writes, the file .gitignored (``import_string() failed for 'settings'``).
The text is written as the script would write it, its variables expanded as the shell
would (one the script assigns, else empty), where it runs no command for it
(:func:`scripted_files`); nothing runs.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import posixpath
import re
from collections.abc import Mapping

from ...discovery.pyast import bind_path, last_name, upload_path
from ..configvars import readme_paths
from ..pyapp import parse_module, python_files

__all__ = [
    "node_settings_modules",
    "readme_files",
    "scripted_files",
    "settings_files",
    "settings_text",
]

_SUFFIXES = (".yaml", ".yml", ".json")
# (.properties: a Java habit, read with configparser all the same: hdupre's
# auto-auction-flask-api ignores its application.properties, "NoSectionError: No section: 'db'")
_INI_SUFFIXES = (".ini", ".cfg", ".conf", ".properties")
_LOADERS = {"load", "safe_load", "full_load"}  # yaml's and json's, given the open file
_INI_PARSERS = {"ConfigParser", "RawConfigParser", "SafeConfigParser"}
_INI_GETTERS = {"get", "getint", "getfloat", "getboolean"}  # parser.get("section", "key")
# A part a section's key names only with its section (DATABASE's HOST: DATABASE_HOST).
_BARE = {"ENGINE", "NAME", "USER", "USERNAME", "PASSWORD", "HOST", "PORT", "URL", "DB"}
_BARE |= {"PASSWD", "PASS", "PWD", "HOSTNAME", "SERVER", "DATABASE", "DBNAME"}
# A section that is a database's, whose every key ending in a part is that database's
# (hdupre's auto-auction-flask-api: ``[db]`` ``auto_db``, the database's name).
_DATABASE_SECTIONS = {"DB", "DATABASE", "MYSQL", "POSTGRES", "POSTGRESQL", "PG", "MARIADB", "SQL"}
_EXAMPLE_WORDS = ("example", "sample", "template", "dist", "default")


def settings_files(files: dict[str, bytes]) -> dict[str, dict[str, tuple[str, ...]]]:
    """{the upload's path of a settings file the code loads and the upload lacks (nor has an
    example of): {the variable name each key read stands for: that key's path}}."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    ignored = _ignored_paths(files)
    settings: dict[str, str] | None = None  # the Django settings' paths, read once
    for path in python_files(files):
        data = files[path]
        opened = b"open(" in data and (b"yaml" in data or b"json" in data)
        if not opened and b"ConfigParser" not in data:
            continue
        tree = parse_module(data)
        if tree is None:
            continue
        names: dict[str, str] = {}
        for node in tree.body:
            bind_path(node, path, names)
        if settings is None and b"settings." in data:
            settings = _settings_paths(files)
        loaded = _loaded(tree, path, names) | _ini_read(tree, path, names, settings or {})
        for target, name in loaded.items():
            if target in files or _has_example(files, target):
                continue
            keys = _keys_read(tree, name, ini=target.endswith(_INI_SUFFIXES))
            kept_out = _kept_out(target, ignored)
            if keys or (kept_out and not target.endswith(_INI_SUFFIXES)):
                found.setdefault(target, {}).update(keys)
    return found


def _settings_paths(files: dict[str, bytes]) -> dict[str, str]:
    """{a name a Django settings module binds at its top level: the upload's path it
    names} (``CONFIG_PATH = os.path.join(BASE_DIR, 'config.ini')``), for the code that
    reads it as ``settings.CONFIG_PATH``."""
    paths: dict[str, str] = {}
    for path in python_files(files):
        if "settings" not in path or b"BASE_DIR" not in files[path]:
            continue
        tree = parse_module(files[path])
        names: dict[str, str] = {}
        for node in tree.body if tree is not None else []:
            bind_path(node, path, names)
        for name, value in names.items():
            paths.setdefault(name, value)
    return paths


def _ini_read(
    tree: ast.Module, module: str, names: dict[str, str], settings: dict[str, str]
) -> dict[str, str]:
    """{the upload's path of an INI file: the name of the parser reading it}, for
    ``name = configparser.ConfigParser()`` and then ``name.read(path)`` (or a list of
    paths) in the same module; a path a Django settings module names (``settings``),
    read as ``settings.CONFIG_PATH`` (asifpy's django-quickstart: its config.ini
    git-ignored, ``parser.get('GITHUB_SOCIAL_AUTH', 'GITHUB_KEY')`` "No section")."""
    parsers = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and last_name(node.value.func) in _INI_PARSERS
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        reader = node.func.value
        if node.func.attr != "read" or not isinstance(reader, ast.Name) or not node.args:
            continue
        if reader.id not in parsers:
            continue
        given = node.args[0]
        for each in given.elts if isinstance(given, (ast.List, ast.Tuple)) else [given]:
            target = upload_path(each, module, names)
            if isinstance(each, ast.Attribute) and last_name(each.value) == "settings":
                target = settings.get(each.attr)
            if target is not None and target.endswith(_INI_SUFFIXES):
                found[target] = reader.id
    return found


# ``const config = require('../config/oss')`` (group 1 the name, 3 the path), or
# ``const { bucket, region } = require(…)`` (group 2 the names).
_NODE_REQUIRE = re.compile(
    r"""(?:const|let|var)\s+(?:(\w+)|\{([^{}]*)\})\s*=\s*require\(\s*["'](\.{1,2}/[\w./-]+)["']\s*\)"""
)
_NODE_SOURCES = (".js", ".cjs")
# The names of a module of settings (``config.js``, ``keys.js``), which an app may keep
# out of its repository without a .gitignore saying so.
_SETTINGS_NAMES = frozenset({"config", "settings", "keys", "secrets", "credentials", "env"})
# ``import { SECRET, BASEURL } from '../config'`` in TypeScript (group 1 the names, 2 the path).
_TS_IMPORT = re.compile(r"""\bimport\s*\{([^{}]*)\}\s*from\s*["'](\.{1,2}/[\w./-]+)["']""")
_TS_SOURCES = (".ts", ".mts")
_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def node_settings_modules(files: dict[str, bytes]) -> dict[str, dict[str, tuple[str, ...]]]:
    """{the path of a JSON file to write: {variable name: key}} for each settings module
    a Node app's CommonJS code requires by a relative path (``require('../config/oss')``)
    that its upload lacks, its ``.gitignore`` names and no example stands for: what the
    code reads of it (``config.bucket``, ``const { accessKeyId } = require(…)``) are its
    keys, each named as its words spell it (``accessKeyId``: ``ACCESS_KEY_ID``) for the
    service to fill in as :func:`settings_files`' are. Written as ``<module>.json``, which
    ``require`` finds where ``<module>.js`` is not. myxtl's koa-mall ignores
    ``/config/oss.js`` (its object storage's keys): "Cannot find module '../config/oss'"."""
    ignored = _ignored_paths(files)
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    code: set[str] = set()  # modules whose members are called: code, no settings
    for path in sorted(files):
        if not path.endswith(_NODE_SOURCES) or "node_modules/" in path:
            continue
        text = files[path][:262144].decode("utf-8", "replace")
        for match in _NODE_REQUIRE.finditer(text):
            module = posixpath.normpath(posixpath.join(posixpath.dirname(path), match.group(3)))
            stem = module.removesuffix(".js")
            tried = (module, f"{module}.js", f"{module}.json", f"{module}/index.js")
            if module.startswith("..") or any(t in files for t in tried):
                continue
            if _has_example(files, f"{stem}.js"):
                continue
            if match.group(1):
                read = re.findall(rf"(?<![\w.$]){re.escape(match.group(1))}\.(\w+)", text)
                # A member called (``connection.connect(…)``, ``db.query(…)``): a module of
                # code, a database's connection, which no settings file stands for
                # (jangjy0105's undergroundClientBackend ignores /db.js, its mysql2
                # connection: a db.json written for it, "connection.connect is not a
                # function"; without it, the module never committed is said as such).
                called = rf"(?<![\w.$]){re.escape(match.group(1))}\.\w+\s*\("
                if re.search(called, text):
                    code.add(stem)
            else:
                read = re.findall(r"(?:^|,)\s*(\w+)", match.group(2))
            # Not in its .gitignore, and not committed all the same: a settings module by
            # its name, read by its members alone (HellMenDos' ExpressGraphql: ``const
            # config = require('../config')`` in a dozen modules, then config.DB_NAME …).
            unlisted = posixpath.basename(stem).lower() in _SETTINGS_NAMES and (
                not match.group(1) or bool(_members_read(text, match.end(), match.group(1)))
            )
            if not _kept_out(f"{stem}.js", ignored) and not unlisted:
                continue
            keys = {_CAMEL.sub("_", key).upper(): (key,) for key in read}
            # (required with its extension, ``require('./sendGrid.js')``: a module of that
            # name, which a JSON file beside it does not stand for)
            target = f"{stem}.js" if module.endswith(".js") else f"{stem}.json"
            if keys:
                found.setdefault(target, {}).update(keys)
    for stem in code:
        found.pop(f"{stem}.json", None)
        found.pop(f"{stem}.js", None)
    found.update(_typescript_constants_modules(files, ignored))
    return found


def _typescript_constants_modules(
    files: dict[str, bytes], ignored: set[str]
) -> dict[str, dict[str, tuple[str, ...]]]:
    """{the path of a TypeScript module to write: {name: (name,)}} for each module a
    TypeScript source imports constants from (``import { SECRET, BASEURL } from
    '../config'``) that the upload lacks, its ``.gitignore`` names and no example stands
    for: written as ``export const`` of each, for the service to fill in. sumitpore's
    articles-api-using-nestjs ignores ``src/config.ts``: "Cannot find module '../config'".
    Only where every name taken from it is a constant's (upper case) or an object read by
    its members alone (``jwtConstants.secret``: ``export const jwtConstants = {secret:
    …}``, its ``SECRET`` filled in): a function or a class of it cannot be made up."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    refused: set[str] = set()
    objects: dict[tuple[str, str], set[str]] = {}  # (target, name): the members read of it
    for path in sorted(files):
        if not path.endswith(_TS_SOURCES) or path.endswith(".d.ts") or "node_modules/" in path:
            continue
        text = files[path][:262144].decode("utf-8", "replace")
        for match in _TS_IMPORT.finditer(text):
            stem = posixpath.normpath(posixpath.join(posixpath.dirname(path), match.group(2)))
            tried = [f"{stem}{ending}" for ending in (".ts", ".tsx", ".d.ts", ".js", ".json")]
            tried += [f"{stem}/index.ts", f"{stem}/index.js"]
            if stem.startswith("..") or any(t in files for t in tried):
                continue
            target = f"{stem}.ts"
            if not _kept_out(target, ignored) or _has_example(files, target):
                continue
            taken = [n.strip() for n in match.group(1).split(",") if n.strip()]
            for imported in taken:
                name, _, alias = imported.partition(" as ")
                name, local = name.strip(), (alias or name).strip()
                if _CONSTANT.match(name):
                    found.setdefault(target, {})[name] = (name,)
                elif (members := _members_read(text, match.end(), local)) is not None:
                    # An object of settings read by its members alone (Alexkalbitz's
                    # myserverNestJS: ``jwtConstants.secret`` of its ignored constants.ts;
                    # its list.controller.ts imports it and never uses it)
                    objects.setdefault((target, name), set()).update(members)
                    for key in members:
                        variable = _CAMEL.sub("_", key).upper()
                        found.setdefault(target, {})[variable] = (name, key)
                else:
                    refused.add(target)
    # (a name no module reads a member of may be a function's: nothing says it is settings)
    refused |= {target for (target, _), members in objects.items() if not members}
    return {target: keys for target, keys in found.items() if target not in refused}


def _members_read(text: str, after: int, local: str) -> list[str] | None:
    """The members of ``local`` that ``text`` reads after its import (``local.secret``;
    none where it is imported and never used), where every use of it is such a read;
    None where one is not (a call, the object passed on whole: it cannot be made up)."""
    uses = list(re.finditer(rf"(?<![\w.$]){re.escape(local)}\b(\.(\w+))?", text[after:]))
    if any(use.group(1) is None for use in uses):
        return None
    return list(dict.fromkeys(use.group(2) for use in uses))


def _ignored_paths(files: dict[str, bytes]) -> set[str]:
    """The entries of the upload's .gitignores that name files: by a path of their own
    (``/config/oss.js``, as an upload path), by their name alone (``keys.js``, in any
    folder) or by a name's pattern (``sendgrid.*``); matched by :func:`_kept_out`."""
    found: set[str] = set()
    for path, data in files.items():
        if posixpath.basename(path) != ".gitignore":
            continue
        for line in data.decode("utf-8", "replace").splitlines():
            entry = line.strip()
            if not entry or entry.startswith(("#", "!")) or entry.endswith("/"):
                continue
            if "/" in entry.rstrip("/"):
                found.add(posixpath.join(posixpath.dirname(path), entry.strip("/")))
            else:
                found.add(entry)
    return found


def _kept_out(path: str, ignored: set[str]) -> bool:
    """Whether an entry of :func:`_ignored_paths` names ``path``: its path or its name, a
    pattern's as git matches it, case ignored as its author's file system (macOS's,
    Windows') ignored it (RomainVandemaele's ExpressHeroku: ``sendgrid.*`` for its
    sendGrid.js)."""
    name = posixpath.basename(path).lower()
    for entry in ignored:
        entry = entry.lower()
        if fnmatch.fnmatchcase(path.lower() if "/" in entry else name, entry):
            return True
    return False


def settings_text(
    keys: Mapping[str, tuple[str, ...]], values: Mapping[str, str], target: str = ""
) -> bytes:
    """The file holding ``values`` (by the names of :func:`settings_files`) at their keys'
    paths, as JSON (YAML reads it too): ``True``/``False`` and whole numbers as such, a
    key with no value an empty string. An INI ``target`` (``config.ini``) as INI: each
    section and its keys (:func:`_ini_text`)."""
    if target.endswith(_INI_SUFFIXES):
        return _ini_text(keys, values)
    if target.endswith(_NODE_SOURCES):  # a CommonJS module of settings
        return f"module.exports = {settings_text(keys, values).decode().strip()};\n".encode()
    if target.endswith(_TS_SOURCES):  # a TypeScript module of constants (or objects of them)
        exported: dict[str, object] = {}
        for name, path in keys.items():
            value = _typed(values.get(name, ""))
            if len(path) == 1:
                exported[path[0]] = value
            elif isinstance(members := exported.setdefault(path[0], {}), dict):
                members[path[1]] = value
        constants = (f"export const {n} = {json.dumps(v)};\n" for n, v in exported.items())
        return "".join(constants).encode()
    tree: dict[str, object] = {}
    for name, path in keys.items():
        node = tree
        for key in path[:-1]:
            inner = node.get(key)
            node = node.setdefault(key, {}) if not isinstance(inner, dict) else inner
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = _typed(values.get(name, ""))
    return (json.dumps(tree, indent=2) + "\n").encode()


def _ini_text(keys: Mapping[str, tuple[str, ...]], values: Mapping[str, str]) -> bytes:
    """The INI file of ``[section]`` and ``key = value`` lines for the two-part keys
    read (``config["MAIN_SETTINGS"]["secret_key"]``); a ``%`` doubled, which
    ``ConfigParser`` would take for an interpolation."""
    sections: dict[str, list[str]] = {}
    for name, path in keys.items():
        if len(path) == 2:
            value = values.get(name, "").replace("%", "%%")
            sections.setdefault(path[0], []).append(f"{path[1]} = {value}")
    text = "".join(
        f"[{s}]\n" + "".join(f"{line}\n" for line in lines) + "\n" for s, lines in sections.items()
    )
    return text.encode()


def _typed(value: str) -> object:
    if value in ("True", "true", "False", "false"):
        return value in ("True", "true")
    return int(value) if value.isdigit() and len(value) < 10 else value


def _loaded(tree: ast.Module, module: str, names: dict[str, str]) -> dict[str, str]:
    """{the upload's path of a settings file: the name its loaded values are bound to}, for
    ``with open(path) as f: name = yaml.load(f…)`` (or ``json.load``), and the file opened
    in the call itself: ``name = json.loads(open(path, 'r').read())``, ``json.load(open(
    path))`` (PIN-devel's drf-mariadb-CRUDexample: its .gitignored ``secrets.json``, then
    ``secrets['SECRET_KEY']``; migrate died on FileNotFoundError)."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        inline = _inline_load(node)
        if inline is not None:
            target = upload_path(inline[1], module, names)
            if target is not None and target.endswith(_SUFFIXES):
                found[target] = inline[0]
        if not isinstance(node, ast.With):
            continue
        for item in node.items:
            call = item.context_expr
            if not (isinstance(call, ast.Call) and last_name(call.func) == "open" and call.args):
                continue
            target = upload_path(call.args[0], module, names)
            handle = item.optional_vars
            if target is None or not target.endswith(_SUFFIXES) or not isinstance(handle, ast.Name):
                continue
            for statement in node.body:
                bound = _bound_load(statement, handle.id)
                if bound is not None:
                    found[target] = bound
    return found


def _inline_load(node: ast.AST) -> tuple[str, ast.expr] | None:
    """(``name``, the path given to ``open``) of ``name = json.load(open(path…))`` or
    ``name = json.loads(open(path…).read())`` (``yaml.safe_load`` alike); None else."""
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return None
    target, call = node.targets[0], node.value
    if not isinstance(target, ast.Name) or not isinstance(call, ast.Call) or not call.args:
        return None
    if last_name(call.func) not in (*_LOADERS, "loads"):
        return None
    given = call.args[0]
    if isinstance(given, ast.Call) and last_name(given.func) == "read":  # open(…).read()
        given = given.func.value if isinstance(given.func, ast.Attribute) else given
    if isinstance(given, ast.Call) and last_name(given.func) == "open" and given.args:
        return target.id, given.args[0]
    return None


def _bound_load(statement: ast.stmt, handle: str) -> str | None:
    """``name`` of ``name = yaml.load(handle, …)`` (``json.load``, ``yaml.safe_load``),
    annotated or not (Bars-377's schedule-fastapi: ``CONFIG: dict[str, Any] =
    json.load(f)``, its ``config.json`` written without the ``mysql`` it reads:
    "KeyError: 'mysql'")."""
    if isinstance(statement, ast.AnnAssign) and statement.value is not None:
        target, call = statement.target, statement.value
    elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, call = statement.targets[0], statement.value
    else:
        return None
    if not isinstance(target, ast.Name) or not isinstance(call, ast.Call) or not call.args:
        return None
    given = call.args[0]
    loads = last_name(call.func) in _LOADERS and isinstance(given, ast.Name) and given.id == handle
    return target.id if loads else None


def _keys_read(tree: ast.Module, name: str, ini: bool = False) -> dict[str, tuple[str, ...]]:
    """{variable name: key path} of the reads ``name["A"]["B"]`` (the longest of each),
    through a name bound to a part of it (``DB = conf["DATABASE"]`` then ``DB["USER"]``:
    gangjoohyeong's board-restapi-fastapi, whose DATABASE was given a string and "string
    indices must be integers"), and an INI parser's ``name.get("A", "B")``."""
    parts: dict[str, tuple[str, ...]] = {name: ()}  # a name bound to them or a part: its path
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name) and isinstance(value, ast.Subscript):
                part = _subscripts(value, name)
                if part:
                    parts.setdefault(target.id, part)
    paths: list[tuple[str, ...]] = []
    for node in ast.walk(tree):
        path = None
        if isinstance(node, ast.Subscript):
            for bound, prefix in parts.items():
                if (read := _subscripts(node, bound)) is not None:
                    path = prefix + read
        path = _ini_get(node, name) if ini and isinstance(node, ast.Call) else path
        if path:
            paths.append(path)
    leaves = [p for p in paths if not any(len(o) > len(p) and o[: len(p)] == p for o in paths)]
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(set(leaves)):
        key = path[-1].upper()
        section = path[-2].upper() if len(path) > 1 else ""
        ours = key in _BARE or (
            section.split("_")[-1] in _DATABASE_SECTIONS and key.split("_")[-1] in _BARE
        )
        found[f"{section}_{key}" if section and ours else key] = path
    return found


def _subscripts(node: ast.Subscript, name: str) -> tuple[str, ...] | None:
    """``("A", "B")`` for ``name["A"]["B"]``; None for another expression."""
    keys: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Subscript):
        key = current.slice
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        keys.append(key.value)
        current = current.value
    if not (isinstance(current, ast.Name) and current.id == name):
        return None
    return tuple(reversed(keys))


def _ini_get(node: ast.Call, name: str) -> tuple[str, ...] | None:
    """``("S", "k")`` for ``name.get("S", "k")`` (``getint``, ``getboolean`` …)."""
    func, args = node.func, node.args
    if not (isinstance(func, ast.Attribute) and func.attr in _INI_GETTERS and len(args) >= 2):
        return None
    if not (isinstance(func.value, ast.Name) and func.value.id == name):
        return None
    parts = [a.value for a in args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return tuple(parts) if len(parts) == 2 else None


def _has_example(files: dict[str, bytes], target: str) -> bool:
    """Whether the upload has an example of ``target`` (``conf.yaml.example``,
    ``conf.example.yaml``): copied instead (``configdefaults.example_copies``)."""
    stem, extension = posixpath.splitext(target)
    return any(
        f"{target}.{word}" in files or f"{stem}.{word}{extension}" in files
        for word in _EXAMPLE_WORDS
    )


# ``cat <<EOF > settings.py`` (or ``cat > path <<'EOF'``, ``<<-``): group 1 or 3 the
# delimiter, group 2 or 4 the path.
_HEREDOC = re.compile(
    r"""\bcat\s+(?:<<-?\s*["']?(\w+)["']?\s*>\s*([\w./-]+)|>\s*([\w./-]+)\s*<<-?\s*["']?(\w+)["']?)"""
    r"""[^\n]*\n"""
)


# A command an unquoted here-document's shell runs for its output; in a comment of the
# file it writes (``# Prompt for `retype password` in:``) it changes nothing the app reads.
_COMMAND = re.compile(r"\$\(|`")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|([A-Za-z_]\w*))")


def _expanded(body: str, before: str) -> str:
    """An unquoted here-document's ``body`` as its shell writes it: each ``$NAME`` the
    script's own assignment before it (``NAME=value``, its last), else empty, as an unset
    variable is (``'\x8e$r\xfe'`` in a SECRET_KEY: ``'\x8e\xfe'``)."""
    assigned = {
        m.group(1): m.group(2).strip("\"'")
        for m in re.finditer(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=(\S*)", before, re.MULTILINE)
    }
    return _VARIABLE.sub(lambda m: assigned.get(m.group(1) or m.group(2), ""), body)


# A README's fenced block (its language word, its text), and the path of a data file named
# in a code span or bold on the lines just before it (``**File:** `app/data/x.json```).
# A fence's line: its indentation, its backticks or tildes, and its info string (a language).
_FENCE_LINE = re.compile(r"^([ \t]*)(```|~~~)[ \t]*([^\n`]*?)[ \t]*$", re.M)
# A data file, or a module of the app's code (Mat0wa3's Express-ejemplo: "Crea un archivo
# de configuración llamado `config.js`" over its text, the file .gitignored, five modules
# importing it: "Cannot find module 'config.js'").
_NAMED_PATH = re.compile(
    r"[`*]([\w./-]+\.(?:json|ya?ml|toml|ini|cfg|conf|txt|csv|[cm]?js|ts|py))[`*]"
)


def _fenced_blocks(text: str) -> list[tuple[int, int, str]]:
    """(where it starts, its indentation, its text) of each fenced block of a README, one
    indented as a list item's too (its lines then dedented by as much). A fence opened
    and never closed ends where the next one with a language opens (Mat0wa3's
    Express-ejemplo: its ``bash`` block's closing fence missing, its ``config.js`` block
    was read as part of it)."""
    blocks: list[tuple[int, int, str]] = []
    opened: re.Match[str] | None = None
    for fence in _FENCE_LINE.finditer(text):
        if opened is not None and not fence.group(3) and fence.group(2) == opened.group(2):
            inner = text[opened.end() + 1 : fence.start()]
            blocks.append((opened.start(), len(opened.group(1)), inner))
            opened = None
        elif opened is None or fence.group(3):
            opened = fence  # (an unclosed one before it given up)
    return blocks


def readme_files(files: dict[str, bytes]) -> dict[str, tuple[str, bytes]]:
    """{the upload's path of a data file its README gives whole and the upload lacks:
    (the README, its text)}, where the README names the file just before a fenced block
    of it and the app's code names it: panjidwisatrio's fastapi-clean-architecture loads
    ``app/data/permissions.json`` at start, its ``data/`` folder .gitignored, and its
    README says "Create ``app/data/permissions.json``" over the JSON (FileNotFoundError).
    A JSON file whose block is no JSON is none."""
    code = b"\n".join(d for p, d in files.items() if p.endswith((".py", ".js", ".ts")))
    found: dict[str, tuple[str, bytes]] = {}
    for readme in readme_paths(files):
        text = files[readme][:262144].decode("utf-8", "replace")
        for start, indent, inner in _fenced_blocks(text):
            before = text[max(0, start - 240) : start].rstrip().splitlines()
            named = _NAMED_PATH.findall("\n".join(before[-2:]))
            if not named:
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(readme), named[-1]))
            if target.startswith(("../", "/")) or target in files or target in found:
                continue
            if not re.search(rb"\b" + re.escape(posixpath.basename(target).encode()), code):
                continue
            body = "".join(line[indent:] for line in inner.splitlines(keepends=True))
            if target.endswith(".json"):
                try:
                    json.loads(body)
                except ValueError:
                    continue
            found[target] = (readme, body.encode())
    return found


def scripted_files(files: dict[str, bytes]) -> dict[str, tuple[str, bytes]]:
    """{the upload's path of a file a shell script writes from a here-document and the
    upload lacks: (the script, its text)} (module doc), where the app's code names it
    (a module of that name imported or loaded, a file of that name opened). A path with
    a variable or outside the upload is none."""
    scripts = {
        p: d
        for p, d in files.items()
        if p.endswith(".sh") and len(d) < 256_000 and b"<<" in d and b"cat" in d
    }
    if not scripts:  # (most uploads: the code is not read at all)
        return {}
    code = b"\n".join(d for p, d in files.items() if p.endswith((".py", ".js", ".ts")))
    found: dict[str, tuple[str, bytes]] = {}
    for script, data in sorted(scripts.items()):
        text = data.decode("utf-8", "replace")
        for match in _HEREDOC.finditer(text):
            delimiter = match.group(1) or match.group(4)
            target = posixpath.normpath(
                posixpath.join(posixpath.dirname(script), match.group(2) or match.group(3))
            )
            if target.startswith(("../", "/")) or target in files or target in found:
                continue
            stem = posixpath.splitext(posixpath.basename(target))[0].encode()
            if not re.search(rb"\b" + re.escape(stem) + rb"\b", code):
                continue
            end = re.compile(rf"^\t*{re.escape(delimiter)}\s*$", re.MULTILINE)
            closing = end.search(text, match.end())
            if closing is None:
                continue
            body = text[match.end() : closing.start()]
            if "<<-" in match.group(0):  # (its lines' leading tabs, which the shell strips)
                body = re.sub(r"^\t+", "", body, flags=re.MULTILINE)
            quoted = re.search(rf"""<<-?\s*["']{re.escape(delimiter)}""", match.group(0))
            if quoted is None:
                if any(_COMMAND.search(line.split("#", 1)[0]) for line in body.splitlines()):
                    continue  # (a command's output in it: not the text as written)
                body = _expanded(body, text[: match.start()])
            found[target] = (script, body.encode())
    return found
