"""The key files an app's code reads that its upload lacks: :func:`key_files` (read with
:mod:`ast`, never run), and a throwaway RSA key pair to write there (:func:`key_texts`).

An app signing its JWTs with RS256 reads a private and a public key from PEM files
(``BASE_DIR / 'certs/jwt-private.pem'``) that its author generated once (its README:
``openssl genrsa -out jwt-private.pem 2048``) and kept out of the repository, the private
one at least: the module that reads them at import died on ``FileNotFoundError`` before
the app served (steqa's fastapi-jwt-auth, dima-doroshenko's fastapi-jwt-auth-example). A
preview's tokens need no particular key: a new pair, made for the preview and written
where the code reads it, lets it start; the public key is the private one's where both
are missing. Read: a path of string constants, ``__file__``, ``os.path`` and
``pathlib`` operations and the module-level names it is built from (as
:mod:`.logfiles` reads a log file's), ending in ``.pem`` and naming a private or public
key (``private``/``priv``, ``public``/``pub``), or in ``.key`` (a private key unless named
public); a certificate's is not a key's.
"""

from __future__ import annotations

import ast
import posixpath
import re
import subprocess
import tempfile
from pathlib import Path

from ...discovery.pyast import keywords, last_name
from ..pyapp import parse_module, python_files
from .logfiles import bound_names, module_names, path_of

__all__ = ["key_files", "key_texts"]

_PRIVATE = re.compile(r"priv(?:ate)?", re.IGNORECASE)
_PUBLIC = re.compile(r"pub(?:lic)?", re.IGNORECASE)
_OPENSSL_TIME = 30  # seconds for one openssl run (a 2048-bit key takes well under one)


def key_files(files: dict[str, bytes]) -> dict[str, str | None]:
    """``{path: role}`` of the key files to write (module doc), by their paths in the
    upload: ``None`` for a private key, else the path of the private key a public one is
    made from (written too, or the upload's own)."""
    found: dict[str, str] = {}  # a path: its role ("private", "public")
    bound: dict[str, tuple[ast.expr, str]] | None = None
    for module in python_files(files):
        data = files[module]
        loads = _LOADERS.search(data) is not None or _KEY_PATH_READ.search(data) is not None
        named = b".pem" in data or b".key" in data
        if (not named and not loads) or (tree := parse_module(data)) is None:
            continue
        if bound is None:
            bound = bound_names(files)
        here = {**module_names(tree, module), **bound}
        for node in ast.walk(tree):
            if isinstance(node, ast.With) and loads:
                _loaded_keys(node, module, here, found)
            elif isinstance(node, ast.Call) and loads and (read := _key_path_default(node)):
                found.setdefault(posixpath.normpath(read[0]).lstrip("/"), read[1])
            if not isinstance(node, (ast.BinOp, ast.Call, ast.Constant, ast.JoinedStr)):
                continue
            path = path_of(node, module, here)
            if path is None or not path.endswith(_KEY_SUFFIXES):
                continue
            path = posixpath.normpath(path).lstrip("/")
            if (role := _role(path)) is not None:
                found.setdefault(path, role)
    # A part of a longer path the code makes ("certs/jwt-private.pem" of BASE_DIR / …) is
    # not a file of its own.
    wanted = [p for p in found if not any(q.endswith("/" + p) for q in found)]
    privates = [p for p in wanted if found[p] == "private"]
    keys: dict[str, str | None] = {}
    for path in wanted:
        if path in files:
            continue
        # A public key: its private key's (written too, or the upload's), else a
        # throwaway one's ("").
        keys[path] = None if found[path] == "private" else (_private_of(path, privates) or "")
    return keys


# cryptography's and PyCryptodome's PEM key loaders, by the role of what they load.
_LOADER_ROLES = {
    "load_pem_private_key": "private",
    "load_pem_public_key": "public",
}
_LOADERS = re.compile(rb"load_pem_(?:private|public)_key")
# A key file's name: a PEM file named for its role (``jwt-private.pem``), or ``.key``, a
# private key's own (openssl's ``server.key``; vuongle98's django-core-rest-api reads
# ``oidc.key`` in its settings, for its OIDC provider's and its JWTs' signing key).
_KEY_SUFFIXES = (".pem", ".key")
# A variable naming a key file's path (AUTHJWT_PRIVATE_KEY_PATH, JWT_PUBLIC_KEY_FILE).
_KEY_PATH_NAME = re.compile(r"(?:^|_)(PRIVATE|PUBLIC)_KEY_(?:PATH|FILE)$")
_KEY_PATH_READ = re.compile(rb"(?:PRIVATE|PUBLIC)_KEY_(?:PATH|FILE)[\"']")


