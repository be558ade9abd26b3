"""The imports of a Node app spelled as only its author's machine finds them: a module's
name in another case than its file has, and an ES module's relative import without the
file's extension: :func:`case_corrections` (read with a pattern, never run), the sources
that make them rewritten with the file's own spelling.

An author on macOS or Windows, whose file system ignores case, writes ``import
UserController from './controllers/User'`` beside ``controllers/user.ts``, or
``require('../helpers/responseHandler')`` beside ``helpers/ResponseHandler.ts``, and it
runs there; here (and on any Linux host, in its Docker image too) Node and tsc find no
such module (``ERR_MODULE_NOT_FOUND``, ``TS2307``) and the app never starts (Kuatsu's
express-mysql-ts-boilerplate). The source making the import is written again before the
app builds or starts, that import spelled as the file is: a copy of the file under the
imported name instead is a second file tsc refuses beside the first ("TS1149: File name
… differs from already included file name … only in casing", prkpiyush's
express-postgres-todo, which imports it both ways).

Read: each ``import … from``, ``export … from``, ``import(…)`` and ``require(…)`` of a
relative path in the upload's JavaScript and TypeScript sources (``node_modules`` and
files over :data:`_LARGEST` aside), resolved as Node and TypeScript resolve it (the path
as written, with each source extension, or its folder's ``index``; ``./x.js`` also as
``./x.ts``, as TypeScript's ES module imports spell their sources); likewise a path of
folders named from the baseUrl of the nearest ``tsconfig.json`` or ``jsconfig.json``
(``'src/modules/book/entities/BOOK.entity'`` with ``"baseUrl": "./"``, brenno-araujo's
nestjs-sequelize: TS2307 beside ``book.entity.ts``), where its folder is the upload's. One
that resolves to no file, where exactly one file of the same folder matches when case is
ignored, is corrected: its name, and its folders where they are spelled otherwise
(MeGaOne47's nest-crud-app imports ``'src/room/room.entity'`` and
``'../donation/donation.entity'`` beside ``src/Room/`` and ``src/Donation/``: TS2307).

An ES module (a ``.mjs``, or a ``.js`` whose nearest package.json says ``"type":
"module"``) is loaded by Node with no extension or ``index`` added, as CommonJS, bundlers,
TypeScript's editors and Bun add them: ``import { authService } from "./auth.service"``
runs under Bun and fails under Node ("Cannot find module"). Each relative import of one
that names no file as written, where a file of that name with an extension or its folder's
``index`` exists, is spelled with it. A TypeScript source whose package says ``"type":
"module"`` (or a ``.mts``) is emitted as such a module, its imports as written: one of a
source is spelled as tsc's ES modules spell it, by the file tsc emits (``import indexRouter
from './routes/index'`` beside routes/index.ts → ``'./routes/index.js'``, which tsc,
ts-node's and tsx's loaders take for the source): jmdoringo's employee-cafe-express, built
to dist/ and started with Node 18's ``--experimental-specifier-resolution=node``, which
Node 19 removed ("Cannot find module 'dist/routes/index' imported from dist/app.js").

A package is named likewise: ``import { TypeOrmModule } from '@nestjs/typeOrm'`` with
``@nestjs/typeorm`` listed finds its folder in node_modules where case is ignored, and
nothing here ("Cannot find module '@nestjs/typeOrm'", gamakgrover2002's
NestJs-Twitter-backend). A bare import whose package the upload's package.json files do
not list, where exactly one they list is that name when case is ignored (npm's names are
lowercase), is spelled as listed; not one naming a folder of the upload.

The views an Express app renders by name are looked up as files too: ``res.render(
'pages/Login')`` beside views/pages/login.ejs renders on its author's machine and fails
here ("Failed to lookup view"). Each that names no template in a ``views`` folder of the
upload (or the folder the app sets as its views, ``app.set("views", "public")``), where
exactly one does when case is ignored, is spelled as that template is; so is each template
an EJS template includes relative to itself (``include('../include/showData.ejs')``).

A Python app's module is named likewise: ``from routers import auth_router`` beside
``routers/Auth_router.py`` (KRAN22's TodoFastApi: "cannot import name 'auth_router' from
'routers'"). Each module an import of the upload's Python names, where neither its file
nor its package is there and exactly one file is when case is ignored, is copied under
the name imported (:func:`python_case_copies`): Python finds either, and the one a
differently spelled import names stays.

A module named by its place on the author's disk (``require('C:/Users/atexeira/Documents/
Node/login_express/src/config/database.js')``, andrestex's login-express; ``/Users/…``,
``/home/…``) is found nowhere else. Where the path's last folders and name are those of
exactly one file of the upload (the longest such tail), it is spelled relative to the
importing file, as it would have been had the author not pasted the path.

A module of the standard library only Windows has, imported for a name the importing
module never uses, is an editor's auto-import (``from asyncio.windows_events import NULL``
atop Iain-Donald's FlaskTravelApp's controller: "ImportError: win32 only"): that import is
left out of the source (:func:`windows_only_imports`), a ``pass`` in its place.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re

from ...discovery.node import ImportAliases
from ...discovery.pyast import imported_files
from ..node.tscout import loads_as_es_module
from ..pyapp import parse_module, python_files

__all__ = ["case_corrections", "python_case_copies", "windows_only_imports"]

_SOURCES = re.compile(r"\.(?:[cm]?[jt]s|[jt]sx)$")
_IMPORTED = rb"""(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)"""  # what names a module
_SPECIFIER = re.compile(_IMPORTED + rb"""['"](\.{1,2}/[^'"\n]+)['"]""")
# A module named from the project's baseUrl (``import { Book } from
# 'src/modules/book/entities/BOOK.entity'`` with ``"baseUrl": "./"``): a path of folders.
_BARE_SPECIFIER = re.compile(_IMPORTED + rb"""['"]([A-Za-z_][\w.-]*/[^'"\n]+)['"]""")
_BASE_URL = re.compile(rb'"baseUrl"\s*:\s*"([^"\n]*)"')
# A package's import (``'@nestjs/typeOrm'``, ``'Express'``, ``'lodash/fp'``): its name.
_PACKAGE_SPECIFIER = re.compile(
    _IMPORTED + rb"""['"]((?:@[\w.-]+/)?[A-Za-z0-9_][\w.-]*)(?:/[^'"\n]*)?['"]"""
)
_DEPENDENCIES = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
_PROJECT_FILES = re.compile(r"(?:^|/)[tj]sconfig\.json$")
_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json")
_INDEXES = tuple(f"/index{extension}" for extension in _EXTENSIONS)
_JS_SPELLING = re.compile(r"\.([cm]?)js(x?)$")  # ./x.js naming ./x.ts (tsc's ES modules)
# What an extensionless import of an ES module is taken for, in CommonJS's order.
_ESM_ENDINGS = (".js", ".mjs", ".cjs", ".json", "/index.js", "/index.mjs")
# A TypeScript source's, spelled as tsc's ES modules import it: by the file tsc emits of it
# (``./routes/index`` beside routes/index.ts → ``./routes/index.js``, which tsc, ts-node's
# and tsx's loaders take for the source and Node finds once built).
_TS_ENDINGS = {
    ".ts": ".js",
    ".mts": ".mjs",
    "/index.ts": "/index.js",
    "/index.mts": "/index.mjs",
}
# A view an Express app renders by name (``res.render('pages/Login', …)``), and the
# templates of its engines (ejs, pug, handlebars, nunjucks, mustache, plain HTML).
_RENDERED = re.compile(rb"""\.render\(\s*['"]([\w/-][\w./-]*)['"]""")
_VIEW_ENDINGS = (".ejs", ".pug", ".jade", ".hbs", ".handlebars", ".njk", ".mustache", ".html")
# The folder an Express app names for its views (``app.set("views", "public")``,
# ``app.set('views', path.join(__dirname, 'templates'))``).
_VIEWS_SET = re.compile(
    rb"""\.set\(\s*['"]views['"]\s*,\s*(?:path\.(?:join|resolve)\(\s*__dirname\s*,\s*)?"""
    rb"""['"](?:\./)?([\w-][\w./-]*?)/?['"]"""
)
# A template an EJS template includes (``<%- include('../include/header.ejs') %>``).
_INCLUDED = re.compile(rb"""\binclude\(\s*['"]([\w.][\w./-]*)['"]""")
_LARGEST = 512 * 1024  # bytes: a bundle or a generated file, not the app's own code


def case_corrections(files: dict[str, bytes]) -> dict[str, bytes]:
    """``{source: its text corrected}``: each upload source whose relative imports spell
    a file's name in another case than the file has, with those imports spelled as the
    file is (module doc)."""
    by_case: dict[str, list[str]] = {}
    folders: set[str] = set()
    for path in files:
        by_case.setdefault(path.lower(), []).append(path)
        folder = posixpath.dirname(path)
        while folder and folder not in folders:
            folders.add(folder)
            folder = posixpath.dirname(folder)
    folded = {folder.lower() for folder in folders}
    bases = _base_urls(files)
    aliases = ImportAliases(files) if any(_PROJECT_FILES.search(p) for p in files) else None
    listed = _listed_packages(files)
    named = {
        posixpath.normpath(posixpath.join(at, found.group(1).decode("utf-8", "replace")))
        for path, source in files.items()
        if _SOURCES.search(path) and "node_modules/" not in path and b"views" in source
        for found in _VIEWS_SET.finditer(source)
        for at in {posixpath.dirname(path), ""}
    }
    views = [
        f
        for f in sorted(folders)
        if (posixpath.basename(f) == "views" or f in named) and _holds_views(f, files)
    ]
    corrected: dict[str, bytes] = {}
    for path, source in files.items():
        if not _SOURCES.search(path) or "node_modules/" in path or len(source) > _LARGEST:
            continue
        text = source
        base = _base_url(path, bases)
        for found in [*_SPECIFIER.finditer(source), *_BARE_SPECIFIER.finditer(source)]:
            written = found.group(1).decode("utf-8", "replace")
            specifier = written.split("?")[0]
            if specifier.startswith("."):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), specifier))
            elif base is not None:  # from its baseUrl, where that folder is the upload's
                target = posixpath.normpath(posixpath.join(base, specifier))
                if posixpath.dirname(target).lower() not in folded:
                    continue
            else:
                continue
            if target.startswith("../") or target in folders:
                continue
            candidates = _candidates(target)
            if any(c in files for c in candidates):
                continue
            matches = {m for c in candidates for m in by_case.get(c.lower(), ())}
            if len(matches) != 1:
                continue
            (match,) = matches
            folder = posixpath.dirname(match)
            if posixpath.dirname(target).lower() != folder.lower():
                continue  # its index, in a folder spelled otherwise
            name = _spelled_as(posixpath.basename(specifier), posixpath.basename(match))
            if name is None:
                continue
            fixed = posixpath.join(posixpath.dirname(specifier), name)
            if posixpath.dirname(target) != folder:  # its folders spelled as the file's
                respelled = _respelled(specifier, posixpath.join(folder, name))
                if respelled is None:
                    continue
                fixed = respelled
                if respelled == specifier:
                    # A folder it does not name, its own spelled otherwise (Edimega's
                    # myNestjsChat: src/Users/user.module.ts imports './user.controller',
                    # which is src/users/user.controller.ts): the path from it to the file.
                    fixed = posixpath.relpath(posixpath.join(folder, name), posixpath.dirname(path))
                    fixed = fixed if fixed.startswith(".") else f"./{fixed}"
            quote = source[found.start(1) - 1 : found.start(1)]
            text = text.replace(
                quote + found.group(1) + quote,
                quote + (fixed + written[len(specifier) :]).encode() + quote,
            )
        if aliases is not None:
            text = _aliases_spelled(path, text, aliases, by_case, files)
        if _AUTHORS_PATH.search(text):
            text = _authors_paths_spelled(path, text, files)
        if listed:
            text = _packages_spelled(text, listed, folded)
        if b"render" in text:
            text = _views_spelled(text, files, by_case, views)
        if loads_as_es_module(files, path):
            text = _esm_spelled(path, text, files)
        if text != source:
            corrected[path] = text
    for path, source in files.items():
        if not path.endswith(".ejs") or "node_modules/" in path or b"include(" not in source:
            continue
        if (text := _includes_spelled(path, source, files, by_case)) != source:
            corrected[path] = text
    return corrected


