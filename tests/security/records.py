"""One record of every patient-data kind for ``clinic.patient``, made as staff would make them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from billing.models import Invoice, Package, Payment, Refund
from billing.services.payments import refund_record
from tests.billing.conftest import MONDAY, add_fee_schedule, issued_invoice, pay
from tests.scheduling.conftest import Clinic, ny


@dataclass
class PatientRecords:
    invoice: Invoice
    payment: str
    refund: Refund
    appointment: str
    series: str
    package: Package
    sale: str


def patient_records(clinic: Clinic) -> PatientRecords:
    """A paid and partly refunded invoice, a booked visit, a series and a package sale (with the fee schedule)."""
    add_fee_schedule(clinic)
    reception = clinic.client(clinic.reception)
    patient, service, location = (str(clinic.patient.public_id), str(clinic.infusion.public_id),
                                  str(clinic.location.public_id))  # fmt: skip
    invoice = issued_invoice(clinic)
    payment = pay(reception, invoice, "450.00").json()["id"]
    refund = refund_record(actor=clinic.accountant, payment=Payment.objects.get(public_id=payment),
                           amount=Decimal("10.00"), reason="records")  # fmt: skip
    appointment = reception.post("/api/v1/appointments/", {
        "patient": patient, "service_type": service, "location": location,
        "start": ny(MONDAY + dt.timedelta(days=3), 9).isoformat(),
    }, format="json").json()["id"]  # fmt: skip
    series = reception.post("/api/v1/series/", {
        "patient": patient, "service_type": service, "location": location, "count": 2,
        "first_date": str(MONDAY + dt.timedelta(days=14)), "time": "10:00", "weekdays": [0, 2],
    }, format="json").json()["id"]  # fmt: skip
    package = Package.objects.create(location=clinic.location, service_type=clinic.infusion, name="Six",
                                     sessions=6, price=Decimal("2400.00"), currency="USD")  # fmt: skip
    sale = reception.post("/api/v1/package-sales/", {"package": str(package.public_id), "patient": patient},
                          format="json").json()["id"]  # fmt: skip
    return PatientRecords(invoice, payment, refund, appointment, series, package, sale)
