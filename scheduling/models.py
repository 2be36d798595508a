"""The clinic: locations and their hours, chairs and rooms, staff and shifts,
service types, patients and clearance, appointments.

Times are ``timestamptz`` in UTC. Weekly rules (opening hours, shifts) are
wall-clock times in the location's zone, expanded per date by
``scheduling/time.py``. No double booking is guaranteed by the exclusion
constraints on ``Appointment`` and ``AppointmentStaff``.
"""

from __future__ import annotations

import functools
import uuid
import zoneinfo
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from backend.identifiers import validate_billing_code, validate_icd10, validate_npi
from backend.models import ClinicGroup, PublicIdModel
from backend.money import currency_field, money_field
from scheduling.ranges import TsTzRange

# IANA's regional areas. Names outside them are aliases that are not places ("localtime", "Factory",
# "Etc/GMT+5", "EST5EDT") or old country spellings ("US/Eastern", "Japan") of a name inside them.
PLACE_AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian",
               "Pacific")  # fmt: skip


@functools.cache
def place_timezones() -> frozenset[str]:
    return frozenset(name for name in zoneinfo.available_timezones() if name.split("/", 1)[0] in PLACE_AREAS)


def validate_timezone(value: str) -> None:
    if value not in place_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone of a place, such as 'America/New_York'.")


def validate_birth_date(value: date) -> None:
    # "Today" somewhere on Earth: the day at UTC+14 is the latest any patient can have been born on.
    if value > (timezone.now() + timedelta(hours=14)).date():
        raise ValidationError("A date of birth cannot be in the future.")


class Location(PublicIdModel):
    group = models.ForeignKey(ClinicGroup, on_delete=models.PROTECT, related_name="locations")
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    currency = currency_field(default="USD")
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    cancellation_window_hours = models.PositiveIntegerField(
        default=24, help_text="Cancelling less than this many hours before the start is a late cancellation."
    )
    check_in_opens_minutes = models.PositiveIntegerField(
        default=120, help_text="Check-in opens this many minutes before the visit's start."
    )
    no_show_grace_minutes = models.PositiveIntegerField(
        default=15, help_text="A no-show can be recorded this many minutes after the visit's start."
    )
    slot_minutes = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(5)], help_text="Granularity of bookable start times."
    )
    reminder_offsets_hours = ArrayField(
        models.PositiveIntegerField(), default=list, blank=True,
        help_text="Default reminder offsets (hours before the visit) for services that set none.",
    )  # fmt: skip
    sms_quiet_start = models.TimeField(default=time(21, 0), help_text="No SMS from this time (patient's zone) ...")
    sms_quiet_end = models.TimeField(default=time(8, 0), help_text="... until this time; deferred instead.")
    late_reminder_grace_minutes = models.PositiveIntegerField(
        default=60, help_text="A reminder whose time has passed at booking is sent at once if it is at most this late; "
        "otherwise it is skipped.",
    )  # fmt: skip
    waitlist_min_notice_minutes = models.PositiveIntegerField(
        default=180, db_default=180,
        help_text="A freed visit is offered to the waitlist only when it starts at least this long ahead.",
    )  # fmt: skip
    waitlist_offer_count = models.PositiveSmallIntegerField(
        default=3, db_default=3, validators=[MinValueValidator(1)],
        help_text="How many waiting patients are offered a freed visit at once; the first to take it gets it.",
    )  # fmt: skip
    waitlist_offer_minutes = models.PositiveIntegerField(
        default=30, db_default=30, validators=[MinValueValidator(5)],
        help_text="How long an offer's link stays open.",
    )  # fmt: skip
    waitlist_self_join = models.BooleanField(
        default=False, db_default=False, help_text="Patients may put themselves on this location's waitlist."
    )
    setup_version = models.UUIDField(
        default=uuid.uuid4, editable=False,
        help_text="Changes whenever the opening hours, closures, resources, staff or shifts of the location change "
        "(database triggers); booking reuses what it loaded for the same version.",
    )  # fmt: skip

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class WeeklyRule(models.Model):
    """A wall-clock interval on one weekday, every ``every_n_weeks`` weeks counted from ``anchor_date``."""

    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday ... 6 = Sunday")
    opens = models.TimeField()
    closes = models.TimeField()
    every_n_weeks = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    anchor_date = models.DateField(
        null=True, blank=True, help_text="A date in a week when the rule applies; needed when every_n_weeks > 1."
    )

    class Meta:
        abstract = True

    def applies_on(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.every_n_weeks == 1:
            return True
        anchor = self.anchor_date or day
        weeks = (day.toordinal() - day.weekday() - (anchor.toordinal() - anchor.weekday())) // 7
        return weeks % self.every_n_weeks == 0


def weekly_rule_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(condition=Q(weekday__lte=6), name=f"{prefix}_weekday_0_6"),
        models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name=f"{prefix}_opens_before_closes"),
        models.CheckConstraint(condition=Q(every_n_weeks__gte=1), name=f"{prefix}_every_n_weeks_positive"),
        models.CheckConstraint(
            condition=Q(every_n_weeks=1) | Q(anchor_date__isnull=False), name=f"{prefix}_interval_needs_anchor"
        ),
    ]


