from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, OperationalError
from rest_framework import serializers
from rest_framework.test import APIClient

from backend.errors import ApplicationError, problem_exception_handler

pytestmark = pytest.mark.django_db


class Sample(ApplicationError):
    code = "sample_refused"
    http_status = 422


def test_application_errors_render_as_problem_details_with_their_code() -> None:
    response = problem_exception_handler(Sample("Not today.", extra={"hint": "tomorrow"}), {})

    assert response is not None
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.data == {
        "type": "urn:clinic:problem:sample_refused",
        "title": "Sample refused",
        "status": 422,
        "detail": "Not today.",
        "code": "sample_refused",
        "errors": {},
        "hint": "tomorrow",
    }


def test_nested_validation_errors_become_a_flat_field_map() -> None:
    exc = serializers.ValidationError({"start": ["Enter a time."], "lines": [{}, {"amount": ["Too big."]}]})

    response = problem_exception_handler(exc, {})

    assert response is not None
    assert response.status_code == 400
    assert response.data["code"] == "validation_error"
    assert response.data["errors"] == {"start": ["Enter a time."], "lines.1.amount": ["Too big."]}


def test_an_integrity_error_reaching_a_view_is_a_409_not_a_500() -> None:
    response = problem_exception_handler(IntegrityError("duplicate key"), {})

    assert response is not None
    assert response.status_code == 409
    assert response.data["code"] == "conflict"


def test_a_lost_database_is_a_503_in_the_error_format() -> None:
    response = problem_exception_handler(OperationalError("server closed the connection"), {})

    assert response is not None
    assert response.status_code == 503
    assert response.data["code"] == "service_unavailable"


def test_unknown_api_paths_answer_404_problem_details(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_unexpected_exceptions_are_left_to_django_to_log() -> None:
    assert problem_exception_handler(RuntimeError("bug"), {}) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/appointments/not-a-uuid/"),  # a malformed id: no route matches
        ("post", "/api/v1/appointments/not-a-uuid/check-in/"),
        ("get", "/api/v1/no-such-thing/"),
    ],
)
def test_with_debug_on_every_api_answer_is_still_a_problem_document(
    settings: Any, reception_client: APIClient, method: str, path: str
) -> None:
    settings.DEBUG = True

    response = getattr(reception_client, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_with_debug_on_pages_outside_the_api_keep_djangos_debug_page(settings: Any, api_client: APIClient) -> None:
    settings.DEBUG = True

    response = api_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
