"""Benchmark 7: an export of 1,000,000 invoice lines through a real worker vs PostgreSQL's own COPY.

Ours: the job is recorded as the API records it and run by a ``celery worker
--pool solo`` process (one process, so its RSS is the worker's memory):
claim, count, COPY into a temporary file, hash, store, mark done. Baseline:
``psql -c "COPY (same query) TO STDOUT WITH (FORMAT csv)" > file``, the same
SQL with the same parameters inlined, in the same run. Rate ratio = our
rows/s over COPY's rows/s (target >= 0.5); worker RSS sampled every 0.2 s
(target < 200 MB throughout).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
import time

import psycopg
from django.contrib.auth.models import Group
from django.db import connection

from backend import embedded
from backend.models import User
from bench import stack
from bench.dataset import Dataset
from bench.harness import Result
from bench.ledger import bulk_issued_lines
from billing.models import ExportJob, ExportStatus
from billing.services.exports import ExportSpec, export_query_for_job, export_request

EXPORT_DAY = dt.date(2026, 3, 16)  # a day of its own: nothing else in the benchmark clinic is issued then
ISSUED_AT = dt.datetime(2026, 3, 16, 15, tzinfo=dt.UTC)


def _psql() -> str:
    return shutil.which("psql") or str(embedded.postgres_bin("psql"))


def _copy_baseline(job: ExportJob) -> tuple[float, int]:
    """Seconds and bytes for psql's COPY of the job's own query to a file."""
    query = export_query_for_job(job)
    connection.ensure_connection()
    with psycopg.ClientCursor(connection.connection) as cursor:
        literal = cursor.mogrify(query.sql, query.params)
    with tempfile.NamedTemporaryFile(prefix="bench-copy-", suffix=".csv") as out:
        started = time.perf_counter()
        subprocess.run([_psql(), os.environ["DATABASE_URL"], "-X", "-q", "-c",
                        f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)"], stdout=out, check=True)  # fmt: skip
        seconds = time.perf_counter() - started
        return seconds, os.path.getsize(out.name)


def run(data: Dataset, *, lines: int) -> Result:
    accountant = User.objects.create(username="bench-accountant")
    accountant.groups.add(Group.objects.get(name="accountant"))
    data.location.group.members.add(accountant)
    written = bulk_issued_lines(location_id=data.location.pk, patient_ids=[p.pk for p in data.patients],
                                currency="USD", invoices=-(-lines // 3), issued_at=ISSUED_AT)  # fmt: skip
    connection.cursor().execute("ANALYZE")
    media = tempfile.mkdtemp(prefix="bench-media-")
    rss: list[int] = []
    with stack.celery_worker("exports", pool=("--pool", "solo"), env={"MEDIA_ROOT": media}) as worker:
        spec = ExportSpec(kind="invoice_lines", format="csv", date_from=EXPORT_DAY, date_to=EXPORT_DAY,
                          location=data.location)  # fmt: skip
        started = time.perf_counter()
        job = export_request(actor=accountant, spec=spec, ip=None)
        deadline = started + 1800
        while time.perf_counter() < deadline:
            rss.append(stack.rss_kb([worker.pid]))
            status = ExportJob.objects.filter(pk=job.pk).values_list("status", flat=True).get()
            if status in (ExportStatus.DONE, ExportStatus.FAILED):
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    job.refresh_from_db()
    baseline_seconds, baseline_bytes = _copy_baseline(job)
    rows = job.rows or 0
    ratio = (rows / seconds) / (written / baseline_seconds)
    peak = max(rss) / 1024
    shutil.rmtree(media, ignore_errors=True)
    return Result(
        name="7. invoice-line export", workload=f"{written:,} invoice lines to CSV, 1 worker process (solo pool)",
        median_ms=round(seconds * 1000, 1), p95_ms=None, baseline="psql COPY (same query) TO STDOUT, CSV",
        baseline_median_ms=round(baseline_seconds * 1000, 1), ratio=round(ratio, 3),
        target="rate ratio >= 0.5, worker RSS < 200 MB", met=job.status == "done" and rows == written
        and ratio >= 0.5 and peak < 200,
        extra={"rows": rows, "status": job.status, "file_bytes": job.size, "copy_bytes": baseline_bytes,
               "worker_seconds": round(seconds, 2), "copy_seconds": round(baseline_seconds, 2),
               "worker_rss_mb_peak": round(peak, 1), "worker_rss_mb_first": round(rss[0] / 1024, 1)},
        note=f"{rows:,} rows in {seconds:.1f} s vs COPY {baseline_seconds:.1f} s; worker RSS peak {peak:.0f} MB; "
        "ms columns are whole-export times, ratio is rate/rate",
    )  # fmt: skip
