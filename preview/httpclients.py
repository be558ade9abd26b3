"""httpx clients for calls from the service to its children on 127.0.0.1.

Building an ``httpx.AsyncClient`` builds an ``ssl.SSLContext`` and loads the CA bundle
into it: 15-60 ms of CPU on the event loop on the 2-core machines we run on, twice per
launch (readiness probe, health checks), while every stream and request of the service
waits. Our clients never speak TLS (children answer plain HTTP on 127.0.0.1), but httpx
builds the context anyway, so they all share one, built once.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["local_client", "shared_tls_context"]


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The one TLS context of the service's httpx clients (built on first use)."""
    return ssl.create_default_context()


def local_client(timeout: float) -> httpx.AsyncClient:
    """A client for plain HTTP to a child on 127.0.0.1 (no proxies from the environment)."""
    return httpx.AsyncClient(timeout=timeout, trust_env=False, verify=shared_tls_context())
