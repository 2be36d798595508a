"""Reminder tasks: thin callers of worker/reminders.py."""

from __future__ import annotations

from collections import Counter

from celery import Task

from scheduling.services.waitlist import slots_offer
from worker.celery import app
from worker.channels.base import TransientDeliveryError
from worker.reminders import reminders_deliver, reminders_dispatch


@app.task(
    bind=True, acks_late=True, reject_on_worker_lost=True, autoretry_for=(TransientDeliveryError,),
    retry_backoff=True, retry_backoff_max=600, retry_jitter=True, max_retries=6,
)  # fmt: skip
def reminder_deliver_task(self: Task, reminder_ids: list[int] | int) -> dict[str, int]:
    """Deliver a batch of reminders; a single id is a message enqueued before batches existed."""
    batch = [reminder_ids] if isinstance(reminder_ids, int) else reminder_ids
    outcomes = reminders_deliver(batch, worker=self.request.hostname or "")
    return dict(Counter(outcomes.values()))


@app.task(acks_late=True)
def reminders_dispatch_task() -> int:
    return reminders_dispatch(enqueue=reminder_deliver_task.delay)


@app.task
def waitlist_offers_task() -> int:
    """Offer freed visits to the waitlist (scheduling.services.waitlist); the dispatcher sends the offers."""
    return slots_offer()
