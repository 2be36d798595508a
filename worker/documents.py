"""Documents through the outbox: render each requested PDF once, store it, email it once.

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
from typing import NamedTuple

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from billing.models import Document, DocumentKind, DocumentStatus, EmailStatus
from worker.channels.base import OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from worker.channels.email import send_email
from worker.pdf import render

logger = logging.getLogger(__name__)
SWEEP_BATCH = 500
SUBJECTS = {
    DocumentKind.RECEIPT: "Your payment receipt from {clinic}",
    DocumentKind.REFUND_RECEIPT: "Your refund receipt from {clinic}",
    DocumentKind.INVOICE: "Your invoice from {clinic}",
    DocumentKind.SUPERBILL: "Your statement (superbill) from {clinic}",
}


def storage_name(document: Document) -> str:
    return f"documents/{document.kind}/{document.public_id}.pdf"


class Rendered(NamedTuple):
    status: str
    email_pending: bool = False  # the patient is to get it by email: the caller enqueues that


# Claim and load in one statement: the row moves pending/queued -> rendering and comes back.
CLAIM_SQL = f"""
UPDATE {Document._meta.db_table} SET status = 'rendering', attempts = attempts + 1, updated_at = %s
 WHERE id = %s AND status IN ('pending', 'queued')
RETURNING kind, public_id, payload, attempts, email_status"""  # noqa: S608 - the table name is the model's


def document_render(*, document_id: int) -> Rendered:
    """Render, store and mark done; safe to run twice."""
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, [timezone.now(), document_id])
        claimed = cursor.fetchone()
    if claimed is None:
        return Rendered("not-claimed")
    kind, public_id, payload, attempts, email_status = claimed
    document = Document(pk=document_id, kind=kind, public_id=public_id)
    try:
        pdf = render(payload if isinstance(payload, dict) else json.loads(payload))
    except Exception as error:  # a bad snapshot will not render on retry either
        logger.exception("document %s failed to render", document_id)
        Document.objects.filter(pk=document_id, status=DocumentStatus.RENDERING).update(
            status=DocumentStatus.FAILED, last_error=str(error)[:2000], updated_at=timezone.now()
        )
        return Rendered(DocumentStatus.FAILED)
    name = storage_name(document)
    if attempts > 1 and default_storage.exists(name):  # a retry after a crash: same name, same bytes
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(pdf))
    now = timezone.now()
    updated = Document.objects.filter(pk=document_id, status=DocumentStatus.RENDERING).update(
        status=DocumentStatus.DONE, file=stored, checksum=hashlib.sha256(pdf).hexdigest(), size=len(pdf),
        rendered_at=now, last_error="", updated_at=now,
    )  # fmt: skip
    if not updated:  # the sweep gave the row to another run meanwhile; that run finishes it
        return Rendered("not-claimed")
    return Rendered(DocumentStatus.DONE, email_pending=email_status == EmailStatus.PENDING)


def document_email(*, document_id: int) -> str:
    """Email a rendered document to its patient once. Raises TransientDeliveryError to be retried."""
    claimed = Document.objects.filter(
        pk=document_id, status=DocumentStatus.DONE, email_status=EmailStatus.PENDING
    ).update(email_status=EmailStatus.SENDING, updated_at=timezone.now())
    if not claimed:
        return "not-claimed"
    document = Document.objects.select_related("patient").get(pk=document_id)
    clinic = document.payload["clinic"]["name"]
    with default_storage.open(document.file.name, "rb") as handle:
        pdf = handle.read()
    message = OutgoingMessage(
        to=document.patient.email,
        subject=SUBJECTS[DocumentKind(document.kind)].format(clinic=clinic),
        text=f"Hello {document.patient.first_name},\n\nyour document from {clinic} is attached.\n\n{clinic}\n",
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


def _email_finish(document: Document, status: str, error: str) -> None:
    fields: dict[str, object] = {"email_status": status, "updated_at": timezone.now()}
    if status == EmailStatus.SENT:
        fields["emailed_at"] = timezone.now()
    if error:
        fields["last_error"] = error[:2000]
    Document.objects.filter(pk=document.pk, email_status=EmailStatus.SENDING).update(**fields)


def documents_sweep(
    *, enqueue_render: Callable[[int], object], enqueue_email: Callable[[int], object], now: datetime | None = None
) -> int:
    """Re-enqueue unfinished work whose message was lost or whose worker died; return how many."""
    moment = now or timezone.now()
    lost = moment - timedelta(seconds=settings.DOCUMENT_ENQUEUE_GRACE)
    stuck = moment - timedelta(seconds=settings.DOCUMENT_RENDER_TIMEOUT)
    render_ids = list(
        Document.objects.filter(
            Q(status__in=[DocumentStatus.PENDING, DocumentStatus.QUEUED], updated_at__lt=lost)
            | Q(status=DocumentStatus.RENDERING, updated_at__lt=stuck)
        ).values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if render_ids:
        Document.objects.filter(pk__in=render_ids).exclude(status=DocumentStatus.DONE).update(
            status=DocumentStatus.QUEUED, queued_at=moment, updated_at=moment
        )
    email_ids = list(
        Document.objects.filter(status=DocumentStatus.DONE)
        .filter(
            Q(email_status=EmailStatus.PENDING, updated_at__lt=lost)
            | Q(email_status=EmailStatus.SENDING, updated_at__lt=stuck)
        )
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if email_ids:
        Document.objects.filter(pk__in=email_ids).update(email_status=EmailStatus.PENDING, updated_at=moment)
    for document_id in render_ids:
        enqueue_render(document_id)
    for document_id in email_ids:
        enqueue_email(document_id)
    return len(render_ids) + len(email_ids)
