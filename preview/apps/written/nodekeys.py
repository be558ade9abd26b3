"""The key and certificate files a Node app's code reads that its upload lacks, and the
icon its favicon middleware serves: :func:`node_key_files` (read with patterns, never
run), and throwaway ones to write there (:func:`node_key_texts`): :mod:`.keyfiles`' rule
for Node's sources.

An Express app serving HTTPS beside HTTP reads ``fs.readFileSync(__dirname +
'/../certificates/server.key')`` and its ``server.crt`` when its configuration module is
imported, and its ``.gitignore`` keeps the folder out of the repository (IanTeda's
express-sequelize-api: ENOENT before it listened); one signing its tokens with RS256
reads ``path.join(__dirname, 'keys/private.pem')`` likewise. A preview needs no
particular key: a new private key, a public key made from it, and a self-signed
certificate of it, written where the code reads them, let it start.

Read: the first argument of each ``readFileSync(…)`` made of string literals,
``__dirname``, ``process.cwd()``, ``path.join``/``path.resolve`` (or ``join``/``resolve``
imported from ``path``), ``+`` and template literals of those, naming a file that ends
in ``.key``, ``.pem``, ``.crt``, ``.cert`` or ``.pub``; or a name (a constant, an
object's property) the app's sources give such a path as a string. Its role is its
name's: a certificate (``.crt``, ``.cert``, ``cert`` in its name), a public key (``.pub``,
``public``/``pub``), else a private key (``.key``, ``private``/``priv``); a ``.pem`` that
names none is left alone. A public key or certificate is made from the private key of
its folder (the one written, or the upload's own), else from one of its own.

An Express app's ``app.use(favicon('./public/favicon.ico'))`` (serve-favicon, which
stats its file as the middleware is made) whose ``public`` folder its ``.gitignore``
keeps out threw ENOENT before it listened (Whiskydog's express-twitter): the icon's path
is read as a key's is, from the call of the name serve-favicon is imported as (or of
``require('serve-favicon')`` itself), and a blank icon (one transparent pixel) written.
"""

from __future__ import annotations

import json
import posixpath
import re
import struct
import subprocess
import tempfile
from pathlib import Path

__all__ = [
    "ENV_KEYS_FOLDER",
    "FAVICON",
    "key_algorithm",
    "node_key_files",
    "node_key_texts",
    "node_key_variables",
    "node_path",
    "service_account_text",
]

PRIVATE, PUBLIC, CERTIFICATE, FAVICON = "private", "public", "certificate", "favicon"
_SOURCES = re.compile(r"\.(?:[cm]?[jt]s|[jt]sx)$")
_READ = re.compile(rb"\breadFileSync\s*\(")
_KEY_NAME = re.compile(r"\.(?:key|pem|crt|cert|pub)$")
_LARGEST = 512 * 1024  # bytes: a bundle, not the app's own code
_OPENSSL_TIME = 30  # seconds for one openssl run
# The tokens of a path expression: a string, a template literal, a name, an operator.
_TOKEN = re.compile(
    r"""\s*(?:(?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<template>`[^`]*`)|(?P<name>[A-Za-z_$][\w$.]*)|(?P<op>[+(),}]))"""
)
_JOINS = {"path.join", "join", "path.resolve", "resolve", "path.posix.join"}
_CWD = "process.cwd"
# serve-favicon, bound to a name (``const favicon = require('serve-favicon')``, ``import
# favicon from 'serve-favicon'``), or called as it is required.
_SERVE_FAVICON = r"""['"]serve-favicon['"]"""
_FAVICON_NAME = re.compile(
    r"""\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*require\(\s*"""
    + _SERVE_FAVICON
    + r"""|\bimport\s+(?:\*\s+as\s+)?([A-Za-z_$][\w$]*)\s+from\s+"""
    + _SERVE_FAVICON
)
_FAVICON_CALLED = re.compile(r"""\brequire\(\s*""" + _SERVE_FAVICON + r"""\s*\)\s*\(""")
# A 1×1 icon, its one pixel transparent: the ICO header, its one entry, and the entry's
# image (a 32-bit bitmap: its header, the pixel, the AND mask's row padded to 4 bytes).
_BITMAP = struct.pack("<IiiHHIIiiII", 40, 1, 2, 1, 32, 0, 8, 0, 0, 0, 0) + bytes(8)
_BLANK_ICON = (
    struct.pack("<HHH", 0, 1, 1)
    + struct.pack("<BBBBHHII", 1, 1, 0, 0, 1, 32, len(_BITMAP), 22)
    + _BITMAP
)


