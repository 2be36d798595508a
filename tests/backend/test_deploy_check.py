"""Production settings: `manage.py check --deploy` is clean when DEBUG is off."""

from __future__ import annotations

import os
import subprocess
import sys

from backend.embedded import PROJECT_ROOT


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECURE_SSL_REDIRECT"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True,
        check=False,
    )  # fmt: skip


def test_check_deploy_is_clean_with_debug_off() -> None:
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY="k3y-" + "x7Qz!pL9#mN2$vB5^cR8&" * 3, ALLOWED_HOSTS="clinic.example.org",
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_a_secret_key_production_refuses_to_start() -> None:
    result = _manage("check", SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
