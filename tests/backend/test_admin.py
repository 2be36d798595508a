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


def test_reception_works_the_appointment_list_in_the_admin_within_their_clinic(frozen_now: object) -> None:
    from scheduling.models import Appointment
    from scheduling.services.appointments import appointment_book
    from tests.scheduling.conftest import make_clinic, ny

    ours, theirs = make_clinic(), make_clinic()
    import datetime as dt

    for clinic in (ours, theirs):
        appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                         start=ny(dt.date(2026, 10, 5), 9))  # fmt: skip
    ours.reception.is_staff = True
    ours.reception.save()
    browser = Client()
    browser.force_login(ours.reception)

    page = browser.get(reverse("admin:scheduling_appointment_changelist"))

    assert page.status_code == 200
    shown = list(page.context["cl"].result_list)
    assert shown == list(Appointment.objects.filter(location=ours.location))
    assert browser.get(reverse("admin:scheduling_patient_add")).status_code == 200
    assert browser.get(reverse("admin:scheduling_location_add")).status_code == 403
