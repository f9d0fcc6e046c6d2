"""Helpers shared by the integration and end-to-end tests: processes, ports, queues, waiting."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from aws.provisioning import Provisioner, ProvisionSettings
from aws.resources import Resources

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".state" / "test-logs"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    condition: Callable[[], T], *, timeout: float, interval: float = 0.05, what: str = ""
) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or condition}: {last!r}"
            )
        time.sleep(interval)


def wait_for_port(port: int, *, timeout: float, process: subprocess.Popen | None = None) -> None:
    def listening() -> bool:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"process {process.args} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    wait_for(listening, timeout=timeout, what=f"port {port}")


class Processes:
    """Processes a fixture started; each in its own session so stopping reaches its children."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen, Path]] = []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log_path = ARTIFACTS / f"{name}.log"
        log = log_path.open("w")
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.started.append((name, process, log_path))
        return process

    def log(self, name: str) -> str:
        for started_name, _, path in self.started:
            if started_name == name:
                return path.read_text(errors="replace")
        raise KeyError(name)

    def wait_until_ready(self, names: list[str], timeout: float = 60) -> None:
        """Wait for Celery's "<name>@<host> ready." line in each worker's log."""
        for name in names:
            wait_for(
                lambda n=name: " ready." in self.log(n),
                timeout=timeout,
                interval=0.2,
                what=f"{name} to be ready",
            )

    def stop_all(self, timeout: float = 20) -> None:
        for _, process, _ in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, process, _ in self.started:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.started.clear()


def start_emulator(processes: Processes, name: str = "emulator") -> str:
    port = free_port()
    process = processes.start(
        name, [sys.executable, "-m", "portal.emulator", "--port", str(port)], dict(os.environ)
    )
    wait_for_port(port, timeout=30, process=process)
    return f"http://127.0.0.1:{port}"


#: ministack's own virtualenv (it pins a botocore of its own): ``make test-ministack`` makes it
#: from tests/requirements-ministack.txt.
MINISTACK_PYTHON = ROOT / ".venv-ministack" / "bin" / "python"


def start_ministack(processes: Processes, name: str = "ministack") -> str:
    """ministack serving SNS, SQS, S3 (and STS) on a free loopback port, state in memory only."""
    if not MINISTACK_PYTHON.exists():
        raise RuntimeError(
            f"TEST_AWS=ministack, but {MINISTACK_PYTHON} is missing: make test-ministack"
        )
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "SERVICES": "sns,sqs,s3,sts",
        # In memory: nothing saved at exit, nothing loaded at start (its defaults, made sure of).
        "PERSIST_STATE": "0",
        "S3_PERSIST": "0",
        "LOCALSTACK_PERSISTENCE": "0",
        # No listeners beside the HTTP port (Transfer's SFTP, IoT's MQTT on 8883).
        "SFTP_ENABLED": "0",
        "IOT_MTLS_ENABLED": "0",
        "TMPDIR": str(ARTIFACTS),  # its ministack-<port>.pid file
    }
    process = processes.start(name, [str(MINISTACK_PYTHON), "-m", "ministack"], env)
    wait_for_port(port, timeout=60, process=process)
    return f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Emulators:
    """Where a test session's AWS is: SNS, SQS and S3 (``aws``, served by ``services``: moto
    or ministack), and the engine serving DynamoDB and its streams (``dynamodb``: DynamoDB
    Local's endpoint, or moto's)."""

    aws: str
    dynamodb: str
    engine: str
    services: str = "moto"

    def __str__(self) -> str:
        return self.aws


#: ``TEST_DYNAMODB``: ``local`` (AWS's DynamoDB Local; fails the session when it cannot run),
#: ``moto`` (moto's DynamoDB), unset = the default below (local, falling back to moto with the
#: reason when Java or npm is missing).
TEST_DYNAMODB_DEFAULT = "local"


