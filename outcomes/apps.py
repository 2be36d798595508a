from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"

    def ready(self) -> None:
        from outcomes.receivers import on_appointment_status_changed, on_series_booked
        from scheduling.signals import appointment_status_changed, series_booked

        series_booked.connect(on_series_booked, dispatch_uid="outcomes.series_booked")
        appointment_status_changed.connect(on_appointment_status_changed, dispatch_uid="outcomes.appointment_status")
        self._register_audited_routes()

    @staticmethod
    def _register_audited_routes() -> None:
        from backend.audit import AuditedRoute, audited_routes
        from backend.audit_routes import patient_of
        from outcomes.models import Letter, MaintenanceSuggestion, Measure, SafetyAlert

        # Measures, outcomes and due forms are under /patients/{id}/ (the scheduling app's "patient" routes).
        audited_routes(
            {
                "safety-alert": AuditedRoute("safety alert", patient_of(SafetyAlert)),
                "maintenance-suggestion": AuditedRoute("maintenance suggestion", patient_of(MaintenanceSuggestion)),
                "letter": AuditedRoute("letter", patient_of(Letter)),
            },
            {
                "outcomes_measure": AuditedRoute("measure", patient_of(Measure, key="pk")),
                "outcomes_safetyalert": AuditedRoute("safety alert", patient_of(SafetyAlert, key="pk")),
                "outcomes_letter": AuditedRoute("letter", patient_of(Letter, key="pk")),
                "outcomes_maintenancesuggestion": AuditedRoute(
                    "maintenance suggestion", patient_of(MaintenanceSuggestion, key="pk")
                ),
            },
        )
