"""gunicorn's settings for the ``web`` role, from the environment like everything else.

Metrics: gunicorn forks several worker processes, so prometheus_client runs in multiprocess
mode (a directory of shared files under /tmp) and the master serves the sum on METRICS_PORT.
Logs: gunicorn's own lines use the same JSON/text format as Django's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

_multiproc_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(tempfile.gettempdir(), f"portal-prometheus-{os.getpid()}"),
)
# Files left by an earlier run would add its counts to this one.
shutil.rmtree(_multiproc_dir, ignore_errors=True)
os.makedirs(_multiproc_dir, exist_ok=True)

from portal.logs import logging_config  # noqa: E402 - after the multiprocess directory is set

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
#: gthread, answering gunicorn's own refusals (414, 431, 400...) as problem documents.
worker_class = "portal.gunicorn_worker.ProblemThreadWorker"
#: gunicorn's defaults, spelled out because the API documents them: a longer request line is
#: 414; more header fields, or a longer one, is 431.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
#: SIGTERM: stop accepting, let requests in flight finish within this, then exit. Keep it
#: below the orchestrator's grace period (Kubernetes: 30 s by default; ECS: stopTimeout).
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "25"))
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))  # above an ALB's 60 s idle timeout
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
worker_tmp_dir = tempfile.gettempdir()  # writable even with a read-only root filesystem
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
control_socket_disable = True  # no gunicornc in a container; it would write under $HOME
accesslog = None  # the request middleware logs each request, with its id and route
_log_format = os.environ.get("LOG_FORMAT", "text")
_config = logging_config(log_format=_log_format, level=os.environ.get("LOG_LEVEL", "INFO"))
_config["loggers"].update(
    {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    }
)
logconfig_dict = _config


def when_ready(server: Any) -> None:
    port = int(os.environ.get("METRICS_PORT", "0"))
    if port:
        from kernel import metrics

        metrics.serve(port, registry=metrics.multiprocess_registry())
        server.log.info("serving metrics for all workers on port %s", port)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    shutil.rmtree(_multiproc_dir, ignore_errors=True)
