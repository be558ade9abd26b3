"""An app that asks for no Python, pins a package whose wheels stop at 3.9 and one that
has no wheel at all (a small pure-Python sdist)."""

import sys

import markupsafe
import visitor
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def version(request):
    python = ".".join(map(str, sys.version_info[:2]))
    return JSONResponse(
        {"python": python, "markupsafe": markupsafe.__version__, "visitor": visitor.__name__}
    )


app = Starlette(routes=[Route("/", version)])
