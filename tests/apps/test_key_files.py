"""The key files an app's code reads and its repository leaves out (preview.apps.written
.keyfiles): found from the code's paths, written as a key pair made for the preview."""

from __future__ import annotations

import json
import subprocess

import trio

from preview.apps.written import (
    FAVICON,
    key_files,
    key_texts,
    node_key_files,
    node_key_texts,
    node_key_variables,
    service_account_text,
)

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages


def _files() -> dict[str, bytes]:
    return {p: t.encode() for p, t in app_files("fastapi_jwt_key_files").items()}


def test_the_key_files_the_code_reads_are_found_and_made_as_a_pair() -> None:
    files = _files()
    keys = key_files(files)
    private, public = "api/certs/jwt-private.pem", "api/certs/jwt-public.pem"
    assert keys == {private: None, public: private}, keys
    texts = key_texts(keys, files)
    assert texts[private].startswith(b"-----BEGIN PRIVATE KEY-----")
    derived = subprocess.run(
        ["openssl", "pkey", "-pubout"], input=texts[private], capture_output=True, check=True
    ).stdout
    assert texts[public] == derived  # the public key is the private one's
    # The upload's own public key stays; only the private key it lacks is made.
    assert key_files({**files, public: derived}) == {private: None}
    # A certificate is not a key; a code that reads no .pem asks for none.
    certificate = {"app.py": b"CERT = 'certs/server.pem'\n"}
    assert key_files(certificate) == {}


def test_a_dot_key_file_the_code_reads_is_a_private_key_unless_named_public() -> None:
    """vuongle98's django-core-rest-api: its settings read ``open('oidc.key').read()`` as
    its OIDC provider's RSA key and its JWTs' signing key; the file is git-ignored, and
    makemigrations, migrate and the app all died on FileNotFoundError."""
    settings = b"""SIMPLE_JWT = {'SIGNING_KEY': open('oidc.key').read()}
OIDC_RSA_PRIVATE_KEY = open('oidc.key').read()
VERIFYING_KEY = open('keys/public.key').read()
"""
    keys = key_files({"vungo/settings.py": settings, "manage.py": b""})
    assert keys == {"oidc.key": None, "keys/public.key": "oidc.key"}, keys


def test_key_files_named_by_their_loader_or_their_variable_are_made() -> None:
    """jawadshahid07's fastapi-user-order-api opens ``.ssh/jwtRS256`` for cryptography's
    load_pem_private_key, ``.ssh/jwtRS256.pem`` for load_pem_public_key; stepan-fedorovv's
    fastapi-user-service reads ``config("AUTHJWT_PRIVATE_KEY_PATH", default="private")``.
    Neither file is in the upload nor says its role by its name."""
    loaded = b"""from cryptography.hazmat.primitives import serialization
with open(".ssh/jwtRS256", "rb") as key_file:
    PRIVATE_KEY = serialization.load_pem_private_key(key_file.read(), password=None)
with open(".ssh/jwtRS256.pem", "rb") as key_file:
    PUBLIC_KEY = serialization.load_pem_public_key(key_file.read())
with open("data/seed.json") as seed:
    SEED = seed.read()
"""
    assert key_files({"app/auth/keys.py": loaded}) == {
        ".ssh/jwtRS256": None,
        ".ssh/jwtRS256.pem": ".ssh/jwtRS256",
    }
    configured = b"""from starlette.config import Config
config = Config(".env")
PRIVATE = config("AUTHJWT_PRIVATE_KEY_PATH", cast=str, default="private")
PUBLIC = config("AUTHJWT_PUBLIC_KEY_PATH", cast=str, default="public")
OTHER = config("UPLOAD_PATH", default="uploads")
"""
    keys = key_files({"app/core/settings.py": configured})
    assert keys == {"private": None, "public": "private"}
    texts = key_texts(keys, {})
    assert texts["public"].startswith(b"-----BEGIN PUBLIC KEY-----")
    # The upload's own file stays.
    assert key_files({"app/core/settings.py": configured, "private": b"x"}) == {"public": "private"}