def _includes_spelled(
    path: str, source: bytes, files: dict[str, bytes], by_case: dict[str, list[str]]
) -> bytes:
    """``source`` (the EJS template ``path``'s) with each template it includes relative to
    it that names no file, where exactly one does when case is ignored, spelled as that
    file is (tusharagrahari214's Rapid-Dispatch-Express includes
    ``../include/showDataPending.ejs`` beside public/include/ShowDataPending.ejs: "Could
    not find the include file", 500 at each page that lists trucks)."""
    text = source
    for found in _INCLUDED.finditer(source):
        written = found.group(1).decode("utf-8", "replace")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), written))
        if target.startswith("../"):
            continue
        ending = "" if posixpath.splitext(written)[1] else ".ejs"  # (EJS's default)
        if f"{target}{ending}" in files or target in files:
            continue
        matches = by_case.get(f"{target}{ending}".lower(), [])
        if len(matches) != 1:
            continue
        spelled = matches[0][: len(matches[0]) - len(ending)]
        fixed = _respelled(written, spelled)
        if fixed is None or fixed == written:
            continue
        quote = source[found.start(1) - 1 : found.start(1)]
        text = text.replace(
            b"include(" + quote + found.group(1) + quote,
            b"include(" + quote + fixed.encode() + quote,
        )
    return text


