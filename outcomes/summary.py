"""Per patient and instrument: baseline, latest, lowest since the baseline, change, response, remission.

Computed from the patient's measures on read (a patient has tens of them, not thousands). Measures of
every version of an instrument code are compared with each other: a new version keeps the scale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from outcomes.models import Measure


@dataclass(frozen=True)
class InstrumentOutcome:
    instrument: str
    name: str
    count: int
    baseline: Measure
    latest: Measure
    lowest: Measure | None  # the lowest total after the baseline
    change_from_baseline: int | None
    response: bool | None  # None until there is a measure after the baseline
    remission: bool | None


def is_response(baseline: int, latest: int, drop_percent: int) -> bool:
    """At least ``drop_percent`` below the baseline (a baseline of 0 cannot respond)."""
    return baseline > 0 and latest * 100 <= baseline * (100 - drop_percent)


def patient_outcomes(measures: Iterable[Measure]) -> list[InstrumentOutcome]:
    """``measures``: one patient's, with their instruments loaded, in any order."""
    by_code: dict[str, list[Measure]] = {}
    for measure in sorted(measures, key=lambda m: (m.taken_at, m.pk)):
        by_code.setdefault(measure.instrument.code, []).append(measure)
    outcomes = []
    for code, series in sorted(by_code.items()):
        baseline, latest, later = series[0], series[-1], series[1:]
        instrument = latest.instrument
        lowest = min(later, key=lambda m: (m.total, m.taken_at)) if later else None
        outcomes.append(
            InstrumentOutcome(
                instrument=code,
                name=instrument.name,
                count=len(series),
                baseline=baseline,
                latest=latest,
                lowest=lowest,
                change_from_baseline=latest.total - baseline.total if later else None,
                response=is_response(baseline.total, latest.total, instrument.response_drop_percent) if later else None,
                remission=(
                    latest.total < instrument.remission_below
                    if later and instrument.remission_below is not None
                    else None
                ),
            )
        )
    return outcomes


def change_from_baseline(measure: Measure) -> int | None:
    """This measure's total minus the patient's first of the same instrument before it (None: it is the first)."""
    baseline = (
        Measure.objects.filter(
            patient=measure.patient_id, instrument__code=measure.instrument.code, taken_at__lte=measure.taken_at
        )
        .exclude(pk=measure.pk)
        .order_by("taken_at", "id")
        .values_list("total", flat=True)
        .first()
    )
    return None if baseline is None else measure.total - baseline
