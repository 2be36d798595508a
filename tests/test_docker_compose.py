"""docker-compose.yml runs the same stack: validated with `docker compose config` where it exists, else parsed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def _compose_plugin_available() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    return subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    if _compose_plugin_available():
        rendered = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config"],
            capture_output=True, text=True, check=True, env={"SECRET_KEY": "x" * 50, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        return yaml.safe_load(rendered.stdout)
    return yaml.safe_load(COMPOSE.read_text())


def test_every_part_of_the_stack_is_a_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= {"postgres", "redis", "web", "worker", "beat", "mail", "migrate"}


def test_web_worker_and_beat_share_one_image_built_from_the_dockerfile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    images = {services[name]["image"] for name in ("web", "worker", "beat", "migrate")}
    assert len(images) == 1
    assert all("build" in services[name] for name in ("web", "worker", "beat"))
    assert (ROOT / "Dockerfile").exists()


def test_commands_start_gunicorn_the_worker_on_every_queue_and_beat(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert services["web"]["command"][0] == "gunicorn"
    assert "backend.wsgi:application" in services["web"]["command"]
    worker = services["worker"]["command"]
    assert worker[:4] == ["celery", "-A", "worker", "worker"]
    assert worker[worker.index("-Q") + 1] == "default,reminders,documents,exports"
    assert services["beat"]["command"][:4] == ["celery", "-A", "worker", "beat"]


def test_services_have_healthchecks_and_wait_for_their_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker", "mail"):
        assert "healthcheck" in services[name], name
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_app_is_configured_from_the_environment(compose: dict[str, Any]) -> None:
    env = compose["services"]["web"]["environment"]

    assert env["DATABASE_URL"].startswith("postgresql://")
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert "SECRET_KEY" in env


def test_the_app_connects_as_its_own_role_and_migrations_run_as_the_owner(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql://clinic_app:"), name
    migrate = services["migrate"]["environment"]
    assert migrate["DATABASE_URL"].startswith("postgresql://clinic:")
    assert migrate["DATABASE_APP_ROLE"] == "clinic_app"
    mounts = [str(volume) for volume in services["postgres"]["volumes"]]
    assert any("postgres-app-role.sh" in mount and "docker-entrypoint-initdb.d" in mount for mount in mounts)
    assert (ROOT / "deploy" / "postgres-app-role.sh").read_text().count("CREATE ROLE clinic_app") == 1