# A key file's path read from a variable whose default is an absolute path of the
# author's image (fnalabs's starter-koa2-js: ``process.env.SSL_CERT_PATH ??
# '/cert/ssl-cert.pem'``, which its image's install script makes; ENOENT before it
# listened): the key is written in the app's folder, and the variable names it there.
_ENV_DEFAULTED_KEY = re.compile(
    r"""\bprocess\.env\.([A-Za-z_]\w*)\s*(?:\?\?|\|\|)\s*(['"`])"""
    r"""(/[^'"`$\n]+\.(?:key|pem|crt|cert|pub))\2"""
)
ENV_KEYS_FOLDER = ".preview-keys"


def node_key_variables(files: dict[str, bytes]) -> dict[str, str]:
    """``{variable: the upload path of the key file written for it}`` of the key files
    the upload's Node code reads from a variable defaulting to an absolute path (the
    author's image's), which no preview has: each written under :data:`ENV_KEYS_FOLDER`
    by :func:`node_key_files`, the variable given its path there."""
    found: dict[str, str] = {}
    for source, data in files.items():
        if not _SOURCES.search(source) or "node_modules/" in source or len(data) > _LARGEST:
            continue
        if b"process.env" not in data:
            continue
        for match in _ENV_DEFAULTED_KEY.finditer(data.decode("utf-8", "replace")):
            written = f"{ENV_KEYS_FOLDER}/{posixpath.basename(match.group(3))}"
            if _role(written) is not None:
                found.setdefault(match.group(1), written)
    return found


def node_key_files(files: dict[str, bytes]) -> dict[str, str]:
    """``{path: role}`` (``private``, ``public``, ``certificate``; ``favicon``) of the key
    files (and favicon) the upload's Node code reads and lacks, by their paths in the
    upload (module doc), and those of :func:`node_key_variables`."""
    found: dict[str, str] = {}
    for path in node_key_variables(files).values():
        if path not in files and (role := _role(path)) is not None:
            found.setdefault(path, role)
    constants = _key_constants(files)
    for source, data in files.items():
        if not _SOURCES.search(source) or "node_modules/" in source or len(data) > _LARGEST:
            continue
        if b"readFileSync" not in data and b"serve-favicon" not in data:
            continue
        text = data.decode("utf-8", "replace")
        for path in _favicon_paths(text, posixpath.dirname(source)):
            if not path.startswith("../") and path not in files:
                found.setdefault(path, FAVICON)
        for call in _READ.finditer(data):
            named = _NAMED.match(text[call.end() :])
            if named is not None and named.group(1) in constants:
                path = constants[named.group(1)]
            else:
                path = _path_of(text[call.end() :], posixpath.dirname(source))
            if path is None or path.startswith("../") or path in files:
                continue
            if (role := _role(path)) is not None:
                found.setdefault(path, role)
    return found


def _favicon_paths(text: str, folder: str) -> list[str]:
    """The paths a source's calls of serve-favicon name (module doc); ``folder``: the
    source's."""
    if "serve-favicon" not in text:
        return []
    starts = [m.end() for m in _FAVICON_CALLED.finditer(text)]
    for bound in _FAVICON_NAME.finditer(text):
        name = re.escape(bound.group(1) or bound.group(2))
        starts += [call.end() for call in re.finditer(rf"(?<![\w$.]){name}\s*\(", text)]
    paths = [_path_of(text[start:], folder) for start in starts]
    return [path for path in paths if path is not None]


