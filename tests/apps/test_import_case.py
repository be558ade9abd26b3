"""The modules a Node app imports under another case than its files have
(preview.apps.written.importcase): found from the imports, written as copies under the
names the imports spell."""

from __future__ import annotations

import trio

from preview.apps.written import case_aliases

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages


def test_an_import_differing_in_case_only_names_the_file_to_copy() -> None:
    files = {p: t.encode() for p, t in app_files("node_import_case").items()}
    assert case_aliases(files) == {"handlers/Greeting.js": "handlers/greeting.js"}


def test_typescript_imports_are_resolved_as_node_and_tsc_resolve_them() -> None:
    files = {
        "src/index.ts": (
            b"import User from './controllers/User';\n"
            b"import { check } from '../src/Middlewares/validate.js';\n"
            b"import config from './Config';\n"
            b"import db from './db';\n"  # resolves: no alias
            b"import missing from './nowhere';\n"  # no file of any case: none
            b"import express from 'express';\n"  # a package, not a path
        ),
        "src/controllers/user.ts": b"export default 1;\n",
        "src/middlewares/validate.ts": b"export const check = 1;\n",
        "src/config/index.ts": b"export default {};\n",
        "src/db.ts": b"export default null;\n",
        # two files matching one import when case is ignored: which one is unknown
        "src/routes.ts": b"const r = require('./lib/Util');\n",
        "src/lib/util.js": b"",
        "src/lib/UTIL.js": b"",
        "node_modules/x/index.js": b"require('./Missing')\n",
        "node_modules/x/missing.js": b"",
    }
    # A folder spelled otherwise (./Config, ../src/Middlewares) is not copied: its files'
    # own imports of their siblings would find none there.
    assert case_aliases(files) == {"src/controllers/User.ts": "src/controllers/user.ts"}
    esm = {"src/app.ts": b"import { h } from './Helpers.js';\n", "src/helpers.ts": b""}
    assert case_aliases(esm) == {"src/Helpers.ts": "src/helpers.ts"}


async def test_an_app_importing_a_module_under_another_case_starts(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_import_case"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any(line.startswith("its code imports handlers/Greeting.js") for line in said)
        assert (await service.app_get(body, "/")).json() == {"greeting": "hello"}
        assert (await service.stop(body["gid"])).status_code == 200
