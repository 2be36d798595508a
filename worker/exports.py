"""Export jobs through the outbox: write the whole file, store it, then mark the job done.

- ``export_run`` claims a pending job (pending -> running, ``attempts`` + 1),
  opens its own read-only REPEATABLE READ connection so the file is one
  consistent snapshot, counts the rows, writes them to a temporary file while
  recording progress, stores the finished file and marks the job done. Every
  write after the claim is conditional on (running, this attempt): a run that
  lost its claim to a retry cannot touch the job, and its file is removed.
- A killed worker leaves the job ``running`` with an old ``updated_at``;
  ``exports_sweep`` (beat) hands it back to ``pending`` and enqueues it again.
  The temporary file of the dead run is gone with its process, and nothing is
  in storage under the job until a run completes: never a half file marked done.
- Progress only moves forward: a retry restarts the count, and
  ``rows_done`` keeps the highest value reached until the retry passes it.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import psycopg
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from billing.exports.writers import count_rows, write_export
from billing.models import ExportJob, ExportStatus
from billing.services.exports import export_query_for_job, export_retention_end, exports_expire

logger = logging.getLogger(__name__)
SWEEP_BATCH = 100
HASH_CHUNK = 1 << 20


class LostClaim(Exception):
    """Another run owns the job now (the sweep gave it to a retry)."""


@contextmanager
def snapshot_cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A cursor on a connection of its own, in one read-only REPEATABLE READ transaction."""
    wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        wrapper.ensure_connection()
        raw: psycopg.Connection[Any] = wrapper.connection
        with raw.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield cursor
            cursor.execute("COMMIT")
    finally:
        wrapper.close()


class ProgressRecorder:
    """Record rows done at most every ``interval`` seconds; raise LostClaim when the fence no longer holds."""

    def __init__(self, fence: QuerySet[ExportJob], interval: float) -> None:
        self.fence = fence
        self.interval = interval
        self.last = time.monotonic()

    def __call__(self, rows: int) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        if not self.fence.update(rows_done=Greatest(F("rows_done"), rows), updated_at=timezone.now()):
            raise LostClaim


def _sha256(handle: BinaryIO) -> str:
    handle.seek(0)
    digest = hashlib.sha256()
    while chunk := handle.read(HASH_CHUNK):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _write_and_store(job: ExportJob, fence: QuerySet[ExportJob]) -> dict[str, Any]:
    query = export_query_for_job(job)
    with snapshot_cursor() as cursor, tempfile.TemporaryFile() as out:
        total = count_rows(cursor, query)
        if not fence.update(rows_total=total, updated_at=timezone.now()):
            raise LostClaim
        progress = ProgressRecorder(fence, settings.EXPORT_PROGRESS_INTERVAL)
        rows = write_export(out, cursor, query, format=job.format, bom=job.bom, on_progress=progress)
        size = out.tell()
        checksum = _sha256(out)
        name = default_storage.save(f"exports/{job.public_id}/{job.attempts}/{job.filename}", File(out))
    return {"file": name, "rows": rows, "checksum": checksum, "size": size}


def export_run(*, job_id: int) -> str:
    """Run one export job; safe to call twice. Returns the resulting status."""
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.RUNNING, attempts=F("attempts") + 1, started_at=now, updated_at=now
    )
    if not claimed:
        return "not-claimed"
    job = ExportJob.objects.select_related("requested_by", "location").get(pk=job_id)
    fence = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING, attempts=job.attempts)
    try:
        result = _write_and_store(job, fence)
    except LostClaim:
        return "lost-claim"
    except Exception as error:
        logger.exception("export %s failed (attempt %s)", job.public_id, job.attempts)
        status = ExportStatus.FAILED if job.attempts >= settings.EXPORT_MAX_ATTEMPTS else ExportStatus.PENDING
        fence.update(status=status, last_error=str(error)[:2000], updated_at=timezone.now())
        return status
    finished = timezone.now()
    done = fence.update(
        status=ExportStatus.DONE, rows_done=result["rows"], rows_total=result["rows"], finished_at=finished,
        expires_at=export_retention_end(finished), last_error="", updated_at=finished, **result,
    )  # fmt: skip
    if not done:  # a retry took over while we were storing: its file wins
        default_storage.delete(result["file"])
        return "lost-claim"
    return ExportStatus.DONE


def exports_sweep(*, enqueue: Callable[[int], object], now: datetime | None = None) -> int:
    """Re-enqueue jobs whose message was lost or whose worker died; expire old files. Returns jobs enqueued."""
    moment = now or timezone.now()
    lost = moment - timedelta(seconds=settings.EXPORT_ENQUEUE_GRACE)
    stalled = moment - timedelta(seconds=settings.EXPORT_STALL_TIMEOUT)
    candidates = ExportJob.objects.filter(
        Q(status=ExportStatus.PENDING, updated_at__lt=lost) | Q(status=ExportStatus.RUNNING, updated_at__lt=stalled)
    ).values_list("pk", "status", "attempts")[:SWEEP_BATCH]
    enqueued = []
    for pk, status, attempts in candidates:
        same = ExportJob.objects.filter(pk=pk, status=status, attempts=attempts)
        if status == ExportStatus.RUNNING and attempts >= settings.EXPORT_MAX_ATTEMPTS:
            same.update(status=ExportStatus.FAILED, last_error="The worker stopped responding.", updated_at=moment)
            continue
        if same.update(status=ExportStatus.PENDING, updated_at=moment):
            enqueued.append(pk)
    for pk in enqueued:
        enqueue(pk)
    exports_expire(now=moment)
    return len(enqueued)
