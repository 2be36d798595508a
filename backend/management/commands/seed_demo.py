"""Load the demo data: every installed app's ``demo.seed(password=...)``, in INSTALLED_APPS order.

Idempotent: running it again changes nothing but the demo users' passwords.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Load demo clinics, staff, patients and bookings (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default="clinic-demo-2026", help="Password for every demo login")

    def handle(self, *args: Any, **options: Any) -> None:
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.demo":
                    raise
                continue
            summary = module.seed(password=options["password"])
            self.stdout.write(f"demo data ({config.label}): {summary}")
