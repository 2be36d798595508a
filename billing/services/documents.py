"""Document requests: a row with the snapshot to render, written with the business change.

The worker (``worker/documents.py``) renders, stores and emails; these
functions only record what is wanted and name the task after commit.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from backend.models import User
from backend.outbox import enqueue_on_commit
from billing.documents import (
    digest,
    invoice_payload,
    receipt_payload,
    refund_receipt_payload,
    superbill_payload,
)
from billing.errors import NotBillable
from billing.models import Document, DocumentKind, EmailStatus, Invoice, Payment, Refund
from scheduling.models import Patient

RENDER_TASK = "worker.tasks.documents.document_render_task"


def _email_status(patient: Patient) -> str:
    return EmailStatus.PENDING if patient.email_consent and patient.email else EmailStatus.NOT_WANTED


def _create(kind: str, patient: Patient, payload: dict[str, Any], actor: User | None, **subject: Any) -> Document:
    document = Document.objects.create(
        kind=kind, patient=patient, payload=payload, payload_digest=digest(payload),
        email_status=_email_status(patient), requested_by=actor, **subject,
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


def superbill_request(*, patient: Patient, start: date, end: date, actor: User | None) -> Document:
    """The superbill for the period as the records stand now: the same row while nothing changes."""
    if end < start:
        raise NotBillable("The period ends before it starts.", errors={"to": ["Must be on or after from."]})
    payload = superbill_payload(patient=patient, start=start, end=end)
    if payload is None:
        raise NotBillable(f"No billed services between {start} and {end}.", errors={"from": ["Nothing billed."]})
    lookup = {"kind": DocumentKind.SUPERBILL, "patient": patient, "period_start": start, "period_end": end,
              "payload_digest": digest(payload)}  # fmt: skip
    existing = Document.objects.filter(**lookup).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _create(DocumentKind.SUPERBILL, patient, payload, actor, period_start=start, period_end=end)
    except IntegrityError:  # the same superbill was asked for at the same moment
        return Document.objects.get(**lookup)


@transaction.atomic(durable=True)
def document_retry(*, document: Document) -> bool:
    """Queue a failed document for rendering again (the admin's retry action)."""
    updated = Document.objects.filter(pk=document.pk, status="failed").update(status="pending", last_error="")
    if updated:
        enqueue_on_commit(RENDER_TASK, document.pk, queue="documents")
    return bool(updated)
