"""Chunked request bodies reach Django with a length, up to the API's body limit."""

from __future__ import annotations

import io
import json

from portal.wsgi import ChunkedBodyBuffer

LIMIT = 10


def call(environ: dict) -> tuple[str, dict, bytes, dict | None]:
    seen: dict = {}

    def app(env, start_response):
        seen.update(env, body=env["wsgi.input"].read(int(env.get("CONTENT_LENGTH") or 0)))
        start_response("200 OK", [])
        return [b"ok"]

    answer: dict = {}

    def start_response(status, headers):
        answer.update(status=status, headers=dict(headers))

    body = b"".join(ChunkedBodyBuffer(app, max_bytes=lambda path: LIMIT)(environ, start_response))
    return answer["status"], answer["headers"], body, seen or None


def chunked(body: bytes, **extra) -> dict:
    return {
        "PATH_INFO": "/v1/orders",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input_terminated": True,
        "wsgi.input": io.BytesIO(body),
        **extra,
    }


def test_a_chunked_body_gets_its_length():
    status, _, _, seen = call(chunked(b'{"a": 1}'))
    assert status == "200 OK"
    assert seen["CONTENT_LENGTH"] == "8" and seen["body"] == b'{"a": 1}'


def test_a_chunked_body_of_the_limit_is_read_whole():
    _, _, _, seen = call(chunked(b"x" * LIMIT))
    assert seen["body"] == b"x" * LIMIT


def test_a_chunked_body_over_the_limit_is_a_413_problem_and_the_app_is_not_called():
    status, headers, body, seen = call(chunked(b"x" * (LIMIT + 1)))
    assert status.startswith("413 ")
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 413
    assert seen is None


def test_a_server_that_does_not_end_the_input_is_left_alone():
    _, _, _, seen = call(chunked(b"abc", **{"wsgi.input_terminated": False}))
    assert seen["body"] == b""  # no length: reading could block until the client hangs up


def test_a_body_with_a_length_is_left_alone():
    environ = chunked(b"x" * 50, CONTENT_LENGTH="50")
    del environ["HTTP_TRANSFER_ENCODING"]
    _, _, _, seen = call(environ)
    assert len(seen["body"]) == 50  # limits.py answers 413 for a declared length


def test_each_route_is_held_to_its_own_limit(settings):
    # The sites import takes larger bodies than the rest of the API (API_BODY_LIMITS).
    from portal.wsgi import _api_max_body_bytes

    settings.API_MAX_BODY_BYTES = LIMIT
    settings.API_BODY_LIMITS = {"/v1/sites/import": 3 * LIMIT}
    assert _api_max_body_bytes("/v1/orders") == LIMIT
    assert _api_max_body_bytes("/v1/sites/import") == 3 * LIMIT