# A constant the code names a key file by, given its path as a string in the app's own
# code (anuragtiwari890's nestjs-jwt-refresh-token-example: ``AuthConfig`` of
# src/config.ts holds ``JWT_TOKEN_PRIVATE_KEY_PATH: 'keys/jwt-token-private.key'``, read
# by ``fs.readFileSync(AuthConfig.JWT_TOKEN_PRIVATE_KEY_PATH, 'utf8')``; ENOENT before).
_CONSTANT = re.compile(
    r"""\b([A-Za-z_$][\w$]*)["']?\s*[:=]\s*(['"`])([^'"`$\n]+\.(?:key|pem|crt|cert|pub))\2"""
)
_NAMED = re.compile(r"\s*(?:[A-Za-z_$][\w$]*\.)*([A-Za-z_$][\w$]*)\s*[,)]")


def _key_constants(files: dict[str, bytes]) -> dict[str, str]:
    """``{name: the upload path it holds}`` of the names the app's sources give a key
    file's relative path (from the working directory, the upload's root), each name
    given one path only."""
    found: dict[str, set[str]] = {}
    for source, data in files.items():
        if not _SOURCES.search(source) or "node_modules/" in source or len(data) > _LARGEST:
            continue
        for match in _CONSTANT.finditer(data.decode("utf-8", "replace")):
            path = posixpath.normpath(match.group(3))
            if not path.startswith(("/", "../")):
                found.setdefault(match.group(1), set()).add(path)
    return {name: paths.pop() for name, paths in found.items() if len(paths) == 1}


def node_key_texts(keys: dict[str, str], files: dict[str, bytes]) -> dict[str, bytes]:
    """The PEM text of each file of :func:`node_key_files` (blocking: runs openssl), the
    private keys first; none without a working openssl (the app then says what it
    lacks, as before). An icon's: :data:`_BLANK_ICON`, openssl or not."""
    icons = {path: _BLANK_ICON for path, role in keys.items() if role == FAVICON}
    keys = {path: role for path, role in keys.items() if role != FAVICON}
    if not keys:
        return icons
    texts: dict[str, bytes] = {}
    generate = ["genpkey", *key_algorithm(files)]
    try:
        with tempfile.TemporaryDirectory(prefix="preview-keys-") as work:
            for path, role in keys.items():
                if role == PRIVATE:
                    texts[path] = _openssl(generate, None, work)
            for path, role in keys.items():
                if role == PRIVATE:
                    continue
                private = _private_beside(path, texts, files)
                if private is None:
                    private = _openssl(generate, None, work)
                if role == PUBLIC:
                    texts[path] = _openssl(["pkey", "-pubout"], private, work)
                else:
                    made = ["req", "-x509", "-new", "-subj", "/CN=localhost", "-days", "825"]
                    texts[path] = _openssl([*made, "-key"], private, work)
    except (OSError, subprocess.SubprocessError):
        return icons
    return texts | icons


def key_algorithm(files: dict[str, bytes]) -> list[str]:
    """openssl genpkey's options for the kind of key the app's code signs or checks its
    tokens with: the one family of JSON Web Token algorithms its sources name (``"EdDSA"``:
    Ed25519; ``"ES256"``: an EC key on P-256 …), else RSA's, which RS256 and PS256 take;
    its examples and tests left out.
    guigiusti's fastify-url-shortener checks its tokens with ``algorithms: ["EdDSA"]``
    and a public.pem its README makes with ``openssl genpkey -algorithm ed25519``: given an
    RSA key, fast-jwt refused it at start ("Invalid public key provided for algorithms
    EdDSA")."""
    kinds: set[tuple[str, ...]] = set()
    for source, data in files.items():
        if not _SOURCES.search(source) or _NOT_SERVED.search(source) or len(data) > _LARGEST:
            continue
        for name in _JWT_ALGORITHM.findall(data):
            kinds.add(_KINDS.get(name.decode(), _RSA))
    return list(kinds.pop()) if len(kinds) == 1 else list(_RSA)  # (several: not read here)


# Code that is not the app's served code: its examples and tests (guigiusti's
# example/admin_request.ts, a client's, signs with ES256, its server checks EdDSA).
_NOT_SERVED = re.compile(
    r"(?:^|/)(?:examples?|samples?|tests?|__tests__|spec|node_modules)/|\.(?:spec|test)\.[cm]?[jt]s$"
)
# A JSON Web Token algorithm's name, quoted in the code (``algorithm: 'ES256'``).
_JWT_ALGORITHM = re.compile(rb"""["'`]((?:RS|PS|ES)(?:256|384|512)|EdDSA)["'`]""")
_RSA = ("-algorithm", "RSA")
_KINDS = {
    "EdDSA": ("-algorithm", "ed25519"),
    "ES256": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
    "ES384": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"),
    "ES512": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"),
}


