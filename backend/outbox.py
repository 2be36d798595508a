"""Hand a row's id to a worker task after the current transaction commits, without making the request wait.

The apps never import ``worker``: they write the row (a document to render, an
export to run) and name the task that processes it. On commit the message is
handed to a sender thread of this process, so a rolled-back change sends
nothing and a slow or unreachable broker never delays a request (redis-py
retries a refused connection for several seconds). If the broker is down the
send fails with a warning, further sends are skipped for ``BROKER_BACKOFF``
seconds, and the row stays pending: the worker's beat sweep enqueues it later.
Nothing is lost either way.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
import time
from typing import Any

from celery import Celery
from django.db import transaction

logger = logging.getLogger(__name__)
BROKER_BACKOFF = 10.0


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


class _Sender:
    """One daemon thread per process that sends queued messages in order."""

    def __init__(self) -> None:
        self.pending: queue.Queue[tuple[str, tuple[Any, ...], str]] = queue.Queue()
        self.pid = os.getpid()
        self.paused_until = 0.0
        threading.Thread(target=self._run, name="outbox-sender", daemon=True).start()

    def _run(self) -> None:
        while True:
            task, args, queue_name = self.pending.get()
            try:
                if time.monotonic() < self.paused_until:
                    logger.info("broker recently unreachable; leaving %s%s to the sweep", task, args)
                elif not send_task_now(task, *args, queue=queue_name):
                    self.paused_until = time.monotonic() + BROKER_BACKOFF
            finally:
                self.pending.task_done()


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _current_sender() -> _Sender:
    global _sender  # noqa: PLW0603 - one sender per process, recreated after a fork
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid():
            _sender = _Sender()
        return _sender


def enqueue_on_commit(task: str, *args: Any, queue: str) -> None:
    transaction.on_commit(lambda: _current_sender().pending.put((task, args, queue)))


def flush() -> None:
    """Wait until every message handed over so far was sent or given up (tests and benchmarks)."""
    if _sender is not None and _sender.pid == os.getpid():
        _sender.pending.join()


def reset() -> None:
    """Forget the broker connection and any back-off (after the broker URL changed)."""
    flush()
    _producer.cache_clear()
    if _sender is not None:
        _sender.paused_until = 0.0
