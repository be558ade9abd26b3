"""Why a sandboxed app's call to another host failed, said once: :class:`OutsideCalls`.

A sandbox's network namespace has a loopback device only, and its ``/etc/hosts`` names
only itself and the services it is given. So an app's call to any other host fails on
the name, and the app says only that: Python's ``[Errno -3] Temporary failure in name
resolution`` (urllib, httpx, sockets; requests and psycopg name the host), Node's
``getaddrinfo EAI_AGAIN api.github.com`` (aws-sdk 2: ``Inaccessible host``); a call to an
address fails for want of a route (``connect ENETUNREACH 1.1.1.1:443``). The hosts
``PREVIEW_EGRESS`` allows are reached through the sandbox's HTTP proxy (``HTTPS_PROXY``),
whose refusals are reported already (``sandbox.egress``); a call that does not use the
proxy fails the same way.

When the app's output says a name could not be resolved, the log gets one ``system``
line per host (a few at most) naming it, if the output does, and what would let it
through: the service's ``PREVIEW_EGRESS`` (what it allows now), or the proxy for a host
it allows. A preview that is not sandboxed uses the host's network and resolver, so its
failures are its own and nothing is said.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from ..sandbox.outbound import Outbound

__all__ = ["OutsideCalls", "unreachable_address", "unresolved_host"]

# Node's DNS queries (c-ares) of the records a client looks up itself: a mongodb+srv://
# URL's SRV and TXT, an address's A, AAAA, ANY. Named each (not "query" alone): every
# batch of output is searched for them (_WORDS) before any line is read.
_QUERY_NAMES = ("querySrv", "queryTxt", "queryAaaa", "queryAny", "queryA")
_QUERIES = "(?:" + "|".join(_QUERY_NAMES) + ")"
# What the line of a failed lookup says, as the resolver's clients spell it.
_UNRESOLVED = re.compile(
    r"Temporary failure in name resolution|Name or service not known"
    r"|No address associated with hostname|nodename nor servname provided"
    r"|getaddrinfo (?:EAI_AGAIN|ENOTFOUND|EAI_NONAME|EAI_FAIL)\b"
    r"|\b(?:failed to resolve|could not resolve|could not translate) host"
    r"|\blookup \S+(?: on \S+)?: (?:no such host|server misbehaving)"
    r"|Inaccessible host: `"  # aws-sdk 2's account of ENOTFOUND
    # urllib3 2's exception by its name, which a failure's cause keeps where its clipped
    # text loses the resolver's words (arturootalora's fastapi-railway: tiktoken's
    # download at start, "… NameResolutionError(… Failed to resolve 'open…")
    r"|\bNameResolutionError\b"
    # A DNS client of the app's own, past the system's resolver: Node's c-ares (a
    # mongodb+srv:// URL's ``querySrv ECONNREFUSED _mongodb._tcp.cluster0.….mongodb.net``),
    # dnspython, which finds no name server's address in a sandbox (pymongo's "cannot open
    # /etc/resolv.conf" for the same URL).
    r"|(?-i:\b" + _QUERIES + r" E[A-Z]+ )|cannot open /etc/resolv\.conf",
    re.IGNORECASE,
)
# A call to an address (no name to resolve): the sandbox has no route but its loopback
# (Node's ``connect ENETUNREACH 1.1.1.1:443``, terminus's DNS check; Python's errno 101).
_UNREACHABLE = re.compile(r"\bconnect ENETUNREACH\b|\[Errno 101\] Network is unreachable")
_ADDRESS = re.compile(r"\bENETUNREACH (\d{1,3}(?:\.\d{1,3}){3}):\d+")
_WORDS = (
    "resol",  # resolution, resolve, resolv.conf
    "NameResolution",
    "EAI_",
    "ENOTFOUND",
    "not known",
    "servname",
    "no such host",
    "misbehaving",
    "Inaccessible host",
    "ENETUNREACH",
    "unreachable",
    "querySrv",  # _QUERY_NAMES: "queryA" begins queryAaaa and queryAny too
    "queryTxt",
    "queryA",
)
# Where such a line names the host: Node, urllib3 2 (requests), psycopg and libpq, curl,
# Go, aiohttp, redis-py, urllib3 1 (requests).
_HOST = (
    re.compile(r"getaddrinfo \w+ ([\w.-]+)"),
    re.compile(r"Failed to resolve '([\w.-]+)'"),
    re.compile(r"(?:resolve|translate) host(?: name)? [\"']([\w.-]+)[\"']", re.IGNORECASE),
    re.compile(r"[Cc]ould not resolve host:? ([\w.-]+)"),
    re.compile(r"\blookup ([\w.-]+)(?: on \S+)?: "),
    re.compile(r"Cannot connect to host ([\w.-]+):\d+"),
    re.compile(r"Error -?\d+ connecting to ([\w.-]+):\d+"),
    re.compile(r"\bhost='([\w.-]+)'"),
    re.compile(r"Inaccessible host: `([\w.-]+)'"),
    re.compile(r"\b" + _QUERIES + r" E[A-Z]+ (?:_[\w-]+\._(?:tcp|udp)\.)?([\w.-]+)"),
)
_MAX_SAID = 4  # lines per preview: a host each, or one for hosts not named


def unresolved_host(text: str) -> tuple[bool, str | None]:
    """Whether ``text`` says a host name could not be resolved, and the name if it
    says which (lower case)."""
    if _UNRESOLVED.search(text) is None:
        return False, None
    for pattern in _HOST:
        if (m := pattern.search(text)) is not None:
            return True, m.group(1).lower().rstrip(".")
    return True, None


def unreachable_address(text: str) -> tuple[bool, str | None]:
    """Whether ``text`` says an address could not be reached (no route: the sandbox's
    network), and the address if it says which."""
    if _UNREACHABLE.search(text) is None:
        return False, None
    found = _ADDRESS.search(text)
    return True, found.group(1) if found is not None else None


def _outside(text: str) -> tuple[str, str | None] | None:
    """("resolve" or "reach", the host) of a failed call out that ``text`` tells."""
    for verb, tell in (("resolve", unresolved_host), ("reach", unreachable_address)):
        failed, host = tell(text)
        if failed:
            return verb, host
    return None


class OutsideCalls:
    """See the module doc: :meth:`lines` sees the app's output; ``say`` publishes."""

    def __init__(
        self,
        outbound: Callable[[], Outbound] | None,
        say: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self._outbound = outbound  # its sandbox's way out, as now; None: not sandboxed
        self._say = say  # (level, message)
        self._said: set[str | None] = set()

    async def lines(self, texts: list[str]) -> None:
        if self._outbound is None or len(self._said) >= _MAX_SAID:
            return
        joined = "\n".join(texts)  # most batches: a few searches, none of them per line
        if not any(word in joined for word in _WORDS):
            return
        found: dict[str | None, str] = {}  # in order, each once
        for text in texts:
            failed = _outside(text)
            if failed is not None:
                found.setdefault(failed[1], failed[0])
        if len(found) > 1:  # a chained traceback: its inner errors name no host
            found.pop(None, None)
        for host, verb in found.items():
            if host not in self._said and len(self._said) < _MAX_SAID:
                self._said.add(host)
                await self._say("WARN", self._said_of(host, verb))

    def explained(self, cause: str | None, said: str | None = None) -> str | None:
        """A failure's ``cause`` and, if it is a failed lookup in a sandbox, why
        (``said``: the whole text the cause was read from, else the cause itself: a
        cause may be clipped before the words that tell)."""
        if cause is None or self._outbound is None:
            return cause
        failed = _outside(said if said is not None else cause)
        return f"{cause} — {self._why(failed[1])}" if failed is not None else cause

    def _said_of(self, host: str | None, verb: str = "resolve") -> str:
        what = f"the app could not {verb} {host or 'a host'}"
        return f"diagnosis: {what}: {self._why(host)}"

    def _why(self, host: str | None) -> str:
        assert self._outbound is not None
        outbound = self._outbound()
        policy = outbound.policy
        if host is not None and "." not in host:
            own = ", ".join(("localhost", *outbound.aliases))
            return (
                f"inside its sandbox only its own names resolve ({own}); a service it"
                " expects beside it by that name is not one the preview was given"
            )
        if policy.closed:
            return (
                "a preview reaches no host outside this machine unless the service's"
                " PREVIEW_EGRESS names it (it names none)"
            )
        if host is not None and policy.allows(host):
            return (
                "PREVIEW_EGRESS allows it, but only through the sandbox's HTTP proxy"
                " (HTTPS_PROXY and HTTP_PROXY in its environment), which this call did not use"
            )
        return (
            "a preview reaches only the hosts the service's PREVIEW_EGRESS names"
            f" ({policy.describe()}), through its HTTP proxy (HTTPS_PROXY in its environment)"
        )
