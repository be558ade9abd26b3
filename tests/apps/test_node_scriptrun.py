"""A package.json script run as npm runs it, without npm (``apps.processes.scriptrun``): which
starts are run so, with what, and which keep npm."""

from __future__ import annotations

import json

from preview.apps.processes.scriptrun import script_run


def _package(scripts: dict[str, str], **fields: str) -> bytes:
    return json.dumps({"name": "api", "version": "1.4.0", **fields, "scripts": scripts}).encode()


def test_npm_start_runs_its_script_with_what_npm_gives_a_script() -> None:
    run = script_run(("npm", "start", "--silent"), _package({"start": "node dist/index.js"}))
    assert run is not None
    assert run.argv[:2] == ("sh", "-c")
    assert run.argv[2].endswith("; node dist/index.js")
    assert 'PATH="$PWD/node_modules/.bin:$PATH"' in run.argv[2]
    assert 'npm_package_json="$PWD/package.json"' in run.argv[2]
    assert run.env == {
        "npm_lifecycle_event": "start",
        "npm_lifecycle_script": "node dist/index.js",
        "npm_command": "start",
        "npm_package_name": "api",
        "npm_package_version": "1.4.0",
    }
    assert (run.line, run.name) == ("node dist/index.js", "start")


def test_the_words_after_a_double_dash_are_appended_quoted() -> None:
    package = _package({"dev": "tsx src/main.ts"})
    run = script_run(("npm", "run", "dev", "--", "--port", "3000", "a b"), package)
    assert run is not None
    assert run.line == "tsx src/main.ts --port 3000 'a b'"
    assert run.env["npm_command"] == "run-script"
    assert run.env["npm_lifecycle_event"] == "dev"


def test_a_script_with_a_pre_or_post_script_keeps_npm_unless_they_are_ignored() -> None:
    around = _package({"prestart": "npm run build", "start": "node dist/index.js"})
    assert script_run(("npm", "start"), around) is None
    after = _package({"start": "node a.js", "poststart": "echo done"})
    assert script_run(("npm", "start"), after) is None
    ignored = script_run(("npm", "start", "--ignore-scripts"), around)
    assert ignored is not None and ignored.line == "node dist/index.js"


def test_what_npm_does_beyond_one_script_keeps_npm() -> None:
    package = _package({"start": "node a.js"})
    assert script_run(("npm", "start", "-w", "backend"), package) is None
    assert script_run(("npm", "run", "--prefix", "api", "start"), package) is None
    assert script_run(("yarn", "start"), package) is None
    assert script_run(("npm", "install"), package) is None
    # npm's own start where the package has none (node server.js) is npm's to make.
    assert script_run(("npm", "start"), _package({"dev": "node a.js"})) is None
    assert script_run(("npm", "run", "missing"), package) is None
    assert script_run(("npm", "start"), b"{not json") is None
    assert script_run(("npm", "start"), None) is None
    assert script_run(("npm", "start"), json.dumps({"scripts": ["start"]}).encode()) is None
    # npm run by the path it gives otherwise (``node $npm_execpath …``): npm runs it.
    assert script_run(("npm", "test"), _package({"test": "node $npm_execpath ci"})) is None


def test_the_package_manager_run_by_its_path_runs_what_yarn_would() -> None:
    """OmarMAttia7's express-storefront-backend: ``"build": "$npm_execpath run tsc"``,
    written for yarn, whose run takes a tool where no script has the name: without npm,
    "run: not found"; by npm, "Missing script". Its script by name, else its tool."""
    package = _package(
        {"build": "$npm_execpath run tsc && ${npm_execpath} run copy", "copy": "cp a b"}
    )
    run = script_run(("npm", "run", "build"), package)
    assert run is not None and run.line == "tsc && npm run copy"


def test_a_package_without_a_name_or_version_gives_none_of_them() -> None:
    run = script_run(("npm", "start"), json.dumps({"scripts": {"start": "node a.js"}}).encode())
    assert run is not None
    assert "npm_package_name" not in run.env and "npm_package_version" not in run.env


def test_the_package_fields_npm_gives_a_script_are_flattened_as_npm_does() -> None:
    """``"config": {"port": 8080}`` is ``$npm_package_config_port`` in a script
    (``"start": "node app.js --port $npm_package_config_port"``), as npm gives it."""
    package = {
        "name": "api",
        "config": {"port": 8080, "db": {"name": "shop"}, "debug": False},
        "engines": {"node": ">=18"},
        "bin": {"api": "./cli.js"},
        "description": "not given",
        "scripts": {"start": "node app.js --port $npm_package_config_port"},
    }
    run = script_run(("npm", "start"), json.dumps(package).encode())
    assert run is not None
    fields = {k: v for k, v in run.env.items() if k.startswith("npm_package_")}
    # (what `npm start` gives this package.json's script, npm 10)
    assert fields == {
        "npm_package_name": "api",
        "npm_package_config_port": "8080",
        "npm_package_config_db_name": "shop",
        "npm_package_config_debug": "",
        "npm_package_engines_node": ">=18",
        "npm_package_bin_api": "cli.js",
    }


def test_a_bin_given_as_a_path_alone_is_the_packages_own_command() -> None:
    package = {"name": "api", "bin": "cli.js", "scripts": {"start": "node app.js"}}
    run = script_run(("npm", "start"), json.dumps(package).encode())
    assert run is not None and run.env["npm_package_bin_api"] == "cli.js"
    listed = {"name": "api", "bin": ["cli.js"], "scripts": {"start": "node app.js"}}
    run = script_run(("npm", "start"), json.dumps(listed).encode())
    assert run is not None and not any(k.startswith("npm_package_bin") for k in run.env)


def test_a_scripts_own_leading_install_of_its_package_is_left_out() -> None:
    # users-expressjs-intkuka: `npm i` at every start replaced node_modules' link with a
    # download of its own, past the start's time.
    run = script_run(("npm", "start"), _package({"start": "npm i && node --env-file=.env app.js"}))
    assert run is not None
    assert (run.line, run.install_left_out) == ("node --env-file=.env app.js", "npm i")
    yarn = script_run(
        ("npm", "start"), _package({"start": "yarn install --frozen-lockfile; node a.js"})
    )
    assert yarn is not None
    assert (yarn.line, yarn.install_left_out) == ("node a.js", "yarn install --frozen-lockfile")
    # An install that adds a package is the app's own step, and so is a script that only installs.
    adds = script_run(("npm", "start"), _package({"start": "npm i pg && node a.js"}))
    assert adds is not None and adds.line == "npm i pg && node a.js"
    assert adds.install_left_out == ""
    alone = script_run(("npm", "run", "setup"), _package({"setup": "npm install"}))
    assert alone is not None and alone.line == "npm install"
