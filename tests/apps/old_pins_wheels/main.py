"""An app that asks for no Python and pins a package whose wheels stop at 3.8."""

import sys

import markupsafe
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def version(request):
    python = ".".join(map(str, sys.version_info[:2]))
    return JSONResponse({"python": python, "markupsafe": markupsafe.__version__})


app = Starlette(routes=[Route("/", version)])