class OpeningRule(WeeklyRule):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_rules")

    class Meta:
        ordering = ("weekday", "opens")
        constraints = weekly_rule_constraints("opening")

    def __str__(self) -> str:
        return f"{self.location}: weekday {self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(models.Model):
    """A dated exception: the location is closed all day (holiday, training day)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("date",)
        constraints = [models.UniqueConstraint(fields=["location", "date"], name="closure_one_per_day")]

    def __str__(self) -> str:
        return f"{self.location} closed {self.date}"


class ResourceKind(models.TextChoices):
    CHAIR = "chair", "Infusion chair"
    ROOM = "room", "Room"


class Resource(PublicIdModel):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="resources")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ResourceKind.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("location", "kind", "name")
        constraints = [models.UniqueConstraint(fields=["location", "name"], name="resource_name_per_location")]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class StaffRole(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse"
    THERAPIST = "therapist", "Therapist"
    ANESTHESIOLOGIST = "anesthesiologist", "Anesthesiologist"
    NURSE_PRACTITIONER = "nurse_practitioner", "Nurse practitioner"


class StaffMember(PublicIdModel):
    """A bookable clinical person. Bookable only inside their shifts, at their locations."""

    group = models.ForeignKey(ClinicGroup, on_delete=models.PROTECT, related_name="staff")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff_member"
    )
    name = models.CharField(max_length=200)
    roles = ArrayField(models.CharField(max_length=30, choices=StaffRole.choices))
    locations = models.ManyToManyField(Location, related_name="staff")
    npi = models.CharField("NPI", max_length=10, blank=True, validators=[validate_npi])
    credentials = models.CharField(
        max_length=50, blank=True, db_default="", help_text='As printed after the name: "MD", "RN", "NP".'
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Shift(WeeklyRule):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="shifts")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="shifts")

    class Meta:
        ordering = ("staff", "weekday", "opens")
        constraints = weekly_rule_constraints("shift")

    def __str__(self) -> str:
        return f"{self.staff} at {self.location}: weekday {self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


PLACES_OF_SERVICE = [
    ("11", "11 Office"),
    ("02", "02 Telehealth, not in the patient's home"),
    ("10", "10 Telehealth in the patient's home"),
]


class ServiceType(PublicIdModel):
    """What is booked: an infusion, a KAP session, an integration session, a consultation."""

    group = models.ForeignKey(ClinicGroup, on_delete=models.PROTECT, related_name="service_types")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5)])
    recovery_minutes = models.PositiveIntegerField(default=0, help_text="The chair or room stays held this long.")
    resource_kind = models.CharField(max_length=10, choices=ResourceKind.choices)
    staff_roles = ArrayField(
        models.CharField(max_length=30, choices=StaffRole.choices),
        default=list,
        blank=True,
        help_text="One staff member per entry, all present at once (a KAP session: physician and therapist).",
    )
    requires_clearance = models.BooleanField(default=False)
    place_of_service = models.CharField(
        max_length=2, choices=PLACES_OF_SERVICE, default="11", db_default="11",
        help_text="The CMS place-of-service code printed on superbills.",
    )  # fmt: skip
    price = money_field(default=0)
    currency = currency_field(default="USD")
    billing_codes = ArrayField(
        models.CharField(max_length=20, validators=[validate_billing_code]), default=list, blank=True
    )
    reminder_offsets_hours = ArrayField(
        models.PositiveIntegerField(), default=list, blank=True,
        help_text="Hours before the visit; empty uses the location's default.",
    )  # fmt: skip
    reminder_channels = ArrayField(
        models.CharField(max_length=10), default=list, blank=True,
        help_text='"email", "sms"; empty: both (each only with the patient\'s consent).',
    )  # fmt: skip
    prep_instructions = models.TextField(blank=True)
    fasting_hours = models.PositiveSmallIntegerField(default=0)
    arrive_early_minutes = models.PositiveSmallIntegerField(default=0)
    requires_driver = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=["group", "code"], name="service_type_code_per_group"),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_type_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class ReferringProvider(PublicIdModel):
    """The clinician who referred a patient (often their psychiatrist): letters go to them."""

    group = models.ForeignKey(ClinicGroup, on_delete=models.PROTECT, related_name="referring_providers")
    name = models.CharField(max_length=200)
    credentials = models.CharField(max_length=50, blank=True, help_text='e.g. "MD", "DO, MPH", "PMHNP-BC"')
    practice = models.CharField(max_length=200, blank=True)
    npi = models.CharField("NPI", max_length=10, blank=True, validators=[validate_npi])
    phone = models.CharField(max_length=20, blank=True)
    fax = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True, help_text="Letters are emailed here; without one they are downloaded.")
    address = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


class Patient(PublicIdModel):
    group = models.ForeignKey(ClinicGroup, on_delete=models.PROTECT, related_name="patients")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="patient"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(validators=[validate_birth_date])
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +15551234567")
    timezone = models.CharField(max_length=64, validators=[validate_timezone], default="America/New_York")
    email_consent = models.BooleanField(default=False)
    sms_consent = models.BooleanField(default=False)
    address = models.TextField(blank=True, db_default="", help_text="Postal address, as printed on superbills.")
    designated_driver = models.CharField(max_length=200, blank=True)
    referring_provider = models.CharField(max_length=200, blank=True, help_text="As told at intake (free text).")
    referrer = models.ForeignKey(
        ReferringProvider, null=True, blank=True, on_delete=models.PROTECT, related_name="patients",
        help_text="The referring provider's record: letters about the patient go to them.",
    )  # fmt: skip
    diagnosis_codes = ArrayField(models.CharField(max_length=10, validators=[validate_icd10]), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("last_name", "first_name")
        indexes = [models.Index(fields=["last_name", "first_name"], name="patient_name_idx")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ClearanceStatus(models.TextChoices):
    CLEARED = "cleared", "Cleared"
    NOT_CLEARED = "not_cleared", "Not cleared"


class Clearance(PublicIdModel):
    """A clinician's decision after the intake assessment. The latest record is the one in force."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="clearances")
    status = models.CharField(max_length=20, choices=ClearanceStatus.choices)
    valid_until = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-recorded_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="not_cleared") | Q(valid_until__isnull=False), name="clearance_cleared_has_expiry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient}: {self.status} until {self.valid_until}"


