"""Export requests: validate, record the job and its audit entry, and name the worker task after commit.

The worker (``worker/exports.py``) writes and stores the file. Small ranges
can also be streamed straight to the caller (``export_stream_query``) with
the same query and writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from backend.audit import audit_record
from backend.models import User
from backend.outbox import enqueue_on_commit
from backend.transactions import change_transaction
from billing.errors import ExportRefused
from billing.exports.queries import IMPORT_FORMATS, IMPORT_KINDS, ExportQuery, export_query
from billing.models import ExportFormat, ExportJob, ExportKind, ExportStatus, export_filename
from scheduling.models import Location
from scheduling.selectors import locations_for

RUN_TASK = "worker.tasks.exports.export_run_task"
MAX_RANGE_DAYS = 3660


@dataclass(frozen=True)
class ExportSpec:
    kind: str
    format: str
    date_from: date
    date_to: date
    location: Location | None = None
    bom: bool = False

    @property
    def filename(self) -> str:
        return export_filename(self.kind, self.format, self.date_from, self.date_to)

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind, "format": self.format, "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(), "location": str(self.location.public_id) if self.location else None,
            "bom": self.bom,
        }  # fmt: skip


def export_validate(spec: ExportSpec) -> None:
    if spec.kind not in ExportKind.values:
        raise ExportRefused(f"Unknown export kind {spec.kind!r}.", errors={"kind": ["Unknown kind."]})
    if spec.format not in ExportFormat.values:
        raise ExportRefused(f"Unknown format {spec.format!r}.", errors={"format": ["Unknown format."]})
    if spec.format in IMPORT_FORMATS and spec.kind not in IMPORT_KINDS:
        raise ExportRefused(
            f"{ExportFormat(spec.format).label} is an invoice import; export invoices or invoice lines with it.",
            errors={"format": [f"Only for kind {' or '.join(IMPORT_KINDS)}."]},
        )
    if spec.date_to < spec.date_from:
        raise ExportRefused("The range ends before it starts.", errors={"to": ["Must be on or after from."]})
    if (spec.date_to - spec.date_from).days > MAX_RANGE_DAYS:
        raise ExportRefused("Export at most ten years at a time.", errors={"to": ["Range too long."]})


def export_location_ids(user: User, location: Location | None) -> list[int]:
    """The locations an export by ``user`` may include: the chosen one, or all the user's."""
    allowed = locations_for(user)
    if location is not None:
        allowed = allowed.filter(pk=location.pk)
    return list(allowed.values_list("pk", flat=True))


def export_query_for_job(job: ExportJob) -> ExportQuery:
    return export_query(
        kind=job.kind, format=job.format, date_from=job.date_from, date_to=job.date_to,
        location_ids=export_location_ids(job.requested_by, job.location),
    )  # fmt: skip


@change_transaction()
def export_request(*, actor: User, spec: ExportSpec, ip: str | None) -> ExportJob:
    """Record the job and its audit entry; the worker picks it up after commit."""
    export_validate(spec)
    job = ExportJob.objects.create(
        kind=spec.kind, format=spec.format, date_from=spec.date_from, date_to=spec.date_to, location=spec.location,
        bom=spec.bom, requested_by=actor,
    )  # fmt: skip
    audit_record(actor=actor, action="export", object_type="export", object_id=str(job.public_id), ip=ip,
                 details=spec.describe())  # fmt: skip
    enqueue_on_commit(RUN_TASK, job.pk, queue="exports")
    return job


def export_stream_query(*, actor: User, spec: ExportSpec, ip: str | None) -> ExportQuery:
    """The query for a direct download, after validation; the audit entry is written here."""
    export_validate(spec)
    query = export_query(
        kind=spec.kind, format=spec.format, date_from=spec.date_from, date_to=spec.date_to,
        location_ids=export_location_ids(actor, spec.location),
    )  # fmt: skip
    audit_record(actor=actor, action="export", object_type="export", ip=ip, details={**spec.describe(), "stream": True},
                 patients=export_patients(query))  # fmt: skip
    return query


def export_downloaded(*, actor: User, job: ExportJob, ip: str | None) -> None:
    """The download is where the data leaves: recorded with every patient the export's rows name (as the
    records stand at download)."""
    audit_record(actor=actor, action="download", object_type="export", object_id=str(job.public_id), ip=ip,
                 patients=export_patients(export_query_for_job(job)))  # fmt: skip


def export_patients(query: ExportQuery) -> set[UUID]:
    with connection.cursor() as cursor:
        cursor.execute(query.patients_sql, query.params)
        return {row[0] for row in cursor.fetchall()}


def export_retention_end(finished: datetime) -> datetime:
    return finished + timedelta(days=settings.EXPORT_RETENTION_DAYS)


def exports_expire(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their retention; the job rows stay (status ``expired``)."""
    moment = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=moment).only("pk", "file"):
        if job.file.name:
            default_storage.delete(job.file.name)
        expired += ExportJob.objects.filter(pk=job.pk, status=ExportStatus.DONE).update(
            status=ExportStatus.EXPIRED, file="", updated_at=moment
        )
    return expired