def test_key_files_a_settings_class_names_from_the_working_directory_are_made() -> None:
    """csmqbusy's fastapi-personal-finances: its settings class names ``certs_path: Path =
    get_correct_cwd() / "certs"``, then ``private_key_path: Path = certs_path /
    "private_key.pem"``, ``get_correct_cwd()`` being ``Path.cwd()`` (its parent when run
    from ``app/``); its auth service read the key at import: FileNotFoundError."""
    config = b"""from pathlib import Path
from pydantic import BaseModel


def get_correct_cwd(sources_dir_name: str = "app") -> Path:
    cwd = Path.cwd()
    if cwd.name == sources_dir_name:
        cwd = cwd.parent
    return cwd


def module_dir() -> Path:
    return Path(__file__).parent


class JWTAuth(BaseModel):
    certs_path: Path = get_correct_cwd() / "certs"
    private_key_path: Path = certs_path / "private_key.pem"
    public_key_path: Path = certs_path / "public_key.pem"
    algorithm: str = "RS256"
"""
    private, public = "certs/private_key.pem", "certs/public_key.pem"
    assert key_files({"app/core/config.py": config}) == {private: None, public: private}
    # os.getcwd() too; a function reading its module's file is not the working directory.
    cwd = config.replace(b"get_correct_cwd() / ", b"Path(os.getcwd()) / ")
    assert key_files({"app/core/config.py": cwd}) == {private: None, public: private}
    beside = config.replace(b"get_correct_cwd() / ", b"module_dir() / ")
    assert not any(path.startswith("certs/") for path in key_files({"config.py": beside}))


