"""The audit trail's seal: every event carries an HMAC of its content and of the previous event's seal.

The key (``AUDIT_HMAC_KEY``, by default derived from ``SECRET_KEY``) lives outside the database, so
whoever controls the database, its superuser included, cannot change, remove or slip in an event
without breaking the chain at that point. ``python manage.py audit_verify`` walks the chain and names
the first broken link; beat runs it daily and emails the admins when it finds one.

Events are sealed one at a time in one order: :func:`seal_and_insert` takes a transaction-scoped
advisory lock, reads the latest seal, draws the next id and inserts, so two requests never seal against
the same predecessor and the chain's order is the ids' order.

What a chain cannot show is the removal of its newest events; the daily check logs the latest id and
seal, which an operator can keep outside the database to compare with later.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)
CHAIN_LOCK = 7_210_612_501  # pg_advisory_xact_lock key: one sealer at a time
# The chain's own statements, left out where a hot path's statements are counted (the bench, query tests).
MARK = "/* audit chain */ "
CHAIN_STATEMENTS = (MARK, 'INSERT INTO "backend_auditevent"')


def audit_key() -> bytes:
    configured: str = settings.AUDIT_HMAC_KEY
    if configured:
        return configured.encode()
    return hashlib.sha256(b"clinic-audit-chain:" + settings.SECRET_KEY.encode()).digest()


def _ip(value: str | None) -> str:
    return ipaddress.ip_address(value).exploded if value else ""  # PostgreSQL's inet may respell it


def content(event: Any) -> bytes:
    """What the seal covers: every column of the event but the seals, spelled the same before and after
    a round trip through the database. (A list's patients join the content only when there are some, so
    events sealed before that column existed verify unchanged.)"""
    fields = [
        event.pk, event.at.astimezone(UTC).isoformat(), event.actor_id, event.actor_username, event.roles,
        event.action, event.object_type, event.object_id, str(event.patient_id or ""), _ip(event.ip), event.details,
    ]  # fmt: skip
    if getattr(event, "patients", None):
        fields.append(sorted(str(patient) for patient in event.patients))
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def seal(previous_seal: str, event: Any, key: bytes | None = None) -> str:
    message = previous_seal.encode() + b"\n" + content(event)
    return hmac.new(key or audit_key(), message, hashlib.sha256).hexdigest()


def seal_and_insert(event: Any) -> Any:
    """Insert ``event`` (unsaved) as the chain's next link, in the caller's transaction."""
    table = event._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"{MARK}SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        latest = f"SELECT seal FROM {table} ORDER BY id DESC LIMIT 1"  # noqa: S608 - the model's own table
        cursor.execute(f"{MARK}SELECT nextval(pg_get_serial_sequence(%s, 'id')), ({latest})", [table])
        row = cursor.fetchone()
        assert row is not None  # noqa: S101 - a SELECT without FROM returns one row
        event.pk, previous = row
        event.at = timezone.now()
        event.previous_seal = previous or ""
        event.seal = seal(event.previous_seal, event)
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class Verdict:
    checked: int
    last_id: int | None
    last_seal: str
    broken_at: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(events: Iterator[Any], key: bytes | None = None) -> Verdict:
    """Walk ``events`` in id order; the first event whose seal or link does not hold, and why."""
    key = key or audit_key()
    checked, previous_id, previous_seal = 0, None, ""
    for event in events:
        if event.seal != seal(event.previous_seal, event, key):
            reason = f"event {event.pk} differs from what was recorded (its seal does not match its content)"
            return Verdict(checked, previous_id, previous_seal, event.pk, reason)
        if event.previous_seal != previous_seal:
            where = f"between event {previous_id} and event {event.pk}" if previous_id else f"before event {event.pk}"
            reason = f"events are missing {where} (its link does not name the previous event's seal)"
            return Verdict(checked, previous_id, previous_seal, event.pk, reason)
        checked, previous_id, previous_seal = checked + 1, event.pk, event.seal
    return Verdict(checked, previous_id, previous_seal)


def verify_trail(key: bytes | None = None) -> Verdict:
    """The whole trail, oldest first."""
    from backend.models import AuditEvent

    return verify(AuditEvent.objects.order_by("id").iterator(chunk_size=5000), key)


def check_and_alert() -> Verdict:
    """Verify the trail; on a break, email every active admin (beat runs this daily)."""
    from django.core.mail import send_mail

    from backend.models import User
    from backend.roles import Role

    verdict = verify_trail()
    if verdict.intact:
        logger.info("audit trail intact: %s events, latest %s sealed %s", verdict.checked, verdict.last_id,
                    verdict.last_seal)  # fmt: skip
        return verdict
    logger.error("audit trail broken at event %s: %s", verdict.broken_at, verdict.reason)
    admins = User.objects.filter(is_active=True, groups__name=Role.ADMIN).exclude(email="")
    recipients = sorted({*admins.values_list("email", flat=True), *(email for _name, email in settings.ADMINS)})
    if recipients:
        send_mail(
            "Audit trail check failed",
            f"The daily check of the audit trail found a break at event {verdict.broken_at}: {verdict.reason}.\n\n"
            f"The {verdict.checked} events before it are intact. Someone with access to the database may have "
            "changed or removed audit events. Run `python manage.py audit_verify` to see it again.",
            None, recipients,
        )  # fmt: skip
    return verdict
