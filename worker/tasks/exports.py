"""Export tasks: thin callers of worker/exports.py."""

from __future__ import annotations

from worker.celery import app
from worker.exports import export_run, exports_sweep


@app.task(acks_late=True, reject_on_worker_lost=True)
def export_run_task(job_id: int) -> str:
    return export_run(job_id=job_id)


@app.task(acks_late=True)
def exports_sweep_task() -> int:
    return exports_sweep(enqueue=lambda pk: export_run_task.apply_async((pk,), queue="exports"))
