"""Scoring an answer vector against an instrument version: the total, its severity band, the alert flags.

Pure functions over a loaded instrument (``instrument_spec``), so the API, the console and the property
tests score the same way. Wrong lengths and values are refused naming the item (1-based, as printed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backend.errors import ValidationFailed
from outcomes.models import Instrument


@dataclass(frozen=True)
class Rule:
    code: str
    item_number: int
    min_value: int
    description: str


@dataclass(frozen=True)
class InstrumentSpec:
    """What scoring needs from an instrument version, read once."""

    item_count: int
    values: tuple[int, ...]
    bands: tuple[tuple[int, int, str], ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Score:
    total: int
    severity: str
    flags: tuple[str, ...]
    alerts: tuple[str, ...]  # the descriptions of the alert rules met


def instrument_spec(instrument: Instrument) -> InstrumentSpec:
    """Read with ``prefetch_related("items", "options", "bands", "alert_rules")`` to spend no query here."""
    return InstrumentSpec(
        item_count=len(instrument.items.all()),
        values=tuple(sorted(option.value for option in instrument.options.all())),
        bands=tuple((band.min_total, band.max_total, band.label) for band in instrument.bands.all()),
        rules=tuple(
            Rule(rule.code, rule.item_number, rule.min_value, rule.description) for rule in instrument.alert_rules.all()
        ),
    )


def severity_of(spec: InstrumentSpec, total: int) -> str:
    for low, high, label in spec.bands:
        if low <= total <= high:
            return label
    return ""


def score(spec: InstrumentSpec, answers: Sequence[object]) -> Score:
    """The score of ``answers`` (one value per item, in item order), or ValidationFailed naming the item."""
    if len(answers) != spec.item_count:
        raise ValidationFailed(
            f"This instrument has {spec.item_count} items; {len(answers)} answers were given.",
            errors={"answers": [f"Give exactly {spec.item_count} answers, one per item, in order."]},
        )
    allowed = ", ".join(str(value) for value in spec.values)
    errors = {
        f"answers.{number}": [f"Item {number}: {answer!r} is not one of {allowed}."]
        for number, answer in enumerate(answers, start=1)
        if isinstance(answer, bool) or not isinstance(answer, int) or answer not in spec.values
    }
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first if len(errors) == 1 else "Some answers are not valid; see errors.", errors=errors)
    values = [int(answer) for answer in answers]  # type: ignore[call-overload]
    total = sum(values)
    met = [
        rule
        for rule in spec.rules
        if 0 < rule.item_number <= len(values) and values[rule.item_number - 1] >= rule.min_value
    ]
    return Score(
        total=total,
        severity=severity_of(spec, total),
        flags=tuple(rule.code for rule in met),
        alerts=tuple(rule.description for rule in met),
    )
