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
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from backend import sql
from scheduling.models import (
    AppointmentStatus,
    OfferStatus,
    Reminder,
    ReminderAttempt,
    ReminderChannel,
    ReminderKind,
    ReminderStatus,
    WaitlistOffer,
)
from worker.channels.base import PermanentDeliveryError, TransientDeliveryError
from worker.channels.email import send_email
from worker.channels.sms import send_sms
from worker.reminder_content import offer_of, render

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
            _give_up_stuck(stale_sending, moment)
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


def _give_up_stuck(stale_sending: datetime, now: datetime) -> int:
    """Fail rows left ``sending`` after their last allowed attempt instead of claiming them again.

    A row stays ``sending`` when its worker died, or when something other than a delivery error (a
    bug while rendering it, say) broke off its attempt; each claim counts an attempt, so a row that
    breaks every worker stops after ``REMINDER_MAX_ATTEMPTS`` instead of coming back for ever.
    """
    stuck = Reminder.objects.filter(
        status=ReminderStatus.SENDING, updated_at__lt=stale_sending, attempts__gte=settings.REMINDER_MAX_ATTEMPTS
    )
    given_up = stuck.update(
        status=ReminderStatus.FAILED, updated_at=now,
        last_error=f"gave up: still sending after {settings.REMINDER_MAX_ATTEMPTS} attempts (see the worker's log)",
    )  # fmt: skip
    if given_up:
        logger.error("reminders: %d row(s) failed, stuck while sending on their last attempt", given_up)
    return given_up


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
    batches = delivery_batches(ids)
    for position, batch in enumerate(batches):
        try:
            enqueue(batch)
        except Exception:  # the broker is down: the rows stay queued and are swept again later
            left = sum(len(rest) for rest in batches[position:])
            logger.warning("could not enqueue %s of %s reminders; they will be swept again", left, len(ids),
                           exc_info=True)  # fmt: skip
            return


# The outbox's two conditional moves, written in SQL because the ORM has no data-modifying CTE, so a
# row's result, its attempt and the claim of the batch's next row go in one statement: one round trip,
# one commit per message. Identifiers come from the models' metadata; every value is a parameter.
_REMINDERS = sql.table(Reminder)
_ATTEMPTS = sql.table(ReminderAttempt)
_COLUMNS = {field.name: sql.column(Reminder, field.name) for field in Reminder._meta.concrete_fields}


def _claim_sql(reminder_id: int) -> tuple[str, list[Any]]:
    """queued -> sending, once, counting the attempt. A row stuck in sending is requeued by the dispatcher first."""
    status, attempts, updated_at, pk = (_COLUMNS[name] for name in ("status", "attempts", "updated_at", "id"))
    sql = (
        f"UPDATE {_REMINDERS} SET {status} = %s, {attempts} = {attempts} + 1, {updated_at} = %s "  # noqa: S608
        f"WHERE {pk} = %s AND {status} = %s RETURNING 1"
    )
    return sql, [ReminderStatus.SENDING, timezone.now(), reminder_id, ReminderStatus.QUEUED]