# A module named otherwise than by a relative path: a package's, or an alias's
# (``'@/app/controllers/Auth/Session'``, tsconfig's ``"@/*": ["src/*"]``).
_NAMED_SPECIFIER = re.compile(_IMPORTED + rb"""['"]([^'".\s][^'"\n]*)['"]""")


def _aliases_spelled(
    path: str,
    text: bytes,
    aliases: ImportAliases,
    by_case: dict[str, list[str]],
    files: dict[str, bytes],
) -> bytes:
    """``text`` with each import through a tsconfig's ``paths`` alias that leads to no
    file, where exactly one file is what it leads to when case is ignored, spelled as that
    file is in the part the alias's ``*`` stands for (sukronsabari's
    expressjs-sequelize-auth: ``'@/app/controllers/Auth/AutenticatedSessionController'``
    beside src/app/controllers/auth/: "Cannot find module", its author's file system
    ignoring case)."""
    source = text
    for found in _NAMED_SPECIFIER.finditer(source):
        written = found.group(1).decode("utf-8", "replace")
        targets = aliases.targets(path, written)
        candidates = [c for target in targets for c in _candidates(posixpath.normpath(target))]
        if not candidates or any(c in files for c in candidates):
            continue
        matches = {m for c in candidates for m in by_case.get(c.lower(), ())}
        if len(matches) != 1:
            continue
        (match,) = matches
        fixed = _tail_spelled(written, match)
        if fixed != written:
            quote = source[found.start(1) - 1 : found.start(1)]
            text = text.replace(quote + found.group(1) + quote, quote + fixed.encode() + quote)
    return text


