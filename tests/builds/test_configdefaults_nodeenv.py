"""The NODE_ENV a Node app's own code asks for, where a development run serves or loads
nothing (``builds.configdefaults``, read by ``apps.node.envreads``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from preview.apps.detect import detect
from preview.apps.spec import LaunchSpec
from preview.builds.configdefaults import config_defaults

from ..launching import launch_environment

# mayajuni's lambda-koa-seed, in short: a Lambda handler, served locally only so.
_LAMBDA = b"""import loader from './loader';
export const handler = serverless(loader());
if (process.env.NODE_ENV === 'local') {
    const env = yenv('environments/env.dev.yml', {env: 'environment'});
    Object.assign(process.env, env);
    loader().listen(3000, () => console.log('up'));
}
"""
# youyudehexie's koa-seed, in short: its configuration by NODE_ENV, 'dev' by default.
_CONFIG = b"""process.env.NODE_ENV = process.env.NODE_ENV || 'dev';
module.exports = Object.assign(require('./node_env/base.js'),
  require('./node_env/' + process.env.NODE_ENV + '.json'));
"""


def _package(start: str) -> bytes:
    return json.dumps({"scripts": {"start": start}, "dependencies": {"koa": "^2"}}).encode()


def test_an_app_serving_only_under_its_own_node_env_gets_it() -> None:
    files = {"package.json": _package("node dist/server.js"), "src/server.ts": _LAMBDA}
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["NODE_ENV"] == "local"
    assert "src/server.ts listens only where NODE_ENV is 'local'" in " ".join(found.notes)
    now = datetime.now(UTC)
    spec = LaunchSpec(
        "p1", "g1", None, "a", files, [], 3001, None, now, now, detection=detect(files)
    )
    assert launch_environment(spec, found.values)["NODE_ENV"] == "local"
    # Another listen outside it: a development run serves; the user's own value stands.
    served = {**files, "src/dev.ts": b"app.listen(3000);\n"}
    assert "NODE_ENV" not in config_defaults(served, "package.json", {}, {"PORT"}).values
    own = config_defaults(files, "package.json", {"NODE_ENV": "test"}, {"PORT"})
    assert "NODE_ENV" not in own.values


def test_an_app_loading_its_configuration_by_node_env_gets_its_default_one() -> None:
    files = {
        "package.json": _package("node app.js"),
        "config/index.js": _CONFIG,
        "config/node_env/base.js": b"module.exports = {};\n",
        "config/node_env/dev.json": b"{}",
        "config/node_env/prod.json": b"{}",
        "app.js": b"require('./config');\napp.listen(3012);\n",
    }
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["NODE_ENV"] == "dev"
    # With a development file of its own, the service's development stands.
    own = {**files, "config/node_env/development.json": b"{}"}
    assert "NODE_ENV" not in config_defaults(own, "package.json", {}, {"PORT"}).values


def test_a_node_env_its_sequelize_config_does_not_name_is_one_it_names() -> None:
    """stephyswe's expressSequelizeMysqlJoiApi: ``NODE_ENV = DEVELOPMENT`` in the env file
    its server loads after its models read ``config.json[NODE_ENV]``: the CLI's "Dialect
    needs to be explicitly supplied", the models' "reading 'use_env_variable'". The name
    its config gives that environment; else its development one; one it names is kept."""
    config = b'{"development": {"dialect": "mysql"}, "production": {"dialect": "mysql"}}'
    files = {
        "package.json": _package("node server.js"),
        "config/config.json": config,
        ".env.example": b"NODE_ENV = DEVELOPMENT\n",
    }
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert found.values["NODE_ENV"] == "development", found.values
    files[".env.example"] = b"NODE_ENV=staging\n"
    assert config_defaults(files, "package.json", {}, {"PORT"}).values["NODE_ENV"] == "development"
    files[".env.example"] = b"NODE_ENV=production\n"
    assert config_defaults(files, "package.json", {}, {"PORT"}).values["NODE_ENV"] == "production"
    files[".env.example"] = b"NODE_ENV=DEVELOPMENT\n"
    files["config/config.json"] = b'{"port": 3000}'  # another config's
    assert config_defaults(files, "package.json", {}, {"PORT"}).values["NODE_ENV"] == "DEVELOPMENT"
    # The env file its server loads itself: its value at start likewise.
    files["config/config.json"] = config
    del files[".env.example"]
    files["config/config.env"] = b"NODE_ENV = DEVELOPMENT\n"
    files["server.js"] = b"require('dotenv').config({path: 'config/config.env'})\n"
    now = datetime.now(UTC)
    spec = LaunchSpec(
        "p1", "g1", None, "a", files, [], 3001, None, now, now, detection=detect(files)
    )
    found = config_defaults(files, "package.json", {}, {"PORT"})
    assert launch_environment(spec, found.values)["NODE_ENV"] == "development"
