"""Reception's flows in real headless Chromium against a live server (Playwright, Debian's chromium).

Pages are driven by role and accessible name, as a person using a screen reader would find them.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from billing.models import BillingPolicy, Invoice, InvoiceKind
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services.appointments import appointment_book
from tests.console.conftest import TODAY, ConsoleClinic, screenshot, sign_in
from tests.factories import ClearanceFactory, PatientFactory
from tests.processes import CeleryWorker
from tests.scheduling.conftest import ny

pytestmark = pytest.mark.browser
MONDAY, TUESDAY = dt.date(2026, 10, 5), dt.date(2026, 10, 6)


def _board(page: Any, live_server: Any, c: ConsoleClinic, day: dt.date) -> None:
    page.goto(f"{live_server.url}/console/day/?location={c.clinic.location.public_id}&date={day:%Y-%m-%d}")


def test_reception_books_a_six_visit_series_accepting_the_alternative_for_a_taken_day(
    chromium: Any, live_server: Any, browser_clinic: ConsoleClinic
) -> None:
    # given: both chairs are taken on Tuesday at 10:00 (the other patient's series holds one)
    c = browser_clinic
    other = PatientFactory(group=c.clinic.group, first_name="Robin")
    ClearanceFactory(patient=other)
    appointment_book(actor=c.clinic.reception, patient=other, service_type=c.clinic.infusion,
                     location=c.clinic.location, start=ny(TUESDAY, 10))  # fmt: skip
    page = sign_in(chromium, live_server, c.clinic.reception)

    # when: reception plans six visits at 10:00 from Monday for Alex
    page.get_by_role("link", name="Book a series").click()
    page.wait_for_url("**/console/series/new/**")  # loaded: htmx (a deferred script) listens to the search box
    page.get_by_label("Find the patient").fill(c.clinic.patient.last_name)
    page.get_by_label(re.compile(f"{c.clinic.patient.first_name} {c.clinic.patient.last_name} · born")).check()
    page.get_by_label("Service").select_option(label="Infusion")
    page.get_by_label("First date").fill(f"{MONDAY:%Y-%m-%d}")
    page.get_by_label("Number of visits").fill("6")
    page.get_by_label("Time").fill("10:00")
    page.get_by_role("button", name="Show planned visits").click()

    # then: the plan shows the collision with an alternative, which reception accepts before booking
    plan = page.get_by_role("region", name="Planned visits")
    expect(plan.get_by_role("row")).to_have_count(7)
    accept = plan.get_by_label(re.compile("Accept "))
    expect(accept).to_have_count(1)
    screenshot(page, "series-booking")
    accept.check()
    page.get_by_role("button", name="Book series").click()

    expect(page.get_by_role("heading", name=re.compile("^Series of"))).to_be_visible()
    expect(page.get_by_role("table", name="Visits").get_by_role("row")).to_have_count(7)
    visits = Appointment.objects.filter(patient=c.clinic.patient, series__isnull=False)
    assert visits.count() == 6
    moved = [visit for visit in visits if visit.start.astimezone(ny(TUESDAY, 0).tzinfo).date() == TUESDAY]
    assert len(moved) == 1
    assert moved[0].start != ny(TUESDAY, 10)

    # and the day board of that Tuesday shows it
    _board(page, live_server, c, TUESDAY)
    board = page.get_by_role("region", name="Day board")
    expect(board.get_by_role("link", name=re.compile(c.clinic.patient.first_name))).to_be_visible()
    screenshot(page, "day-board")


def test_a_booking_made_at_another_desk_appears_on_the_board_without_a_reload(
    chromium: Any, live_server: Any, browser_clinic: ConsoleClinic
) -> None:
    c = browser_clinic
    desk = sign_in(chromium, live_server, c.clinic.reception)
    _board(desk, live_server, c, TODAY)
    board = desk.get_by_role("region", name="Day board")
    expect(board.get_by_role("link", name=re.compile(c.clinic.patient2.first_name))).to_have_count(0)

    other_desk = sign_in(chromium, live_server, c.clinic.admin)
    other_desk.goto(f"{live_server.url}/console/series/new/?patient={c.clinic.patient2.public_id}")
    other_desk.get_by_label("Service").select_option(label="Infusion")
    other_desk.get_by_label("First date").fill(f"{TODAY:%Y-%m-%d}")
    other_desk.get_by_label("Number of visits").fill("1")
    other_desk.get_by_label("Time").fill("13:00")
    other_desk.get_by_role("button", name="Show planned visits").click()
    other_desk.get_by_role("button", name="Book series").click()
    expect(other_desk.get_by_role("heading", name=re.compile("^Series of"))).to_be_visible()

    expect(board.get_by_role("link", name=re.compile(c.clinic.patient2.first_name))).to_be_visible(timeout=15_000)


def test_a_late_cancellation_warns_of_the_fee_before_and_drafts_it_after(
    chromium: Any, live_server: Any, browser_clinic: ConsoleClinic
) -> None:
    c = browser_clinic
    BillingPolicy.objects.create(location=c.clinic.location, late_cancellation_fee=Decimal("75.00"))
    page = sign_in(chromium, live_server, c.clinic.reception)
    _board(page, live_server, c, TODAY)

    page.get_by_role("region", name="Day board").get_by_role(
        "link", name=re.compile(c.clinic.patient.first_name)
    ).click()
    panel = page.get_by_role("dialog")
    expect(panel.get_by_role("note")).to_contain_text("late-cancellation fee of 75.00 USD")
    screenshot(page, "visit-panel")
    panel.get_by_label("Reason for cancelling").fill("Patient unwell")
    panel.get_by_role("button", name="Cancel visit").click()

    expect(page.get_by_role("dialog").get_by_role("status")).to_contain_text("Cancel visit: done.")
    c.visit.refresh_from_db()
    assert c.visit.status == AppointmentStatus.CANCELLED
    assert c.visit.cancelled_late
    fee = Invoice.objects.get(kind=InvoiceKind.FEE, patient=c.clinic.patient)
    assert fee.total == Decimal("75.00")


def test_a_patient_sees_the_preparation_in_their_own_zone_cancels_late_and_cannot_open_another_patients_visit(
    chromium: Any, live_server: Any, browser_clinic: ConsoleClinic
) -> None:
    # given: Alex lives in Los Angeles; the visit is today at 09:00 in Boston (06:00 for Alex), inside the window
    c = browser_clinic
    c.clinic.patient.timezone = "America/Los_Angeles"
    c.clinic.patient.save(update_fields=["timezone"])
    c.clinic.infusion.fasting_hours, c.clinic.infusion.arrive_early_minutes = 6, 15
    c.clinic.infusion.requires_driver = True
    c.clinic.infusion.save(update_fields=["fasting_hours", "arrive_early_minutes", "requires_driver"])
    page = sign_in(chromium, live_server, c.patient_user, lands_on="/console/me/")

    # then: the visit and its preparation are in Alex's time
    visit = page.get_by_role("article", name=re.compile("Infusion, Thursday 1 October, 06:00"))
    expect(visit).to_contain_text("Arrive by 05:45")
    expect(visit).to_contain_text("Nothing to eat or drink from Thursday 00:00")
    expect(visit).to_contain_text("Bring your driver")
    screenshot(page, "patient-visits")

    # when: Alex cancels, told first that it is late
    visit.get_by_role("link", name="Confirm or cancel this visit").click()
    expect(page.get_by_role("note")).to_contain_text("This cancellation is late")
    page.get_by_label("Why are you cancelling?").fill("Feeling unwell")
    page.get_by_role("button", name="Cancel this visit").click()

    expect(page.get_by_role("status")).to_contain_text("Your visit is cancelled.")
    c.visit.refresh_from_db()
    assert c.visit.status == AppointmentStatus.CANCELLED
    assert c.visit.cancelled_late

    # and another patient's visit is not found, whatever the URL says
    others = Appointment.objects.filter(patient=c.clinic.patient2).first()
    assert others is not None
    response = page.goto(f"{live_server.url}/console/me/visits/{others.public_id}/")
    assert response is not None
    assert response.status == 404


def test_a_visit_is_checked_in_completed_invoiced_and_paid_and_its_receipt_downloads(
    chromium: Any, live_server: Any, browser_clinic: ConsoleClinic, media: Path, tmp_path: Path
) -> None:
    c = browser_clinic
    worker = CeleryWorker(log_path=tmp_path / "worker.log", extra_env={"MEDIA_ROOT": str(media)}).start()
    try:
        page = sign_in(chromium, live_server, c.clinic.admin)
        _board(page, live_server, c, TODAY)
        page.get_by_role("region", name="Day board").get_by_role(
            "link", name=re.compile(c.clinic.patient.first_name)
        ).click()
        panel = page.get_by_role("dialog")
        for button, done in (("Check in", "Check in: done."), ("Start infusion", "Start infusion: done."),
                             ("Complete", "Complete: done.")):  # fmt: skip
            panel.get_by_role("button", name=button).click()
            expect(panel.get_by_role("status")).to_contain_text(done)

        checkout = panel.get_by_role("region", name="Check-out")
        checkout.get_by_role("button", name="Draft invoice from this visit").click()
        checkout.get_by_role("button", name="Issue invoice").click()
        expect(checkout).to_contain_text("still to pay 450.00 USD")
        checkout.get_by_label("Method").select_option(label="HSA/FSA card")
        checkout.get_by_label("Reference").fill("HSA-1234")
        checkout.get_by_role("button", name="Take payment").click()

        expect(checkout).to_contain_text("Paid 450.00 USD (HSA/FSA card)")
        receipt = checkout.get_by_role("link", name="Download the receipt (PDF)")
        expect(receipt).to_be_visible(timeout=60_000)
        screenshot(page, "check-out")
        download = page.request.get(f"{live_server.url}{receipt.get_attribute('href')}")
        assert download.status == 200
        assert download.body().startswith(b"%PDF")
    finally:
        worker.stop()