def _tail_spelled(written: str, match: str) -> str:
    """``written``'s last names spelled as ``match``'s (the file's path) where they are
    those names when case is ignored, from its end to the first that is not (the alias's
    own part); its own extension (or none) and its folder's ``index`` left as written."""
    parts, spelled = written.split("/"), match.split("/")
    stem, _ = posixpath.splitext(spelled[-1])
    own_stem, own_extension = posixpath.splitext(parts[-1])
    if stem == "index" and parts[-1].lower() not in ("index", spelled[-1].lower()):
        spelled = spelled[:-1]  # its folder's index: the folder is the name written
    elif own_extension.lower() in _EXTENSIONS and own_stem.lower() == stem.lower():
        spelled[-1] = stem + own_extension
    elif parts[-1].lower() == stem.lower():
        spelled[-1] = stem
    for back in range(1, min(len(parts), len(spelled)) + 1):
        if parts[-back].lower() != spelled[-back].lower():
            break
        parts[-back] = spelled[-back]
    return "/".join(parts)


# A module named by an absolute path of its author's machine: a Windows drive's
# (``C:/…``, ``C:\\…`` as a string writes it), a macOS or Linux home's.
_AUTHORS_PATH = re.compile(
    _IMPORTED + rb"""['"]((?:[A-Za-z]:(?:/|\\\\)|/Users/|/home/)[^'"\n]+)['"]"""
)


