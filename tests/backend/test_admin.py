"""Every admin page renders for an administrator."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from backend.roles import Role
from tests.factories import UserFactory
from tests.scheduling.conftest import make_clinic

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(frozen_now: object) -> Client:
    make_clinic()
    user = UserFactory(roles=[Role.ADMIN], is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda model: model._meta.label)
def test_changelist_and_change_pages_render(admin_browser: Client, model: type) -> None:
    opts = model._meta  # type: ignore[attr-defined]
    changelist = admin_browser.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    first = model.objects.first()  # type: ignore[attr-defined]
    if first is not None:
        change = admin_browser.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
        assert change.status_code == 200


def test_appointments_are_filterable_by_status_location_and_date(admin_browser: Client) -> None:
    response = admin_browser.get(reverse("admin:scheduling_appointment_changelist"), {"status__exact": "scheduled"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "By status" in content
    assert "By start" in content  # date filter; location and service filters appear once there are several
