"""Hand a row's id to a worker task after the current transaction commits.

The apps never import ``worker``: they write the row (a document to render, an
export to run) and name the task that processes it. Sending happens on commit,
so a rolled-back change sends nothing; if the broker is down the send is
skipped with a warning, the row stays pending, and the worker's beat sweep
enqueues it later. Nothing is lost either way.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from celery import Celery
from django.db import transaction

logger = logging.getLogger(__name__)


@functools.cache
def _producer() -> Celery:
    app = Celery("clinic", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    return app


def send_task_now(task: str, *args: Any, queue: str) -> bool:
    """Send at once; False (and a warning) when the broker cannot be reached."""
    try:
        _producer().send_task(task, args=list(args), queue=queue, retry=False)
    except Exception:  # the broker is down: the beat sweep will find the row
        logger.warning("could not enqueue %s%s; the sweep will pick it up", task, args, exc_info=True)
        return False
    return True


def enqueue_on_commit(task: str, *args: Any, queue: str) -> None:
    transaction.on_commit(functools.partial(send_task_now, task, *args, queue=queue))
