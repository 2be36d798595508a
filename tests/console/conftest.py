"""Console fixtures: the standard test clinic with a visit today, a series, and a signed-in browser client."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db import connections
from django.test import Client

from backend.models import User
from backend.roles import Role
from billing.models import ExportJob, Invoice, Payment
from billing.services.exports import ExportSpec, export_request
from billing.services.invoices import LineSpec, invoice_create, invoice_issue
from billing.services.payments import payment_record
from outcomes.models import Instrument, MaintenanceSuggestion, SafetyAlert
from outcomes.services.measures import measure_record
from outcomes.standard import load_standard_instruments
from scheduling.booking.protocol import SeriesProtocol
from scheduling.models import Appointment, Series
from scheduling.services.appointments import appointment_book
from tests.factories import PASSWORD, UserFactory
from tests.scheduling.conftest import NOW, Clinic, book_series, make_clinic, ny

TODAY = dt.date(2026, 10, 1)  # a Thursday; the tests' clock stands at 08:00 in New York


@dataclass
class ConsoleClinic:
    clinic: Clinic
    visit: Appointment  # today 09:00, check-in open
    series: Series  # three infusions from next Monday
    patient_user: User  # the login of clinic.patient
    invoice: Invoice  # issued to clinic.patient, partly paid
    payment: Payment
    export: ExportJob  # the accountant's, not yet run
    alert: SafetyAlert  # open, on clinic.patient's PHQ-9
    suggestion: MaintenanceSuggestion  # open, for clinic.patient2's series

    def user(self, role: str) -> User:
        if role == Role.PATIENT:
            return self.patient_user
        return getattr(self.clinic, role)


@pytest.fixture
def console_clinic(db: None, frozen_now: time_machine.Traveller) -> ConsoleClinic:
    return _console_clinic()


def _console_clinic() -> ConsoleClinic:
    clinic = make_clinic()
    visit = appointment_book(
        actor=clinic.reception, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
        start=ny(TODAY, 9),
    )  # fmt: skip
    series = book_series(
        actor=clinic.reception, patient=clinic.patient2, location=clinic.location, service_type=clinic.infusion,
        protocol=SeriesProtocol(count=3, first_date=dt.date(2026, 10, 5), local_time=dt.time(10), min_gap_hours=24),
    )  # fmt: skip
    patient_user = UserFactory(roles=[Role.PATIENT])
    clinic.patient.user = patient_user
    clinic.patient.save(update_fields=["user"])
    draft = invoice_create(
        actor=clinic.accountant, patient=clinic.patient, location=clinic.location,
        lines=[LineSpec(description="Intake assessment", quantity=Decimal(1), unit_price=Decimal("200.00"),
                        service_date=TODAY)],
    )  # fmt: skip
    invoice = invoice_issue(actor=clinic.accountant, invoice=draft)
    payment = payment_record(actor=clinic.reception, invoice=invoice, amount=Decimal("50.00"), method="card")
    export = export_request(actor=clinic.accountant, spec=ExportSpec(kind="invoices", format="csv", date_from=TODAY,
                                                                     date_to=TODAY), ip=None)  # fmt: skip
    load_standard_instruments(apps)
    measure = measure_record(actor=clinic.clinician, patient=clinic.patient, answers=[1] * 9, source="staff",
                             instrument=Instrument.objects.get(group=None, code="phq-9", version=1))  # fmt: skip
    reason = "PHQ-9 rose 5 or more above its lowest after the series"
    suggestion = MaintenanceSuggestion.objects.create(patient=clinic.patient2, series=series, rule="phq9_rise",
                                                      reason=reason)  # fmt: skip
    return ConsoleClinic(clinic=clinic, visit=visit, series=series, patient_user=patient_user, invoice=invoice,
                         payment=payment, export=export, alert=measure.safety_alert, suggestion=suggestion)  # fmt: skip


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- real Chromium ----------------------------------------------------------------------------------

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
BROWSER_MISSING = (
    f"browser tests did not run: no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
)
ROOT = Path(__file__).resolve().parents[2]
# Every run keeps its screenshots under var/ to look at; UPDATE_SCREENSHOTS=1 refreshes the README's in docs/.
SCREENSHOTS = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "var") / "screenshots"


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, for one test; missing, it fails the run in CI and skips elsewhere."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(BROWSER_MISSING)
        pytest.skip(BROWSER_MISSING)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls made from it
    # (the test's own, and the database fixtures'), though none of them runs inside the loop. Set for this
    # test only: a process the suite starts later (manage.py check --deploy) must not inherit it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_clinic(
    chromium: Any, transactional_db: None, live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ConsoleClinic]:
    """The console clinic behind a live server, the clock running from the tests' "now" (08:00 in New York).

    The session cookie lasts until the browser closes: the server's clock is months behind the browser's.
    The server's request threads close their connections after each request. The test's own ORM calls made
    while Playwright's event loop runs in this thread get a connection of their own (Django keeps connections
    per context then); it is closed at the end, so none outlives the test.
    """
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    with time_machine.travel(NOW, tick=True):
        yield _console_clinic()
    connections.close_all()


def sign_in(chromium: Any, live_server: Any, user: User, lands_on: str = "/console/day/") -> Any:
    """A new browser page signed in as ``user`` through the sign-in form, on the role's first page."""
    page = chromium.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{live_server.url}/console/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{lands_on}**")
    return page


def screenshot(page: Any, name: str) -> None:
    """Keep a screenshot of the page as the test sees it (see SCREENSHOTS for where)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
