"""Listing and searching the kept requests, one whole, and HAR 1.2 export validated
against the maintained HAR schema (npm's ``har-schema``, fetched by npm at test time)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import jsonschema
import pytest
import referencing
import trio

from ..conftest import Service, auth
from .conftest import api, envelope, listed, proxied

HAR_SCHEMA = "har-schema@2.0.0"


@pytest.fixture(scope="session")
def har_schema(tmp_path_factory: pytest.TempPathFactory) -> jsonschema.protocols.Validator:
    """HAR 1.2's JSON Schema as the ``har-schema`` package ships it (what har-validator
    validates with), by ``npm pack``; skipped without npm unless PREVIEW_TEST_REQUIRE_NPM."""
    npm = shutil.which("npm")
    if npm is None:
        if os.environ.get("PREVIEW_TEST_REQUIRE_NPM"):
            pytest.fail("npm is required (PREVIEW_TEST_REQUIRE_NPM) to fetch har-schema")
        pytest.skip("npm is missing: the HAR schema comes from npm's har-schema")
    folder = tmp_path_factory.mktemp("har-schema")
    packed = subprocess.run(
        [npm, "pack", HAR_SCHEMA, "--silent"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    with tarfile.open(folder / packed.stdout.strip().splitlines()[-1]) as archive:
        archive.extractall(folder, filter="data")
    schemas = {
        path.name + "#": json.loads(path.read_text())
        for path in Path(folder, "package", "lib").glob("*.json")
    }
    registry = referencing.Registry().with_resources(
        (uri, referencing.jsonschema.DRAFT6.create_resource(schema))
        for uri, schema in schemas.items()
    )
    return jsonschema.Draft6Validator(
        schemas["har.json#"], registry=registry, format_checker=jsonschema.FormatChecker()
    )


async def _some_requests(service: Service, preview: dict) -> None:
    calls = [
        ("GET", "/items/1"),
        ("GET", "/items/2"),
        ("GET", "/items/9"),
        ("GET", "/health"),
        ("PUT", "/things/1"),
    ]
    for method, path in calls:
        content = b"\xff\xfebinary" if method == "PUT" else None
        answer = await proxied(service, preview, method, path, content=content)
        assert answer.status_code in (200, 404), answer.text
    posted = await envelope(service, preview, method="POST", path="/items", body={"name": "fig"})
    assert posted.json()["statusCode"] == 201


async def test_search_by_method_path_and_status_and_page_by_cursor(
    service: Service, preview: dict
) -> None:
    gid = preview["gid"]
    with trio.fail_after(60):
        await _some_requests(service, preview)
        everything = await listed(service, gid)
        posts = await listed(service, gid, method="post")
        items = await listed(service, gid, path="items/")
        missing = await listed(service, gid, status="404")
        fours = await listed(service, gid, status="4xx")
        first = await listed(service, gid, limit=4)
        second = await listed(service, gid, limit=4, before=first["nextBefore"])
    paths = [r["path"] for r in everything["requests"]]
    assert paths == ["/items", "/things/1", "/health", "/items/9", "/items/2", "/items/1"]
    assert [r["path"] for r in posts["requests"]] == ["/items"]
    assert [r["path"] for r in items["requests"]] == ["/items/9", "/items/2", "/items/1"]
    assert (
        [r["path"] for r in missing["requests"]]
        == ["/items/9"]
        == [r["path"] for r in fours["requests"]]
    )
    assert first["hasMore"] is True and second["hasMore"] is False
    assert [r["path"] for r in first["requests"] + second["requests"]] == paths
    bad = {
        "limit": "0",
        "before": "x",
        "status": "99",
        "method": "G E",
        "replays": "maybe",
        "format": "xml",
    }
    async with trio.open_nursery():
        for name, value in bad.items():
            response = await service.client.get(
                api(gid, "/requests"), params={name: value}, headers=auth()
            )
            assert response.status_code == 400, (name, response.text)
            assert response.json()["error"] == f"invalid_{name}"
    # Another user's generation is unknown, its requests too.
    other = await service.client.get(api(gid, "/requests"), headers=auth("mallory"))
    assert other.status_code == 404 and other.json()["error"] == "generation_not_found"
    one = await service.client.get(
        api(gid, f"/requests/{paths and everything['requests'][0]['id']}"), headers=auth("mallory")
    )
    assert one.status_code == 404


async def test_har_export_is_valid_har_1_2(
    service: Service, preview: dict, har_schema: jsonschema.protocols.Validator
) -> None:
    gid = preview["gid"]
    with trio.fail_after(60):
        await _some_requests(service, preview)
        download = await service.client.get(api(gid, "/requests.har"), headers=auth())
        same = await service.client.get(
            api(gid, "/requests"), params={"format": "har"}, headers=auth()
        )
    assert download.status_code == 200, download.text
    assert "attachment" in download.headers["content-disposition"]
    document = download.json()
    errors = sorted(har_schema.iter_errors(document), key=lambda error: list(error.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]
    assert same.json()["log"]["entries"] == document["log"]["entries"]
    entries = document["log"]["entries"]
    assert document["log"]["version"] == "1.2"
    assert [(e["request"]["method"], e["response"]["status"]) for e in entries] == [
        ("GET", 200),
        ("GET", 200),
        ("GET", 404),
        ("GET", 200),
        ("PUT", 200),
        ("POST", 201),
    ]
    assert all(e["request"]["url"].startswith(preview["baseUrl"]) for e in entries)
    assert json.loads(entries[0]["response"]["content"]["text"])["name"] == "apple"
    assert json.loads(entries[-1]["request"]["postData"]["text"]) == {"name": "fig"}
    headers = {h["name"].lower(): h["value"] for h in entries[0]["request"]["headers"]}
    assert headers["authorization"] == "Bearer [masked]"
    assert headers["x-preview-token"] == "[masked]"
