"""Log records as JSON lines (production) or plain text (a terminal), never with secrets.

``LOG_FORMAT=json`` writes one JSON object per line with ``timestamp``, ``level``, ``logger``,
``message`` and whatever of ``request_id``/``order_id``/``event_id``/``queue`` is bound
(``kernel.log_context``). Every format passes through :class:`RedactSecrets`, so an API key,
bearer token, password or signing secret that reaches a message or its arguments is masked.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from kernel import log_context

#: Integrator API keys, bearer tokens, webhook signing secrets, and key=value / "key": "value"
#: pairs whose key says it is a secret.
SECRET_PATTERNS = (
    (re.compile(r"\bwop_[A-Za-z0-9]+_[A-Za-z0-9_\-]+"), "wop_[redacted]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_\-]+"), "whsec_[redacted]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)([\"']?\b(?:password|passwd|secret|secret_key|api_key|token|authorization)"
            r"[\"']?\s*[=:]\s*[\"']?)[^\s\"',;&]+"
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^:/\s@]+:)[^@\s/]+@"), r"\1[redacted]@"),
)


def redact(text: str) -> str:
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Masks secrets in the formatted message before any handler sees it (tracebacks are
    masked by the formatters, which render them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class AddContext(logging.Filter):
    """Copies the bound request/order/event/queue onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_context.current().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class PlainFormatter(logging.Formatter):
    """Text for a terminal: the usual line, then the bound context as key=value."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(
            f"{name}={getattr(record, name)}"
            for name in log_context.FIELDS
            if getattr(record, name, None) is not None
        )
        return f"{line} [{context}]" if context else line


class RedactingJsonFormatter(JsonFormatter):
    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


def json_formatter() -> JsonFormatter:
    return RedactingJsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,  # ISO 8601, UTC
        json_ensure_ascii=False,
    )


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """Django's LOGGING for this format; every handler redacts and adds the context."""
    if log_format not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be 'json' or 'text', not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": AddContext},
            "redact": {"()": RedactSecrets},
        },
        "formatters": {
            "json": {"()": json_formatter},
            "text": {
                "()": PlainFormatter,
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context", "redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "botocore": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
            # portal.request writes one structured line per request (4xx included); errors
            # (5xx with their traceback) still come from django.request.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }
