"""ReportLab renderers: a document snapshot (``billing/documents.py``, ``outcomes/letters.py``) in, PDF bytes out.

Output is deterministic (ReportLab's invariant mode: fixed dates and ids), so
the same snapshot always renders to the same bytes and checksum.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from worker.pdf.credit_note import render_credit_note
from worker.pdf.invoice import render_invoice
from worker.pdf.letter import render_acknowledgement, render_summary
from worker.pdf.receipt import render_receipt, render_refund_receipt
from worker.pdf.superbill import render_superbill

RENDERERS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "receipt": render_receipt,
    "refund_receipt": render_refund_receipt,
    "invoice": render_invoice,
    "superbill": render_superbill,
    "credit_note": render_credit_note,
    "acknowledgement": render_acknowledgement,
    "summary": render_summary,
}


def render(payload: dict[str, Any]) -> bytes:
    return RENDERERS[payload["kind"]](payload)
