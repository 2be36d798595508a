from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from backend.roles import Role
from tests.factories import ClinicGroupFactory, UserFactory

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


def test_a_token_request_reads_token_user_roles_and_clinic_groups_in_one_query(api_client: APIClient) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection
    from rest_framework.authtoken.models import Token

    user = UserFactory(roles=[Role.CLINICIAN, Role.RECEPTION])
    user.groups.add(Group.objects.create(name="book club"))  # not a role: ignored
    mine, other = ClinicGroupFactory(), ClinicGroupFactory()
    mine.members.add(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        me = api_client.get("/api/v1/me/")
        locations = api_client.get("/api/v1/locations/")

    assert me.json()["roles"] == ["clinician", "reception"]
    assert locations.status_code == 200
    tables = ('"auth_group"', '"authtoken_token"', '"scheduling_clinicgroup_members"')
    reading_auth = [sql for sql in statements if any(table in sql for table in tables)]
    assert len(reading_auth) == 2, reading_auth  # one per request, with everything
    for sql in reading_auth:
        assert all(table in sql for table in tables)
    assert user.clinic_group_ids() == [mine.pk]
    assert other.pk not in user.clinic_group_ids()


@pytest.mark.parametrize(
    ("roles", "superuser", "expected"),
    [([], False, []), ([], True, ["admin"]), ([Role.PATIENT], False, ["patient"])],
)
def test_token_roles_match_the_users_groups(
    api_client: APIClient, roles: list[str], superuser: bool, expected: list[str]
) -> None:
    from rest_framework.authtoken.models import Token

    user = UserFactory(roles=roles, is_superuser=superuser)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    assert api_client.get("/api/v1/me/").json()["roles"] == expected


def test_an_inactive_users_token_is_refused(api_client: APIClient) -> None:
    from rest_framework.authtoken.models import Token

    user = UserFactory(roles=[Role.RECEPTION], is_active=False)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    response = api_client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_the_token_check_reads_token_user_roles_and_clinic_groups_in_one_statement() -> None:
    from rest_framework.authtoken.models import Token

    from backend.auth import ExpiringTokenAuthentication

    user = UserFactory(roles=[Role.RECEPTION, Role.CLINICIAN], first_name="Ana")
    mine, other = ClinicGroupFactory(), ClinicGroupFactory()
    mine.members.add(user)
    ClinicGroupFactory().members.add(UserFactory())
    token = Token.objects.create(user=user)

    with CaptureQueriesContext(connection) as captured:
        loaded_user, loaded_token = ExpiringTokenAuthentication().authenticate_credentials(token.key)
        roles, groups = loaded_user.role_names(), loaded_user.clinic_group_ids()

    assert len(captured) == 1
    assert (loaded_token.key, loaded_user.pk, loaded_user.first_name) == (token.key, user.pk, "Ana")
    assert roles == ["clinician", "reception"]
    assert groups == [mine.pk]
    assert other.pk not in groups


def test_an_unknown_token_is_refused(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    response = api_client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."