def _claim(reminder_id: int) -> bool:
    sql, params = _claim_sql(reminder_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _record(reminder: Reminder, status: str, *, worker: str, outcome: str = "", detail: str = "",
            claim_next: int | None = None, **fields: object) -> bool:  # fmt: skip
    """Move the row out of sending and log the attempt; claim ``claim_next`` in the same statement.

    The move stays conditional (only from sending); the attempt is logged whatever it finds, since
    the message went out or was decided either way. Returns whether ``claim_next`` was claimed.
    """
    now = timezone.now()
    last_error = "" if status in (ReminderStatus.SENT, ReminderStatus.PENDING) else detail
    values: dict[str, object] = {"status": status, "updated_at": now, "last_error": last_error, **fields}
    assignments = ", ".join(f"{_COLUMNS[name]} = %s" for name in values)
    sql = (
        f"WITH moved AS (UPDATE {_REMINDERS} SET {assignments} "  # noqa: S608
        f"WHERE {_COLUMNS['id']} = %s AND {_COLUMNS['status']} = %s), "
        f"logged AS (INSERT INTO {_ATTEMPTS} (reminder_id, started_at, outcome, detail, worker) "
        "VALUES (%s, %s, %s, %s, %s))"
    )
    params: list[Any] = [*values.values(), reminder.pk, ReminderStatus.SENDING,
                         reminder.pk, now, outcome or status, detail, worker]  # fmt: skip
    if claim_next is None:
        sql += " SELECT NULL"
    else:
        claim, claim_params = _claim_sql(claim_next)
        sql += f", claimed AS ({claim}) SELECT 1 FROM claimed"  # noqa: S608
        params += claim_params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row is not None and row[0] == 1


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

    Each row is claimed just before it is handled (the statement recording a row's result claims
    the next one). A transient failure puts its row back in the queue and raises, so the task
    retries with backoff; the rows already sent are passed over on the retry.
    """
    rows = _load(reminder_ids)
    queued = [pk for pk in reminder_ids if pk in rows and rows[pk].status == ReminderStatus.QUEUED]
    outcomes = dict.fromkeys(reminder_ids, NOT_CLAIMED)
    claimed = bool(queued) and _claim(queued[0])
    for position, reminder_id in enumerate(queued):
        following = queued[position + 1] if position + 1 < len(queued) else None
        if claimed:
            outcomes[reminder_id], claimed = _deliver_claimed(rows[reminder_id], worker=worker, claim_next=following)
        else:  # another task took it, or it was cancelled: try the next one
            claimed = following is not None and _claim(following)
    return outcomes


def reminder_deliver(*, reminder_id: int, worker: str = "") -> str:
    """Deliver one queued reminder; safe to run twice. Returns the row's resulting status."""
    return reminders_deliver([reminder_id], worker=worker)[reminder_id]


def _deliver_claimed(reminder: Reminder, *, worker: str, claim_next: int | None) -> tuple[str, bool]:
    """Send one claimed (sending) row, or decide not to; record the result and claim ``claim_next``.

    Returns the row's outcome and whether ``claim_next`` is now claimed (never after a transient error).
    """
    record = functools.partial(_record, reminder, worker=worker, claim_next=claim_next)
    patient = reminder.patient
    closes_at: datetime | None = None  # after this, the message is no use (a waitlist offer's expiry)
    offer: WaitlistOffer | None = None
    if reminder.kind == ReminderKind.STAFF_NOTICE:
        return _send(reminder, record)  # to clinic staff, by email: the patient's consent is not asked
    if reminder.kind == ReminderKind.VISIT:
        appointment = reminder.appointment
        assert appointment is not None  # noqa: S101
        if appointment.status not in REMINDABLE or appointment.start <= timezone.now():
            return ReminderStatus.CANCELLED, record(ReminderStatus.CANCELLED, detail="The visit is no longer ahead.")
        location = appointment.location
    elif reminder.kind == ReminderKind.WAITLIST_OFFER:
        offer = offer_of(reminder)
        if offer.status != OfferStatus.OPEN or offer.expires_at <= timezone.now():
            return ReminderStatus.CANCELLED, record(ReminderStatus.CANCELLED, detail="The offer is closed.")
        location = offer.slot.location
        closes_at = offer.expires_at
    elif reminder.kind == ReminderKind.FORM_INVITE:
        assert reminder.appointment is not None  # noqa: S101 - the visit the follow-up counts from
        location = reminder.appointment.location
    else:
        assert reminder.series_change is not None  # noqa: S101
        location = reminder.series_change.series.location
    if reminder.channel == ReminderChannel.EMAIL and not (patient.email_consent and patient.email):
        return ReminderStatus.SKIPPED, record(ReminderStatus.SKIPPED, detail="No email consent or address.")
    if reminder.channel == ReminderChannel.SMS:
        if not (patient.sms_consent and patient.phone):
            return ReminderStatus.SKIPPED, record(ReminderStatus.SKIPPED, detail="No SMS consent or number.")
        resume = next_allowed_sms_time(timezone.now(), patient.timezone, location.sms_quiet_start,
                                       location.sms_quiet_end)  # fmt: skip
        if resume is not None and closes_at is not None and resume >= closes_at:
            return ReminderStatus.SKIPPED, record(ReminderStatus.SKIPPED, detail="Quiet hours outlast the offer.")
        if resume is not None:
            detail = f"quiet hours until {resume}"
            return "deferred", record(ReminderStatus.PENDING, outcome="deferred", detail=detail, due_at=resume)
    return _send(reminder, record, offer=offer)


def _send(reminder: Reminder, record: Callable[..., bool], offer: WaitlistOffer | None = None) -> tuple[str, bool]:
    """Render and hand the row to its channel; record the outcome (a transient error requeues and raises)."""
    message = render(reminder, offer=offer)
    try:
        provider_id = send_email(message) if reminder.channel == ReminderChannel.EMAIL else send_sms(message)
    except PermanentDeliveryError as error:
        return ReminderStatus.FAILED, record(ReminderStatus.FAILED, detail=str(error))
    except TransientDeliveryError as error:
        if reminder.attempts + 1 >= settings.REMINDER_MAX_ATTEMPTS:  # this attempt's number (loaded before the claim)
            return ReminderStatus.FAILED, record(ReminderStatus.FAILED, detail=f"gave up after retries: {error}")
        record(ReminderStatus.QUEUED, outcome="retry", detail=str(error), queued_at=timezone.now(), claim_next=None)
        raise
    return ReminderStatus.SENT, record(ReminderStatus.SENT, provider_id=provider_id, sent_at=timezone.now())