def _authors_paths_spelled(path: str, text: bytes, files: dict[str, bytes]) -> bytes:
    """``text`` with each module it imports by its author's absolute path, whose longest
    tail names exactly one file of the upload, imported relative to ``path`` (module doc)."""
    source = text
    for found in _AUTHORS_PATH.finditer(source):
        written = found.group(1).decode("utf-8", "replace")
        parts = [p for p in written.replace("\\\\", "/").split("/") if p]
        for start in range(1, len(parts)):
            tail = "/".join(parts[start:])
            matches = {
                f for f in files if any(f == c or f.endswith("/" + c) for c in _candidates(tail))
            }
            if not matches:
                continue
            if len(matches) == 1:
                (match,) = matches
                named = posixpath.join(posixpath.dirname(match), posixpath.basename(tail))
                relative = posixpath.relpath(named, posixpath.dirname(path) or ".")
                relative = relative if relative.startswith("../") else f"./{relative}"
                quote = source[found.start(1) - 1 : found.start(1)]
                text = text.replace(
                    quote + found.group(1) + quote, quote + relative.encode() + quote
                )
            break  # the longest tail found: a shorter one is no surer
    return text


def _listed_packages(files: dict[str, bytes]) -> dict[str, list[str]]:
    """``{a name, lowercased: the names listed so}`` of every package the upload's own
    package.json files list."""
    found: dict[str, list[str]] = {}
    for path, data in files.items():
        if posixpath.basename(path) != "package.json" or "node_modules/" in path:
            continue
        try:
            package = json.loads(data)
        except (ValueError, RecursionError):
            continue
        for key in _DEPENDENCIES if isinstance(package, dict) else ():
            table = package.get(key)
            for name in table if isinstance(table, dict) else ():
                spelled = found.setdefault(name.lower(), [])
                spelled += [] if name in spelled else [name]
    return found


def _packages_spelled(text: bytes, listed: dict[str, list[str]], folded: set[str]) -> bytes:
    """``text`` with each package import whose name no package.json lists, where exactly
    one listed name is it when case is ignored, spelled as listed (module doc)."""
    names = {n for spelled in listed.values() for n in spelled}
    source = text
    for found in _PACKAGE_SPECIFIER.finditer(source):
        written = found.group(1).decode("utf-8", "replace")
        spelled = listed.get(written.lower(), [])
        if written in names or len(spelled) != 1 or written.split("/")[0].lower() in folded:
            continue
        quote = source[found.start(1) - 1 : found.start(1)]
        text = text.replace(quote + found.group(1), quote + spelled[0].encode())
    return text


def _holds_views(folder: str, files: dict[str, bytes]) -> bool:
    return any(p.startswith(f"{folder}/") and p.endswith(_VIEW_ENDINGS) for p in files)


