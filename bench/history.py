"""Years of history around the benchmark clinic, generated in SQL (``generate_series``) from fixed rules.

The sizes (docs/performance.md, "Scale"):

- S: the benchmark clinic (one location, 6,000 patients) with half a year behind it: 20k past visits, 10k
  invoices, 100k audit rows, 10k sent reminders (so every path does the same work at every size);
- M: 10 locations, 50k patients, 500k past visits, 300k invoices, 2M audit rows, 250k sent reminders;
- L: 20 locations, 100k patients, 2M past visits, 1M invoices, 10M audit rows, 1M sent reminders.

:func:`grow` adds what a size has and the database lacks, so S, M and L are measured on one database in turn.
Rows are what the app writes: past visits (one in 25 cancelled) with their nurse, an invoice of three lines for
each completed visit up to the size's count (one in 50 of the last 60 days still open, the rest paid by card),
a sent email reminder per visit and audit events spread over the patients. Past visits sit on a grid of
100-minute slots reaching back from yesterday, one per chair per slot, each patient at most once per slot, so
the database's overlap constraints hold by construction. Every value follows from the row's number (``md5``
for ids): the same size is the same data on every run. Triggers are off while loading
(``session_replication_role``), as in a restore: the rows are consistent by construction, and the guards
would only slow the load.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection

from bench.dataset import Dataset
from scheduling.models import Location, Patient, Resource, ResourceKind, StaffMember, StaffRole

CHAIRS = 8  # per location, history and the benchmark clinic alike
BATCH = 250_000
HISTORY_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


@dataclass(frozen=True)
class Size:
    name: str
    locations: int
    patients: int
    visits: int
    invoices: int
    audit_rows: int
    reminders: int


SIZES = {
    "tiny": Size("tiny", 2, 2_500, 2_000, 1_000, 10_000, 1_000),  # make bench-smoke: the harness, in seconds
    "S": Size("S", 1, 6_000, 20_000, 10_000, 100_000, 10_000),
    "M": Size("M", 10, 50_000, 500_000, 300_000, 2_000_000, 250_000),
    "L": Size("L", 20, 100_000, 2_000_000, 1_000_000, 10_000_000, 1_000_000),
}


def grow(data: Dataset, size: Size, *, log: bool = True) -> dict[str, float]:
    """Add the history ``size`` has and the database does not yet; return seconds per table."""
    timings: dict[str, float] = {}

    def step(name: str, run: Callable[[], object]) -> None:
        started = time.monotonic()
        run()
        timings[name] = round(time.monotonic() - started, 1)
        if log:
            print(f"  {size.name}: {name} in {timings[name]} s", flush=True)

    locations = _locations(data, size.locations)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            step("patients", lambda: _patients(cursor, data, size.patients))
            step("visits", lambda: _visits(cursor, data, locations, size.visits))
            step("invoices", lambda: _invoices(cursor, size.invoices))
            step("reminders", lambda: _reminders(cursor, size.reminders))
            step("audit", lambda: _audit(cursor, data, size.audit_rows))
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        step("analyze", lambda: cursor.execute("ANALYZE"))
    return timings


def _locations(data: Dataset, count: int) -> list[Location]:
    """The benchmark location and history locations up to ``count``, each with 8 chairs and 8 nurses."""
    group = data.location.group
    places = [data.location, *Location.objects.filter(group=group, name__startswith="History ").order_by("id")]
    for n in range(len(places), count):
        place = Location.objects.create(group=group, name=f"History {n}", timezone=HISTORY_ZONES[n % 4],
                                        currency="USD")  # fmt: skip
        for c in range(CHAIRS):
            Resource.objects.create(location=place, name=f"Chair {c + 1}", kind=ResourceKind.CHAIR)
        places.append(place)
    for place in places[:count]:
        nurses = StaffMember.objects.filter(locations=place).count()
        for n in range(nurses, CHAIRS):
            nurse = StaffMember.objects.create(group=group, name=f"{place.name} nurse {n + 1}", roles=[StaffRole.NURSE])
            nurse.locations.add(place)
    return places[:count]


def _patients(cursor: Any, data: Dataset, target: int) -> None:
    have = Patient.objects.filter(group=data.location.group).count()
    _execute(cursor,
        "INSERT INTO scheduling_patient (public_id, group_id, first_name, last_name, date_of_birth, email, phone,"
        " timezone, email_consent, sms_consent, designated_driver, referring_provider, diagnosis_codes,"
        " created_at, address)"
        " SELECT md5('patient' || n)::uuid, %(group)s, 'History' || n, 'Patient', DATE '1950-01-01' + n %% 20000,"
        " 'history' || n || '@example.com', '', '', true, false, '', '', '{F33.1}', now(), ''"
        " FROM generate_series(%(first)s, %(last)s) AS n",
        {"group": data.location.group_id, "first": have, "last": target - 1},
    )  # fmt: skip


def _visits(cursor: Any, data: Dataset, locations: list[Location], target: int) -> None:
    """Past visits on the slot grid, continuing behind the oldest one: visit ``i`` (from 0 for this size) is in
    slot ``base + i / (N*8)``, at location ``k %% N`` and chair ``k / N`` for ``k = i %% (N*8)``; its patient is
    the ``(have + i)``-th of the group's patients (mod their number), so no patient is twice in one slot."""
    anchor = _anchor()
    have = _count(cursor, "SELECT count(*) FROM scheduling_appointment WHERE start < %(anchor)s", {"anchor": anchor})
    if have >= target:
        return
    base = _count(cursor, "SELECT coalesce(extract(epoch FROM %(anchor)s - min(start))::int / 6000, 0)"
                  " FROM scheduling_appointment WHERE start < %(anchor)s", {"anchor": anchor})  # fmt: skip
    chairs, nurses = [], []
    for place in locations:
        chairs += list(Resource.objects.filter(location=place).order_by("id").values_list("id", flat=True))[:CHAIRS]
        nurses += list(StaffMember.objects.filter(locations=place).order_by("id").values_list("id", flat=True))[:CHAIRS]
    patients = list(Patient.objects.filter(group=data.location.group).order_by("id").values_list("id", flat=True))
    params = {
        "anchor": anchor, "have": have, "base": base, "n": len(locations), "width": len(locations) * CHAIRS,
        "locations": [place.pk for place in locations], "chairs": chairs, "nurses": nurses,
        "patients": patients, "service": data.service_type.pk,
    }  # fmt: skip
    for first in range(0, target - have, BATCH):
        _execute(cursor, VISITS_SQL, {**params, "first": first, "last": min(first + BATCH, target - have) - 1})