class SeriesTemplate(PublicIdModel):
    """A named protocol ("Induction: 6 in 21 days", "Maintenance booster") a series can refer to."""

    group = models.ForeignKey(ClinicGroup, on_delete=models.CASCADE, related_name="series_templates")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="series_templates",
        help_text="Empty: offered at every location of the group.",
    )  # fmt: skip
    name = models.CharField(max_length=200)
    service_type = models.ForeignKey("ServiceType", on_delete=models.PROTECT, related_name="series_templates")
    count = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    local_time = models.TimeField(null=True, blank=True)
    min_gap_hours = models.PositiveIntegerField(default=0)
    max_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    within_days = models.PositiveIntegerField(null=True, blank=True)
    session_service_type = models.ForeignKey(
        "ServiceType", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Integration sessions booked with the series (e.g. a therapist's integration session).",
    )  # fmt: skip
    session_after_visits = ArrayField(
        models.PositiveSmallIntegerField(), default=list, db_default=[], blank=True,
        help_text="After which visits a session follows (1 = the first), e.g. 1, 3, 6.",
    )  # fmt: skip
    session_days_after = models.PositiveSmallIntegerField(
        default=1, db_default=1, help_text="How many days after its visit a session is (0 = the same day)."
    )
    session_local_time = models.TimeField(null=True, blank=True, help_text="Empty: the series' time of day.")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class SeriesStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Series(PublicIdModel):
    """A set of appointments booked together from one protocol (an induction series, boosters)."""

    patient = models.ForeignKey("Patient", on_delete=models.PROTECT, related_name="series")
    service_type = models.ForeignKey("ServiceType", on_delete=models.PROTECT, related_name="series")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="series")
    template = models.ForeignKey(SeriesTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    count = models.PositiveSmallIntegerField()
    first_date = models.DateField()
    local_time = models.TimeField()
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    min_gap_hours = models.PositiveIntegerField(default=0)
    max_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    within_days = models.PositiveIntegerField(null=True, blank=True)
    resource = models.ForeignKey(
        "Resource", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The chair or room asked for when the series was booked.",
    )  # fmt: skip
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.service_type} x{self.count} for {self.patient} from {self.first_date}"


