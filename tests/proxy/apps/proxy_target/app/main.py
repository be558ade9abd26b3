"""Test app behind the proxy: JSON, text, binary, slow, streaming, echo, a cookie and WebSocket."""

import asyncio
import gzip

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

app = FastAPI(title="Proxy target")


@app.get("/json")
async def json_endpoint(name: str = "world") -> dict:
    return {"hello": name}


@app.get("/text")
async def text() -> PlainTextResponse:
    return PlainTextResponse("plain text ✓")


@app.get("/binary")
async def binary() -> Response:
    return Response(bytes(range(256)), media_type="application/octet-stream")


@app.get("/gzip")
async def gzipped() -> Response:
    body = gzip.compress(b'{"zipped": true}')
    return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip"})


@app.get("/slow")
async def slow(seconds: float = 1.0) -> dict:
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@app.get("/big")
async def big(size: int = 1000) -> PlainTextResponse:
    return PlainTextResponse("x" * size)


@app.get("/stream")
async def stream(count: int = 3, interval: float = 0.5) -> StreamingResponse:
    async def chunks():
        sent = 0
        try:
            for n in range(count):
                yield f"chunk {n}\n"
                sent += 1
                await asyncio.sleep(interval)
        finally:
            if sent < count:
                print(f"stream stopped after {sent} of {count} chunks", flush=True)

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/set-cookie")
async def set_cookie() -> Response:
    response = PlainTextResponse("cookie set")
    response.set_cookie("app_session", "secret-of-this-user", path="/")
    return response


@app.get("/odd-header")
async def odd_header() -> Response:
    response = PlainTextResponse("odd")
    # Bytes past ASCII, as some apps send them: UTF-8 of a line separator and an é.
    response.raw_headers.append((b"x-odd", "\u2028 é".encode()))
    return response


@app.api_route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def echo(request: Request) -> dict:
    body = await request.body()
    return {
        "method": request.method,
        "path": request.url.path,
        "query": dict(request.query_params),
        "headers": {name: value for name, value in request.headers.items()},
        "body": body.decode("utf-8", "replace"),
        "rootPath": request.scope.get("root_path"),
    }


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_text()
            if message.startswith("close:"):
                await websocket.close(code=int(message.split(":")[1]), reason="asked to")
                return
            await websocket.send_text(f"echo {message}")
    except WebSocketDisconnect:
        pass
