"""Receipts through the outbox with a real worker, a real broker and a real SMTP server, while things break."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from pytest_django import Settings as DjangoSettings

from backend import outbox
from backend.mailsink import start_sink
from backend.models import DocumentStatus, EmailStatus
from billing.models import Document
from billing.services.invoices import LineSpec, invoice_create, invoice_issue
from billing.services.payments import payment_record
from tests.factories import PatientFactory
from tests.integration.test_reminder_delivery import stored_message_ids
from tests.processes import CeleryWorker, RedisServer, free_port, wait_for
from tests.scheduling.conftest import make_clinic
from worker.celery import app
from worker.documents import documents_sweep
from worker.tasks.documents import document_email_task, document_render_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
RECEIPTS = 12


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    port = free_port()
    controller = start_sink(tmp_path / "mail", port=port)
    yield tmp_path / "mail", port
    controller.stop()


@pytest.fixture
def private_broker(private_redis: RedisServer, settings: DjangoSettings) -> Iterator[RedisServer]:
    """The web side sends to a Redis of this test's own (which the test stops and starts)."""
    settings.CELERY_BROKER_URL = private_redis.url
    outbox.reset()
    yield private_redis
    outbox.reset()


def documents_worker(broker: RedisServer, media: Path, sink_port: int, log: Path) -> CeleryWorker:
    return CeleryWorker(
        queues="documents", broker_url=broker.url, log_path=log,
        extra_env={"MEDIA_ROOT": str(media), "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                   "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(sink_port)},
    ).start()  # fmt: skip


def take_payments(count: int) -> list[int]:
    clinic = make_clinic()
    line = LineSpec(description="Infusion", code="96365", quantity=Decimal(1), unit_price=Decimal("450.00"))
    ids = []
    for _ in range(count):
        patient = PatientFactory(group=clinic.group)
        invoice = invoice_create(actor=None, patient=patient, location=clinic.location, lines=[line])
        invoice_issue(actor=None, invoice=invoice)
        ids.append(payment_record(actor=None, invoice=invoice, amount=Decimal("450.00"), method="card").pk)
    return ids


def sweep_into(broker: RedisServer) -> int:
    """What the beat sweep does, sending to ``broker``."""

    def send(task: object, document_id: int, label: str) -> None:
        with app.connection_for_write(broker.url) as connection:
            task.apply_async((document_id, label), connection=connection, retry=False)  # type: ignore[attr-defined]

    return documents_sweep(
        enqueue_render=lambda pk, label: send(document_render_task, pk, label),
        enqueue_email=lambda pk, label: send(document_email_task, pk, label),
        now=timezone.now() + dt.timedelta(hours=1),
    )


def test_receipts_written_while_the_broker_is_down_and_a_worker_killed_mid_run_are_each_rendered_and_emailed_once(
    private_broker: RedisServer, media: Path, sink: tuple[Path, int], tmp_path: Path
) -> None:
    mail_dir, sink_port = sink

    # given payments committed while the broker is down: their receipts wait as pending rows
    private_broker.stop()
    take_payments(RECEIPTS // 2)
    outbox.flush()
    assert Document.objects.filter(status=DocumentStatus.PENDING).count() == (RECEIPTS // 2) * 2  # invoice + receipt

    # when the broker returns, a worker starts, more payments come in, and the worker is killed mid-run
    private_broker.start()
    outbox.reset()
    worker = documents_worker(private_broker, media, sink_port, tmp_path / "worker1.log")
    take_payments(RECEIPTS // 2)
    sweep_into(private_broker)
    wait_for(lambda: Document.objects.filter(status=DocumentStatus.DONE).exists(), timeout=60)
    worker.kill()
    time.sleep(0.5)

    # and a new worker plus the beat sweep pick up whatever was lost or left half-done
    worker = documents_worker(private_broker, media, sink_port, tmp_path / "worker2.log")
    try:

        def finished() -> bool:
            sweep_into(private_broker)
            unfinished = Document.objects.exclude(status=DocumentStatus.DONE).exists()
            return not unfinished and not Document.objects.exclude(email_status=EmailStatus.SENT).exists()

        wait_for(finished, timeout=120, interval=1.0)
    finally:
        worker.stop()

    # then every document is stored with its checksum and reached the patient exactly once
    documents = list(Document.objects.all())
    assert len(documents) == RECEIPTS * 2
    for document in documents:
        stored = default_storage.open(document.file.name).read()
        assert hashlib.sha256(stored).hexdigest() == document.checksum
    delivered = Counter(stored_message_ids(mail_dir))
    expected = {f"doc-{document.public_id}" for document in documents}
    assert {key.strip("<>").split("@")[0] for key in delivered} == expected
    assert set(delivered.values()) == {1}
