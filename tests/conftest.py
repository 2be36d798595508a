from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import time_machine
from django.conf import settings
from rest_framework.test import APIClient

from backend.roles import Role
from tests.factories import UserFactory
from tests.processes import CeleryWorker, RedisServer


@pytest.fixture(scope="session", autouse=True)
def _clean_test_broker() -> None:
    """Drop messages a previous run left in this process's own Redis database."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    client.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--utc-clock", default="", metavar="HH:MM",
        help="run every test (integration tests, whose worker processes keep the real clock, excepted) with the "
        "clock started at this UTC time of today: tests must pass at any hour (make test-clocks)",
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _utc_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    value = request.config.getoption("--utc-clock")
    if not value or request.node.get_closest_marker("integration"):
        yield
        return
    hour, minute = (int(part) for part in value.split(":"))
    start = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(hour, minute), tzinfo=dt.UTC)
    with time_machine.travel(start, tick=True):
        yield


@pytest.fixture(autouse=True)
def _no_worker_left_running() -> Iterator[None]:
    """A test that starts a Celery worker must stop it, passed or failed (tests/processes.py)."""
    from tests.processes import CeleryWorker

    yield
    left = list(CeleryWorker.running)
    for worker in left:
        worker.stop()
    assert not left, f"{len(left)} Celery worker(s) left running"


@pytest.fixture
def frozen_now() -> Iterator[time_machine.Traveller]:
    """The clock stopped at 2026-10-01 12:00 UTC (before the DST change and the example series)."""
    from tests.scheduling.conftest import NOW

    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def clinic(db: None, frozen_now: time_machine.Traveller) -> Any:
    """The standard test clinic (tests/scheduling/conftest.py), with the clock stopped at 2026-10-01."""
    from tests.scheduling.conftest import make_clinic

    return make_clinic()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def _client_for(role: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(roles=[role]))
    return client


@pytest.fixture
def admin_client(db: None) -> APIClient:
    return _client_for(Role.ADMIN)


@pytest.fixture
def reception_client(db: None) -> APIClient:
    return _client_for(Role.RECEPTION)


@pytest.fixture
def clinician_client(db: None) -> APIClient:
    return _client_for(Role.CLINICIAN)


@pytest.fixture
def accountant_client(db: None) -> APIClient:
    return _client_for(Role.ACCOUNTANT)


@pytest.fixture
def celery_worker(transactional_db: None, tmp_path: Path) -> Iterator[CeleryWorker]:
    """A real worker process on the test database and this process's broker database."""
    worker = CeleryWorker(log_path=tmp_path / "worker.log").start()
    yield worker
    worker.stop()


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    """Django storage (documents, exports) in this test's own directory."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of this test's own, which the test may stop and restart."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
