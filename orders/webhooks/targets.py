"""Which URLs the portal may POST to: never our own network unless told so."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeTarget(ValueError):
    pass


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse URLs that are not http(s), and (unless allowed) ones whose host resolves to a
    loopback, private, link-local or reserved address: a webhook must not be a way to make the
    portal call into its own network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("Use an http or https URL with a host name.")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        raise UnsafeTarget(f"The host {parts.hostname!r} does not resolve.") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise UnsafeTarget(f"The host {parts.hostname!r} is not a public address.")
