"""The limits counted in a real Redis (CACHE_URL=redis://...), as in production: every web
process sees the same counts, and concurrent increments from separate connections never lose
one. Starts its own redis-server on a free port (the machine's redis-server binary)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator

import pytest

from tests.support import wait_for

#: This kind of machine has Redis installed (and running, for the session and CI); the test
#: starts servers of its own, so it fails, never skips, on a machine without one.
REDIS_SERVER = shutil.which("redis-server") or shutil.which("valkey-server") or "redis-server"


class ServerExited(Exception):
    """The redis-server exited before answering (its port was taken meanwhile)."""


#: A cluster node also listens on its port + 10000 (the cluster bus), so its port is at most this.
HIGHEST_CLUSTER_PORT = 55535


def free_port(*, cluster: bool = False) -> int:
    """A port nothing listens on (and, for a cluster node, its bus port too)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not cluster:
            return port
        if port > HIGHEST_CLUSTER_PORT:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port for a cluster node")


def start_redis(directory, *extra: str) -> tuple[subprocess.Popen, int]:
    """A redis-server on a free port, answering PING (with a deadline, not a sleep). A port
    taken between finding it and binding it makes the server exit: then try another."""
    import redis

    for attempt in range(3):
        port = free_port(cluster="--cluster-enabled" in extra)
        log = directory / f"redis-{attempt}.log"
        server = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(directory), "--logfile", str(log)]
            + ["--cluster-config-file", f"nodes-{attempt}.conf", *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)

        def answers(server: subprocess.Popen = server, client: redis.Redis = client) -> bool:
            if server.poll() is not None:
                raise ServerExited
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        try:
            wait_for(answers, timeout=15, interval=0.05, what="redis-server to answer PING")
            return server, port
        except ServerExited:
            pass
        finally:
            client.close()
        server.kill()
        server.wait(timeout=10)
    output = log.read_text() if log.exists() else ""
    raise RuntimeError(f"redis-server did not start:\n{output[-2000:]}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory) -> Iterator[str]:
    """A one-node Redis cluster owning every slot: what ElastiCache Serverless shows a client
    (it is always in cluster mode, one virtual node), cross-slot refusals included."""
    import redis

    server, port = start_redis(tmp_path_factory.mktemp("redis-cluster"), "--cluster-enabled", "yes")
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        wait_for(
            lambda: b"cluster_state:ok" in client.execute_command("CLUSTER", "INFO"),
            timeout=15,
            interval=0.05,
            what="the one-node cluster to be ready",
        )
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        stop(server)


def use_cache(settings, url: str) -> None:
    """Django's default cache on ``url``, as portal/settings.py builds it from CACHE_URL."""
    import environ

    settings.CACHES = {"default": environ.Env.cache_url_config(url)}
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    server, port = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)


@pytest.fixture
def shared_cache(redis_url, settings):
    from django.core.cache import cache

    use_cache(settings, redis_url)
    cache.clear()
    yield
    cache.clear()


def test_the_counters_work_on_a_redis_cluster_as_elasticache_serverless_is_one(
    cluster_url, settings, monkeypatch
):
    """A command spanning two slots would be refused there (CROSSSLOT), and the limits would
    silently stop counting (they let requests through when the store fails): fail instead."""
    from django.core.cache import cache

    from portal import throttle

    def unavailable(error: Exception) -> None:
        raise AssertionError(f"the cluster refused a command: {error!r}")

    monkeypatch.setattr(throttle, "_unavailable", unavailable)
    use_cache(settings, cluster_url)
    window = throttle.SlidingWindow("cluster-test", limit=2, period=60)
    try:
        waits = [window.take("integrator-c") for _ in range(3)]
        assert waits[:2] == [0, 0] and waits[2] > 0
        failures = throttle.SlidingWindow("cluster-failures", limit=2, period=300)
        failures.add("203.0.113.88")
        failures.add("203.0.113.88")
        assert failures.wait("203.0.113.88") > 0
        throttle.remember("throttle:good-key:test", 60)
        assert throttle.remembered("throttle:good-key:test")
        throttle.forget("throttle:good-key:test")
        assert not throttle.remembered("throttle:good-key:test")
    finally:
        cache.clear()


def test_concurrent_requests_on_separate_connections_share_one_exact_count(shared_cache):
    """Eight threads, each with its own cache connection (Django's caches are per thread),
    like eight web processes: exactly the limit gets through."""
    from portal.throttle import SlidingWindow

    window = SlidingWindow("shared-test", limit=40, period=3600)
    allowed: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def web_process() -> None:
        start.wait(timeout=10)
        mine = sum(1 for _ in range(20) if window.take("integrator-a") == 0)
        with lock:
            allowed.append(mine)

    threads = [threading.Thread(target=web_process) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(allowed) == 8
    assert sum(allowed) == 40


def test_failed_keys_counted_by_one_process_throttle_another(shared_cache, db, settings):
    from django.db import connection
    from django.test import Client

    settings.API_AUTH_MAX_FAILURES = 3
    address = {"REMOTE_ADDR": "203.0.113.77"}
    for n in range(3):
        Client(HTTP_AUTHORIZATION=f"Bearer wop_{n:08d}_wrong", **address).get("/v1/orders")
    result: dict[str, int] = {}

    def other_process() -> None:  # its own thread: its own Redis connection
        response = Client(HTTP_AUTHORIZATION="Bearer wop_00000009_wrong", **address).get(
            "/v1/orders"
        )
        result["status"] = response.status_code
        connection.close()  # this thread's own database connection

    thread = threading.Thread(target=other_process)
    thread.start()
    thread.join(timeout=30)
    assert result == {"status": 429}
