from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing.receivers import on_appointment_status_changed
        from scheduling.signals import appointment_status_changed

        appointment_status_changed.connect(on_appointment_status_changed, dispatch_uid="billing.appointment_status")
