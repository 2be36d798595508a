"""The waitlist in real headless Chromium: reception puts a patient on the list, a chair is freed, and the
patient takes the offered time from the link in the message, signed out."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from scheduling.links import offer_link
from scheduling.models import Appointment, AppointmentStatus, WaitlistEntry, WaitlistOffer, WaitlistStatus
from scheduling.services.appointments import appointment_book
from scheduling.services.transitions import appointment_cancel
from scheduling.services.waitlist import slots_offer
from tests.console.conftest import ConsoleClinic, screenshot, sign_in
from tests.factories import ClearanceFactory, PatientFactory
from tests.scheduling.conftest import ny

pytestmark = pytest.mark.browser
FRIDAY = dt.date(2026, 10, 9)  # an alternate Friday the test clinic opens


def test_reception_adds_a_patient_who_then_takes_a_freed_chair_from_the_offer_link(
    chromium: Any, live_server: Any, browser_clinic: ConsoleClinic
) -> None:
    c = browser_clinic
    waiting = PatientFactory(group=c.clinic.group, first_name="Robin", last_name="Nguyen")
    ClearanceFactory(patient=waiting)

    desk = sign_in(chromium, live_server, c.clinic.reception)
    desk.get_by_role("link", name="Waitlist").click()
    desk.wait_for_url("**/console/waitlist/**")  # loaded: htmx (a deferred script) listens to the search box
    form = desk.get_by_role("region", name="Add a patient")
    form.get_by_label("Find the patient").fill("Nguyen")
    form.get_by_label(re.compile("Robin Nguyen · born")).check()
    form.get_by_label("Service").select_option(label="Infusion")
    form.get_by_label("Friday").check()
    form.get_by_label("Earliest start time").fill("08:00")
    form.get_by_label("Latest start time").fill("12:00")
    form.get_by_label("Note").fill("Can come at short notice")
    form.get_by_role("button", name="Add to the waitlist").click()
    expect(desk.get_by_role("status")).to_have_text("Added to the waitlist.")
    waiting_list = desk.get_by_role("region", name=re.compile("^Waiting"))
    expect(waiting_list).to_contain_text("Robin Nguyen")
    expect(waiting_list).to_contain_text("08:00 to 12:00")

    visit = appointment_book(actor=None, patient=c.clinic.patient, service_type=c.clinic.infusion,
                             location=c.clinic.location, start=ny(FRIDAY, 9))  # fmt: skip
    appointment_cancel(actor=c.clinic.reception, appointment=visit, reason="Unwell")
    assert slots_offer() == 1
    desk.reload()
    expect(desk.get_by_role("region", name="Offers in flight")).to_contain_text("Robin Nguyen")
    screenshot(desk, "waitlist")

    offer = WaitlistOffer.objects.get()
    link = offer_link(offer)
    page = chromium.new_context(viewport={"width": 600, "height": 700}).new_page()
    page.goto(live_server.url + link[link.index("/r/offer/") :])
    expect(page.get_by_role("heading", name="A visit time has opened")).to_be_visible()
    expect(page.get_by_text("Friday 09 October 2026 at 09:00")).to_be_visible()
    screenshot(page, "waitlist-offer")
    page.get_by_role("button", name="Take this time").click()
    expect(page.get_by_text("It is yours: the visit is booked.")).to_be_visible()

    booked = Appointment.objects.get(patient=waiting)
    assert (booked.start, booked.status) == (ny(FRIDAY, 9), AppointmentStatus.SCHEDULED)
    assert WaitlistEntry.objects.get(patient=waiting).status == WaitlistStatus.BOOKED
    desk.reload()
    expect(desk.get_by_role("region", name=re.compile("^Freed visits"))).to_contain_text("Filled: Robin Nguyen")