def _views_spelled(
    text: bytes, files: dict[str, bytes], by_case: dict[str, list[str]], views: list[str]
) -> bytes:
    """``text`` with each view it renders (``res.render('pages/Login', …)``) that names no
    template in a ``views`` folder of the upload, where exactly one does when case is
    ignored, spelled as that template is (bitners' express-rest-mysql renders
    ``pages/Login`` beside views/pages/login.ejs: Failed to lookup view, 500)."""
    source = text
    for found in _RENDERED.finditer(source):
        written = found.group(1).decode("utf-8", "replace")
        name = written.lstrip("/")
        if not views or name.startswith("."):
            continue
        wanted = [posixpath.join(v, name) for v in views]
        endings = ("", *_VIEW_ENDINGS)
        if any(f"{w}{e}" in files for w in wanted for e in endings):
            continue
        matches = {m for w in wanted for e in endings for m in by_case.get(f"{w}{e}".lower(), ())}
        if len(matches) != 1:
            continue
        (match,) = matches
        folder = next(v for v in views if match.lower().startswith(f"{v.lower()}/"))
        spelled = match[len(folder) + 1 : len(folder) + 1 + len(name)]
        fixed = written[: len(written) - len(name)] + spelled
        quote = source[found.start(1) - 1 : found.start(1)]
        text = text.replace(
            b".render(" + quote + found.group(1) + quote,
            b".render(" + quote + fixed.encode() + quote,
        )
    return text


def _respelled(specifier: str, spelled: str) -> str | None:
    """``specifier`` with its trailing names (those after its last ``.`` or ``..``)
    spelled as the same last parts of ``spelled`` (the file's path, the import's name);
    None where they are not those parts, case ignored."""
    parts = specifier.split("/")
    tail = len(parts)
    while tail and parts[tail - 1] not in (".", "..", ""):
        tail -= 1
    names = parts[tail:]
    wanted = spelled.split("/")[-len(names) :] if names else []
    if len(wanted) != len(names) or [n.lower() for n in names] != [w.lower() for w in wanted]:
        return None
    return "/".join([*parts[:tail], *wanted])


def _esm_spelled(path: str, text: bytes, files: dict[str, bytes]) -> bytes:
    """``text`` (an ES module's) with each relative import naming no file as written, which
    Node's ES module loader requires, spelled with the file CommonJS, a bundler or Bun
    would take: ``./auth.service`` → ``./auth.service.js``, ``./routes`` →
    ``./routes/index.js`` (SandaruShashinda98's express-postgresql-backend: "Cannot find
    module 'modules/auth/auth.service' imported from modules/auth/auth.controller.js")."""
    source = text
    for found in _SPECIFIER.finditer(source):
        written = found.group(1).decode("utf-8", "replace")
        specifier = written.split("?")[0]
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), specifier))
        if target in files or target.startswith("../"):
            continue
        ending = next((e for e in _ESM_ENDINGS if target + e in files), None)
        if ending is None:
            source_ending = next((e for e in _TS_ENDINGS if target + e in files), None)
            if source_ending is None:
                continue
            ending = _TS_ENDINGS[source_ending]
        quote = source[found.start(1) - 1 : found.start(1)]
        fixed = (specifier.rstrip("/") + ending + written[len(specifier) :]).encode()
        text = text.replace(quote + found.group(1) + quote, quote + fixed + quote)
    return text


def _spelled_as(written: str, file: str) -> str | None:
    """The import's last part ``written`` spelled as ``file`` (the file's name) is, its own
    extension kept (``User`` for ``user.ts`` → ``user``; ``Helpers.js`` for ``helpers.ts``
    → ``helpers.js``); None where the two do not match so."""
    if file.lower().startswith(written.lower()):
        return file[: len(written)]
    if spelled := _JS_SPELLING.search(written):
        stem = written[: spelled.start()]
        if file.lower().startswith(stem.lower() + "."):
            return file[: len(stem)] + written[len(stem) :]
    return None


def _base_urls(files: dict[str, bytes]) -> dict[str, str]:
    """``{a project file's folder: the folder its baseUrl names}``, for each
    ``tsconfig.json`` and ``jsconfig.json`` of the upload that gives one."""
    found: dict[str, str] = {}
    for path, data in files.items():
        if not _PROJECT_FILES.search(path) or "node_modules/" in path:
            continue
        if (base := _BASE_URL.search(data)) is not None:
            folder = posixpath.dirname(path)
            value = base.group(1).decode("utf-8", "replace")
            found[folder] = posixpath.normpath(posixpath.join(folder, value))
    return found