async def test_an_app_reading_its_signing_keys_at_import_starts(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_jwt_key_files"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any(line.startswith("no api/certs/jwt-private.pem") for line in said), said
        assert (await service.app_get(body, "/keys")).json() == {
            "private": "-----BEGIN PRIVATE KEY-----",
            "public": "-----BEGIN PUBLIC KEY-----",
        }
        assert (await service.stop(body["gid"])).status_code == 200


def test_the_keys_and_certificates_node_code_reads_are_found_by_role() -> None:
    files = {p: t.encode() for p, t in app_files("node_https_keys").items()}
    assert node_key_files(files) == {
        "certs/server.key": "private",
        "certs/server.crt": "certificate",
    }
    sources = {
        "src/auth/jwt.js": b"const privateKey = fs.readFileSync(path.join(__dirname, "
        b"'../../keys/private.pem'), 'utf8');\n"
        b"const publicKey = readFileSync(`${__dirname}/../../keys/public.pem`);\n"
        b"const other = fs.readFileSync(process.cwd() + '/keys/jwtRS256.key.pub');\n"
        # a template literal's expression a path of its own (pnzrkmpfwgn's
        # eCommerceAPIFastify)
        b"const cert = readFileSync(`${path.join(__dirname, '../../certs')}/site.crt`);\n"
        b"const fromConfig = fs.readFileSync(config.keyFile);\n"  # not a path it can read
        b"const data = fs.readFileSync('./data/seed.pem');\n",  # a .pem naming no role
        "keys/present.key": b"",
        "src/tls.ts": b"readFileSync(path.resolve('keys', 'present.key'))\n",  # it has it
        "node_modules/x/index.js": b"fs.readFileSync(__dirname + '/missing.key')\n",
    }
    found = node_key_files(sources)
    assert found == {
        "keys/private.pem": "private",
        "keys/public.pem": "public",
        "keys/jwtRS256.key.pub": "public",
        "certs/site.crt": "certificate",
    }, found
    texts = node_key_texts(found, sources)
    derived = subprocess.run(
        ["openssl", "pkey", "-pubout"],
        input=texts["keys/private.pem"],
        capture_output=True,
        check=True,
    ).stdout
    assert texts["keys/public.pem"] == derived  # made from the private key of its folder


def test_node_keys_read_from_outside_the_upload_are_not_made_in_it() -> None:
    """hjh0516's koa-socket-server runs ``node ./src/app.js`` from its root and reads
    ``fs.readFileSync('../ssl/privkey.pem')``: its server's certificates beside its
    checkout, outside the upload. They were made in the upload's own ssl/, which it never
    reads (the same ENOENT, and a note saying they were made); a path from ``__dirname``
    climbing past the root likewise."""
    sources = {
        "src/app.js": b"const options = { key: fs.readFileSync('../ssl/privkey.pem'),\n"
        b"  cert: fs.readFileSync(path.join(__dirname, '../../ssl/fullchain.pem')) };\n"
        b"const own = fs.readFileSync(path.join(__dirname, '../certs/server.key'));\n",
    }
    assert node_key_files(sources) == {"certs/server.key": "private"}


def test_node_keys_are_of_the_kind_its_token_algorithm_takes() -> None:
    """guigiusti's fastify-url-shortener: ``readFileSync("./public.pem")`` checked with
    ``algorithms: ["EdDSA"]``; an RSA key made for it was refused at start. The pair is
    Ed25519's; an EC key on the curve ES256 names; RSA's where the code names none, or
    RS256."""
    sources = {
        "src/plugins/jwt.ts": b'const PUBLIC_KEY = readFileSync("./public.pem");\n'
        b"fastify.register(JWT, { secret: { public: PUBLIC_KEY }, verify: { algorithms: "
        b'["EdDSA"] } });\n',
    }
    keys = node_key_files(sources)
    assert keys == {"public.pem": "public"}, keys
    # (its example of a client's signs with another: not the app's served code)
    sources["example/admin_request.ts"] = b'jwt.sign(claims, key, { algorithm: "ES256" });\n'
    texts = node_key_texts({"private.pem": "private", **keys}, sources)
    assert _key_kind(texts["private.pem"]) == "ED25519"
    assert _key_kind(texts["public.pem"]) == "ED25519"
    sources["src/plugins/jwt.ts"] = sources["src/plugins/jwt.ts"].replace(b"EdDSA", b"ES256")
    assert "prime256v1" in _key_kind(node_key_texts(keys, sources)["public.pem"])
    sources["src/plugins/jwt.ts"] = sources["src/plugins/jwt.ts"].replace(b"ES256", b"RS256")
    assert _key_kind(node_key_texts(keys, sources)["public.pem"]).startswith("RSA")


def _key_kind(pem: bytes) -> str:
    """openssl's word for a PEM key's kind (``ED25519``, an EC key's curve, ``RSA``)."""
    public = b"PUBLIC" in pem.split(b"\n", 1)[0]
    command = ["openssl", "pkey", "-noout", "-text", *(["-pubin"] if public else [])]
    text = subprocess.run(command, input=pem, capture_output=True, check=True).stdout.decode()
    first = text.splitlines()[0]
    if "ED25519" in first:
        return "ED25519"
    curve = next((line for line in text.splitlines() if "ASN1 OID" in line), "")
    return curve or ("RSA" if "Public-Key" in first or "Private-Key" in first else first)


async def test_a_node_app_reading_its_https_key_and_certificate_at_start_starts(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_https_keys"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any(line.startswith("no certs/server.key (private)") for line in said), said
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"subject": "CN=localhost", "matches": True}, answer
        assert (await service.stop(body["gid"])).status_code == 200


def test_node_keys_read_from_a_variable_defaulting_to_an_image_path_are_made_in_the_app() -> None:
    """fnalabs's starter-koa2-js reads ``process.env.SSL_CERT_PATH ?? '/cert/ssl-cert.pem'``
    (and its key likewise), which its image's install script makes: ENOENT before it
    listened. Each is made in the app's folder (``ssl-key.pem`` a private key by its
    name), its variable naming it there; a relative default is the other rule's."""
    sources = {
        "src/config.js": b"export const SSL_CERT_PATH = process.env.SSL_CERT_PATH ?? "
        b"'/cert/ssl-cert.pem'\n"
        b"export const SSL_KEY_PATH = process.env.SSL_KEY_PATH || '/cert/ssl-key.pem'\n"
        b"export const LOG = process.env.LOG_FILE ?? '/var/log/app.log'\n",
    }
    assert node_key_variables(sources) == {
        "SSL_CERT_PATH": ".preview-keys/ssl-cert.pem",
        "SSL_KEY_PATH": ".preview-keys/ssl-key.pem",
    }
    assert node_key_files(sources) == {
        ".preview-keys/ssl-cert.pem": "certificate",
        ".preview-keys/ssl-key.pem": "private",
    }


async def test_a_node_app_reading_its_https_keys_at_its_variables_image_paths_starts(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_https_env_key_paths"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any(
            line.startswith("SSL_CERT_PATH=.preview-keys/ssl-cert.pem, SSL_KEY_PATH=")
            for line in said
        ), said
        answer = (await service.app_get(body, "/")).json()
        assert answer == {
            "subject": "CN=localhost",
            "matches": True,
            "certificate": ".preview-keys/ssl-cert.pem",
        }, answer
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_key_file_named_by_a_constant_of_the_apps_code() -> None:
    # anuragtiwari890's nestjs-jwt-refresh-token-example-with-certificate: AuthConfig's
    # paths, read by readFileSync(AuthConfig.X, 'utf8'); ENOENT before it served.
    sources = {
        "src/config.ts": b"export const AuthConfig = {\n"
        b"    JWT_PUBLIC_KEY_PATH: 'keys/jwt-token-public.key',\n"
        b"    JWT_TOKEN_PRIVATE_KEY_PATH: 'keys/jwt-token-private.key',\n"
        b"    OTHER: 'keys/a.key',\n}\n",
        "src/other.ts": b"const OTHER = 'keys/b.key';\n",  # two paths: not this name's
        "src/auth/auth.module.ts": b"privateKey: await fs.readFileSync("
        b"AuthConfig.JWT_TOKEN_PRIVATE_KEY_PATH, 'utf8'),\n"
        b"const publicKey = fs.readFileSync(\n  AuthConfig.JWT_PUBLIC_KEY_PATH,\n);\n"
        b"fs.readFileSync(OTHER);\n",
    }
    assert node_key_files(sources) == {
        "keys/jwt-token-private.key": "private",
        "keys/jwt-token-public.key": "public",
    }


def test_a_service_accounts_placeholder_key_is_made_for_the_preview() -> None:
    # rad-eric's koa-typescript-starter: serviceAccountKey.sample.json, copied where its code
    # reads the real one, "private_key": "xxx"; firebase-admin refused it at import.
    sample = {"type": "service_account", "project_id": "vendorportal", "private_key": "xxx"}
    made = service_account_text(json.dumps(sample).encode())
    assert made is not None
    account = json.loads(made)
    assert account["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert {k: v for k, v in account.items() if k != "private_key"} == {
        "type": "service_account",
        "project_id": "vendorportal",
    }
    # A real key, or another file: none.
    assert service_account_text(made) is None
    assert service_account_text(b'{"type": "other", "private_key": "xxx"}') is None
    assert service_account_text(b"not json") is None


def test_the_icon_serve_favicon_serves_is_written_where_the_upload_lacks_it() -> None:
    """Whiskydog's express-twitter: ``app.use(favicon('./public/favicon.ico'))``, its
    ``public`` folder kept out by its .gitignore; serve-favicon stats the file as the
    middleware is made: ENOENT before it listened."""
    sources = {
        "src/app.ts": b"import favicon from 'serve-favicon';\n"
        b"app.use(favicon('./public/favicon.ico'));\n",
        "app.js": b"var icon = require('serve-favicon');\n"
        b"app.use(icon(path.join(__dirname, 'static', 'icon.ico')));\n"
        b"app.use(require('serve-favicon')(__dirname + '/img/fav.ico'));\n",
        "img/fav.ico": b"\x00\x00\x01\x00",  # the upload's own: kept
        "lib/other.js": b"favicon('./public/not-this.ico');\n",  # no serve-favicon here
    }
    found = node_key_files(sources)
    assert found == {"public/favicon.ico": FAVICON, "static/icon.ico": FAVICON}, found
    texts = node_key_texts(found, sources)
    assert set(texts) == set(found)
    assert all(text.startswith(b"\x00\x00\x01\x00\x01\x00") for text in texts.values())
