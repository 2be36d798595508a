"""The waitlist screen: reception adds and removes entries and sees offers and freed visits; a patient joins
from their own page where the location allows it."""

from __future__ import annotations

import datetime as dt

from scheduling.models import WaitlistEntry, WaitlistStatus
from scheduling.services.appointments import appointment_book
from scheduling.services.transitions import appointment_cancel
from scheduling.services.waitlist import EntryFields, slots_offer, waitlist_entry_add
from tests.console.conftest import ConsoleClinic, signed_in
from tests.scheduling.conftest import ny


def form(c: ConsoleClinic, **fields: object) -> dict[str, object]:
    return {"patient": str(c.clinic.patient2.public_id), "service_type": str(c.clinic.infusion.public_id),
            "locations": [str(c.clinic.location.public_id)], "weekdays": ["0", "3"], "window_from": "08:00",
            "window_to": "11:30", "latest_date": "2026-10-30", "priority": "1", "note": "", **fields}  # fmt: skip


def test_reception_adds_a_patient_and_sees_the_offer_and_the_freed_visit(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    reception = signed_in(c.clinic.reception)
    added = reception.post("/console/waitlist/add/", form(c), follow=True)
    assert added.status_code == 200
    assert "Added to the waitlist." in added.content.decode()
    entry = WaitlistEntry.objects.get(patient=c.clinic.patient2)
    assert (entry.weekdays, entry.time_windows, entry.priority) == ([0, 3], [["08:00", "11:30"]], 1)
    assert entry.series == c.series  # Jamie is mid-series: the entry waits for a visit of it

    visit = appointment_book(actor=None, patient=c.clinic.patient, service_type=c.clinic.infusion,
                             location=c.clinic.location, start=ny(dt.date(2026, 10, 8), 11))  # fmt: skip
    appointment_cancel(actor=c.clinic.reception, appointment=visit, reason="Unwell")
    slots_offer()
    page = reception.get("/console/waitlist/").content.decode()
    assert "Jamie Example" in page
    assert "Mon, Thu" in page
    assert "08:00 to 11:30" in page
    assert "Thu 08 Oct 11:00" in page  # the offer in flight and the freed visit, in the location's time
    assert "Being offered (1 round)" in page
    assert "<td>2026-10</td><td>Boston</td><td>Chair</td><td>1</td>" in page  # the refill figure

    removed = reception.post(f"/console/waitlist/{entry.public_id}/remove/")
    assert removed.status_code == 302
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.REMOVED


def test_a_form_that_cannot_match_anything_is_a_400_that_writes_nothing(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    response = signed_in(c.clinic.reception).post("/console/waitlist/add/", form(c, window_to="07:00"))
    assert response.status_code == 400
    assert "ends before it starts" in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_clinicians_read_the_waitlist_and_cannot_change_it(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    clinician = signed_in(c.clinic.clinician)
    page = clinician.get("/console/waitlist/")
    assert page.status_code == 200
    assert "Add a patient" not in page.content.decode()
    assert clinician.post("/console/waitlist/add/", form(c)).status_code == 403


def test_a_patient_joins_where_the_location_allows_it_and_leaves(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    patient = signed_in(c.patient_user)
    assert "Tell me when an earlier time opens" not in patient.get("/console/me/").content.decode()
    refused = patient.post("/console/me/waitlist/", form(c, patient=str(c.clinic.patient.public_id)))
    assert refused.status_code == 400  # the location does not take patients' own requests
    assert not WaitlistEntry.objects.exists()

    c.clinic.location.waitlist_self_join = True
    c.clinic.location.save()
    assert "Tell me when an earlier time opens" in patient.get("/console/me/").content.decode()
    joined = patient.post("/console/me/waitlist/", form(c, priority="100"), follow=True)
    assert "You are on the waitlist" in joined.content.decode()
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.priority) == (c.clinic.patient, 0)  # their own, and no say on priority

    left = patient.post(f"/console/me/waitlist/{entry.public_id}/leave/", follow=True)
    assert "You are off the waitlist." in left.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.REMOVED


def test_a_patient_cannot_remove_anothers_entry(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    wants = EntryFields(service_type=c.clinic.infusion, locations=[c.clinic.location])
    other = waitlist_entry_add(actor=c.clinic.reception, patient=c.clinic.patient2, fields=wants)
    response = signed_in(c.patient_user).post(f"/console/me/waitlist/{other.public_id}/leave/")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == WaitlistStatus.WAITING
