"""The five roles of the API, stored as Django groups."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    RECEPTION = "reception", "Reception"
    CLINICIAN = "clinician", "Clinician"
    ACCOUNTANT = "accountant", "Accountant"
    PATIENT = "patient", "Patient"


STAFF_ROLES = frozenset({Role.ADMIN, Role.RECEPTION, Role.CLINICIAN, Role.ACCOUNTANT})
