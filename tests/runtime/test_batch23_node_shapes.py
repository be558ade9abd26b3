"""Shapes of the twenty-third batch of real Node apps (issue 66's training set): a
dependency fetched from a git host that only the app's tests use; a README's example
.env where the upload has no file of one."""

from __future__ import annotations

import json

import trio

from preview.apps.configvars import example_env_file
from preview.apps.configvars.readmeenv import README_EXAMPLE, readme_env_block, with_readme_example
from preview.apps.node.nodedeps import node_dependencies

from ..conftest import Service
from ..launching import BUILD_WAIT, launched, messages


def test_a_git_dependency_only_its_tests_import_is_left_out_of_both_files() -> None:
    """resolritter's koa-knex-starter lists its integration tests' port server as
    ``git+https://github.com/…``; the build reaches the registry only, and npm failed the
    whole install on it ("Could not read from remote repository")."""
    package = {
        "dependencies": {
            "koa": "^2.13.0",
            "port_acquisition_server": "git+https://github.com/someone/port_server.git",
            "shared-models": "github:someone/shared-models#v1",
            "local-lib": "../lib",
        },
        "devDependencies": {"helper": "someone/helper"},
    }
    lock = {
        "lockfileVersion": 1,
        "dependencies": {
            "koa": {"version": "2.13.0"},
            "port_acquisition_server": {"version": "git+https://github.com/someone/x.git#ab"},
        },
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "package-lock.json": json.dumps(lock).encode(),
        "src/main.js": b"const Koa = require('koa')\nconst m = require('shared-models/user')\n",
        "src/tests/integration/lib/constants.js": b"require('port_acquisition_server')\n",
        "test/helper.test.js": b"import helper from 'helper'\n",
    }
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is not None
    kept = json.loads(deps.package_json)
    # What the app imports: the registry's release of its name (since batch 24); a path
    # is no git host's.
    assert kept["dependencies"] == {"koa": "^2.13.0", "shared-models": "*", "local-lib": "../lib"}
    assert kept["devDependencies"] == {}
    assert "port_acquisition_server" not in json.loads(deps.lockfile[1])["dependencies"]
    assert deps.note is not None and '"port_acquisition_server", "helper"' in deps.note
    assert "fetched from a git host" in deps.note


README = """# Roles API

## Environment Variables

Create a `.env` file in the root directory:

```dotenv
PORT=3000
JWT_SECRET=api_secret_key
# the database
SEQUELIZE_CONNECT=postgres://postgres:1234@localhost/pgtest
```

## Usage

```bash
npm install
npm run start
```
"""
SERVER = """const http = require("http");
http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({
    secret: process.env.JWT_SECRET || null,
    connect: (process.env.SEQUELIZE_CONNECT || "").split("://")[0],
  }));
}).listen(Number(process.env.PORT));
"""


def test_a_readme_dotenv_block_is_the_example_of_an_upload_with_none() -> None:
    """jsuyog2's express-sequelize-api has no .env example: its README's "Environment
    Variables" section writes the .env out (SEQUELIZE_CONNECT, the URL it hands
    ``new Sequelize``), and the app exited on its connection string, undefined."""
    files = {"README.md": README.encode(), "package.json": b"{}", "server.js": b""}
    found = with_readme_example(files)
    assert found[README_EXAMPLE] == (
        b"PORT=3000\nJWT_SECRET=api_secret_key\n"
        b"SEQUELIZE_CONNECT=postgres://postgres:1234@localhost/pgtest\n"
    )
    assert example_env_file(found, "server.js") == README_EXAMPLE
    # An upload with an example of its own, or a .env, keeps it; a block of commands
    # (npm install), or one the README does not say is an environment's, is none.
    for own in (".env", "config/.env.sample"):
        assert with_readme_example({**files, own: b"X=1\n"}) == {**files, own: b"X=1\n"}
    assert readme_env_block("## Usage\n```bash\nnpm install\nnpm start\n```\n") is None
    assert readme_env_block("## Build\n```\nA=1\nB=2\n```\n") is None


async def test_the_readme_example_configures_a_launch(builder_service: Service) -> None:
    """The same README's example, launched: the app gets its secret and URL from it."""
    service = builder_service
    files = {
        "README.md": README,
        "package.json": json.dumps({"name": "roles", "scripts": {"start": "node server.js"}}),
        "server.js": SERVER,
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer["secret"] == "api_secret_key" and answer["connect"] == "postgres"
        said = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith(f"no .env: using {README_EXAMPLE}") for m in said), said
        assert (await service.stop(body["gid"])).status_code == 200