def service_account_text(data: bytes) -> bytes | None:
    """A Google service account's key file (``"type": "service_account"``, as Firebase's
    console gives it) whose private key is a placeholder (``"xxx"``): the same, with a
    private key made for the preview (blocking: runs openssl); None for any other file,
    or without a working openssl. rad-eric's koa-typescript-starter commits
    ``serviceAccountKey.sample.json`` so, copied where its code reads the real one;
    firebase-admin's ``credential.cert`` refused it at import ("Failed to parse private
    key: Invalid PEM formatted message"). Nothing is signed with it before a call to
    Google, which a preview's sandbox does not reach."""
    try:
        account = json.loads(data)
    except ValueError:
        return None
    if not isinstance(account, dict) or account.get("type") != "service_account":
        return None
    key = account.get("private_key")
    if isinstance(key, str) and "-----BEGIN" in key:
        return None
    try:
        with tempfile.TemporaryDirectory(prefix="preview-keys-") as work:
            private = _openssl(["genpkey", "-algorithm", "RSA"], None, work)
    except (OSError, subprocess.SubprocessError):
        return None
    account["private_key"] = private.decode()
    return (json.dumps(account, indent=2) + "\n").encode()


def _private_beside(path: str, texts: dict[str, bytes], files: dict[str, bytes]) -> bytes | None:
    """The private key a public key or certificate is made from: the one of its folder
    whose name pairs with its own (``server.key`` for ``server.crt``, ``private.pem`` for
    ``public.pem``), else its folder's only one, written or the upload's."""
    folder, name = posixpath.split(path)
    privates = {
        p: t
        for p, t in [*texts.items(), *files.items()]
        if posixpath.dirname(p) == folder and _role(p) == PRIVATE
    }
    for candidate, text in privates.items():
        if _pair_name(posixpath.basename(candidate)) == _pair_name(name):
            return text
    return next(iter(privates.values())) if len(privates) == 1 else None


def _pair_name(name: str) -> str:
    """A key file's name without its extensions and role words: the same for a pair's
    files (``jwtRS256.key`` and ``jwtRS256.key.pub``, ``private.pem`` and ``public.pem``)."""
    name = name.lower()
    while (extension := _KEY_NAME.search(name)) is not None:
        name = name[: extension.start()]
    return re.sub(r"priv(?:ate)?|pub(?:lic)?|cert(?:ificate)?|[-_.]", "", name)


def _role(path: str) -> str | None:
    name = posixpath.basename(path).lower()
    if not _KEY_NAME.search(name):
        return None
    if name.endswith((".crt", ".cert")) or "cert" in name or "chain" in name:
        return CERTIFICATE
    if name.endswith(".pub") or re.search(r"pub(?:lic)?", name):
        return PUBLIC
    if name.endswith(".key") or re.search(r"priv(?:ate)?|(?:^|[-_.])key(?:[-_.]|$)", name):
        return PRIVATE  # (``server.key``, ``private.pem``, ``key.pem``, ``ssl-key.pem``)
    return None


def node_path(text: str, folder: str) -> str | None:
    """The upload path the Node path expression at the start of ``text`` names (a call's
    argument, an object's property's value, up to its ``,``, ``)`` or ``}``; of the kinds
    the module doc reads), from a source in ``folder``; None for any other."""
    return _path_of(text, folder)


def _path_of(text: str, folder: str) -> str | None:
    """The upload path the expression at the start of ``text`` (a call's first
    argument, up to its ``,`` or ``)``) names; None where it is not a path of the kinds
    the module doc reads. ``folder``: the source's (``__dirname``); the working directory
    is the upload's root."""
    read = _tokens(text)
    if read is None or not read[1]:
        return None  # (not a whole argument: no ``,``, ``)`` or ``}`` ends it)
    parsed = _sum(read[0], folder)
    if parsed is None or parsed[1]:
        return None
    # (relative: the working directory's, the upload's root). One leaving it (hjh0516's
    # koa-socket-server reads ``'../ssl/privkey.pem'`` from the root it runs in: its
    # server's certificates beside its checkout) stays so, for its callers to leave out,
    # never read as the root's own ``ssl/``.
    body = parsed[0].lstrip("/")
    normal = posixpath.normpath(body) if body else "."
    if normal == "..":
        return None
    return "" if normal == "." else normal


