"""h11's internals the service uses (pinned: ``tests/seams``): its readers' table, which
the connection guard extends (a bare LF refused in a head, a chunk size bounded), and its
chunked writer, which ``transport.direct_body`` frames an answer's body with."""

from __future__ import annotations

try:
    import h11._readers as readers
    from h11._receivebuffer import ReceiveBuffer  # what the readers read from
    from h11._writers import ChunkedWriter
except ImportError:  # pragma: no cover - depends on the installed version
    readers = None  # type: ignore[assignment]
    ReceiveBuffer = ChunkedWriter = None  # type: ignore[assignment,misc]

__all__ = ["ChunkedWriter", "ReceiveBuffer", "readers"]
