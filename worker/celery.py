"""The Celery app: configuration from Django settings, queues and the beat schedule.

Run with ``celery -A worker worker`` and ``celery -A worker beat``.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fix-up closes the database connection around every task unless this is set: a new
# PostgreSQL connection per task costs a few milliseconds, as much as rendering a receipt. With it, the
# fix-up recycles the connection every WORKER_DB_REUSE_MAX tasks, and between tasks Django's own rule
# applies, as after a web request: close it when it is broken or older than CONN_MAX_AGE.
app.conf.update(CELERY_DB_REUSE_MAX=int(os.environ.get("WORKER_DB_REUSE_MAX", "500")))


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_unusable_database_connections(**kwargs: Any) -> None:
    from django.db import close_old_connections

    close_old_connections()


QUEUES = ("default", "reminders", "documents", "exports")
app.conf.task_queues = tuple(Queue(name) for name in QUEUES)
app.conf.task_routes = {
    "worker.tasks.reminders.*": {"queue": "reminders"},
    "worker.tasks.documents.*": {"queue": "documents"},
    "worker.tasks.exports.*": {"queue": "exports"},
}
app.conf.beat_schedule = {
    "heartbeat": {"task": "worker.tasks.maintenance.heartbeat_emit_task", "schedule": 60.0},
    "audit-verify": {"task": "worker.tasks.maintenance.audit_verify_task", "schedule": crontab(hour=3, minute=17)},
    "follow-up-invites": {"task": "worker.tasks.maintenance.follow_up_invites_task", "schedule": crontab(minute=7)},
    "maintenance-suggestions": {
        "task": "worker.tasks.maintenance.maintenance_suggestions_sweep_task",
        "schedule": crontab(hour=10, minute=23),
    },
    "reminders-dispatch": {
        "task": "worker.tasks.reminders.reminders_dispatch_task",
        "schedule": 30.0,
        "options": {"queue": "reminders", "expires": 25},
    },
    "waitlist-offers": {
        "task": "worker.tasks.reminders.waitlist_offers_task",
        "schedule": 30.0,
        "options": {"queue": "reminders", "expires": 25},
    },
    "documents-sweep": {
        "task": "worker.tasks.documents.documents_sweep_task",
        "schedule": 30.0,
        "options": {"queue": "documents", "expires": 25},
    },
    "exports-sweep": {
        "task": "worker.tasks.exports.exports_sweep_task",
        "schedule": 30.0,
        "options": {"queue": "exports", "expires": 25},
    },
}
app.autodiscover_tasks(["worker"])
