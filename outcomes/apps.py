from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"

    def ready(self) -> None:
        from backend.audit import AuditedRoute, audited_routes
        from backend.audit_routes import patient_of
        from outcomes.models import MaintenanceSuggestion, Measure, SafetyAlert

        audited_routes(
            {
                "safety-alert": AuditedRoute("safety alert", patient_of(SafetyAlert)),
                "maintenance-suggestion": AuditedRoute("maintenance suggestion", patient_of(MaintenanceSuggestion)),
            },
            {
                "outcomes_measure": AuditedRoute("measure", patient_of(Measure, key="pk")),
                "outcomes_safetyalert": AuditedRoute("safety alert", patient_of(SafetyAlert, key="pk")),
            },
        )
