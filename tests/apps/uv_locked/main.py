from importlib.metadata import version

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def versions(request):
    return JSONResponse({"starlette": version("starlette"), "uvicorn": version("uvicorn")})


app = Starlette(routes=[Route("/", versions)])