def _base_url(path: str, bases: dict[str, str]) -> str | None:
    """The baseUrl of the project nearest ``path``'s folder, if any; "." is the upload's."""
    folder = posixpath.dirname(path)
    while True:
        if folder in bases:
            return "" if bases[folder] == "." else bases[folder]
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def _candidates(target: str) -> list[str]:
    """The files Node's and TypeScript's resolution try for ``target``, in order."""
    found = [target, *(target + e for e in _EXTENSIONS), *(target + i for i in _INDEXES)]
    if spelled := _JS_SPELLING.search(target):
        stem = target[: spelled.start()]
        found.append(f"{stem}.{spelled.group(1)}ts{spelled.group(2)}")
    return found


def python_case_copies(files: dict[str, bytes]) -> dict[str, str]:
    """{a Python module to write: the upload's file it copies}, for each module the
    upload's Python imports that it spells in another case (the module doc); an
    absolute import looked up from the upload's root and from the importing module's
    folder, where a script run there finds it."""
    folded: dict[str, list[str]] = {}
    for path in files:
        folded.setdefault(path.lower(), []).append(path)
    found: dict[str, str] = {}
    for path in python_files(files):
        data = files[path]
        tree = parse_module(data) if b"import" in data and len(data) <= _LARGEST else None
        for module, level in _imported_modules(tree) if tree is not None else ():
            node = ast.ImportFrom(module=module, names=[], level=level)
            looked = [imported_files(path, node)]
            if not level and posixpath.dirname(path):
                beside = posixpath.join(posixpath.dirname(path), module.replace(".", "/"))
                looked.append((f"{beside}.py", f"{beside}/__init__.py"))
            if any(candidate in files for pair in looked for candidate in pair):
                continue
            for file, _ in looked:
                matches = folded.get(file.lower(), [])
                if len(matches) == 1 and file not in found:
                    found[file] = matches[0]
                    break
    return found


def _imported_modules(tree: ast.Module) -> list[tuple[str, int]]:
    """(a module an import names, its level): each ``import a.b``'s, each ``from a import
    b``'s ``a`` and ``a.b`` (``b`` may be a submodule)."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found += [(base, node.level)] if base else []
            found += [
                (f"{base}.{alias.name}" if base else alias.name, node.level)
                for alias in node.names
                if alias.name != "*"
            ]
    return found


# The standard library's modules only Windows has.
_WINDOWS_ONLY = frozenset(
    {
        "asyncio.windows_events",
        "asyncio.windows_utils",
        "msvcrt",
        "winreg",
        "_winreg",
        "winsound",
        "_winapi",
        "msilib",
    }
)
# (their last names, searched for in a module's text before it is parsed)
_NAMES_WINDOWS_ONLY = re.compile(
    "|".join(re.escape(module.rsplit(".", 1)[-1]) for module in sorted(_WINDOWS_ONLY)).encode()
)


def windows_only_imports(files: dict[str, bytes]) -> dict[str, bytes]:
    """Each Python source of the upload with its imports of a Windows-only module for
    names it never uses left out (see the module doc), by path."""
    written: dict[str, bytes] = {}
    for path in python_files(files):
        text = files[path]
        if len(text) > _LARGEST or not _NAMES_WINDOWS_ONLY.search(text):
            continue
        tree = parse_module(text)
        if tree is None:
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        lines = text.split(b"\n")
        left_out = False
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                named = [node.module] if node.module and not node.level else []
            elif isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            else:
                continue
            if not named or not all(name in _WINDOWS_ONLY for name in named):
                continue
            bound = [(a.asname or a.name).split(".")[0] for a in node.names]
            if any(name in used for name in bound):
                continue
            first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
            indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
            lines[first] = indent + b"pass  # an editor's import of a Windows-only module, left out"
            for at in range(first + 1, last + 1):
                lines[at] = b""
            left_out = True
        if left_out:
            written[path] = b"\n".join(lines)
    return written
