"""A bounded in-memory cache for values that never change once written."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = ["BoundedCache"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class BoundedCache(Generic[_K, _V]):
    """At most ``size`` entries; the least recently used goes first. Not thread-safe:
    used from the event loop only."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[_K, _V] = OrderedDict()

    def get(self, key: _K) -> _V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: _K, value: _V) -> _V:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value

    def discard(self, key: _K) -> None:
        """Forget ``key`` (its value was renamed or deleted)."""
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
