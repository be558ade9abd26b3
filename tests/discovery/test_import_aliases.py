"""Routers imported through a Node app's aliases (tsconfig's ``paths`` and ``baseUrl``,
with ``extends``; package.json's ``imports``) are followed like relative imports:
express-typescript-2024 mounts ``app.use("/users", userRouter)`` with ``userRouter``
from ``"@/api/user/userRouter"``, and its routes were found from its OpenAPI document only."""

from __future__ import annotations

from preview.discovery.endpoints import endpoints_from_source
from preview.discovery.node.aliases import ImportAliases


def found(files: dict[str, bytes]) -> set[tuple[str, str]]:
    return {(e["method"], e["path"]) for e in endpoints_from_source(files)}


SERVER = b"""
import express from "express";
import { userRouter } from "@/api/user/userRouter";
import healthRouter from "#routes/health";
import { itemRouter } from "lib/items";
const app = express();
app.use("/users", userRouter);
app.use("/health-check", healthRouter);
app.use("/items", itemRouter);
export { app };
"""
USERS = b"""
import express, { type Router } from "express";
export const userRouter: Router = express.Router();
userRouter.get("/", list);
userRouter.get("/:id", one);
"""
HEALTH = b"""
import { Router } from "express";
const router = Router();
router.get("/", (req, res) => res.send("ok"));
export default router;
"""
ITEMS = b"""
import { Router } from "express";
export const itemRouter = Router();
itemRouter.post("/", create);
"""


def test_routers_imported_through_aliases_get_their_prefixes() -> None:
    files = {
        # tsconfig is JSON with comments and trailing commas; its paths come by `extends`.
        "tsconfig.json": b"""{
            // the app's own settings
            "extends": "./tsconfig.base.json",
            "compilerOptions": { "strict": true, /* inline */ },
        }""",
        "tsconfig.base.json": b"""{
            "compilerOptions": {
                "baseUrl": "./src",
                "paths": { "@/*": ["./*"], },
            },
        }""",
        "package.json": b"""{"imports": {
            "#routes/*": {"types": "./x.d.ts", "default": "./src/routes/*.ts"}}}""",
        "src/server.ts": SERVER,
        "src/api/user/userRouter.ts": USERS,
        "src/routes/health.ts": HEALTH,
        "src/lib/items/index.ts": ITEMS,  # by baseUrl, a folder's index
    }
    assert found(files) == {
        ("GET", "/users"),
        ("GET", "/users/{id}"),
        ("GET", "/health-check"),
        ("POST", "/items"),
    }
    # Without its aliases, none of them is reached from the app: only as routers of their own.
    bare = {k: v for k, v in files.items() if not k.endswith(".json")}
    assert ("GET", "/users") not in found(bare)


def test_the_nearest_config_and_the_longest_pattern_win() -> None:
    aliases = ImportAliases(
        {
            "tsconfig.json": b'{"compilerOptions": {"paths": {"@/*": ["src/*"]}}}',
            "api/tsconfig.json": b"""{"compilerOptions": {"baseUrl": ".",
                "paths": {"@/*": ["app/*"], "@/db/*": ["database/*"], "@config": ["cfg.ts"]}}}""",
        }
    )
    assert aliases.targets("api/src/main.ts", "@/db/users") == [
        "api/database/users",
        "api/app/db/users",
        "api/@/db/users",
        "src/db/users",
    ]
    assert aliases.targets("api/main.ts", "@config")[0] == "api/cfg.ts"
    assert aliases.targets("main.ts", "@/x") == ["src/x"]
    assert aliases.targets("main.ts", "./x") == []  # relative: not an alias's
    assert aliases.targets("main.ts", "express") == []


def test_broken_or_cyclic_configs_are_ignored() -> None:
    aliases = ImportAliases(
        {
            "tsconfig.json": b'{"extends": "./a.json", "compilerOptions": {"paths": {"@/*": 3}}}',
            "a.json": b'{"extends": "./tsconfig.json"}',
            "web/tsconfig.json": b"{ not json",
            "web/package.json": b"\xff\xfe",
        }
    )
    assert aliases.targets("web/main.ts", "@/x") == []
