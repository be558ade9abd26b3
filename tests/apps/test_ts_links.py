"""A Node app's tsconfig that emits declarations is given ``preserveSymlinks``
(``preview.apps.written.tslinks``): its node_modules, a link to the built environment
outside the project, is named by the project's path in the declarations tsc writes
(TS2742 otherwise)."""

from __future__ import annotations

import json

from preview.apps.written import declaration_links

NEST_TSCONFIG = b"""{
  // the Nest CLI's template
  "compilerOptions": {
    "module": "commonjs",
    "declaration": true,
    "outDir": "./dist",
    "baseUrl": "./",
  }
}
"""


def test_a_tsconfig_emitting_declarations_keeps_the_links_path() -> None:
    files = {
        "package.json": b"{}",
        "tsconfig.json": NEST_TSCONFIG,
        "tsconfig.build.json": b'{"extends": "./tsconfig.json", "exclude": ["test"]}',
        "packages/lib/tsconfig.lib.json": b'{"compilerOptions": {"composite": true}}',
    }
    written = declaration_links(files)
    assert sorted(written) == ["packages/lib/tsconfig.lib.json", "tsconfig.json"]
    config = json.loads(written["tsconfig.json"])
    assert config["compilerOptions"] == {
        "module": "commonjs",
        "declaration": True,
        "outDir": "./dist",
        "baseUrl": "./",
        "preserveSymlinks": True,
    }
    assert json.loads(written["packages/lib/tsconfig.lib.json"])["compilerOptions"] == {
        "composite": True,
        "preserveSymlinks": True,
    }


def test_others_are_left_as_they_are() -> None:
    files = {
        "tsconfig.json": b'{"compilerOptions": {"declaration": false, "outDir": "dist"}}',
        "a/tsconfig.json": b'{"compilerOptions": {"declaration": true, "preserveSymlinks": false}}',
        "node_modules/x/tsconfig.json": b'{"compilerOptions": {"declaration": true}}',
        "b/tsconfig.json": b"{not json",
        "c/jsconfig.json": b'{"compilerOptions": {"declaration": true}}',
        "d/tsconfig.json": b'["declaration"]',
    }
    assert declaration_links(files) == {}
