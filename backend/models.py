from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone

from backend.roles import Role


class User(AbstractUser):
    """A person who signs in: staff member or patient. Roles are groups named after `Role`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    password_changed_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="API tokens issued before this no longer work."
    )
    _role_names: list[str]
    _clinic_group_ids: list[int]

    def set_password(self, raw_password: str | None) -> None:
        """Django's, and the moment is kept: every API token issued before it stops working (backend.auth)."""
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def role_names(self) -> list[str]:
        """The user's roles, sorted; superusers are admins whatever their groups."""
        cached: list[str] | None = getattr(self, "_role_names", None)
        if cached is None:
            self.remember_groups([group.name for group in self.groups.all()])
            cached = self._role_names
        return cached

    def remember_groups(self, group_names: list[str]) -> None:
        """Keep the roles from group names read with the user (sign-in reads both at once)."""
        names = {name for name in group_names if name in Role.values}
        if self.is_superuser:
            names.add(Role.ADMIN)
        self._role_names = sorted(names)

    def has_role(self, *roles: str) -> bool:
        return any(role in self.role_names() for role in roles)

    def clinic_group_ids(self) -> list[int]:
        """Ids of the clinic groups the user is a member of (``ClinicGroup.members``), read once per request."""
        cached: list[int] | None = getattr(self, "_clinic_group_ids", None)
        if cached is None:
            cached = self._clinic_group_ids = sorted(self.clinic_groups.values_list("pk", flat=True))
        return cached

    def remember_clinic_groups(self, ids: list[int]) -> None:
        """Keep the clinic group ids read with the user (token sign-in reads them at once)."""
        self._clinic_group_ids = sorted(ids)


class PublicIdModel(models.Model):
    """Exposed through the API by an opaque UUID; the primary key stays internal."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True


class ClinicGroup(PublicIdModel):
    """A clinic business with one or more locations. Staff users see their groups' rows (backend.access)."""

    name = models.CharField(max_length=200)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="clinic_groups")

    class Meta:
        db_table = "scheduling_clinicgroup"  # where it was created; it moved here from scheduling

    def __str__(self) -> str:
        return self.name


class WorkerHeartbeat(models.Model):
    """A round trip through the broker: written by the web or beat side, answered by a worker.

    Beat emits one a minute; operators (and the pipeline test) read when a worker last answered.
    """

    requested_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = (models.Index(fields=["-requested_at"], name="heartbeat_recent_idx"),)

    def __str__(self) -> str:
        return f"heartbeat {self.pk} answered by {self.answered_by or '-'}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key``; replays get it back."""

    user = models.ForeignKey("backend.User", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=100, help_text="Which endpoint the key was used on.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_key_once"),)

    def __str__(self) -> str:
        return f"{self.scope} {self.key} -> {self.status_code}"


class AuditEvent(models.Model):
    """Who did what to which record, when and from where. Append-only: a trigger refuses UPDATE and DELETE,
    and each event is sealed to the one before it (``backend/audit_chain.py``)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey("backend.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_username = models.CharField(max_length=150, blank=True, help_text="As it was when the event happened.")
    roles = models.CharField(max_length=200, blank=True, help_text="The actor's roles, comma-separated.")
    action = models.CharField(max_length=40, help_text="read, create, update, delete, export, download, ...")
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, blank=True, help_text="The patient whose data was touched, if any.")
    patients = ArrayField(
        models.UUIDField(), null=True, blank=True, help_text="Every patient a list's answer carried (public ids)."
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    previous_seal = models.CharField(max_length=64, blank=True, db_default="", help_text="The previous event's seal.")
    seal = models.CharField(max_length=64, blank=True, db_default="", help_text="HMAC of this event and the link.")

    class Meta:
        ordering = ("-at", "-id")
        indexes = (
            models.Index(fields=["patient_id", "-at"], name="audit_patient_idx"),
            GinIndex(fields=["patients"], name="audit_patients_idx"),
        )

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_username or '-'} {self.action} {self.object_type} {self.object_id}"
        )

    @classmethod
    def _about_parts(cls, patient_public_id: uuid.UUID) -> tuple[models.QuerySet[AuditEvent], ...]:
        """Events that named the patient as the one patient; events whose list carried them (and not as that)."""
        named = cls.objects.filter(patient_id=patient_public_id)
        carried = cls.objects.filter(patients__contains=[patient_public_id]).exclude(patient_id=patient_public_id)
        return named, carried

    @classmethod
    def about(cls, patient_public_id: uuid.UUID) -> models.QuerySet[AuditEvent]:
        """Events that touched the patient: named as the one patient, or among those a list carried."""
        named, carried = cls._about_parts(patient_public_id)
        return named | carried

    @classmethod
    def access_log(cls, patient_public_id: uuid.UUID) -> models.QuerySet[AuditEvent]:
        """The events of :meth:`about`, newest first, read as two index scans (the patient's index and the
        lists' GIN index) rather than one pass over ten million rows looking for either."""
        named, carried = cls._about_parts(patient_public_id)
        return named.union(carried, all=True).order_by("-at", "-id")


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    QUEUED = "queued", "Queued"
    RENDERING = "rendering", "Rendering"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class EmailStatus(models.TextChoices):
    NOT_WANTED = "not_wanted", "Not emailed (no consent or address)"
    PENDING = "pending", "To be emailed"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class RenderedDocument(PublicIdModel):
    """A PDF the worker renders once from ``payload`` (a snapshot taken in the transaction that asked for it),
    stores with its checksum and, when ``email_status`` is pending, emails once (``worker/documents.py``).

    Billing's receipts, invoices and superbills and the outcomes app's letters are its concrete kinds; each
    names its ``kind`` and what the document is about.
    """

    status = models.CharField(max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    payload = models.JSONField()
    payload_digest = models.CharField(max_length=64)
    file = models.FileField(upload_to="documents/%Y/%m/", blank=True)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the stored PDF")
    size = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    email_status = models.CharField(max_length=20, choices=EmailStatus.choices, default=EmailStatus.NOT_WANTED)
    emailed_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
