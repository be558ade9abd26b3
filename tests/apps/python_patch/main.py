import sys

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def version(request):
    return JSONResponse({"python": ".".join(map(str, sys.version_info[:3]))})


app = Starlette(routes=[Route("/", version)])
