"""Running a report for a user: the user's locations only, and an audit entry naming what was asked.

The API (``billing/api/reports.py``) and the console's reports call this; ``billing/reports.py`` holds the SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from django.utils import timezone

from backend.audit import audit_record
from backend.models import User
from billing import reports
from billing.services.exports import export_location_ids

Builder = Callable[[dict[str, Any], Sequence[int]], reports.Report]


def _as_of(params: dict[str, Any]) -> date:
    return params.get("as_of") or timezone.localdate()


BUILDERS: dict[str, Builder] = {
    "revenue": lambda params, ids: reports.revenue(date_from=params["from"], date_to=params["to"], location_ids=ids),
    "ar_aging": lambda params, ids: reports.ar_aging(as_of=_as_of(params), location_ids=ids),
    "daily_close": lambda params, ids: reports.daily_close(
        date_from=params["from"], date_to=params["to"], location_ids=ids
    ),
    "package_liability": lambda params, ids: reports.package_liability(as_of=_as_of(params), location_ids=ids),
}


def report_run(*, actor: User, name: str, params: dict[str, Any], ip: str | None) -> reports.Report:
    """Report ``name`` over ``params`` (validated: dates, an optional ``location`` of the user's)."""
    location = params.get("location")
    report = BUILDERS[name](params, export_location_ids(actor, location))
    details = {**report.parameters, "location": str(location.public_id) if location else None}
    patients = {row["patient_id"] for row in report.rows if row.get("patient_id")}  # AR aging, package liability
    audit_record(actor=actor, action="report", object_type=report.name, ip=ip, details=_plain(details),
                 patients=patients)  # fmt: skip
    return report


def _plain(details: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in details.items()}
