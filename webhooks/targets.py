"""Which URLs the portal may POST to: never our own network unless told so.

A URL is parsed once, strictly (:func:`parse_target`); its host is resolved once and every
address checked (:func:`resolve`); the dispatcher then connects to a checked address itself,
so neither a second parser's different reading of the URL nor a second DNS answer (DNS
rebinding) can send a delivery somewhere that was not checked.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Printable ASCII without the space: no whitespace, control characters or raw Unicode.
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
_HOST_NAME = re.compile(r"[a-z0-9_.-]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class UnsafeTarget(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    """One reading of a webhook URL, used both to check it and to connect to it."""

    scheme: str
    host: str  # a lower-case DNS name or an IP literal without brackets
    port: int
    #: The request target: path and query (the fragment is never sent).
    path: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def parse_target(url: str) -> Target:
    """Parse ``url`` or raise :class:`UnsafeTarget`: only plain http(s) URLs with a host, no
    user info (``user:pass@``), no backslashes, whitespace or control characters, a port in
    1-65535. Anything a parser could read two ways is refused rather than guessed at."""
    if not _PRINTABLE.fullmatch(url):
        raise UnsafeTarget(
            "Use a URL of printable ASCII characters, without spaces or control characters "
            "(punycode for international host names)."
        )
    if "\\" in url:
        raise UnsafeTarget("A URL must not contain backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("Use a valid URL with a port between 1 and 65535.") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise UnsafeTarget("Use an http or https URL with a host name.")
    if "@" in parts.netloc:
        raise UnsafeTarget("A URL must not contain user info (user:password@).")
    if port == 0:
        raise UnsafeTarget("Use a valid URL with a port between 1 and 65535.")
    host = parts.hostname
    if not _HOST_NAME.fullmatch(host):
        try:
            if "%" in host:  # an IPv6 zone id names one of our own interfaces
                raise ValueError(host)
            ipaddress.IPv6Address(host)  # a bracketed literal
        except ValueError:
            raise UnsafeTarget(f"The host {host!r} is not a valid host name.") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or _DEFAULT_PORTS[parts.scheme], path)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a mapped, compatible, NAT64 or 6to4 IPv6 address stands for."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in _NAT64_WELL_KNOWN or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: Address) -> bool:
    """Global unicast only: no loopback, private, link-local, shared, reserved, documentation
    or multicast address, nor an IPv6 address that reaches one through an embedded IPv4
    address (IPv4-mapped or -compatible, NAT64, 6to4) or Teredo."""
    if ip.is_multicast or not ip.is_global:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return True
    if ip.teredo or ip in _IPV4_COMPATIBLE:  # deprecated or tunnelled: never a receiver
        return False
    inner = embedded_ipv4(ip)
    if inner is not None:
        return is_public(inner)
    return ip in _GLOBAL_UNICAST


def resolve(target: Target, *, allow_private: bool) -> list[Address]:
    """Every address the host resolves to, in the resolver's order, once; refused unless all
    of them are public (or private ones are allowed)."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeTarget(f"The host {target.host!r} does not resolve.") from None
    addresses: list[Address] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeTarget(f"The host {target.host!r} does not resolve.")
    if not allow_private and not all(is_public(ip) for ip in addresses):
        raise UnsafeTarget(f"The host {target.host!r} is not a public address.")
    return addresses


def check_url(url: str, *, allow_private: bool) -> Target:
    """Refuse URLs that are malformed or not http(s), and (unless allowed) ones whose host
    resolves to a non-public address: a webhook must not be a way to make the portal call
    into its own network."""
    target = parse_target(url)
    if not allow_private:
        resolve(target, allow_private=False)
    return target