def _sum(tokens: list[tuple[str, str]], folder: str) -> tuple[str, list] | None:
    """(the string, the tokens left) of ``a + b + …`` at the start of ``tokens``."""
    first = _term(tokens, folder)
    if first is None:
        return None
    value, rest = first
    while rest and rest[0] == ("op", "+"):
        following = _term(rest[1:], folder)
        if following is None:
            return None
        more, rest = following
        value += more
    return value, rest


def _term(tokens: list[tuple[str, str]], folder: str) -> tuple[str, list] | None:
    if not tokens:
        return None
    (kind, value), rest = tokens[0], tokens[1:]
    here = "/" + folder if folder else "/"
    if kind == "string":
        return value[1:-1], rest
    if kind == "template":
        # Each ``${…}`` a path expression of its own (pnzrkmpfwgn's eCommerceAPIFastify:
        # `${path.join(__dirname, 'certs')}/private.key`).
        parts = _PLACEHOLDER.split(value[1:-1])
        for index in range(1, len(parts), 2):
            inner = _whole(parts[index], folder)
            if inner is None:
                return None
            parts[index] = inner
        return "".join(parts), rest
    if kind == "name" and value == "__dirname":
        return here, rest
    if kind == "name" and value == _CWD and rest[:2] == [("op", "("), ("op", ")")]:
        return "/", rest[2:]
    if kind == "name" and value in _JOINS and rest[:1] == [("op", "(")]:
        parts: list[str] = []
        rest = rest[1:]
        while True:
            argument = _sum(rest, folder)
            if argument is None:
                return None
            part, rest = argument
            parts.append(part)
            if rest[:1] == [("op", ",")]:
                rest = rest[1:]
                continue
            if rest[:1] == [("op", ")")]:
                break
            return None
        joined = posixpath.join(*parts) if parts else ""
        if "resolve" in value and not joined.startswith("/"):
            joined = "/" + joined  # resolve: from the working directory
        return joined, rest[1:]
    return None


_PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")


def _whole(text: str, folder: str) -> str | None:
    """The string the whole path expression ``text`` makes (``_sum``), else None."""
    read = _tokens(text)
    if read is None or read[1]:
        return None  # (a ``,``, ``)`` or ``}`` of its own ends it before its end)
    parsed = _sum(read[0], folder)
    return parsed[0] if parsed is not None and not parsed[1] else None


def _tokens(text: str) -> tuple[list[tuple[str, str]], bool] | None:
    """The tokens of the expression at the start of ``text`` (at most 40), and whether a
    ``,``, ``)`` or ``}`` outside its parentheses ended it (else the text did); None where
    a token does not read."""
    tokens: list[tuple[str, str]] = []
    at = 0
    depth = 0
    while at < len(text.rstrip()) and len(tokens) < 40:
        match = _TOKEN.match(text, at)
        if match is None:
            return None
        kind = match.lastgroup or ""
        value = match.group(kind)
        at = match.end()
        if kind == "op" and value in ",)}" and depth == 0:
            return tokens, True
        depth += value == "(" if kind == "op" else 0
        depth -= value == ")" if kind == "op" else 0
        tokens.append((kind, value))
    return (tokens, False) if at >= len(text.rstrip()) else None


def _openssl(arguments: list[str], given: bytes | None, work: str) -> bytes:
    """openssl's output for ``arguments``, given the PEM ``given`` as its input (the
    file after a final ``-key``, else its ``-in``)."""
    if given is not None:
        source = Path(work, "in.pem")
        source.write_bytes(given)
        arguments = (
            [*arguments, str(source)]
            if arguments[-1] == "-key"
            else [*arguments, "-in", str(source)]
        )
    done = subprocess.run(
        ["openssl", *arguments], capture_output=True, check=True, timeout=_OPENSSL_TIME
    )
    return done.stdout
