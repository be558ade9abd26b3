"""A running app's own route table (``table``): the preloads that write it
(``routetable/`` for Express, Fastify, Koa and Hono; ``site/sitecustomize.py`` for
Werkzeug's and Django's routes) and its reader."""

from .table import PRELOADS, ROUTES_FILE, RouteTable, read_route_table, route_table_env

__all__ = ["PRELOADS", "ROUTES_FILE", "RouteTable", "read_route_table", "route_table_env"]
