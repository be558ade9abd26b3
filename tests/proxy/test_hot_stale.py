"""A kept-alive connection to the app that the app closes as a call goes on it (its
keep-alive timeout ran out just then, or it closes after every answer without saying
``Connection: close``): a safe call goes again on a new connection rather than failing
with a 502 the caller did nothing to earn (``hot.upstream.went_stale``). Real service,
real app."""

from __future__ import annotations

import trio

from ..conftest import Service, auth

# Answers the first request of each connection; at the second one, closes it without
# answering: the race of a keep-alive timeout with the next call, every time.
_CLOSES_KEPT_CONNECTIONS = """
import os, socket, threading

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(os.environ["PORT"])))
listener.listen(16)
print("listening", flush=True)

def serve(connection):
    with connection:
        data, answered = b"", False
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return
            data += chunk
            while b"\\r\\n\\r\\n" in data:
                head, _, data = data.partition(b"\\r\\n\\r\\n")
                if answered:
                    return
                lines = head.lower().split(b"\\r\\n")
                length = [l for l in lines if l.startswith(b"content-length:")]
                data = data[int(length[0].split(b":")[1]) if length else 0:]
                connection.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nserved")
                answered = True

while True:
    accepted, _ = listener.accept()
    threading.Thread(target=serve, args=(accepted,), daemon=True).start()
"""


async def test_a_safe_call_on_a_connection_the_app_closed_goes_again(service: Service) -> None:
    with trio.fail_after(60):
        gid = await service.upload({"server.py": _CLOSES_KEPT_CONNECTIONS})
        launched = await service.launch(gid, command=["{python}", "server.py"])
        assert launched.json()["status"] == "running", launched.text
        headers = auth() | {"X-Preview-Token": launched.json()["previewToken"]}
        proxy = f"/api/generations/{gid}/preview/proxy/items"
        envelope = f"/api/generations/{gid}/preview/request"
        for _ in range(3):  # the first on a new connection, then on kept ones
            answer = await service.client.get(proxy, headers=headers)
            assert (answer.status_code, answer.text) == (200, "served"), answer.text
            answer = await service.client.post(
                envelope, json={"method": "GET", "path": "/items"}, headers=headers
            )
            assert answer.status_code == 200, answer.text
            assert (answer.json()["statusCode"], answer.json()["data"]) == (200, "served")
        # A call that is not safe is not sent twice: the app may have acted on it.
        answer = await service.client.post(proxy, headers=headers, content=b"")
        assert answer.status_code == 502, answer.text
        assert answer.json()["details"]["cause"] == "closed_unanswered"
        # Each call is one proxy event, the one sent again included.
        events = await service.history(gid)
        assert sum("GET /items -> 200" in e["message"] for e in events) == 6


async def test_the_same_on_the_way_through_hypercorn_and_httpx(service: Service) -> None:
    """A call the hot path hands to Hypercorn (here: ``Connection: close``, and a
    connection Hypercorn serves at the moment) reaches the app through httpx's pool,
    whose kept-alive connections the app closes the same way: the same rule there
    (``runtime.upstream``), told new from kept by httpcore's trace of the call."""
    with trio.fail_after(60):
        gid = await service.upload({"server.py": _CLOSES_KEPT_CONNECTIONS})
        launched = await service.launch(gid, command=["{python}", "server.py"])
        assert launched.json()["status"] == "running", launched.text
        headers = auth() | {"X-Preview-Token": launched.json()["previewToken"]}
        headers["Connection"] = "close"
        proxy = f"/api/generations/{gid}/preview/proxy/items"
        for _ in range(3):  # the first on a new connection to the app, then on kept ones
            answer = await service.client.get(proxy, headers=headers)
            assert (answer.status_code, answer.text) == (200, "served"), answer.text
        answer = await service.client.post(proxy, headers=headers, content=b"")
        assert answer.status_code == 502, answer.text


# Answers one request per connection, then closes it (no ``Connection: close`` said) and
# says so: the connection lies idle in the proxy's pool, closed by the app.
_CLOSES_AFTER_EACH_ANSWER = """
import os, socket

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(os.environ["PORT"])))
listener.listen(16)
while True:
    connection, _ = listener.accept()
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    if data:
        connection.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nserved")
    connection.close()
    print("closed after", data.split(b"\\r\\n")[0].decode(), flush=True)
"""


async def test_a_call_that_is_not_safe_never_goes_on_a_connection_the_app_closed(
    service: Service,
) -> None:
    """Only safe calls skip the look at an idle connection before it is used (they go
    again if they meet a closed one): a POST finds it closed and takes a new one."""
    with trio.fail_after(60):
        gid = await service.upload({"server.py": _CLOSES_AFTER_EACH_ANSWER})
        launched = await service.launch(gid, command=["{python}", "server.py"])
        assert launched.json()["status"] == "running", launched.text
        headers = auth() | {"X-Preview-Token": launched.json()["previewToken"]}
        proxy = f"/api/generations/{gid}/preview/proxy/items"
        for n, method in enumerate(("GET", "POST", "GET", "POST")):
            answer = await service.client.request(
                method, f"{proxy}?n={n}", headers=headers, content=b"x"
            )
            assert (answer.status_code, answer.text) == (200, "served"), (method, answer.text)
            said = f"closed after {method} /items?n={n} HTTP/1.1"
            # Until the app has closed the connection it kept (state across a socket):
            while not any(e["message"] == said for e in await service.history(gid)):  # noqa: ASYNC110
                await trio.sleep(0.02)
