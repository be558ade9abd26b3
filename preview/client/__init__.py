"""What the client commands (``preview push``, ``launch``, ``logs``, ``stop`` …) need besides
HTTP: where they find their bearer token (``token``), how they call the service (``http``)
and what they print (``printing``: never the bearer token); ``launching`` (the launch's
options), ``commands`` (``revisions``, ``snapshots``, ``requests``) and ``watch``. Light on
purpose: a client command imports none of the service. ``commandline``: the client commands
themselves and the whole parser (``preview serve`` alone imports none of it)."""

from .printing import (
    HealthChecks,
    curl_line,
    describe_stop,
    print_event,
    print_launch,
    terminal_text,
)
from .token import LOCAL_USER, client_token, remember_server_token

__all__ = [
    "LOCAL_USER",
    "HealthChecks",
    "client_token",
    "curl_line",
    "describe_stop",
    "print_event",
    "print_launch",
    "remember_server_token",
    "terminal_text",
]
