from django.apps import AppConfig


class BackendConfig(AppConfig):
    name = "backend"
    verbose_name = "Accounts and platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from backend import strict_input
        from backend.dbroles import grant_after_migrate

        strict_input.install()
        post_migrate.connect(grant_after_migrate, sender=self)
