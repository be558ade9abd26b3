"""Lockfile addresses on another registry rewritten to the public one's (v1's nested
``dependencies`` and v2/v3's ``packages``; scoped names, encoded or not); git, file and
the public registry's own addresses left alone."""

from __future__ import annotations

from preview.builds.npmlock import registry_addresses


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
        },
    }
    moved = registry_addresses(lock)
    assert moved == {"npm.corp.example": 2, "nexus.example": 1, "mirror.example": 1}
    deps = lock["dependencies"]
    assert deps["a"]["resolved"] == "https://registry.npmjs.org/a/-/a-1.0.0.tgz"
    assert deps["@s/b"]["resolved"] == "https://registry.npmjs.org/@s/b/-/b-2.0.0.tgz"
    nested = deps["@s/b"]["dependencies"]["c"]["resolved"]
    assert nested == "https://registry.npmjs.org/c/-/c-0.1.0.tgz"
    assert deps["d"]["resolved"] == "https://registry.npmjs.org/d/-/d-1.0.0.tgz"
    assert deps["e"]["resolved"] == "git+ssh://git@github.com/x/e.git#abc"
    assert deps["f"]["resolved"] == "https://registry.npmjs.org/@s/f/-/f-3.0.0.tgz"


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
