"""`make run` as a person uses it: a burst of requests leaves no database connections behind, and a
crashed worker is started again while the rest of the stack keeps answering."""

from __future__ import annotations

import shutil
import signal
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psutil
import psycopg
import pytest

from backend.embedded import PROJECT_ROOT, free_port
from tests.processes import wait_for
from tests.stacks import Stack, checkout

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    base = PROJECT_ROOT / "var" / "test-stacks" / uuid.uuid4().hex[:8]
    # Its own mail port: the default (1025, taken when free) is test_two_stacks' to exercise, maybe at this moment.
    running = Stack(checkout(base / "stack"), env={"EMAIL_PORT": str(free_port())}).start()
    try:
        running.wait_until_answering()
        yield running
    finally:
        running.stop()
        shutil.rmtree(base, ignore_errors=True)


def web_connections(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'clinic-web'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_burst_of_requests_leaves_the_connection_count_where_it_started(stack: Stack) -> None:
    database_url = stack.database_url()
    assert stack.health() == {"database": "ok", "broker": "ok"}
    before = web_connections(database_url)

    def healthz(_: int) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/healthz", timeout=30) as answer:
            return int(answer.status)

    with ThreadPoolExecutor(max_workers=30) as pool:
        assert set(pool.map(healthz, range(30))) == {200}
    wait_for(lambda: web_connections(database_url) <= before, timeout=10, interval=0.5)


def test_the_processes_connect_as_the_application_role_not_the_owner(stack: Stack) -> None:
    for words in ("runserver", "celery -A worker worker", "celery -A worker beat"):
        process = next(p for p in stack.processes(words) if "keepalive" not in " ".join(p.cmdline()))
        assert process.environ()["DATABASE_URL"].startswith("postgresql://clinic_app:"), words


def kept_worker(stack: Stack) -> psutil.Process | None:
    """The Celery worker's main process: the one ``backend.keepalive`` started (its pool children are not)."""
    for process in stack.processes("celery -A worker worker"):  # not beat's "celery -A worker beat"
        parent = process.parent()
        if "keepalive" not in " ".join(process.cmdline()) and parent and "keepalive" in " ".join(parent.cmdline()):
            return process
    return None


def test_a_killed_worker_is_started_again_and_the_stack_keeps_answering(stack: Stack) -> None:
    worker = kept_worker(stack)
    assert worker is not None
    worker.send_signal(signal.SIGKILL)

    wait_for(lambda: "keepalive: worker stopped with exit code -9" in stack.log.read_text(), timeout=30)
    assert stack.health() is not None  # the web server did not go down with it
    wait_for(lambda: (kept_worker(stack) or worker).pid != worker.pid, timeout=60, interval=1)
    assert stack.process is not None
    assert stack.process.poll() is None
