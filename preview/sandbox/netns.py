"""A socket of the service's own, made inside a sandbox's network namespace.

The readiness probe of a sandboxed app: where the service may enter a network namespace
(``setns`` takes ``CAP_SYS_ADMIN`` over it and over the service's own: the service is
root), it makes one TCP socket in the sandbox's namespace and connects it to the app's
port there from its own event loop, exactly as it probes an unsandboxed app. Nothing
runs inside the sandbox for it: the forwarder alternative (a socat there retrying the
port every few milliseconds) took 10-30 ms of CPU from the app's start on two cores.

The namespace is entered by a thread made for that alone, which ends after: a thread of
the shared pool left in a preview's namespace would carry the service's next database
connection there.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from functools import cache

import trio

__all__ = [
    "can_enter_netns",
    "listening_ports",
    "netns_child",
    "open_netns_of_child",
    "socket_in_netns",
]

_CLONE_NEWNET = 0x40000000
_CAP_SYS_ADMIN = 21


@cache
def can_enter_netns() -> bool:
    """Whether this service may make sockets in its sandboxes' network namespaces: it
    holds ``CAP_SYS_ADMIN`` (root, and not a container's root that lacks it)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> _CAP_SYS_ADMIN & 1)
    except (OSError, ValueError):
        pass
    return False


def netns_child(pid: int) -> int | None:
    """The child of ``pid`` (bwrap: the sandbox's init) whose network namespace is not
    the service's own; None while there is none. Blocking, microseconds."""
    fd = open_netns_of_child(pid, found=(child := []))
    if fd is None:
        return None
    os.close(fd)
    return child[0]


def listening_ports(pid: int) -> dict[int, str]:
    """The TCP ports listening in the network namespace of ``pid``, each with the address
    to reach it by from inside (``127.0.0.1``, or ``::1`` for a socket bound there
    alone): ``/proc/<pid>/net/tcp`` and ``tcp6``, which list that namespace's sockets.
    Blocking, microseconds (a sandbox's table is a few lines); empty when unreadable."""
    ports: dict[int, str] = {}
    for table, loopback in (("tcp6", "::1"), ("tcp", "127.0.0.1")):
        try:
            with open(f"/proc/{pid}/net/{table}") as listing:
                rows = listing.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 4 or fields[3] != _LISTEN:
                continue
            address, _, port = fields[1].partition(":")
            only_v6_loopback = table == "tcp6" and address == _V6_LOOPBACK
            ports[int(port, 16)] = loopback if only_v6_loopback else "127.0.0.1"
    return ports


_LISTEN = "0A"
_V6_LOOPBACK = "00000000000000000000000001000000"  # ::1 as /proc prints it


def open_netns_of_child(pid: int, found: list[int] | None = None) -> int | None:
    """A descriptor of the network namespace of a child of ``pid`` (bwrap: its child
    is the sandbox's init) that is not the service's own; None while there is none.
    Blocking, microseconds: ``/proc`` reads."""
    own = os.stat("/proc/self/ns/net").st_ino
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            children = [int(child) for child in listing.read().split()]
    except OSError:
        return None
    for child in children:
        try:
            fd = os.open(f"/proc/{child}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        # Still pid's child once the namespace is held: never a reused pid's namespace.
        if os.fstat(fd).st_ino != own and _parent_of(child) == pid:
            if found is not None:
                found.append(child)
            return fd
        os.close(fd)
    return None


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # After the command's name, which may hold spaces and parentheses.
            return int(stat.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


async def socket_in_netns(netns_fd: int) -> trio.socket.SocketType:
    """A TCP socket (IPv4, non-blocking) that lives in the namespace ``netns_fd`` names.
    Raises ``OSError`` when the namespace cannot be entered."""
    made: list[socket.socket | BaseException] = []

    def enter_and_make() -> None:
        try:
            if _LIBC.setns(netns_fd, _CLONE_NEWNET) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, os.strerror(errno))
            made.append(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        except BaseException as error:  # handed to the task that asked
            made.append(error)

    # Its own thread, joined from a worker of trio's pool (which never enters).
    thread = threading.Thread(target=enter_and_make, name="preview-netns", daemon=True)
    thread.start()
    await trio.to_thread.run_sync(thread.join)
    result = made[0]
    if isinstance(result, BaseException):
        raise result
    return trio.socket.from_stdlib_socket(result)


_LIBC = ctypes.CDLL(None, use_errno=True)
