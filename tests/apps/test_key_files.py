"""The key files an app's code reads and its repository leaves out (preview.apps.written
.keyfiles): found from the code's paths, written as a key pair made for the preview."""

from __future__ import annotations

import subprocess

import trio

from preview.apps.written import key_files, key_texts

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
