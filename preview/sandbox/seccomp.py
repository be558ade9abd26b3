"""The system calls a sandbox refuses: :func:`filter_program`, for bwrap's ``--seccomp``.

Defence in depth beside the namespaces, an unprivileged uid and ``no_new_privs``: what
web apps never need and kernel exploits often start from. New user namespaces (inside
one, an unprivileged process is root again, with the kernel's whole namespaced surface
before it), mounts, keyrings, eBPF, perf, userfaultfd, kernel modules, other namespaces.
``clone3`` and io_uring answer ENOSYS, "not here", so that libc and libuv fall back to
``clone`` (whose flags the filter can see) and to ordinary reads and writes. Sockets are
of four families only: Unix, IPv4, IPv6 and netlink (the C library's way to list the
interfaces). The others answer EAFNOSUPPORT, as on a kernel built without them: some
are not confined by the network namespace at all (``AF_VSOCK`` reaches the hypervisor
and the virtual machine's own agents, whatever namespace asks), the rest are kernel
surface no web app needs (``AF_ALG``, ``AF_TIPC``, ``AF_RDS`` …).

The program is made by libseccomp (through ``pyseccomp``, the ctypes binding with the
API of libseccomp's own) once per service; where libseccomp is missing, sandboxes run
without it and the isolation says so.
"""

from __future__ import annotations

import errno
import logging
import os
from functools import cache

__all__ = ["filter_program"]

_log = logging.getLogger(__name__)
_CLONE_NEWUSER = 0x10000000
_REFUSED = (
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "setns",
    "swapon",
    "swapoff",
    "reboot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "name_to_handle_at",
    "acct",
    "quotactl",
    "lookup_dcookie",
    "syslog",
    "iopl",
    "ioperm",
)
_ABSENT = ("clone3", "io_uring_setup", "io_uring_enter", "io_uring_register")
_SOCKET_FAMILIES = (1, 2, 10, 16)  # AF_UNIX, AF_INET, AF_INET6, AF_NETLINK


@cache
def filter_program() -> bytes | None:
    """The compiled (cBPF) filter; None where libseccomp cannot be loaded."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as error:  # the library, or libseccomp.so.2, missing
        _log.warning("no seccomp filter for sandboxes: %s", error)
        return None
    try:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        for name in _REFUSED:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        for name in _ABSENT:
            rules.add_rule(seccomp.ERRNO(errno.ENOSYS), name)
        new_user = seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_NEWUSER, _CLONE_NEWUSER)
        for name in ("clone", "unshare"):
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name, new_user)
        # Every other family: each below the last allowed, then all above it (the whole
        # 64-bit register, which the kernel cuts to an int: 2**32 + 40 is AF_VSOCK too).
        refused = seccomp.ERRNO(errno.EAFNOSUPPORT)
        for family in range(max(_SOCKET_FAMILIES)):
            if family not in _SOCKET_FAMILIES:
                rules.add_rule(refused, "socket", seccomp.Arg(0, seccomp.EQ, family))
        rules.add_rule(refused, "socket", seccomp.Arg(0, seccomp.GT, max(_SOCKET_FAMILIES)))
        memory = os.memfd_create("preview-seccomp", os.MFD_CLOEXEC)
        try:
            with open(memory, "wb", closefd=False) as program:
                rules.export_bpf(program)
            os.lseek(memory, 0, os.SEEK_SET)
            return os.read(memory, 1 << 20)
        finally:
            os.close(memory)
    except OSError as error:
        _log.warning("no seccomp filter for sandboxes: %s", error)
        return None
