"""How a call to a preview fails: httpx's errors (and a WebSocket's ``OSError``) become
the service's 504 ``upstream_timeout`` or 502 ``upstream_unavailable``, at one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from ..errors import BadGateway, TimedOut
from ..runtime.clients import HTTPCORE_UNANSWERED

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["CUT_SHORT", "UNANSWERED", "call_failure", "translate_upstream_error", "unreachable"]

# What a ``RemoteProtocolError`` says when the app closed the connection before the
# first byte of an answer, or before its end: the hot path's words (``hot.upstream``),
# then httpcore's (the ASGI path). The type stays httpx's, whose name the ``proxy``
# event gives on either path.
UNANSWERED = "the preview closed the connection without answering"
CUT_SHORT = "the preview closed the connection mid-answer"
_UNANSWERED = (UNANSWERED, HTTPCORE_UNANSWERED)
_CUT_SHORT = (CUT_SHORT, "without sending complete message body")


def translate_upstream_error(
    error: httpx.HTTPError, timeout: float, app_said: str | None = None
) -> Exception:
    """One place where httpx's errors become the service's (``app_said``: see
    :func:`unreachable`)."""
    if isinstance(error, httpx.TimeoutException):
        return TimedOut(
            f"The preview did not answer within {timeout:g} s.",
            code="upstream_timeout",
            details={"timeout": timeout},
        )
    return unreachable(error, app_said)


async def call_failure(
    error: httpx.HTTPError, waited: float, runtime: PreviewRuntime, began: float
) -> Exception:
    """:func:`translate_upstream_error` of a proxied call to ``runtime`` begun at
    ``began`` (trio time; ``waited``: its timeout), with the error the app printed
    meanwhile; not looked for after a timeout, whose answer does not say it."""
    if isinstance(error, httpx.TimeoutException):
        return translate_upstream_error(error, waited)
    return translate_upstream_error(error, waited, await runtime.call_failure_said(began))


def unreachable(error: BaseException, app_said: str | None = None) -> BadGateway:
    """502 ``upstream_unavailable``, saying what the app did (``details.cause``): refused
    the connection, closed it without answering (a server that drops a request whose
    handler raised, as gunicorn does for an ``OSError``) or mid-answer, answered what is
    not HTTP, or reset it. The exception's name is the one the ``proxy`` event gives.
    ``app_said``: the error the app printed meanwhile (``PreviewRuntime.
    call_failure_said``), said too (``details.appError``): a route whose call to an API
    outside failed reads as that, not as a connection closed."""
    text = str(error)
    if isinstance(error, (httpx.ConnectError, ConnectionRefusedError, FileNotFoundError)):
        cause, said = "refused", "refused the connection: nothing listens on its port"
    elif isinstance(error, httpx.RemoteProtocolError):
        if any(words in text for words in _UNANSWERED):
            cause = "closed_unanswered"
            said = "closed the connection without answering: what it printed is in its log"
        elif any(words in text for words in _CUT_SHORT):
            cause, said = "closed_mid_answer", "closed the connection in the middle of its answer"
        else:
            cause, said = "not_http", "answered with something that is not HTTP/1.1"
    else:
        cause, said = "reset", "reset the connection"
    if app_said:
        said = said.removesuffix(": what it printed is in its log")
        return BadGateway(
            f"The preview {said} ({type(error).__name__}); it printed: {app_said}",
            code="upstream_unavailable",
            details={"cause": cause, "appError": app_said},
        )
    return BadGateway(
        f"The preview {said} ({type(error).__name__}).",
        code="upstream_unavailable",
        details={"cause": cause},
    )