class SeriesChangeKind(models.TextChoices):
    BOOKED = "booked", "Booked"
    MOVED = "moved", "Occurrence moved"
    CANCELLED = "cancelled", "Cancelled"
    EXTENDED = "extended", "Extended"


class SeriesChange(models.Model):
    """One change to a series, recorded in the same transaction, for one summary message to the patient.

    The reminders side sends each change once and marks ``notified_at``.
    """

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=20, choices=SeriesChangeKind.choices)
    appointment_ids = ArrayField(models.BigIntegerField(), default=list)
    details = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=["created_at"], name="series_change_pending", condition=Q(notified_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.series_id} at {self.created_at:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Statuses that hold the chair, the staff and the patient. Cancelled and no-show free them.
BLOCKING_STATUSES = (
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_PROGRESS,
    AppointmentStatus.COMPLETED,
)

# A visit plus its recovery never holds a chair longer than this: service types are refused beyond it and the
# database refuses longer holds. It bounds every "what overlaps this time" question from below, so an index on
# ``start`` reads those days only, however many years of visits lie before them.
MAX_HOLD = timedelta(hours=12)


def holding_during(since: datetime, until: datetime) -> Q:
    """Visits whose hold (visit plus recovery) overlaps ``[since, until)``."""
    return Q(start__gt=since - MAX_HOLD, start__lt=until, hold_until__gt=since)


class Appointment(PublicIdModel):
    """One visit. Holds its resource and patient for ``[start, hold_until)`` and its staff for ``[start, end)``."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="appointments")
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions",
        help_text="The series visit this integration session follows; it moves with it.",
    )  # fmt: skip
    staff: models.ManyToManyField[StaffMember, AppointmentStaff] = models.ManyToManyField(
        StaffMember, through="AppointmentStaff", related_name="appointments"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    hold_until = models.DateTimeField(help_text="End of recovery: the chair and the patient are held until then.")
    status = models.CharField(max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED)
    cancel_reason = models.CharField(max_length=500, blank=True)
    cancelled_late = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    calendar_sequence = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="Counts the changes a calendar must see (moved, cancelled): the ICS SEQUENCE.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("start", "id")
        indexes = [
            models.Index(fields=["location", "start"], name="appointment_location_start"),
            models.Index(fields=["patient", "start"], name="appointment_patient_start"),
            models.Index(fields=["status", "start"], name="appointment_status_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="appointment_start_before_end"),
            models.CheckConstraint(condition=Q(end__lte=models.F("hold_until")), name="appointment_end_before_hold"),
            models.CheckConstraint(
                condition=Q(hold_until__lte=models.F("start") + MAX_HOLD), name="appointment_hold_at_most_max"
            ),
            ExclusionConstraint(
                name="appointment_no_resource_overlap",
                expressions=[
                    (TsTzRange("start", "hold_until"), RangeOperators.OVERLAPS),
                    ("resource", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=BLOCKING_STATUSES),
            ),
            ExclusionConstraint(
                name="appointment_no_patient_overlap",
                expressions=[
                    (TsTzRange("start", "hold_until"), RangeOperators.OVERLAPS),
                    ("patient", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=BLOCKING_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_type} for {self.patient} at {self.start:%Y-%m-%d %H:%M} UTC"

    @property
    def is_blocking(self) -> bool:
        return self.status in BLOCKING_STATUSES

    @property
    def is_integration_session(self) -> bool:
        """Booked with its series to follow one of the series' visits (``follows``)."""
        return self.follows_id is not None


class AppointmentStaff(models.Model):
    """A staff member's part in an appointment. Copies the appointment's times so the database can
    refuse overlaps per staff member; the appointment services keep the copies in step."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="staff_assignments")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=30, choices=StaffRole.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    is_blocking = models.BooleanField(default=True)

    class Meta:
        ordering = ("appointment", "id")
        indexes = [models.Index(fields=["staff", "start"], name="appointment_staff_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__lte=models.F("start") + MAX_HOLD), name="appointment_staff_at_most_max"
            ),
            models.UniqueConstraint(fields=["appointment", "staff"], name="appointment_staff_once"),
            ExclusionConstraint(
                name="appointment_no_staff_overlap",
                expressions=[(TsTzRange("start", "end"), RangeOperators.OVERLAPS), ("staff", RangeOperators.EQUAL)],
                condition=Q(is_blocking=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} as {self.role} in appointment {self.appointment_id}"


class ReminderChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its due time
    QUEUED = "queued", "Queued"  # claimed by the dispatcher, a delivery task enqueued
    SENDING = "sending", "Sending"  # a worker is handing it to the provider
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # permanent failure (bad address, retries exhausted)
    SKIPPED = "skipped", "Skipped"  # no consent, opted out, or too late to be useful
    CANCELLED = "cancelled", "Cancelled"  # the visit moved or was cancelled


class ReminderKind(models.TextChoices):
    VISIT = "visit", "Visit reminder"
    SERIES_SUMMARY = "series_summary", "Series change summary"
    STAFF_NOTICE = "staff_notice", "Notice to clinic staff"  # by email to ``recipient``, about ``subject_id``
    FORM_INVITE = "form_invite", "Check-in form invitation"  # a follow-up after ``appointment``, due ``visit_start``
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"  # a freed visit offered to the patient: ``subject_id``


class Reminder(PublicIdModel):
    """One message due to a patient on one channel: the outbox row the worker delivers exactly once.

    Created, moved and cancelled in the same transaction as the appointment or series change.
    ``public_id`` is the idempotency key the provider sees (email Message-ID, SMS idempotency token).
    """

    kind = models.CharField(max_length=20, choices=ReminderKind.choices, default=ReminderKind.VISIT)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    series_change = models.ForeignKey(
        SeriesChange, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="reminders")
    channel = models.CharField(max_length=10, choices=ReminderChannel.choices)
    recipient = models.EmailField(
        blank=True,
        db_default="",
        help_text="A staff notice's address. Messages to the patient go to the patient's own.",
    )
    subject_id = models.UUIDField(
        null=True,
        blank=True,
        help_text="What a staff notice or an offer is about (the public id of a safety alert or a waitlist offer).",
    )
    offset_hours = models.PositiveIntegerField(null=True, blank=True)
    visit_start = models.DateTimeField(
        null=True, blank=True, help_text="The visit's start this reminder announces (a moved visit is reminded again)."
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    queued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    provider_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("due_at", "id")
        indexes = [
            # Every row the dispatcher may claim (due, left queued, stuck sending): it never reads the sent ones.
            models.Index(
                fields=["due_at"], name="reminder_due_open", condition=Q(status__in=["pending", "queued", "sending"])
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "channel", "offset_hours", "visit_start"],
                condition=Q(kind="visit") & ~Q(status="cancelled"),
                name="reminder_once_per_visit_time",
            ),
            models.UniqueConstraint(
                fields=["appointment", "channel", "visit_start"],
                condition=Q(kind="form_invite"),
                name="form_invite_once",
            ),
            models.CheckConstraint(
                condition=Q(appointment__isnull=False)
                | Q(series_change__isnull=False)
                | (Q(kind="staff_notice") & ~Q(recipient="") & Q(subject_id__isnull=False))
                | (Q(kind="waitlist_offer") & Q(subject_id__isnull=False)),
                name="reminder_has_subject",
            ),
            models.UniqueConstraint(
                fields=["subject_id", "channel"], condition=Q(kind="waitlist_offer"), name="waitlist_offer_sent_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} for {self.patient_id} due {self.due_at:%Y-%m-%d %H:%M} ({self.status})"


class ReminderAttempt(models.Model):
    """One delivery attempt, for the outbox's history."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=20)
    detail = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("started_at", "id")

    def __str__(self) -> str:
        return f"attempt on {self.reminder_id}: {self.outcome}"


class CalendarFeed(models.Model):
    """A private calendar address of a patient's or a staff member's visits: the token is the credential.

    One active feed per owner; rotating it revokes the old address, revoking it leaves none.
    """

    token = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(patient__isnull=False, staff__isnull=True) | Q(patient__isnull=True, staff__isnull=False),
                name="calendar_feed_one_owner",
            ),
            models.UniqueConstraint(
                fields=["patient"], condition=Q(revoked_at__isnull=True, patient__isnull=False),
                name="calendar_feed_one_active_per_patient",
            ),
            models.UniqueConstraint(
                fields=["staff"], condition=Q(revoked_at__isnull=True, staff__isnull=False),
                name="calendar_feed_one_active_per_staff",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"calendar feed of {self.patient or self.staff}"


# --- waitlist -------------------------------------------------------------------------------


def validate_time_windows(value: object) -> None:
    """``[["09:00", "12:00"], ...]``: local start-time windows, each from before to."""
    if not isinstance(value, list) or len(value) > 7:
        raise ValidationError("Give at most 7 windows, each as [from, to] (HH:MM).")
    for window in value:
        if not (isinstance(window, list) and len(window) == 2 and all(isinstance(part, str) for part in window)):
            raise ValidationError("Each window is [from, to] with times as HH:MM.")
        try:
            start, end = (time.fromisoformat(part) for part in window)
        except ValueError as error:
            raise ValidationError(f"{window[0]!r} to {window[1]!r}: times are HH:MM.") from error
        if start >= end:
            raise ValidationError(f"The window {window[0]} to {window[1]} ends before it starts.")


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    BOOKED = "booked", "Booked"  # took an offer: ``appointment`` is the visit
    REMOVED = "removed", "Removed"


class WaitlistEntry(PublicIdModel):
    """A patient waiting for an earlier or another visit: what they would take, where and when.

    A patient in a series waits for a visit of that series (``series``): any time offered keeps its protocol.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="waitlist_entries")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    locations = models.ManyToManyField(Location, related_name="waitlist_entries")
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(), default=list, blank=True, help_text="0 = Monday ... 6; empty: any day."
    )
    time_windows = models.JSONField(
        default=list, blank=True, validators=[validate_time_windows],
        help_text='Local start times the patient can take, e.g. [["09:00", "12:00"]]; empty: any time.',
    )  # fmt: skip
    earliest_date = models.DateField(null=True, blank=True)
    latest_date = models.DateField(null=True, blank=True)
    priority = models.SmallIntegerField(default=0, help_text="Higher is offered first.")
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The visit booked from an offer.",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-priority", "created_at", "id")
        verbose_name_plural = "waitlist entries"
        indexes = [
            models.Index(fields=["service_type", "created_at"], name="waitlist_waiting",
                         condition=Q(status="waiting")),
        ]  # fmt: skip
        constraints = [
            models.CheckConstraint(
                condition=Q(earliest_date__isnull=True) | Q(latest_date__isnull=True)
                | Q(earliest_date__lte=models.F("latest_date")),
                name="waitlist_dates_in_order",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.service_type} ({self.status})"


class FreedSlotStatus(models.TextChoices):
    OPEN = "open", "Open"  # to be offered, or offers out
    FILLED = "filled", "Filled"  # taken from an offer
    UNFILLED = "unfilled", "No taker"  # no matching entry, or no one took it before the notice limit
    GONE = "gone", "Booked otherwise"  # the chair was booked outside the waitlist


class FreedSlot(models.Model):
    """A chair freed ahead of time by a cancellation, a no-show or a move: the waitlist's work item.

    Recorded in the transaction that frees it; the worker's sweep offers it (``WaitlistOffer``).
    """

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    service_type = models.ForeignKey(ServiceType, on_delete=models.CASCADE, related_name="+")
    freed_from = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20)  # cancelled, no_show, moved
    start = models.DateTimeField()
    hold_until = models.DateTimeField()
    freed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=FreedSlotStatus.choices, default=FreedSlotStatus.OPEN)
    rounds = models.PositiveSmallIntegerField(default=0, help_text="How many rounds of offers went out.")
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True, help_text="Why it closed, for the log.")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The visit booked from the waitlist.",
    )  # fmt: skip

    class Meta:
        ordering = ("start", "id")
        indexes = [
            models.Index(fields=["freed_at"], name="freed_slot_open", condition=Q(status="open")),
            models.Index(fields=["location", "freed_at"], name="freed_slot_location_freed"),
        ]

    def __str__(self) -> str:
        return f"{self.service_type} at {self.location} {self.start:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def chair_hours(self) -> float:
        return (self.hold_until - self.start).total_seconds() / 3600


class OfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"  # this patient took the visit
    TAKEN = "taken", "Taken by another"  # someone else was first, or the chair went otherwise
    EXPIRED = "expired", "Expired"
    REFUSED = "refused", "Could not book"  # the booking rules refused this patient at claim time (``detail``)


class WaitlistOffer(PublicIdModel):
    """A freed visit offered to one waiting patient, by a signed link that expires (``expires_at``)."""

    slot = models.ForeignKey(FreedSlot, on_delete=models.CASCADE, related_name="offers")
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["expires_at"], name="waitlist_offer_open", condition=Q(status="open"))]
        constraints = [models.UniqueConstraint(fields=["slot", "entry"], name="waitlist_offer_once_per_entry")]

    def __str__(self) -> str:
        return f"offer of slot {self.slot_id} to entry {self.entry_id} ({self.status})"
