"""The audit trail: one append-only row per access to patient data or money records.

Views and services call ``audit_record``; it writes in the caller's
transaction, so an export that rolls back leaves no audit row claiming it ran.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest

from backend.models import AuditEvent, User


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the web server saw it (proxies set REMOTE_ADDR via their own config)."""
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str = "",
    patient_id: UUID | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    authenticated = actor is not None and actor.is_authenticated
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_username=actor.get_username() if authenticated and actor else "",
        roles=",".join(actor.role_names()) if authenticated and actor else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        ip=ip,
        details=details or {},
    )
