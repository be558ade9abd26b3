"""Test app at its own origin: what it was asked, an absolute redirect, a cookie, a WebSocket."""

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse

app = FastAPI(title="Origin target")


@app.get("/redirect")
async def redirect(request: Request) -> RedirectResponse:
    # Absolute, from the Host the app was called with: right only at an origin of its own.
    return RedirectResponse(str(request.url_for("landing")), status_code=302)


@app.get("/landing", name="landing")
async def landing() -> PlainTextResponse:
    return PlainTextResponse("landed")


@app.get("/set-cookie")
async def set_cookie() -> PlainTextResponse:
    response = PlainTextResponse("cookie set")
    response.set_cookie("app_cookie", "of-the-app", path="/", httponly=True)
    return response


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_text()
            await websocket.send_text(f"echo {message} from {websocket.url.path}")
    except WebSocketDisconnect:
        pass


@app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
async def anything(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "rootPath": request.scope.get("root_path", ""),
            "host": request.headers.get("host"),
            "authorization": request.headers.get("authorization"),
            "cookies": dict(request.cookies),
            "forwardedProto": request.headers.get("x-forwarded-proto"),
            "forwardedHost": request.headers.get("x-forwarded-host"),
            "body": (await request.body()).decode(),
        }
    )
