from django.apps import AppConfig


class BackendConfig(AppConfig):
    name = "backend"
    verbose_name = "Accounts and platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend import strict_input

        strict_input.install()
