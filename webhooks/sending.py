"""One delivery attempt's HTTP exchange, bounded as a whole by a deadline.

urllib3's timeouts bound each socket operation, not the exchange: a receiver that trickles its
answer a byte at a time, each byte within the read timeout, could hold an attempt (and a
dispatcher thread) for as long as it liked. Here an attempt has one deadline for connecting,
the TLS handshake, sending, the response headers and the body together. A timer shuts the
connection's socket down when it passes, which ends whatever read or write is blocked on it,
and the attempt fails as a timeout. Each attempt opens its own connection and closes it: a
receiver's slowness never stays behind in a pool for the next attempt.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Mapping, Sequence

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection

from .targets import Address, Target


class AttemptTimeout(Exception):
    """The receiver did not answer in full before the attempt's deadline."""


class Deadline:
    """The end of one attempt (a context manager). Sockets handed to :meth:`guard` are shut
    down when it passes, which wakes a read or write blocked on them however slowly the peer
    sends; :attr:`expired` then says the exchange was cut, and :attr:`cut_while` at which
    :attr:`stage` (what is cut can look complete: a header or a body ended by the close)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        #: What the exchange is doing now, and what it was doing when the deadline passed.
        self.stage = "connecting"
        self.cut_while = ""
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.at

    def guard(self, sock: socket.socket) -> None:
        """Shut ``sock``'s connection down at the deadline (at once if it has passed). A
        duplicate is kept: it still reaches the connection once TLS has wrapped the socket
        (which detaches the original object), even during the handshake."""
        watched = sock.dup()
        with self._lock:
            if not self.expired:
                self._sockets.append(watched)
                return
        _shut_down(watched)
        watched.close()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self.cut_while = self.stage
            for sock in self._sockets:
                _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    # OSError: closed by the peer already, or never connected: nothing left to wake.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Guarded:
    """A connection whose socket is guarded by the attempt's deadline from the moment it is
    connected, before the TLS handshake and before anything is sent or read."""

    deadline: Deadline

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        self.deadline.guard(sock)
        return sock


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


def _connection(target: Target, address: Address, deadline: Deadline) -> HTTPConnection:
    """A connection to the checked ``address``; for https, ``target``'s name goes in SNI and
    the certificate check. Per operation it waits at most what is left of the deadline."""
    timeout = max(deadline.remaining(), 0.001)
    conn: HTTPConnection
    if target.scheme == "https":
        conn = _GuardedHTTPSConnection(
            str(address),
            target.port,
            timeout=timeout,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        conn = _GuardedHTTPConnection(str(address), target.port, timeout=timeout)
    conn.deadline = deadline  # type: ignore[attr-defined]
    return conn


def post(
    target: Target,
    addresses: Sequence[Address],
    body: bytes,
    headers: Mapping[str, str],
    *,
    deadline: Deadline,
    excerpt_bytes: int,
) -> tuple[int, str]:
    """POST ``body`` to the first of ``addresses`` that accepts a connection (the host name in
    ``Host``); the status and the first ``excerpt_bytes`` of the body. Redirects are not
    followed. Raises :class:`AttemptTimeout` when the deadline cut the exchange, whatever
    stage it had reached."""
    try:
        for i, address in enumerate(addresses):
            conn = _connection(target, address, deadline)
            response = None
            try:
                deadline.stage = "connecting"
                try:
                    conn.connect()
                except urllib3.exceptions.NewConnectionError:
                    if i == len(addresses) - 1 or deadline.passed():
                        raise
                    continue  # the next checked address of the same name
                deadline.stage = "sending the request"
                conn.request(
                    "POST",
                    target.path,
                    body=body,
                    headers={**headers, "host": target.host_header},
                    preload_content=False,
                )
                deadline.stage = "reading the response headers"
                response = conn.getresponse()
                deadline.stage = "reading the response body"
                excerpt = response.read(excerpt_bytes, decode_content=True)
                # What the deadline cut can look complete (a header line or a body without
                # a length ends where the connection does): the deadline is asked.
                if deadline.expired:
                    raise AttemptTimeout(_timed_out(deadline))
                return response.status, excerpt.decode("utf-8", "replace")
            finally:
                if response is not None:
                    response.close()
                conn.close()
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
        if deadline.passed():
            raise AttemptTimeout(_timed_out(deadline)) from exc
        raise
    raise AssertionError("resolve() returns at least one address")


def _timed_out(deadline: Deadline) -> str:
    stage = deadline.cut_while or deadline.stage
    return f"Timeout: no complete answer within {deadline.seconds:g} s; cut off while {stage}"
