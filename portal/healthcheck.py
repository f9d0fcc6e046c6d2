"""The image's HEALTHCHECK, for any role: ``python -m portal.healthcheck``.

The web role answers ``/healthz`` on PORT; every role serves ``/metrics`` on METRICS_PORT.
A refused connection on the web port means this container runs another role, so the metrics
port decides; a web port that accepts but does not answer in time is unhealthy.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def answers(url: str, timeout: float = 3.0) -> bool | None:
    """True: 2xx; False: an error or a timeout; None: nothing listens there."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return 200 <= response.status < 300
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return None
        return False
    except OSError:
        return False


def main() -> int:
    web = answers(f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz")
    if web is not None:
        return 0 if web else 1
    metrics_port = os.environ.get("METRICS_PORT", "0")
    if metrics_port == "0":
        return 1
    return 0 if answers(f"http://127.0.0.1:{metrics_port}/metrics") else 1


if __name__ == "__main__":
    sys.exit(main())
