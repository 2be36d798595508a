"""``python manage.py audit_verify``: walk the audit trail's seals and name the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backend.audit_chain import verify_trail


class Command(BaseCommand):
    help = "Check every audit event's seal and link; exit 1 naming the first event where the chain breaks."

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = verify_trail()
        if not verdict.intact:
            raise CommandError(f"Audit trail broken at event {verdict.broken_at}: {verdict.reason}.")
        self.stdout.write(f"Audit trail intact: {verdict.checked} events, the latest is {verdict.last_id} "
                          f"sealed {verdict.last_seal or '-'}.")  # fmt: skip
