"""The treatment loop: instruments (as data), a patient's answers to them (measures) and safety alerts.

An instrument is a versioned row with its items, answer options, severity bands and alert rules; the
standard ones (PHQ-9, GAD-7, PCL-5) are shipped by a data migration and a clinic adds its own in the
admin. A measure keeps the instrument version it was answered on, so a later version never rescores
history. A safety alert is raised at most once per measure (a one-to-one key), in the measure's
transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from backend.models import ClinicGroup, PublicIdModel, RenderedDocument
from scheduling.models import Appointment, Location, Patient, ReferringProvider, Series, SeriesTemplate

DEFAULT_CRISIS_GUIDANCE = (
    "If you are thinking about harming yourself or feel unsafe right now, call or text 988 "
    "(the Suicide & Crisis Lifeline) or call 911. You can also go to the nearest emergency department. "
    "A clinician from the clinic will contact you."
)


class Instrument(PublicIdModel):
    """A questionnaire at one version. Rows that measures use are never changed: a change is a new version."""

    group = models.ForeignKey(
        ClinicGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="instruments",
        help_text="Empty: a standard instrument, offered to every clinic.",
    )  # fmt: skip
    code = models.SlugField(max_length=30, help_text='Short name the API uses, e.g. "phq-9".')
    version = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=200)
    instructions = models.TextField(blank=True, help_text="The question the items answer, shown above them.")
    remission_below = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A total under this is remission (PHQ-9: 5)."
    )
    response_drop_percent = models.PositiveSmallIntegerField(
        default=50, help_text="A total this many percent below the baseline is a response."
    )
    meaningful_change = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A change of at least this many points is clinically meaningful."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("code", "-version")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "code", "version"], name="instrument_version_once", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class InstrumentItem(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveSmallIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ("instrument", "number")
        constraints = [models.UniqueConstraint(fields=["instrument", "number"], name="instrument_item_once")]

    def __str__(self) -> str:
        return f"{self.number}. {self.text}"


class InstrumentOption(models.Model):
    """An answer every item of the instrument accepts, and the value it scores."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="options")
    value = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=100)

    class Meta:
        ordering = ("instrument", "value")
        constraints = [models.UniqueConstraint(fields=["instrument", "value"], name="instrument_option_once")]

    def __str__(self) -> str:
        return f"{self.value}: {self.label}"


class SeverityBand(models.Model):
    """Totals from ``min_total`` to ``max_total`` (both included) read as ``label``."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="bands")
    min_total = models.PositiveSmallIntegerField()
    max_total = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=100)

    class Meta:
        ordering = ("instrument", "min_total")
        constraints = [
            models.CheckConstraint(condition=Q(min_total__lte=models.F("max_total")), name="band_min_before_max")
        ]

    def __str__(self) -> str:
        return f"{self.min_total}-{self.max_total}: {self.label}"


class AlertRule(models.Model):
    """An answer to item ``item_number`` of at least ``min_value`` raises a safety alert."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="alert_rules")
    code = models.SlugField(max_length=50, help_text='The flag a measure carries, e.g. "self_harm".')
    item_number = models.PositiveSmallIntegerField()
    min_value = models.PositiveSmallIntegerField(default=1)
    description = models.CharField(max_length=300)

    class Meta:
        ordering = ("instrument", "item_number")

    def __str__(self) -> str:
        return f"item {self.item_number} >= {self.min_value}: {self.code}"


class MeasureSource(models.TextChoices):
    PATIENT = "patient", "Answered by the patient"
    STAFF = "staff", "Entered by staff"


