"""Services for the worker heartbeat (see ``WorkerHeartbeat``)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from backend.models import WorkerHeartbeat

KEEP_FOR = timedelta(days=1)


@transaction.atomic
def heartbeat_request() -> WorkerHeartbeat:
    """Record a heartbeat request and prune old ones."""
    WorkerHeartbeat.objects.filter(requested_at__lt=timezone.now() - KEEP_FOR).delete()
    return WorkerHeartbeat.objects.create()


def heartbeat_answer(*, heartbeat_id: int, worker_name: str) -> bool:
    """Mark a heartbeat answered; idempotent, returns False if it was already answered or is gone."""
    updated = WorkerHeartbeat.objects.filter(pk=heartbeat_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=worker_name
    )
    return updated == 1
