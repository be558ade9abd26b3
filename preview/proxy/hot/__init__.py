"""The hot path below Hypercorn and httpx: authorised calls to a preview's app (the
path proxy's, each preview origin's and the JSON envelope's) served on the connection
itself. ``front`` puts it in front of Hypercorn's handling of each plain-TCP connection,
``path`` reads and routes each request, ``head`` is its HTTP/1.1 framing, ``upstream``
its kept-alive connections to the apps, ``sockets`` its socket calls, ``relay`` its side
toward the caller and ``envelope`` the JSON envelope's call; ``onward`` sends a call on to
the cluster node that runs its preview; ``watch`` times a connection's waits."""

from .front import attach, attach_internal, install
from .onward import Onward
from .path import HotPath

__all__ = ["HotPath", "Onward", "attach", "attach_internal", "install"]
