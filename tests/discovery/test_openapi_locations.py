"""Where a running app's OpenAPI document is looked for, read from its source (pure)."""

from __future__ import annotations

from preview.discovery import COMMON_OPENAPI_PATHS, openapi_locations

LITESTAR = """from litestar import Litestar, get
from litestar.openapi import OpenAPIConfig

API_DOCS = "/v2/docs"


@get("/items")
async def items() -> list[str]:
    return []


app = Litestar([items], openapi_config=OpenAPIConfig(title="Shop", version="1", path=API_DOCS))
"""


def test_litestar_schema_path() -> None:
    # Litestar serves its document under /schema by default: a common place to probe.
    assert "/schema/openapi.json" in COMMON_OPENAPI_PATHS
    plain = "from litestar import Litestar\napp = Litestar([])\n"
    assert openapi_locations({"app.py": plain.encode()}) == list(COMMON_OPENAPI_PATHS)
    # OpenAPIConfig(path=...) moves it; the path may be a constant from anywhere.
    located = openapi_locations({"app.py": LITESTAR.encode()})
    assert located[0] == "/v2/docs/openapi.json"
    assert located[1:] == list(COMMON_OPENAPI_PATHS)
    default = "from litestar.openapi import OpenAPIConfig\nconfig = OpenAPIConfig(title='x')\n"
    assert openapi_locations({"app.py": default.encode()})[0] == "/schema/openapi.json"
    # openapi_config=None: no document at all.
    off = "from litestar import Litestar\napp = Litestar([], openapi_config=None)\n"
    assert openapi_locations({"app.py": off.encode()}) == []