# One statement per batch: the visits, then their nurse (a blocking part unless the visit was cancelled).
VISITS_SQL = """
WITH grid AS (
  SELECT %(have)s + i AS i, %(base)s + i / %(width)s AS slot, i %% %(width)s AS k
    FROM generate_series(%(first)s, %(last)s) AS i
), visits AS (
  INSERT INTO scheduling_appointment (public_id, start, "end", hold_until, status, cancel_reason, cancelled_late,
                                     created_at, updated_at, location_id, patient_id, resource_id,
                                     service_type_id, calendar_sequence)
  SELECT md5('visit' || i)::uuid, %(anchor)s - (slot + 1) * interval '100 minutes',
         %(anchor)s - (slot + 1) * interval '100 minutes' + interval '40 minutes',
         %(anchor)s - slot * interval '100 minutes',
         CASE WHEN i %% 25 = 0 THEN 'cancelled' ELSE 'completed' END, '', false,
         %(anchor)s - (slot + 30) * interval '100 minutes', %(anchor)s - slot * interval '100 minutes',
         (%(locations)s::bigint[])[k %% %(n)s + 1],
         (%(patients)s::bigint[])[i %% cardinality(%(patients)s::bigint[]) + 1],
         (%(chairs)s::bigint[])[(k %% %(n)s) * 8 + k / %(n)s + 1], %(service)s, 0
    FROM grid
  RETURNING id, resource_id, start, "end", status
)
INSERT INTO scheduling_appointmentstaff (appointment_id, staff_id, role, start, "end", is_blocking)
SELECT id, (%(nurses)s::bigint[])[array_position(%(chairs)s::bigint[], resource_id)], 'nurse', start, "end",
       status <> 'cancelled'
  FROM visits
"""


def _invoices(cursor: Any, target: int) -> None:
    """An issued invoice per completed past visit (oldest first), its three lines, and for the paid ones
    (all but one in 50 of the last 60 days) a card payment allocated in full."""
    have = _count(cursor, "SELECT count(*) FROM billing_invoice WHERE number LIKE 'H-%%'", {})
    if have >= target:
        return
    _execute(cursor, INVOICES_SQL, {"skip": have, "take": target - have})


