"""Documents through the outbox: render each requested PDF once, store it, email it once.

Every kind of ``RenderedDocument`` goes this way: billing's receipts, invoices and superbills
(``billing.Document``, emailed to the patient) and the outcomes app's letters (``outcomes.Letter``,
emailed to the referring provider). ``DOCUMENT_MODELS`` names them; tasks carry the model's label.

- ``document_render`` claims a row (pending/queued -> rendering) with a
  conditional update, renders its snapshot with ReportLab, stores the file
  through Django storage under a fixed name with its SHA-256, and marks it
  done. A second task for the same row does nothing; a retry after a crash
  overwrites the same file with the same bytes.
- ``document_email`` moves ``email_status`` pending -> sending -> sent and
  sends the PDF to the patient (consent was checked when the row was written),
  with the row's id as Message-ID.
- ``documents_sweep`` (beat) re-enqueues rows whose message was lost (broker
  down at commit), whose worker died mid-render, or whose email is stuck.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from backend.models import DocumentStatus, EmailStatus, RenderedDocument
from billing.models import Document, DocumentKind
from outcomes.models import Letter, LetterKind
from worker.channels.base import OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from worker.channels.email import send_email
from worker.pdf import render

logger = logging.getLogger(__name__)
SWEEP_BATCH = 500
DOCUMENT_MODELS: dict[str, type[RenderedDocument]] = {"billing.Document": Document, "outcomes.Letter": Letter}
BILLING = "billing.Document"
SUBJECTS = {
    DocumentKind.RECEIPT: "Your payment receipt from {clinic}",
    DocumentKind.REFUND_RECEIPT: "Your refund receipt from {clinic}",
    DocumentKind.INVOICE: "Your invoice from {clinic}",
    DocumentKind.SUPERBILL: "Your statement (superbill) from {clinic}",
    DocumentKind.CREDIT_NOTE: "Your credit note from {clinic}",
    LetterKind.ACKNOWLEDGEMENT: "{clinic}: thank you for your referral",
    LetterKind.SUMMARY: "{clinic}: treatment summary for a patient you referred",
}


def storage_name(document: RenderedDocument) -> str:
    return f"documents/{document.kind}/{document.public_id}.pdf"  # type: ignore[attr-defined]


class Rendered(NamedTuple):
    status: str
    email_pending: bool = False  # the document is to be emailed: the caller enqueues that


def _claim_sql(model: type[RenderedDocument]) -> str:
    """Claim and load in one statement: the row moves pending/queued -> rendering and comes back."""
    return f"""
UPDATE {model._meta.db_table} SET status = 'rendering', attempts = attempts + 1, updated_at = %s
 WHERE id = %s AND status IN ('pending', 'queued')