def _loaded_keys(node: ast.With, module: str, here: dict, found: dict[str, str]) -> None:
    """The key files a ``with open(path) as f:`` block gives a PEM key loader
    (``serialization.load_pem_private_key(f.read(), …)``), each by the loader's role,
    whatever the file's name: jawadshahid07's fastapi-user-order-api reads
    ``.ssh/jwtRS256`` so, and ``.ssh/jwtRS256.pem`` with load_pem_public_key."""
    roles = {
        role
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and (role := _LOADER_ROLES.get(last_name(n.func) or ""))
    }
    if len(roles) != 1:
        return
    for item in node.items:
        opened = item.context_expr
        if isinstance(opened, ast.Call) and last_name(opened.func) == "open" and opened.args:
            path = path_of(opened.args[0], module, here)
            if path is not None:
                found.setdefault(posixpath.normpath(path).lstrip("/"), roles.pop())
                return


def _key_path_default(call: ast.Call) -> tuple[str, str] | None:
    """(the default path, its role) of a read of a variable naming a key file's path
    (``config("AUTHJWT_PRIVATE_KEY_PATH", default="private")``, ``os.getenv(
    "JWT_PUBLIC_KEY_FILE", "keys/public.pem")``): stepan-fedorovv's fastapi-user-service
    reads its RS256 keys from there at import, and its upload has none."""
    first = call.args[0] if call.args else None
    if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
        return None
    named = _KEY_PATH_NAME.search(first.value.upper())
    default = call.args[1] if len(call.args) > 1 else None
    default = default or keywords(call).get("default")
    if named is None or not isinstance(default, ast.Constant):
        return None
    if not isinstance(default.value, str) or not default.value.strip():
        return None
    return default.value, named.group(1).lower()


def key_texts(keys: dict[str, str | None], files: dict[str, bytes]) -> dict[str, bytes]:
    """The PEM text of each key of :func:`key_files` (blocking: runs openssl), the private
    keys first; a public key made from its private key, the upload's own if it has it.
    Without a working openssl, none (the app then says what it lacks, as before)."""
    texts: dict[str, bytes] = {}
    try:
        _make_keys(keys, files, texts)
    except (OSError, subprocess.SubprocessError):
        return {}
    return texts


def _make_keys(
    keys: dict[str, str | None], files: dict[str, bytes], texts: dict[str, bytes]
) -> None:
    with tempfile.TemporaryDirectory(prefix="preview-keys-") as work:
        for path, role in keys.items():
            if role is None:
                texts[path] = _openssl(["genpkey", "-algorithm", "RSA"], None, work)
        for path, role in keys.items():
            if role is not None:
                private = texts.get(role) or files.get(role)
                if private is None:  # (no private key of the code's: one for it alone)
                    private = _openssl(["genpkey", "-algorithm", "RSA"], None, work)
                texts[path] = _openssl(["pkey", "-pubout"], private, work)


def _openssl(arguments: list[str], given: bytes | None, work: str) -> bytes:
    source = Path(work, "in.pem")
    if given is not None:
        source.write_bytes(given)
        arguments = [*arguments, "-in", str(source)]
    done = subprocess.run(
        ["openssl", *arguments], capture_output=True, check=True, timeout=_OPENSSL_TIME
    )
    return done.stdout


def _role(path: str) -> str | None:
    name = posixpath.basename(path)
    if _PRIVATE.search(name):
        return "private"
    if _PUBLIC.search(name):
        return "public"
    return "private" if name.endswith(".key") else None


def _private_of(public: str, privates: list[str]) -> str | None:
    """The private key a public key's name pairs with (``jwt-public.pem``:
    ``jwt-private.pem``), in its folder; else the only private key of the code."""
    folder, name = posixpath.split(public)
    for private in privates:
        if posixpath.dirname(private) != folder:
            continue
        other = posixpath.basename(private)
        if _PUBLIC.sub("", name).lower() == _PRIVATE.sub("", other).lower():
            return private
    return privates[0] if len(privates) == 1 else None
