"""The stack a benchmark run measures: a fresh `bench` database, the app migrated, gunicorn on loopback."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from backend import embedded

BENCH_DATABASE = "clinic_bench"
ENVIRONMENT = {
    "SECRET_KEY": "bench-secret-key-not-for-production-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "backend.settings",
    # One token drives every benchmark request: measure the code, not the rate limit.
    "THROTTLE_BOOKING": "1000000/min",
    "THROTTLE_EXPORTS": "1000000/min",
}


def prepare_environment() -> None:
    """Start (or reuse) PostgreSQL and Redis, and point DATABASE_URL at a fresh benchmark database."""
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    embedded.ensure_services()
    parts = urlsplit(os.environ["DATABASE_URL"])
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    os.environ["DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, f"/{BENCH_DATABASE}", parts.query, ""))


class Gunicorn:
    def __init__(self, workers: int = 4) -> None:
        self.port = embedded.free_port()
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.log = embedded.VAR_DIR / "bench-gunicorn.log"

    def start(self) -> Gunicorn:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "backend.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), "--worker-class", "sync", "--keep-alive", "30", "--preload",
                "--log-level", "warning",
            ],
            cwd=embedded.PROJECT_ROOT, env=dict(os.environ), stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = Client(self.port).get("/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start; see {self.log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


class Client:
    """A keep-alive HTTP/1.1 client on loopback, JSON in and out."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.token = token
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, ConnectionError):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        return self.request("POST", path, body)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


@contextmanager
def celery_worker(queue: str, *, pool: Sequence[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``celery worker`` on ``queue``, given 4 s to connect before the caller's clock starts."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", queue, *pool, "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=embedded.PROJECT_ROOT, env={**os.environ, "LOG_LEVEL": "WARNING", **env}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        time.sleep(4)
        yield worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)


def rss_kb(pids: list[int]) -> int:
    """Resident memory of these processes together, in kB (0 for any that has gone)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def worker_pids(root: int) -> list[int]:
    """A worker's main process and its pool children."""
    children = subprocess.run(["pgrep", "-P", str(root)], capture_output=True, text=True, check=False).stdout.split()
    return [root, *(int(pid) for pid in children)]
