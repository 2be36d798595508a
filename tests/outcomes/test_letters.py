"""Letters to the referring provider: an acknowledgement when the series is booked, a summary when it ends,
rendered and emailed once by the worker's document pipeline."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from pypdf import PdfReader

from backend.models import DocumentStatus, EmailStatus
from outcomes.models import Letter, LetterKind, MeasureSchedule
from scheduling.models import Appointment, ReferringProvider, Series, SeriesTemplate
from scheduling.services.transitions import appointment_transition
from tests.outcomes.conftest import answers_totalling
from tests.scheduling.conftest import Clinic, ny
from worker.documents import document_email, document_render

pytestmark = pytest.mark.usefixtures("instruments", "media")
LETTER = "outcomes.Letter"


def pdf_text(letter: Letter) -> str:
    letter.refresh_from_db()
    with letter.file.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)


@pytest.fixture
def provider(clinic: Clinic) -> ReferringProvider:
    provider = ReferringProvider.objects.create(
        group=clinic.group, name="Dr. Lena Ortiz", credentials="MD", practice="Back Bay Psychiatry",
        npi="1234567893", email="ortiz@example.com", address="1 Main St\nBoston, MA 02110",
    )  # fmt: skip
    clinic.patient.referrer = provider
    clinic.patient.save(update_fields=["referrer"])
    return provider


def book(clinic: Clinic) -> Series:
    template = SeriesTemplate.objects.create(
        group=clinic.group, location=clinic.location, name="Induction", service_type=clinic.infusion, count=3,
        weekdays=[0, 2], local_time=dt.time(9), min_gap_hours=24,
    )  # fmt: skip
    MeasureSchedule.objects.create(template=template, instrument_code="phq-9", before_visits=[1, 3])
    payload = {"patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
               "template": str(template.public_id), "first_date": "2026-10-05"}  # fmt: skip
    response = clinic.client(clinic.reception).post("/api/v1/series/", payload, format="json")
    assert response.status_code == 201, response.content
    return Series.objects.get(public_id=response.json()["id"])


def phq9(clinic: Clinic, total: int) -> None:
    body = {"instrument": "phq-9", "answers": answers_totalling(total, 9, 3)}
    url = f"/api/v1/patients/{clinic.patient.public_id}/measures/"
    assert clinic.client(clinic.clinician).post(url, body, format="json").status_code == 201


def complete_every_visit(clinic: Clinic, series: Series, traveller: time_machine.Traveller) -> None:
    for visit in Appointment.objects.filter(series=series).order_by("start"):
        traveller.move_to(visit.start + dt.timedelta(minutes=5))
        for action in ("check_in", "start", "complete"):
            appointment_transition(actor=clinic.clinician, appointment=visit, action=action)
            visit.refresh_from_db()


def test_booking_a_series_sends_the_referral_acknowledgement_once(clinic: Clinic, provider: ReferringProvider) -> None:
    series = book(clinic)
    letter = Letter.objects.get()
    assert (letter.kind, letter.series, letter.provider, letter.email_status) == (
        LetterKind.ACKNOWLEDGEMENT, series, provider, EmailStatus.PENDING,
    )  # fmt: skip
    assert document_render(document_id=letter.pk, label=LETTER) == (DocumentStatus.DONE, True)
    assert document_email(document_id=letter.pk, label=LETTER) == EmailStatus.SENT
    assert document_email(document_id=letter.pk, label=LETTER) == "not-claimed"
    (message,) = mail.outbox
    assert message.to == ["ortiz@example.com"]
    assert message.attachments[0][2] == "application/pdf"
    text = pdf_text(letter)
    for expected in ("Thank you for your referral", "Dr. Lena Ortiz, MD", "Back Bay Psychiatry", "Alex",
                     "2026-10-05", "2026-10-07", "2026-10-12"):  # fmt: skip
        assert expected in text, expected


def test_the_summary_at_the_series_end_shows_visits_scores_and_the_provider_and_is_emailed_once(
    clinic: Clinic, provider: ReferringProvider, frozen_now: time_machine.Traveller
) -> None:
    series = book(clinic)
    frozen_now.move_to(ny(dt.date(2026, 10, 3), 10))
    phq9(clinic, 18)
    frozen_now.move_to(ny(dt.date(2026, 10, 11), 10))
    phq9(clinic, 7)
    complete_every_visit(clinic, series, frozen_now)
    summary = Letter.objects.get(kind=LetterKind.SUMMARY)
    assert summary.payload["attendance"] == {"completed": 3, "no_show": 0, "cancelled": 0, "planned": 3,
                                             "sessions": 0}  # fmt: skip
    assert document_render(document_id=summary.pk, label=LETTER).status == DocumentStatus.DONE
    assert document_email(document_id=summary.pk, label=LETTER) == EmailStatus.SENT
    text = pdf_text(summary)
    for expected in ("Treatment summary", "Dr. Lena Ortiz", "2026-10-05", "2026-10-07", "2026-10-12",
                     "18 (moderately severe)", "2026-10-03", "7 (mild), 2026-10-11", "-11",
                     "Maintenance plan"):  # fmt: skip
        assert expected in text, expected
    summaries = [m for m in mail.outbox if "treatment summary" in m.subject]
    assert [m.to for m in summaries] == [["ortiz@example.com"]]
    assert Letter.objects.filter(kind=LetterKind.SUMMARY).count() == 1


def test_clinicians_ask_for_a_letter_and_fetch_its_pdf_when_rendered(
    clinic: Clinic, provider: ReferringProvider
) -> None:
    series = book(clinic)
    client = clinic.client(clinic.clinician)
    asked = client.post(f"/api/v1/series/{series.public_id}/letters/", {"kind": "summary"}, format="json")
    assert asked.status_code == 202, asked.content
    body: dict[str, Any] = asked.json()
    assert (body["kind"], body["status"], body["provider"]) == ("summary", "pending", "Dr. Lena Ortiz, MD")
    assert client.get(body["pdf"]).status_code == 202
    document_render(document_id=Letter.objects.get(public_id=body["id"]).pk, label=LETTER)
    ready = client.get(body["pdf"])
    assert (ready.status_code, ready["Content-Type"]) == (200, "application/pdf")
    listed = client.get(f"/api/v1/patients/{clinic.patient.public_id}/letters/").json()
    assert [row["kind"] for row in listed] == ["summary", "acknowledgement"]
    assert clinic.client(clinic.reception).get(body["pdf"]).status_code == 403


def test_a_patient_without_a_referring_provider_gets_no_letter(clinic: Clinic, tmp_path: Path) -> None:
    series = book(clinic)
    assert not Letter.objects.exists()
    refused = clinic.client(clinic.clinician).post(f"/api/v1/series/{series.public_id}/letters/",
                                                   {"kind": "acknowledgement"}, format="json")  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (422, "no_referring_provider")
