from common import tag
from greeting import HELLO
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def index(request):
    return JSONResponse({"common": tag(), "greeting": HELLO})


app = Starlette(routes=[Route("/", index)])
