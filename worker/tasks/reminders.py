"""Reminder tasks: thin callers of worker/reminders.py."""

from __future__ import annotations

from celery import Task

from worker.celery import app
from worker.channels.base import TransientDeliveryError
from worker.reminders import reminder_deliver, reminders_dispatch


@app.task(
    bind=True, acks_late=True, reject_on_worker_lost=True, autoretry_for=(TransientDeliveryError,),
    retry_backoff=True, retry_backoff_max=600, retry_jitter=True, max_retries=6,
)  # fmt: skip
def reminder_deliver_task(self: Task, reminder_id: int) -> str:
    return reminder_deliver(reminder_id=reminder_id, worker=self.request.hostname or "")


@app.task(acks_late=True)
def reminders_dispatch_task() -> int:
    return reminders_dispatch(enqueue=reminder_deliver_task.delay)