def chosen_dynamodb_engine() -> tuple[str, bool]:
    """The engine asked for, and whether it was asked for explicitly."""
    chosen = os.environ.get("TEST_DYNAMODB", "").strip().lower()
    if chosen not in ("", "local", "moto"):
        raise ValueError(f"TEST_DYNAMODB={chosen!r}: expected 'local' or 'moto'")
    return (chosen or TEST_DYNAMODB_DEFAULT), bool(chosen)


def chosen_aws_engine() -> str:
    """``TEST_AWS``: who serves SNS, SQS and S3, ``moto`` (unset) or ``ministack``."""
    chosen = os.environ.get("TEST_AWS", "").strip().lower() or "moto"
    if chosen not in ("moto", "ministack"):
        raise ValueError(f"TEST_AWS={chosen!r}: expected 'moto' or 'ministack'")
    return chosen


@contextmanager
def emulators(processes: Processes) -> Iterator[Emulators]:
    """SNS, SQS and S3 on moto or ministack (``TEST_AWS``), and DynamoDB on DynamoDB Local
    when ``TEST_DYNAMODB`` asks for it (or by default), else on moto: started once for a
    session, stopped when it ends."""
    from aws import dynamodb_local

    services = chosen_aws_engine()
    aws = start_ministack(processes) if services == "ministack" else start_emulator(processes)

    def on_moto(why: str) -> Emulators:
        moto = aws if services == "moto" else start_emulator(processes)
        return Emulators(aws=aws, dynamodb=moto, engine=f"moto ({why})", services=services)

    engine, explicit = chosen_dynamodb_engine()
    if engine == "moto":
        yield on_moto("TEST_DYNAMODB=moto")
        return
    try:
        local = dynamodb_local.start(free_port(), log=ARTIFACTS / "dynamodb-local.log")
    except dynamodb_local.Unavailable as reason:
        if explicit:
            raise RuntimeError(f"TEST_DYNAMODB=local, but DynamoDB Local cannot run: {reason}")
        sys.stderr.write(f"\nDynamoDB Local unavailable, tests use moto's DynamoDB: {reason}\n")
        yield on_moto(str(reason))
        return
    try:
        yield Emulators(
            aws=aws, dynamodb=local.endpoint, engine=local.describe(), services=services
        )
    finally:
        local.stop()


