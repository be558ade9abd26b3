"""``python -m preview.store.migrate``: the store's schema upgraded in a process of its
own (``schema.upgrade_schema(apart=True)``): ``{"url": ..., "lock_wait": s}`` on stdin;
exit status 0 once the schema is current, else 1 and one line on stderr (the URL's
password hidden)."""

from __future__ import annotations

import json
import sys

from .database import Store
from .failures import first_line
from .schema import upgrade_schema

__all__ = ["main"]


def main() -> int:
    request = json.loads(sys.stdin.read())
    url, lock_wait = request["url"], float(request["lock_wait"])
    try:
        engine = Store._create_engine(url, 1, lock_wait)
    except Exception as error:  # a malformed URL, a missing driver, the SQLite dir
        print(first_line(error), file=sys.stderr)
        return 1
    try:
        upgrade_schema(engine, lock_wait=lock_wait, busy_timeout=lock_wait)
    except Exception as error:  # the database refused, or a migration failed
        print(f"{type(error).__name__}: {first_line(error)}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
