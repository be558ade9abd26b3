"""Shapes of the former held-out set's NestJS, Fastify, Koa and Hono apps (issue 66's
training set since its round ended): an optional peer only the lockfile installs."""

from __future__ import annotations

import json

from preview.apps.node.nodedeps import node_dependencies


def test_a_lockfiles_optional_peers_are_installed_beside_it() -> None:
    """halilyanik98's NestJS-TypeOrm-CRUD uses NestJS's ValidationPipe, which loads
    class-transformer, a package its package.json does not list: its package-lock.json
    holds it at the top of node_modules as an optional peer of @nestjs/common, which npm ci
    leaves out, and Nest exited at start ('The "class-transformer" package is missing')."""
    lock = {
        "lockfileVersion": 2,
        "packages": {
            "": {"dependencies": {"@nestjs/common": "^8.0.0"}},
            "node_modules/@nestjs/common": {"version": "8.4.7"},
            "node_modules/class-transformer": {"version": "0.5.1", "optional": True, "peer": True},
            "node_modules/kafkajs": {"version": "2.2.4", "dev": True, "optional": True},
            # Nested, or a peer it needs: npm installs those itself.
            "node_modules/a/node_modules/class-validator": {
                "version": "0.13.2", "optional": True, "peer": True,
            },
            "node_modules/rxjs": {"version": "7.5.5", "peer": True},
            "node_modules/local": {"link": True, "optional": True, "peer": True},
        },
    }  # fmt: skip
    files = {
        "package.json": json.dumps({"dependencies": {"@nestjs/common": "^8.0.0"}}).encode(),
        "package-lock.json": json.dumps(lock).encode(),
    }
    deps = node_dependencies(files, ("tsx@4",))
    assert deps is not None
    assert deps.tools == ("tsx@4", "class-transformer@0.5.1")
    assert deps.note is not None and "class-transformer@0.5.1" in deps.note
    # A lockfile without any: nothing added, nothing said.
    del lock["packages"]["node_modules/class-transformer"]  # type: ignore[attr-defined]
    files["package-lock.json"] = json.dumps(lock).encode()
    deps = node_dependencies(files)
    assert deps is not None and deps.tools == () and deps.note is None
