"""Document tasks: thin callers of worker/documents.py. ``label`` names the document's model
(``worker.documents.DOCUMENT_MODELS``); billing's documents are the default."""

from __future__ import annotations

from worker.celery import app
from worker.channels.base import TransientDeliveryError
from worker.documents import BILLING, document_email, document_render, documents_sweep


@app.task(acks_late=True, reject_on_worker_lost=True)
def document_render_task(document_id: int, label: str = BILLING) -> str:
    rendered = document_render(document_id=document_id, label=label)
    if rendered.email_pending:
        document_email_task.apply_async((document_id, label), queue="documents")
    return rendered.status


@app.task(
    acks_late=True, reject_on_worker_lost=True, autoretry_for=(TransientDeliveryError,), retry_backoff=True,
    retry_backoff_max=600, retry_jitter=True, max_retries=6,
)  # fmt: skip
def document_email_task(document_id: int, label: str = BILLING) -> str:
    return document_email(document_id=document_id, label=label)


@app.task(acks_late=True)
def documents_sweep_task() -> int:
    return documents_sweep(
        enqueue_render=lambda pk, label: document_render_task.apply_async((pk, label), queue="documents"),
        enqueue_email=lambda pk, label: document_email_task.apply_async((pk, label), queue="documents"),
    )
