"""HTTP API blueprints, one module per resource; thin faces of the parts below them
(what they share with the fast paths is ``services``'; calls to an app are ``proxy``'s)."""

__all__ = [
    "alerts",
    "endpoints",
    "feed",
    "generations",
    "openapi",
    "ops",
    "origins",
    "presets",
    "previews",
    "proxying",
    "revisions",
    "snapshots",
    "streams",
    "ui",
]
