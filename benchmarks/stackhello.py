"""The fixed stack's hello app, for ``benchmarks.idlefloor``: ``python stackhello.py
<sqlite file> [<file of module names to import first>]``.

A ``QuartTrio`` app served by Hypercorn's trio worker on 127.0.0.1:0, with a SQLAlchemy
Core engine on the SQLite file (a table created, a row written and read back), the heap
frozen as ``preview serve`` freezes it; prints ``stack hello ready`` once it listens.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
from functools import partial
from pathlib import Path

import sqlalchemy as sa
import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from quart_trio import QuartTrio

app = QuartTrio(__name__)


@app.get("/")
async def hello() -> dict[str, bool]:
    return {"ok": True}


def _store(path: str) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata = sa.MetaData()
    table = sa.Table(
        "hello",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.String),
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(table).values(text="hello"))
        connection.execute(sa.select(table)).all()
    return engine


async def _main(path: str) -> None:
    engine = _store(path)
    config = Config()
    config.bind = ["127.0.0.1:0"]
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(serve, app, config))
        gc.collect()
        gc.freeze()
        print("stack hello ready", flush=True)
        await trio.sleep_forever()
    engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) > 2:
        for name in Path(sys.argv[2]).read_text().split():
            try:
                importlib.import_module(name)
            except Exception as error:  # a module that only imports from its importer
                print(f"not imported: {name}: {error}", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        trio.run(_main, sys.argv[1])
