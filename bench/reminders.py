"""Benchmark 5: due reminders through the dispatcher and one worker to the SMTP sink, vs a plain smtplib loop."""

from __future__ import annotations

import os
import smtplib
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from backend.embedded import free_port
from backend.mailsink import start_sink
from bench import stack
from bench.dataset import Dataset
from bench.harness import Result
from scheduling.models import Appointment, Reminder, ReminderStatus
from worker.reminder_content import render
from worker.reminders import reminders_dispatch

# Delivery waits on the database and the SMTP server: one worker, four processes, keeps both busy.
POOL = os.environ.get("BENCH_REMINDER_POOL", "--pool prefork --concurrency 4").split()


def _create_due(data: Dataset, count: int) -> list[int]:
    """``count`` email reminders due now, spread over the future visits (one per visit and offset)."""
    future = Appointment.objects.filter(location=data.location, start__gt=timezone.now())
    visits = list(future.values_list("pk", "patient_id"))
    now = timezone.now()
    rows = [
        Reminder(appointment_id=visit, patient_id=patient, channel="email", offset_hours=1000 + index // len(visits),
                 due_at=now)
        for index, (visit, patient) in zip(range(count), (pair for _ in range(count) for pair in visits), strict=False)
    ]  # fmt: skip
    created = Reminder.objects.bulk_create(rows)
    with connection.cursor() as cursor:  # the patients consent to email
        cursor.execute("UPDATE scheduling_patient SET email_consent = true, email = 'bench@example.com'")
    return [row.pk for row in created]


def run(data: Dataset, *, count: int) -> Result:
    directory = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    port = free_port()
    sink = start_sink(directory, port=port)
    try:
        ids = _create_due(data, count)
        env = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
               "EMAIL_PORT": str(port)}  # fmt: skip
        with stack.celery_worker("reminders", pool=POOL, env=env):
            from worker.tasks.reminders import reminder_deliver_task

            started = time.perf_counter()
            reminders_dispatch(enqueue=reminder_deliver_task.delay, budget_seconds=120)
            deadline = started + 300
            while Reminder.objects.filter(pk__in=ids).exclude(status=ReminderStatus.SENT).exists():
                if time.perf_counter() > deadline:
                    break
                time.sleep(0.25)
            worker_seconds = time.perf_counter() - started
            sent = Reminder.objects.filter(pk__in=ids, status=ReminderStatus.SENT).count()

        # baseline: the same messages (text, HTML, calendar), rendered beforehand, through one smtplib connection
        messages = []
        for reminder in Reminder.objects.filter(pk__in=ids).select_related(
            "patient", "appointment__location", "appointment__service_type", "appointment__patient"
        ):
            rendered = render(reminder)
            email = EmailMessage()
            email["From"], email["To"], email["Subject"] = (
                django_settings.DEFAULT_FROM_EMAIL,
                rendered.to,
                rendered.subject,
            )
            email["Message-ID"] = f"<baseline-{rendered.idempotency_key}@bench>"
            email.set_content(rendered.text)
            if rendered.html:  # the same message: plain text plus its HTML alternative
                email.add_alternative(rendered.html, subtype="html")
            for filename, content, mimetype in rendered.attachments:  # and the visit's .ics
                kind, _, method = mimetype.partition("; method=")
                maintype, subtype = kind.split("/")
                email.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename,
                                     params={"method": method} if method else {})  # fmt: skip
            messages.append(email)
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as client:
            for email in messages:
                client.send_message(email)
        baseline_seconds = time.perf_counter() - started
    finally:
        sink.stop()
    rate, baseline_rate = sent / worker_seconds, len(messages) / baseline_seconds
    ratio = rate / baseline_rate
    return Result(
        name="5. reminder delivery", workload=f"{count} due email reminders, 1 worker ({' '.join(POOL[1:])})",
        median_ms=round(worker_seconds * 1000 / max(sent, 1), 3), p95_ms=None,
        baseline="plain smtplib loop, one connection, same messages",
        baseline_median_ms=round(baseline_seconds * 1000 / len(messages), 3),
        ratio=round(ratio, 3), target="10,000 in < 60 s, rate ratio >= 0.5",
        met=sent == count and worker_seconds < 60 * count / 10_000 and ratio >= 0.5,
        extra={"sent": sent, "worker_seconds": round(worker_seconds, 2), "baseline_seconds": round(baseline_seconds, 2),
               "worker_rate_per_s": round(rate, 1), "baseline_rate_per_s": round(baseline_rate, 1)},
        note=f"{sent} sent in {worker_seconds:.1f} s ({rate:.0f}/s) vs smtplib {baseline_rate:.0f}/s; "
        "ms columns are per message, ratio is rate/rate",
    )  # fmt: skip