@dataclass
class AwsStack:
    """One provisioned set of resources (own prefix) in the emulator, with plain clients."""

    endpoint: str
    resources: Resources
    dynamodb: Any
    sns: Any
    sqs: Any
    max_receive_count: int = 5
    #: DynamoDB's and its streams' endpoint (DynamoDB Local's, or ``endpoint`` on moto).
    dynamodb_endpoint: str = ""
    #: The account SNS and SQS name in their ARNs (asked of STS: not every emulator is moto's).
    account_id: str = "123456789012"
    #: Who serves DynamoDB (``Emulators.engine``), when known.
    dynamodb_engine: str = ""

    def __post_init__(self) -> None:
        if not self.dynamodb_endpoint:
            self.dynamodb_endpoint = self.endpoint

    @property
    def dynamodb_on_moto(self) -> bool:
        """Whether moto serves DynamoDB (for the few tests of moto's own behaviour)."""
        if self.dynamodb_engine:
            return self.dynamodb_engine.startswith("moto")
        return self.dynamodb_endpoint == self.endpoint

    @property
    def endpoints(self) -> dict[str, str]:
        """The settings (environment variables) that point a process at this stack."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint,
        }

    @classmethod
    def provision(
        cls,
        endpoints: Emulators | str,
        prefix: str,
        *,
        fifo: bool = False,
        max_receive_count: int = 5,
        visibility_timeout: int = 30,
    ) -> AwsStack:
        config = Config(retries={"mode": "standard", "max_attempts": 3})
        session = boto3.session.Session()
        engine = ""
        if isinstance(endpoints, Emulators):
            endpoint, dynamodb_endpoint = endpoints.aws, endpoints.dynamodb
            engine = endpoints.engine
        else:
            endpoint = dynamodb_endpoint = endpoints

        def client(service: str) -> Any:
            return session.client(
                service,
                endpoint_url=dynamodb_endpoint if service == "dynamodb" else endpoint,
                region_name="us-east-1",
                config=config,
            )

        stack = cls(
            endpoint=endpoint,
            dynamodb_endpoint=dynamodb_endpoint,
            dynamodb_engine=engine,
            account_id=client("sts").get_caller_identity()["Account"],
            resources=Resources(
                prefix=prefix, table=f"{prefix}-orders", topic=f"{prefix}-order-events", fifo=fifo
            ),
            dynamodb=client("dynamodb"),
            sns=client("sns"),
            sqs=client("sqs"),
            max_receive_count=max_receive_count,
        )
        Provisioner(
            dynamodb=stack.dynamodb,
            sns=stack.sns,
            sqs=stack.sqs,
            s3=client("s3"),
            resources=stack.resources,
            settings=ProvisionSettings(
                max_receive_count=max_receive_count, visibility_timeout=visibility_timeout
            ),
            report=lambda line: None,
        ).run()
        return stack

    def fresh_table(self, kind: str) -> str:
        """An orders table of its own (same design), for tests that need to see every item."""
        table = f"{kind}-{uuid.uuid4().hex[:6]}"
        Provisioner(
            dynamodb=self.dynamodb,
            sns=self.sns,
            sqs=self.sqs,
            resources=Resources(prefix=table, table=table, topic=f"{table}-topic"),
            settings=ProvisionSettings(max_receive_count=3, visibility_timeout=30),
            report=lambda line: None,
        ).ensure_table()
        return table

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:us-east-1:{self.account_id}:{self.resources.topic_name}"

    def queue_url(self, name: str) -> str:
        return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]

    def status_queue(self, status: str) -> str:
        return self.queue_url(self.resources.queue_name(status))

    def dead_letter_queue(self, status: str) -> str:
        return self.queue_url(self.resources.dead_letter_queue_name(status))

    def receive(self, queue_url: str, *, wait: float = 0, max_messages: int = 10) -> list[dict]:
        response = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=int(wait),
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def drain(self, queue_url: str) -> list[dict]:
        """Every message visible now, deleted from the queue."""
        drained = []
        while batch := self.receive(queue_url):
            for message in batch:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            drained.extend(batch)
        return drained

    def depth(self, queue_url: str) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def subscribe_tap(self, name: str) -> str:
        """A queue that receives every event on the topic, unfiltered: the tests' witness."""
        url = self.sqs.create_queue(
            QueueName=name + self.resources.suffix,
            Attributes={"FifoQueue": "true"} if self.resources.fifo else {},
        )["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        return url


def event_bodies(messages: list[dict]) -> list[dict]:
    return [json.loads(m["Body"]) for m in messages]


class SlowDynamoProxy:
    """An HTTP proxy in front of the emulator that can hold DynamoDB requests until the test
    releases them: a worker pointed at it keeps a task in flight for exactly as long as the
    test needs (to stop the worker mid-task). Other services pass straight through.
    ``hold(only=...)`` holds just the requests a predicate picks (by ``X-Amz-Target`` and
    body); :meth:`drop` ends held requests without sending them on, as when the process that
    made them was killed before they left it."""

    def __init__(self, upstream: str, dynamodb: str | None = None):
        import http.client
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        self._gate = threading.Event()
        self._gate.set()
        self._only: Callable[[str, bytes], bool] | None = None
        self._dropping = False
        self.held = 0  # DynamoDB requests that have waited at the gate
        target = urlsplit(upstream)
        dynamodb_target = urlsplit(dynamodb or upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target_name = self.headers.get("X-Amz-Target", "")
                if (
                    target_name.startswith("DynamoDB_")
                    and not proxy._gate.is_set()
                    and (proxy._only is None or proxy._only(target_name, body))
                ):
                    proxy.held += 1
                    proxy._gate.wait(timeout=120)  # released by the test (or gives up)
                    if proxy._dropping:
                        self.close_connection = True  # never reaches DynamoDB
                        return
                # DynamoDB (and its streams) may be served apart from the other services.
                to = dynamodb_target if target_name.startswith("DynamoDB") else target
                connection = http.client.HTTPConnection(to.hostname, to.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                connection.close()

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"

    def hold(self, only: Callable[[str, bytes], bool] | None = None) -> None:
        """From now on, DynamoDB requests (those ``only(target, body)`` picks, if given) wait
        until :meth:`release` or :meth:`drop`."""
        self._only, self._dropping = only, False
        self._gate.clear()

    def drop(self) -> None:
        """End the held requests without forwarding them; later requests pass through."""
        self._dropping = True
        self._gate.set()

    def release(self) -> None:
        self._gate.set()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


class CallsInFlight:
    """Hooks boto3 clients to see how many of their requests are in flight at once. The
    first ``parties`` requests each wait (up to ``timeout``) until that many are in flight, so
    reads issued at once all meet and ``peak`` reaches ``parties``; reads issued one after
    another never do (each waits out the deadline alone, and ``peak`` stays 1)."""

    def __init__(self, parties: int, *, timeout: float = 5.0):
        self.parties = parties
        self.timeout = timeout
        self.peak = 0
        self._now = 0
        self._held = 0
        self._changed = threading.Condition()

    def _before(self, **_: Any) -> None:
        with self._changed:
            self._now += 1
            self.peak = max(self.peak, self._now)
            self._changed.notify_all()
            if self._held < self.parties:
                self._held += 1
                self._changed.wait_for(lambda: self.peak >= self.parties, timeout=self.timeout)

    def _after(self, **_: Any) -> None:
        with self._changed:
            self._now -= 1

    @contextmanager
    def watching(self, *clients: Any) -> Iterator[CallsInFlight]:
        hooks = [
            ("before-call", self._before),
            ("after-call", self._after),
            ("after-call-error", self._after),
        ]
        for client in clients:
            service = client.meta.service_model.service_id.hyphenize()
            for event, hook in hooks:
                client.meta.events.register(f"{event}.{service}", hook)
        try:
            yield self
        finally:
            for client in clients:
                service = client.meta.service_model.service_id.hyphenize()
                for event, hook in hooks:
                    client.meta.events.unregister(f"{event}.{service}", hook)


@contextmanager
def services_on(stack: AwsStack) -> Iterator[AwsStack]:
    """This process's settings, services, repository and API pointed at ``stack`` for a while,
    then back to what they were."""
    from django.conf import settings

    from portal import container

    overrides = {
        "AWS_ENDPOINT_URL": stack.endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": stack.dynamodb_endpoint,
        "AWS_REGION": "us-east-1",
        "ORDERS_RESOURCE_PREFIX": stack.resources.prefix,
        "ORDERS_TABLE_NAME": stack.resources.table,
        "ORDERS_TOPIC_NAME": stack.resources.topic,
        "ORDERS_FIFO": False,
    }
    saved = {name: getattr(settings, name) for name in overrides}
    for name, value in overrides.items():
        setattr(settings, name, value)
    container.reset()
    try:
        yield stack
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
        container.reset()


def web_env(stack: AwsStack, *, database_url: str, port: int, **settings: str) -> dict[str, str]:
    """The environment of a web process the tests start (``python -m portal.role web``): this
    one's, Django's tables at ``database_url``, AWS at ``stack``, one gunicorn worker of two
    threads on ``port``, then ``settings``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        **stack.endpoints,
        "AWS_REGION": "us-east-1",
        "ORDERS_RESOURCE_PREFIX": stack.resources.prefix,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "METRICS_PORT": "0",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
