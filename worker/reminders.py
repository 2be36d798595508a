"""Reminder delivery through the outbox: dispatch due rows, deliver each exactly once.

- ``reminders_dispatch`` (beat, every 30 s) claims due rows with
  ``SELECT ... FOR UPDATE SKIP LOCKED``, marks them queued and enqueues one
  delivery task per row after commit, with no ETA. Rows left queued (the
  broker was down, a message was lost) or sending (a worker died mid-send)
  past their timeout are claimed again.
- ``reminder_deliver`` moves a row queued -> sending -> sent with conditional
  updates, so a second task for the same row does nothing; a sent row is never
  sent again. The provider gets the row's id as an idempotency key (email
  Message-ID, Twilio idempotency token), so a resend after a crash between the
  provider accepting and our commit is recognised by providers that honour it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from scheduling.models import (
    AppointmentStatus,
    Location,
    Reminder,
    ReminderAttempt,
    ReminderChannel,
    ReminderKind,
    ReminderStatus,
)
from worker.channels.base import PermanentDeliveryError, TransientDeliveryError
from worker.channels.email import send_email
from worker.channels.sms import send_sms
from worker.reminder_content import render

logger = logging.getLogger(__name__)
BATCH = 500
REMINDABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


def reminders_dispatch(*, enqueue: Callable[[int], object], now: datetime | None = None, budget_seconds: float = 20.0
                       ) -> int:  # fmt: skip
    """Claim every due row (in batches, each its own transaction) and enqueue its delivery; return how many."""
    started = timezone.now()
    total = 0
    while (timezone.now() - started).total_seconds() < budget_seconds:
        moment = now or timezone.now()
        stale_queued = moment - timedelta(seconds=settings.REMINDER_QUEUED_TIMEOUT)
        stale_sending = moment - timedelta(seconds=settings.REMINDER_SENDING_TIMEOUT)
        with transaction.atomic():
            ids = list(
                Reminder.objects.select_for_update(skip_locked=True)
                .filter(
                    Q(status=ReminderStatus.PENDING, due_at__lte=moment)
                    | Q(status=ReminderStatus.QUEUED, queued_at__lt=stale_queued)
                    | Q(status=ReminderStatus.SENDING, updated_at__lt=stale_sending)
                )
                .order_by("due_at")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                break
            Reminder.objects.filter(pk__in=ids).update(
                status=ReminderStatus.QUEUED, queued_at=moment, updated_at=moment
            )
            transaction.on_commit(functools.partial(_enqueue_all, ids, enqueue))
        total += len(ids)
        if len(ids) < BATCH:
            break
    return total


def _enqueue_all(ids: list[int], enqueue: Callable[[int], object]) -> None:
    for reminder_id in ids:
        try:
            enqueue(reminder_id)
        except Exception:  # the broker is down: the rows stay queued and are swept again later
            logger.warning("could not enqueue reminder %s; it will be swept again", reminder_id, exc_info=True)
            return


def _claim(reminder_id: int) -> bool:
    """queued -> sending, once. A row stuck in sending past its timeout (its worker died) may be claimed again."""
    now = timezone.now()
    claimed = Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.QUEUED).update(
        status=ReminderStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
    )
    return claimed == 1


def _finish(reminder: Reminder, status: str, *, worker: str, detail: str = "", **fields: object) -> None:
    Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING).update(
        status=status, updated_at=timezone.now(), last_error=detail if status != ReminderStatus.SENT else "",
        **fields,
    )  # fmt: skip
    ReminderAttempt.objects.create(reminder=reminder, outcome=status, detail=detail, worker=worker)


def next_allowed_sms_time(now: datetime, zone_name: str, quiet_start: time, quiet_end: time) -> datetime | None:
    """None when ``now`` is outside quiet hours in the patient's zone, else when quiet hours end."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    local = now.astimezone(zone)
    wall = local.time()
    overnight = quiet_start > quiet_end
    quiet = (wall >= quiet_start or wall < quiet_end) if overnight else (quiet_start <= wall < quiet_end)
    if not quiet:
        return None
    day = local.date() if (not overnight or wall < quiet_end) else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet_end, tzinfo=zone).astimezone(now.tzinfo)


def reminder_deliver(*, reminder_id: int, worker: str = "") -> str:
    """Deliver one queued reminder; safe to run twice. Returns the row's resulting status."""
    if not _claim(reminder_id):
        return "not-claimed"
    reminder = Reminder.objects.select_related("patient", "appointment__location", "appointment__service_type").get(
        pk=reminder_id
    )
    patient = reminder.patient
    if reminder.kind == ReminderKind.VISIT:
        appointment = reminder.appointment
        assert appointment is not None  # noqa: S101
        if appointment.status not in REMINDABLE or appointment.start <= timezone.now():
            _finish(reminder, ReminderStatus.CANCELLED, worker=worker, detail="The visit is no longer ahead.")
            return ReminderStatus.CANCELLED
        location = appointment.location
    else:
        assert reminder.series_change_id is not None  # noqa: S101
        location = Location.objects.get(series__changes=reminder.series_change_id)
    if reminder.channel == ReminderChannel.EMAIL and not (patient.email_consent and patient.email):
        _finish(reminder, ReminderStatus.SKIPPED, worker=worker, detail="No email consent or address.")
        return ReminderStatus.SKIPPED
    if reminder.channel == ReminderChannel.SMS:
        if not (patient.sms_consent and patient.phone):
            _finish(reminder, ReminderStatus.SKIPPED, worker=worker, detail="No SMS consent or number.")
            return ReminderStatus.SKIPPED
        resume = next_allowed_sms_time(timezone.now(), patient.timezone, location.sms_quiet_start,
                                       location.sms_quiet_end)  # fmt: skip
        if resume is not None:
            Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING).update(
                status=ReminderStatus.PENDING, due_at=resume, updated_at=timezone.now()
            )
            ReminderAttempt.objects.create(reminder=reminder, outcome="deferred", detail=f"quiet hours until {resume}",
                                           worker=worker)  # fmt: skip
            return "deferred"
    message = render(reminder)
    try:
        provider_id = send_email(message) if reminder.channel == ReminderChannel.EMAIL else send_sms(message)
    except PermanentDeliveryError as error:
        _finish(reminder, ReminderStatus.FAILED, worker=worker, detail=str(error))
        return ReminderStatus.FAILED
    except TransientDeliveryError as error:
        give_up = reminder.attempts + 1 >= settings.REMINDER_MAX_ATTEMPTS
        if give_up:
            _finish(reminder, ReminderStatus.FAILED, worker=worker, detail=f"gave up after retries: {error}")
            return ReminderStatus.FAILED
        Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING).update(
            status=ReminderStatus.QUEUED, queued_at=timezone.now(), last_error=str(error), updated_at=timezone.now()
        )
        ReminderAttempt.objects.create(reminder=reminder, outcome="retry", detail=str(error), worker=worker)
        raise
    _finish(reminder, ReminderStatus.SENT, worker=worker, provider_id=provider_id, sent_at=timezone.now())
    return ReminderStatus.SENT
