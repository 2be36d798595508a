"""The worker keeps its database connection between tasks, and drops it when it breaks."""

from __future__ import annotations

import pytest
from celery import signals
from celery.fixups.django import DjangoWorkerFixup  # type: ignore[attr-defined]  # not in celery-types
from django.db import connection

from worker.celery import app


def test_celerys_django_fixup_reuses_the_connection_instead_of_closing_it_around_every_task() -> None:
    assert DjangoWorkerFixup(app).db_reuse_max == 500


@pytest.mark.django_db(transaction=True)
def test_a_broken_connection_is_closed_after_the_task_and_a_healthy_one_is_kept() -> None:
    connection.close()  # a fresh connection: one opened by an earlier test may be older than CONN_MAX_AGE
    connection.ensure_connection()
    healthy = connection.connection
    signals.task_postrun.send(sender=None)
    assert connection.connection is healthy

    connection.connection.close()  # the server went away (a restart) while the worker held it
    connection.errors_occurred = True  # what Django records when a query fails on it
    signals.task_postrun.send(sender=None)

    assert connection.connection is None
    connection.ensure_connection()
    assert connection.is_usable()
