from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from backend.permissions import HasRole, IsStaff, ReadOnlyOrAdmin
from backend.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
factory = APIRequestFactory()


def _request(method: str, user: Any) -> Request:
    request = Request(getattr(factory, method)("/"))
    request.user = user
    return request


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [([Role.RECEPTION], True), ([Role.ADMIN], True), ([Role.ACCOUNTANT], False), ([Role.PATIENT], False), ([], False)],
)
def test_has_role_allows_only_the_named_roles(roles: list[str], allowed: bool) -> None:
    permission = HasRole.of(Role.RECEPTION, Role.ADMIN)()

    assert permission.has_permission(_request("get", UserFactory(roles=roles)), None) is allowed


def test_anonymous_users_have_no_role() -> None:
    assert IsStaff().has_permission(_request("get", AnonymousUser()), None) is False


def test_patients_are_not_staff() -> None:
    assert IsStaff().has_permission(_request("get", UserFactory(roles=[Role.PATIENT])), None) is False


def test_read_only_or_admin_lets_staff_read_and_only_admins_write() -> None:
    permission = ReadOnlyOrAdmin()
    reception = UserFactory(roles=[Role.RECEPTION])
    admin = UserFactory(roles=[Role.ADMIN])

    assert permission.has_permission(_request("get", reception), None)
    assert not permission.has_permission(_request("post", reception), None)
    assert permission.has_permission(_request("post", admin), None)
