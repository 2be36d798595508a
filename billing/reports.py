"""Accountants' reports, read straight from the ledger (SQL aggregates; nothing stored).

- ``revenue``: billed (issued invoice lines) and credited (credit note lines)
  by month, location, billing code and currency, net and gross of tax.
- ``ar_aging``: what each issued invoice still owed at the end of a day,
  bucketed by days since issue (clinics bill at the visit: due on receipt).
- ``daily_close``: per location and local day, payments and refunds by
  method, deposits, and what was applied to invoices.
- ``package_liability``: sessions sold in packages and not yet delivered, and
  their pro-rata value, at the end of a day.

All dates are the location's local calendar days; only the user's locations
are included. They reconcile: for any period, gross revenue minus what was
applied to invoices equals the change in receivables (tests prove it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from backend.money import round_money
from billing.models import OPEN_STATUSES
from billing.sql import in_local_range, local, range_params

ZERO = Decimal("0.00")  # amounts are stored with two decimals
AGING_BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")


@dataclass
class Report:
    name: str
    parameters: dict[str, Any]
    rows: list[dict[str, Any]]
    totals: list[dict[str, Any]] = field(default_factory=list)


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _totals(rows: list[dict[str, Any]], keys: Sequence[str], amounts: Sequence[str]) -> list[dict[str, Any]]:
    sums: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in keys)
        total = sums.setdefault(key, {**{name: row[name] for name in keys}, **dict.fromkeys(amounts, ZERO)})
        for name in amounts:
            total[name] += row[name]
    return list(sums.values())


REVENUE_SQL = f"""
SELECT month, location_id, location, code, currency,
       sum(billed) AS billed, sum(billed_tax) AS billed_tax, sum(credited) AS credited,
       sum(credited_tax) AS credited_tax
FROM (
  SELECT to_char({local("i.issued_at")}, 'YYYY-MM') AS month, loc.public_id AS location_id, loc.name AS location,
         l.code, i.currency, l.amount AS billed, l.tax AS billed_tax, 0.00 AS credited, 0.00 AS credited_tax
    FROM billing_invoiceline l
    JOIN billing_invoice i ON i.id = l.invoice_id
    JOIN scheduling_location loc ON loc.id = i.location_id
   WHERE i.issued_at IS NOT NULL AND i.location_id = ANY(%(locations)s) AND {in_local_range("i.issued_at")}
  UNION ALL
  SELECT to_char({local("c.issued_at")}, 'YYYY-MM'), loc.public_id, loc.name, cl.code, c.currency,
         0.00, 0.00, cl.amount, cl.tax
    FROM billing_creditnoteline cl
    JOIN billing_creditnote c ON c.id = cl.credit_note_id
    JOIN scheduling_location loc ON loc.id = c.location_id
   WHERE c.location_id = ANY(%(locations)s) AND {in_local_range("c.issued_at")}
) AS movement
GROUP BY month, location_id, location, code, currency
ORDER BY month, location, code, currency
"""


def revenue(*, date_from: date, date_to: date, location_ids: Sequence[int]) -> Report:
    rows = _fetch(REVENUE_SQL, range_params(date_from, date_to, location_ids))
    for row in rows:
        row["net"] = row["billed"] - row["credited"]
        row["gross"] = row["net"] + row["billed_tax"] - row["credited_tax"]
    amounts = ("billed", "billed_tax", "credited", "credited_tax", "net", "gross")
    return Report("revenue", {"from": date_from, "to": date_to}, rows, _totals(rows, ("currency",), amounts))


# Balance of each issued invoice at the end of local day %(as_of)s: total - credits - allocations up to then.
# Only invoices that can have had a balance then are read: those open now (the partial index ``invoice_open``)
# and those whose status changed since the day before (``refresh_status`` stamps ``updated_at`` on every
# change; ``invoice_updated``). An invoice paid or voided before then, and unchanged since, owed nothing that
# evening, so today's aging reads the open invoices however many years of settled ones lie behind them.
AGING_SQL = f"""
WITH candidates AS (
  SELECT id FROM billing_invoice
   WHERE status = ANY(%(open)s) AND location_id = ANY(%(locations)s)
  UNION
  SELECT id FROM billing_invoice
   WHERE updated_at BETWEEN %(changed_since)s AND %(now)s AND location_id = ANY(%(locations)s)
)
SELECT loc.public_id AS location_id, loc.name AS location, i.currency, i.number AS invoice_number,
       p.public_id AS patient_id, p.first_name || ' ' || p.last_name AS patient_name,
       {local("i.issued_at")}::date AS issue_date,
       %(as_of)s::date - {local("i.issued_at")}::date AS days,
       i.total
         - coalesce((SELECT sum(c.total) FROM billing_creditnote c
                      WHERE c.invoice_id = i.id AND {local("c.issued_at")}::date <= %(as_of)s), 0)
         - coalesce((SELECT sum(a.amount) FROM billing_paymentallocation a
                      WHERE a.invoice_id = i.id AND {local("a.created_at")}::date <= %(as_of)s), 0) AS balance
  FROM candidates
  JOIN billing_invoice i ON i.id = candidates.id
  JOIN scheduling_location loc ON loc.id = i.location_id
  JOIN scheduling_patient p ON p.id = i.patient_id
 WHERE i.issued_at IS NOT NULL AND i.issued_at < %(upper)s AND {local("i.issued_at")}::date <= %(as_of)s
