"""Receipts, invoices and superbills: snapshots, golden text, deterministic bytes, storage, email, API states."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader
from pytest_django import Settings as DjangoSettings

from backend.models import DocumentStatus, EmailStatus
from backend.roles import Role
from billing.models import Document, DocumentKind
from tests.billing.conftest import MONDAY, completed_visit, issued_invoice, pay
from tests.factories import UserFactory
from tests.scheduling.conftest import Clinic
from tests.worker.test_content_and_links import DENY
from worker.documents import document_email, document_render, documents_sweep
from worker.pdf import render, samples


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_golden_receipt_shows_every_required_field() -> None:
    text = pdf_text(render(samples.receipt()))

    for expected in ("Payment receipt", "R-6F1C5A2E00", "Harbor Ketamine Clinic", "100 Federal St, Boston, MA 02110",
                     "Tax id 12-3456789", "Zoë Ramírez", "1985-05-17", "2026-10-05 10:45 EDT", "INV-2026-00042",
                     "Card", "Visa ending 4242", "450.00 USD"):  # fmt: skip
        assert expected in text, expected


def test_the_golden_superbill_shows_every_required_field() -> None:
    text = pdf_text(render(samples.superbill()))

    text = " ".join(text.split())
    for expected in ("Superbill", "Zoë Ramírez", "1985-05-17", "12 Elm St, Somerville, MA 02143", "A. F43.10",
                     "B. F33.2", "2026-10-05", "2026-10-09", "96365", "J3490", "NDC 42023-0113-10", "99214-25",
                     "300.00", "Dr. Mei Chen, MD", "1234567893", "Dr. Lena Ortiz, MD (NPI 1245319599)",
                     "100 Federal St, Boston, MA 02110", "12-3456789", "1538293840", "Total charges 1350.00 USD",
                     "Amount paid 1350.00 USD", "Signature:", "medically necessary"):  # fmt: skip
        assert expected in text, expected


@pytest.mark.parametrize("payload", [samples.receipt(), samples.superbill()], ids=["receipt", "superbill"])
def test_rendering_the_same_snapshot_twice_gives_the_same_bytes(payload: dict[str, object]) -> None:
    assert render(payload) == render(payload)


def test_a_payment_writes_its_receipt_request_which_the_worker_renders_stores_and_emails_once(
    billing_clinic: Clinic, media: Path
) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    payment = pay(clinic.client(clinic.reception), invoice, "450.00", reference="visa 4242").json()
    document = Document.objects.get(payment__public_id=payment["id"])
    assert (document.kind, document.status, document.email_status) == ("receipt", "pending", "pending")

    assert document_render(document_id=document.pk) == (DocumentStatus.DONE, True)  # rendered; email it
    assert document_render(document_id=document.pk).status == "not-claimed"
    assert document_email(document_id=document.pk) == EmailStatus.SENT
    assert document_email(document_id=document.pk) == "not-claimed"

    document.refresh_from_db()
    stored = default_storage.open(document.file.name).read()
    assert (
        document.checksum == hashlib.sha256(stored).hexdigest() == hashlib.sha256(render(document.payload)).hexdigest()
    )
    assert "450.00 USD" in pdf_text(stored)
    [message] = mail.outbox
    assert message.to == [clinic.patient.email]
    assert not DENY.search(str(message.subject))
    assert message.attachments[0][2] == "application/pdf"
    response = clinic.client(clinic.reception).get(f"/api/v1/payments/{payment['id']}/receipt/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == stored  # type: ignore[attr-defined]


def test_a_document_still_rendering_answers_202_with_its_status(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)

    response = clinic.client(clinic.accountant).get(f"/api/v1/invoices/{invoice.public_id}/pdf/")

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert response["Retry-After"] == "2"


def test_no_email_without_consent(billing_clinic: Clinic, media: Path) -> None:
    clinic = billing_clinic
    clinic.patient.email_consent = False
    clinic.patient.save()
    invoice = issued_invoice(clinic)

    document = Document.objects.get(invoice=invoice)

    assert document.email_status == EmailStatus.NOT_WANTED
    document_render(document_id=document.pk)
    assert document_email(document_id=document.pk) == "not-claimed"
    assert mail.outbox == []


def test_the_superbill_lists_services_codes_provider_and_payments_from_the_records(
    billing_clinic: Clinic, media: Path
) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    pay(clinic.client(clinic.reception), invoice, "450.00", method="hsa_fsa")
    client = clinic.client(clinic.reception)
    url = f"/api/v1/patients/{clinic.patient.public_id}/superbill/?from=2026-10-01&to=2026-10-31"

    first = client.get(url)
    assert first.status_code == 202, first.json()
    document = Document.objects.get(kind=DocumentKind.SUPERBILL)
    document_render(document_id=document.pk)
    second = client.get(url)

    assert second.status_code == 200
    text = " ".join(pdf_text(b"".join(second.streaming_content)).split())  # type: ignore[attr-defined]
    provider = invoice.lines.first().provider  # type: ignore[union-attr]
    assert provider is not None
    for expected in ("Alex Example", "1985-05-17", "F43.10", "2026-10-05", "96365", "J3490", "99214-25", provider.name,
                     provider.npi, "12-3456789", "1538293840", "1 Main St", "Amount paid 450.00 USD"):  # fmt: skip
        assert expected in text, expected
    assert Document.objects.filter(kind=DocumentKind.SUPERBILL).count() == 1


def test_a_superbill_for_a_period_without_services_or_with_from_after_to_is_refused(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    completed_visit(clinic, MONDAY)  # completed but never invoiced: nothing billed
    client = clinic.client(clinic.reception)
    base = f"/api/v1/patients/{clinic.patient.public_id}/superbill/"

    empty = client.get(f"{base}?from=2026-10-01&to=2026-10-31")
    backwards = client.get(f"{base}?from=2026-10-31&to=2026-10-01")
    missing = client.get(base)

    assert (empty.status_code, empty.json()["code"]) == (422, "not_billable")
    assert backwards.status_code == 422
    assert missing.status_code == 400


def test_the_sweep_requeues_lost_and_stuck_documents(billing_clinic: Clinic, settings: DjangoSettings) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    document = Document.objects.get(invoice=invoice)
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.RENDERING)
    rendered: list[int] = []

    later = timezone.now() + dt.timedelta(seconds=settings.DOCUMENT_RENDER_TIMEOUT + 1)

    count = documents_sweep(
        enqueue_render=lambda pk, label: rendered.append(pk), enqueue_email=lambda pk, label: None, now=later
    )

    assert count == 1
    assert rendered == [document.pk]
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.QUEUED


def test_reading_a_superbill_never_emails_it_and_asking_by_post_does_once_per_request(
    billing_clinic: Clinic, media: Path, settings: DjangoSettings
) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    pay(clinic.client(clinic.reception), invoice, "450.00")
    client = clinic.client(clinic.reception)
    period = {"from": "2026-10-01", "to": "2026-10-31"}
    base = f"/api/v1/patients/{clinic.patient.public_id}/superbill/"

    assert client.get(base, period).status_code == 202
    document = Document.objects.get(kind=DocumentKind.SUPERBILL)
    assert document.email_status == EmailStatus.NOT_WANTED
    document_render(document_id=document.pk)
    mail.outbox.clear()
    assert document_email(document_id=document.pk) == "not-claimed"
    assert client.get(base, period).status_code == 200
    assert mail.outbox == []

    asked = client.post(f"{base}email/", period, format="json")
    assert asked.status_code == 202, asked.json()
    assert asked.json()["email_status"] == "pending"
    assert document_email(document_id=document.pk) == "sent"
    [message] = mail.outbox
    assert message.to == [clinic.patient.email]
    assert Document.objects.filter(kind=DocumentKind.SUPERBILL).count() == 1  # the same document, mailed

    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "document_email": "1/min"}
    assert client.post(f"{base}email/", period, format="json").status_code == 429


def test_a_superbill_is_not_emailed_without_consent_or_for_a_period_with_nothing_billed(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    issued_invoice(clinic)
    period = {"from": "2026-10-01", "to": "2026-10-31"}
    clinic.patient.email_consent = False
    clinic.patient.save(update_fields=["email_consent"])
    refused = clinic.client(clinic.reception).post(
        f"/api/v1/patients/{clinic.patient.public_id}/superbill/email/", period, format="json"
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "not_billable"
    other = clinic.client(clinic.reception).post(
        f"/api/v1/patients/{clinic.patient2.public_id}/superbill/email/", period, format="json"
    )
    assert other.status_code == 422  # nothing billed for that patient: no superbill to send
    intruder = UserFactory(roles=[Role.PATIENT])
    clinic.patient2.user = intruder
    clinic.patient2.save(update_fields=["user"])
    stranger = clinic.client(intruder).post(
        f"/api/v1/patients/{clinic.patient.public_id}/superbill/email/", period, format="json"
    )
    assert stranger.status_code == 404  # another patient's superbill is not found, let alone sent


def test_the_invoice_pdf_shows_what_was_paid_at_issue_the_balance_the_terms_and_the_due_date(
    billing_clinic: Clinic,
) -> None:
    clinic = billing_clinic
    reception = clinic.client(clinic.reception)
    deposit = reception.post("/api/v1/payments/", {"patient": str(clinic.patient.public_id),
                                                   "location": str(clinic.location.public_id), "amount": "100.00",
                                                   "method": "card"}, format="json")  # fmt: skip
    assert deposit.status_code == 201, deposit.json()
    url = f"/api/v1/locations/{clinic.location.public_id}/billing-policy/"
    assert clinic.client(clinic.admin).put(url, {"payment_terms_days": 30}, format="json").status_code == 200
    invoice = issued_invoice(clinic)
    document = Document.objects.get(invoice=invoice)
    text = " ".join(pdf_text(render(document.payload)).split())  # a label and its value, on one line
    total = document.payload["total"]
    balance = f"{float(total) - 100:.2f}"
    issued_on = dt.date.fromisoformat(document.payload["issued_at"][:10])
    for expected in (f"Total {total} USD", "Paid 100.00 USD", f"Balance due {balance} USD", "Terms Net 30 days",
                     f"Due date {issued_on + dt.timedelta(days=30)}"):  # fmt: skip
        assert expected in text, (expected, text)


def test_a_partial_payments_receipt_says_what_is_still_to_pay(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    payment = pay(clinic.client(clinic.reception), invoice, "100.00").json()
    document = Document.objects.get(payment__public_id=payment["id"])
    text = " ".join(pdf_text(render(document.payload)).split())
    still = f"{float(document.payload['invoice_total']) - 100:.2f}"
    assert f"Still to pay {still} USD" in text


def test_a_credit_note_gets_its_own_numbered_pdf_rendered_by_the_worker_and_emailed(
    billing_clinic: Clinic, media: Path
) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    url = f"/api/v1/invoices/{invoice.public_id}/credit-notes/"
    credited = clinic.client(clinic.accountant).post(url, {"amount": "50.00", "reason": "Drug not administered"},
                                                     format="json").json()  # fmt: skip
    (note,) = credited["credit_notes"]  # the answer is the invoice, with its credit notes
    assert note["pdf_url"] == f"/api/v1/credit-notes/{note['id']}/pdf/"
    document = Document.objects.get(credit_note__public_id=note["id"])
    assert (document.kind, document.status, document.email_status) == ("credit_note", "pending", "pending")
    pdf_url = f"/api/v1/credit-notes/{note['id']}/pdf/"
    assert clinic.client(clinic.reception).get(pdf_url).status_code == 202  # while the worker renders it
    assert document_render(document_id=document.pk) == (DocumentStatus.DONE, True)
    assert document_email(document_id=document.pk) == EmailStatus.SENT
    [message] = mail.outbox
    assert message.subject.startswith("Your credit note from")
    response = clinic.client(clinic.reception).get(pdf_url)
    assert response.status_code == 200
    text = " ".join(pdf_text(b"".join(response.streaming_content)).split())  # type: ignore[attr-defined]
    expected_lines = (
        f"Credit note {note['number']}",
        f"Corrects invoice {invoice.number}",
        "Drug not administered",
        "Total credited 50.00 USD",
        "Invoice total now 400.00 USD",
        "Still to pay 400.00 USD",
    )
    for expected in expected_lines:
        assert expected in text, (expected, text)
    assert clinic.client(clinic.clinician).get(pdf_url).status_code == 403
    other = UserFactory(roles=[Role.PATIENT])
    assert clinic.client(other).get(pdf_url).status_code == 404
