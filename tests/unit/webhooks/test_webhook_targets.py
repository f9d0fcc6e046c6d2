"""Which webhook URLs are refused: malformed ones, and ones reaching a non-public address."""

from __future__ import annotations

import socket

import pytest

from webhooks.targets import UnsafeTarget, check_url

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


@pytest.fixture
def dns(monkeypatch):
    """A resolver the test controls: host name -> its addresses."""
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in answers.get(host, [host])
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example:99999/x",  # urlsplit().port raises ValueError
        "http://hooks.example:0/x",
        "http://127.0.0.1:8321\\@93.184.215.14/x",  # urllib3 and urlsplit disagree on the host
        "http://hooks.example\\.127.0.0.1/x",
        "http://user:pass@hooks.example/x",
        "http://@hooks.example/x",
        "http://hooks.example/x y",
        "http://hooks.example/x\ty",
        "http://hooks.example\n/x",
        "http://hooks.example/\x00",
        "http://hooks.exämple/x",
        "http://[fe80::1%25eth0]/x",
        "http://[::1/x",
        "ftp://hooks.example/x",
        "http:///x",
    ],
)
def test_malformed_or_ambiguous_urls_are_refused(dns, url, allow_private):
    dns["hooks.example"] = [PUBLIC_V4]
    with pytest.raises(UnsafeTarget):
        check_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "239.1.2.3",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff0e::1",  # global-scope multicast
        "ff02::1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::7f00:1",  # local-use NAT64 prefix
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "::93.184.215.14",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:db8::1",  # documentation
        "100::1",  # discard-only
    ],
)
def test_non_public_addresses_are_refused(dns, address):
    dns["hooks.example"] = [address]
    with pytest.raises(UnsafeTarget, match="not a public address"):
        check_url("https://hooks.example/x", allow_private=False)


def test_one_non_public_answer_among_public_ones_is_enough_to_refuse(dns):
    dns["hooks.example"] = [PUBLIC_V4, "127.0.0.1"]
    with pytest.raises(UnsafeTarget, match="not a public address"):
        check_url("https://hooks.example/x", allow_private=False)


@pytest.mark.parametrize(
    "address", [PUBLIC_V4, PUBLIC_V6, "64:ff9b::5db8:d70e", "2002:5db8:d70e::1"]
)
def test_public_addresses_are_accepted(dns, address):
    dns["hooks.example"] = [address]
    check_url("https://hooks.example:8443/x?y=1#z", allow_private=False)


def test_private_addresses_pass_when_allowed(dns):
    dns["hooks.example"] = ["127.0.0.1"]
    check_url("http://hooks.example:8000/x", allow_private=True)
    check_url("http://[::1]:8000/x", allow_private=True)
