from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing.receivers import on_appointment_status_changed
        from scheduling.signals import appointment_status_changed

        appointment_status_changed.connect(on_appointment_status_changed, dispatch_uid="billing.appointment_status")
        self._register_audited_routes()

    @staticmethod
    def _register_audited_routes() -> None:
        from backend.audit import AuditedRoute, audited_routes
        from backend.audit_routes import patient_of
        from billing.models import CreditNote, Document, Invoice, PackageSale, Payment, Refund

        audited_routes(
            {
                "invoice": AuditedRoute("invoice", patient_of(Invoice)),
                "payment": AuditedRoute("payment", patient_of(Payment)),
                "refund": AuditedRoute("refund", patient_of(Refund, "payment__patient__public_id")),
                "package-sale": AuditedRoute("package sale", patient_of(PackageSale)),
            },
            {
                "billing_invoice": AuditedRoute("invoice", patient_of(Invoice, key="pk")),
                "billing_payment": AuditedRoute("payment", patient_of(Payment, key="pk")),
                "billing_creditnote": AuditedRoute(
                    "credit note", patient_of(CreditNote, "invoice__patient__public_id", key="pk")
                ),
                "billing_packagesale": AuditedRoute("package sale", patient_of(PackageSale, key="pk")),
                "billing_document": AuditedRoute("document", patient_of(Document, key="pk")),
            },
        )
