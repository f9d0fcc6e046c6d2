import json
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from django.core.management.base import BaseCommand

from webhooks.signing import verify


class Command(BaseCommand):
    help = (
        "A local webhook receiver for trying the portal out: prints each delivery and whether "
        "its signature verifies with the endpoint's secret."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument("--secret", required=True, help="The endpoint's whsec_… secret.")

    def handle(self, *args, port: int, secret: str, **options):
        out = self.stdout

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = verify(secret, headers, body, now=int(time.time()))
                event = json.loads(body)
                out.write(
                    f"{'verified' if valid else 'BAD SIGNATURE'}  {event.get('type')}  "
                    f"order {event.get('subject')} is {event['data']['order']['status']}  "
                    f"(webhook-id {headers.get('webhook-id')})"
                )
                self.send_response(204 if valid else 401)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.stdout.write(f"listening on http://127.0.0.1:{port}/hooks (Ctrl-C to stop)")
        server = HTTPServer(("127.0.0.1", port), Handler)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
