"""Export jobs with a real worker and broker: progress only moves forward, and a killed worker's job is retried
and completes with the whole file, never a half file marked done."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from rest_framework.test import APIClient

from bench.ledger import bulk_issued_lines
from billing.models import ExportJob, ExportStatus
from tests.processes import CeleryWorker, wait_for
from tests.scheduling.conftest import Clinic, make_clinic
from worker.exports import exports_sweep
from worker.tasks.exports import export_run_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
INVOICES = 8_000  # 24,000 lines: a few seconds of XLSX writing


@pytest.fixture
def big_ledger() -> tuple[Clinic, int]:
    clinic = make_clinic()
    lines = bulk_issued_lines(location_id=clinic.location.pk, patient_ids=[clinic.patient.pk, clinic.patient2.pk],
                              currency="USD", invoices=INVOICES, issued_at=timezone.now())  # fmt: skip
    return clinic, lines


@pytest.fixture
def workers() -> Iterator[list[CeleryWorker]]:
    """Every worker a test starts is stopped when it ends, whether it passed or not."""
    started: list[CeleryWorker] = []
    yield started
    for worker in started:
        worker.stop()


def exports_worker(workers: list[CeleryWorker], media: Path, log: Path) -> CeleryWorker:
    worker = CeleryWorker(queues="exports", log_path=log,
                          extra_env={"MEDIA_ROOT": str(media), "EXPORT_PROGRESS_INTERVAL": "0"})  # fmt: skip
    workers.append(worker)
    return worker.start()


def start_export(clinic: Clinic) -> tuple[APIClient, str]:
    client = clinic.client(clinic.accountant)
    today = str(timezone.localdate(timezone=clinic.location.zone))  # the export's dates are the location's
    response = client.post("/api/v1/exports/", {"kind": "invoice_lines", "format": "xlsx", "from": today,
                                                "to": today}, format="json")  # fmt: skip
    assert response.status_code == 202, response.content
    return client, response.json()["id"]


def xlsx_data_rows(job: ExportJob) -> int:
    with default_storage.open(job.file.name, "rb") as handle:
        workbook = openpyxl.load_workbook(io.BytesIO(handle.read()), read_only=True)
    return sum(sum(1 for _ in sheet.iter_rows(values_only=True)) - 1 for sheet in workbook.worksheets)


def test_progress_moves_forward_to_100_and_the_row_count_is_right(
    big_ledger: tuple[Clinic, int], media: Path, tmp_path: Path, workers: list[CeleryWorker]
) -> None:
    clinic, lines = big_ledger
    worker = exports_worker(workers, media, tmp_path / "worker.log")
    try:
        client, job_id = start_export(clinic)
        seen: list[int] = []
        deadline = time.monotonic() + 300  # generous: a loaded CI machine starts workers slowly
        while time.monotonic() < deadline:
            body = client.get(f"/api/v1/exports/{job_id}/").json()
            seen.append(body["progress"])
            if body["status"] in ("done", "failed"):
                break
            time.sleep(0.05)
    finally:
        worker.stop()

    assert body["status"] == "done", body
    assert seen == sorted(seen)
    assert seen[-1] == 100
    assert len({value for value in seen if 0 < value < 100}) >= 2, seen  # it was seen moving
    assert body["rows"] == body["rows_total"] == lines == INVOICES * 3
    assert xlsx_data_rows(ExportJob.objects.get(public_id=job_id)) == lines


def test_a_worker_killed_mid_export_leaves_a_job_that_is_retried_and_completes_whole(
    big_ledger: tuple[Clinic, int], media: Path, tmp_path: Path, workers: list[CeleryWorker]
) -> None:
    clinic, lines = big_ledger
    worker = exports_worker(workers, media, tmp_path / "worker1.log")
    _, job_id = start_export(clinic)
    job = ExportJob.objects.get(public_id=job_id)

    wait_for(lambda: ExportJob.objects.filter(pk=job.pk, rows_done__gt=0).exists(), timeout=60, interval=0.02)
    worker.kill()

    job.refresh_from_db()
    assert (job.status, job.file.name) == (ExportStatus.RUNNING, "")
    assert 0 < job.rows_done < lines
    assert not (media / "exports").exists() or not list((media / "exports").rglob("*.xlsx"))
    reached = job.rows_done

    # the beat sweep finds it stalled and hands it to a new worker
    later = timezone.now() + dt.timedelta(seconds=settings.EXPORT_STALL_TIMEOUT + 1)
    assert exports_sweep(enqueue=lambda pk: export_run_task.apply_async((pk,), queue="exports"), now=later) == 1
    worker = exports_worker(workers, media, tmp_path / "worker2.log")
    try:
        wait_for(lambda: ExportJob.objects.filter(pk=job.pk, status=ExportStatus.DONE).exists(), timeout=300)
    finally:
        worker.stop()

    job.refresh_from_db()
    assert (job.attempts, job.rows, job.progress) == (2, lines, 100)
    assert job.rows_done >= reached
    assert xlsx_data_rows(job) == lines
    assert [path.parent.name for path in (media / "exports").rglob("*.xlsx")] == ["2"]
