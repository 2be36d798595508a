"""The booking lock order: patient, then location, then the location's staff.

Every service that places appointments takes these transaction-scoped advisory
locks first, in this order and sorted within each kind. Bookings that could
collide (same patient, same location, shared staff) then run one after the
other instead of deadlocking on each other's exclusion-constraint checks; the
constraints stay the guarantee against anything that writes without them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from scheduling.booking.location_setup import LocationSetup

_NAMESPACE = {"patient": 1, "location": 2, "staff": 3}


def _key(kind: str, pk: int) -> int:
    return (_NAMESPACE[kind] << 56) | pk


def lock_booking_scope(*, patient_ids: Iterable[int], setups: Iterable[LocationSetup]) -> None:
    """Take the advisory locks for booking these patients at these locations (inside a transaction).

    The staff locked are the people working at the locations (from their current setups).
    """
    setups = list(setups)
    locations = sorted({setup.location_id for setup in setups})
    staff = sorted({pk for setup in setups for pk in setup.staff_ids})
    keys = (
        [_key("patient", pk) for pk in sorted(set(patient_ids))]
        + [_key("location", pk) for pk in locations]
        + [_key("staff", pk) for pk in staff]
    )
    if not keys:
        return
    # One statement; PostgreSQL evaluates the target list left to right, so the order holds.
    calls = ", ".join(["pg_advisory_xact_lock(%s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", keys)
