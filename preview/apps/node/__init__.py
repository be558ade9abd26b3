"""How a Node upload starts (``nodeapp``: its scripts, entry, Prisma; ``tsnode``: the
TypeScript runner),
its development script run once (``devscript``: the watcher off), its dependency set
(``nodedeps``) and a SQLite app's own data set-up scripts (``datascripts``)."""

from .nodeapp import PRISMA, TSX, NodeStart, node_hint, node_start, prisma_schema

__all__ = ["PRISMA", "TSX", "NodeStart", "node_hint", "node_start", "prisma_schema"]
