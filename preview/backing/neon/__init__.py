"""Neon's serverless driver served on the preview's own PostgreSQL.

``endpoint``: the HTTPS endpoint its ``neon()`` posts each query to (port 443 of the
sandbox's loopback, under the ``api.`` names it derives from its URL's host), TLS on a
certificate made for the launch; ``queries``: each request's queries run on a session of
the preview's role, answered in Neon's JSON. Given by ``backing.postgres`` where the app
lists ``@neondatabase/serverless``.
"""

from .endpoint import ENDPOINT_PORT, NeonEndpoint, endpoint_hosts, endpoint_tls

__all__ = ["ENDPOINT_PORT", "NeonEndpoint", "endpoint_hosts", "endpoint_tls"]
