"""The OpenAPI schema is complete and valid: generated without a single warning."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


def test_schema_generates_without_warnings_and_validates(tmp_path: Path) -> None:
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in ("/api/v1/auth/token/", "/api/v1/me/", "/api/v1/appointments/", "/api/v1/availability/"):
        assert path in paths


@pytest.mark.django_db
def test_schema_and_docs_are_served(api_client: APIClient) -> None:
    assert api_client.get("/api/schema/").status_code == 200
    assert api_client.get("/api/docs/").status_code == 200
