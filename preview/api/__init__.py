"""HTTP API blueprints, one module per resource, and what they share: ``common``,
``bodies`` (request bodies and their limits), ``proxy_access`` and ``proxy_websocket``
(calls to a preview's app, which the fast paths make too)."""

__all__ = [
    "bodies",
    "common",
    "endpoints",
    "feed",
    "generations",
    "ops",
    "origins",
    "previews",
    "proxy_access",
    "proxy_websocket",
    "proxying",
    "streams",
    "ui",
]