"""


def aging_bucket(days: int) -> str:
    if days <= 0:
        return "current"
    if days <= 30:
        return "days_1_30"
    if days <= 60:
        return "days_31_60"
    if days <= 90:
        return "days_61_90"
    return "days_over_90"


def ar_aging(*, as_of: date, location_ids: Sequence[int]) -> Report:
    params = {"as_of": as_of, "upper": datetime.combine(as_of + timedelta(days=2), time.min, tzinfo=UTC),
              "changed_since": datetime.combine(as_of - timedelta(days=1), time.min, tzinfo=UTC),
              "now": timezone.now(), "open": list(OPEN_STATUSES),
              "locations": list(location_ids)}  # fmt: skip
    rows = [row for row in _fetch(AGING_SQL + " ORDER BY issue_date, invoice_number", params) if row["balance"] != 0]
    for row in rows:
        row["bucket"] = aging_bucket(row["days"])
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["location_id"], row["currency"])
        total = totals.setdefault(key, {"location_id": row["location_id"], "location": row["location"],
                                        "currency": row["currency"], **dict.fromkeys(AGING_BUCKETS, ZERO),
                                        "total": ZERO})  # fmt: skip
        total[row["bucket"]] += row["balance"]
        total["total"] += row["balance"]
    return Report(
        "ar_aging", {"as_of": as_of}, rows, sorted(totals.values(), key=lambda t: (t["location"], t["currency"]))
    )


DAILY_CLOSE_SQL = f"""
WITH days AS (
  SELECT {local("pay.received_at")}::date AS day, pay.location_id, pay.currency, pay.method,
         pay.amount AS received, CASE WHEN pay.is_deposit THEN pay.amount ELSE 0.00 END AS deposits,
         0.00 AS refunded, 0.00 AS applied, 1 AS payments, 0 AS refunds
    FROM billing_payment pay JOIN scheduling_location loc ON loc.id = pay.location_id
   WHERE pay.location_id = ANY(%(locations)s) AND {in_local_range("pay.received_at")}
  UNION ALL
  SELECT {local("r.refunded_at")}::date, pay.location_id, pay.currency, pay.method, 0.00, 0.00, r.amount, 0.00, 0, 1
    FROM billing_refund r
    JOIN billing_payment pay ON pay.id = r.payment_id
    JOIN scheduling_location loc ON loc.id = pay.location_id
   WHERE pay.location_id = ANY(%(locations)s) AND {in_local_range("r.refunded_at")}
  UNION ALL
  SELECT {local("a.created_at")}::date, i.location_id, i.currency, NULL, 0.00, 0.00, 0.00, a.amount, 0, 0
    FROM billing_paymentallocation a
    JOIN billing_invoice i ON i.id = a.invoice_id
    JOIN scheduling_location loc ON loc.id = i.location_id
   WHERE i.location_id = ANY(%(locations)s) AND {in_local_range("a.created_at")}
)
SELECT days.day, loc.public_id AS location_id, loc.name AS location, days.currency, days.method,
       sum(received) AS received, sum(deposits) AS deposits, sum(refunded) AS refunded, sum(applied) AS applied,
       sum(payments)::int AS payments, sum(refunds)::int AS refunds
  FROM days JOIN scheduling_location loc ON loc.id = days.location_id
 GROUP BY days.day, loc.public_id, loc.name, days.currency, days.method
 ORDER BY days.day, loc.name, days.currency, days.method NULLS LAST
