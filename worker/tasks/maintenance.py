"""Operational tasks: the worker heartbeat, the daily audit trail check, the daily maintenance suggestions."""

from __future__ import annotations

from celery import Task

from backend.audit_chain import check_and_alert
from backend.heartbeat import heartbeat_answer, heartbeat_request
from outcomes.services.invites import follow_up_invites_sweep
from outcomes.services.maintenance import suggestions_sweep
from worker.celery import app


@app.task(bind=True, acks_late=True)
def heartbeat_answer_task(self: Task, heartbeat_id: int) -> None:
    heartbeat_answer(heartbeat_id=heartbeat_id, worker_name=self.request.hostname or "unknown")


@app.task
def heartbeat_emit_task() -> None:
    heartbeat = heartbeat_request()
    heartbeat_answer_task.delay(heartbeat.pk)


@app.task
def audit_verify_task() -> bool:
    return check_and_alert().intact


@app.task
def maintenance_suggestions_sweep_task() -> int:
    """The daily check of the time rule of the clinics' maintenance policies (outcomes.services.maintenance)."""
    return suggestions_sweep()


@app.task
def follow_up_invites_task() -> int:
    """Invite patients whose follow-up check-in form is due (outcomes.services.invites)."""
    return follow_up_invites_sweep()
