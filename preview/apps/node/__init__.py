"""How a Node upload starts (``nodeapp``: its scripts, entry, TypeScript runner, Prisma),
and its development script run once (``devscript``: the watcher off)."""

from .nodeapp import PRISMA, TSX, NodeStart, node_hint, node_start, prisma_schema

__all__ = ["PRISMA", "TSX", "NodeStart", "node_hint", "node_start", "prisma_schema"]
