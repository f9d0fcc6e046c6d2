"""Log lines: JSON with the bound context, and never a secret, whatever the format."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest

from kernel import log_context
from portal.logs import logging_config, redact


@pytest.fixture
def capture():
    """A logger configured exactly as production's LOGGING, writing into a buffer."""

    def configure(log_format: str) -> tuple[logging.Logger, io.StringIO]:
        config = logging_config(log_format=log_format, level="INFO")
        buffer = io.StringIO()
        config["handlers"]["console"]["stream"] = buffer
        config["root"]["handlers"] = []
        config["loggers"]["capture"] = {"handlers": ["console"], "propagate": False}
        logging.config.dictConfig(config)
        return logging.getLogger("capture"), buffer

    yield configure
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


def test_json_lines_carry_the_bound_request_order_event_and_queue(capture):
    logger, buffer = capture("json")
    with log_context.bind(request_id="req-1", queue="workorders-received"):
        log_context.set_field("order_id", "order-7")
        logger.info("moved %s", "order-7", extra={"to_status": "accepted"})
    logger.info("outside")

    inside, outside = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert inside["message"] == "moved order-7"
    assert inside["level"] == "INFO" and inside["logger"] == "capture"
    assert inside["request_id"] == "req-1"
    assert inside["order_id"] == "order-7"
    assert inside["queue"] == "workorders-received"
    assert inside["to_status"] == "accepted"
    assert inside["timestamp"].endswith("+00:00")
    assert "request_id" not in outside and "order_id" not in outside


def test_text_format_is_for_a_terminal_and_still_shows_the_context(capture):
    logger, buffer = capture("text")
    with log_context.bind(order_id="order-9"):
        logger.warning("stuck")
    line = buffer.getvalue().strip()
    assert "WARNING capture stuck" in line and line.endswith("[order_id=order-9]")


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_secrets_never_reach_a_log_line(capture, log_format):
    logger, buffer = capture(log_format)
    key = "wop_ab12cd34_S3cr3tS3cr3tS3cr3t"
    logger.info("auth header %s", f"Bearer {key}")
    logger.info("database at postgres://portal:hunter2@db.internal:5432/portal")
    logger.info("config %s", {"password": "hunter2", "SECRET_KEY": "abc123xyz"})
    logger.info("signing with whsec_c2VjcmV0LWtleS1ieXRlcw==")
    try:
        raise ValueError(f"bad key {key}")
    except ValueError:
        logger.exception("failed")

    output = buffer.getvalue()
    for secret in ("S3cr3tS3cr3t", "hunter2", "abc123xyz", "c2VjcmV0LWtleS1ieXRlcw"):
        assert secret not in output
    assert "db.internal" in output  # only the secret part is masked


def test_redaction_leaves_ordinary_text_alone():
    text = "order 2f7f moved to scheduled by worker:accepted (team hvac-crew)"
    assert redact(text) == text


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml", level="INFO")


def test_a_field_set_outside_any_block_does_not_linger():
    log_context.set_field("order_id", "stray")
    assert "order_id" not in log_context.current()
