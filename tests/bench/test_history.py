"""The benchmark's generated history (bench/history.py): the counts a size names, grown in steps, within the
database's own rules (the overlap constraints stay on while it loads)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from backend.models import AuditEvent
from backend.roles import Role
from bench.dataset import build
from bench.history import Size, grow
from billing.models import Invoice, InvoiceLine, InvoiceStatus, PaymentAllocation
from scheduling.models import Appointment, AppointmentStaff, Location, Patient, Reminder

SMALL = Size("small", 2, 1_200, 300, 100, 1_000, 50)
LARGER = Size("larger", 3, 1_500, 900, 250, 3_000, 120)


@pytest.mark.django_db
def test_a_size_is_grown_to_its_counts_and_a_larger_one_continues_behind_it() -> None:
    for role in Role:  # the roles' groups, as migrated (a transactional test elsewhere may have flushed them)
        Group.objects.get_or_create(name=role)
    data = build(patients=1_000)
    booked = Appointment.objects.count()

    grow(data, SMALL, log=False)
    grow(data, LARGER, log=False)

    past = Appointment.objects.filter(start__lt=timezone.now())  # the benchmark's own bookings are ahead
    assert Appointment.objects.count() - booked == LARGER.visits == past.count()
    assert Location.objects.filter(group=data.location.group).count() == LARGER.locations
    assert Patient.objects.filter(group=data.location.group).count() == LARGER.patients
    assert AppointmentStaff.objects.filter(appointment__in=past).count() == LARGER.visits
    assert Invoice.objects.filter(number__startswith="H-").count() == LARGER.invoices
    assert InvoiceLine.objects.filter(invoice__number__startswith="H-").count() == 3 * LARGER.invoices
    paid = Invoice.objects.filter(number__startswith="H-", status=InvoiceStatus.PAID).count()
    assert PaymentAllocation.objects.count() == paid > 0
    assert Reminder.objects.filter(status="sent").count() == LARGER.reminders
    assert AuditEvent.objects.filter(actor_username="history").count() == LARGER.audit_rows
    assert Invoice.objects.filter(number__startswith="H-", status=InvoiceStatus.ISSUED).exists()  # some owed
