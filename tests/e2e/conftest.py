"""The whole portal as separate processes: moto server, gunicorn serving the API, the event
relay, the webhook dispatcher and one real Celery worker per status queue, sharing the test
database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from orders.domain.workflow import STATUSES
from tests.conftest import unique_prefix
from tests.support import AwsStack, Processes, free_port, wait_for, wait_for_port

#: Teams for the end-to-end tests. No team serves "general", so such orders are rejected;
#: the single plumbing slot lets a test fill it and watch the next plumbing orders wait;
#: two electrical teams let staff move an order from one to the other.
E2E_TEAMS = [
    ("hvac-crew", ["hvac"], 50),
    ("electrical-crew", ["electrical"], 50),
    ("electrical-night", ["electrical"], 50),
    ("plumbing-crew", ["plumbing"], 1),
]
MAX_RECEIVE_COUNT = 3


def team_name(code: str) -> str:
    """What staff call an end-to-end team: "hvac-crew" is the "HVAC crew"."""
    words = code.replace("-", " ")
    return words.replace("hvac", "HVAC") if words.startswith("hvac") else words.capitalize()


def database_url(settings_dict: dict) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD")
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings_dict['NAME']}"


@dataclass
class Portal:
    base_url: str
    aws: AwsStack
    processes: Processes
    tap: str  # a queue subscribed to every event, unfiltered
    integrator: str
    key: str
    #: process name (web, relay, webhooks, worker-<status>) -> its /metrics port
    metrics_ports: dict[str, int]
    #: The processes' environment: a test starts another role (the scheduler) with it.
    env: dict[str, str]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def post_order(self, body: dict) -> dict:
        response = requests.post(
            f"{self.base_url}/v1/orders", json=body, headers=self.auth, timeout=10
        )
        assert response.status_code == 201, response.text
        return response.json()

    def get_order(self, order_id: str) -> dict:
        response = requests.get(
            f"{self.base_url}/v1/orders/{order_id}", headers=self.auth, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_status(self, order_id: str, status: str, timeout: float = 30) -> dict:
        def reached() -> dict | None:
            order = self.get_order(order_id)
            return order if order["status"] == status else None

        return wait_for(reached, timeout=timeout, interval=0.05, what=f"order {order_id} {status}")


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> str:
    """Static files collected as the image does (hashed, with a manifest), so the web process
    serves the admin's and Swagger UI's files as in production."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "STATIC_ROOT": str(root)},
        check=True,
        timeout=120,
    )
    return str(root)


@pytest.fixture(scope="session")
def portal(emulator, django_db_setup, django_db_blocker, static_root) -> Iterator[Portal]:
    from django.db import connection

    from integrators.services import create_integrator, issue_key
    from orders.models import Team

    with django_db_blocker.unblock():
        for code, categories, capacity in E2E_TEAMS:
            Team.objects.update_or_create(
                code=code,
                defaults={
                    "name": team_name(code),
                    "categories": categories,
                    "capacity": capacity,
                    "active": True,
                },
            )
        Team.objects.exclude(code__in=[c for c, _, _ in E2E_TEAMS]).update(active=False)
        integrator, _ = create_integrator("End to end", slug=f"e2e-{uuid.uuid4().hex[:6]}")
        _, key = issue_key(integrator, label="e2e")
        db_url = database_url(connection.settings_dict)

    stack = AwsStack.provision(
        emulator, unique_prefix("e2e"), max_receive_count=MAX_RECEIVE_COUNT, visibility_timeout=30
    )
    tap = stack.subscribe_tap(f"{stack.resources.prefix}-tap")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": db_url,
        **stack.endpoints,
        "AWS_REGION": "us-east-1",
        "ORDERS_RESOURCE_PREFIX": stack.resources.prefix,
        "ORDERS_DLQ_MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
        "ORDERS_VISIBILITY_TIMEOUT": "30",
        "ORDERS_RETRY_BACKOFF": "1",
        "SQS_WAIT_TIME_SECONDS": "5",
        "WORKER_CONCURRENCY": "2",
        "EVENT_RELAY_IDLE_SECONDS": "0.01",
        "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "WEBHOOK_IDLE_SECONDS": "0.05",
        "WEBHOOK_RETRY_SCHEDULE": "1,1",
        "PYTHONUNBUFFERED": "1",
        "STATIC_ROOT": static_root,
    }
    processes = Processes()
    port = free_port()
    # Every process runs through the container image's entry point (portal.role), logs JSON
    # and serves its own /metrics, as in production.
    metrics_ports: dict[str, int] = {}

    def start(name: str, role: list[str]) -> subprocess.Popen:
        metrics_ports[name] = free_port()
        return processes.start(
            name,
            [sys.executable, "-m", "portal.role", *role],
            {**env, "METRICS_PORT": str(metrics_ports[name]), "LOG_FORMAT": "json"},
        )

    try:
        env["PORT"] = str(port)
        env["WEB_CONCURRENCY"] = "2"
        env["WEB_THREADS"] = "2"
        env["METRICS_ADDR"] = "127.0.0.1"
        web = start("web", ["web"])
        start("relay", ["relay"])
        start("webhooks", ["webhooks"])
        for status in STATUSES:
            start(f"worker-{status}", ["worker", str(status)])
        wait_for_port(port, timeout=60, process=web)
        processes.wait_until_ready([f"worker-{status}" for status in STATUSES])
        yield Portal(
            base_url=f"http://127.0.0.1:{port}",
            aws=stack,
            processes=processes,
            tap=tap,
            integrator=integrator.slug,
            key=key,
            metrics_ports=metrics_ports,
            env=env,
        )
    finally:
        processes.stop_all()
        with django_db_blocker.unblock():
            release_database(connection)


