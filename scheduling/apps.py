from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self) -> None:
        from django.db.models.signals import post_init

        from backend.audit import AuditedRoute, audited_routes, note_loaded
        from backend.audit_routes import patient_of
        from scheduling.models import Appointment, Clearance, Patient, Reminder, Series

        audited_routes(
            {
                "patient": AuditedRoute("patient", patient_of(Patient, "public_id")),
                "appointment": AuditedRoute("appointment", patient_of(Appointment)),
                "series": AuditedRoute("series", patient_of(Series)),
                "series-template": None,
            },
            {
                "scheduling_patient": AuditedRoute("patient", patient_of(Patient, "public_id", key="pk")),
                "scheduling_appointment": AuditedRoute("appointment", patient_of(Appointment, key="pk")),
                "scheduling_series": AuditedRoute("series", patient_of(Series, key="pk")),
                "scheduling_clearance": AuditedRoute("clearance", patient_of(Clearance, key="pk")),
                "scheduling_reminder": AuditedRoute("reminder", patient_of(Reminder, key="pk")),
            },
        )
        post_init.connect(note_loaded, sender=Patient)  # what a console page showed (backend.audit)
