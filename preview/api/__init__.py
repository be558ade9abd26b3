"""HTTP API blueprints, one module per resource (and ``common``, what they share)."""

__all__ = [
    "common",
    "endpoints",
    "feed",
    "generations",
    "ops",
    "origins",
    "previews",
    "proxying",
    "streams",
    "ui",
]
