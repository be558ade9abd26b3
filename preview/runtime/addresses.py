"""Whether an address reaches this host or its own networks, whatever its spelling.

The egress proxy (``runtime.egress``) refuses such addresses. An IPv6 address may carry
an IPv4 one that a host, a NAT64 gateway or a tunnel turns back into IPv4
(``::ffff:127.0.0.1``, ``::127.0.0.1``, ``64:ff9b::7f00:1``, ``2002:7f00:1::``,
``::ffff:0:7f00:1``): such an address is as internal as the IPv4 it embeds. The
standard library's views (``ipv4_mapped``, ``sixtofour``, ``teredo``) say where it sits
for the forms they know; the rest are read from the address's last 32 bits, by prefix.
"""

from __future__ import annotations

import ipaddress

__all__ = ["embedded_ipv4", "is_internal"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# What reaches this host or its own networks: loopback, private and shared (CGNAT)
# ranges, link-local (a cloud's metadata service), unspecified, multicast, reserved;
# in IPv6 also site-local (deprecated, still routed by some) and the local-use NAT64
# prefix (RFC 8215: a gateway of the operator's own, translating to anything).
_INTERNAL = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "64:ff9b:1::/48", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8",
    )
]  # fmt: skip

# Prefixes whose last 32 bits are an IPv4 address that reaches the IPv4 network:
# IPv4-compatible (RFC 4291, deprecated; ``::`` and ``::1`` themselves are listed above),
# IPv4-translated (RFC 2765, SIIT) and NAT64's well-known prefix (RFC 6052).
_LOW_32_PREFIXES = [ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")]


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses ``address`` stands for (none for a plain IPv6 address).
    Teredo gives two (its server and the client's, both reached over IPv4)."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    if any(address in prefix for prefix in _LOW_32_PREFIXES):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def is_internal(address: IPAddress) -> bool:
    """True for an address of this host or its networks, however it is written."""
    if any(address in network for network in _INTERNAL):
        return True
    if isinstance(address, ipaddress.IPv6Address):
        return any(is_internal(ipv4) for ipv4 in embedded_ipv4(address))
    return False
