from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backend.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_endpoint_exchanges_credentials_for_a_token_that_authenticates(api_client: APIClient) -> None:
    user = UserFactory(username="frontdesk", roles=[Role.RECEPTION])

    response = api_client.post(
        "/api/v1/auth/token/", {"username": "frontdesk", "password": "correct horse battery staple"}, format="json"
    )

    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json() == {"id": str(user.public_id), "username": "frontdesk", "roles": ["reception"], "patient": None}


def test_token_endpoint_refuses_a_wrong_password_in_the_error_format(api_client: APIClient) -> None:
    UserFactory(username="frontdesk")

    response = api_client.post("/api/v1/auth/token/", {"username": "frontdesk", "password": "nope"}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"]["non_field_errors"]


def test_me_without_credentials_is_401_problem_details(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert body["status"] == 401
    assert set(body) >= {"type", "title", "status", "detail", "code", "errors"}


def test_me_lists_every_role_and_superusers_are_admins(api_client: APIClient) -> None:
    user = UserFactory(roles=[Role.CLINICIAN, Role.ACCOUNTANT], is_superuser=True)
    api_client.force_authenticate(user)

    assert api_client.get("/api/v1/me/").json()["roles"] == ["accountant", "admin", "clinician"]


def test_role_groups_exist_after_migrations() -> None:
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
