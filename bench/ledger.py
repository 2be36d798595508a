"""Issued invoices and lines in bulk, set-based in SQL: the export benchmark's million lines, and big test ledgers."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.db import connection

# (code, description, unit price): descriptions with a comma and quotes, so CSV quoting is exercised.
LINES = (
    ("96365", 'IV infusion, first hour ("induction")', "300.00"),
    ("J3490", "Ketamine HCl, 0.5 mg/kg", "50.00"),
    ("99214", "Established patient visit", "100.00"),
)


def bulk_issued_lines(
    *, location_id: int, patient_ids: Sequence[int], currency: str, invoices: int, issued_at: dt.datetime
) -> int:
    """``invoices`` issued invoices of three lines each, numbered BULK-<id>; returns the lines written."""
    batch = f"bulk {uuid.uuid4()}"
    values = ", ".join(["(%s, %s, %s, %s::numeric)"] * len(LINES))
    line_params = [item for position, line in enumerate(LINES) for item in (position, *line)]
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO billing_invoice (public_id, location_id, patient_id, kind, currency, status, subtotal,
                                            tax_total, total, notes, created_at, updated_at)
               SELECT gen_random_uuid(), %s, (%s::bigint[])[1 + n %% %s], 'services', %s, 'draft', 450, 0, 450, %s,
                      now(), now()
                 FROM generate_series(1, %s) AS n""",
            [location_id, list(patient_ids), len(patient_ids), currency, batch, invoices],
        )
        cursor.execute(
            f"""INSERT INTO billing_invoiceline (public_id, invoice_id, position, description, code, modifier, ndc,
                                                 ndc_units, quantity, unit_price, tax_rate, amount, tax, total,
                                                 service_date)
                SELECT gen_random_uuid(), i.id, line.position, line.description, line.code, '', '', '', 1,
                       line.price, 0, line.price, 0, line.price, %s
                  FROM billing_invoice i
                 CROSS JOIN (VALUES {values}) AS line(position, code, description, price)
                 WHERE i.notes = %s""",  # noqa: S608 - placeholders only
            [issued_at.date(), *line_params, batch],
        )
        written = cursor.rowcount
        cursor.execute(
            """UPDATE billing_invoice SET status = 'issued', issued_at = %s, number_year = %s, number_seq = id,
                      number = 'BULK-' || id, notes = ''
                WHERE notes = %s""",
            [issued_at, issued_at.year, batch],
        )
    return written
