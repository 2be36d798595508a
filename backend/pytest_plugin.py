"""pytest plugin (``-p backend.pytest_plugin``): real PostgreSQL and Redis for the suite.

Before pytest-django sets Django up, fill ``DATABASE_URL`` / ``REDIS_URL`` with
the embedded servers when they are unset (backend/embedded.py), and give each
xdist worker its own Redis database so workers never consume each other's tasks.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from backend import embedded

TEST_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "backend.settings",
    "SECRET_KEY": "test-secret-key-not-for-production-0123456789-abcdefghijklmnop",
    "SECURE_SSL_REDIRECT": "0",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "LOG_LEVEL": "WARNING",
    # Rate-limit counters per test process (tests that prove the Redis path set it themselves).
    "CACHE_BACKEND": "locmem",
    # Production settings otherwise; only the static manifest (built by collectstatic) is left out.
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
}


def redis_url_for_worker(url: str, worker: str | None) -> str:
    """The same server, database 1 + the xdist worker's number (1 without xdist)."""
    index = 1 + (int(worker.removeprefix("gw")) if worker and worker.startswith("gw") else 0)
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{index}", parts.query, parts.fragment))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    for key, value in TEST_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    embedded.ensure_services()
    base_url = os.environ.setdefault("TEST_BASE_REDIS_URL", os.environ["REDIS_URL"])
    os.environ["REDIS_URL"] = redis_url_for_worker(base_url, os.environ.get("PYTEST_XDIST_WORKER"))
