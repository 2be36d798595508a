"""Document requests: a row with the snapshot to render, written with the business change.

The worker (``worker/documents.py``) renders, stores and emails; these
functions only record what is wanted and name the task after commit.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from backend.models import DocumentStatus, EmailStatus, User
from backend.outbox import enqueue_on_commit
from backend.transactions import change_transaction
from billing.documents import (
    credit_note_payload,
    digest,
    invoice_payload,
    receipt_payload,
    refund_receipt_payload,
    superbill_payload,
)
from billing.errors import NotBillable
from billing.models import CreditNote, Document, DocumentKind, Invoice, Payment, Refund
from scheduling.models import Patient, Series

RENDER_TASK = "worker.tasks.documents.document_render_task"
EMAIL_TASK = "worker.tasks.documents.document_email_task"


def _may_email(patient: Patient) -> bool:
    return bool(patient.email_consent and patient.email)


def _create(
    kind: str, patient: Patient, payload: dict[str, Any], actor: User | None, *, email: bool = True, **subject: Any
) -> Document:
    """The document row; ``email``: mail it to the patient once rendered (when they consented and have an address)."""
    wanted = email and _may_email(patient)
    document = Document.objects.create(
        kind=kind, patient=patient, payload=payload, payload_digest=digest(payload),
        email_status=EmailStatus.PENDING if wanted else EmailStatus.NOT_WANTED, requested_by=actor, **subject,
    )  # fmt: skip
    enqueue_on_commit(RENDER_TASK, document.pk, queue="documents")
    return document


def receipt_request(*, payment: Payment, actor: User | None) -> Document:
    return _create(DocumentKind.RECEIPT, payment.patient, receipt_payload(payment), actor, payment=payment)


def refund_receipt_request(*, refund: Refund, actor: User | None) -> Document:
    patient = refund.payment.patient
    return _create(DocumentKind.REFUND_RECEIPT, patient, refund_receipt_payload(refund), actor, refund=refund)


def invoice_document_request(*, invoice: Invoice, actor: User | None) -> Document:
    return _create(DocumentKind.INVOICE, invoice.patient, invoice_payload(invoice), actor, invoice=invoice)


def credit_note_document_request(*, note: CreditNote, actor: User | None) -> Document:
    return _create(DocumentKind.CREDIT_NOTE, note.invoice.patient, credit_note_payload(note), actor, credit_note=note)


def superbill_request(
    *, patient: Patient, start: date, end: date, actor: User | None, series: Series | None = None
) -> Document:
    """The superbill for the period (of one series when given) as the records stand now: the same row while
    nothing changes.

    Reading a superbill never emails it (``document_email_request`` does, when asked).
    """
    if end < start:
        raise NotBillable("The period ends before it starts.", errors={"to": ["Must be on or after from."]})
    payload = superbill_payload(patient=patient, start=start, end=end, series=series)
    if payload is None:
        raise NotBillable(f"No billed services between {start} and {end}.", errors={"from": ["Nothing billed."]})
    lookup = {"kind": DocumentKind.SUPERBILL, "patient": patient, "period_start": start, "period_end": end,
              "payload_digest": digest(payload)}  # fmt: skip
    existing = Document.objects.filter(**lookup).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _create(DocumentKind.SUPERBILL, patient, payload, actor, email=False, period_start=start,
                           period_end=end)  # fmt: skip
    except IntegrityError:  # the same superbill was asked for at the same moment
        return Document.objects.get(**lookup)


@change_transaction()
def document_email_request(*, document: Document) -> Document:
    """Email the document to its patient (again): once it is rendered, or now if it is.

    Refused (422 ``not_billable``) when the patient has no address or did not consent to email.
    """
    document = Document.objects.select_for_update().select_related("patient").get(pk=document.pk)
    if not _may_email(document.patient):
        raise NotBillable("The patient has no email address or did not agree to email; download the PDF instead.")
    if document.email_status in (EmailStatus.PENDING, EmailStatus.SENDING):
        return document  # on its way already
    document.email_status = EmailStatus.PENDING
    document.save(update_fields=["email_status", "updated_at"])
    if document.status == DocumentStatus.DONE:  # else the worker mails it when it has rendered it
        enqueue_on_commit(EMAIL_TASK, document.pk, queue="documents")
    return document


@change_transaction()
def document_retry(*, document: Document) -> bool:
    """Queue a failed document for rendering again (the admin's retry action)."""
    updated = Document.objects.filter(pk=document.pk, status="failed").update(status="pending", last_error="")
    if updated:
        enqueue_on_commit(RENDER_TASK, document.pk, queue="documents")
    return bool(updated)
