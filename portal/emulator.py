"""The embedded AWS: moto server on loopback, made safe for concurrent clients.

moto's threaded server applies requests on many threads at once, and its DynamoDB backend is
not safe for that (transactions copy and restore whole tables; conditional writes check and
write in separate steps). So DynamoDB requests are applied one at a time behind a lock, the
way the real service serialises writes to one item. Other services are left concurrent, so
SQS long polls never wait behind a DynamoDB write, nor block one.

    python -m portal.emulator --host 127.0.0.1 --port 4566
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

DEFAULT_PORT = 4566


class SerialDynamoDB:
    """WSGI middleware: one DynamoDB request at a time, everything else passes through."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app
        self.lock = threading.Lock()

    @staticmethod
    def is_dynamodb(environ: dict[str, Any]) -> bool:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDBStreams"):
            # Stream reads only read an append-only list: no need to queue them behind writes
            # (the event relay reads often, and would slow every write down).
            return False
        if target.startswith("DynamoDB_"):
            return True
        return "/dynamodb/aws4_request" in environ.get("HTTP_AUTHORIZATION", "")

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not self.is_dynamodb(environ):
            return self.app(environ, start_response)
        with self.lock:
            # The body is materialised under the lock: moto may build it lazily.
            return list(self.app(environ, start_response))


def make_app() -> SerialDynamoDB:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return SerialDynamoDB(DomainDispatcherApplication(create_backend_app))


def serve(host: str, port: int) -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server(host, port, make_app(), threaded=True, request_handler=MotoRequestHandler)

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"AWS emulator (moto {_moto_version()}) on http://{host}:{port}", flush=True)
    server.serve_forever()


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("EMULATOR_PORT", DEFAULT_PORT))
    )
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    serve(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
