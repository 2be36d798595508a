"""The Django admin keeps the API's rules: choices within the user's clinic groups, patients and clinical
records never deleted, a patient's login never chosen by hand."""

from __future__ import annotations

import pytest
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from backend.models import ClinicGroup, User
from scheduling.models import Clearance, Patient, Shift
from tests.factories import UserFactory
from tests.scheduling.conftest import Clinic, make_clinic


def browser(user: User) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def patient_form(clinic: Clinic, **changes: object) -> dict[str, object]:
    patient = clinic.patient
    return {
        "group": clinic.group.pk, "first_name": patient.first_name, "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(), "timezone": patient.timezone,
        "clearances-TOTAL_FORMS": 0, "clearances-INITIAL_FORMS": 0, **changes,
    }  # fmt: skip


def test_reception_is_offered_only_their_own_clinic_group(clinic: Clinic) -> None:
    make_clinic()  # another group, with its own staff
    response = browser(clinic.reception).get(reverse("admin:scheduling_patient_change", args=[clinic.patient.pk]))

    form = response.context["adminform"].form
    assert list(form.fields["group"].queryset) == [clinic.group]
    assert "user" not in form.fields  # shown read-only, never chosen


def test_a_patient_cannot_be_moved_to_another_clinic_group(clinic: Clinic) -> None:
    theirs = make_clinic()
    url = reverse("admin:scheduling_patient_change", args=[clinic.patient.pk])
    response = browser(clinic.reception).post(url, patient_form(clinic, group=theirs.group.pk))

    assert response.status_code == 200  # the form again, with its error
    assert "group" in response.context["adminform"].form.errors
    clinic.patient.refresh_from_db()
    assert clinic.patient.group == clinic.group


def test_a_patient_cannot_be_attached_to_a_login_through_the_admin(clinic: Clinic) -> None:
    stranger = UserFactory()
    url = reverse("admin:scheduling_patient_change", args=[clinic.patient.pk])
    response = browser(clinic.admin).post(url, patient_form(clinic, user=stranger.pk, first_name="Renamed"))

    assert response.status_code == 302, response.content
    clinic.patient.refresh_from_db()
    assert (clinic.patient.first_name, clinic.patient.user) == ("Renamed", None)


def test_shift_locations_are_the_users_groups_locations(clinic: Clinic) -> None:
    theirs = make_clinic()
    response = browser(clinic.admin).get(reverse("admin:scheduling_staffmember_change", args=[clinic.nurse.pk]))

    shift_form = response.context["inline_admin_formsets"][0].formset.empty_form
    assert list(shift_form.fields["location"].queryset) == [clinic.location]
    assert theirs.location not in response.context["adminform"].form.fields["locations"].queryset
    assert Shift.objects.filter(location=theirs.location).exists()  # they exist; we are not offered them


@pytest.mark.parametrize("model", ["patient", "appointment", "series", "reminder", "invoice", "payment"])
def test_no_one_deletes_patients_or_their_records_in_the_admin(clinic: Clinic, model: str) -> None:
    superuser = UserFactory(is_superuser=True)
    client = browser(superuser)
    app = "billing" if model in {"invoice", "payment"} else "scheduling"
    changelist = client.get(reverse(f"admin:{app}_{model}_changelist"))

    assert changelist.status_code == 200
    action_form = changelist.context["action_form"]  # None when no action is offered at all
    actions = [name for name, _label in action_form.fields["action"].choices] if action_form else []
    assert "delete_selected" not in actions
    if model == "patient":
        delete = client.post(reverse("admin:scheduling_patient_delete", args=[clinic.patient.pk]), {"post": "yes"})
        assert delete.status_code == 403
        assert Patient.objects.filter(pk=clinic.patient.pk).exists()


def test_a_patients_clinical_records_protect_the_patient(clinic: Clinic) -> None:
    Clearance.objects.create(patient=clinic.patient, status="not_cleared", recorded_by=clinic.clinician)

    with pytest.raises(ProtectedError):
        clinic.patient.delete()
    assert ClinicGroup.objects.filter(pk=clinic.group.pk).exists()
