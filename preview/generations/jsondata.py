"""JSON another party wrote (an upload's files, an app's answers and route table),
parsed so that its shape cannot break the service: :func:`loads_bounded`.

Python's decoder recurses once per level of nesting and raises ``RecursionError``
(not ``ValueError``) past the interpreter's limit, so ``[`` repeated a thousand times,
2 KB, is enough to escape an ``except ValueError``; and a document that parses just
under the limit breaks the next recursive walk over it (a masking pass, an encoder),
which starts deeper in the stack. Here both are bad input like any other.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "loads_bounded", "nests_deeper"]

# Far past what real documents nest (an OpenAPI document's schemas, a lockfile: tens),
# far below the interpreter's recursion limit (1000) minus a server's own stack.
MAX_DEPTH = 128


def loads_bounded(data: str | bytes | bytearray, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads(data)``; ``ValueError`` (as for any malformed text) when it nests
    arrays and objects deeper than ``max_depth`` levels, or past the decoder's limit."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested past the decoder's limit") from None
    if nests_deeper(value, max_depth):
        raise ValueError(f"JSON nested more than {max_depth} levels deep")
    return value


def nests_deeper(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests deeper than ``max_depth`` (iteratively: no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= max_depth:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