def release_database(connection, timeout: float = 10) -> None:
    """Wait until the portal's processes (their children included) have left the test
    database, so that pytest-django can drop it; end what is left after ``timeout``.
    (End-to-end tests run last: nothing else may be connected by then.)"""
    if connection.vendor != "postgresql":
        return
    others = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    try:
        with connection.cursor() as cursor:

            def alone() -> bool:
                cursor.execute(others)
                return not cursor.fetchall()

            try:
                wait_for(
                    alone, timeout=timeout, interval=0.1, what="the portal to leave the database"
                )
            except AssertionError:
                cursor.execute(f"SELECT pg_terminate_backend(pid) FROM ({others}) AS left_over")
    finally:
        # This wait's own session must go too: pytest-django drops the database next, and the
        # connection it closes first is not always this one (it was the one left connected).
        connection.close()


CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / ".state" / "test-artifacts"


@dataclass
class StaffLogin:
    username: str
    password: str


@pytest.fixture(scope="session")
def staff_logins(portal, django_db_blocker) -> dict[str, StaffLogin]:
    """Committed users the web process can see: a dispatcher who may do everything with orders,
    and a viewer who may only look."""
    from django.contrib.auth.models import Permission, User

    perms = {
        "dispatcher": ["view_workorder", "add_workorder", "change_workorder", "move_workorder"],
        "viewer": ["view_workorder"],
    }
    logins = {}
    with django_db_blocker.unblock():
        for role, codenames in perms.items():
            # Their own names: other tests make users too, in transactions of their own.
            username = f"{role}-{uuid.uuid4().hex[:6]}"
            password = f"{role}-{uuid.uuid4().hex[:12]}"
            user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            user.is_staff = True
            user.set_password(password)
            user.save()
            user.user_permissions.set(
                Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
            )
            logins[role] = StaffLogin(username, password)
    return logins


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed: run `make browser-deps` (CI does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django then refuses database
    # calls from it unless told they are fine (they are: all of them stay synchronous here).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Without these Chromium keeps calling out to Google, which this network refuses.
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page_for(chromium, portal, request):
    """``page_for(login)``: a logged-in page in a fresh browser context; each test's pages get
    a screenshot in .state/test-artifacts/ when the test ends. Confirmation dialogs are
    accepted, as a staff member would, and their messages kept in ``page.confirmations``."""
    contexts = []

    def open_page(login: StaffLogin, **context_options):
        context = chromium.new_context(base_url=portal.base_url, **context_options)
        contexts.append((login.username, context))
        page = context.new_page()
        page.confirmations = []
        page.on(
            "dialog", lambda dialog: (page.confirmations.append(dialog.message), dialog.accept())
        )
        page.set_default_timeout(15_000)
        page.goto("/admin/login/")
        page.fill("#id_username", login.username)
        page.fill("#id_password", login.password)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        return page

    yield open_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for username, context in contexts:
        for number, page in enumerate(context.pages):
            page.screenshot(
                path=str(ARTIFACTS / f"{request.node.name}-{username}-{number}.png"), full_page=True
            )
        context.close()
