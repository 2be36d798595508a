"""The real pipeline: committed data -> broker -> worker process -> database."""

from __future__ import annotations

import pytest

from backend.heartbeat import heartbeat_request
from backend.models import WorkerHeartbeat
from tests.processes import CeleryWorker, wait_for
from worker.tasks.maintenance import heartbeat_answer_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_process_answers_a_task_enqueued_from_committed_data(celery_worker: CeleryWorker) -> None:
    # given a committed heartbeat request
    heartbeat = heartbeat_request()

    # when its task goes through the real broker to the real worker process
    heartbeat_answer_task.delay(heartbeat.pk)

    # then the worker's write is visible in the database
    def answered() -> bool:
        return WorkerHeartbeat.objects.filter(pk=heartbeat.pk, answered_at__isnull=False).exists()

    wait_for(answered, timeout=60)
    heartbeat.refresh_from_db()
    assert heartbeat.answered_by.startswith("test-")
    assert celery_worker.process is not None
    assert celery_worker.process.poll() is None