INVOICES_SQL = """
WITH billed AS (
  SELECT a.id, a.location_id, a.patient_id, a.start + interval '2 hours' AS issued_at,
         extract(year FROM a.start)::int AS year
    FROM scheduling_appointment a
   WHERE a.status = 'completed' AND a.start < now() - interval '1 day'
   ORDER BY a.id OFFSET %(skip)s LIMIT %(take)s
), invoices AS (
  INSERT INTO billing_invoice (public_id, kind, currency, status, number, number_year, number_seq, issued_at,
                               subtotal, tax_total, total, notes, created_at, updated_at, location_id, patient_id)
  SELECT md5('invoice' || id)::uuid, 'services', 'USD',
         CASE WHEN id %% 50 = 0 AND issued_at > now() - interval '60 days' THEN 'issued' ELSE 'paid' END,
         'H-' || year || '-' || id, year, 1000000 + id, issued_at, 450, 0, 450, '', issued_at,
         issued_at + interval '1 hour', location_id, patient_id
    FROM billed
  RETURNING id, status, issued_at, location_id, patient_id
), lines AS (
  INSERT INTO billing_invoiceline (public_id, invoice_id, position, description, code, modifier, ndc, ndc_units,
                                   quantity, unit_price, tax_rate, amount, tax, total, service_date)
  SELECT md5('line' || i.id || '-' || p)::uuid, i.id, p,
         (ARRAY['IV infusion, first hour', 'Ketamine HCl', 'Established patient visit'])[p + 1],
         (ARRAY['96365', 'J3490', '99214'])[p + 1], '', '', '', 1, (ARRAY[300, 50, 100])[p + 1], 0,
         (ARRAY[300, 50, 100])[p + 1], 0, (ARRAY[300, 50, 100])[p + 1], i.issued_at::date
    FROM invoices i CROSS JOIN generate_series(0, 2) AS p
  RETURNING 1
), payments AS (
  INSERT INTO billing_payment (public_id, invoice_id, is_deposit, currency, amount, method, reference, received_at,
                               location_id, patient_id)
  SELECT md5('payment' || id)::uuid, id, false, 'USD', 450, 'card', '', issued_at + interval '1 hour',
         location_id, patient_id
    FROM invoices WHERE status = 'paid'
  RETURNING id, invoice_id, received_at
)
INSERT INTO billing_paymentallocation (payment_id, invoice_id, amount, reason, created_at)
SELECT id, invoice_id, 450, 'payment', received_at FROM payments
"""


def _reminders(cursor: Any, target: int) -> None:
    have = _count(cursor, "SELECT count(*) FROM scheduling_reminder WHERE status = 'sent'", {})
    if have >= target:
        return
    _execute(cursor,
        "INSERT INTO scheduling_reminder (public_id, kind, channel, recipient, due_at, status, attempts, provider_id,"
        " last_error, created_at, updated_at, sent_at, patient_id, appointment_id, offset_hours, visit_start)"
        " SELECT md5('reminder' || a.id)::uuid, 'visit', 'email', '', a.start - interval '1 day', 'sent', 1, '',"
        " '', a.created_at, a.start - interval '1 day', a.start - interval '1 day', a.patient_id, a.id, 24, a.start"
        " FROM scheduling_appointment a WHERE a.start < now() - interval '1 day'"
        " AND NOT EXISTS (SELECT 1 FROM scheduling_reminder r WHERE r.appointment_id = a.id)"
        " ORDER BY a.id LIMIT %(take)s",
        {"take": target - have},
    )  # fmt: skip


def _audit(cursor: Any, data: Dataset, target: int) -> None:
    """Reads of patients' visits, spread evenly over three years before yesterday and over the patients."""
    have = _count(cursor, "SELECT count(*) FROM backend_auditevent WHERE actor_username = 'history'", {})
    patients = [
        str(uuid)
        for uuid in Patient.objects.filter(group=data.location.group).order_by("id").values_list("public_id", flat=True)
    ]
    for first in range(have, target, BATCH * 4):
        _execute(cursor,
            "INSERT INTO backend_auditevent (at, actor_username, roles, action, object_type, object_id, patient_id,"
            " ip, details, previous_seal, seal)"
            " SELECT %(anchor)s - n * interval '9 seconds', 'history', 'reception', 'read', 'appointment', '',"
            " (%(patients)s::uuid[])[n %% cardinality(%(patients)s::uuid[]) + 1], '127.0.0.1', '{}', '', ''"
            " FROM generate_series(%(first)s, %(last)s) AS n",
            {"anchor": _anchor(), "patients": patients, "first": first,
             "last": min(first + BATCH * 4, target) - 1},
        )  # fmt: skip


def _anchor() -> dt.datetime:
    """The end of the history: the start of yesterday (UTC), so it never meets the benchmark's bookings."""
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=1)


def _execute(cursor: Any, sql: str, params: dict[str, object]) -> None:
    cursor.execute(sql, params)


def _count(cursor: Any, sql: str, params: dict[str, object]) -> int:
    cursor.execute(sql, params)
    return int(cursor.fetchone()[0])
