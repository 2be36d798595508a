"""Real processes for integration tests: Celery workers and throwaway Redis servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

from backend.embedded import PROJECT_ROOT, free_port, redis_answers, redis_server_executable


def wait_for(predicate: Callable[[], object], *, timeout: float = 30.0, interval: float = 0.1) -> None:
    """Poll ``predicate`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


def current_database_url() -> str:
    """``DATABASE_URL`` pointed at the database this test runs against (the test database)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, f"/{connection.settings_dict['NAME']}", parts.query, ""))


class CeleryWorker:
    """A ``celery -A worker worker`` process bound to the test database and broker.

    Every started worker is in ``running`` until it has exited; the suite fails a test that leaves one.
    """

    running: ClassVar[set[CeleryWorker]] = set()

    def __init__(
        self,
        *,
        queues: str = "default,reminders,documents,exports",
        broker_url: str | None = None,
        concurrency: int = 1,
        log_path: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.queues = queues
        self.broker_url = broker_url or settings.CELERY_BROKER_URL
        self.concurrency = concurrency
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CeleryWorker:
        env = {
            **os.environ,
            "DATABASE_URL": current_database_url(),
            "REDIS_URL": self.broker_url,
            "LOG_LEVEL": "INFO",
            **self.extra_env,
        }
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker",
                "worker",
                "-Q",
                self.queues,
                "--pool",
                "prefork",
                "--concurrency",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        CeleryWorker.running.add(self)
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group (main process and pool children) at once."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        CeleryWorker.running.discard(self)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        CeleryWorker.running.discard(self)


class RedisServer:
    """A private redis-server on a free loopback port, for tests that stop or restart the broker."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                redis_server_executable(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=10, interval=0.05)
        return self

    def answers(self) -> bool:
        return redis_answers(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
