"""The billing lock order: the patient's billing lock, then the invoice, then payments.

Every service that moves money for a patient takes the patient's
transaction-scoped advisory lock first. Payments, refunds, credit notes and
credit applications for one patient then run one after the other (no
deadlocks, no lost updates of derived balances); different patients never wait
for each other. Numbering has its own row lock per location, series and year.
"""

from __future__ import annotations

from django.db import connection

_NAMESPACE = 4 << 56  # scheduling's booking locks use 1..3 (scheduling/booking/locks.py)


def lock_patient_billing(patient_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_NAMESPACE | patient_id])