RETURNING kind, public_id, payload, attempts, email_status"""  # noqa: S608 - the table name is the model's


def document_render(*, document_id: int, label: str = BILLING) -> Rendered:
    """Render, store and mark done; safe to run twice."""
    model = DOCUMENT_MODELS[label]
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(model), [timezone.now(), document_id])
        claimed = cursor.fetchone()
    if claimed is None:
        return Rendered("not-claimed")
    kind, public_id, payload, attempts, email_status = claimed
    document = model(pk=document_id, kind=kind, public_id=public_id)  # type: ignore[misc]
    try:
        pdf = render(payload if isinstance(payload, dict) else json.loads(payload))
    except Exception as error:  # a bad snapshot will not render on retry either
        logger.exception("%s %s failed to render", label, document_id)
        model._default_manager.filter(pk=document_id, status=DocumentStatus.RENDERING).update(
            status=DocumentStatus.FAILED, last_error=str(error)[:2000], updated_at=timezone.now()
        )
        return Rendered(DocumentStatus.FAILED)
    name = storage_name(document)
    if attempts > 1 and default_storage.exists(name):  # a retry after a crash: same name, same bytes
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(pdf))
    now = timezone.now()
    updated = model._default_manager.filter(pk=document_id, status=DocumentStatus.RENDERING).update(
        status=DocumentStatus.DONE, file=stored, checksum=hashlib.sha256(pdf).hexdigest(), size=len(pdf),
        rendered_at=now, last_error="", updated_at=now,
    )  # fmt: skip
    if not updated:  # the sweep gave the row to another run meanwhile; that run finishes it
        return Rendered("not-claimed")
    return Rendered(DocumentStatus.DONE, email_pending=email_status == EmailStatus.PENDING)


def _recipient(document: Any, clinic: str) -> tuple[str, str]:
    """Who gets the document by email, and what the message says (the PDF holds the rest)."""
    if isinstance(document, Letter):
        return (
            document.provider.email,
            f"Dear {document.provider.name},\n\nplease find our letter attached.\n\n{clinic}\n",
        )
    return (
        document.patient.email,
        f"Hello {document.patient.first_name},\n\nyour document from {clinic} is attached.\n\n{clinic}\n",
    )


def document_email(*, document_id: int, label: str = BILLING) -> str:
    """Email a rendered document once (to the patient, a letter to its provider). Raises TransientDeliveryError
    to be retried."""
    model = DOCUMENT_MODELS[label]
    claimed = model._default_manager.filter(
        pk=document_id, status=DocumentStatus.DONE, email_status=EmailStatus.PENDING
    ).update(email_status=EmailStatus.SENDING, updated_at=timezone.now())
    if not claimed:
        return "not-claimed"
    document: Any = model._default_manager.select_related(
        *(["patient", "provider"] if model is Letter else ["patient"])
    ).get(pk=document_id)
    clinic = document.payload["clinic"]["name"]
    with default_storage.open(document.file.name, "rb") as handle:
        pdf = handle.read()
    to, text = _recipient(document, clinic)
    message = OutgoingMessage(
        to=to,
        subject=SUBJECTS[document.kind].format(clinic=clinic),
        text=text,
        idempotency_key=f"doc-{document.public_id}",
        attachments=((f"{document.kind}-{document.public_id.hex[:10]}.pdf", pdf, "application/pdf"),),
    )
    try:
        send_email(message)
    except PermanentDeliveryError as error:
        _email_finish(document, EmailStatus.FAILED, str(error))
        return EmailStatus.FAILED
    except TransientDeliveryError:
        _email_finish(document, EmailStatus.PENDING, "")
        raise
    _email_finish(document, EmailStatus.SENT, "")
    return EmailStatus.SENT


def _email_finish(document: RenderedDocument, status: str, error: str) -> None:
    fields: dict[str, object] = {"email_status": status, "updated_at": timezone.now()}
    if status == EmailStatus.SENT:
        fields["emailed_at"] = timezone.now()
    if error:
        fields["last_error"] = error[:2000]
    type(document)._default_manager.filter(pk=document.pk, email_status=EmailStatus.SENDING).update(**fields)


def documents_sweep(
    *,
    enqueue_render: Callable[[int, str], object],
    enqueue_email: Callable[[int, str], object],
    now: datetime | None = None,
) -> int:
    """Re-enqueue unfinished work (of every document model) whose message was lost or whose worker died;
    return how many."""
    moment = now or timezone.now()
    lost = moment - timedelta(seconds=settings.DOCUMENT_ENQUEUE_GRACE)
    stuck = moment - timedelta(seconds=settings.DOCUMENT_RENDER_TIMEOUT)
    total = 0
    for label, model in DOCUMENT_MODELS.items():
        render_ids = list(
            model._default_manager.filter(
                Q(status__in=[DocumentStatus.PENDING, DocumentStatus.QUEUED], updated_at__lt=lost)
                | Q(status=DocumentStatus.RENDERING, updated_at__lt=stuck)
            ).values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if render_ids:
            model._default_manager.filter(pk__in=render_ids).exclude(status=DocumentStatus.DONE).update(
                status=DocumentStatus.QUEUED, queued_at=moment, updated_at=moment
            )
        email_ids = list(
            model._default_manager.filter(status=DocumentStatus.DONE)
            .filter(
                Q(email_status=EmailStatus.PENDING, updated_at__lt=lost)
                | Q(email_status=EmailStatus.SENDING, updated_at__lt=stuck)
            )
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if email_ids:
            model._default_manager.filter(pk__in=email_ids).update(email_status=EmailStatus.PENDING, updated_at=moment)
        for document_id in render_ids:
            enqueue_render(document_id, label)
        for document_id in email_ids:
            enqueue_email(document_id, label)
        total += len(render_ids) + len(email_ids)
    return total
