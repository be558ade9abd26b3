import os
import platform

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def settings(request):
    names = ("GREETING", "DATABASE_URL", "OVERRIDDEN", "PORT", "HOST")
    return JSONResponse(
        {"python": platform.python_version(), **{n: os.environ.get(n) for n in names}}
    )


app = Starlette(routes=[Route("/", settings)])
