"""Busy time for a calendar: every blocking hold of a location's chairs, some staff and some patients.

One statement for all three, run often (availability, single bookings,
series): the SQL is written once from the models' metadata instead of being
composed by the ORM for every calendar, which cost several times the query.
Instants come back as epoch seconds, which load far faster than timestamptz
and compare just as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from backend import sql
from scheduling.models import BLOCKING_STATUSES, MAX_HOLD, Appointment, AppointmentStaff

# What a row holds busy: a chair or room, a staff member, a patient.
RESOURCE, STAFF, PATIENT = "resource", "staff", "patient"


def _names(model: Any, *fields: str) -> list[str]:
    return [sql.table(model), *(sql.column(model, name) for name in fields)]


@cache  # built on first use, when the models are ready
def _statement() -> str:
    visits, location, resource, patient, pk, status, start, hold_until = _names(
        Appointment, "location", "resource", "patient", "id", "status", "start", "hold_until"
    )
    parts, staff, appointment, part_start, part_end, blocking = _names(
        AppointmentStaff, "staff", "appointment", "start", "end", "is_blocking"
    )
    # Bounded below through MAX_HOLD, so the (location|patient, start) indexes read only the days asked about.
    held = (
        f"{status} = ANY(%(statuses)s) AND {start} > %(earliest)s AND {start} < %(until)s AND {hold_until} > %(since)s"
    )
    epoch = "EXTRACT(EPOCH FROM {})::double precision"
    return (
        f"SELECT '{RESOURCE}', {resource}, {pk}, {epoch.format(start)}, {epoch.format(hold_until)} "  # noqa: S608
        f"FROM {visits} WHERE {location} = %(location)s AND {held} "
        f"UNION ALL SELECT '{STAFF}', {staff}, {appointment}, {epoch.format(part_start)}, {epoch.format(part_end)} "
        f"FROM {parts} WHERE {staff} = ANY(%(staff)s) AND {blocking} "
        f"AND {part_start} > %(earliest)s AND {part_start} < %(until)s AND {part_end} > %(since)s "
        f"UNION ALL SELECT '{PATIENT}', {patient}, {pk}, {epoch.format(start)}, {epoch.format(hold_until)} "
        f"FROM {visits} WHERE {patient} = ANY(%(patients)s) AND {held} "
        "ORDER BY 4"
    )


def busy_rows(
    *,
    location_id: int | None,
    staff_ids: Sequence[int],
    patient_ids: Sequence[int],
    since: datetime,
    until: datetime,
) -> list[tuple[str, int, int, float, float]]:
    """``(kind, owner id, appointment id, start, end)`` of every hold overlapping ``[since, until)``, by start.

    Chairs' holds at the location (visit plus recovery), the staff's blocking
    assignments anywhere and the patients' holds anywhere.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _statement(),
            {
                "location": location_id, "staff": list(staff_ids), "patients": list(patient_ids),
                "statuses": list(BLOCKING_STATUSES), "since": since, "until": until, "earliest": since - MAX_HOLD,
            },
        )  # fmt: skip
        return cursor.fetchall()
