"""The SSRF guard of `deny_private` feeds: connections to addresses that are
not globally routable are refused, checked on the address actually
connected to (after DNS, for every redirect)."""

from __future__ import annotations

import errno
import ipaddress
import socket


class PrivateAddressError(OSError):
    """A connection to a non-global address was refused (deny_private)."""


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses: False for private,
    loopback, link-local, shared (CGNAT), reserved, unspecified and multicast
    ones, also when wrapped in IPv6 (IPv4-mapped, 6to4, Teredo)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None and not is_public_address(inner):
            return False
    return ip.is_global and not ip.is_multicast


def guarded_socket(addr_info: tuple) -> socket.socket:
    """aiohttp socket factory that refuses non-global destinations. It runs
    with the address actually being connected to, after DNS, for every
    connection, redirects included, so neither a hostname that resolves to
    127.0.0.1 nor DNS rebinding between a check and the connect gets past it."""
    family, type_, proto, _, sockaddr = addr_info
    ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
    if not is_public_address(ip):
        raise PrivateAddressError(errno.EACCES, f"{ip} is not a public address (deny_private)")
    return socket.socket(family=family, type=type_, proto=proto)
