"""Which measures a patient owes, worked out from their series as they are now.

A series booked from a template with measure schedules (``MeasureSchedule``) asks for each scheduled
instrument before some of its visits and some weeks after its last one. Nothing is stored: the due list
is derived from the series' visits (cancelled and no-show visits and integration sessions do not count,
so visit 4 is the fourth visit the patient still has) and the patient's measures. A moved visit moves its
form, a cancelled series drops the forms of the visits it cancelled (and its follow-ups), an extension adds
the forms of the visit numbers it reaches.

Each due measure has a window. Before a visit: from three days before its start (or from the end of
the same instrument's previous window) to the visit's end. A follow-up: from three days before to two
weeks after. The first measure of that instrument taken in the window, or tied to that visit, answers
it; a measure answers one due measure only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from outcomes.models import Measure, MeasureSchedule
from scheduling.models import Appointment, AppointmentStatus, Patient, Series

OPENS_BEFORE_VISIT = timedelta(days=3)
FOLLOW_UP_OPENS = timedelta(days=3)
FOLLOW_UP_CLOSES = timedelta(weeks=2)
NOT_ATTENDED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


class DueStatus:
    UPCOMING = "upcoming"  # its window has not opened
    DUE = "due"  # open now, not answered
    OVERDUE = "overdue"  # closed without an answer
    ANSWERED = "answered"


@dataclass(frozen=True)
class DueMeasure:
    series: Series
    instrument: str
    visit_number: int | None  # before this visit, or None for a follow-up
    weeks_after: int | None  # a follow-up this many weeks after the last visit
    appointment: Appointment | None
    due_at: datetime  # the visit's start, or the follow-up's date and time
    opens_at: datetime
    closes_at: datetime
    status: str
    measure: Measure | None


def _status(opens: datetime, closes: datetime, measure: Measure | None, now: datetime) -> str:
    if measure is not None:
        return DueStatus.ANSWERED
    if now < opens:
        return DueStatus.UPCOMING
    return DueStatus.DUE if now <= closes else DueStatus.OVERDUE


Window = tuple[int | None, int | None, Appointment | None, datetime, datetime, datetime]


def _windows(series: Series, visits: Sequence[Appointment], schedule: MeasureSchedule) -> list[Window]:
    """(visit number, weeks after, visit, due, opens, closes) of one instrument's due measures, in order."""
    windows: list[Window] = []
    previous_close: datetime | None = None
    for number in sorted(set(schedule.before_visits)):
        if 1 <= number <= len(visits):
            visit = visits[number - 1]
            opens = visit.start - OPENS_BEFORE_VISIT
            windows.append((number, None, visit, visit.start, max(opens, previous_close or opens), visit.end))
            previous_close = visit.end
    if series.cancelled_at is None and visits:
        for weeks in sorted(set(schedule.follow_up_weeks)):
            due = visits[-1].start + timedelta(weeks=weeks)
            opens = due - FOLLOW_UP_OPENS
            windows.append((None, weeks, None, due, max(opens, previous_close or opens), due + FOLLOW_UP_CLOSES))
            previous_close = due + FOLLOW_UP_CLOSES
    return windows


def _answer(measures: Sequence[Measure], code: str, window: Window, used: set[int]) -> Measure | None:
    """The first unused measure of ``code`` tied to the window's visit or taken inside the window."""
    _number, _weeks, visit, _due, opens, closes = window
    for measure in measures:
        if measure.pk in used or measure.instrument.code != code:
            continue
        if (visit is not None and measure.appointment_id == visit.pk) or opens <= measure.taken_at <= closes:
            used.add(measure.pk)
            return measure
    return None


def series_due(
    series: Series,
    visits: Sequence[Appointment],
    schedules: Iterable[MeasureSchedule],
    measures: Sequence[Measure],
    *,
    now: datetime,
    used: set[int] | None = None,
) -> list[DueMeasure]:
    """``visits``: the series' attended or upcoming visits in order; ``measures``: the patient's, oldest first;
    ``used``: measures already answering another due measure (shared across a patient's series)."""
    used = set() if used is None else used
    found: list[DueMeasure] = []
    for schedule in schedules:
        for window in _windows(series, visits, schedule):
            number, weeks, visit, due, opens, closes = window
            measure = _answer(measures, schedule.instrument_code, window, used)
            found.append(DueMeasure(series, schedule.instrument_code, number, weeks, visit, due, opens, closes,
                                    _status(opens, closes, measure, now), measure))  # fmt: skip
    return found


def patient_due_measures(patient: Patient, now: datetime | None = None) -> list[DueMeasure]:
    """Every due measure of the patient's series booked from a template with schedules, by due time."""
    now = now or timezone.now()
    attended = Appointment.objects.filter(follows__isnull=True).exclude(status__in=NOT_ATTENDED).order_by("start", "id")
    series_list = (
        Series.objects.filter(patient=patient, template__measure_schedules__isnull=False)
        .distinct()
        .select_related("location")
        .prefetch_related("template__measure_schedules", Prefetch("appointments", queryset=attended))
        .order_by("created_at", "id")
    )
    measures = list(Measure.objects.filter(patient=patient).select_related("instrument").order_by("taken_at", "id"))
    used: set[int] = set()
    found: list[DueMeasure] = []
    for series in series_list:
        assert series.template is not None  # noqa: S101 - filtered above
        schedules = series.template.measure_schedules.all()
        found += series_due(series, list(series.appointments.all()), schedules, measures, now=now, used=used)
    return sorted(found, key=lambda item: (item.due_at, item.instrument))


def due_for_visit(appointment: Appointment, now: datetime | None = None) -> list[DueMeasure]:
    """The forms still to fill in before this visit (for its reminder and its form page)."""
    if appointment.series_id is None:
        return []
    return [
        item
        for item in patient_due_measures(appointment.patient, now)
        if item.appointment is not None and item.appointment.pk == appointment.pk and item.measure is None
    ]
