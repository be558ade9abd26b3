"""Endpoint discovery: from a running app's OpenAPI and its own route table (Express,
Fastify, Koa, Hono, Flask, Django), else parsed from the uploaded source (FastAPI, Flask,
Django, Express …)."""

from .django import regex_to_route
from .endpoints import (
    MAX_ENDPOINTS,
    MAX_FILE_BYTES,
    endpoints_beyond_openapi,
    endpoints_from_openapi,
    endpoints_from_routes,
    endpoints_from_source,
)
from .openapi_url import COMMON_OPENAPI_PATHS, docs_location, openapi_locations

__all__ = [
    "COMMON_OPENAPI_PATHS",
    "MAX_ENDPOINTS",
    "MAX_FILE_BYTES",
    "docs_location",
    "endpoints_beyond_openapi",
    "endpoints_from_openapi",
    "endpoints_from_routes",
    "endpoints_from_source",
    "openapi_locations",
    "regex_to_route",
]
