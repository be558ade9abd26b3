"""Where the service reaches past other libraries' public APIs: one module per library.

Each name here is a library's internal (a private module, class or attribute) that a
part of the service needs and no public API gives: Hypercorn's connection handling (the
hot path's front door, the connection guard, direct bodies), h11's readers and chunked
writer, httpcore's trio stream and a transport's pool, trio-websocket's reader task,
the ASGI send under Quart's ``websocket`` (``services.wsframes``), NX-27017's command
handler and connection loop (a preview's MongoDB, run apart as ``nx27017``'s script). No
module outside this package imports a private module of another library or reads a
private attribute of its objects (``tests/test_layout.py`` checks it); each use is
pinned by a test in ``tests/seams/`` against the versions ``pyproject.toml`` allows, so
an upgrade that moves one fails there, by name, rather than in a call.

Where an internal is missing (a library moved it), its name is None and the part using
it falls back to a public path (the ASGI path for the hot path, the socket forwarder
for a sandboxed upstream), as each user module says.
"""

# Nothing of its own: its modules (h11, httpcore, hypercorn, nx27017, quart,
# trio_websocket) are imported by name, each only where its library is used.
__all__: list[str] = []