"""


def daily_close(*, date_from: date, date_to: date, location_ids: Sequence[int]) -> Report:
    """One row per day, location and currency: takings by method, refunds, deposits, applied to invoices."""
    by_day: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in _fetch(DAILY_CLOSE_SQL, range_params(date_from, date_to, location_ids)):
        key = (part["day"], part["location_id"], part["currency"])
        row = by_day.setdefault(key, {
            "date": part["day"], "location_id": part["location_id"], "location": part["location"],
            "currency": part["currency"], "payments": 0, "received": ZERO, "refunds": 0,
            "refunded": ZERO, "deposits": ZERO, "applied_to_invoices": ZERO, "by_method": {},
        })  # fmt: skip
        row["applied_to_invoices"] += part["applied"]
        if part["method"] is None:
            continue
        for name in ("payments", "received", "refunds", "refunded", "deposits"):
            row[name] += part[name]
        row["by_method"][part["method"]] = {"payments": part["payments"], "received": part["received"],
                                            "refunds": part["refunds"], "refunded": part["refunded"]}  # fmt: skip
    rows = list(by_day.values())
    for row in rows:
        row["net_taken"] = row["received"] - row["refunded"]
    amounts = ("received", "refunded", "net_taken", "deposits", "applied_to_invoices")
    return Report("daily_close", {"from": date_from, "to": date_to}, rows, _totals(rows, ("currency",), amounts))


PACKAGE_LIABILITY_SQL = f"""
SELECT s.public_id AS sale_id, loc.public_id AS location_id, loc.name AS location,
       p.public_id AS patient_id, p.first_name || ' ' || p.last_name AS patient_name, pk.name AS package,
       {local("s.sold_at")}::date AS sold_on, s.sessions, s.price, s.currency,
       (SELECT count(*) FROM billing_packagesession u
         WHERE u.sale_id = s.id AND {local("u.consumed_at")}::date <= %(as_of)s)::int AS used
  FROM billing_packagesale s
  JOIN billing_package pk ON pk.id = s.package_id
  JOIN scheduling_location loc ON loc.id = s.location_id
  JOIN scheduling_patient p ON p.id = s.patient_id
 WHERE s.location_id = ANY(%(locations)s) AND {local("s.sold_at")}::date <= %(as_of)s
   AND (s.closed_at IS NULL OR {local("s.closed_at")}::date > %(as_of)s)
 ORDER BY loc.name, sold_on, s.id
"""


def package_liability(*, as_of: date, location_ids: Sequence[int]) -> Report:
    """Sessions sold and not yet delivered at the end of ``as_of``, valued pro rata (as a refund would be)."""
    rows = []
    for row in _fetch(PACKAGE_LIABILITY_SQL, {"as_of": as_of, "locations": list(location_ids)}):
        row["remaining"] = max(row["sessions"] - row["used"], 0)
        if row["remaining"] == 0:
            continue
        row["liability"] = round_money(row["price"] * row["remaining"] / row["sessions"], row["currency"])
        rows.append(row)
    totals: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(dict)
    for row in rows:
        total = totals[(row["location_id"], row["currency"])]
        total.setdefault("location_id", row["location_id"])
        total.setdefault("location", row["location"])
        total.setdefault("currency", row["currency"])
        total["sessions_remaining"] = total.get("sessions_remaining", 0) + row["remaining"]
        total["liability"] = total.get("liability", ZERO) + row["liability"]
    return Report("package_liability", {"as_of": as_of}, rows, list(totals.values()))
