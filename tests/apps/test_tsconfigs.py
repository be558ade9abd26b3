"""A Node app's tsconfig that emits declarations is given ``preserveSymlinks``
(``preview.apps.written.tsconfigs``): its node_modules, a link to the built environment
outside the project, is named by the project's path in the declarations tsc writes
(TS2742 otherwise)."""

from __future__ import annotations

import json

from preview.apps.written import declaration_links, missing_tsconfig

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


def test_a_typescript_app_with_no_tsconfig_is_given_one() -> None:
    """JannickOste's express-learning-project makes its tsconfig in its own ``install``
    script (``tsc --init --experimentalDecorators --rootDir "./src" --outDir "./bin"``),
    which a preview's install does not run: its build printed tsc's help, its dev's
    ts-node failed on TS5109. It is given one with the options that script names; else the
    folders its compiled start says; not where one is in its folder or above."""
    scripts = {
        "dev": "ts-node ./src/App.ts",
        "install": 'tsc --init --experimentalDecorators --rootDir "./src" --outDir "./bin"'
        " && npm install --save-dev express",
        "build": "tsc",
        "start": "node ./bin/App.js",
    }
    files = {
        "package.json": json.dumps({"scripts": scripts}).encode(),
        "src/App.ts": b"console.log('hi');\n",
        "src/types.d.ts": b"",
    }
    written = missing_tsconfig(files)
    options = json.loads(written["tsconfig.json"])["compilerOptions"]
    assert options["rootDir"] == "./src" and options["outDir"] == "./bin"
    assert options["experimentalDecorators"] is True and options["module"] == "commonjs"
    # No tsc --init: the folders of its compiled start; an ES module package's modules.
    del scripts["install"]
    package = {"type": "module", "scripts": scripts}
    written = missing_tsconfig({**files, "api/package.json": json.dumps(package).encode()})
    assert sorted(written) == ["tsconfig.json"]  # (api/ has no TypeScript of its own)
    files["package.json"] = json.dumps(package).encode()
    options = json.loads(missing_tsconfig(files)["tsconfig.json"])["compilerOptions"]
    assert (options["rootDir"], options["outDir"]) == ("./src", "./bin")
    assert options["module"] == "NodeNext"
    # One it has (here or above), or no script of tsc's or ts-node's: nothing.
    assert missing_tsconfig({**files, "tsconfig.json": b"{}"}) == {}
    nested = {f"server/{k}": v for k, v in files.items()} | {"tsconfig.json": b"{}"}
    assert missing_tsconfig(nested) == {}
    plain = {"package.json": b'{"scripts": {"start": "tsx src/App.ts"}}', "src/App.ts": b""}
    assert missing_tsconfig(plain) == {}
