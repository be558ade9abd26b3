"""A new revision of a running preview's files applied to it without downtime (see
``swaps``): its process started beside the running one in a directory and sandbox of
its own (``candidate``, ``codedirs``), its set-up steps (``steps``), its narration in
the preview's log (``narration``)."""

from .swaps import RevisionSwaps, SwapResult, changes_said

__all__ = ["RevisionSwaps", "SwapResult", "changes_said"]
