"""npm's lockfiles and node_modules: addresses on another registry rewritten to the public
one's (v1's nested ``dependencies`` and v2/v3's ``packages``; scoped names, encoded or
not; git, file and the public registry's own addresses left alone), and a native module
compiled here told from one whose prebuilt binary was downloaded."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import trio

from preview.builds.npmlock import compiled_from_source, npm_rebuild, registry_addresses


def test_another_registrys_tarballs_move_to_the_public_one() -> None:
    lock = {
        "lockfileVersion": 1,
        "dependencies": {
            "a": {"resolved": "https://npm.corp.example/a/-/a-1.0.0.tgz"},
            "@s/b": {
                "resolved": "https://nexus.example/repository/npm/@s/b/-/b-2.0.0.tgz",
                "dependencies": {
                    "c": {"resolved": "http://npm.corp.example/api/npm/c/-/c-0.1.0.tgz"}
                },
            },
            "d": {"resolved": "https://registry.npmjs.org/d/-/d-1.0.0.tgz"},
            "e": {"resolved": "git+ssh://git@github.com/x/e.git#abc"},
            "f": {"resolved": "https://mirror.example/%40s%2ff/-/f-3.0.0.tgz"},
            # Artifactory's npm remotes and cnpm's mirrors: <package>/download/<file>
            # (jackgaoyuan's node-koa2-mysql: its install hung on the refused host).
            "g": {"resolved": "http://af.example:80/artifactory/api/npm/npm/g/download/g-1.tgz"},
            "@t/h": {"resolved": "http://af.example/api/npm/npm/@t/h/download/@t/h-2.0.0.tgz"},
        },
    }
    moved = registry_addresses(lock)
    assert moved == {
        "npm.corp.example": 2,
        "nexus.example": 1,
        "mirror.example": 1,
        "af.example": 2,
    }
    deps = lock["dependencies"]
    assert deps["a"]["resolved"] == "https://registry.npmjs.org/a/-/a-1.0.0.tgz"
    assert deps["@s/b"]["resolved"] == "https://registry.npmjs.org/@s/b/-/b-2.0.0.tgz"
    nested = deps["@s/b"]["dependencies"]["c"]["resolved"]
    assert nested == "https://registry.npmjs.org/c/-/c-0.1.0.tgz"
    assert deps["d"]["resolved"] == "https://registry.npmjs.org/d/-/d-1.0.0.tgz"
    assert deps["e"]["resolved"] == "git+ssh://git@github.com/x/e.git#abc"
    assert deps["f"]["resolved"] == "https://registry.npmjs.org/@s/f/-/f-3.0.0.tgz"
    assert deps["g"]["resolved"] == "https://registry.npmjs.org/g/-/g-1.tgz"
    assert deps["@t/h"]["resolved"] == "https://registry.npmjs.org/@t/h/-/h-2.0.0.tgz"


def test_packages_of_a_newer_lockfile_too() -> None:
    lock = {
        "lockfileVersion": 3,
        "packages": {
            "": {"dependencies": {"a": "^1.0.0"}},
            "node_modules/a": {"resolved": "https://npm.corp.example/a/-/a-1.0.0.tgz"},
            "node_modules/local": {"resolved": "file:../local"},
        },
    }
    assert registry_addresses(lock) == {"npm.corp.example": 1}
    assert lock["packages"]["node_modules/a"]["resolved"].startswith(
        "https://registry.npmjs.org/a/"
    )
    assert lock["packages"]["node_modules/local"]["resolved"] == "file:../local"


def _package_tree(root: Path, packages: dict[str, dict]) -> None:
    """A project whose node_modules holds ``packages`` (folder: npm's hidden lockfile
    entry, plus ``files``: what lies in the folder), as npm leaves it."""
    (root / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0"}))
    hidden = {"name": "app", "lockfileVersion": 3, "packages": {}}
    for at, entry in packages.items():
        files = entry.pop("files", {})
        hidden["packages"][at] = entry
        folder = root / at
        folder.mkdir(parents=True)
        name = at.rpartition("node_modules/")[2]
        manifest = {"name": name, "version": entry["version"], **entry.get("manifest", {})}
        entry.pop("manifest", None)
        (folder / "package.json").write_text(json.dumps(manifest))
        for relative, text in files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
    (root / "node_modules" / ".package-lock.json").write_text(json.dumps(hidden))


def test_a_native_module_compiled_here_is_told_from_a_downloaded_one(tmp_path: Path) -> None:
    """node-gyp's configure writes build/config.gypi; a prebuilt binary's download (node-
    pre-gyp's lib/binding, prebuild-install's build/Release) does not."""
    _package_tree(
        tmp_path,
        {
            "node_modules/sqlite3": {
                "version": "5.1.7",
                "hasInstallScript": True,
                "files": {"build/config.gypi": "{}", "build/Release/node_sqlite3.node": ""},
            },
            "node_modules/bcrypt": {
                "version": "5.1.1",
                "hasInstallScript": True,
                "files": {"lib/binding/napi-v3/bcrypt_lib.node": ""},
            },
            "node_modules/@scope/native": {
                "version": "1.0.0",
                "hasInstallScript": True,
                "files": {"build/config.gypi": "{}"},
            },
            "node_modules/plain": {"version": "1.0.0", "files": {"build/config.gypi": "{}"}},
        },
    )
    assert compiled_from_source(tmp_path) == ["@scope/native", "sqlite3"]
    assert compiled_from_source(tmp_path / "nowhere") == []


@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed",
)
async def test_a_compile_from_source_is_said_with_its_time(tmp_path: Path) -> None:
    """npm's own rebuild runs a package's install script (here: one that configures as
    node-gyp does), and the build's log then says which package was compiled, and the
    time its install scripts took."""
    script = "require('fs').mkdirSync('build',{recursive:true});"
    script += "require('fs').writeFileSync('build/config.gypi','{}')"
    _package_tree(
        tmp_path,
        {
            "node_modules/native-thing": {
                "version": "1.0.0",
                "hasInstallScript": True,
                "manifest": {"scripts": {"install": f'node -e "{script}"'}},
            }
        },
    )
    said: list[str] = []

    async def run(argv: list[str]) -> None:
        done = await trio.run_process(argv, cwd=tmp_path, capture_stdout=True, check=False)
        assert done.returncode == 0, done

    async def say(line: str) -> None:
        said.append(line)

    with trio.fail_after(120):
        await npm_rebuild(run, run, say, tmp_path)
    assert (tmp_path / "node_modules/native-thing/build/config.gypi").is_file()
    assert len(said) == 1 and said[0].startswith(
        "compiled from source, no prebuilt binary for this machine reached: native-thing ("
    ), said


def test_an_install_script_building_the_sources_is_left_to_the_build(tmp_path: Path) -> None:
    # Ziel-Global's express-typescript-postgresql-boilerplate: "postinstall": "tsc", run
    # where the environment is made (no tsconfig.json, no sources): tsc's help, exit 1.
    from preview.builds.npmlock import _drop_own_steps

    scripts = {
        "build": "npx tsc",
        "postinstall": "tsc",
        "prepare": "npm run build",  # not one npm runs at install here
        "preinstall": "node check.js",  # not a build: kept
    }
    (tmp_path / "package.json").write_text(json.dumps({"scripts": scripts}))
    assert _drop_own_steps(tmp_path) == (["postinstall"], [], [])
    kept = json.loads((tmp_path / "package.json").read_text())["scripts"]
    assert kept == {k: v for k, v in scripts.items() if k != "postinstall"}
    (tmp_path / "package.json").write_text(
        json.dumps({"scripts": {"install": "npm run build && tsc -p tsconfig.json"}})
    )
    assert _drop_own_steps(tmp_path) == (["install"], [], [])
    (tmp_path / "package.json").write_text(
        json.dumps({"scripts": {"postinstall": "tsc && node scripts/copy.js"}})
    )
    assert _drop_own_steps(tmp_path) == ([], [], [])


def test_an_install_script_running_a_script_that_builds_is_left_to_the_build(
    tmp_path: Path,
) -> None:
    """pasyagitka's recipeNestJS: ``"postinstall": "npm run prestart:prod"``, that script
    ``rimraf dist && npm run build``: its ``tsc -p tsconfig.build.json`` found none where
    the environment is made (TS5058), and the install failed. A script cleaning alone, or
    running one that does anything else, is kept."""
    from preview.builds.npmlock import _drop_own_steps

    scripts = {
        "build": "tsc -p tsconfig.build.json",
        "prestart:prod": "rimraf dist && npm run build",
        "postinstall": "npm run prestart:prod",
    }
    (tmp_path / "package.json").write_text(json.dumps({"scripts": scripts}))
    assert _drop_own_steps(tmp_path) == (["postinstall"], [], [])
    kept = json.loads((tmp_path / "package.json").read_text())["scripts"]
    assert kept == {k: v for k, v in scripts.items() if k != "postinstall"}
    for postinstall, prepare in (
        ("npm run clean", "rimraf dist"),  # a clean alone builds nothing
        ("npm run prepare:all", "rimraf dist && node scripts/copy.js"),
    ):
        scripts = {"clean": "rimraf dist", "prepare:all": prepare, "postinstall": postinstall}
        (tmp_path / "package.json").write_text(json.dumps({"scripts": scripts}))
        assert _drop_own_steps(tmp_path) == ([], [], []), postinstall


def test_an_install_script_checking_the_authors_machine_is_left_out(tmp_path: Path) -> None:
    """stivendiaz's nodejs-sales-express: ``"preinstall": "npx check-engine"`` against its
    engines' node 18.7.0 and npm 8.15.0 ("Environment is invalid!") failed the install;
    ``npx only-allow pnpm`` refuses npm likewise. Left out; a script doing anything else
    beside the check is kept."""
    from preview.builds.npmlock import _drop_own_steps

    scripts = {"preinstall": "npx check-engine", "start": "node index.js"}
    (tmp_path / "package.json").write_text(json.dumps({"scripts": scripts}))
    assert _drop_own_steps(tmp_path) == ([], [], ["preinstall"])
    assert json.loads((tmp_path / "package.json").read_text())["scripts"] == {
        "start": "node index.js"
    }
    scripts = {"preinstall": "npx -y only-allow pnpm", "postinstall": "check-node-version"}
    (tmp_path / "package.json").write_text(json.dumps({"scripts": scripts}))
    assert _drop_own_steps(tmp_path) == ([], [], ["preinstall", "postinstall"])
    mixed = {"preinstall": "npx check-engine && node scripts/setup.js"}
    (tmp_path / "package.json").write_text(json.dumps({"scripts": mixed}))
    assert _drop_own_steps(tmp_path) == ([], [], [])


def test_an_install_script_working_on_the_database_is_left_to_the_data_init(
    tmp_path: Path,
) -> None:
    """yamolatix's challenge-express-sequelize: ``"postinstall": "npm run db-init"``, whose
    ``createdb`` found no server where the environment is made ("connection to server on
    socket … failed"), and the install failed. Left to the data's initialisation; a script
    doing anything else beside it is kept."""
    from preview.builds.npmlock import _drop_own_steps

    scripts = {"db-init": "createdb shop", "postinstall": "npm run db-init"}
    (tmp_path / "package.json").write_text(json.dumps({"scripts": scripts}))
    assert _drop_own_steps(tmp_path) == ([], ["postinstall"], [])
    assert json.loads((tmp_path / "package.json").read_text())["scripts"] == {
        "db-init": "createdb shop"
    }
    migrate = {"postinstall": "npx sequelize db:migrate && npx sequelize db:seed:all"}
    (tmp_path / "package.json").write_text(json.dumps({"scripts": migrate}))
    assert _drop_own_steps(tmp_path) == ([], ["postinstall"], [])
    mixed = {"postinstall": "createdb shop && node scripts/copy.js"}
    (tmp_path / "package.json").write_text(json.dumps({"scripts": mixed}))
    assert _drop_own_steps(tmp_path) == ([], [], [])
