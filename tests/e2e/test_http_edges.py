"""The web role over real HTTP (gunicorn with portal/gunicorn_conf.py, as in production), sent
exact bytes: chunked bodies, request lines and headers over gunicorn's limits, text that is not
valid Unicode. Every answer is a problem document, and a refused request stores nothing."""

from __future__ import annotations

import json
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import unique_prefix
from tests.support import AwsStack, Processes, free_port, wait_for_port, web_env

from .conftest import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

MAX_BODY = 4096


@dataclass
class Web:
    port: int
    key: str


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def web(emulator, django_db_setup, django_db_blocker) -> Iterator[Web]:
    """Only the web process (no workers: these tests look at what the API answers)."""
    from django.db import connection

    from integrators.services import create_integrator, issue_key

    with django_db_blocker.unblock():
        integrator, _ = create_integrator("HTTP edges", slug=f"edges-{uuid.uuid4().hex[:6]}")
        _, key = issue_key(integrator, label="edges")
        db_url = database_url(connection.settings_dict)
    stack = AwsStack.provision(emulator, unique_prefix("edges"))
    port = free_port()
    env = web_env(stack, database_url=db_url, port=port, API_MAX_BODY_BYTES=str(MAX_BODY))
    processes = Processes()
    try:
        process = processes.start("web-edges", [sys.executable, "-m", "portal.role", "web"], env)
        wait_for_port(port, timeout=60, process=process)
        web = Web(port=port, key=key)
        # A key's first use is written to the database. Make it now: during a test, the test's
        # own transaction may hold SQLite's write lock and the web process would wait for it.
        assert exchange(web, request(web, "GET", "/v1/orders")).status == 200
        yield web
    finally:
        processes.stop_all()


def exchange(web: Web, raw: bytes) -> Answer:
    """Send ``raw`` as is and read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(status=int(status_line.split()[1]), headers=headers, body=body)


def request(
    web: Web,
    method: str,
    path: str,
    *,
    headers=(),
    body: bytes | None = None,
    chunks: list[bytes] | None = None,
) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{web.port}",
        f"Authorization: Bearer {web.key}",
        "Connection: close",
        *headers,
    ]
    payload = b""
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        payload = body
    if chunks is not None:
        lines += ["Content-Type: application/json", "Transfer-Encoding: chunked"]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


def order_body(reference: str, **extra) -> bytes:
    return json.dumps(
        {
            "title": "Chunked",
            "category": "hvac",
            "site": "Dock 4",
            "external_reference": reference,
            **extra,
        }
    ).encode()


def orders_with_reference(web: Web, reference: str) -> list[dict]:
    answer = exchange(web, request(web, "GET", f"/v1/orders?external_reference={reference}"))
    assert answer.status == 200, answer.body
    return answer.json()["results"]


def assert_problem(answer: Answer, status: int) -> dict:
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status
    return problem


# -- chunked request bodies --------------------------------------------------------------------


def test_a_chunked_body_is_read_like_any_other(web):
    reference = f"CH-{uuid.uuid4().hex[:8]}"
    body = order_body(reference)
    answer = exchange(web, request(web, "POST", "/v1/orders", chunks=[body[:10], body[10:]]))
    assert answer.status == 201, answer.body
    assert answer.json()["external_reference"] == reference
    assert [o["id"] for o in orders_with_reference(web, reference)] == [answer.json()["id"]]


def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_stored(web):
    reference = f"CH-{uuid.uuid4().hex[:8]}"
    body = order_body(reference, description="x" * MAX_BODY)
    answer = exchange(web, request(web, "POST", "/v1/orders", chunks=[body[:100], body[100:]]))
    assert "4096" in assert_problem(answer, 413)["detail"]
    assert orders_with_reference(web, reference) == []


def test_a_chunked_body_of_exactly_the_limit_is_read(web):
    reference = f"CH-{uuid.uuid4().hex[:8]}"
    body = order_body(reference)
    body = body[:-1] + b" " * (MAX_BODY - len(body)) + b"}"
    assert len(body) == MAX_BODY
    answer = exchange(web, request(web, "POST", "/v1/orders", chunks=[body]))
    assert answer.status == 201, answer.body


# -- gunicorn's own refusals -------------------------------------------------------------------


def test_a_request_line_over_the_limit_is_a_414_problem(web):
    answer = exchange(web, request(web, "GET", "/v1/orders?cursor=" + "x" * 5000))
    assert "4094" in assert_problem(answer, 414)["detail"]


@pytest.mark.parametrize(
    "headers",
    [["X-Big: " + "x" * 9000], [f"X-Many-{n}: {n}" for n in range(120)]],
    ids=["one-too-large", "too-many"],
)
def test_header_fields_over_the_limits_are_a_431_problem(web, headers):
    answer = exchange(web, request(web, "GET", "/v1/orders", headers=headers))
    assert_problem(answer, 431)


@pytest.mark.parametrize(
    "raw",
    [
        b"HELLO\r\n\r\n",
        b"GET /v1/orders HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
        b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ],
    ids=["not-http", "bad-header-name", "length-and-chunked"],
)
def test_a_request_gunicorn_cannot_parse_is_a_400_problem(web, raw):
    assert_problem(exchange(web, raw), 400)


# -- text that is not valid Unicode ------------------------------------------------------------


def test_a_lone_surrogate_is_400_and_the_integrators_reads_keep_working(web):
    reference = f"SU-{uuid.uuid4().hex[:8]}"
    body = order_body(reference)[:-1] + b', "metadata": {"k": "\\ud800"}}'
    problem = assert_problem(exchange(web, request(web, "POST", "/v1/orders", body=body)), 400)
    assert "metadata.k" in problem["errors"]
    assert orders_with_reference(web, reference) == []
    assert exchange(web, request(web, "GET", "/v1/orders")).status == 200
    assert exchange(web, request(web, "GET", "/v1/events")).status == 200
