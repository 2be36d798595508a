"""Helpers the apps use to tell the audit trail how to find the patient of a record."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Model

from backend.audit import PatientOf


def patient_of(model: type[Model], path: str = "patient__public_id", key: str = "public_id") -> PatientOf:
    """object id (a public id, or a primary key with ``key="pk"``) -> the public id of its patient."""

    def find(object_id: str) -> UUID | None:
        lookup: Any = object_id
        try:
            lookup = UUID(object_id) if key == "public_id" else int(object_id)
        except ValueError:
            return None
        found: UUID | None = model._default_manager.filter(**{key: lookup}).values_list(path, flat=True).first()
        return found

    return find
