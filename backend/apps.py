from django.apps import AppConfig


class BackendConfig(AppConfig):
    name = "backend"
    verbose_name = "Accounts and platform"
    default_auto_field = "django.db.models.BigAutoField"
