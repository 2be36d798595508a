"""Reminder delivery through the outbox: dispatch due rows, deliver each exactly once.

- ``reminders_dispatch`` (beat, every 30 s) claims due rows with
  ``SELECT ... FOR UPDATE SKIP LOCKED``, marks them queued and, after commit,
  enqueues their delivery with no ETA: one task per batch of up to
  ``REMINDER_DELIVERY_BATCH`` rows (a small claim is spread over several tasks
  so every worker process helps). Rows left queued (the broker was down, a
  message was lost) or sending (a worker died mid-send) past their timeout are
  claimed again.
- ``reminders_deliver`` loads its batch in one query, then takes the rows one
  by one: a conditional update moves the row queued -> sending just before it
  is sent, and one statement records the result and logs the attempt just
  after. A row another task already took, or one that was cancelled, is passed
  over; a sent row is never sent again; "sending" always means "being sent
  now", so a slow provider never makes a row look abandoned. The provider gets
  the row's id as an idempotency key (email Message-ID, Twilio idempotency
  token), so a resend after a crash between the provider accepting and our
  commit is recognised by providers that honour it.

Batches, not one task per row: a Celery task costs more than sending an
email, and the rows keep their own state, attempts and retries either way
(docs/reminders.md, "Delivery in batches").
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from scheduling.models import (
    AppointmentStatus,
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
CLAIM = 500  # rows per dispatcher transaction
DELIVERY_SPREAD = 8  # a claim is split over at least this many tasks (one row each at the least)
NOT_CLAIMED = "not-claimed"
REMINDABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


def reminders_dispatch(
    *, enqueue: Callable[[list[int]], object], now: datetime | None = None, budget_seconds: float = 20.0
) -> int:
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
                .values_list("pk", flat=True)[:CLAIM]
            )
            if not ids:
                break
            Reminder.objects.filter(pk__in=ids).update(
                status=ReminderStatus.QUEUED, queued_at=moment, updated_at=moment
            )
            transaction.on_commit(functools.partial(_enqueue_all, ids, enqueue))
        total += len(ids)
        if len(ids) < CLAIM:
            break
    return total


def delivery_batches(ids: Sequence[int]) -> list[list[int]]:
    """Near-equal batches of at most ``REMINDER_DELIVERY_BATCH`` rows, and at least ``DELIVERY_SPREAD`` of them
    (one row each at the least) so a small claim still keeps every worker process busy."""
    if not ids:
        return []
    tasks = max(math.ceil(len(ids) / settings.REMINDER_DELIVERY_BATCH), min(len(ids), DELIVERY_SPREAD))
    size, larger = divmod(len(ids), tasks)
    batches, start = [], 0
    for index in range(tasks):
        end = start + size + (index < larger)
        batches.append(list(ids[start:end]))
        start = end
    return batches


def _enqueue_all(ids: list[int], enqueue: Callable[[list[int]], object]) -> None:
    for batch in delivery_batches(ids):
        try:
            enqueue(batch)
        except Exception:  # the broker is down: the rows stay queued and are swept again later
            logger.warning("could not enqueue %s reminders; they will be swept again", len(ids), exc_info=True)
            return


def _claim(reminder_id: int) -> bool:
    """queued -> sending, once. A row stuck in sending past its timeout (its worker died) may be claimed again."""
    claimed = Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.QUEUED).update(
        status=ReminderStatus.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    return claimed == 1


def _record(reminder: Reminder, status: str, *, worker: str, outcome: str = "", detail: str = "",
            **fields: object) -> None:  # fmt: skip
    """Move the row out of sending and log the attempt in one statement: one round trip, one commit.

    Written in SQL because the ORM has no data-modifying CTE; the update stays conditional, the
    attempt is logged whatever it finds (the message went out or was decided either way).
    """
    now = timezone.now()
    last_error = "" if status in (ReminderStatus.SENT, ReminderStatus.PENDING) else detail
    values: dict[str, object] = {"status": status, "updated_at": now, "last_error": last_error, **fields}
    rows, attempts, quote = Reminder._meta, ReminderAttempt._meta, connection.ops.quote_name
    assignments = ", ".join(f"{quote(rows.get_field(name).column)} = %s" for name in values)
    # Identifiers come from the models' metadata; every value is a parameter.
    sql = (
        f"WITH moved AS (UPDATE {quote(rows.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(rows.pk.column)} = %s AND status = %s) "
        f"INSERT INTO {quote(attempts.db_table)} (reminder_id, started_at, outcome, detail, worker) "
        "VALUES (%s, %s, %s, %s, %s)"
    )
    params = [*values.values(), reminder.pk, ReminderStatus.SENDING, reminder.pk, now, outcome or status, detail,
              worker]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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


def _load(reminder_ids: Sequence[int]) -> dict[int, Reminder]:
    """The batch's rows with what rendering needs, in one query."""
    return Reminder.objects.select_related(
        "patient", "appointment__location", "appointment__service_type", "series_change__series__location"
    ).in_bulk(reminder_ids)


