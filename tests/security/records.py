"""One record of every patient-data kind for ``clinic.patient``, made as staff would make them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps

from backend.models import User
from backend.roles import Role
from billing.models import CreditNote, ExportJob, FeeScheduleItem, Invoice, Package, Payment, Refund
from billing.services.credit_notes import credit_note_issue
from billing.services.payments import refund_record
from outcomes.letters import letter_request
from outcomes.models import Letter, LetterKind, MaintenanceSuggestion, SafetyAlert
from outcomes.standard import load_standard_instruments
from scheduling.models import Closure, ReferringProvider, Series, SeriesTemplate, WaitlistEntry
from scheduling.services.waitlist import EntryFields, waitlist_entry_add
from tests.billing.conftest import MONDAY, add_fee_schedule, issued_invoice, pay
from tests.factories import UserFactory
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


@dataclass
class EveryRecord:
    """Something of every kind the API addresses by id, with ``clinic.patient`` signed in as ``patient_user``."""

    patient_user: User
    records: PatientRecords
    closure: Closure
    template: SeriesTemplate
    export: ExportJob
    fee: FeeScheduleItem
    alert: SafetyAlert
    suggestion: MaintenanceSuggestion
    provider: ReferringProvider
    letter: Letter
    waitlist_entry: WaitlistEntry
    credit_note: CreditNote


def every_record(clinic: Clinic, *, export_owner: User) -> EveryRecord:
    patient_user = UserFactory(roles=[Role.PATIENT])
    clinic.patient.user = patient_user
    clinic.patient.save()
    records = patient_records(clinic)
    closure = Closure.objects.create(location=clinic.location, date=dt.date(2026, 12, 25), reason="Holiday")
    template = SeriesTemplate.objects.create(
        group=clinic.group, service_type=clinic.infusion, name="Induction", count=6
    )
    export = ExportJob.objects.create(kind="invoices", format="csv", date_from=MONDAY, date_to=MONDAY,
                                      requested_by=export_owner)  # fmt: skip
    load_standard_instruments(apps)
    measure = clinic.client(clinic.clinician).post(
        f"/api/v1/patients/{clinic.patient.public_id}/measures/", {"instrument": "phq-9", "answers": [1] * 9},
        format="json",
    )  # fmt: skip
    alert = SafetyAlert.objects.get(measure__public_id=measure.json()["id"])
    provider = ReferringProvider.objects.create(group=clinic.group, name="Dr. Lena Ortiz", credentials="MD",
                                                npi="1234567893", email="ortiz@example.com")  # fmt: skip
    clinic.patient.referrer = provider
    clinic.patient.save(update_fields=["referrer"])
    letter = letter_request(actor=clinic.clinician, series=Series.objects.get(public_id=records.series),
                            kind=LetterKind.ACKNOWLEDGEMENT)  # fmt: skip
    suggestion = MaintenanceSuggestion.objects.create(
        patient=clinic.patient, series=Series.objects.get(public_id=records.series), rule="phq9_rise", reason="records"
    )
    wants = EntryFields(service_type=clinic.infusion, locations=[clinic.location])
    waitlist_entry = waitlist_entry_add(actor=clinic.reception, patient=clinic.patient, fields=wants)
    credit_note = credit_note_issue(actor=clinic.accountant, invoice=records.invoice, reason="records",
                                    amount=Decimal("5.00"))  # fmt: skip
    return EveryRecord(patient_user, records, closure, template, export, FeeScheduleItem.objects.earliest("pk"),
                       alert, suggestion, provider, letter, waitlist_entry, credit_note)  # fmt: skip
