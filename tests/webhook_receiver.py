"""Real HTTP servers on loopback for the tests: one that records webhook deliveries, and slow
ones that never finish answering."""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    #: Status codes to answer, in turn; the last one repeats.
    answers: list[int] = field(default_factory=lambda: [204])


@contextmanager
def running_receiver(path: str = "/hooks") -> Iterator[Receiver]:
    receiver = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            with lock:
                receiver.received.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body)
                )
                code = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
            self.send_response(code)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


#: What a slow receiver sends at once, before trickling the rest a byte at a time.
_SLOW_PREFIXES = {
    # The status line at once, then a header that never ends.
    "headers": b"HTTP/1.1 200 OK\r\nX-Slow: ",
    # The whole head at once, then a long body.
    "body": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n",
    # A TLS handshake record announcing 16 KiB, which then never arrives in full.
    "tls": b"\x16\x03\x03\x40\x00",
}


@dataclass
class SlowReceiver:
    """A receiver that never finishes answering: it trickles one byte every ``interval``
    seconds (each well within any read timeout) until the client hangs up."""

    url: str
    stage: str
    interval: float
    #: Requests read (for "tls": connections accepted).
    requests: int = 0
    #: Answers being trickled now, and the most at once so far.
    hanging: int = 0
    most_hanging: int = 0
    #: Answers the client cut off by closing the connection.
    cut: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def _started(self) -> None:
        with self._lock:
            self.requests += 1
            self.hanging += 1
            self.most_hanging = max(self.most_hanging, self.hanging)

    def _ended(self, *, cut: bool) -> None:
        with self._lock:
            self.hanging -= 1
            self.cut += cut


def _read_request(sock: socket.socket) -> None:
    """Read one HTTP request (head and Content-Length body) and ignore it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the client left before sending its request")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the client left while sending its request")
        body += chunk


@contextmanager
def running_slow_receiver(
    stage: str, *, interval: float = 0.2, path: str = "/hooks"
) -> Iterator[SlowReceiver]:
    """A :class:`SlowReceiver` on loopback, stalling in ``stage``: ``"headers"`` (the status
    line, then a header a byte at a time), ``"body"`` (the head, then the body a byte at a
    time) or ``"tls"`` (the TLS handshake a byte at a time; use an https URL). Leaving the
    context stops every answer and the server."""
    prefix = _SLOW_PREFIXES[stage]
    scheme = "https" if stage == "tls" else "http"
    receiver = SlowReceiver(url="", stage=stage, interval=interval)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            sock.settimeout(30)
            if stage != "tls":
                _read_request(sock)
            receiver._started()
            cut = False
            try:
                sock.sendall(prefix)
                while not receiver._stop.is_set():
                    # Between two bytes, notice at once when the client hangs up.
                    if select.select([sock], [], [], interval)[0] and not sock.recv(1024):
                        cut = True
                        break
                    sock.sendall(b"a")
            except OSError:
                cut = True  # the client reset the connection
            finally:
                receiver._ended(cut=cut)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"{scheme}://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver._stop.set()
        server.shutdown()
        server.server_close()  # waits for the handlers, which the stop event ends
        thread.join(timeout=5)
