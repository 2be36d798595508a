from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutgoingMessage:
    to: str
    text: str
    idempotency_key: str
    subject: str = ""
    html: str | None = None
    attachments: tuple[tuple[str, bytes, str], ...] = ()  # (filename, content, mimetype)


class TransientDeliveryError(Exception):
    """Worth retrying: the provider or the network failed for now."""


class PermanentDeliveryError(Exception):
    """Retrying will not help: a bad address or number, a refused recipient."""