class Measure(PublicIdModel):
    """A patient's answers to one instrument version at one time, scored on the server. Never edited."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measures")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="measures")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="measures"
    )
    answers = ArrayField(models.PositiveSmallIntegerField())
    total = models.PositiveSmallIntegerField()
    severity = models.CharField(max_length=100, blank=True)
    flags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    taken_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=MeasureSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("taken_at", "id")
        indexes = [models.Index(fields=["patient", "taken_at"], name="measure_patient_taken")]

    def __str__(self) -> str:
        return f"{self.instrument.code} {self.total} for {self.patient_id} at {self.taken_at:%Y-%m-%d}"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"


class SafetyAlert(PublicIdModel):
    """A measure that met an alert rule. One per measure; open until a clinician acknowledges it."""

    measure = models.OneToOneField(Measure, on_delete=models.PROTECT, related_name="safety_alert")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="safety_alerts")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rules = ArrayField(models.CharField(max_length=300), help_text="What was met, in words.")
    status = models.CharField(max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    notified = ArrayField(models.EmailField(), default=list, blank=True, help_text="Who was emailed.")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["patient"], name="safety_alert_open", condition=Q(status="open")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | (Q(acknowledged_by__isnull=False) & Q(acknowledged_at__isnull=False)),
                name="safety_alert_acknowledged_by_someone",
            )
        ]

    def __str__(self) -> str:
        return f"safety alert {self.public_id} ({self.status})"


class LocationSafety(models.Model):
    """Who is on call for safety alerts at a location, and the crisis guidance its patients are shown."""

    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="safety")
    on_call_email = models.EmailField(
        blank=True, help_text="Safety alerts are emailed here. Empty: to every clinician of the clinic group."
    )
    crisis_guidance = models.TextField(default=DEFAULT_CRISIS_GUIDANCE)

    class Meta:
        verbose_name = "location safety settings"
        verbose_name_plural = "location safety settings"

    def __str__(self) -> str:
        return f"safety settings of {self.location}"


class MeasureSchedule(models.Model):
    """Which instrument a series booked from ``template`` asks for: before which of its visits, and how many
    weeks after its last visit. Due measures are worked out from the series' visits as they are now
    (``outcomes/due.py``), so they follow every move, cancellation and extension."""

    template = models.ForeignKey(SeriesTemplate, on_delete=models.CASCADE, related_name="measure_schedules")
    instrument_code = models.SlugField(max_length=30, help_text='The instrument\'s code, e.g. "phq-9".')
    before_visits = ArrayField(
        models.PositiveSmallIntegerField(), default=list, blank=True, help_text="Visit numbers, 1 = the first."
    )
    follow_up_weeks = ArrayField(
        models.PositiveSmallIntegerField(), default=list, blank=True, help_text="Weeks after the series' last visit."
    )

    class Meta:
        ordering = ("template", "instrument_code")
        constraints = [
            models.UniqueConstraint(fields=["template", "instrument_code"], name="measure_schedule_once"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} for {self.template}"


class MaintenancePolicy(models.Model):
    """When to suggest a booster, per clinic group. An empty threshold turns its rule off."""

    group = models.OneToOneField(ClinicGroup, on_delete=models.CASCADE, related_name="maintenance_policy")
    phq9_rise = models.PositiveSmallIntegerField(
        null=True, blank=True, default=5, help_text="PHQ-9 this many points above its lowest after the series."
    )
    phq9_reaches = models.PositiveSmallIntegerField(
        null=True, blank=True, default=10, help_text="PHQ-9 at or above this total (10: moderate)."
    )
    pcl5_rise = models.PositiveSmallIntegerField(
        null=True, blank=True, default=10, help_text="PCL-5 this many points above its lowest after the series."
    )
    weeks_since_last_infusion = models.PositiveSmallIntegerField(
        null=True, blank=True, default=8,
        help_text="This many weeks after the last infusion while the latest score is not in remission.",
    )  # fmt: skip

    class Meta:
        verbose_name_plural = "maintenance policies"

    def __str__(self) -> str:
        return f"maintenance policy of {self.group}"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    BOOKED = "booked", "Booked"
    DISMISSED = "dismissed", "Dismissed"


class MaintenanceSuggestion(PublicIdModel):
    """A booster the policy suggests for a patient after their series. One open per patient at a time."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="maintenance_suggestions")
    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="+", help_text="The series to extend.")
    rule = models.SlugField(max_length=40)
    reason = models.CharField(max_length=300, help_text="Which rule fired, in words (no scores).")
    measure = models.ForeignKey(Measure, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.CharField(max_length=500, blank=True)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="The booster."
    )

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="open"), name="maintenance_suggestion_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} for {self.patient_id} ({self.status})"


class LetterKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Referral acknowledgement"
    SUMMARY = "summary", "Treatment summary"


class Letter(RenderedDocument):
    """A letter to the patient's referring provider about a series, rendered and emailed once by the worker
    (``worker/documents.py``) from the snapshot taken when it was asked for (``outcomes/letters.py``)."""

    kind = models.CharField(max_length=20, choices=LetterKind.choices)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="letters")
    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="letters")
    provider = models.ForeignKey(ReferringProvider, on_delete=models.PROTECT, related_name="letters")

    class Meta(RenderedDocument.Meta):
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["updated_at"], name="letter_unfinished",
                         condition=Q(status__in=["pending", "queued", "rendering"])),
            models.Index(fields=["updated_at"], name="letter_email_unfinished",
                         condition=Q(email_status__in=["pending", "sending"])),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id} ({self.status})"
