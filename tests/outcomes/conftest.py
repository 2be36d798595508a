from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps

from outcomes.models import Instrument
from outcomes.standard import load_standard_instruments


def standard(code: str) -> Instrument:
    return Instrument.objects.prefetch_related("items", "options", "bands", "alert_rules").get(
        group__isnull=True, code=code, version=1
    )


@pytest.fixture
def instruments(db: None) -> dict[str, Instrument]:
    """PHQ-9, GAD-7 and PCL-5 as the data migration ships them (loaded again after a flushing test)."""
    load_standard_instruments(apps)
    return {code: standard(code) for code in ("phq-9", "gad-7", "pcl-5")}


def phq9(item9: int = 0, rest: int = 1) -> list[int]:
    """A PHQ-9 answer vector: ``rest`` for items 1-8, ``item9`` for item 9."""
    return [rest] * 8 + [item9]


def answers_totalling(total: int, items: int, top: int) -> list[Any]:
    """An answer vector of ``items`` values (0..top) summing to ``total``, with item 9 of a PHQ-9 left at 0."""
    values = [0] * items
    for index in range(items - 1 if items == 9 else items):
        values[index] = min(top, total)
        total -= values[index]
    assert total == 0
    return values
