"""A variable an app's zod schema declares as a number that takes no string (``PORT:
z.number().default(3333)``) is left out of its environment (``builds.appenv``): any value
the environment gives is a string, which fails the schema's parse at every start."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from preview.apps.detect import detect
from preview.apps.spec import LaunchSpec

from ..launching import launch_environment

# GabriellMaiaa's API-Fastify-Zod (a course's shape): src/env/index.ts.
_SCHEMA = """import { config } from "dotenv";
import { z } from "zod";
config();
const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("production"),
  DATABASE_URL: z.string(),
  PORT: %s,
  PAGE_SIZE: z.number().default(20),
});
export const env = envSchema.parse(process.env);
"""


def _environment(port: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    package = {"scripts": {"dev": "tsx watch src/server.ts"}, "dependencies": {"zod": "^3"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "src/env/index.ts": (_SCHEMA % port).encode(),
        "src/server.ts": b'import { env } from "./env";\napp.listen({ port: env.PORT });\n',
    }
    now = datetime.now(UTC)
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, now, now, detection=detect(files)
    )
    if extra:
        spec.extra.update(extra)
    return launch_environment(spec)


def test_a_port_the_schema_takes_no_string_for_is_left_unset() -> None:
    assert "PORT" not in _environment("z.number().default(3333)")
    assert "PORT" not in _environment("z.number().optional()")
    # Read as a string, coerced, or required (no start meets it): the service's port.
    assert _environment("z.coerce.number().default(3333)")["PORT"] == "3001"
    assert _environment("z.string().default('3333')")["PORT"] == "3001"
    assert _environment("z.number()")["PORT"] == "3001"
    # The user's own value is theirs (PORT is always the service's).
    assert "PAGE_SIZE" not in _environment("z.number().default(3333)")
    given = _environment("z.number().default(3333)", {"PORT": "4000", "PAGE_SIZE": "5"})
    assert "PORT" not in given and given["PAGE_SIZE"] == "5"
