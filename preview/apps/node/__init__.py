"""How a Node upload starts (``nodeapp``: its scripts, entry, Prisma; ``tsnode``: the
TypeScript runner),
its development script run once (``devscript``: the watcher off), its dependency set
(``nodedeps``), a SQLite app's own data set-up scripts (``datascripts``) and which of
its builds depend on their files alone (``buildsteps``: their output may be reused)."""

from .nodeapp import PRISMA, TSX, NodeStart, node_hint, node_start, prisma_schema

__all__ = ["PRISMA", "TSX", "NodeStart", "node_hint", "node_start", "prisma_schema"]
