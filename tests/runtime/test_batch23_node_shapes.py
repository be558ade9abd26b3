"""Shapes of the twenty-third batch of real Node apps (issue 66's training set): a
dependency fetched from a git host that only the app's tests use."""

from __future__ import annotations

import json

from preview.apps.node.nodedeps import node_dependencies


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
    # What the app imports stays (its failure then says why); a path is no git host's.
    assert kept["dependencies"] == {
        "koa": "^2.13.0", "shared-models": "github:someone/shared-models#v1", "local-lib": "../lib",
    }  # fmt: skip
    assert kept["devDependencies"] == {}
    assert "port_acquisition_server" not in json.loads(deps.lockfile[1])["dependencies"]
    assert deps.note is not None and '"port_acquisition_server", "helper"' in deps.note
    assert "fetched from a git host" in deps.note
