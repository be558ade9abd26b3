"""The realapps runner's URL of an app's route (``proxy_url``): a route httpx cannot carry
raw must be probed, not crash the runner."""

from __future__ import annotations

import httpx

from benchmarks.scenarios.realapps import proxy_url


def test_a_route_with_a_control_character_is_percent_encoded() -> None:
    """PrabhanshuKamal2121's FastAPI-Hospital-Service declares @app.get('\\view'): Python
    reads a vertical tab there, and httpx raised InvalidURL, which lost the app's probes."""
    url = proxy_url("gen_1", "\x0biew")
    assert url == "/api/generations/gen_1/preview/proxy/%0Biew"
    request = httpx.Request("GET", "http://127.0.0.1:1" + url)
    assert request.url.raw_path == b"/api/generations/gen_1/preview/proxy/%0Biew"


def test_a_plain_route_is_unchanged() -> None:
    assert proxy_url("gen_1", "/api/items/") == "/api/generations/gen_1/preview/proxy/api/items/"
    assert proxy_url("gen_1", "/a b") == "/api/generations/gen_1/preview/proxy/a%20b"
