"""Exactly-once reminders with a real worker, a real broker and a real SMTP server, while things break."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone
from pytest_django import Settings as DjangoSettings

from backend.mailsink import start_sink
from scheduling.models import Appointment, Reminder, ReminderStatus
from scheduling.services.appointments import appointment_book
from scheduling.services.reminders import schedule_visit_reminders
from tests.factories import ClearanceFactory, PatientFactory
from tests.processes import CeleryWorker, RedisServer, free_port, wait_for
from tests.scheduling.conftest import make_clinic
from worker.celery import app
from worker.reminders import reminders_dispatch
from worker.tasks.reminders import reminder_deliver_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
REMINDERS = 40
TIMEOUT_SECONDS = 2


class Dispatchers:
    """``count`` dispatcher loops at once, as two beat processes would run them, enqueuing to ``broker_url``."""

    def __init__(self, broker_url: str, count: int = 2) -> None:
        self.broker_url = broker_url
        self.stopping = threading.Event()
        self.enqueued: list[int] = []
        self.failures = 0
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(count)]

    def _enqueue(self, batch: list[int]) -> None:
        with app.connection_for_write(self.broker_url) as connection:
            reminder_deliver_task.apply_async((batch,), connection=connection, retry=False)  # type: ignore[call-arg]
        self.enqueued.extend(batch)

    def _loop(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    reminders_dispatch(enqueue=self._enqueue, budget_seconds=2)
                except Exception:
                    self.failures += 1
                time.sleep(0.3)
        finally:
            connections.close_all()

    def __enter__(self) -> Dispatchers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.fixture
def outbox_settings(settings: DjangoSettings) -> DjangoSettings:
    settings.REMINDER_QUEUED_TIMEOUT = TIMEOUT_SECONDS
    settings.REMINDER_SENDING_TIMEOUT = TIMEOUT_SECONDS
    return settings


@pytest.fixture
def sink_dir(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    port = free_port()
    controller = start_sink(tmp_path / "mail", port=port, delay=0.05)
    yield tmp_path / "mail", port
    controller.stop()


def worker_for(redis: RedisServer, sink_port: int, log: Path) -> CeleryWorker:
    return CeleryWorker(
        queues="reminders",
        broker_url=redis.url,
        log_path=log,
        extra_env={
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink_port),
            "REMINDER_QUEUED_TIMEOUT": str(TIMEOUT_SECONDS),
            "REMINDER_SENDING_TIMEOUT": str(TIMEOUT_SECONDS),
        },
    ).start()


def due_email_reminders(count: int) -> list[Reminder]:
    """``count`` future visits whose email reminder is due now (real time: the worker has the real clock)."""
    clinic = make_clinic()
    clinic.infusion.reminder_channels, clinic.infusion.reminder_offsets_hours = ["email"], [24]
    clinic.infusion.save()
    start = timezone.now() + dt.timedelta(days=3)
    appointments = [
        Appointment.objects.create(
            patient=PatientFactory.create(group=clinic.group),
            service_type=clinic.infusion,
            location=clinic.location,
            resource=clinic.chairs[0],
            start=start + dt.timedelta(hours=2 * index),
            end=start + dt.timedelta(hours=2 * index, minutes=40),
            hold_until=start + dt.timedelta(hours=2 * index + 1),
        )
        for index in range(count)
    ]
    schedule_visit_reminders(appointments)
    Reminder.objects.update(due_at=timezone.now())
    return list(Reminder.objects.all())


def stored_message_ids(directory: Path) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for path in directory.glob("*.eml")
        for line in path.read_text().splitlines()
        if line.lower().startswith("message-id:")
    ]


def all_sent() -> bool:
    return not Reminder.objects.exclude(status=ReminderStatus.SENT).exists()


def test_each_reminder_is_delivered_once_through_worker_kills_a_redis_restart_and_two_dispatchers(
    outbox_settings: DjangoSettings, private_redis: RedisServer, sink_dir: tuple[Path, int], tmp_path: Path
) -> None:
    mail, port = sink_dir
    reminders = due_email_reminders(REMINDERS)
    kills = 0

    with Dispatchers(private_redis.url, count=2):
        worker = worker_for(private_redis, port, tmp_path / "worker1.log")
        wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).count() >= 8, timeout=90)
        worker.kill()  # SIGKILL, mid-delivery: a slow SMTP server holds each message 50 ms
        kills += 1
        private_redis.stop()  # the broker restarts and forgets every queued message
        private_redis.start()
        worker = worker_for(private_redis, port, tmp_path / "worker2.log")
        wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).count() >= 24, timeout=90)
        worker.kill()
        kills += 1
        worker = worker_for(private_redis, port, tmp_path / "worker3.log")
        try:
            wait_for(all_sent, timeout=120)
        finally:
            worker.stop()

    expected = {f"<{reminder.public_id}@clinic.invalid>" for reminder in reminders}
    stored = stored_message_ids(mail)
    assert sorted(stored) == sorted(expected)  # every reminder once; none missing
    received = (mail / "received.log").read_text().split()
    # A resend can only follow a kill between the SMTP server accepting and our commit; the
    # Message-ID lets the server recognise it. At most one per kill.
    assert len(expected) <= len(received) <= len(expected) + kills
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == REMINDERS


def test_with_the_broker_down_at_commit_the_booking_succeeds_and_reminders_go_out_when_it_returns(
    outbox_settings: DjangoSettings, private_redis: RedisServer, sink_dir: tuple[Path, int], tmp_path: Path
) -> None:
    mail, port = sink_dir
    clinic = make_clinic()
    for patient in (clinic.patient, clinic.patient2):
        ClearanceFactory(patient=patient, valid_until=dt.date(2099, 1, 1))
    from scheduling.models import OpeningRule, Shift

    OpeningRule.objects.filter(location=clinic.location).update(opens=dt.time(0), closes=dt.time(23, 59),
                                                                every_n_weeks=1, anchor_date=None)  # fmt: skip
    Shift.objects.filter(location=clinic.location).update(opens=dt.time(0), closes=dt.time(23, 59), every_n_weeks=1,
                                                          anchor_date=None)  # fmt: skip
    for weekday in (5, 6):
        OpeningRule.objects.create(location=clinic.location, weekday=weekday, opens=dt.time(0), closes=dt.time(23, 59))
        Shift.objects.create(staff=clinic.nurse, location=clinic.location, weekday=weekday, opens=dt.time(0),
                             closes=dt.time(23, 59))  # fmt: skip
    private_redis.stop()

    # given a broker that is down, the booking still commits
    start = (timezone.now() + dt.timedelta(hours=30)).replace(minute=0, second=0, microsecond=0)
    appointment = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                                   location=clinic.location, start=start)  # fmt: skip
    reminders = list(appointment.reminders.filter(status=ReminderStatus.PENDING, channel="email"))
    assert reminders
    Reminder.objects.filter(pk__in=[r.pk for r in reminders]).update(due_at=timezone.now())

    with Dispatchers(private_redis.url, count=1) as dispatchers:
        wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.QUEUED).exists(), timeout=30)
        time.sleep(1)
        assert dispatchers.enqueued == []  # nothing could reach the broker
        # when the broker returns, the sweep enqueues them again and they are delivered
        private_redis.start()
        worker = worker_for(private_redis, port, tmp_path / "worker.log")
        try:
            wait_for(
                lambda: all(
                    r.status == ReminderStatus.SENT for r in Reminder.objects.filter(pk__in=[x.pk for x in reminders])
                ),
                timeout=90,
            )
        finally:
            worker.stop()

    expected = {f"<{r.public_id}@clinic.invalid>" for r in reminders}
    assert set(stored_message_ids(mail)) == expected
