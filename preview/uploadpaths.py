"""What a file's path in an upload may be (:func:`canonical_path`): relative, canonical,
no component a shell or another system reads otherwise. The service refuses an upload
naming any other (``generations.uploads``, ``unsafe_path``); the client leaves such a
file out of what it sends, as it leaves out symlinks (a diagram named
``Diagrams/Update\\Replace.png`` made a whole app's push fail)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["UnsafePath", "canonical_path"]

# Linux counts NAME_MAX in bytes, so components are measured UTF-8 encoded.
MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 1024
_DRIVE = re.compile(r"[A-Za-z]:")
# Folders the service makes in a preview's directory: its private /tmp, and the
# directories of revisions applied live (``runtime.swaps.codedirs``).
_RESERVED = frozenset({".tmp", ".revisions"})


class UnsafePath(ValueError):
    """A path an upload may not name; ``reason`` says why ("it contains a backslash")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def canonical_path(path: object) -> str:
    """The canonical relative form of ``path`` (``a/b/c.py``), or :class:`UnsafePath`.

    Only a leading ``./`` is rewritten (``tar -C dir .`` writes it); anything else that is
    not already canonical is refused rather than repaired, so what the client sees in the
    preview is exactly what it named.
    """
    if not isinstance(path, str):
        raise UnsafePath("it is not a string")
    if not path:
        raise UnsafePath("it is empty")
    if any(unicodedata.category(ch) == "Cc" for ch in path):
        raise UnsafePath("it contains a NUL or other control character")
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        raise UnsafePath("it is not valid Unicode") from None
    if "\\" in path:
        raise UnsafePath("it contains a backslash")
    if path.startswith("/"):
        raise UnsafePath("it is absolute")
    if _DRIVE.match(path):
        raise UnsafePath("it starts with a drive letter")
    if size > MAX_PATH_BYTES:
        raise UnsafePath(f"it is longer than {MAX_PATH_BYTES} bytes")
    relative = path[2:] if path.startswith("./") else path
    if relative.split("/", 1)[0] in _RESERVED:
        raise UnsafePath(f"{relative.split('/', 1)[0]!r} is the preview's own folder there")
    for part in relative.split("/"):
        if not part:
            raise UnsafePath("it has an empty component")
        if part in (".", ".."):
            raise UnsafePath(f"it has a {part!r} component")
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            raise UnsafePath(f"a component is longer than {MAX_COMPONENT_BYTES} bytes")
    return relative
