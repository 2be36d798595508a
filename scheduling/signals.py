"""Signals scheduling sends for the apps that build on it (billing, outcomes), which scheduling must not import.

``appointment_status_changed`` is sent by ``appointment_transition`` inside its
transaction, after the new status is saved, with ``appointment``, ``previous``
(the old status) and ``actor``. Receivers run in the same transaction: what they
write commits or rolls back with the status change.
"""

from __future__ import annotations

from django.dispatch import Signal

appointment_status_changed = Signal()

series_booked = Signal()
"""Sent by ``series_book`` inside its transaction once the series and its visits are written, with ``series``
and ``actor``. Receivers' writes commit or roll back with the booking."""