def reminders_deliver(reminder_ids: Sequence[int], *, worker: str = "") -> dict[int, str]:
    """Deliver a batch of queued reminders, one after another; safe to run twice. Returns each row's outcome.

    A transient failure puts its row back in the queue and raises, so the task retries with backoff;
    the rows already sent are passed over on the retry, the ones not yet tried are taken then.
    """
    rows = _load(reminder_ids)
    outcomes: dict[int, str] = {}
    for reminder_id in reminder_ids:
        reminder = rows.get(reminder_id)
        if reminder is None or reminder.status != ReminderStatus.QUEUED or not _claim(reminder_id):
            outcomes[reminder_id] = NOT_CLAIMED
            continue
        outcomes[reminder_id] = _deliver_claimed(reminder, worker=worker)
    return outcomes


def reminder_deliver(*, reminder_id: int, worker: str = "") -> str:
    """Deliver one queued reminder; safe to run twice. Returns the row's resulting status."""
    return reminders_deliver([reminder_id], worker=worker)[reminder_id]


def _deliver_claimed(reminder: Reminder, *, worker: str) -> str:
    """Send one claimed (sending) row, or decide not to, and record the result."""
    patient = reminder.patient
    if reminder.kind == ReminderKind.VISIT:
        appointment = reminder.appointment
        assert appointment is not None  # noqa: S101
        if appointment.status not in REMINDABLE or appointment.start <= timezone.now():
            _record(reminder, ReminderStatus.CANCELLED, worker=worker, detail="The visit is no longer ahead.")
            return ReminderStatus.CANCELLED
        location = appointment.location
    else:
        assert reminder.series_change is not None  # noqa: S101
        location = reminder.series_change.series.location
    if reminder.channel == ReminderChannel.EMAIL and not (patient.email_consent and patient.email):
        _record(reminder, ReminderStatus.SKIPPED, worker=worker, detail="No email consent or address.")
        return ReminderStatus.SKIPPED
    if reminder.channel == ReminderChannel.SMS:
        if not (patient.sms_consent and patient.phone):
            _record(reminder, ReminderStatus.SKIPPED, worker=worker, detail="No SMS consent or number.")
            return ReminderStatus.SKIPPED
        resume = next_allowed_sms_time(timezone.now(), patient.timezone, location.sms_quiet_start,
                                       location.sms_quiet_end)  # fmt: skip
        if resume is not None:
            _record(reminder, ReminderStatus.PENDING, worker=worker, outcome="deferred",
                    detail=f"quiet hours until {resume}", due_at=resume)  # fmt: skip
            return "deferred"
    message = render(reminder)
    try:
        provider_id = send_email(message) if reminder.channel == ReminderChannel.EMAIL else send_sms(message)
    except PermanentDeliveryError as error:
        _record(reminder, ReminderStatus.FAILED, worker=worker, detail=str(error))
        return ReminderStatus.FAILED
    except TransientDeliveryError as error:
        if reminder.attempts + 1 >= settings.REMINDER_MAX_ATTEMPTS:  # this attempt's number (loaded before the claim)
            _record(reminder, ReminderStatus.FAILED, worker=worker, detail=f"gave up after retries: {error}")
            return ReminderStatus.FAILED
        _record(reminder, ReminderStatus.QUEUED, worker=worker, outcome="retry", detail=str(error),
                queued_at=timezone.now())  # fmt: skip
        raise
    _record(reminder, ReminderStatus.SENT, worker=worker, provider_id=provider_id, sent_at=timezone.now())
    return ReminderStatus.SENT
